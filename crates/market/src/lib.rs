//! Vietnamese market rules: the one place the exchange rules live.
//!
//! Owns every rule of HOSE, the HNX listed board, UPCoM and HNX derivatives (VN30/VN100
//! index futures) that risk, OMS, the simulator, ingestion validation, the backtester and
//! the portal need; none of them may encode an exchange rule of its own. The source of
//! every rule is `shared/reference/vn-market-rules.md` (post-KRX, from 5 May 2025); each
//! item's doc cites its section (§). Facts the reference tags \[U\] are configuration in
//! [`MarketRules`] with documented defaults; `docs/market-rules.md` explains the model.
//!
//! Does **not** own: market data, account state (callers pass cash, holdings and room in
//! an [`OrderContext`]), margin policy beyond the initial-margin arithmetic, matching.
//!
//! Where to start:
//! - [`validate_order`]: every violated rule of one order, with numbers.
//! - [`MarketRules`]: all rule numbers; `MarketRules::default()` is the reference.
//! - [`TradingCalendar`]: holidays, trading days, the [`Phase`] at any instant.
//! - [`tick::TickRules`] / [`limits::LimitRules`]: ticks, rounding, ceiling and floor.
//! - [`fees::FeeSchedule::fill_cost`]: the full cost of a fill.
//! - [`order::check_amend`] / [`order::check_cancel`]: amend and cancel rules.
//!
//! Numbers are exact integers: [`Price`] (VND, or 0.1 index point for futures), [`Vnd`],
//! [`Quantity`]. Nothing here uses `f64`.
//!
//! ```
//! use market::{MarketRules, Price, limits::LimitCase, venue::{Exchange, InstrumentKind}};
//!
//! let rules = MarketRules::default();
//! let reference = Price::new(49_000).expect("positive");
//! let band = rules
//!     .price_limits(Exchange::Hose, InstrumentKind::Stock, reference, LimitCase::Normal)
//!     .expect("stocks have a band");
//! assert_eq!((band.ceiling.units(), band.floor.units()), (52_400, 45_600));
//! ```

pub mod bars;
pub mod calendar;
pub mod config;
pub mod fees;
pub mod foreign;
pub mod investor;
pub mod limits;
pub mod lot;
pub mod order;
pub mod price;
pub mod session;
pub mod settlement;
pub mod status;
pub mod tick;
pub mod ticker;
pub mod validate;
pub mod venue;

pub use calendar::TradingCalendar;
pub use config::MarketRules;
pub use investor::InvestorProfile;
pub use limits::PriceLimits;
pub use order::{Order, OrderType, Side};
pub use price::{Price, Quantity, Vnd};
pub use session::{Phase, SessionKey, SessionState};
pub use status::SecurityStatus;
pub use ticker::Symbol;
pub use validate::{OrderContext, Security, Violation, Violations, validate_order};
pub use venue::{Board, Exchange, InstrumentKind};
