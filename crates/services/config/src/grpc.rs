//! gRPC adapter for `qts.config.v1.ConfigService`: `GetConfig` (what services fetch at start)
//! and `GetSecret` (the owner's read, checked against the bearer token in the call's
//! `authorization` metadata).
//!
//! `GetConfig` carries no token check yet: the fleet's gRPC calls are not authenticated
//! (`common::grpc` adds tokens to them); configuration values are not secrets. `GetSecret`
//! always verifies its token.

use std::sync::Arc;

use common::auth::{Principal, Verifier};
use common::error::ApiError;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::config::v1 as pb;
use proto::config::v1::config_service_server::{ConfigService, ConfigServiceServer};
use secrecy::ExposeSecret as _;

use crate::domain::Scope;
use crate::service::Config;

struct Api {
    info: Arc<ServiceInfo>,
    config: Config,
    /// `None` when tokens are not checked (then no caller is an owner).
    verifier: Option<Arc<Verifier>>,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    config: Config,
    verifier: Option<Arc<Verifier>>,
) -> ConfigServiceServer<impl ConfigService> {
    ConfigServiceServer::new(Api {
        info,
        config,
        verifier,
    })
}

fn status(e: impl Into<ApiError>) -> tonic::Status {
    let e: ApiError = e.into();
    if !e.kind().is_public() {
        tracing::error!(error = %e.chain(), "gRPC call failed");
    }
    tonic::Status::new(e.kind().grpc_code(), e.public_message().to_owned())
}

impl Api {
    /// The caller of a request's bearer token; `None` when tokens are not checked.
    async fn caller<T>(
        &self,
        request: &tonic::Request<T>,
    ) -> Result<Option<Principal>, tonic::Status> {
        let Some(verifier) = &self.verifier else {
            return Ok(None);
        };
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                tonic::Status::unauthenticated(
                    "authorization: Bearer <the service's access token> is required",
                )
            })?;
        verifier
            .verify(token.trim())
            .await
            .map(Some)
            .map_err(|e| match e {
                common::auth::AuthError::Unavailable(m) => tonic::Status::unavailable(m),
                common::auth::AuthError::Unauthenticated(m) => tonic::Status::unauthenticated(m),
                common::auth::AuthError::Forbidden(m) => tonic::Status::permission_denied(m),
            })
    }
}

#[tonic::async_trait]
impl ConfigService for Api {
    async fn get_info(
        &self,
        _request: tonic::Request<common_pb::GetInfoRequest>,
    ) -> Result<tonic::Response<common_pb::ServiceInfo>, tonic::Status> {
        Ok(tonic::Response::new(self.info.to_proto()))
    }

    async fn get_config(
        &self,
        request: tonic::Request<pb::GetConfigRequest>,
    ) -> Result<tonic::Response<pb::ConfigDocument>, tonic::Status> {
        let r = request.get_ref();
        let scope = Scope::parse(&r.service, &r.environment)
            .map_err(|e| tonic::Status::invalid_argument(e.0))?;
        let version = self.config.current(None, &scope).await.map_err(status)?;
        Ok(tonic::Response::new(crate::events::document(&version)))
    }

    async fn get_secret(
        &self,
        request: tonic::Request<pb::GetSecretRequest>,
    ) -> Result<tonic::Response<pb::SecretValue>, tonic::Status> {
        let r = request.get_ref();
        let caller = match self.caller(&request).await {
            Ok(c) => c,
            Err(s) => {
                self.config
                    .refused_read(&r.service, &r.name, "grpc", s.message())
                    .await
                    .map_err(status)?;
                return Err(s);
            }
        };
        let (meta, value) = self
            .config
            .reveal_secret(caller.as_ref(), &r.service, &r.name, "grpc")
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(pb::SecretValue {
            service: meta.service,
            name: meta.name,
            version: meta.version,
            value: value.expose_secret().to_owned(),
        }))
    }
}
