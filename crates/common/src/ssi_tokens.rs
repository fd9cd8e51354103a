//! SSI access tokens from the config service, for a service whose `[broker]` says
//! `tokens = "config"`: a [`fastconnect::TokenProvider`] that calls gRPC
//! `qts.config.v1.ConfigService/GetSsiToken` with the service's own token.
//!
//! The fastconnect clients cache what they are given and ask again before it runs out, or at
//! once naming the token when SSI refuses it; the config service logs in to SSI, renews and
//! audits. A config service that cannot be reached is a retryable failure (the clients' own
//! backoff applies); one that refuses (not among `ssi.clients`, credentials missing) is not.

use std::time::Duration;

use fastconnect::{IssuedToken, SharedTokenProvider, TokenKind};
use proto::config::v1 as pb;
use proto::config::v1::config_service_client::ConfigServiceClient;
use secrecy::{ExposeSecret as _, SecretString};
use tonic::Code;

use crate::grpc::{Channel, Connector};

/// The provider for `broker::connect_with`: tokens from the config service at `config_url`,
/// asked for as `peers` call (the service's token).
pub fn provider(peers: &Connector, config_url: &str) -> anyhow::Result<SharedTokenProvider> {
    let channel = peers.channel(
        "config",
        config_url,
        Duration::from_secs(5),
        Duration::from_secs(30),
    )?;
    let client = ConfigServiceClient::new(channel);
    Ok(fastconnect::provider::from_fn(move |kind, rejected| {
        let client = client.clone();
        async move { fetch(client, kind, rejected).await }
    }))
}

async fn fetch(
    mut client: ConfigServiceClient<Channel>,
    kind: TokenKind,
    rejected: Option<SecretString>,
) -> fastconnect::Result<IssuedToken> {
    let request = pb::GetSsiTokenRequest {
        kind: kind.as_str().to_owned(),
        rejected: rejected.map(|r| r.expose_secret().to_owned()),
    };
    match client.get_ssi_token(request).await {
        Ok(r) => {
            let t = r.into_inner();
            tracing::debug!(kind = %kind, expires_at = t.expires_at, "SSI token from the config service");
            Ok(IssuedToken {
                value: SecretString::from(t.access_token),
                expires_at: t.expires_at,
            })
        }
        Err(status) => Err(fastconnect::Error::TokenProvider {
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
        }),
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
