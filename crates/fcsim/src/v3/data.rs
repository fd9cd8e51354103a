//! v3 market-data REST (`/api/v3/data/...`).

use std::sync::Arc;

use axum::response::Response;

use super::V3Error;
use crate::rest::Params;
use crate::sim::Core;

pub(super) async fn get(core: &Arc<Core>, call: &str, p: &Params) -> Result<Response, V3Error> {
    let _ = (core, p);
    Err(V3Error::code(
        404,
        format!("No resource /api/v3/data/{call}"),
    ))
}
