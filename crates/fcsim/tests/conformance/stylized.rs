//! The stylized facts of the simulated market, measured as a client sees them: a year of
//! FC Data history of the VN30 constituents (and a sample of every exchange and liquidity
//! class) fetched with `fastconnect::DataClient` by `fcsim::stats::measure`. Each fact must
//! lie in the range real markets show (`docs/simulator.md`, "Market model").

use fcsim::UniverseSize;
use fcsim::stats::{Plan, Selection, measure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_fc_data_shows_the_stylized_facts_of_equity_returns() {
    let plan = Plan {
        seed: 1,
        days: 250,
        symbols: Selection::Index("VN30".into()),
        universe: UniverseSize {
            hose: 120,
            hnx: 60,
            upcom: 120,
        },
        sample: 6,
        intraday_days: 8,
    };
    let report = measure(&plan).await.unwrap();
    assert_eq!(report.symbols.len(), 30, "{:?}", report.symbols);
    assert_eq!(report.days, 250);
    let failures = report.failures();
    assert!(failures.is_empty(), "{failures:#?}\n{report}");
}

/// Over FC Data, for a liquid, a mid and illiquid names and for limit days, each day's
/// 1-minute bars add up to its daily bar, whose close is the generator's close (the
/// series the market maker and the matching engine's bands come from).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_minute_bars_add_up_to_the_daily_bar_in_every_class_and_on_limit_days() {
    use fastconnect::data::{DailyOhlcQuery, IntradayOhlcQuery};
    use fcsim::{Liquidity, SimConfig};
    use market::InstrumentKind;
    use time::macros::datetime;

    use crate::helpers::{data_client, spawn_with};

    let t = spawn_with(SimConfig {
        start: datetime!(2025-06-10 09:00 +7),
        universe: UniverseSize {
            hose: 40,
            hnx: 20,
            upcom: 60,
        },
        history_days: 40,
        ..SimConfig::demo()
    })
    .await;
    let g = t.sim.generator();
    let today = g.day_index(t.sim.now().date()).unwrap();
    let days = today - 20..today;
    let (from, to) = (g.days()[days.start], g.days()[today - 1]);
    // Symbols: one of each class per exchange, and every stock with a limit day.
    let mut symbols = std::collections::BTreeSet::new();
    let mut limit_days = 0;
    for (i, x) in g.universe().instruments().iter().enumerate() {
        if x.kind != InstrumentKind::Stock {
            continue;
        }
        let at_limit = days.clone().any(|d| {
            let l = g.limits(i, d).unwrap();
            let c = g.close(i, d);
            g.summary(i, d).unwrap().volume > 0 && (c == l.ceiling.units() || c == l.floor.units())
        });
        limit_days += usize::from(at_limit);
        let first_of_class = !symbols
            .iter()
            .any(|s: &(String, Liquidity, market::Exchange)| {
                s.1 == x.liquidity && s.2 == x.exchange
            });
        if at_limit || first_of_class {
            symbols.insert((x.symbol.clone(), x.liquidity, x.exchange));
        }
    }
    assert!(limit_days > 0, "no limit day in the window");
    let c = data_client(&t);
    let mut checked_days = 0;
    for (symbol, _, _) in &symbols {
        let i = g.universe().find(symbol).unwrap();
        let daily = c.all(&DailyOhlcQuery::new(symbol, from, to)).await.unwrap();
        let minutes = c
            .all(&IntradayOhlcQuery::new(symbol, from, to))
            .await
            .unwrap();
        assert_eq!(daily.len(), 20, "{symbol}");
        for bar in &daily {
            let day = g.day_index(bar.trading_date).unwrap();
            assert_eq!(bar.close.to_i64_exact(), Some(g.close(i, day)), "{symbol}");
            let of_day: Vec<_> = minutes
                .iter()
                .filter(|m| m.trading_date == bar.trading_date)
                .collect();
            let volume: i64 = of_day.iter().map(|m| m.volume).sum();
            assert_eq!(volume, bar.volume, "{symbol} {}", bar.trading_date);
            let (Some(first), Some(last)) = (of_day.first(), of_day.last()) else {
                assert_eq!(
                    bar.volume, 0,
                    "{symbol}: a daily bar with volume and no minutes"
                );
                continue;
            };
            assert_eq!(first.open, bar.open, "{symbol} {}", bar.trading_date);
            assert_eq!(last.close, bar.close, "{symbol} {}", bar.trading_date);
            let high = of_day.iter().map(|m| m.high).max().unwrap();
            let low = of_day.iter().map(|m| m.low).min().unwrap();
            assert_eq!(
                (high, low),
                (bar.high, bar.low),
                "{symbol} {}",
                bar.trading_date
            );
            checked_days += 1;
        }
    }
    assert!(checked_days > 100, "{checked_days} days checked");
}
