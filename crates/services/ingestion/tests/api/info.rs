//! What every instance says about itself, and the error body of an unknown path.

use crate::helpers::spawn_app;

#[tokio::test]
async fn info_over_http_and_grpc_describe_the_same_instance() {
    let app = spawn_app().await;
    let response = app.get_info().await;
    assert_eq!(response.status(), 200);
    let http: serde_json::Value = response.json().await.unwrap();
    assert_eq!(http["name"], "ingestion");
    assert_eq!(http["backends"]["database"], "sqlite");
    let grpc = app.grpc_get_info().await;
    assert_eq!(grpc.name, "ingestion");
    assert_eq!(grpc.instance_id, http["instance_id"].as_str().unwrap());
    app.app.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_path_gets_the_error_body() {
    let app = spawn_app().await;
    let response = app.get("/api/ingestion/v1/no-such-route").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}
