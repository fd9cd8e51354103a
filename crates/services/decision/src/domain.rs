//! Strategies and what they decide. No I/O here: [`crate::service`] feeds signals, positions
//! and prices in and sends the intents out.

use std::collections::HashMap;

use market::{Side, Symbol};
use serde::{Deserialize, Serialize};

/// A technical signal as strategies read it (`ta.signal.v1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `<symbol>-<timeframe>-<bar start>-<name>`: the same for a redelivered bar.
    pub id: String,
    /// Instrument.
    pub symbol: Symbol,
    /// `1m`, `5m`, ..., `1D`.
    pub timeframe: String,
    /// `golden_cross`, `rsi14_left_oversold`, ...
    pub name: String,
    /// +1 bullish, -1 bearish.
    pub direction: i32,
    /// The value behind it.
    pub value: f64,
    /// In words.
    pub detail: String,
}

/// What a strategy wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// Buy or sell.
    pub side: Side,
    /// Shares.
    pub quantity: u64,
    /// Why, with the inputs.
    pub reason: String,
}

/// What a strategy knows when it decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// Shares the strategy holds in the symbol (from its fills).
    pub position: u64,
    /// Shares the strategy has on open buy orders in the symbol.
    pub pending_buy: u64,
    /// The last trade price, VND.
    pub last: Option<i64>,
    /// The latest value of the indicator the strategy reads ([`Strategy::input`]: an ATR) for
    /// the signal's symbol and timeframe.
    pub input: Option<f64>,
}

/// A strategy: turns a signal into an intent, or nothing.
pub trait Strategy: Send + Sync {
    /// Its id (orders carry it: attribution).
    fn id(&self) -> &str;
    /// What it decides on `signal` given `ctx`; `None` to let it pass.
    fn decide(&self, signal: &Signal, ctx: &Context) -> Option<Intent>;
    /// The TA value id it needs in [`Context::input`] (`atr14`), if any.
    fn input(&self) -> Option<&str> {
        None
    }
    /// Whether it buys on `signal` (its symbol, timeframe and name): a buy it could not size
    /// for want of its input is worth deciding again once the input is there.
    fn buys_on(&self, signal: &Signal) -> bool {
        let _ = signal;
        false
    }
}

/// How a buy is sized.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sizing {
    /// A fixed number of shares (whole lots).
    Fixed {
        /// Shares.
        quantity: u64,
    },
    /// A share of the strategy's capital at the last price, rounded down to whole lots.
    PercentOfCapital {
        /// The capital the strategy trades with, VND.
        capital: i64,
        /// Percent of it per position.
        percent: f64,
    },
    /// Volatility-targeted: each position moves `risk_percent` of the capital on a typical
    /// bar, measured by an average true range (`atr`, a TA value id of the signal's
    /// timeframe): shares = capital × risk_percent / 100 / ATR, at most `max_percent` of the
    /// capital at the last price, in whole lots. Quiet symbols get more shares, wild ones fewer.
    VolatilityTarget {
        /// The capital the strategy trades with, VND.
        capital: i64,
        /// Percent of the capital one ATR move of a position is.
        risk_percent: f64,
        /// The TA value id of the ATR (`atr14`).
        atr: String,
        /// Most of the capital one position takes, percent.
        max_percent: f64,
    },
}

impl Sizing {
    /// Shares to buy at `last` in lots of `lot`, with `input` the value [`Sizing::input`]
    /// names; 0 when it cannot be sized.
    pub fn quantity(&self, last: Option<i64>, lot: u64, input: Option<f64>) -> u64 {
        let lot = lot.max(1);
        let shares = |budget: f64, price: f64| (budget / price).floor().max(0.0) as u64;
        let q = match (self, last) {
            (Sizing::Fixed { quantity }, _) => *quantity,
            (Sizing::PercentOfCapital { capital, percent }, Some(p)) if p > 0 => {
                shares((*capital as f64) * percent / 100.0, p as f64)
            }
            (
                Sizing::VolatilityTarget {
                    capital,
                    risk_percent,
                    max_percent,
                    ..
                },
                Some(p),
            ) if p > 0 => match input {
                Some(atr) if atr > 0.0 && atr.is_finite() => {
                    let capital = *capital as f64;
                    shares(capital * risk_percent / 100.0, atr)
                        .min(shares(capital * max_percent / 100.0, p as f64))
                }
                _ => 0,
            },
            _ => 0,
        };
        q / lot * lot
    }

    /// The TA value id the sizing reads, if any.
    pub fn input(&self) -> Option<&str> {
        match self {
            Sizing::VolatilityTarget { atr, .. } => Some(atr),
            Sizing::Fixed { .. } | Sizing::PercentOfCapital { .. } => None,
        }
    }

    /// Checks the numbers.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Sizing::Fixed { quantity } if *quantity == 0 => {
                Err("sizing.quantity must be positive".to_owned())
            }
            Sizing::PercentOfCapital { capital, percent }
                if *capital <= 0 || !(*percent > 0.0 && *percent <= 100.0) =>
            {
                Err("sizing: capital must be positive and percent in (0, 100]".to_owned())
            }
            Sizing::VolatilityTarget {
                capital,
                risk_percent,
                atr,
                max_percent,
            } if *capital <= 0
                || !(*risk_percent > 0.0 && *risk_percent <= 100.0)
                || !(*max_percent > 0.0 && *max_percent <= 100.0)
                || atr.is_empty() =>
            {
                Err(
                    "sizing: capital must be positive, risk_percent and max_percent in (0, 100] \
                     and atr a value id"
                        .to_owned(),
                )
            }
            Sizing::Fixed { .. }
            | Sizing::PercentOfCapital { .. }
            | Sizing::VolatilityTarget { .. } => Ok(()),
        }
    }
}

/// Buys on some signals, sells everything it holds on others: moving-average crossover
/// (`golden_cross` / `death_cross`), RSI mean reversion (`rsi14_left_oversold` /
/// `rsi14_left_overbought`), band breakouts, MACD crosses — whatever the TA service's rules
/// name. One position per symbol: no buy while it holds or has a buy open.
#[derive(Debug, Clone)]
pub struct SignalFollower {
    /// Id.
    pub id: String,
    /// Signal names that buy.
    pub buy_on: Vec<String>,
    /// Signal names that sell the position.
    pub sell_on: Vec<String>,
    /// Timeframes it listens to (empty: all).
    pub timeframes: Vec<String>,
    /// Symbols it trades (empty: all).
    pub symbols: Vec<Symbol>,
    /// How a buy is sized.
    pub sizing: Sizing,
    /// Round lot.
    pub lot: u64,
}

impl Strategy for SignalFollower {
    fn id(&self) -> &str {
        &self.id
    }

    fn input(&self) -> Option<&str> {
        self.sizing.input()
    }

    fn buys_on(&self, s: &Signal) -> bool {
        self.listens(s) && self.buy_on.contains(&s.name)
    }

    fn decide(&self, s: &Signal, ctx: &Context) -> Option<Intent> {
        if !self.listens(s) {
            return None;
        }
        if self.buy_on.contains(&s.name) {
            if ctx.position > 0 || ctx.pending_buy > 0 {
                return None;
            }
            let quantity = self.sizing.quantity(ctx.last, self.lot, ctx.input);
            if quantity == 0 {
                return None;
            }
            return Some(Intent {
                side: Side::Buy,
                quantity,
                reason: format!(
                    "{} on {} {} ({}; value {:.4}); sized {:?} at last {}{}",
                    s.name,
                    s.symbol,
                    s.timeframe,
                    s.detail,
                    s.value,
                    self.sizing,
                    ctx.last
                        .map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
                    ctx.input.map_or_else(String::new, |v| format!(
                        ", {} {v:.2}",
                        self.sizing.input().unwrap_or("input")
                    ))
                ),
            });
        }
        if self.sell_on.contains(&s.name) && ctx.position > 0 {
            return Some(Intent {
                side: Side::Sell,
                quantity: ctx.position,
                reason: format!(
                    "{} on {} {} ({}): selling the {} held",
                    s.name, s.symbol, s.timeframe, s.detail, ctx.position
                ),
            });
        }
        None
    }
}

impl SignalFollower {
    /// Whether `s` is of a timeframe and symbol it trades.
    fn listens(&self, s: &Signal) -> bool {
        (self.timeframes.is_empty() || self.timeframes.contains(&s.timeframe))
            && (self.symbols.is_empty() || self.symbols.contains(&s.symbol))
    }
}

/// Shares a strategy holds and has on open buys, per symbol.
#[derive(Debug, Default)]
pub struct Positions {
    held: HashMap<(String, Symbol), u64>,
    pending_buys: HashMap<(String, Symbol), u64>,
}

impl Positions {
    /// A fill of one of the strategy's orders.
    pub fn filled(&mut self, strategy: &str, symbol: Symbol, side: Side, quantity: u64) {
        let held = self.held.entry((strategy.to_owned(), symbol)).or_default();
        match side {
            Side::Buy => *held += quantity,
            Side::Sell => *held = held.saturating_sub(quantity),
        }
    }

    /// A buy was sent (`+`) or ended with `left` unfilled (`-left`).
    pub fn pending(&mut self, strategy: &str, symbol: Symbol, change: i64) {
        let p = self
            .pending_buys
            .entry((strategy.to_owned(), symbol))
            .or_default();
        *p = p.saturating_add_signed(change);
    }

    /// What `strategy` holds and has on open buys in `symbol`.
    pub fn of(&self, strategy: &str, symbol: Symbol) -> (u64, u64) {
        let key = (strategy.to_owned(), symbol);
        (
            self.held.get(&key).copied().unwrap_or(0),
            self.pending_buys.get(&key).copied().unwrap_or(0),
        )
    }

    /// Symbols `strategy` has a buy open in.
    pub fn open_buys(&self, strategy: &str) -> u64 {
        self.pending_buys
            .iter()
            .filter(|((s, _), q)| s == strategy && **q > 0)
            .count() as u64
    }

    /// Symbols `strategy` holds.
    pub fn open_positions(&self, strategy: &str) -> u64 {
        self.held
            .iter()
            .filter(|((s, _), q)| s == strategy && **q > 0)
            .count() as u64
    }
}

/// The OMS client id of a strategy's order on a signal: the same for a redelivered signal, so
/// the OMS places it once. At most 64 characters (a long one keeps its tail).
pub fn client_id(strategy: &str, signal_id: &str) -> String {
    let id = format!("{strategy}:{signal_id}");
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= 64 {
        clean
    } else {
        clean[clean.len() - 64..].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(name: &str) -> Signal {
        Signal {
            id: format!("SSI-1D-1749513600-{name}"),
            symbol: Symbol::parse("SSI").unwrap(),
            timeframe: "1D".into(),
            name: name.into(),
            direction: 1,
            value: 1.0,
            detail: "sma50 crossed above sma200".into(),
        }
    }

    fn ma() -> SignalFollower {
        SignalFollower {
            id: "ma-cross".into(),
            buy_on: vec!["golden_cross".into()],
            sell_on: vec!["death_cross".into()],
            timeframes: vec!["1D".into()],
            symbols: vec![],
            sizing: Sizing::PercentOfCapital {
                capital: 1_000_000_000,
                percent: 5.0,
            },
            lot: 100,
        }
    }

    #[test]
    fn a_follower_buys_once_sized_in_lots_and_sells_what_it_holds() {
        let s = ma();
        let flat = Context {
            position: 0,
            pending_buy: 0,
            last: Some(25_300),
            input: None,
        };
        let buy = s.decide(&signal("golden_cross"), &flat).unwrap();
        // 50,000,000 / 25,300 = 1,976.28 shares: 1,900 in lots of 100.
        assert_eq!((buy.side, buy.quantity), (Side::Buy, 1_900));
        assert!(buy.reason.contains("golden_cross"), "{}", buy.reason);
        let holding = Context {
            position: 1_900,
            ..flat
        };
        assert_eq!(
            s.decide(&signal("golden_cross"), &holding),
            None,
            "one position"
        );
        let pending = Context {
            pending_buy: 1_900,
            ..flat
        };
        assert_eq!(s.decide(&signal("golden_cross"), &pending), None);
        let sell = s.decide(&signal("death_cross"), &holding).unwrap();
        assert_eq!((sell.side, sell.quantity), (Side::Sell, 1_900));
        assert_eq!(
            s.decide(&signal("death_cross"), &flat),
            None,
            "nothing to sell"
        );
        let mut hourly = signal("golden_cross");
        hourly.timeframe = "1h".into();
        assert_eq!(s.decide(&hourly, &flat), None, "other timeframes pass");
        let unknown = Context { last: None, ..flat };
        assert_eq!(
            s.decide(&signal("golden_cross"), &unknown),
            None,
            "no price, no size"
        );
    }

    #[test]
    fn client_ids_are_stable_clean_and_short() {
        let id = client_id("ma-cross", "SSI-1D-1749513600-golden_cross");
        assert_eq!(id, "ma-cross:SSI-1D-1749513600-golden_cross");
        let long = client_id(
            &"x".repeat(40),
            "VN30F2506-15m-1749513600-CDL3WHITESOLDIERS",
        );
        assert_eq!(long.len(), 64);
        assert!(client_id("a b", "c").contains("a_b"));
        let mut p = Positions::default();
        let ssi = Symbol::parse("SSI").unwrap();
        p.pending("ma", ssi, 100);
        p.filled("ma", ssi, Side::Buy, 100);
        p.pending("ma", ssi, -100);
        assert_eq!(p.of("ma", ssi), (100, 0));
        assert_eq!(p.open_positions("ma"), 1);
        assert!(Sizing::Fixed { quantity: 0 }.check().is_err());
    }

    #[test]
    fn volatility_targeting_sizes_by_the_atr_within_a_cap() {
        let sizing = Sizing::VolatilityTarget {
            capital: 1_000_000_000,
            risk_percent: 0.5,
            atr: "atr14".into(),
            max_percent: 10.0,
        };
        assert_eq!(sizing.input(), Some("atr14"));
        // 5,000,000 VND of risk / an ATR of 800 = 6,250 shares: 6,200 in lots.
        assert_eq!(sizing.quantity(Some(10_000), 100, Some(800.0)), 6_200);
        // A quiet symbol (ATR 100) would take 50,000 shares = 500 M: capped at 10% of the
        // capital, 100 M = 10,000 shares; a dear one at 25,000 is capped at 4,000.
        assert_eq!(sizing.quantity(Some(10_000), 100, Some(100.0)), 10_000);
        assert_eq!(sizing.quantity(Some(25_000), 100, Some(800.0)), 4_000);
        assert_eq!(
            sizing.quantity(Some(25_000), 100, None),
            0,
            "no ATR, no size"
        );
        assert_eq!(
            sizing.quantity(None, 100, Some(800.0)),
            0,
            "no price, no size"
        );
        assert!(sizing.check().is_ok());
        let bad = Sizing::VolatilityTarget {
            capital: 1,
            risk_percent: 0.0,
            atr: "atr14".into(),
            max_percent: 10.0,
        };
        assert!(bad.check().is_err());
        let s = SignalFollower { sizing, ..ma() };
        assert_eq!(s.input(), Some("atr14"));
        let ctx = Context {
            position: 0,
            pending_buy: 0,
            last: Some(10_000),
            input: Some(800.0),
        };
        let buy = s.decide(&signal("golden_cross"), &ctx).unwrap();
        assert_eq!(buy.quantity, 6_200);
        assert!(s.buys_on(&signal("golden_cross")) && !s.buys_on(&signal("death_cross")));
        assert!(buy.reason.contains("atr14 800.00"), "{}", buy.reason);
    }
}
