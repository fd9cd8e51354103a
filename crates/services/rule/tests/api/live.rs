//! What a consuming service holds (`rules::Rules`): the active sets fetched at start, then every
//! activation, rollback and retirement applied from `rule.set.v1` while it runs — the next
//! evaluation is judged by the change, with no restart.

use common::grpc::Connector;
use common::shutdown::CancellationToken;
use rules::{Inputs, Rules, RulesSettings, Target};

use crate::evaluations::{activate, limits, order_json};
use crate::helpers::{spawn_app, until};

fn refusals(rules: &Rules, value: i64) -> Vec<String> {
    let inputs = Inputs::from_json(Target::Order, &order_json("o", value)).unwrap();
    rules
        .evaluate(&inputs)
        .rejections
        .into_iter()
        .map(|f| format!("{}@{} {}", f.set, f.version, f.message))
        .collect()
}

#[tokio::test]
async fn a_consuming_service_applies_every_change_to_its_next_evaluation() {
    let app = spawn_app().await;
    activate(&app, limits(1_000_000_000)).await;
    let (rules, follower) = Rules::start(
        "risk",
        "test-instance",
        &RulesSettings::default(),
        (&Connector::anonymous(), &app.app.grpc_url()),
        &app.app.bus,
    )
    .await
    .unwrap();
    // Fetched at start, before any event.
    assert_eq!(
        refusals(&rules, 1_100_000_000),
        ["limits@1 above 1000000000"]
    );
    assert!(refusals(&rules, 900_000_000).is_empty());
    let token = CancellationToken::new();
    tokio::spawn(follower.unwrap().run(token.clone()));

    activate(&app, limits(500_000_000)).await;
    let now = until("version 2 applies", || async {
        let r = refusals(&rules, 900_000_000);
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(now, ["limits@2 above 500000000"]);

    let r = app.call("POST", "/v1/sets/limits/rollback", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    until("the rollback applies", || async {
        refusals(&rules, 900_000_000).is_empty().then_some(())
    })
    .await;
    assert_eq!(
        refusals(&rules, 1_100_000_000),
        ["limits@1 above 1000000000"]
    );

    assert_eq!(
        app.call("POST", "/v1/sets/limits/retire", None)
            .await
            .status,
        204
    );
    until("the retirement applies", || async {
        (!rules.any(Target::Order)).then_some(())
    })
    .await;
    assert!(refusals(&rules, 1_100_000_000).is_empty());

    // A service that starts now loads nothing (the set is retired); one that needs its rule
    // sets refuses to start without the rule service.
    let gone = RulesSettings {
        required: true,
        fetch_timeout_ms: 500,
        ..RulesSettings::default()
    };
    let err = Rules::start(
        "risk",
        "other",
        &gone,
        (&Connector::anonymous(), "http://127.0.0.1:9"),
        &app.app.bus,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("fetching the active rule sets"),
        "{err}"
    );
    token.cancel();
}
