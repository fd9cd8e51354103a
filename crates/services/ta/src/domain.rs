//! The analysis itself, without transport or storage: configured indicators ([`StudySet`]) kept
//! per symbol and timeframe ([`Studies`]), one-minute bars rolled up into the larger timeframes
//! with the exchange's session boundaries ([`Rollup`]), and the signals read off consecutive
//! values ([`Rule`]).

use std::collections::BTreeMap;
use std::fmt;

use indicators::{Group, Indicator, Input};
use market::bars::{DayShape, Resolution, vn_date, vn_midnight};
use time::{Duration, OffsetDateTime};

/// One OHLCV bar: prices in đồng (futures: index points × 10), as the bus carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Ticker.
    pub symbol: String,
    /// Start (UTC).
    pub start: OffsetDateTime,
    /// Length in seconds.
    pub seconds: u32,
    /// Open.
    pub open: i64,
    /// High.
    pub high: i64,
    /// Low.
    pub low: i64,
    /// Close.
    pub close: i64,
    /// Volume.
    pub volume: u64,
    /// Trades (0 when unknown).
    pub trades: u32,
}

impl Bar {
    /// The first instant after the bar.
    pub fn end(&self) -> OffsetDateTime {
        self.start + Duration::seconds(i64::from(self.seconds))
    }

    /// Folds a later bar of the same bucket in.
    fn merge(&mut self, b: &Bar) {
        self.high = self.high.max(b.high);
        self.low = self.low.min(b.low);
        self.close = b.close;
        self.volume = self.volume.saturating_add(b.volume);
        self.trades = self.trades.saturating_add(b.trades);
    }
}

/// A configuration problem, named precisely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// One configured indicator: an id, a function and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyConfig {
    /// The id its values carry (`sma50`); a function with several outputs gives
    /// `<id>.<output>` (`macd.macdsignal`).
    pub id: String,
    /// TA-Lib's function name.
    pub function: String,
    /// Parameters by name; missing ones take TA-Lib's defaults.
    pub params: Vec<(String, f64)>,
    /// The bar column a one-series function (`real`: SMA, MAX, STDDEV, ...) reads instead of
    /// the close: `open`, `high`, `low`, `close` or `volume` (an average volume, a channel of
    /// highs).
    pub input: Option<String>,
}

/// A signal rule over the values of one bar and the bar before it.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `fast` crossing above `slow` is `up` (+1), crossing below is `down` (-1).
    Cross {
        /// Value id of the fast line.
        fast: String,
        /// Value id of the slow line.
        slow: String,
        /// Signal name for an upward cross (e.g. `golden_cross`).
        up: String,
        /// Signal name for a downward cross (e.g. `death_cross`).
        down: String,
    },
    /// `value` leaving the zone above `upper` (-1, `<name>_left_overbought`) or below `lower`
    /// (+1, `<name>_left_oversold`).
    Level {
        /// Prefix of the signal names.
        name: String,
        /// Value id (`rsi14`).
        value: String,
        /// Overbought level.
        upper: f64,
        /// Oversold level.
        lower: f64,
    },
    /// The close breaking out of the channel of the bars before it, an upward break confirmed
    /// by volume: above the previous `upper` (a MAX of highs) on at least `factor` × the
    /// previous `volume` (an average volume) is +1, `<name>_up`; below the previous `lower` (a
    /// MIN of lows) is -1, `<name>_down` (an exit needs no confirmation).
    Breakout {
        /// Prefix of the signal names.
        name: String,
        /// Value id of the channel's top.
        upper: String,
        /// Value id of the channel's bottom.
        lower: String,
        /// Value id of the average volume.
        volume: String,
        /// How many times the average volume an upward break needs.
        factor: f64,
    },
    /// The close breaking out of a band: above `upper` (+1, `<name>_break_up`) or below `lower`
    /// (-1, `<name>_break_down`) after closing inside it.
    Band {
        /// Prefix of the signal names.
        name: String,
        /// Value id of the upper band.
        upper: String,
        /// Value id of the lower band.
        lower: String,
    },
}

/// A signal read off a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `crossover`, `level`, `band`, `pattern` or `alert`.
    pub kind: &'static str,
    /// e.g. `golden_cross`, `rsi14_left_overbought`, `CDLENGULFING`.
    pub name: String,
    /// +1 bullish, -1 bearish; 0 for an alert.
    pub direction: i32,
    /// The value behind it.
    pub value: f64,
    /// Human-readable explanation.
    pub detail: String,
}

/// The id of signal `name` read off the `timeframe` bar of `symbol` starting at `start`:
/// deterministic, so the same bar read again makes the same id (and the decision engine's
/// order on it the same client id).
pub fn signal_id(symbol: &str, timeframe: &str, start: OffsetDateTime, name: &str) -> String {
    format!("{symbol}-{timeframe}-{}-{name}", start.unix_timestamp())
}

/// The configured indicators and rules, checked once: every function exists, its parameters
/// are valid, ids are unique and every rule names existing values.
#[derive(Debug)]
pub struct StudySet {
    /// Each study with the slots of its outputs and the columns of its inputs.
    studies: Vec<(StudyConfig, std::ops::Range<usize>, Vec<Column>)>,
    prototypes: Vec<Box<dyn Indicator>>,
    /// Value id of each slot.
    ids: Vec<String>,
    /// The slots in the order of their ids (how values are listed).
    by_id: Vec<usize>,
    rules: Vec<Compiled>,
}

/// Reads one input of a function off a bar.
type Column = fn(&Bar) -> f64;

/// A [`Rule`] with its value ids resolved to slots.
#[derive(Debug, Clone)]
struct Compiled {
    rule: Rule,
    /// The slots the rule reads, in the order its variant names them.
    slots: [usize; 3],
}

impl StudySet {
    /// Checks `studies` and `rules` and builds one prototype of every indicator.
    pub fn new(studies: &[StudyConfig], rules: &[Rule]) -> Result<Self, ConfigError> {
        let mut checked = Vec::new();
        let mut prototypes = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for s in studies {
            if s.id.is_empty() || !s.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(ConfigError(format!(
                    "study id {:?}: letters, digits and _ only",
                    s.id
                )));
            }
            let params: Vec<(&str, f64)> = s.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let indicator = indicators::build(&s.function, &params)
                .map_err(|e| ConfigError(format!("study {}: {e}", s.id)))?;
            let spec = indicator.spec();
            let mut columns = Vec::with_capacity(spec.inputs.len());
            for input in spec.inputs {
                let Some(c) = column(*input) else {
                    return Err(ConfigError(format!(
                        "study {}: {} needs the input {:?}, which bars do not carry",
                        s.id,
                        spec.name,
                        input.name()
                    )));
                };
                columns.push(c);
            }
            if let Some(name) = &s.input {
                let chosen = named_column(name).ok_or_else(|| {
                    ConfigError(format!(
                        "study {}: input {name:?}: open, high, low, close or volume",
                        s.id
                    ))
                })?;
                if spec.inputs != [Input::Real] {
                    return Err(ConfigError(format!(
                        "study {}: {} reads {} series; only a one-series function takes an input",
                        s.id,
                        spec.name,
                        spec.inputs.len()
                    )));
                }
                columns = vec![chosen];
            }
            let outputs: Vec<String> = if spec.outputs.len() == 1 {
                vec![s.id.clone()]
            } else {
                spec.outputs
                    .iter()
                    .map(|o| format!("{}.{o}", s.id))
                    .collect()
            };
            let first = ids.len();
            for id in outputs {
                if ids.contains(&id) {
                    return Err(ConfigError(format!("value id {id:?} is used twice")));
                }
                ids.push(id);
            }
            checked.push((s.clone(), first..ids.len(), columns));
            prototypes.push(indicator);
        }
        let mut compiled = Vec::new();
        for rule in rules {
            let needed: Vec<&String> = match rule {
                Rule::Cross { fast, slow, .. } => vec![fast, slow],
                Rule::Level {
                    value,
                    upper,
                    lower,
                    ..
                } => {
                    if lower.partial_cmp(upper) != Some(std::cmp::Ordering::Less) {
                        return Err(ConfigError(format!(
                            "level rule on {value}: lower ({lower}) must be below upper ({upper})"
                        )));
                    }
                    vec![value]
                }
                Rule::Band { upper, lower, .. } => vec![upper, lower],
                Rule::Breakout {
                    upper,
                    lower,
                    volume,
                    factor,
                    ..
                } => {
                    if !(factor.is_finite() && *factor >= 0.0) {
                        return Err(ConfigError(format!(
                            "breakout rule on {upper}: factor {factor} must be 0 or more"
                        )));
                    }
                    vec![upper, lower, volume]
                }
            };
            let mut slots = [0; 3];
            for (slot, id) in slots.iter_mut().zip(needed) {
                *slot = ids.iter().position(|i| i == id).ok_or_else(|| {
                    ConfigError(format!("a rule names {id:?}, which no study produces"))
                })?;
            }
            compiled.push(Compiled {
                rule: rule.clone(),
                slots,
            });
        }
        let mut by_id: Vec<usize> = (0..ids.len()).collect();
        by_id.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
        Ok(Self {
            studies: checked,
            prototypes,
            ids,
            by_id,
            rules: compiled,
        })
    }

    /// Fresh state for one symbol and timeframe.
    pub fn start(&self) -> Studies {
        Studies {
            indicators: self.prototypes.iter().map(|p| p.clone_box()).collect(),
            values: vec![f64::NAN; self.ids.len()],
            before: vec![f64::NAN; self.ids.len()],
            close: None,
            last: None,
        }
    }

    /// The largest lookback of the configured indicators (bars needed before every value is
    /// defined).
    pub fn lookback(&self) -> usize {
        self.prototypes
            .iter()
            .map(|p| p.lookback())
            .max()
            .unwrap_or(0)
    }

    /// The configured studies.
    pub fn configs(&self) -> impl Iterator<Item = &StudyConfig> {
        self.studies.iter().map(|(c, ..)| c)
    }

    /// The slot of value `id`, if a study produces it.
    pub fn slot(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| i == id)
    }
}

/// The column `open`, `high`, `low`, `close` or `volume`.
fn named_column(name: &str) -> Option<Column> {
    column(match name {
        "open" => Input::Open,
        "high" => Input::High,
        "low" => Input::Low,
        "close" => Input::Close,
        "volume" => Input::Volume,
        _ => return None,
    })
}

/// The OHLCV column a function input reads (`real` is the close, `real0`/`real1` high/low,
/// `session` the trading day as `yyyymmdd`), or `None` when bars cannot feed it.
pub fn column(input: Input) -> Option<fn(&Bar) -> f64> {
    Some(match input {
        Input::Open => |b| b.open as f64,
        Input::High | Input::Real0 => |b| b.high as f64,
        Input::Low | Input::Real1 => |b| b.low as f64,
        Input::Close | Input::Real => |b| b.close as f64,
        Input::Volume => |b| b.volume as f64,
        Input::Session => |b| {
            let d = vn_date(b.start);
            f64::from(d.year() * 10_000 + i32::from(u8::from(d.month())) * 100 + i32::from(d.day()))
        },
        Input::Periods => return None,
    })
}

/// The indicators of one symbol at one timeframe, their latest values and what a correction of
/// the last bar needs to undo it.
#[derive(Debug)]
pub struct Studies {
    indicators: Vec<Box<dyn Indicator>>,
    /// Values after the last bar, by slot (NaN: not defined yet).
    values: Vec<f64>,
    /// Values before the last bar (scratch of [`Studies::step`]).
    before: Vec<f64>,
    /// The last bar's close.
    close: Option<f64>,
    /// The last bar applied, with the state from before it (`None` after
    /// [`Studies::advance`], which keeps no undo).
    last: Option<Applied>,
}

/// The last bar applied and, unless it came through [`Studies::advance`], everything as it
/// was before it.
#[derive(Debug)]
struct Applied {
    bar: Bar,
    undo: Option<Undo>,
}

/// The state before a bar.
#[derive(Debug)]
struct Undo {
    indicators: Vec<Box<dyn Indicator>>,
    values: Vec<f64>,
    close: Option<f64>,
}

/// What applying a bar did.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new bar: its values and signals.
    Applied {
        /// Defined values after it, by id.
        values: Vec<(String, f64)>,
        /// Signals it set off.
        signals: Vec<Signal>,
    },
    /// The last bar again with other values (a late trade): the bar was replaced.
    Corrected {
        /// Defined values after it, by id.
        values: Vec<(String, f64)>,
        /// Signals the corrected bar sets off.
        signals: Vec<Signal>,
    },
    /// The same bar as the last (a redelivery) or an older one: nothing changed.
    Ignored,
}

impl Studies {
    /// Applies a closed bar. A bar starting where the last one did replaces it (its state is
    /// restored first); an older one is ignored.
    pub fn apply(&mut self, set: &StudySet, bar: &Bar) -> Update {
        let mut corrected = false;
        if let Some(last) = &self.last {
            if bar.start < last.bar.start {
                return Update::Ignored;
            }
            if bar.start == last.bar.start {
                if *bar == last.bar {
                    return Update::Ignored;
                }
                if let Some(undo) = self.last.take().and_then(|l| l.undo) {
                    self.indicators = undo.indicators;
                    self.values = undo.values;
                    self.close = undo.close;
                }
                corrected = true;
            }
        }
        let undo = Undo {
            indicators: self.indicators.iter().map(|i| i.clone_box()).collect(),
            values: self.values.clone(),
            close: self.close,
        };
        let mut signals = Vec::new();
        self.step(set, bar, &mut signals);
        self.last = Some(Applied {
            bar: bar.clone(),
            undo: Some(undo),
        });
        let values = self.values(set).map(|(k, v)| (k.to_owned(), v)).collect();
        if corrected {
            Update::Corrected { values, signals }
        } else {
            Update::Applied { values, signals }
        }
    }

    /// Applies a bar that is final (a backtest's history): no correction can follow, so no
    /// undo state is kept and nothing is allocated unless a signal fires. Signals are appended
    /// to `signals`. A bar not after the last one is ignored (`false`).
    pub fn advance(&mut self, set: &StudySet, bar: &Bar, signals: &mut Vec<Signal>) -> bool {
        if let Some(last) = &self.last
            && bar.start <= last.bar.start
        {
            return false;
        }
        self.step(set, bar, signals);
        match &mut self.last {
            Some(last) => {
                last.bar.start = bar.start;
                last.undo = None;
            }
            None => {
                self.last = Some(Applied {
                    bar: bar.clone(),
                    undo: None,
                })
            }
        }
        true
    }

    /// The value in `slot` ([`StudySet::slot`]) after the last bar, if defined.
    pub fn value(&self, slot: usize) -> Option<f64> {
        self.values.get(slot).copied().filter(|v| v.is_finite())
    }

    /// The defined values after the last bar, in the order of their ids.
    pub fn values<'a>(&'a self, set: &'a StudySet) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        set.by_id.iter().filter_map(|&slot| {
            let v = self.values[slot];
            v.is_finite().then(|| (set.ids[slot].as_str(), v))
        })
    }

    /// Runs every indicator and rule over `bar`.
    fn step(&mut self, set: &StudySet, bar: &Bar, signals: &mut Vec<Signal>) {
        self.before.copy_from_slice(&self.values);
        let prev_close = self.close.replace(bar.close as f64);
        let mut input = [0.0; 8];
        let mut out = [0.0; 8];
        for (ind, (config, slots, columns)) in self.indicators.iter_mut().zip(&set.studies) {
            let spec = ind.spec();
            for (slot, c) in input.iter_mut().zip(columns) {
                *slot = c(bar);
            }
            ind.update(&input[..spec.inputs.len()], &mut out[..spec.outputs.len()]);
            for (slot, v) in slots.clone().zip(out.iter()) {
                self.values[slot] = if v.is_finite() { *v } else { f64::NAN };
            }
            if spec.group == Group::Pattern && out[0].is_finite() && out[0] != 0.0 {
                signals.push(Signal {
                    kind: "pattern",
                    name: spec.name.to_owned(),
                    direction: if out[0] > 0.0 { 1 } else { -1 },
                    value: out[0],
                    detail: format!("{} ({}) = {}", spec.name, config.id, out[0]),
                });
            }
        }
        for rule in &set.rules {
            signals.extend(evaluate(rule, &self.before, &self.values, prev_close, bar));
        }
    }

    /// Applies history without reading signals off it (a warm-up).
    pub fn warm(&mut self, set: &StudySet, bars: &[Bar]) {
        for b in bars {
            let _ = self.apply(set, b);
        }
    }

    /// The start of the last bar applied.
    pub fn last_start(&self) -> Option<OffsetDateTime> {
        self.last.as_ref().map(|l| l.bar.start)
    }
}

/// The signals `rule` reads off the values before and after `bar`.
fn evaluate(
    compiled: &Compiled,
    before: &[f64],
    after: &[f64],
    prev_close: Option<f64>,
    bar: &Bar,
) -> Option<Signal> {
    let [a, b, c] = compiled.slots;
    let defined = |v: f64| v.is_finite().then_some(v);
    let get = |values: &[f64], slot: usize| values.get(slot).copied().and_then(defined);
    match &compiled.rule {
        Rule::Cross {
            fast,
            slow,
            up,
            down,
        } => {
            let (f0, s0) = (get(before, a)?, get(before, b)?);
            let (f1, s1) = (get(after, a)?, get(after, b)?);
            let (name, direction) = if f0 <= s0 && f1 > s1 {
                (up, 1)
            } else if f0 >= s0 && f1 < s1 {
                (down, -1)
            } else {
                return None;
            };
            Some(Signal {
                kind: "crossover",
                name: name.clone(),
                direction,
                value: f1,
                detail: format!(
                    "{fast} {f1:.2} crossed {} {slow} {s1:.2}",
                    if direction > 0 { "above" } else { "below" }
                ),
            })
        }
        Rule::Level {
            name,
            value,
            upper,
            lower,
        } => {
            let (v0, v1) = (get(before, a)?, get(after, a)?);
            let (what, direction) = if v0 > *upper && v1 <= *upper {
                ("left_overbought", -1)
            } else if v0 < *lower && v1 >= *lower {
                ("left_oversold", 1)
            } else {
                return None;
            };
            Some(Signal {
                kind: "level",
                name: format!("{name}_{what}"),
                direction,
                value: v1,
                detail: format!("{value} went from {v0:.2} to {v1:.2} (levels {lower} / {upper})"),
            })
        }
        Rule::Breakout { name, factor, .. } => {
            let close = bar.close as f64;
            let (top, bottom) = (get(before, a)?, get(before, b)?);
            let (what, direction, detail) = if close > top {
                let average = get(before, c)?;
                let volume = bar.volume as f64;
                if volume < factor * average {
                    return None;
                }
                (
                    "up",
                    1,
                    format!(
                        "close {close} above the channel top {top:.2} on volume {volume}                          ({:.2}× the average {average:.0})",
                        if average > 0.0 {
                            volume / average
                        } else {
                            f64::INFINITY
                        }
                    ),
                )
            } else if close < bottom {
                (
                    "down",
                    -1,
                    format!("close {close} below the channel bottom {bottom:.2}"),
                )
            } else {
                return None;
            };
            Some(Signal {
                kind: "breakout",
                name: format!("{name}_{what}"),
                direction,
                value: close,
                detail,
            })
        }
        Rule::Band { name, .. } => {
            let (u0, l0) = (get(before, a)?, get(before, b)?);
            let (u1, l1) = (get(after, a)?, get(after, b)?);
            let close = bar.close as f64;
            let prev = prev_close?;
            let inside_before = prev <= u0 && prev >= l0;
            let (what, direction) = if inside_before && close > u1 {
                ("break_up", 1)
            } else if inside_before && close < l1 {
                ("break_down", -1)
            } else {
                return None;
            };
            Some(Signal {
                kind: "band",
                name: format!("{name}_{what}"),
                direction,
                value: close,
                detail: format!("close {close} outside the band {l1:.2} – {u1:.2}"),
            })
        }
    }
}

/// One-minute bars rolled up into a larger timeframe, one symbol at a time. A bucket follows
/// the clock grid from local midnight but never spans the lunch break or two days (as the
/// historical service resamples); it closes when its last minute arrives, when a bar of a later
/// bucket arrives, or at the end of its trading day ([`Rollup::close_day`]).
#[derive(Debug, Clone)]
pub struct Rollup {
    resolution: Resolution,
    shape: DayShape,
    open: Option<Bucket>,
    /// Start of the last bucket closed: minutes of it or earlier ones come too late.
    closed: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
struct Bucket {
    end: OffsetDateTime,
    /// The minutes in it, by start (a corrected minute replaces its bar).
    minutes: BTreeMap<OffsetDateTime, Bar>,
    start: OffsetDateTime,
}

impl Bucket {
    fn bar(&self, seconds: u32) -> Option<Bar> {
        let mut it = self.minutes.values();
        let mut bar = it.next()?.clone();
        bar.start = self.start;
        bar.seconds = seconds;
        for b in it {
            bar.merge(b);
        }
        Some(bar)
    }
}

impl Rollup {
    /// A roll-up into `resolution` (larger than one minute) with the day's `shape`.
    pub fn new(resolution: Resolution, shape: DayShape) -> Self {
        Self {
            resolution,
            shape,
            open: None,
            closed: None,
        }
    }

    /// The start of the bucket a minute starting at `t` falls in.
    pub fn bucket_start(&self, t: OffsetDateTime) -> OffsetDateTime {
        self.bucket(t).0
    }

    /// The bucket start and end of a minute starting at `t`.
    fn bucket(&self, t: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        if self.resolution == Resolution::D1 {
            let start = vn_midnight(vn_date(t));
            return (start, start + Duration::days(1));
        }
        let start = self.shape.bucket(t, self.resolution.seconds()).1;
        let mut end = start + Duration::seconds(i64::from(self.resolution.seconds()));
        let day = vn_midnight(vn_date(t));
        let break_start = day + Duration::seconds(i64::from(self.shape.break_start.seconds()));
        if start < break_start {
            end = end.min(break_start);
        }
        (start, end)
    }

    /// Adds a closed minute; returns the buckets it closed, oldest first.
    pub fn push(&mut self, minute: &Bar) -> Vec<Bar> {
        let mut closed = Vec::new();
        let (start, end) = self.bucket(minute.start);
        if self.closed.is_some_and(|c| start <= c) {
            // A minute of a bucket already closed: too late for this timeframe.
            return closed;
        }
        if self.open.as_ref().is_some_and(|open| start > open.start) {
            closed.extend(self.take());
        }
        let bucket = self.open.get_or_insert_with(|| Bucket {
            end,
            minutes: BTreeMap::new(),
            start,
        });
        bucket.minutes.insert(minute.start, minute.clone());
        if minute.end() >= bucket.end {
            closed.extend(self.take());
        }
        closed
    }

    /// Closes the open bucket if it belongs to `day_end`'s trading day or an earlier one
    /// (`day_end`: the end of the day's last session): nothing more can come for it.
    pub fn close_day(&mut self, day_end: OffsetDateTime) -> Option<Bar> {
        match &self.open {
            Some(b) if vn_date(b.start) <= vn_date(day_end) => self.take(),
            _ => None,
        }
    }

    fn take(&mut self) -> Option<Bar> {
        let bucket = self.open.take()?;
        self.closed = Some(bucket.start);
        bucket.bar(self.resolution.seconds())
    }

    /// The open bucket's start, if any.
    pub fn open_start(&self) -> Option<OffsetDateTime> {
        self.open.as_ref().map(|b| b.start)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.kind, self.name, self.detail)
    }
}

#[cfg(test)]
mod tests;
