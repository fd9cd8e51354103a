//! The OpenAPI documents of every service, committed under `docs/openapi/` so API changes show
//! up in review; a test fails when they are stale. They are taken from a throw-away fleet, i.e.
//! exactly what each service serves at `/api/<service>/openapi.json`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::fleet::{Fleet, Options};

/// Starts a fleet in a temporary directory on free ports, fetches every service's document
/// (pretty-printed JSON with a final newline), and stops the fleet.
pub async fn collect() -> anyhow::Result<Vec<(&'static str, String)>> {
    let dir = std::env::temp_dir().join(format!("qts-openapi-{}", std::process::id()));
    let options = Options {
        market: crate::fleet::Market::None,
        data_dir: Some(dir.clone()),
        ephemeral_ports: true,
        overrides: vec![("bus.embedded.persist".into(), "false".into())],
        // A throw-away fleet: its first administrator's password is nobody's to print.
        env: [(
            "SSO__BOOTSTRAP__ADMIN_PASSWORD".to_owned(),
            "a throw-away password".to_owned(),
        )]
        .into(),
    };
    let token = common::shutdown::CancellationToken::new();
    let fleet = Fleet::start(&options, token.clone()).await?;
    let client: Client<HttpConnector, Body> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut docs = Vec::new();
    for s in &fleet.services {
        let uri = format!(
            "http://{}{}/openapi.json",
            s.addrs.http,
            s.spec.route_prefix()
        );
        let req = http::Request::get(&uri).body(Body::empty())?;
        let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
            .await
            .with_context(|| format!("{uri} timed out"))??;
        anyhow::ensure!(resp.status().is_success(), "{uri}: {}", resp.status());
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{uri} is not JSON"))?;
        docs.push((
            s.spec.name,
            format!("{}\n", serde_json::to_string_pretty(&value)?),
        ));
    }
    token.cancel();
    fleet.wait().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(docs)
}

/// The documents whose file in `dir` is missing or different.
pub fn stale(dir: &Path, docs: &[(&'static str, String)]) -> Vec<&'static str> {
    docs.iter()
        .filter(|(name, doc)| {
            std::fs::read_to_string(dir.join(format!("{name}.json")))
                .ok()
                .as_ref()
                != Some(doc)
        })
        .map(|(name, _)| *name)
        .collect()
}
