//! The portal service. Trader portal: backend and web app.
//!
//! Serves the web app traders open (`/api/portal/`: a page, a script and a stylesheet embedded
//! in the binary, no framework, nothing from another origin) and the backend it talks to. The
//! app signs in through the SSO-UI (its session cookie, traded for access tokens at
//! `/api/sso-ui/v1/session/token`).
//!
//! Built so far: the price board ([`board`]) — every security with reference, ceiling and
//! floor, three best bids and asks, the last trade and the day's totals, the foreign room —
//! filled from master data and ingestion and kept live from the bus ([`feed`]); the page shows it
//! by exchange and index with the board colours, a flash on every change, filter, sort, a watch
//! list, Vietnamese and English, light and dark; and a symbol's view — candlesticks from the
//! historical service (TradingView Lightweight Charts, vendored under `assets/vendor`), its
//! depth and time and sales, with indicators the TA service computes (overlays and panes);
//! the order ticket (`ticket`: the rules, the risk service's dry-run verdict, fees and tax, max
//! quantities and the session, as the trader types; the order itself, regular, conditional or
//! algorithmic, goes to the OMS), signal markers and company data, the orders page (amend,
//! cancel, fills), the portfolio (T+0/T+1/T+2, P&L, NAV chart), strategies with backtests
//! (`backtests`), reports with CSV export and the risk officer's view (with the rule sets in
//! force and the latest refusals, from the rule service). The symbol view also shows the
//! prediction service's call on the symbol and the emotion service's news sentiment with the
//! latest headlines. Not yet: the notifications inbox page (the notification service serves
//! its API).
//!
//! Start at [`App`]: its `common::service::Service` impl is what `main`, `qts up` and the API
//! tests (`tests/api`) start.

pub mod activity;
mod app;
mod backtests;
pub mod board;
pub mod feed;
mod grpc;
mod http;
pub mod settings;
mod ticket;

pub use app::App;

/// This service's entry in the fleet registry.
pub const SPEC: &common::registry::ServiceSpec = &common::registry::SERVICES[15];
