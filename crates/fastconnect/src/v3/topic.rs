//! Stream topics: `<type>.<filter>[@<interval>]`, as SDK 3.3.2 `utils/topic.py` validates
//! them.
//!
//! - type: `trade quote room put oddlot market trade.index indexsummary` (channel DATA),
//!   `order portfolio` (channel TRADING); `market.flag` is the session-flag topic.
//! - filter: `*`, one code (`VNM`, `HOSE`, `VN30`) or a range `A-B`; codes are upper-cased
//!   (`UPCOMINDEX` becomes `HNXUPCOMINDEX`), account numbers kept verbatim. One filter per
//!   topic: the reference mentions comma lists, but SDK 3.3.2 says the server does not split
//!   on commas and rejects them, so this does too — subscribe one topic per code.
//! - interval: `tick`, `1m`, `5m` on `trade` and `trade.index` (the latter with one concrete
//!   index only); `*` is the basket/exchange fan-out (`trade.VN30@*`, `quote.HOSE@*`) on
//!   `trade quote room put oddlot` with one concrete code.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The two subscription channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Market data.
    Data,
    /// Account events (need a trading-scope token).
    Trading,
}

impl Channel {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Data => "DATA",
            Channel::Trading => "TRADING",
        }
    }
}

/// A topic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Trades (or bars with `@1m`/`@5m`).
    Trade,
    /// Best bids/asks.
    Quote,
    /// Foreign room.
    Room,
    /// Put-through deals.
    Put,
    /// Odd-lot board.
    Oddlot,
    /// Price band (ceiling/floor/reference).
    Market,
    /// Session flags of every board (`market.flag`).
    MarketFlag,
    /// Index values.
    TradeIndex,
    /// Index summary.
    IndexSummary,
    /// Order events of an account.
    Order,
    /// Derivative portfolio events of an account.
    Portfolio,
}

impl TopicKind {
    /// The wire prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Trade => "trade",
            TopicKind::Quote => "quote",
            TopicKind::Room => "room",
            TopicKind::Put => "put",
            TopicKind::Oddlot => "oddlot",
            TopicKind::Market => "market",
            TopicKind::MarketFlag => "market.flag",
            TopicKind::TradeIndex => "trade.index",
            TopicKind::IndexSummary => "indexsummary",
            TopicKind::Order => "order",
            TopicKind::Portfolio => "portfolio",
        }
    }

    /// The channel it is subscribed on.
    pub fn channel(self) -> Channel {
        match self {
            TopicKind::Order | TopicKind::Portfolio => Channel::Trading,
            TopicKind::Trade
            | TopicKind::Quote
            | TopicKind::Room
            | TopicKind::Put
            | TopicKind::Oddlot
            | TopicKind::Market
            | TopicKind::MarketFlag
            | TopicKind::TradeIndex
            | TopicKind::IndexSummary => Channel::Data,
        }
    }

    fn is_account(self) -> bool {
        self.channel() == Channel::Trading
    }
}

/// What a topic selects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// `*`.
    All,
    /// One code or account.
    Code(String),
    /// `A-B`.
    Range(String, String),
}

/// `@interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// `@tick`: every trade.
    Tick,
    /// `@1m` bars.
    M1,
    /// `@5m` bars.
    M5,
    /// `@*`: fan a basket index or an exchange out to its constituents.
    FanOut,
}

impl Interval {
    /// The wire value after `@`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Tick => "tick",
            Interval::M1 => "1m",
            Interval::M5 => "5m",
            Interval::FanOut => "*",
        }
    }
}

/// A validated topic. `Display` gives the wire text; [`FromStr`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic {
    kind: TopicKind,
    filter: Filter,
    interval: Option<Interval>,
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn invalid(text: impl fmt::Display) -> Error {
    Error::InvalidRequest(format!("invalid topic: {text}"))
}

impl Topic {
    /// Builds and validates a topic.
    pub fn new(kind: TopicKind, filter: Filter, interval: Option<Interval>) -> Result<Self> {
        let norm = |code: &str| -> Result<String> {
            if !is_code(code) {
                return Err(invalid(format!(
                    "filter item {code:?} is not letters/digits"
                )));
            }
            if kind.is_account() {
                return Ok(code.to_owned());
            }
            let upper = code.to_ascii_uppercase();
            Ok(if upper == "UPCOMINDEX" {
                "HNXUPCOMINDEX".to_owned()
            } else {
                upper
            })
        };
        let filter = match (kind, filter) {
            (TopicKind::MarketFlag, _) => Filter::All,
            (_, Filter::All) => Filter::All,
            (_, Filter::Code(c)) => Filter::Code(norm(&c)?),
            (_, Filter::Range(a, b)) => Filter::Range(norm(&a)?, norm(&b)?),
        };
        let concrete = matches!(filter, Filter::Code(_));
        match interval {
            None => {}
            Some(Interval::FanOut) => {
                if !matches!(
                    kind,
                    TopicKind::Trade
                        | TopicKind::Quote
                        | TopicKind::Room
                        | TopicKind::Put
                        | TopicKind::Oddlot
                ) {
                    return Err(invalid(format!("@* is not valid for {}", kind.as_str())));
                }
                if !concrete {
                    return Err(invalid("@* needs one concrete index or exchange code"));
                }
            }
            Some(Interval::Tick | Interval::M1 | Interval::M5) => match kind {
                TopicKind::Trade => {}
                TopicKind::TradeIndex if concrete => {}
                TopicKind::TradeIndex => {
                    return Err(invalid("trade.index intervals need one concrete index"));
                }
                TopicKind::Quote
                | TopicKind::Room
                | TopicKind::Put
                | TopicKind::Oddlot
                | TopicKind::Market
                | TopicKind::MarketFlag
                | TopicKind::IndexSummary
                | TopicKind::Order
                | TopicKind::Portfolio => {
                    return Err(invalid(format!(
                        "an interval is only valid on trade and trade.index, not {}",
                        kind.as_str()
                    )));
                }
            },
        }
        Ok(Self {
            kind,
            filter,
            interval,
        })
    }

    /// `<kind>.<code>`.
    pub fn of(kind: TopicKind, code: &str) -> Result<Self> {
        let filter = if code == "*" {
            Filter::All
        } else {
            Filter::Code(code.to_owned())
        };
        Self::new(kind, filter, None)
    }

    /// `trade.<code>`.
    pub fn trade(code: &str) -> Result<Self> {
        Self::of(TopicKind::Trade, code)
    }

    /// `trade.<symbol>@<interval>`.
    pub fn trade_at(code: &str, interval: Interval) -> Result<Self> {
        Self::new(
            TopicKind::Trade,
            Filter::Code(code.to_owned()),
            Some(interval),
        )
    }

    /// `quote.<code>`.
    pub fn quote(code: &str) -> Result<Self> {
        Self::of(TopicKind::Quote, code)
    }

    /// `market.flag`.
    pub fn market_flag() -> Self {
        Self {
            kind: TopicKind::MarketFlag,
            filter: Filter::All,
            interval: None,
        }
    }

    /// `order.<account>`.
    pub fn orders(account: &str) -> Result<Self> {
        Self::of(TopicKind::Order, account)
    }

    /// `portfolio.<account>`.
    pub fn portfolio(account: &str) -> Result<Self> {
        Self::of(TopicKind::Portfolio, account)
    }

    /// The type.
    pub fn kind(&self) -> TopicKind {
        self.kind
    }

    /// The filter.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The interval.
    pub fn interval(&self) -> Option<Interval> {
        self.interval
    }

    /// The subscription channel.
    pub fn channel(&self) -> Channel {
        self.kind.channel()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == TopicKind::MarketFlag {
            return f.write_str("market.flag");
        }
        f.write_str(self.kind.as_str())?;
        match &self.filter {
            Filter::All => f.write_str(".*")?,
            Filter::Code(c) => write!(f, ".{c}")?,
            Filter::Range(a, b) => write!(f, ".{a}-{b}")?,
        }
        if let Some(i) = self.interval {
            write!(f, "@{}", i.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Topic {
    type Err = Error;

    /// Reads a topic as the client writes it or the server echoes it (`market.FLAG`).
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("market.flag") {
            return Ok(Self::market_flag());
        }
        let (body, interval) = match text.split_once('@') {
            Some((b, i)) => {
                let interval = match i.to_ascii_lowercase().as_str() {
                    "tick" => Interval::Tick,
                    "1m" => Interval::M1,
                    "5m" => Interval::M5,
                    "*" => Interval::FanOut,
                    _ => return Err(invalid(format!("unknown interval in {text:?}"))),
                };
                (b, Some(interval))
            }
            None => (text, None),
        };
        let (kind, filter) = if let Some(rest) = body.strip_prefix("trade.index.") {
            (TopicKind::TradeIndex, rest)
        } else {
            let (kind, rest) = body
                .split_once('.')
                .ok_or_else(|| invalid(format!("{text:?} has no '.'")))?;
            let kind = match kind {
                "trade" => TopicKind::Trade,
                "quote" => TopicKind::Quote,
                "room" => TopicKind::Room,
                "put" => TopicKind::Put,
                "oddlot" => TopicKind::Oddlot,
                "market" => TopicKind::Market,
                "indexsummary" => TopicKind::IndexSummary,
                "order" => TopicKind::Order,
                "portfolio" => TopicKind::Portfolio,
                other => return Err(invalid(format!("unknown topic type {other:?}"))),
            };
            (kind, rest)
        };
        let filter = if filter == "*" {
            Filter::All
        } else if let Some((a, b)) = filter.split_once('-') {
            Filter::Range(a.to_owned(), b.to_owned())
        } else {
            Filter::Code(filter.to_owned())
        };
        Self::new(kind, filter, interval)
    }
}

impl serde::Serialize for Topic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_text() {
        for text in [
            "trade.SSI",
            "trade.*",
            "trade.A-C",
            "trade.VNM@tick",
            "trade.VNM@1m",
            "trade.FPT@5m",
            "trade.VN30@*",
            "quote.HOSE@*",
            "quote.SSI",
            "room.SSI",
            "put.*",
            "oddlot.SSI",
            "market.SSI",
            "market.HOSE",
            "market.flag",
            "trade.index.VN30",
            "trade.index.VN30@1m",
            "trade.index.*",
            "indexsummary.VNINDEX",
            "order.1234561",
            "portfolio.1234568",
        ] {
            let topic: Topic = text.parse().unwrap();
            assert_eq!(topic.to_string(), text);
            assert_eq!(topic.to_string().parse::<Topic>().unwrap(), topic);
        }
    }

    #[test]
    fn codes_are_normalised_and_accounts_kept() {
        assert_eq!(Topic::trade("vnm").unwrap().to_string(), "trade.VNM");
        assert_eq!(
            Topic::of(TopicKind::TradeIndex, "upcomindex")
                .unwrap()
                .to_string(),
            "trade.index.HNXUPCOMINDEX"
        );
        assert_eq!(Topic::orders("abc123").unwrap().to_string(), "order.abc123");
        assert_eq!(
            "market.FLAG".parse::<Topic>().unwrap(),
            Topic::market_flag()
        );
        assert_eq!(Topic::orders("1").unwrap().channel(), Channel::Trading);
        assert_eq!(Topic::quote("X").unwrap().channel(), Channel::Data);
    }

    #[test]
    fn invalid_topics_are_refused() {
        for text in [
            "trade.VNM,FPT",
            "trade.",
            "trade",
            "asset.*",
            "margin.1",
            "quote.SSI@1m",
            "trade.SSI@15m",
            "trade.index.*@1m",
            "market.HOSE@*",
            "trade.*@*",
            "trade.V N",
        ] {
            assert!(text.parse::<Topic>().is_err(), "{text}");
        }
    }
}
