//! gRPC adapter for `qts.config.v1.ConfigService`: `GetConfig` (what services fetch at start)
//! and `GetSecret` (the owner's read). The host's guard has verified the caller's token
//! (`common::grpc`) and the roles (`App::build`); the handlers check whose document or secret
//! it is.

use std::sync::Arc;

use common::error::ApiError;
use common::grpc::caller;
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::config::v1 as pb;
use proto::config::v1::config_service_server::{ConfigService, ConfigServiceServer};
use secrecy::{ExposeSecret as _, SecretString};

use crate::domain::Scope;
use crate::service::Config;
use crate::ssi::SsiTokens;

struct Api {
    info: Arc<ServiceInfo>,
    config: Config,
    ssi: SsiTokens,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    config: Config,
    ssi: SsiTokens,
) -> ConfigServiceServer<impl ConfigService> {
    ConfigServiceServer::new(Api { info, config, ssi })
}

/// The call's status (logged as every API error is).
fn status(e: impl Into<ApiError>) -> tonic::Status {
    e.into().into()
}

fn ssi_token(kind: String, token: &fastconnect::IssuedToken) -> pb::SsiToken {
    pb::SsiToken {
        kind,
        access_token: token.value.expose_secret().to_owned(),
        expires_at: token.expires_at,
        trading: token.trading,
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
        let caller = caller(&request);
        let r = request.get_ref();
        let scope = Scope::parse(&r.service, &r.environment)
            .map_err(|e| tonic::Status::invalid_argument(e.0))?;
        let version = self
            .config
            .current(caller.as_ref(), &scope)
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(crate::events::document(&version)))
    }

    async fn get_secret(
        &self,
        request: tonic::Request<pb::GetSecretRequest>,
    ) -> Result<tonic::Response<pb::SecretValue>, tonic::Status> {
        let caller = caller(&request);
        let r = request.get_ref();
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

    async fn get_ssi_token(
        &self,
        request: tonic::Request<pb::GetSsiTokenRequest>,
    ) -> Result<tonic::Response<pb::SsiToken>, tonic::Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let rejected = r.rejected.map(SecretString::from);
        let token = self
            .ssi
            .token(caller.as_ref(), &r.kind, rejected.as_ref())
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(ssi_token(r.kind, &token)))
    }

    async fn request_ssi_otp(
        &self,
        request: tonic::Request<pb::RequestSsiOtpRequest>,
    ) -> Result<tonic::Response<pb::SsiOtpChallenge>, tonic::Status> {
        let caller = caller(&request);
        let challenge = self
            .ssi
            .request_otp(caller.as_ref(), &request.get_ref().kind)
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(pb::SsiOtpChallenge {
            transaction_id: challenge.transaction_id,
            message: challenge.message,
        }))
    }

    async fn login_ssi_otp(
        &self,
        request: tonic::Request<pb::LoginSsiOtpRequest>,
    ) -> Result<tonic::Response<pb::SsiToken>, tonic::Status> {
        let caller = caller(&request);
        let r = request.into_inner();
        let code = SecretString::from(r.code);
        let token = self
            .ssi
            .login_otp(caller.as_ref(), &r.kind, &code)
            .await
            .map_err(status)?;
        Ok(tonic::Response::new(ssi_token(r.kind, &token)))
    }
}
