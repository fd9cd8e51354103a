//! Transport failures keep their cause: what an operator reads in the log (the whole chain, as
//! `common_error::chain` prints it) says whether DNS, the connection, TLS or a timeout failed.

use fastconnect::{DataClient, DataConfig, Error, ErrorKind};
use tokio::io::AsyncReadExt;

fn client(url: &str, timeout_ms: u64) -> DataClient {
    let mut config = DataConfig::new("data-consumer", "data-s3cret".to_owned().into());
    config.url = url.to_owned();
    config.hub_url = url.to_owned();
    config.http.timeout_ms = timeout_ms;
    config.http.rate_limits = Vec::new();
    DataClient::new(config).unwrap()
}

async fn failure(url: &str, timeout_ms: u64) -> (Error, String) {
    let err = client(url, timeout_ms).access_token().await.unwrap_err();
    let chain = common_error::chain(&err).to_string();
    assert_eq!(err.kind(), ErrorKind::Transport, "{chain}");
    assert!(
        chain.starts_with("transport error calling /api/v2/Market/AccessToken"),
        "the top says what was called: {chain}"
    );
    (err, chain)
}

#[tokio::test]
async fn an_unknown_host_says_dns() {
    let (_, chain) = failure("http://qts-no-such-host.invalid", 5_000).await;
    assert!(chain.contains("dns error"), "{chain}");
}

#[tokio::test]
async fn a_closed_port_says_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (_, chain) = failure(&format!("http://{addr}"), 5_000).await;
    assert!(chain.contains("Connection refused"), "{chain}");
}

#[tokio::test]
async fn a_server_that_never_answers_says_timed_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut sink = Vec::new();
        let _ = socket.read_to_end(&mut sink).await;
    });
    let (_, chain) = failure(&format!("http://{addr}"), 300).await;
    assert!(chain.contains("timed out"), "{chain}");
    silent.abort();
}

#[tokio::test]
async fn a_peer_that_does_not_speak_tls_says_so() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plain = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 512];
        let _ = socket.read(&mut hello).await;
        use tokio::io::AsyncWriteExt;
        let _ = socket
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let (_, chain) = failure(&format!("https://localhost:{}", addr.port()), 5_000).await;
    assert!(
        chain.to_ascii_lowercase().contains("tls") || chain.contains("InvalidContentType"),
        "{chain}"
    );
    plain.abort();
}
