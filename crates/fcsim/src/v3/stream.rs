//! The v3 stream (`/ws/v3`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::sim::Core;

pub(super) async fn upgrade(State(core): State<Arc<Core>>) -> Response {
    let _ = core;
    super::V3Error::code(404, "stream").into_response()
}
