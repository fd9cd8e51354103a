//! Dynamic business rules: what the rule service stores and versions, and what the services
//! that consult it evaluate locally.
//!
//! A rule set ([`RuleSetDoc`]) holds rules — CEL expressions (the Common Expression Language:
//! safe, side-effect free, not Turing-complete; parsed and interpreted by the `cel` crate) —
//! and decision tables for one [`Target`]: `order` (the risk service's pre-trade check),
//! `decision` (the decision engine, before a strategy's order is sent) or `alert` (the TA
//! service, on every closed bar). Its inputs are typed
//! ([`inputs`]): the checker ([`check`]) refuses an unknown variable or field, a wrong operand
//! type or an expression that could cost too much before a set can be activated, so the
//! order path never meets a rule that cannot run. [`Rules`] holds the active sets in a
//! consuming service, fetched from the rule service and kept current from `rule.set.v1`.
//!
//! Start at [`RuleSetDoc::compile`] and [`CompiledSet::evaluate`].

pub mod check;
pub mod inputs;
pub mod live;
pub mod set;

pub use inputs::{FieldValue, Inputs, Target, fields, now_fields};
pub use live::{Rules, RulesSettings};
pub use set::{Action, CompiledSet, Finding, OnError, Outcome, Problem, RuleSetDoc};
