//! Every HTTP error response carries the `{"code", "message"}` envelope the OpenAPI documents,
//! including the ones our handlers never write: axum's 405 (empty), its extractor rejections
//! (plain text: bad JSON, body too large, ...) and any other non-JSON error. An HTML page (the
//! sso-ui's forms shown again with their problems, its 403 page) is for a person and stays.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use http_body_util::BodyExt;

use crate::error::{ErrorBody, Kind};

/// The most of a non-JSON error body kept as the message (rejection texts are short).
const MAX_MESSAGE_BYTES: usize = 1024;

/// axum middleware: rewrites an error response (4xx, 5xx) that is neither JSON nor an HTML page
/// into the envelope, keeping its status and headers (`Allow`, `Retry-After`, ...).
pub(crate) async fn envelope(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || is_json(&response)
        || is_html(&response)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match http_body_util::Limited::new(body, MAX_MESSAGE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
            .trim()
            .to_owned(),
        Err(_) => String::new(),
    };
    let kind = kind_of(status);
    let message = message(status, &method, &path, text);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let body = ErrorBody::new(kind, message);
    let json = match serde_json::to_vec(&body) {
        Ok(json) => json,
        Err(_) => return (status, axum::Json(body)).into_response(),
    };
    Response::from_parts(parts, Body::from(json))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"))
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn message(status: StatusCode, method: &Method, path: &str, text: String) -> String {
    match status {
        // axum adds the `Allow` header after this middleware has run.
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        StatusCode::NOT_FOUND if text.is_empty() => format!("no route for {path}"),
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned(),
        _ => text,
    }
}

/// The envelope code of an HTTP status (the inverse of `Kind::http_status`, plus the statuses
/// only the framework produces).
pub(crate) fn kind_of(status: StatusCode) -> Kind {
    match status {
        StatusCode::UNAUTHORIZED => Kind::Unauthenticated,
        StatusCode::FORBIDDEN => Kind::PermissionDenied,
        StatusCode::NOT_FOUND => Kind::NotFound,
        // As grpc-gateway maps a route without the method: the operation is not offered.
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => Kind::Unimplemented,
        StatusCode::CONFLICT => Kind::Aborted,
        StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Kind::ResourceExhausted,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => Kind::DeadlineExceeded,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE => Kind::Unavailable,
        s if s.is_client_error() => Kind::InvalidArgument,
        _ => Kind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_back_from_its_own_status() {
        for kind in [
            Kind::InvalidArgument,
            Kind::Unauthenticated,
            Kind::PermissionDenied,
            Kind::NotFound,
            Kind::ResourceExhausted,
            Kind::DeadlineExceeded,
            Kind::Unavailable,
            Kind::Unimplemented,
            Kind::Internal,
        ] {
            assert_eq!(kind_of(kind.http_status()), kind, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn an_html_error_page_keeps_its_body_and_plain_text_gets_the_envelope() {
        use axum::routing::get;
        use tower::ServiceExt as _;

        let app = axum::Router::new()
            .route(
                "/page",
                get(|| async {
                    (
                        StatusCode::FORBIDDEN,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        "<p role=\"alert\">refused</p>",
                    )
                }),
            )
            .route("/text", get(|| async { (StatusCode::BAD_REQUEST, "bad") }))
            .layer(axum::middleware::from_fn(envelope));
        let call = |path: &'static str| {
            let app = app.clone();
            async move {
                let r = app
                    .oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                let status = r.status();
                let body = r.into_body().collect().await.unwrap().to_bytes();
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(
            call("/page").await,
            (
                StatusCode::FORBIDDEN,
                "<p role=\"alert\">refused</p>".to_owned()
            )
        );
        let (status, body) = call("/text").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("\"code\":\"invalid_argument\""), "{body}");
    }

    #[test]
    fn framework_statuses_get_the_nearest_code() {
        assert_eq!(kind_of(StatusCode::METHOD_NOT_ALLOWED), Kind::Unimplemented);
        assert_eq!(
            kind_of(StatusCode::PAYLOAD_TOO_LARGE),
            Kind::ResourceExhausted
        );
        assert_eq!(
            kind_of(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Kind::InvalidArgument
        );
        assert_eq!(
            kind_of(StatusCode::UNPROCESSABLE_ENTITY),
            Kind::InvalidArgument
        );
    }
}
