//! Rule sets: compile, check and evaluate, with the real CEL interpreter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rules::inputs::FieldValue;
use rules::{Action, Inputs, OnError, Problem, RuleSetDoc, Rules, Target, fields, now_fields};
use serde_json::json;

/// A compliance set like one a risk officer writes: a rule per limit, a table by exchange.
fn compliance() -> RuleSetDoc {
    serde_json::from_value(json!({
        "name": "compliance",
        "target": "order",
        "description": "House limits",
        "rules": [
            {"id": "max_value", "condition": "order.value > 2000000000",
             "message": "order value {{order.value}} VND above 2,000,000,000"},
            {"id": "no_late_buys", "condition": "order.side == 'buy' && now.minute >= 14 * 60 + 25",
             "message": "no buys after 14:25 (it is {{now.time}})"},
            {"id": "restricted", "condition": "order.symbol in ['FLC', 'ROS']",
             "message": "{{order.symbol}} is on the restricted list"},
            {"id": "big_exposure", "action": "warn",
             "condition": "account.exposure + order.value > 5000000000",
             "message": "exposure would be {{account.exposure + order.value}}"}
        ],
        "tables": [
            {"id": "by_exchange", "inputs": ["security.exchange", "order.quantity"],
             "rows": [
                {"when": ["\"UPCOM\"", "> 10000"], "message": "UPCoM orders above 10,000 shares"},
                {"when": ["in ['HOSE', 'HNX']", "-"], "action": "allow"},
                {"when": ["-", ">= 50000"], "message": "{{order.quantity}} shares is too many"}
             ]}
        ]
    }))
    .unwrap()
}

fn order(symbol: &str, side: &str, price: i64, quantity: i64, exchange: &str) -> Inputs {
    order_at(
        symbol,
        side,
        price,
        quantity,
        exchange,
        0,
        "2026-12-01T03:00:00Z",
    )
}

fn order_at(
    symbol: &str,
    side: &str,
    price: i64,
    quantity: i64,
    exchange: &str,
    exposure: i64,
    at: &str,
) -> Inputs {
    let at =
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
    Inputs::new(
        Target::Order,
        [
            (
                "order",
                fields([
                    ("id", "c-1".into()),
                    ("account", "0001001".into()),
                    ("strategy", "".into()),
                    ("symbol", symbol.into()),
                    ("side", side.into()),
                    ("type", "LO".into()),
                    ("price", price.into()),
                    ("quantity", quantity.into()),
                    ("value", (price * quantity).into()),
                ]),
            ),
            (
                "security",
                fields([
                    ("symbol", symbol.into()),
                    ("exchange", exchange.into()),
                    ("kind", "stock".into()),
                    ("status", "normal".into()),
                    ("reference", price.into()),
                    ("ceiling", (price * 107 / 100).into()),
                    ("floor", (price * 93 / 100).into()),
                ]),
            ),
            (
                "account",
                fields([
                    ("id", "0001001".into()),
                    ("exposure", exposure.into()),
                    ("symbol_exposure", 0i64.into()),
                    ("position", 0i64.into()),
                    ("open_orders", 0i64.into()),
                    ("realised_today", 0i64.into()),
                    ("pnl_today", 0i64.into()),
                    ("drawdown", 0i64.into()),
                ]),
            ),
            (
                "market",
                fields([("last", price.into()), ("change_pct", 0.0.into())]),
            ),
            ("now", now_fields(at)),
        ],
    )
    .unwrap()
}

fn rejected(set: &RuleSetDoc, inputs: &Inputs) -> Vec<String> {
    let compiled = set.compile(1).unwrap();
    let mut out = rules::Outcome::default();
    compiled.evaluate(inputs, &mut out);
    out.rejections
        .iter()
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
}

#[test]
fn a_compliance_set_judges_orders_by_its_rules_and_table() {
    let set = compliance();
    assert!(rejected(&set, &order("HPG", "buy", 27_000, 1_000, "HOSE")).is_empty());
    assert_eq!(
        rejected(&set, &order("HPG", "buy", 27_000, 100_000, "HOSE")),
        ["max_value: order value 2700000000 VND above 2,000,000,000"]
    );
    assert_eq!(
        rejected(&set, &order("FLC", "sell", 4_000, 100, "HOSE")),
        ["restricted: FLC is on the restricted list"]
    );
    // 14:30 in Vietnam: buys refused, sells not.
    let late = "2026-12-01T07:30:00Z";
    assert_eq!(
        rejected(&set, &order_at("HPG", "buy", 27_000, 100, "HOSE", 0, late)),
        ["no_late_buys: no buys after 14:25 (it is 14:30)"]
    );
    assert!(rejected(&set, &order_at("HPG", "sell", 27_000, 100, "HOSE", 0, late)).is_empty());
    // The table: the first matching row decides; HOSE and HNX are allowed before the last row.
    assert_eq!(
        rejected(&set, &order("BSR", "buy", 20_000, 20_000, "UPCOM")),
        ["by_exchange#1: UPCoM orders above 10,000 shares"]
    );
    assert!(rejected(&set, &order("SHS", "buy", 15_000, 60_000, "HNX")).is_empty());
    assert_eq!(
        rejected(&set, &order("BSR", "buy", 20_000, 9_000, "UPCOM")),
        Vec::<String>::new()
    );
    // A warning lets the order pass and says why.
    let compiled = set.compile(3).unwrap();
    let mut out = rules::Outcome::default();
    compiled.evaluate(
        &order_at(
            "HPG",
            "buy",
            27_000,
            1_000,
            "HOSE",
            4_990_000_000,
            "2026-12-01T03:00:00Z",
        ),
        &mut out,
    );
    assert!(out.allowed());
    assert_eq!(out.warnings.len(), 1);
    assert_eq!(out.warnings[0].message, "exposure would be 5017000000");
    assert_eq!(
        (out.warnings[0].set.as_str(), out.warnings[0].version),
        ("compliance", 3)
    );
}

fn problems(doc: serde_json::Value) -> Vec<Problem> {
    let doc: RuleSetDoc = serde_json::from_value(doc).unwrap();
    doc.compile(1).unwrap_err()
}

fn one_rule(condition: &str) -> Vec<Problem> {
    problems(json!({"name": "t", "target": "order",
        "rules": [{"id": "r", "condition": condition}]}))
}

#[test]
fn the_checker_refuses_what_would_fail_on_the_order_path_and_says_where() {
    let cases = [
        ("order.valu > 1", "order has no field \"valu\""),
        (
            "quote.last > 1",
            "unknown variable \"quote\": order rules read order, security",
        ),
        ("order.value > '1000'", "int and string cannot be ordered"),
        ("order.price * 1.1 > 30000", "CEL does not mix number types"),
        ("order.value", "is int, must be bool"),
        (
            "order.symbol.lowerAscii() == 'hpg'",
            "no function lowerAscii(string)",
        ),
        (
            "order.side == 1",
            "comparing string with int is always false",
        ),
        (
            "order.quantity > 0 && order.symbol",
            "logical operators take bool operands",
        ),
        ("[1, 'a'].size() > 0", "a list of int cannot hold a string"),
        ("order.value > ", "does not parse"),
        ("signal.value > 0", "unknown variable \"signal\""),
    ];
    for (condition, want) in cases {
        let p = one_rule(condition);
        assert_eq!(p.len(), 1, "{condition}: {p:?}");
        assert_eq!(p[0].at, "rules[0].condition", "{condition}");
        assert!(p[0].message.contains(want), "{condition}: {}", p[0].message);
    }
    // The column points at the part that is wrong.
    let p = one_rule("order.quantity > 0 && order.valu > 1");
    assert!(p[0].message.starts_with("at column 28"), "{}", p[0].message);
    // Mixed numbers compare by value, as CEL does.
    let ok: RuleSetDoc = serde_json::from_value(json!({"name": "t", "target": "order",
        "rules": [{"id": "r", "condition": "market.change_pct > 5 && double(order.price) * 1.1 > 1.0"}]}))
    .unwrap();
    ok.compile(1).unwrap();
}

#[test]
fn a_document_gets_every_problem_at_once_each_named_by_where_it_is() {
    let p = problems(json!({
        "name": "Bad Name",
        "target": "order",
        "rules": [
            {"id": "a", "condition": "true", "action": "allow"},
            {"id": "a", "condition": "order.value > 1", "message": "{{order.nope}}"},
            {"id": "s", "condition": "true", "action": "set"}
        ],
        "tables": [{"id": "t", "inputs": ["order.value"], "rows": [
            {"when": ["> 1", "2"]},
            {"when": ["> 'x'"]}
        ]}]
    }));
    let at: Vec<&str> = p.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "name",
            "rules[0].action",
            "rules[1].id",
            "rules[1].message",
            "rules[2].values",
            "tables[0].rows[0].when",
            "tables[0].rows[1].when[0]",
        ],
        "{p:#?}"
    );
}

#[test]
fn evaluation_cost_is_bounded_before_activation() {
    let big: Vec<String> = (0..60).map(|i| i.to_string()).collect();
    let list = format!("[{}]", big.join(", "));
    // 60 × 60 iterations of a nested comprehension.
    let p = one_rule(&format!(
        "{list}.exists(x, {list}.exists(y, x + y == order.quantity))"
    ));
    assert!(p[0].message.contains("steps"), "{p:?}");
    let p = one_rule("[1].all(a, [1].all(b, [1].all(c, a + b + c == order.quantity)))");
    assert!(p[0].message.contains("nested"), "{p:?}");
    let long = vec!["order.quantity > 1"; 90].join(" && ");
    let p = one_rule(&long);
    assert!(p[0].message.contains("nodes"), "{p:?}");
    // A loop over a short literal list is fine.
    one_rule_ok("['VIC', 'VHM', 'VRE'].exists(s, order.symbol == s)");
}

fn one_rule_ok(condition: &str) {
    let doc: RuleSetDoc = serde_json::from_value(json!({"name": "t", "target": "order",
        "rules": [{"id": "r", "condition": condition}]}))
    .unwrap();
    doc.compile(1)
        .unwrap_or_else(|p| panic!("{condition}: {p:?}"));
}

#[test]
fn a_failing_evaluation_refuses_by_default_and_warns_when_the_set_says_so() {
    let mut doc: RuleSetDoc = serde_json::from_value(json!({"name": "avg", "target": "order",
        "rules": [{"id": "per_share", "condition": "order.value / order.quantity > 100000"}]}))
    .unwrap();
    let zero = order("HPG", "buy", 27_000, 0, "HOSE");
    let refused = rejected(&doc, &zero);
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].starts_with("per_share: rule per_share could not be evaluated: "),
        "{refused:?}"
    );
    assert!(rejected(&doc, &order("HPG", "buy", 27_000, 10, "HOSE")).is_empty());
    doc.on_error = OnError::Warn;
    let compiled = doc.compile(1).unwrap();
    let mut out = rules::Outcome::default();
    compiled.evaluate(&zero, &mut out);
    assert!(out.allowed() && out.warnings.len() == 1, "{out:?}");
}

#[test]
fn decision_rules_set_parameters_and_filter_signals() {
    let doc: RuleSetDoc = serde_json::from_value(json!({
        "name": "strategy-filters",
        "target": "decision",
        "rules": [
            {"id": "weak_rsi", "condition": "signal.name.startsWith('rsi') && signal.value < 25.0",
             "message": "RSI {{signal.value}} too weak a signal"},
            {"id": "atr_known", "condition": "decision.side == 'buy' && !('atr14' in ind)",
             "action": "warn", "message": "no ATR yet"},
            {"id": "too_wild", "condition": "'atr14' in ind && ind['atr14'] > 1000.0",
             "message": "ATR {{ind['atr14']}} too wild"}
        ],
        "tables": [{"id": "size", "inputs": ["decision.strategy", "decision.value"], "rows": [
            {"when": ["'ma-cross'", "> 100000000"], "action": "set",
             "values": {"quantity_factor": "0.5"}},
            {"when": ["-", "-"], "action": "set", "values": {"quantity_factor": "1.0"}}
        ]}]
    }))
    .unwrap();
    let set = doc.compile(2).unwrap();
    let decision = |strategy: &str, value: i64, signal: &str, sv: f64, ind: &[(&str, f64)]| {
        Inputs::new(
            Target::Decision,
            [
                (
                    "decision",
                    fields([
                        ("strategy", strategy.into()),
                        ("symbol", "HPG".into()),
                        ("side", "buy".into()),
                        ("quantity", 1000i64.into()),
                        ("price", (value / 1000).into()),
                        ("value", value.into()),
                        ("reason", "test".into()),
                    ]),
                ),
                (
                    "signal",
                    fields([
                        ("name", signal.into()),
                        ("timeframe", "1D".into()),
                        ("direction", 1i64.into()),
                        ("value", sv.into()),
                    ]),
                ),
                (
                    "position",
                    fields([("quantity", 0i64.into()), ("pending_buy", 0i64.into())]),
                ),
                (
                    "ind",
                    ind.iter()
                        .map(|(k, v)| ((*k).to_owned().into(), FieldValue::Double(*v)))
                        .collect(),
                ),
                ("now", now_fields(time::OffsetDateTime::UNIX_EPOCH)),
            ],
        )
        .unwrap()
    };
    let rules = Rules::fixed([set]);
    let out = rules.evaluate(&decision("ma-cross", 200_000_000, "golden_cross", 1.0, &[]));
    assert!(out.allowed());
    assert_eq!(out.number("quantity_factor"), Some(0.5));
    assert_eq!(out.warnings[0].message, "no ATR yet");
    let out = rules.evaluate(&decision(
        "rsi-reversion",
        50_000_000,
        "rsi14_left_oversold",
        20.5,
        &[("atr14", 800.0)],
    ));
    assert_eq!(out.rejections[0].message, "RSI 20.5 too weak a signal");
    assert_eq!(out.rejections[0].action, Action::Reject);
    assert_eq!(out.number("quantity_factor"), Some(1.0));
    assert!(out.warnings.is_empty());
    // An indicator value read by key (absent on the zero inputs the set was probed with).
    let out = rules.evaluate(&decision(
        "ma-cross",
        1_000_000,
        "golden_cross",
        1.0,
        &[("atr14", 1500.0)],
    ));
    assert_eq!(out.rejections[0].message, "ATR 1500 too wild");
    // Order inputs meet no decision set.
    assert!(rules.evaluate(&order("HPG", "buy", 1, 1, "HOSE")).allowed());
    assert!(rules.any(Target::Decision) && !rules.any(Target::Order));
}

#[test]
fn inputs_must_fit_their_declarations() {
    let err = Inputs::new(Target::Order, [("order", fields([("id", 1i64.into())]))]).unwrap_err();
    assert_eq!(err.to_string(), "order.id: is Int, declared String");
    let err = Inputs::new(Target::Order, [("order", fields([("id", "x".into())]))]).unwrap_err();
    assert_eq!(err.to_string(), "order.account: not given");
    let err = Inputs::new(Target::Decision, [("order", vec![])]).unwrap_err();
    assert_eq!(err.to_string(), "decision rules read no variable \"order\"");
    // JSON inputs (what-if, recorded findings) read back to the same evaluation.
    let inputs = order("FLC", "buy", 4_000, 100, "HOSE");
    let again = Inputs::from_json(Target::Order, &inputs.json()).unwrap();
    assert_eq!(
        rejected(&compliance(), &again),
        ["restricted: FLC is on the restricted list"]
    );
    let mut bad = inputs.json();
    bad["order"]["quantity"] = json!(1.5);
    assert_eq!(
        Inputs::from_json(Target::Order, &bad)
            .unwrap_err()
            .to_string(),
        "order.quantity: is not a whole number"
    );
    assert_eq!(
        rules::set::parse(r#"{"name": "x", "target": "orders"}"#)
            .unwrap_err()
            .message
            .split(" at line")
            .next()
            .unwrap(),
        "unknown variant `orders`, expected one of `order`, `decision`, `alert`"
    );
}

fn closed_bar(close: i64, prev_close: i64, ind: &[(&'static str, f64)]) -> Inputs {
    let change = (close - prev_close) as f64 * 100.0 / prev_close as f64;
    Inputs::new(
        Target::Alert,
        [
            (
                "bar",
                fields([
                    ("symbol", "FPT".into()),
                    ("timeframe", "5m".into()),
                    ("time", "10:05".into()),
                    ("open", prev_close.into()),
                    ("high", close.max(prev_close).into()),
                    ("low", close.min(prev_close).into()),
                    ("close", close.into()),
                    ("volume", 12_000i64.into()),
                    ("prev_close", prev_close.into()),
                    ("change_pct", change.into()),
                ]),
            ),
            (
                "ind",
                ind.iter()
                    .map(|(k, v)| ((*k).into(), FieldValue::Double(*v)))
                    .collect(),
            ),
            (
                "now",
                now_fields(time::macros::datetime!(2026-12-01 03:10 UTC)),
            ),
        ],
    )
    .unwrap()
}

#[test]
fn alert_rules_read_the_bar_and_its_indicators_and_only_warn() {
    // An alert refuses nothing and sets nothing: those actions are refused with where.
    let refused = problems(json!({"name": "a", "target": "alert", "rules": [
        {"id": "r", "condition": "bar.close > 0"},
        {"id": "s", "condition": "bar.close > 0", "action": "set", "values": {"x": "1"}}]}));
    let at: Vec<&str> = refused.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(at, ["rules[0].action", "rules[1].action"], "{refused:?}");
    // Order variables are not an alert's.
    let unknown = problems(json!({"name": "a", "target": "alert", "rules": [
        {"id": "r", "action": "warn", "condition": "order.value > 0"}]}));
    assert!(unknown[0].message.contains("order"), "{unknown:?}");

    let doc: RuleSetDoc = serde_json::from_value(json!({
        "name": "alerts", "target": "alert",
        "rules": [
            {"id": "jump", "action": "warn", "condition": "bar.change_pct >= 3.0",
             "message": "{{bar.symbol}} up {{bar.change_pct}}% on the {{bar.timeframe}} bar at {{bar.time}}"},
            {"id": "oversold", "action": "warn",
             "condition": "'rsi14' in ind && ind['rsi14'] < 30.0",
             "message": "RSI {{ind['rsi14']}}"},
            {"id": "broken", "action": "warn", "condition": "bar.close / (bar.volume - 12000) > 1"}
        ],
        "tables": [{"id": "volume", "inputs": ["bar.volume"], "rows": [
            {"when": ["< 1000"], "action": "allow"},
            {"when": [">= 10000"], "action": "warn", "message": "heavy volume {{bar.volume}}"}]}]
    }))
    .unwrap();
    let set = doc.compile(1).unwrap();
    let rules = Rules::fixed([set]);
    assert!(rules.any(Target::Alert) && !rules.any(Target::Order));
    let out = rules.evaluate(&closed_bar(103_000, 100_000, &[("rsi14", 25.5)]));
    let said: Vec<(&str, &str)> = out
        .warnings
        .iter()
        .map(|f| (f.rule.as_str(), f.message.as_str()))
        .collect();
    // The division by zero stays quiet: an alert that cannot be evaluated is not raised.
    assert_eq!(
        said,
        [
            ("jump", "FPT up 3% on the 5m bar at 10:05"),
            ("oversold", "RSI 25.5"),
            ("volume#2", "heavy volume 12000")
        ]
    );
    assert!(out.rejections.is_empty() && out.allowed());
    // Warming up (no rsi14 yet) and a flat bar: only the volume row.
    let out = rules.evaluate(&closed_bar(100_000, 100_000, &[]));
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
}
