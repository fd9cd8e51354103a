//! Manual edits: validated, audited (who, when, before/after), published like a sync, and kept
//! by later syncs.

use proto::master_data::v1 as pb;
use serde_json::json;

use crate::helpers::synced;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_audited_published_and_survives_the_next_sync() {
    let (s, app) = synced(&[]).await;
    let n = s.sim.generator().universe().instruments().len();
    let symbol = s.sim.generator().universe().instruments()[0].symbol.clone();

    // Refused: no actor, unknown status, nothing to edit, unknown field, unknown symbol.
    for (body, code) in [
        (json!({"sector": "Banks"}), 400),
        (json!({"actor": " ", "sector": "Banks"}), 400),
        (json!({"actor": "ops", "status": "sleepy"}), 400),
        (json!({"actor": "ops"}), 400),
        (json!({"actor": "ops", "colour": "red"}), 400),
    ] {
        let r = app.edit(&symbol, body.clone()).await;
        assert_eq!(r.status(), code, "{body}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["code"], "invalid_argument", "{body}: {e}");
    }
    assert_eq!(
        app.edit("ZZZ", json!({"actor": "ops", "sector": "x"}))
            .await
            .status(),
        404
    );

    let r = app
        .edit(
            &symbol,
            json!({"actor": "lan", "sector": "Banks", "status": "warning", "reason": "exchange notice 12"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after: serde_json::Value = r.json().await.unwrap();
    assert_eq!(after["sector"], "Banks");
    assert_eq!(after["status"], "warning");
    assert_eq!(after["pinned"], json!(["sector", "status"]));
    let got = app
        .get_json(&format!("/api/master-data/v1/securities/{symbol}"), 200)
        .await;
    assert_eq!(got["status"], "warning", "the cache was dropped on write");

    let audit = app
        .get_json(
            &format!("/api/master-data/v1/securities/{symbol}/audit"),
            200,
        )
        .await;
    let entry = &audit[0];
    assert_eq!(entry["actor"], "lan");
    assert_eq!(entry["before"], json!({"sector": "", "status": "normal"}));
    assert_eq!(
        entry["after"],
        json!({"sector": "Banks", "status": "warning"})
    );
    assert_eq!(entry["reason"], "exchange notice 12");
    assert!(entry["at"].as_str().unwrap().starts_with("20"));

    // Published like a sync: one more event for the symbol, with the edit.
    let events = app.published(n + 1).await;
    let last = events.iter().rev().find(|e| e.symbol == symbol).unwrap();
    assert_eq!(
        (last.sector.as_str(), last.status.as_str()),
        ("Banks", "warning")
    );

    // gRPC edit of the name, and the trail over gRPC.
    let mut grpc = app.grpc().await;
    let s2 = grpc
        .update_security(pb::UpdateSecurityRequest {
            symbol: symbol.clone(),
            actor: "minh".into(),
            name: Some("Renamed JSC".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s2.name, "Renamed JSC");
    let no_actor = grpc
        .update_security(pb::UpdateSecurityRequest {
            symbol: symbol.clone(),
            name: Some("x".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(no_actor.code(), tonic::Code::InvalidArgument);
    let trail = grpc
        .list_audit(pb::ListAuditRequest {
            symbol: symbol.clone(),
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(trail.entries.len(), 2);
    assert_eq!(trail.entries[0].actor, "minh", "newest first");

    // A sync keeps the edited fields.
    let report: serde_json::Value = app.sync(json!({})).await.json().await.unwrap();
    assert_eq!(report["changed"], 0, "{report}");
    let got = app
        .get_json(&format!("/api/master-data/v1/securities/{symbol}"), 200)
        .await;
    assert_eq!(
        (
            got["name"].as_str(),
            got["sector"].as_str(),
            got["status"].as_str()
        ),
        (Some("Renamed JSC"), Some("Banks"), Some("warning"))
    );
    // Rules follow the status (a warning still trades).
    let rules = app
        .get_json(
            &format!("/api/master-data/v1/securities/{symbol}/rules"),
            200,
        )
        .await;
    assert_eq!(rules["status"], "warning");
    assert_eq!(rules["tradable"], true);
}
