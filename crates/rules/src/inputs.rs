//! What rules read: the targets a rule set is written for, the typed variables each target
//! declares ([`Target::variables`], what the type checker knows) and the Rust values a service
//! fills them with ([`Inputs`]). A variable is an object of scalar fields (or, for `ind`, a map
//! of indicator values); every field is always present, so a rule never meets a missing key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use cel::common::types::{CelBool, CelDouble, CelInt, CelMap, CelMapKey, CelString};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use serde::{Deserialize, Serialize};

/// What a rule set judges: who evaluates it, and with which variables.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every order, in the risk service's pre-trade check (`order`, `security`, `account`,
    /// `market`, `now`): compliance and risk rules.
    Order,
    /// Every decision of a strategy before it is sent, in the decision engine (`decision`,
    /// `signal`, `position`, `ind`, `now`): strategy filters and parameters.
    Decision,
    /// Every closed bar of every symbol and timeframe, in the TA service (`bar`, `ind`, `now`):
    /// alert conditions. A rule raises its alert (action `warn`) on the bar where its condition
    /// becomes true, not again while it stays true.
    Alert,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::Order, Target::Decision, Target::Alert];

    /// Its name in documents and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Target::Order => "order",
            Target::Decision => "decision",
            Target::Alert => "alert",
        }
    }

    /// The target named `name`.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The variables its rules may read.
    pub fn variables(self) -> &'static [Variable] {
        match self {
            Target::Order => &[ORDER, SECURITY, ACCOUNT, MARKET, NOW],
            Target::Decision => &[DECISION, SIGNAL, POSITION, IND, NOW],
            Target::Alert => &[BAR, IND, NOW],
        }
    }

    /// The variable `name` of this target.
    pub fn variable(self, name: &str) -> Option<&'static Variable> {
        self.variables().iter().find(|v| v.name == name)
    }
}

/// A field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// `bool`.
    Bool,
    /// `int` (VND amounts, quantities, counts: whole numbers).
    Int,
    /// `double` (ratios, indicator values).
    Double,
    /// `string`.
    String,
}

/// One field of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Its name (`order.value`).
    pub name: &'static str,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Scalar,
    /// What it holds, with its unit.
    pub doc: &'static str,
}

/// One variable a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variable {
    /// Its name in expressions.
    pub name: &'static str,
    /// What it is.
    pub doc: &'static str,
    /// Its fields; empty for a map variable.
    pub fields: &'static [Field],
    /// A map from string keys to values of this type (`ind["rsi14"]`) instead of fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_of: Option<Scalar>,
}

impl Variable {
    /// The field `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, ty: Scalar, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

const fn object(name: &'static str, doc: &'static str, fields: &'static [Field]) -> Variable {
    Variable {
        name,
        doc,
        fields,
        map_of: None,
    }
}

use Scalar::{Double, Int, String as Str};

/// `order`: the order being checked.
pub const ORDER: Variable = object(
    "order",
    "The order being checked",
    &[
        f("id", Str, "The caller's client order id"),
        f("account", Str, "Broker sub-account"),
        f(
            "strategy",
            Str,
            "The strategy that sent it; empty for a person's order",
        ),
        f("symbol", Str, "Ticker, e.g. HPG"),
        f("side", Str, "\"buy\" or \"sell\""),
        f("type", Str, "LO, ATO, ATC, MTL, MOK, MAK or PLO"),
        f(
            "price",
            Int,
            "Limit price, VND; a market-priced order's ceiling (buy) or floor (sell); 0 if unknown",
        ),
        f("quantity", Int, "Shares or contracts"),
        f(
            "value",
            Int,
            "What it commits, VND: price × quantity (× multiplier for futures)",
        ),
    ],
);

/// `security`: the order's security from master data.
pub const SECURITY: Variable = object(
    "security",
    "The order's security, from master data",
    &[
        f("symbol", Str, "Ticker"),
        f("exchange", Str, "HOSE, HNX or UPCOM"),
        f(
            "kind",
            Str,
            "stock, etf, fund, cw, bond, index_future or bond_future",
        ),
        f(
            "status",
            Str,
            "normal, warning, controlled, special_control, restricted, suspended, delisted",
        ),
        f(
            "reference",
            Int,
            "Today's reference price, VND; 0 if unknown",
        ),
        f("ceiling", Int, "Today's ceiling, VND; 0 if unknown"),
        f("floor", Int, "Today's floor, VND; 0 if unknown"),
    ],
);

/// `account`: what the risk service counts for the order's account.
pub const ACCOUNT: Variable = object(
    "account",
    "The order's account as the risk service counts it now (before this order)",
    &[
        f("id", Str, "Broker sub-account"),
        f("exposure", Int, "Cost of positions plus open buys, VND"),
        f(
            "symbol_exposure",
            Int,
            "Exposure in the order's symbol, VND",
        ),
        f(
            "position",
            Int,
            "Shares held in the order's symbol (futures: net contracts)",
        ),
        f("open_orders", Int, "Orders accepted and not yet ended"),
        f(
            "realised_today",
            Int,
            "Today's realised P&L after fees and tax, VND",
        ),
        f(
            "pnl_today",
            Int,
            "Today's P&L, realised plus the change of unrealised, VND",
        ),
        f(
            "drawdown",
            Int,
            "Largest fall of today's P&L from its high, VND",
        ),
    ],
);

/// `market`: the order's symbol in the market now.
pub const MARKET: Variable = object(
    "market",
    "The order's symbol in the market now",
    &[
        f("last", Int, "Last trade price, VND; 0 if none seen today"),
        f(
            "change_pct",
            Double,
            "Last trade against the reference price, percent; 0 if unknown",
        ),
    ],
);

/// `now`: the time of the evaluation in Vietnam.
pub const NOW: Variable = object(
    "now",
    "When the rule is evaluated, Vietnam time (UTC+7)",
    &[
        f("date", Str, "YYYY-MM-DD"),
        f("time", Str, "HH:MM"),
        f("minute", Int, "Minutes since midnight (14:25 is 865)"),
        f("weekday", Int, "1 Monday ... 7 Sunday"),
    ],
);

/// `decision`: what a strategy decided.
pub const DECISION: Variable = object(
    "decision",
    "What a strategy decided, before it is sent",
    &[
        f("strategy", Str, "Strategy id"),
        f("symbol", Str, "Ticker"),
        f("side", Str, "\"buy\" or \"sell\""),
        f("quantity", Int, "Shares"),
        f(
            "price",
            Int,
            "Price it would be sent at, VND; 0 if no trade seen yet",
        ),
        f("value", Int, "price × quantity, VND"),
        f("reason", Str, "The strategy's reason"),
    ],
);

/// `signal`: the signal the decision answers.
pub const SIGNAL: Variable = object(
    "signal",
    "The signal the decision answers",
    &[
        f("name", Str, "golden_cross, rsi14_left_oversold, ..."),
        f("timeframe", Str, "1m, 5m, ..., 1D"),
        f("direction", Int, "+1 bullish, -1 bearish"),
        f("value", Double, "The value behind it"),
    ],
);

/// `position`: what the strategy holds in the symbol.
pub const POSITION: Variable = object(
    "position",
    "What the strategy holds in the symbol",
    &[
        f("quantity", Int, "Shares held (from its fills)"),
        f("pending_buy", Int, "Shares on its open buy orders"),
    ],
);

/// `ind`: indicator values of the symbol.
pub const IND: Variable = Variable {
    name: "ind",
    doc: "The latest indicator values of the symbol and timeframe (the signal's for a \
          decision, the bar's for an alert), by id (ind[\"atr14\"]); test with \
          `\"atr14\" in ind` first: a value still warming up is absent",
    fields: &[],
    map_of: Some(Double),
};

/// `bar`: the bar that just closed.
pub const BAR: Variable = object(
    "bar",
    "The bar that just closed",
    &[
        f("symbol", Str, "Ticker"),
        f("timeframe", Str, "1m, 5m, 15m, 30m, 1h, 1D"),
        f("time", Str, "Its start, HH:MM Vietnam time"),
        f(
            "open",
            Int,
            "Open, VND (futures: index points × 10, as the feed)",
        ),
        f("high", Int, "High, VND"),
        f("low", Int, "Low, VND"),
        f("close", Int, "Close, VND"),
        f("volume", Int, "Shares traded"),
        f(
            "prev_close",
            Int,
            "The previous bar's close, VND; 0 for the first bar",
        ),
        f(
            "change_pct",
            Double,
            "Close against the previous bar's close, percent; 0 for the first bar",
        ),
    ],
);

/// A value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `int`.
    Int(i64),
    /// `double`.
    Double(f64),
    /// `string`.
    Str(Arc<String>),
    /// `bool`.
    Bool(bool),
}

impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Int(v)
    }
}
impl From<u64> for FieldValue {
    fn from(v: u64) -> Self {
        FieldValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<u32> for FieldValue {
    fn from(v: u32) -> Self {
        FieldValue::Int(i64::from(v))
    }
}
impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Double(v)
    }
}
impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(Arc::new(v.to_owned()))
    }
}
impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Str(Arc::new(v))
    }
}
impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}

impl FieldValue {
    fn scalar(&self) -> Scalar {
        match self {
            FieldValue::Int(_) => Int,
            FieldValue::Double(_) => Double,
            FieldValue::Str(_) => Str,
            FieldValue::Bool(_) => Scalar::Bool,
        }
    }

    fn val(&self) -> Box<dyn Val> {
        match self {
            FieldValue::Int(v) => Box::new(CelInt::from(*v)),
            FieldValue::Double(v) => Box::new(CelDouble::from(*v)),
            FieldValue::Str(v) => Box::new(CelString::from(v.clone())),
            FieldValue::Bool(v) => Box::new(CelBool::from(*v)),
        }
    }

    /// As JSON (what-if reports and audit rows carry inputs).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Int(v) => (*v).into(),
            FieldValue::Double(v) => (*v).into(),
            FieldValue::Str(v) => v.as_str().into(),
            FieldValue::Bool(v) => (*v).into(),
        }
    }
}

/// Why inputs do not fit their target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A variable the target does not declare.
    #[error("{target} rules read no variable {variable:?}")]
    UnknownVariable {
        /// The target.
        target: &'static str,
        /// The variable.
        variable: String,
    },
    /// A field the variable does not declare, or of another type.
    #[error("{variable}.{field}: {why}")]
    Field {
        /// The variable.
        variable: &'static str,
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// A variable left unset.
    #[error("{target} rules need {variable:?}, which was not given")]
    Missing {
        /// The target.
        target: &'static str,
        /// The variable.
        variable: &'static str,
    },
}

/// A variable's fields as given: `(field, value)`; a field name is borrowed when it is a
/// declared one (no allocation on the order path), owned for a map variable's keys.
pub type Fields = Vec<(Cow<'static, str>, FieldValue)>;

/// The values of a target's variables for one evaluation, checked against their declarations:
/// every declared field of every declared variable is set, with its declared type. Built once
/// per evaluation and lent to every rule set's programs (a [`VariableResolver`]: no copies).
#[derive(Debug)]
pub struct Inputs {
    target: Target,
    values: Vec<(&'static str, Box<dyn Val>)>,
    /// As given, for [`Inputs::json`] (built only when asked: audit rows, what-ifs).
    given: Vec<(&'static str, Fields)>,
}

impl VariableResolver for Inputs {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        self.values
            .iter()
            .find(|(n, _)| *n == variable)
            .map(|(_, v)| CowVal::Borrowed(v.as_ref()))
    }
}

impl Inputs {
    /// The inputs of `target` from `variable -> field -> value` (the order of fields does not
    /// matter; an object variable needs every field, a map variable any keys).
    pub fn new(
        target: Target,
        variables: impl IntoIterator<Item = (&'static str, Fields)>,
    ) -> Result<Inputs, InputError> {
        let mut values = Vec::new();
        let mut given = Vec::new();
        for (name, fields) in variables {
            let var = target
                .variable(name)
                .ok_or_else(|| InputError::UnknownVariable {
                    target: target.name(),
                    variable: name.to_owned(),
                })?;
            let mut map: HashMap<CelMapKey<'static>, Box<dyn Val>> =
                HashMap::with_capacity(fields.len());
            for (field, value) in &fields {
                let (key, want) = match var.map_of {
                    Some(t) => (CelMapKey::from(field.to_string()), t),
                    None => {
                        let declared = var.field(field).ok_or_else(|| InputError::Field {
                            variable: var.name,
                            field: field.to_string(),
                            why: "no such field".to_owned(),
                        })?;
                        (CelMapKey::from(declared.name), declared.ty)
                    }
                };
                if value.scalar() != want {
                    return Err(InputError::Field {
                        variable: var.name,
                        field: field.to_string(),
                        why: format!("is {:?}, declared {want:?}", value.scalar()),
                    });
                }
                map.insert(key, value.val());
            }
            // Every key is a declared field: fewer keys than fields means one is missing.
            if map.len() < var.fields.len()
                && let Some(missing) = var
                    .fields
                    .iter()
                    .find(|f| !fields.iter().any(|(k, _)| k == f.name))
            {
                return Err(InputError::Field {
                    variable: var.name,
                    field: missing.name.to_owned(),
                    why: "not given".to_owned(),
                });
            }
            values.push((var.name, Box::new(CelMap::from(map)) as Box<dyn Val>));
            given.push((var.name, fields));
        }
        if let Some(missing) = target
            .variables()
            .iter()
            .find(|v| !values.iter().any(|(n, _)| *n == v.name))
        {
            return Err(InputError::Missing {
                target: target.name(),
                variable: missing.name,
            });
        }
        Ok(Inputs {
            target,
            values,
            given,
        })
    }

    /// Inputs of `target` read back from their JSON form (what-if requests, recorded
    /// evaluations): `{"order": {"id": "...", ...}, ...}`; an integer where a double is
    /// declared is taken as that double.
    pub fn from_json(target: Target, json: &serde_json::Value) -> Result<Inputs, InputError> {
        let obj = json
            .as_object()
            .ok_or_else(|| InputError::UnknownVariable {
                target: target.name(),
                variable: "(inputs are not a JSON object)".to_owned(),
            })?;
        let mut vars = Vec::new();
        for (name, fields) in obj {
            let var = target
                .variable(name)
                .ok_or_else(|| InputError::UnknownVariable {
                    target: target.name(),
                    variable: name.clone(),
                })?;
            let fields = fields.as_object().ok_or_else(|| InputError::Field {
                variable: var.name,
                field: String::new(),
                why: "is not a JSON object".to_owned(),
            })?;
            let mut out = Vec::with_capacity(fields.len());
            for (field, v) in fields {
                let want = var.map_of.or_else(|| var.field(field).map(|f| f.ty));
                let bad = |why: &str| InputError::Field {
                    variable: var.name,
                    field: field.clone(),
                    why: why.to_owned(),
                };
                let value = match (want, v) {
                    (None, _) => return Err(bad("no such field")),
                    (Some(Int), serde_json::Value::Number(n)) => {
                        FieldValue::Int(n.as_i64().ok_or_else(|| bad("is not a whole number"))?)
                    }
                    (Some(Double), serde_json::Value::Number(n)) => {
                        FieldValue::Double(n.as_f64().ok_or_else(|| bad("is not a number"))?)
                    }
                    (Some(Str), serde_json::Value::String(s)) => FieldValue::from(s.as_str()),
                    (Some(Scalar::Bool), serde_json::Value::Bool(b)) => FieldValue::Bool(*b),
                    (Some(t), _) => return Err(bad(&format!("is not of type {t:?}"))),
                };
                out.push((Cow::Owned(field.clone()), value));
            }
            vars.push((var.name, out));
        }
        Inputs::new(target, vars)
    }

    /// The target they are for.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The inputs as JSON (`{"order": {...}, ...}`), for audit rows and what-if reports.
    pub fn json(&self) -> serde_json::Value {
        self.given
            .iter()
            .map(|(name, fields)| {
                let obj: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect();
                ((*name).to_owned(), serde_json::Value::Object(obj))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    /// Inputs with every field zero or empty: what the checker evaluates each rule against once
    /// before activation, so a rule the static check let through but the interpreter would
    /// refuse fails then, not on the order path.
    pub fn zero(target: Target) -> Inputs {
        let vars = target.variables().iter().map(|v| {
            let fields = v
                .fields
                .iter()
                .map(|f| {
                    let value = match f.ty {
                        Int => FieldValue::Int(0),
                        Double => FieldValue::Double(0.0),
                        Str => FieldValue::from(""),
                        Scalar::Bool => FieldValue::Bool(false),
                    };
                    (Cow::Borrowed(f.name), value)
                })
                .collect();
            (v.name, fields)
        });
        Inputs::new(target, vars).unwrap_or_else(|e| unreachable!("zero inputs fit: {e}"))
    }
}

/// The `now` variable's fields for an instant: Vietnam date, time, minute of day and weekday.
pub fn now_fields(at: time::OffsetDateTime) -> Fields {
    let vn = at.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let (h, m) = (vn.hour(), vn.minute());
    vec![
        (
            Cow::Borrowed("date"),
            FieldValue::from(format!(
                "{:04}-{:02}-{:02}",
                vn.year(),
                u8::from(vn.month()),
                vn.day()
            )),
        ),
        (
            Cow::Borrowed("time"),
            FieldValue::from(format!("{h:02}:{m:02}")),
        ),
        (
            Cow::Borrowed("minute"),
            FieldValue::Int(i64::from(h) * 60 + i64::from(m)),
        ),
        (
            Cow::Borrowed("weekday"),
            FieldValue::Int(i64::from(vn.weekday().number_from_monday())),
        ),
    ]
}

/// `[(field, value)]` from `(name, value)` pairs, for building an [`Inputs`] variable.
pub fn fields<const N: usize>(pairs: [(&'static str, FieldValue); N]) -> Fields {
    pairs
        .into_iter()
        .map(|(k, v)| (Cow::Borrowed(k), v))
        .collect()
}
