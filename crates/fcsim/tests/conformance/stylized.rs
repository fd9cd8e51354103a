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
