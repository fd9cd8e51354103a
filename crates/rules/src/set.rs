//! Rule sets: the document people write ([`RuleSetDoc`]: rules and decision tables of one
//! target), its compilation ([`RuleSetDoc::compile`]: every problem found at once, each named
//! by where it is) and its evaluation ([`CompiledSet::evaluate`]).
//!
//! A rule fires when its CEL `condition` is true; a decision table fires its first row whose
//! cells all match (a cell is `-` for any, a comparison such as `>= 1000000000` or
//! `in ["VIC", "VHM"]`, or a value the column must equal). What fires does its action:
//! `reject` (the order or decision is refused), `warn` (it passes, and the finding is kept),
//! `set` (its `values` are returned: parameters for whoever evaluates, e.g. the decision
//! engine's `quantity_factor`) or, for a table row, `allow` (nothing; later rows are skipped).
//! A set of target `alert` raises alerts: its rules `warn` (the message is the alert) and a
//! rule that cannot be evaluated stays quiet.
//! Messages may quote values: `"order value {{order.value}} above the limit"`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use cel::{Context, Env, ExecutionError, Program, Value};
use serde::{Deserialize, Serialize};

use crate::check::{self, Checked, Ty};
use crate::inputs::{Inputs, Target};

/// Longest expression source.
pub const MAX_SOURCE: usize = 2_000;
/// Most rules in a set.
pub const MAX_RULES: usize = 200;
/// Most tables in a set.
pub const MAX_TABLES: usize = 20;
/// Most rows in a table.
pub const MAX_ROWS: usize = 500;
/// Most input columns of a table.
pub const MAX_COLUMNS: usize = 16;
/// Most estimated evaluation steps of a whole set.
pub const MAX_SET_COST: u64 = 200_000;

/// What a rule or row does when it fires.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Refuse the order or decision.
    #[default]
    Reject,
    /// Let it pass, keeping the finding.
    Warn,
    /// Return the `values` (parameters).
    Set,
    /// A table row only: decide nothing more in this table.
    Allow,
}

/// What an evaluation that fails (an overflow, a division by zero) counts as.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// A rejection naming the rule (fail closed: the default for compliance).
    #[default]
    Reject,
    /// A warning; the rule is skipped.
    Warn,
}

/// A rule set as written: the body of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSetDoc {
    /// The set's name: lower-case letters, digits, `_` and `-`, at most 64.
    pub name: String,
    /// What it judges.
    pub target: Target,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// What a failing evaluation counts as.
    #[serde(default)]
    pub on_error: OnError,
    /// Rules, each evaluated.
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
    /// Decision tables, each deciding by its first matching row.
    #[serde(default)]
    pub tables: Vec<TableDoc>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Unique in the set: letters, digits, `_` and `-`.
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// A CEL expression of type bool: the rule fires when it is true.
    pub condition: String,
    /// What it does when it fires (not `allow`).
    #[serde(default)]
    pub action: Action,
    /// What the finding says; `{{expr}}` quotes a value.
    #[serde(default)]
    pub message: String,
    /// For `set`: name -> CEL expression of a scalar.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// A decision table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDoc {
    /// Unique in the set (with the rules' ids).
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The columns: CEL expressions (`security.exchange`, `order.value`).
    pub inputs: Vec<String>,
    /// The rows, first match decides.
    pub rows: Vec<RowDoc>,
}

/// A row of a decision table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RowDoc {
    /// One cell per input: `-` (any), `< x`, `<= x`, `> x`, `>= x`, `== x`, `!= x`,
    /// `in [..]`, or a value the input must equal.
    pub when: Vec<String>,
    /// What the row does.
    #[serde(default)]
    pub action: Action,
    /// What the finding says; `{{expr}}` quotes a value.
    #[serde(default)]
    pub message: String,
    /// For `set`: name -> CEL expression of a scalar.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// One thing wrong with a document, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Where: `rules[2].condition`, `tables[0].rows[3].when[1]`, `name`.
    pub at: String,
    /// What, with the column for an expression.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A finding of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// The set.
    pub set: String,
    /// Its version.
    pub version: u64,
    /// The rule id, or `<table>#<row>` (1-based).
    pub rule: String,
    /// What it did.
    pub action: Action,
    /// What it says.
    pub message: String,
}

/// What the active sets decided on one input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// Refusals (including failed evaluations of sets that fail closed).
    pub rejections: Vec<Finding>,
    /// Findings that let it pass.
    pub warnings: Vec<Finding>,
    /// Values set by `set` rules and rows (a later set's value replaces an earlier one's).
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// The sets that judged, as `name@version`.
    pub sets: Vec<String>,
}

impl Outcome {
    /// Whether nothing refused it.
    pub fn allowed(&self) -> bool {
        self.rejections.is_empty()
    }

    /// The value `name` as a number, if one was set.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.values.get(name).and_then(serde_json::Value::as_f64)
    }
}

/// A message with `{{expr}}` placeholders.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Expr(Program),
}

/// A compiled condition, action, message and values.
struct Fires {
    rule: String,
    action: Action,
    message: Template,
    values: Vec<(String, Program)>,
}

enum Item {
    Rule {
        condition: Program,
        fires: Fires,
    },
    Table {
        /// Each row: its condition (`None`: every cell is `-`) and what it does.
        rows: Vec<(Option<Program>, Fires)>,
    },
}

/// A rule set ready to evaluate: every expression parsed and checked. Cheap to share.
pub struct CompiledSet {
    doc: RuleSetDoc,
    version: u64,
    env: Arc<Env>,
    items: Vec<Item>,
    cost: u64,
}

impl std::fmt::Debug for CompiledSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSet")
            .field("name", &self.doc.name)
            .field("version", &self.version)
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Builds what one document compiles to, collecting problems instead of stopping at the first.
struct Compiler {
    target: Target,
    env: Arc<Env>,
    problems: Vec<Problem>,
    cost: u64,
}

impl Compiler {
    fn problem(&mut self, at: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.to_owned(),
            message: message.into(),
        });
    }

    /// Parses and checks `source`; `want_bool` for a condition, else a scalar.
    fn expr(&mut self, at: &str, source: &str, want_bool: bool) -> Option<Program> {
        if source.trim().is_empty() {
            self.problem(at, "empty expression");
            return None;
        }
        if source.len() > MAX_SOURCE {
            self.problem(
                at,
                format!("{} characters, at most {MAX_SOURCE}", source.len()),
            );
            return None;
        }
        let program = match self.env.compile(source) {
            Ok(p) => p,
            Err(e) => {
                let message = e
                    .errors
                    .iter()
                    .map(|e| format!("at column {}: {}", e.pos.1 + 1, e.msg))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.problem(at, format!("does not parse: {message}"));
                return None;
            }
        };
        match check::check(self.target, program.expression(), program.source_info()) {
            Err(e) => {
                self.problem(at, e.to_string());
                None
            }
            Ok(Checked { ty, cost, .. }) => {
                let fits = if want_bool {
                    matches!(ty, Ty::Bool | Ty::Dyn)
                } else {
                    ty.scalar()
                };
                if !fits {
                    let want = if want_bool {
                        "bool"
                    } else {
                        "a number, string or bool"
                    };
                    self.problem(at, format!("is {ty}, must be {want}"));
                    return None;
                }
                self.cost = self.cost.saturating_add(cost);
                Some(program)
            }
        }
    }

    fn template(&mut self, at: &str, text: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                self.problem(at, "a {{ without its }}");
                return Template { parts };
            };
            if let Some(p) = self.expr(at, after[..end].trim(), false) {
                parts.push(Part::Expr(p));
            }
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Template { parts }
    }

    fn fires(
        &mut self,
        at: &str,
        rule: String,
        action: Action,
        message: &str,
        values: &BTreeMap<String, String>,
    ) -> Fires {
        if message.len() > 500 {
            self.problem(&format!("{at}.message"), "longer than 500 characters");
        }
        let message = if message.trim().is_empty() {
            Template {
                parts: vec![Part::Text(match action {
                    Action::Reject => format!("refused by rule {rule}"),
                    Action::Warn | Action::Set | Action::Allow => format!("rule {rule}"),
                })],
            }
        } else {
            self.template(&format!("{at}.message"), message)
        };
        if self.target == Target::Alert && matches!(action, Action::Reject | Action::Set) {
            self.problem(
                &format!("{at}.action"),
                "an alert rule raises an alert with warn (or, in a table row, stops with allow)",
            );
        }
        match (action, values.is_empty()) {
            (Action::Set, true) => self.problem(&format!("{at}.values"), "set needs values"),
            (Action::Reject | Action::Warn | Action::Allow, false) => {
                self.problem(&format!("{at}.values"), "only a set action has values")
            }
            _ => {}
        }
        let mut compiled = Vec::new();
        for (name, source) in values {
            let at = format!("{at}.values.{name}");
            if !is_name(name, 64) {
                self.problem(&at, "a value's name is letters, digits, _ and -");
            }
            if let Some(p) = self.expr(&at, source, false) {
                compiled.push((name.clone(), p));
            }
        }
        Fires {
            rule,
            action,
            message,
            values: compiled,
        }
    }
}

/// The CEL of one table cell for the column `input`: `None` for `-` (any).
fn cell(input: &str, cell: &str) -> Option<String> {
    let c = cell.trim();
    if c.is_empty() || c == "-" {
        return None;
    }
    let op = ["<=", ">=", "==", "!=", "<", ">"]
        .into_iter()
        .find(|op| c.starts_with(op));
    Some(match op {
        Some(op) => format!("({input}) {op} ({})", c[op.len()..].trim()),
        None if c.starts_with("in ") || c.starts_with("in[") => {
            format!("({input}) in ({})", c[2..].trim())
        }
        None => format!("({input}) == ({c})"),
    })
}

impl RuleSetDoc {
    /// Compiles the document as version `version`, or every problem found.
    pub fn compile(&self, version: u64) -> Result<CompiledSet, Vec<Problem>> {
        let mut c = Compiler {
            target: self.target,
            env: Arc::new(Env::stdlib()),
            problems: Vec::new(),
            cost: 0,
        };
        if !is_name(&self.name, 64) || self.name.bytes().any(|b| b.is_ascii_uppercase()) {
            c.problem(
                "name",
                "lower-case letters, digits, _ and -, 1 to 64 characters",
            );
        }
        if self.description.len() > 2_000 {
            c.problem("description", "longer than 2000 characters");
        }
        if self.rules.is_empty() && self.tables.is_empty() {
            c.problem("rules", "a set needs a rule or a table");
        }
        if self.rules.len() > MAX_RULES {
            c.problem(
                "rules",
                format!("{} rules, at most {MAX_RULES}", self.rules.len()),
            );
        }
        if self.tables.len() > MAX_TABLES {
            c.problem(
                "tables",
                format!("{} tables, at most {MAX_TABLES}", self.tables.len()),
            );
        }
        let mut ids = HashSet::new();
        let mut items = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            if !is_name(&r.id, 64) {
                c.problem(&format!("{at}.id"), "letters, digits, _ and -, 1 to 64");
            } else if !ids.insert(r.id.clone()) {
                c.problem(&format!("{at}.id"), format!("{:?} is used twice", r.id));
            }
            if r.action == Action::Allow {
                c.problem(
                    &format!("{at}.action"),
                    "allow is for table rows; a rule that allows does nothing",
                );
            }
            let condition = c.expr(&format!("{at}.condition"), &r.condition, true);
            let fires = c.fires(&at, r.id.clone(), r.action, &r.message, &r.values);
            if let Some(condition) = condition {
                items.push(Item::Rule { condition, fires });
            }
        }
        for (i, t) in self.tables.iter().enumerate() {
            let at = format!("tables[{i}]");
            if !is_name(&t.id, 64) {
                c.problem(&format!("{at}.id"), "letters, digits, _ and -, 1 to 64");
            } else if !ids.insert(t.id.clone()) {
                c.problem(&format!("{at}.id"), format!("{:?} is used twice", t.id));
            }
            if t.inputs.is_empty() || t.inputs.len() > MAX_COLUMNS {
                c.problem(
                    &format!("{at}.inputs"),
                    format!("1 to {MAX_COLUMNS} inputs"),
                );
            }
            if t.rows.is_empty() || t.rows.len() > MAX_ROWS {
                c.problem(&format!("{at}.rows"), format!("1 to {MAX_ROWS} rows"));
            }
            for (j, input) in t.inputs.iter().enumerate() {
                c.expr(&format!("{at}.inputs[{j}]"), input, false);
            }
            let mut rows = Vec::new();
            for (j, row) in t.rows.iter().enumerate() {
                let at = format!("{at}.rows[{j}]");
                if row.when.len() != t.inputs.len() {
                    c.problem(
                        &format!("{at}.when"),
                        format!("{} cells for {} inputs", row.when.len(), t.inputs.len()),
                    );
                    continue;
                }
                let mut parts = Vec::new();
                let mut ok = true;
                for (k, (input, text)) in t.inputs.iter().zip(&row.when).enumerate() {
                    if let Some(source) = cell(input, text) {
                        ok &= c.expr(&format!("{at}.when[{k}]"), &source, true).is_some();
                        parts.push(source);
                    }
                }
                let fires = c.fires(
                    &at,
                    format!("{}#{}", t.id, j + 1),
                    row.action,
                    &row.message,
                    &row.values,
                );
                if !ok {
                    continue;
                }
                // One program per row: the cells were checked one by one above (so a
                // problem names its cell); evaluated together they cost one call.
                let condition = if parts.is_empty() {
                    None
                } else {
                    match c.env.compile(&parts.join(" && ")) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            c.problem(&format!("{at}.when"), e.to_string());
                            continue;
                        }
                    }
                };
                rows.push((condition, fires));
            }
            items.push(Item::Table { rows });
        }
        if c.cost > MAX_SET_COST {
            c.problem(
                "rules",
                format!(
                    "the set may take {} steps per evaluation, at most {MAX_SET_COST}",
                    c.cost
                ),
            );
        }
        if !c.problems.is_empty() {
            return Err(c.problems);
        }
        let set = CompiledSet {
            doc: self.clone(),
            version,
            env: c.env,
            items,
            cost: c.cost,
        };
        // Once against zero inputs: what the static check let through but the interpreter
        // refuses (a type it resolves otherwise) fails now, not on the order path.
        let problems = set.probe();
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(problems)
        }
    }
}

/// Whether an evaluation error says the expression does not fit its inputs (as opposed to
/// a value-dependent failure such as a division by zero, which zero inputs would cause, or a
/// key missing from a map variable: `ind["atr14"]` on zero inputs, whose empty `ind` has no
/// key; an object's unknown field is refused by the checker before this runs).
fn is_type_error(e: &ExecutionError) -> bool {
    matches!(
        e,
        ExecutionError::NoSuchOverload(_)
            | ExecutionError::UndeclaredReference(_)
            | ExecutionError::UnexpectedType { .. }
            | ExecutionError::UnsupportedTargetType { .. }
            | ExecutionError::NotSupportedAsMethod { .. }
            | ExecutionError::InvalidArgumentCount { .. }
            | ExecutionError::UnsupportedKeyType(_)
    )
}

fn text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other @ (Value::List(_)
        | Value::Map(_)
        | Value::Function(..)
        | Value::Bytes(_)
        | Value::Opaque(_)
        | Value::Struct(_)) => format!("{other:?}"),
    }
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Int(i) => (*i).into(),
        Value::UInt(u) => (*u).into(),
        Value::Float(f) => (*f).into(),
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        other @ (Value::List(_)
        | Value::Map(_)
        | Value::Function(..)
        | Value::Bytes(_)
        | Value::Opaque(_)
        | Value::Struct(_)
        | Value::Null) => text(other).into(),
    }
}

impl CompiledSet {
    /// The document it was compiled from.
    pub fn doc(&self) -> &RuleSetDoc {
        &self.doc
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.doc.name
    }

    /// What it judges.
    pub fn target(&self) -> Target {
        self.doc.target
    }

    /// Its version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Its estimated evaluation steps.
    pub fn cost(&self) -> u64 {
        self.cost
    }

    /// A context reading `inputs`, for every program of this set.
    fn context<'a>(&self, inputs: &'a Inputs) -> Context<'a, 'a> {
        let mut ctx = Context::with_env(self.env.clone());
        ctx.set_variable_resolver(inputs);
        ctx
    }

    fn probe(&self) -> Vec<Problem> {
        let zero = Inputs::zero(self.doc.target);
        let ctx = self.context(&zero);
        let mut problems = Vec::new();
        let mut probe = |rule: &str, what: &str, p: &Program| {
            if let Err(e) = p.execute(&ctx)
                && is_type_error(&e)
            {
                problems.push(Problem {
                    at: format!("{rule}.{what}"),
                    message: format!("the interpreter refuses it: {e}"),
                });
            }
        };
        for item in &self.items {
            let (conditions, fires): (Vec<&Program>, Vec<&Fires>) = match item {
                Item::Rule { condition, fires } => (vec![condition], vec![fires]),
                Item::Table { rows } => (
                    rows.iter().filter_map(|(c, _)| c.as_ref()).collect(),
                    rows.iter().map(|(_, f)| f).collect(),
                ),
            };
            for (c, f) in conditions.iter().zip(&fires) {
                probe(&f.rule, "condition", c);
            }
            for f in fires {
                for (name, p) in &f.values {
                    probe(&f.rule, &format!("values.{name}"), p);
                }
                for part in &f.message.parts {
                    if let Part::Expr(p) = part {
                        probe(&f.rule, "message", p);
                    }
                }
            }
        }
        problems
    }

    fn finding(&self, fires: &Fires, action: Action, message: String) -> Finding {
        Finding {
            set: self.doc.name.clone(),
            version: self.version,
            rule: fires.rule.clone(),
            action,
            message,
        }
    }

    fn failed(&self, fires: &Fires, e: &ExecutionError, out: &mut Outcome) {
        // An alert that cannot be evaluated stays quiet: an alert is not a refusal.
        if self.doc.target == Target::Alert {
            return;
        }
        let message = format!("rule {} could not be evaluated: {e}", fires.rule);
        match self.doc.on_error {
            OnError::Reject => out
                .rejections
                .push(self.finding(fires, Action::Reject, message)),
            OnError::Warn => out
                .warnings
                .push(self.finding(fires, Action::Warn, message)),
        }
    }

    fn fire(&self, fires: &Fires, ctx: &Context<'_, '_>, out: &mut Outcome) {
        let mut message = String::new();
        for part in &fires.message.parts {
            match part {
                Part::Text(t) => message.push_str(t),
                Part::Expr(p) => match p.execute(ctx) {
                    Ok(v) => message.push_str(&text(&v)),
                    Err(e) => message.push_str(&format!("<{e}>")),
                },
            }
        }
        match fires.action {
            Action::Reject => out
                .rejections
                .push(self.finding(fires, Action::Reject, message)),
            Action::Warn => out
                .warnings
                .push(self.finding(fires, Action::Warn, message)),
            Action::Set => {
                for (name, p) in &fires.values {
                    match p.execute(ctx) {
                        Ok(v) => {
                            out.values.insert(name.clone(), json(&v));
                        }
                        Err(e) => self.failed(fires, &e, out),
                    }
                }
            }
            Action::Allow => {}
        }
    }

    /// Evaluates every rule and table on `inputs` (of this set's target), adding what fires
    /// to `out`.
    pub fn evaluate(&self, inputs: &Inputs, out: &mut Outcome) {
        out.sets.push(format!("{}@{}", self.doc.name, self.version));
        let ctx = self.context(inputs);
        for item in &self.items {
            match item {
                Item::Rule { condition, fires } => match condition.execute(&ctx) {
                    Ok(Value::Bool(true)) => self.fire(fires, &ctx, out),
                    Ok(_) => {}
                    Err(e) => self.failed(fires, &e, out),
                },
                Item::Table { rows } => {
                    for (condition, fires) in rows {
                        let hit = match condition {
                            None => true,
                            Some(c) => match c.execute(&ctx) {
                                Ok(v) => v == Value::Bool(true),
                                Err(e) => {
                                    self.failed(fires, &e, out);
                                    break;
                                }
                            },
                        };
                        if hit {
                            self.fire(fires, &ctx, out);
                            break;
                        }
                    }
                }
            }
        }
    }
}

/// Parses a document from JSON, naming the field that does not fit.
pub fn parse(json: &str) -> Result<RuleSetDoc, Problem> {
    serde_json::from_str(json).map_err(|e| Problem {
        at: format!("line {} column {}", e.line(), e.column()),
        message: e.to_string(),
    })
}

impl Finding {
    /// On the wire.
    pub fn to_proto(&self) -> proto::rule::v1::Finding {
        proto::rule::v1::Finding {
            set: self.set.clone(),
            version: self.version,
            rule: self.rule.clone(),
            action: serde_json::to_value(self.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            message: self.message.clone(),
        }
    }
}

impl Outcome {
    /// The `rule.evaluation.v1` event of this outcome: `service` judged `subject` (an order's
    /// client id, a decision's id) of `owner` (its account or strategy) on `inputs` at `at`.
    pub fn event(
        &self,
        (service, subject, owner): (&str, &str, &str),
        inputs: &Inputs,
        at: time::OffsetDateTime,
    ) -> proto::rule::v1::RuleEvaluation {
        proto::rule::v1::RuleEvaluation {
            id: format!("{service}:{subject}"),
            service: service.to_owned(),
            target: inputs.target().name().to_owned(),
            subject: subject.to_owned(),
            owner: owner.to_owned(),
            allowed: self.allowed(),
            rejections: self.rejections.iter().map(Finding::to_proto).collect(),
            warnings: self.warnings.iter().map(Finding::to_proto).collect(),
            sets: self.sets.clone(),
            inputs_json: inputs.json().to_string(),
            at: Some(common::bus::proto_time(at)),
        }
    }
}
