//! SSI access tokens from the config service, for a service whose `[broker]` says
//! `tokens = "config"`: a [`fastconnect::TokenProvider`] that calls gRPC
//! `qts.config.v1.ConfigService/GetSsiToken` with the service's own token.
//!
//! The fastconnect clients cache what they are given and ask again before it runs out, or at
//! once naming the token when SSI refuses it; the config service logs in to SSI, renews and
//! audits. A config service that cannot be reached is a retryable failure (the clients' own
//! backoff applies); one that refuses (not among `ssi.clients`, credentials missing) is not.

use std::sync::Arc;
use std::time::Duration;

use fastconnect::{IssuedToken, SharedTokenProvider, TokenKind, TokenProvider};
use futures::future::BoxFuture;
use proto::config::v1 as pb;
use proto::config::v1::config_service_client::ConfigServiceClient;
use secrecy::{ExposeSecret as _, SecretString};
use tonic::Code;

use crate::grpc::{Channel, Connector};

/// The provider for `broker::connect_with`: tokens (and v3 OTP logins) from the config
/// service at `config_url`, asked for as `peers` call (the service's token).
pub fn provider(peers: &Connector, config_url: &str) -> anyhow::Result<SharedTokenProvider> {
    let channel = peers.channel(
        "config",
        config_url,
        Duration::from_secs(5),
        Duration::from_secs(30),
    )?;
    Ok(Arc::new(ConfigTokens {
        client: ConfigServiceClient::new(channel),
    }))
}

/// The config service as a [`fastconnect::TokenProvider`].
struct ConfigTokens {
    client: ConfigServiceClient<Channel>,
}

impl TokenProvider for ConfigTokens {
    fn token(
        &self,
        kind: TokenKind,
        rejected: Option<SecretString>,
    ) -> BoxFuture<'static, fastconnect::Result<IssuedToken>> {
        let mut client = self.client.clone();
        Box::pin(async move {
            let request = pb::GetSsiTokenRequest {
                kind: kind.as_str().to_owned(),
                rejected: rejected.map(|r| r.expose_secret().to_owned()),
            };
            let t = client
                .get_ssi_token(request)
                .await
                .map_err(refused)?
                .into_inner();
            tracing::debug!(kind = %kind, expires_at = t.expires_at, "SSI token from the config service");
            Ok(issued(t))
        })
    }

    fn request_otp(
        &self,
        kind: TokenKind,
    ) -> BoxFuture<'static, fastconnect::Result<fastconnect::v3::OtpChallenge>> {
        let mut client = self.client.clone();
        Box::pin(async move {
            let request = pb::RequestSsiOtpRequest {
                kind: kind.as_str().to_owned(),
            };
            let c = client
                .request_ssi_otp(request)
                .await
                .map_err(refused)?
                .into_inner();
            Ok(fastconnect::v3::OtpChallenge {
                transaction_id: c.transaction_id,
                message: c.message,
            })
        })
    }

    fn login_otp(
        &self,
        kind: TokenKind,
        code: SecretString,
    ) -> BoxFuture<'static, fastconnect::Result<IssuedToken>> {
        let mut client = self.client.clone();
        Box::pin(async move {
            let request = pb::LoginSsiOtpRequest {
                kind: kind.as_str().to_owned(),
                code: code.expose_secret().to_owned(),
            };
            let t = client
                .login_ssi_otp(request)
                .await
                .map_err(refused)?
                .into_inner();
            Ok(issued(t))
        })
    }
}

fn issued(t: pb::SsiToken) -> IssuedToken {
    IssuedToken {
        value: SecretString::from(t.access_token),
        expires_at: t.expires_at,
        trading: t.trading,
    }
}

/// The config service's refusal as the clients' error: retryable when it was unreachable.
fn refused(status: tonic::Status) -> fastconnect::Error {
    fastconnect::Error::TokenProvider {
        retryable: matches!(
            status.code(),
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Unknown
                | Code::Internal
                | Code::Cancelled
        ),
        message: format!(
            "the config service answered {:?}: {}",
            status.code(),
            status.message()
        ),
    }
}

/// The provider a service with these shared `settings` passes to `broker::connect_with`:
/// `Some` when its `[broker]` takes tokens from the config service (`from_config`), calling
/// `peers.config` as service `service`.
pub fn for_broker(
    settings: &crate::settings::ServiceSettings,
    service: &str,
    from_config: bool,
) -> anyhow::Result<Option<SharedTokenProvider>> {
    if !from_config {
        return Ok(None);
    }
    if !settings.auth.enabled {
        anyhow::bail!(
            "broker.tokens = \"config\" needs auth.enabled: the config service gives SSI tokens only to a service's own token"
        );
    }
    let url = settings
        .peer("config")
        .map_err(|e| anyhow::anyhow!("peers.config: {e}"))?;
    provider(&Connector::new(&settings.auth, service), &url).map(Some)
}
