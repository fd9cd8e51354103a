//! The type checker and cost bound: what makes a rule safe to activate. The `cel` crate parses
//! and interprets CEL but does not check types, so this walks the parsed expression with the
//! target's declared variables ([`crate::inputs`]) and a closed list of functions: an unknown
//! variable or field, a call of a function the interpreter would not find, operands of the
//! wrong type (`order.value > "1000"`, `order.price * 1.1` — CEL has no implicit int to double)
//! or a result that is not what the rule needs are refused with the column they start at.
//!
//! Cost is bounded statically: an expression has at most [`MAX_NODES`] nodes and
//! [`MAX_NESTING`] nested comprehensions (`all`, `exists`, `map`, ...), and its estimated cost —
//! each node weighted by the product of the sizes of the ranges it is evaluated in (a list
//! literal's length; an `ind` map at most [`MAX_IND`] entries) — stays within [`MAX_COST`]. CEL
//! itself has no loops or recursion, so a rule that passes ends in bounded time.

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, SourceInfo};
use std::fmt;

use crate::inputs::{Scalar, Target, Variable};

/// Most nodes in one expression.
pub const MAX_NODES: usize = 400;
/// Most nested comprehensions.
pub const MAX_NESTING: usize = 2;
/// Most estimated evaluation steps of one expression.
pub const MAX_COST: u64 = 20_000;
/// The most entries an `ind` map is given (the decision engine's inputs stay below it).
pub const MAX_IND: u64 = 64;

/// A CEL type as the checker knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `uint`.
    UInt,
    /// `double`.
    Double,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// `null`.
    Null,
    /// Unknown until run time (an empty list's elements).
    Dyn,
    /// `list(T)`.
    List(Box<Ty>),
    /// `map(K, V)`.
    Map(Box<Ty>, Box<Ty>),
    /// One of the target's variables.
    Var(&'static Variable),
}

impl Ty {
    fn of(s: Scalar) -> Ty {
        match s {
            Scalar::Bool => Ty::Bool,
            Scalar::Int => Ty::Int,
            Scalar::Double => Ty::Double,
            Scalar::String => Ty::String,
        }
    }

    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::UInt | Ty::Double | Ty::Dyn)
    }

    /// Whether the value is a scalar (what a message placeholder or a set value may be).
    pub fn scalar(&self) -> bool {
        matches!(
            self,
            Ty::Bool | Ty::Int | Ty::UInt | Ty::Double | Ty::String | Ty::Dyn
        )
    }

    /// The common type of two branches, lists elements or map values.
    fn unify(&self, other: &Ty) -> Option<Ty> {
        match (self, other) {
            (a, b) if a == b => Some(a.clone()),
            (Ty::Dyn, b) | (b, Ty::Dyn) => Some(b.clone()),
            (Ty::Null, b) | (b, Ty::Null) => Some(b.clone()),
            (Ty::List(a), Ty::List(b)) => a.unify(b).map(|t| Ty::List(Box::new(t))),
            _ => None,
        }
    }

    /// Whether values of the two types can be compared with `==` (CEL compares numbers of
    /// different types by value).
    fn comparable(&self, other: &Ty) -> bool {
        (self.numeric() && other.numeric()) || self.unify(other).is_some()
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::UInt => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Null => f.write_str("null"),
            Ty::Dyn => f.write_str("dyn"),
            Ty::List(t) => write!(f, "list({t})"),
            Ty::Map(k, v) => write!(f, "map({k}, {v})"),
            Ty::Var(v) => f.write_str(v.name),
        }
    }
}

/// Why an expression cannot be activated, and where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// 1-based column (of the first line) where the offending part starts, when known.
    pub column: Option<u32>,
    /// What is wrong, and how to fix it where we can say.
    pub message: String,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "at column {c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What the checker learned of an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Its type.
    pub ty: Ty,
    /// Its nodes.
    pub nodes: usize,
    /// Its estimated evaluation steps.
    pub cost: u64,
}

/// Checks `expr` (parsed from the source `info` describes) for `target`.
pub fn check(target: Target, expr: &IdedExpr, info: &SourceInfo) -> Result<Checked, CheckError> {
    let mut c = Checker {
        target,
        info,
        locals: Vec::new(),
        nodes: 0,
        nesting: 0,
        weight: 1,
        cost: 0,
    };
    let ty = c.ty(expr)?;
    Ok(Checked {
        ty,
        nodes: c.nodes,
        cost: c.cost,
    })
}

struct Checker<'a> {
    target: Target,
    info: &'a SourceInfo,
    /// Comprehension variables in scope, innermost last.
    locals: Vec<(String, Ty)>,
    nodes: usize,
    nesting: usize,
    /// How many times a node here is evaluated: the product of the enclosing ranges' sizes.
    weight: u64,
    cost: u64,
}

/// Functions and methods rules may call (besides operators).
const FUNCTIONS: &str = "size, contains, startsWith, endsWith, matches, int, uint, double, \
                         string, has, all, exists, exists_one, map, filter";

impl Checker<'_> {
    fn err(&self, e: &IdedExpr, message: impl Into<String>) -> CheckError {
        CheckError {
            column: self.info.offset_for(e.id).map(|(start, _)| start + 1),
            message: message.into(),
        }
    }

    fn ty(&mut self, e: &IdedExpr) -> Result<Ty, CheckError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.err(
                e,
                format!("the expression is too large: more than {MAX_NODES} nodes; split the rule"),
            ));
        }
        self.cost = self.cost.saturating_add(self.weight);
        if self.cost > MAX_COST {
            return Err(self.err(
                e,
                format!(
                    "the expression may take more than {MAX_COST} steps (nested loops over large \
                     ranges); simplify it"
                ),
            ));
        }
        match &e.expr {
            Expr::Unspecified => Err(self.err(e, "an empty expression")),
            Expr::Literal(l) => Ok(match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::Int(_) => Ty::Int,
                LiteralValue::Null => Ty::Null,
                LiteralValue::String(_) => Ty::String,
                LiteralValue::UInt(_) => Ty::UInt,
            }),
            Expr::Ident(name) => self.ident(e, name),
            Expr::Select(s) => {
                let operand = self.ty(&s.operand)?;
                let field = self.field(e, &operand, &s.field)?;
                Ok(if s.test { Ty::Bool } else { field })
            }
            Expr::List(l) => {
                let mut elem = Ty::Dyn;
                for item in &l.elements {
                    let t = self.ty(item)?;
                    elem = elem.unify(&t).ok_or_else(|| {
                        self.err(item, format!("a list of {elem} cannot hold a {t}"))
                    })?;
                }
                Ok(Ty::List(Box::new(elem)))
            }
            Expr::Map(m) => {
                let (mut kt, mut vt) = (Ty::Dyn, Ty::Dyn);
                for entry in &m.entries {
                    let EntryExpr::MapEntry(me) = &entry.expr else {
                        return Err(self.err(e, "a map literal entry must be key: value"));
                    };
                    let k = self.ty(&me.key)?;
                    let v = self.ty(&me.value)?;
                    kt = kt
                        .unify(&k)
                        .ok_or_else(|| self.err(&me.key, format!("map keys of {kt} and {k}")))?;
                    vt = vt.unify(&v).ok_or_else(|| {
                        self.err(&me.value, format!("map values of {vt} and {v}"))
                    })?;
                }
                Ok(Ty::Map(Box::new(kt), Box::new(vt)))
            }
            Expr::Struct(_) => Err(self.err(
                e,
                "message literals are not available in rules; read the variables",
            )),
            Expr::Comprehension(c) => {
                if self.nesting >= MAX_NESTING {
                    return Err(self.err(
                        e,
                        format!("more than {MAX_NESTING} nested all/exists/map/filter"),
                    ));
                }
                let range = self.ty(&c.iter_range)?;
                let (item, size) = match &range {
                    Ty::List(t) => (
                        (**t).clone(),
                        if let Expr::List(l) = &c.iter_range.expr {
                            l.elements.len() as u64
                        } else {
                            MAX_IND
                        },
                    ),
                    Ty::Map(k, _) => ((**k).clone(), MAX_IND),
                    Ty::Var(v) if v.map_of.is_some() => (Ty::String, MAX_IND),
                    Ty::Dyn => (Ty::Dyn, MAX_IND),
                    other @ (Ty::Bool
                    | Ty::Int
                    | Ty::UInt
                    | Ty::Double
                    | Ty::String
                    | Ty::Bytes
                    | Ty::Null
                    | Ty::Var(_)) => {
                        return Err(self.err(
                            &c.iter_range,
                            format!("{other} is not a list or a map to range over"),
                        ));
                    }
                };
                let accu = self.ty(&c.accu_init)?;
                self.locals.push((c.accu_var.clone(), accu.clone()));
                self.nesting += 1;
                let outer = self.weight;
                self.weight = self.weight.saturating_mul(size.max(1));
                self.locals.push((c.iter_var.clone(), item));
                if let Some(v2) = &c.iter_var2 {
                    self.locals.push((v2.clone(), Ty::Dyn));
                }
                let cond = self.ty(&c.loop_cond)?;
                let step = self.ty(&c.loop_step)?;
                if c.iter_var2.is_some() {
                    self.locals.pop();
                }
                self.locals.pop();
                self.weight = outer;
                self.nesting -= 1;
                if !matches!(cond, Ty::Bool | Ty::Dyn) {
                    return Err(
                        self.err(&c.loop_cond, format!("the condition is {cond}, not bool"))
                    );
                }
                let accu = accu.unify(&step).ok_or_else(|| {
                    self.err(
                        &c.loop_step,
                        format!("the step gives {step}, the start {accu}"),
                    )
                })?;
                if let Some(slot) = self.locals.last_mut() {
                    slot.1 = accu;
                }
                let result = self.ty(&c.result)?;
                self.locals.pop();
                Ok(result)
            }
            Expr::Call(call) => {
                let name = call.func_name.as_str();
                let mut args = Vec::with_capacity(call.args.len() + 1);
                if let Some(t) = &call.target {
                    args.push(self.ty(t)?);
                }
                for a in &call.args {
                    args.push(self.ty(a)?);
                }
                self.call(e, name, call.target.is_some(), &args)
            }
        }
    }

    fn ident(&self, e: &IdedExpr, name: &str) -> Result<Ty, CheckError> {
        if let Some((_, t)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(t.clone());
        }
        match self.target.variable(name) {
            Some(v) => Ok(Ty::Var(v)),
            None => Err(self.err(
                e,
                format!(
                    "unknown variable {name:?}: {} rules read {}",
                    self.target.name(),
                    self.target
                        .variables()
                        .iter()
                        .map(|v| v.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    fn field(&self, e: &IdedExpr, operand: &Ty, field: &str) -> Result<Ty, CheckError> {
        match operand {
            Ty::Var(v) => match (v.map_of, v.field(field)) {
                (Some(t), _) => Ok(Ty::of(t)),
                (None, Some(f)) => Ok(Ty::of(f.ty)),
                (None, None) => Err(self.err(
                    e,
                    format!(
                        "{} has no field {field:?}; its fields: {}",
                        v.name,
                        v.fields
                            .iter()
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
            Ty::Map(_, v) => Ok((**v).clone()),
            Ty::Dyn => Ok(Ty::Dyn),
            other @ (Ty::Bool
            | Ty::Int
            | Ty::UInt
            | Ty::Double
            | Ty::String
            | Ty::Bytes
            | Ty::Null
            | Ty::List(_)) => Err(self.err(e, format!("{other} has no fields (.{field})"))),
        }
    }

    fn call(&self, e: &IdedExpr, name: &str, member: bool, a: &[Ty]) -> Result<Ty, CheckError> {
        let bad = |why: String| Err(self.err(e, why));
        let bools = |a: &[Ty]| a.iter().all(|t| matches!(t, Ty::Bool | Ty::Dyn));
        match (name, a) {
            ("_&&_" | "_||_", [_, _]) | ("!_" | "@not_strictly_false", [_]) if bools(a) => {
                Ok(Ty::Bool)
            }
            ("_&&_" | "_||_" | "!_", _) => bad(format!(
                "logical operators take bool operands, not {}",
                list(a)
            )),
            ("-_", [t]) if matches!(t, Ty::Int | Ty::Double | Ty::Dyn) => Ok(t.clone()),
            ("_?_:_", [c, x, y]) => {
                if !matches!(c, Ty::Bool | Ty::Dyn) {
                    return bad(format!("the condition of ?: is {c}, not bool"));
                }
                x.unify(y)
                    .map_or_else(|| bad(format!("the branches of ?: are {x} and {y}")), Ok)
            }
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", [x, y]) => self.arithmetic(e, name, x, y),
            ("_<_" | "_<=_" | "_>_" | "_>=_", [x, y]) => {
                let ok = (x.numeric() && y.numeric())
                    || matches!(
                        (x, y),
                        (Ty::String | Ty::Dyn, Ty::String | Ty::Dyn) | (Ty::Bool, Ty::Bool)
                    );
                if ok {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("{x} and {y} cannot be ordered"))
                }
            }
            ("_==_" | "_!=_", [x, y]) => {
                if x.comparable(y) {
                    Ok(Ty::Bool)
                } else {
                    bad(format!(
                        "comparing {x} with {y} is always {}",
                        name == "_!=_"
                    ))
                }
            }
            ("_[_]", [c, k]) => match (c, k) {
                (Ty::List(t), Ty::Int | Ty::UInt | Ty::Dyn) => Ok((**t).clone()),
                (Ty::Map(kt, v), k) if kt.comparable(k) => Ok((**v).clone()),
                (Ty::Var(v), Ty::String | Ty::Dyn) if v.map_of.is_some() => {
                    Ok(v.map_of.map_or(Ty::Dyn, Ty::of))
                }
                (Ty::Dyn, _) => Ok(Ty::Dyn),
                _ => bad(format!("{c} cannot be indexed with {k}")),
            },
            ("@in", [x, c]) => match c {
                Ty::List(t) if x.comparable(t) => Ok(Ty::Bool),
                Ty::Map(k, _) if x.comparable(k) => Ok(Ty::Bool),
                Ty::Var(v) if v.map_of.is_some() && x.comparable(&Ty::String) => Ok(Ty::Bool),
                Ty::Dyn => Ok(Ty::Bool),
                Ty::Bool
                | Ty::Int
                | Ty::UInt
                | Ty::Double
                | Ty::String
                | Ty::Bytes
                | Ty::Null
                | Ty::List(_)
                | Ty::Map(..)
                | Ty::Var(_) => bad(format!("{x} cannot be looked for in {c}")),
            },
            ("size", [t]) => match t {
                Ty::String | Ty::Bytes | Ty::List(_) | Ty::Map(..) | Ty::Dyn => Ok(Ty::Int),
                Ty::Var(v) if v.map_of.is_some() => Ok(Ty::Int),
                Ty::Bool | Ty::Int | Ty::UInt | Ty::Double | Ty::Null | Ty::Var(_) => {
                    bad(format!("size() of {t}"))
                }
            },
            ("contains" | "startsWith" | "endsWith" | "matches", [s, p]) if member => {
                if matches!(s, Ty::String | Ty::Dyn) && matches!(p, Ty::String | Ty::Dyn) {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("{name} is a string method: ({s}).{name}({p})"))
                }
            }
            ("int" | "uint" | "double", [t]) if !member => {
                if t.numeric() || matches!(t, Ty::String) {
                    Ok(match name {
                        "int" => Ty::Int,
                        "uint" => Ty::UInt,
                        _ => Ty::Double,
                    })
                } else {
                    bad(format!("{name}() of {t}"))
                }
            }
            ("string", [t]) if !member && t.scalar() => Ok(Ty::String),
            _ => bad(format!(
                "no function {name}({}) for rules; they may call {FUNCTIONS} and the operators",
                list(a)
            )),
        }
    }

    fn arithmetic(&self, e: &IdedExpr, op: &str, x: &Ty, y: &Ty) -> Result<Ty, CheckError> {
        let t = match (x, y) {
            (Ty::Dyn, t) | (t, Ty::Dyn) => t.clone(),
            (a, b) if a == b => a.clone(),
            (a, b) if a.numeric() && b.numeric() => {
                return Err(self.err(
                    e,
                    format!(
                        "{x} {} {y}: CEL does not mix number types; convert one with double() or \
                         int()",
                        symbol(op)
                    ),
                ));
            }
            _ => {
                return Err(self.err(e, format!("{x} {} {y} is not defined", symbol(op))));
            }
        };
        let ok = match op {
            "_+_" => matches!(
                t,
                Ty::Int | Ty::UInt | Ty::Double | Ty::String | Ty::List(_) | Ty::Bytes | Ty::Dyn
            ),
            "_%_" => matches!(t, Ty::Int | Ty::UInt | Ty::Dyn),
            _ => matches!(t, Ty::Int | Ty::UInt | Ty::Double | Ty::Dyn),
        };
        if ok {
            Ok(t)
        } else {
            Err(self.err(e, format!("{x} {} {y} is not defined", symbol(op))))
        }
    }
}

fn symbol(op: &str) -> &str {
    op.trim_matches('_')
}

fn list(a: &[Ty]) -> String {
    a.iter().map(Ty::to_string).collect::<Vec<_>>().join(", ")
}
