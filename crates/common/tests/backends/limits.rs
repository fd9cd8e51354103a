//! Inbound limits of `Host` (header-read timeout, request timeout, concurrency, body size) over
//! HTTP, gRPC and admin; the error envelope on every HTTP error; and metric labels from a fixed
//! set whatever paths clients send.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use common::bus::embedded::EmbeddedBus;
use common::cache::MemoryCache;
use common::registry;
use common::server::{Addrs, Backends, Host, Parts};
use common::settings::{ServiceSettings, Sources};
use common::shutdown::CancellationToken;
use futures::StreamExt;
use proto::common::v1 as pb;
use proto::emotion::v1 as emotion_pb;
use proto::emotion::v1::emotion_service_server::{EmotionService, EmotionServiceServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};
use utoipa_axum::router::OpenApiRouter;

/// Requests that ask to be held wait here until the test adds permits.
#[derive(Clone)]
struct Hold {
    entered: mpsc::UnboundedSender<()>,
    release: Arc<Semaphore>,
}

impl Hold {
    async fn wait(&self) {
        let _ = self.entered.send(());
        self.release.acquire().await.unwrap().forget();
    }
}

struct TestEmotion {
    hold: Hold,
}

#[tonic::async_trait]
impl EmotionService for TestEmotion {
    async fn get_info(
        &self,
        request: tonic::Request<pb::GetInfoRequest>,
    ) -> Result<tonic::Response<pb::ServiceInfo>, tonic::Status> {
        if request.metadata().contains_key("x-hold") {
            self.hold.wait().await;
        }
        Ok(tonic::Response::new(pb::ServiceInfo {
            name: "emotion".into(),
            ..Default::default()
        }))
    }

    // The limits are tested on GetInfo; the service's own calls are not needed here.
    async fn score_text(
        &self,
        _: tonic::Request<emotion_pb::ScoreTextRequest>,
    ) -> Result<tonic::Response<emotion_pb::Sentiment>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn list_items(
        &self,
        _: tonic::Request<emotion_pb::ListItemsRequest>,
    ) -> Result<tonic::Response<emotion_pb::ListItemsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn get_sentiment(
        &self,
        _: tonic::Request<emotion_pb::GetSentimentRequest>,
    ) -> Result<tonic::Response<emotion_pb::SentimentPoint>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn submit_items(
        &self,
        _: tonic::Request<emotion_pb::SubmitItemsRequest>,
    ) -> Result<tonic::Response<emotion_pb::SubmitItemsResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }
}

/// A running `Host` for emotion with test routes: `GET /api/emotion/v1/hold` (waits for the test),
/// `POST /api/emotion/v1/echo` (answers the body's length), `POST /api/emotion/v1/json` (a JSON body).
struct TestHost {
    addrs: Addrs,
    registry: prometheus::Registry,
    entered: mpsc::UnboundedReceiver<()>,
    release: Arc<Semaphore>,
    token: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestHost {
    async fn start(limits: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let spec = registry::find("emotion").unwrap();
        let env: HashMap<String, String> = [
            ("EMOTION__HTTP__PORT", "0"),
            ("EMOTION__GRPC__PORT", "0"),
            ("EMOTION__ADMIN__PORT", "0"),
            ("EMOTION__SHUTDOWN__GRACE_PERIOD_SECS", "1"),
            // Limits, not tokens: the test routes take anonymous requests.
            ("EMOTION__AUTH__ENABLED", "false"),
        ]
        .iter()
        .chain(limits)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([(
            "EMOTION__DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )])
        .collect();
        let settings = ServiceSettings::load_from(
            spec,
            "",
            &Sources {
                file: None,
                overlay: None,
                env,
            },
        )
        .unwrap();
        let db = common::server::connect_db(spec, &settings, None)
            .await
            .unwrap();
        let backends = Backends::with(
            Arc::new(EmbeddedBus::in_memory(100)),
            Arc::new(MemoryCache::new("emotion:")),
            db,
        )
        .await
        .unwrap();
        let (entered_tx, entered) = mpsc::unbounded_channel();
        let release = Arc::new(Semaphore::new(0));
        let hold = Hold {
            entered: entered_tx,
            release: release.clone(),
        };
        let info = common::server::service_info(spec, "test", &backends);
        let grpc_hold = hold.clone();
        let http = common::server::info_routes(info.clone()).merge(
            OpenApiRouter::new()
                .route(
                    "/v1/hold",
                    get(move || async move {
                        hold.wait().await;
                        "released"
                    }),
                )
                .route(
                    "/v1/echo",
                    post(|body: bytes::Bytes| async move { body.len().to_string() }),
                )
                .route(
                    "/v1/json",
                    post(
                        |axum::Json(v): axum::Json<serde_json::Value>| async move { axum::Json(v) },
                    ),
                ),
        );
        let registry = prometheus::Registry::new();
        let parts = Parts {
            http,
            grpc: tonic::service::Routes::new(EmotionServiceServer::new(TestEmotion {
                hold: grpc_hold,
            })),
            registry: registry.clone(),
        };
        let host = Host::bind(spec, &settings, info, backends, parts)
            .await
            .unwrap();
        let addrs = host.addrs().unwrap();
        let token = CancellationToken::new();
        let task = tokio::spawn(host.run(token.clone()));
        wait_ready(addrs.admin).await;
        Self {
            addrs,
            registry,
            entered,
            release,
            token,
            task,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/api/emotion{path}", self.addrs.http)
    }

    async fn grpc(&self) -> tonic::client::Grpc<tonic::transport::Channel> {
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", self.addrs.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        tonic::client::Grpc::new(channel)
    }

    /// Time series in the registry now.
    fn series(&self) -> usize {
        self.registry
            .gather()
            .iter()
            .map(|family| family.get_metric().len())
            .sum()
    }

    async fn stop(self) {
        self.release.add_permits(1000);
        self.token.cancel();
        self.task.await.unwrap().unwrap();
    }
}

async fn wait_ready(admin: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("http://{admin}/ready"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts an envelope body with `code` and returns its message.
async fn envelope(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "{response:?}");
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    body["message"].as_str().unwrap().to_owned()
}

/// Sends `request` on a fresh connection and reads the whole answer (`Connection: close`).
async fn raw(addr: SocketAddr, request: &[&[u8]]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    for part in request {
        stream.write_all(part).await.unwrap();
    }
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap();
    (status, body)
}

/// Reads until the peer closes; how long that took after `since`.
async fn closed_after(stream: &mut tokio::net::TcpStream, since: Instant) -> Duration {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                // The server may speak first (HTTP/2 SETTINGS) or answer; only the close counts.
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    since.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_do_not_finish_their_headers_in_time_are_closed() {
    let timeout = Duration::from_millis(300);
    let app = TestHost::start(&[("EMOTION__LIMITS__HEADER_READ_TIMEOUT_MS", "300")]).await;

    // Half a request line, on the public and the admin port.
    for addr in [app.addrs.http, app.addrs.admin] {
        // Timed from before the connect: the server's clock starts when it accepts, which
        // can come before `connect` returns here.
        let since = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /api/emotion/v1/in").await.unwrap();
        let took = closed_after(&mut stream, since).await;
        assert!(
            took >= timeout,
            "{addr}: closed after {took:?}, before the timeout"
        );
    }

    // Nothing at all, on the gRPC port: no HTTP/2 preface.
    let since = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(app.addrs.grpc)
        .await
        .unwrap();
    let took = closed_after(&mut stream, since).await;
    assert!(
        took >= timeout,
        "grpc: closed after {took:?}, before the timeout"
    );

    // A keep-alive connection idle after its answer is closed too.
    let mut stream = tokio::net::TcpStream::connect(app.addrs.http)
        .await
        .unwrap();
    stream
        .write_all(b"GET /api/emotion/v1/info HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let since = Instant::now();
    closed_after(&mut stream, since).await;

    // A client that sends its request in time is served.
    let (status, body) = raw(
        app.addrs.http,
        &[b"GET /api/emotion/v1/info HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_gets_413_with_the_envelope() {
    let app = TestHost::start(&[("EMOTION__LIMITS__MAX_BODY_BYTES", "1024")]).await;
    let c = reqwest::Client::new();

    let fits = c
        .post(app.url("/v1/echo"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 200);
    assert_eq!(fits.text().await.unwrap(), "1024");

    let declared = c
        .post(app.url("/v1/echo"))
        .body(vec![b'x'; 1025])
        .send()
        .await
        .unwrap();
    let message = envelope(declared, 413, "resource_exhausted").await;
    assert!(
        message.contains("1025") && message.contains("1024"),
        "{message}"
    );

    // Without a length: cut while it is read.
    let chunk = format!("{:x}\r\n{}\r\n", 800, "y".repeat(800));
    let head = b"POST /api/emotion/v1/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, body) = raw(
        app.addrs.http,
        &[head, chunk.as_bytes(), chunk.as_bytes(), b"0\r\n\r\n"],
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "resource_exhausted", "{body}");

    // gRPC: a request message over the limit.
    let mut grpc = app.grpc().await;
    grpc.ready().await.unwrap();
    let big = pb::ServiceInfo {
        description: "z".repeat(2000),
        ..Default::default()
    };
    let status = grpc
        .unary(
            tonic::Request::new(big),
            http::uri::PathAndQuery::from_static("/qts.emotion.v1.EmotionService/GetInfo"),
            tonic_prost::ProstCodec::<pb::ServiceInfo, pb::ServiceInfo>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("1024"), "{status:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_timeout_gets_504_or_deadline_exceeded() {
    let app = TestHost::start(&[("EMOTION__LIMITS__REQUEST_TIMEOUT_MS", "300")]).await;
    let started = Instant::now();
    let slow = reqwest::get(app.url("/v1/hold")).await.unwrap();
    let message = envelope(slow, 504, "deadline_exceeded").await;
    assert!(message.contains("300 ms"), "{message}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let mut grpc = app.grpc().await;
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(pb::GetInfoRequest {});
    request
        .metadata_mut()
        .insert("x-hold", "1".parse().unwrap());
    let status = grpc
        .unary(
            request,
            http::uri::PathAndQuery::from_static("/qts.emotion.v1.EmotionService/GetInfo"),
            tonic_prost::ProstCodec::<pb::GetInfoRequest, pb::ServiceInfo>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_concurrency_limit_are_refused_at_once() {
    let mut app = TestHost::start(&[("EMOTION__LIMITS__MAX_CONCURRENT_REQUESTS", "1")]).await;

    // HTTP: one request holds the only slot.
    let held = tokio::spawn(reqwest::get(app.url("/v1/hold")));
    app.entered.recv().await.unwrap();
    let refused = reqwest::get(app.url("/v1/info")).await.unwrap();
    assert_eq!(refused.headers()[reqwest::header::RETRY_AFTER], "1");
    let message = envelope(refused, 503, "unavailable").await;
    assert!(message.contains("busy"), "{message}");
    app.release.add_permits(1);
    assert_eq!(held.await.unwrap().unwrap().status(), 200);
    let after = reqwest::get(app.url("/v1/info")).await.unwrap();
    assert_eq!(after.status(), 200, "the slot is free again");

    // gRPC counts its own requests.
    let mut grpc = app.grpc().await;
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/qts.emotion.v1.EmotionService/GetInfo");
    let codec = tonic_prost::ProstCodec::<pb::GetInfoRequest, pb::ServiceInfo>::default;
    let mut holding = grpc.clone();
    let (p, c) = (path.clone(), codec());
    let held = tokio::spawn(async move {
        let mut request = tonic::Request::new(pb::GetInfoRequest {});
        request
            .metadata_mut()
            .insert("x-hold", "1".parse().unwrap());
        holding.ready().await.unwrap();
        holding.unary(request, p, c).await
    });
    app.entered.recv().await.unwrap();
    let status = grpc
        .unary(
            tonic::Request::new(pb::GetInfoRequest {}),
            path.clone(),
            codec(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    app.release.add_permits(1);
    held.await.unwrap().unwrap();
    grpc.ready().await.unwrap();
    grpc.unary(tonic::Request::new(pb::GetInfoRequest {}), path, codec())
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_http_error_carries_the_envelope() {
    let app = TestHost::start(&[]).await;
    let c = reqwest::Client::new();

    let missing = c.get(app.url("/v1/nope")).send().await.unwrap();
    let message = envelope(missing, 404, "not_found").await;
    assert!(message.contains("/api/emotion/v1/nope"), "{message}");

    let wrong_method = c.post(app.url("/v1/info")).send().await.unwrap();
    assert!(wrong_method.headers().contains_key(reqwest::header::ALLOW));
    let message = envelope(wrong_method, 405, "unimplemented").await;
    assert!(message.contains("POST"), "{message}");

    let bad_json = c
        .post(app.url("/v1/json"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    envelope(bad_json, 400, "invalid_argument").await;

    let admin = |path: &str| format!("http://{}{path}", app.addrs.admin);
    envelope(
        c.get(admin("/nope")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    envelope(
        c.post(admin("/ready")).send().await.unwrap(),
        405,
        "unimplemented",
    )
    .await;

    // The OpenAPI document says so.
    let doc: serde_json::Value = c
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["paths"]["/api/emotion/v1/info"]["get"]["responses"]["default"]["$ref"],
        "#/components/responses/Error"
    );
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "{doc}"
    );
    app.stop().await;
}

/// `n` pipelined HTTP/1.1 requests on one connection, every third with a made-up method and
/// every other to a random path; the status of each answer.
async fn pipelined(addr: SocketAddr, n: usize) -> Vec<u16> {
    let mut requests = Vec::new();
    for i in 0..n {
        let method = if i % 3 == 0 { "BREW" } else { "GET" };
        let path = if i % 2 == 0 {
            format!("/api/emotion/v1/{}", uuid::Uuid::new_v4())
        } else {
            "/api/emotion/v1/info".to_owned()
        };
        let close = if i + 1 == n {
            "Connection: close\r\n"
        } else {
            ""
        };
        requests.extend_from_slice(
            format!("{method} {path} HTTP/1.1\r\nHost: t\r\n{close}\r\n").as_bytes(),
        );
    }
    let (mut read, mut write) = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap()
        .into_split();
    let writer = tokio::spawn(async move {
        write.write_all(&requests).await.unwrap();
        write
    });
    let mut answers = Vec::new();
    read.read_to_end(&mut answers).await.unwrap();
    drop(writer.await.unwrap());
    String::from_utf8_lossy(&answers)
        .split("HTTP/1.1 ")
        .skip(1)
        .map(|answer| answer[..3].parse().unwrap())
        .collect()
}

/// `n` gRPC calls on one connection, half to an unknown method of a known service, half to an
/// unknown service; the code of each.
async fn random_grpc_calls(
    grpc: &tonic::client::Grpc<tonic::transport::Channel>,
    n: usize,
) -> Vec<tonic::Code> {
    futures::stream::iter(0..n)
        .map(|i| {
            let mut grpc = grpc.clone();
            let id = uuid::Uuid::new_v4().simple();
            let path = if i % 2 == 0 {
                format!("/qts.emotion.v1.EmotionService/Nope{id}")
            } else {
                format!("/qts.x{id}.v1.S/M")
            };
            async move {
                grpc.ready().await.unwrap();
                let call = grpc.unary(
                    tonic::Request::new(pb::GetInfoRequest {}),
                    http::uri::PathAndQuery::try_from(path).unwrap(),
                    tonic_prost::ProstCodec::<pb::GetInfoRequest, pb::ServiceInfo>::default(),
                );
                call.await.unwrap_err().code()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_to_random_paths_add_no_time_series() {
    let app = TestHost::start(&[]).await;
    let grpc = app.grpc().await;
    // Warm up: one of each kind, so the series they share exist.
    assert_eq!(pipelined(app.addrs.http, 4).await, [404, 200, 404, 405]);
    random_grpc_calls(&grpc, 2).await;
    let before = app.series();

    let (statuses, codes) = tokio::join!(
        pipelined(app.addrs.http, 10_000),
        random_grpc_calls(&grpc, 10_000)
    );
    assert_eq!(statuses.len(), 10_000);
    assert!(
        statuses.iter().all(|s| [200, 404, 405].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(codes.len(), 10_000);
    assert!(
        codes.iter().all(|c| *c == tonic::Code::Unimplemented),
        "{codes:?}"
    );
    assert_eq!(
        app.series(),
        before,
        "requests to random paths added series"
    );

    let text = common::metrics::render(&app.registry);
    for series in [
        r#"qts_grpc_requests_total{code="Unimplemented",method="other",service="emotion"} 10002"#,
        r#"qts_http_requests_total{method="other",route="/api/emotion/v1/info",service="emotion",status="405"}"#,
        r#"qts_http_requests_total{method="GET",route="other",service="emotion",status="404"}"#,
        r#"qts_http_requests_total{method="other",route="other",service="emotion",status="404"}"#,
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    app.stop().await;
}
