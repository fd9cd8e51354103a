//! Backtests end to end: the fleet's strategy, risk and matching code over bars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use backtest::Config;
use backtest::data::{Bars, BarsBuilder, synthetic};
use backtest::report::{Input, Report};
use backtest::run::{Window, run};
use backtest::search::{Objective, Param, Space, Walk, search};
use market::{Exchange, Symbol};
use time::macros::date;

/// Two fast moving averages and a strategy that follows their crosses, 100 shares at a time.
const FAST: &str = r#"
[[studies]]
id = "fast"
function = "SMA"
params = { timeperiod = 2 }

[[studies]]
id = "slow"
function = "SMA"
params = { timeperiod = 3 }

[[rules.cross]]
fast = "fast"
slow = "slow"
up = "up"
down = "down"

[[strategies]]
id = "cross"
enabled = true
buy_on = ["up"]
sell_on = ["down"]
sizing = { kind = "fixed", quantity = 100 }
"#;

/// Daily bars of one HOSE symbol from (open, high, low, close, volume) rows.
fn daily(rows: &[(i64, i64, i64, i64, u64)]) -> Bars {
    let rules = market::MarketRules::default();
    let cal = rules.calendar().unwrap();
    let mut day = date!(2025 - 03 - 03);
    let mut b = BarsBuilder::new();
    for (i, (o, h, l, c, v)) in rows.iter().enumerate() {
        b.push(
            &format!("row {i}"),
            Symbol::parse("FPT").unwrap(),
            Exchange::Hose,
            market::bars::vn_midnight(day),
            86_400,
            [*o, *h, *l, *c],
            *v,
        )
        .unwrap();
        day = cal.next_trading_day(day).unwrap();
    }
    b.finish().unwrap()
}

fn flat(c: i64) -> (i64, i64, i64, i64, u64) {
    (c, c + 100, c - 100, c, 100_000)
}

#[test]
fn a_cross_buys_on_the_next_bar_and_t_plus_2_refuses_selling_too_early() {
    // Day 4 closes above: "up" → a buy at 10,500 entered on day 5, whose low reaches it. Day 6
    // falls: "down" → a sale entered on day 7, before the shares bought on day 5 settle (T+2
    // 13:00): the exchange refuses it. Days 8–10 rise then fall again: the sale entered on day
    // 11, when the shares are sellable, fills at its limit (the close of day 10).
    let bars = daily(&[
        flat(10_000),
        flat(10_000),
        flat(10_000),
        flat(10_500),
        (10_500, 10_600, 10_400, 10_500, 100_000),
        flat(10_000),
        flat(10_000),
        flat(10_300),
        flat(10_600),
        flat(9_900),
        (9_900, 10_000, 9_800, 9_900, 100_000),
    ]);
    let config = Config::parse("fast.toml", FAST).unwrap();
    let out = run(&config, &bars, Window::default()).unwrap();
    let orders: Vec<(&str, &str, Option<&str>)> = out
        .orders
        .iter()
        .map(|o| (o.side, o.outcome, o.rejection.as_deref()))
        .collect();
    assert_eq!(orders.len(), 3, "{orders:#?}");
    assert_eq!(orders[0].0, "buy");
    assert_eq!(orders[0].1, "filled");
    assert_eq!((orders[1].0, orders[1].1), ("sell", "rejected"));
    let why = orders[1].2.unwrap();
    assert!(
        why.starts_with("exchange:") && why.contains("exceeds the sellable 0"),
        "{why}"
    );
    assert_eq!(
        (orders[2].0, orders[2].1),
        ("sell", "filled"),
        "{orders:#?}"
    );
    assert_eq!(out.trades.len(), 2);
    let (buy, sell) = (&out.trades[0], &out.trades[1]);
    assert_eq!((buy.price, buy.quantity), (10_500, 100));
    assert!(buy.fees > 0 && buy.tax == 0, "{buy:?}");
    assert!(sell.fees > 0 && sell.tax > 0, "{sell:?}");
    assert_eq!(sell.price, 9_900);
    assert_eq!(
        sell.realised,
        100 * 9_900 - sell.fees - sell.tax - (100 * 10_500 + buy.fees)
    );
    // The strategy's books and the broker account agree every day.
    for d in &out.days {
        assert_eq!(d.strategies.iter().sum::<i64>(), d.equity, "{d:?}");
    }
    let last = out.days.last().unwrap();
    assert_eq!(last.holdings, 0);
    assert_eq!(last.equity, config.backtest.cash + sell.realised);
}

#[test]
fn risk_limits_and_thin_volume_stop_or_starve_orders() {
    let rows = [
        flat(10_000),
        flat(10_000),
        flat(10_000),
        flat(10_500),
        (10_500, 10_600, 10_400, 10_500, 900),
    ];
    let limited = Config::parse(
        "limited.toml",
        &format!("{FAST}\n[limits]\nmax_order_value = 500000\n"),
    )
    .unwrap();
    let out = run(&limited, &daily(&rows), Window::default()).unwrap();
    assert_eq!(out.orders.len(), 1);
    let why = out.orders[0].rejection.as_deref().unwrap();
    assert!(why.starts_with("risk: max_order_value"), "{why}");
    // 10% of 900 shares is less than a lot: nothing fills, the day order expires.
    let config = Config::parse("fast.toml", FAST).unwrap();
    let out = run(&config, &daily(&rows), Window::default()).unwrap();
    assert_eq!(out.orders[0].outcome, "expired");
    assert!(out.trades.is_empty());
}

#[test]
fn the_same_input_gives_byte_identical_reports() {
    let rules = market::MarketRules::default();
    let cal = rules.calendar().unwrap();
    let bars = synthetic(40, 420, date!(2023 - 01 - 03), 11, 0.0, &rules, &cal).unwrap();
    let config = Config::fleet().unwrap();
    let files = || {
        let out = run(&config, &bars, Window::default()).unwrap();
        let (first, last) = bars.span().unzip();
        let input = Input {
            source: "synthetic".into(),
            symbols: bars.symbols().len(),
            seconds: bars.seconds(),
            first,
            last,
            trade_from: None,
        };
        let r = Report::new(input, &config, &out);
        assert!(r.summary.total.trades > 0, "the market should trade");
        [
            r.json().unwrap(),
            r.equity_csv(),
            r.trades_csv(),
            r.orders_csv(),
            r.html(),
        ]
    };
    let a = files();
    assert_eq!(a, files());
    assert!(a[4].contains("<svg") && a[4].contains("ma-cross"));
    let dir = std::env::temp_dir().join(format!("qts-backtest-{}", std::process::id()));
    let out = run(&config, &bars, Window::default()).unwrap();
    let input = Input {
        source: "synthetic".into(),
        symbols: 40,
        seconds: 86_400,
        first: None,
        last: None,
        trade_from: None,
    };
    Report::new(input, &config, &out).write(&dir).unwrap();
    for f in [
        "report.json",
        "equity.csv",
        "trades.csv",
        "orders.csv",
        "report.html",
    ] {
        assert!(dir.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn walk_forward_reports_each_fold_and_the_chained_out_of_sample_result() {
    let rules = market::MarketRules::default();
    let cal = rules.calendar().unwrap();
    let bars = synthetic(20, 330, date!(2023 - 01 - 03), 5, 0.0, &rules, &cal).unwrap();
    let config = Config::parse(
        "wf.toml",
        &FAST
            .replace("timeperiod = 2", "timeperiod = 5")
            .replace("timeperiod = 3", "timeperiod = 20"),
    )
    .unwrap();
    let space = Space {
        params: vec![
            Param::parse("studies.fast.timeperiod=3,5,10").unwrap(),
            Param::parse("studies.slow.timeperiod=20,40").unwrap(),
        ],
        samples: None,
        seed: 1,
    };
    let walk = Walk {
        train_days: 150,
        test_days: 60,
    };
    let a = search(&config, &bars, &space, Objective::Sharpe, Some(walk), 2).unwrap();
    assert_eq!(a.candidates, 6);
    assert_eq!(a.folds.len(), 3, "(330 - 150) / 60 folds");
    for w in a.folds.windows(2) {
        assert!(w[0].test.1 < w[1].test.0, "test windows follow each other");
    }
    for f in &a.folds {
        assert!(f.train.1 < f.test.0);
        assert_eq!(f.out_of_sample.days, 60);
    }
    let oos = a.out_of_sample.as_ref().unwrap();
    assert_eq!(oos.days, 180);
    let b = search(&config, &bars, &space, Objective::Sharpe, Some(walk), 1).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
        "threads do not change the result"
    );
    let whole = search(&config, &bars, &space, Objective::Return, None, 2).unwrap();
    assert_eq!(whole.ranking.len(), 6);
    assert!(whole.ranking.windows(2).all(|w| w[0].score >= w[1].score));
}
