//! The risk service. Pre-trade checks, limits, kill switches and real-time monitoring.
//!
//! `CheckOrder` (gRPC; REST `POST /api/risk/v1/check`), which the OMS calls for every order,
//! applies every exchange rule of `market` (session and order type, tick, band, lot, maximum
//! quantity, security status) and the limits of the order's account and strategy (order
//! quantity and value, fat-finger distance from the last trade, open orders, orders per
//! minute, duplicates, exposure per symbol and in total, daily realised loss) and the kill
//! switches (global, account, strategy); every rejection names the rule and the numbers.
//! Limits and kill switches are set through the API, stored and audited, and published on
//! `risk.event.v1` with every rejected order. The rule service's active rule sets of target
//! `order` (crates/rules, followed live from `rule.set.v1`) judge every check and preview too;
//! each evaluation is reported on `rule.evaluation.v1`. The counters are rebuilt from the bus on start
//! (`oms.order.v1`, `oms.fill.v1`, `masterdata.security.v1`, `market.trade.v1`,
//! `market.index.v1`, `market.status.v1`) before the first check is answered.
//!
//! Between checks it monitors ([`domain::monitor`]): P&L marked to the last trade, drawdown
//! and margin per account and strategy, halts and abnormal-market breakers; its alerts go to
//! `risk.event.v1`, each once.
//! Start at [`App`]; the rules are in [`domain`], the use cases in [`service`].

mod app;
pub mod domain;
mod grpc;
mod http;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod store;

pub use app::App;

/// The service's own migrations (versions from 1000).
pub static MIGRATIONS: common::store::Migrations = common::store::Migrations {
    postgres: sqlx::migrate!("./migrations/postgres"),
    sqlite: sqlx::migrate!("./migrations/sqlite"),
};

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[5];
