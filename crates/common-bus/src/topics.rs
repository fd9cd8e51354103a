//! The registry of topics: name, what the key is, payload type, partitions.
//!
//! Names follow `<domain>.<event>.v<N>`. A topic carries exactly one payload type; publishing
//! another type to it is refused. Issues that add events add their topics here.

use std::borrow::Cow;

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: Cow<'static, str>,
    /// What the partition key is.
    pub key: Cow<'static, str>,
    /// Full protobuf name of the payload.
    pub payload: Cow<'static, str>,
    /// Number of partitions.
    pub partitions: i32,
    /// What the topic carries.
    pub description: Cow<'static, str>,
}

impl TopicSpec {
    /// A topic made at run time (tests, tools).
    pub fn new(name: impl Into<String>, payload: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: Cow::Owned(name.into()),
            key: Cow::Borrowed("any"),
            payload: Cow::Owned(payload.into()),
            partitions,
            description: Cow::Borrowed(""),
        }
    }

    /// The name of a registered topic (a `'static` one); empty for a topic made at run time.
    pub fn static_name(&self) -> &'static str {
        match self.name {
            Cow::Borrowed(name) => name,
            Cow::Owned(_) => "",
        }
    }

    /// Checks the name (Kafka's legal characters) and partition count.
    pub fn validate(&self) -> Result<(), super::Error> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 249
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(super::Error::Invalid {
                what: "topic name",
                value: self.name.to_string(),
            });
        }
        if !(1..=1024).contains(&self.partitions) {
            return Err(super::Error::Invalid {
                what: "partition count",
                value: self.partitions.to_string(),
            });
        }
        Ok(())
    }
}

/// `system.lifecycle.v1`: a service instance became ready or began stopping.
pub const SYSTEM_LIFECYCLE: TopicSpec = TopicSpec {
    name: Cow::Borrowed("system.lifecycle.v1"),
    key: Cow::Borrowed("service name"),
    payload: Cow::Borrowed("qts.events.v1.ServiceLifecycle"),
    partitions: 1,
    description: Cow::Borrowed("A service instance became ready or began stopping"),
};

/// `system.deadletter.v1`: messages a consumer gave up on (`common::consumer`), with the reason,
/// the original position, the error chain and the original envelope. One topic for the fleet,
/// keyed by consumer group so one consumer's dead letters stay in order.
pub const SYSTEM_DEADLETTER: TopicSpec = TopicSpec {
    name: Cow::Borrowed("system.deadletter.v1"),
    key: Cow::Borrowed("consumer group"),
    payload: Cow::Borrowed("qts.events.v1.DeadLetter"),
    partitions: 1,
    description: Cow::Borrowed("Messages a consumer gave up on, kept for inspection and replay"),
};

/// A market-data topic: keyed by symbol (or index code), 8 partitions so consumers of a busy
/// market can share the load while each symbol stays in order.
const fn market(
    name: &'static str,
    key: &'static str,
    payload: &'static str,
    description: &'static str,
) -> TopicSpec {
    TopicSpec {
        name: Cow::Borrowed(name),
        key: Cow::Borrowed(key),
        payload: Cow::Borrowed(payload),
        partitions: MARKET_PARTITIONS,
        description: Cow::Borrowed(description),
    }
}

/// Partitions of every market-data topic.
pub const MARKET_PARTITIONS: i32 = 8;

/// `market.raw.v1`: the broker's feed as received, before validation (what `qts record` keeps).
pub const MARKET_RAW: TopicSpec = market(
    "market.raw.v1",
    "symbol or index code",
    "qts.market.v1.FeedEvent",
    "The broker's market-data feed as received, before validation",
);
/// `market.trade.v1`: validated, enriched trades.
pub const MARKET_TRADE: TopicSpec = market(
    "market.trade.v1",
    "symbol",
    "qts.market.v1.Trade",
    "Validated trades with exchange and receive time, enriched from master data",
);
/// `market.quote.v1`: validated best bids and asks (main and odd-lot boards).
pub const MARKET_QUOTE: TopicSpec = market(
    "market.quote.v1",
    "symbol",
    "qts.market.v1.Quote",
    "Validated best bids and asks of the main and odd-lot boards",
);
/// `market.index.v1`: index values.
pub const MARKET_INDEX: TopicSpec = market(
    "market.index.v1",
    "index code",
    "qts.market.v1.IndexTick",
    "Index values",
);
/// `market.foreign_room.v1`: foreign ownership room.
pub const MARKET_FOREIGN_ROOM: TopicSpec = market(
    "market.foreign_room.v1",
    "symbol",
    "qts.market.v1.ForeignRoom",
    "Foreign ownership room",
);
/// `market.stream_bar.v1`: the broker's own streamed one-minute bars.
pub const MARKET_STREAM_BAR: TopicSpec = market(
    "market.stream_bar.v1",
    "symbol",
    "qts.market.v1.Bar",
    "The broker's streamed one-minute bars, validated",
);
/// `market.bar.v1`: closed one-minute bars historical builds from the trade topic.
pub const MARKET_BAR: TopicSpec = market(
    "market.bar.v1",
    "symbol",
    "qts.market.v1.Bar",
    "Closed one-minute bars built from trades by historical",
);
/// `market.status.v1`: security and board status.
pub const MARKET_STATUS: TopicSpec = market(
    "market.status.v1",
    "symbol (empty for board-wide flags)",
    "qts.market.v1.SecurityStatus",
    "Trading status of securities and boards",
);
/// `market.feed.v1`: the feed connection's state: connected, gap, reconnected, disconnected.
pub const MARKET_FEED: TopicSpec = TopicSpec {
    name: Cow::Borrowed("market.feed.v1"),
    key: Cow::Borrowed("source"),
    payload: Cow::Borrowed("qts.market.v1.FeedState"),
    partitions: 1,
    description: Cow::Borrowed("Feed connection state changes and gaps"),
};
/// `market.rejected.v1`: feed messages ingestion refused, with the reason (the feed's dead
/// letters).
pub const MARKET_REJECTED: TopicSpec = market(
    "market.rejected.v1",
    "symbol or index code",
    "qts.market.v1.FeedReject",
    "Feed messages that failed validation, with the reason",
);
/// `masterdata.security.v1`: every change of a security; the latest per key is its state
/// (compact it on Kafka).
pub const MASTERDATA_SECURITY: TopicSpec = market(
    "masterdata.security.v1",
    "symbol",
    "qts.market.v1.Security",
    "Securities as master data serves them, on every change",
);

/// `ta.indicator.v1`: the configured indicators of a symbol at one timeframe after each
/// closed bar.
pub const TA_INDICATOR: TopicSpec = market(
    "ta.indicator.v1",
    "symbol",
    "qts.ta.v1.IndicatorSnapshot",
    "Indicator values of a symbol and timeframe after each closed bar",
);
/// `ta.signal.v1`: crossovers, levels left, band breaks, candlestick patterns and the alert
/// rules (rule sets of target `alert`) that became true.
pub const TA_SIGNAL: TopicSpec = market(
    "ta.signal.v1",
    "symbol",
    "qts.ta.v1.Signal",
    "Technical signals: crossovers, levels, band breaks, candlestick patterns, rule-set alerts",
);

/// `prediction.signal.v1`: the promoted model's prediction for each symbol of the universe and
/// trading day (score, cross-sectional percentile, long/exit/hold), made from the last complete
/// daily close; the decision engine's prediction strategies trade them.
pub const PREDICTION_SIGNAL: TopicSpec = market(
    "prediction.signal.v1",
    "symbol",
    "qts.prediction.v1.Signal",
    "Model predictions per symbol and trading day: score, percentile, long/exit/hold",
);

/// `news.item.v1`: every news article or post the emotion service collected (feeds, files,
/// integrations), once, with its language and the tickers it mentions; keyed by its first
/// ticker, or `market`.
pub const NEWS_ITEM: TopicSpec = market(
    "news.item.v1",
    "first ticker mentioned, or \"market\"",
    "qts.emotion.v1.NewsItem",
    "News and posts collected, each once, with language and the tickers they mention",
);
/// `sentiment.item.v1`: the sentiment score of each collected item that is not a near
/// duplicate.
pub const SENTIMENT_ITEM: TopicSpec = market(
    "sentiment.item.v1",
    "first ticker mentioned, or \"market\"",
    "qts.emotion.v1.ItemSentiment",
    "Sentiment (compound, label, intensity) of each collected item",
);
/// `sentiment.series.v1`: the time-decayed sentiment of each ticker an item mentions and of the
/// market (`MARKET`), after every scored item.
pub const SENTIMENT_SERIES: TopicSpec = market(
    "sentiment.series.v1",
    "ticker, or \"MARKET\"",
    "qts.emotion.v1.SentimentPoint",
    "Time-decayed sentiment per ticker and of the whole market, after every item",
);

/// Partitions of the trading topics (keyed by account: one account's events stay in order).
pub const TRADING_PARTITIONS: i32 = 8;

/// `oms.order.v1`: every change of an order (created, sent, accepted, amended, filled,
/// cancelled, rejected, expired) with the order after it, keyed by account.
pub const OMS_ORDER: TopicSpec = TopicSpec {
    name: Cow::Borrowed("oms.order.v1"),
    key: Cow::Borrowed("account"),
    payload: Cow::Borrowed("qts.oms.v1.OrderEvent"),
    partitions: TRADING_PARTITIONS,
    description: Cow::Borrowed("Every change of an order, with the order after it"),
};
/// `oms.fill.v1`: fills of the OMS's orders, each once, keyed by account.
pub const OMS_FILL: TopicSpec = TopicSpec {
    name: Cow::Borrowed("oms.fill.v1"),
    key: Cow::Borrowed("account"),
    payload: Cow::Borrowed("qts.oms.v1.Fill"),
    partitions: TRADING_PARTITIONS,
    description: Cow::Borrowed("Fills of the OMS's orders, each once"),
};

/// `oms.account.v1`: the broker's cash, buying power and positions of each sub-account the OMS
/// trades, after its fills and order changes and at an interval; keyed by account, only the
/// latest matters (compacted).
pub const OMS_ACCOUNT: TopicSpec = TopicSpec {
    name: Cow::Borrowed("oms.account.v1"),
    key: Cow::Borrowed("account"),
    payload: Cow::Borrowed("qts.oms.v1.AccountSnapshot"),
    partitions: TRADING_PARTITIONS,
    description: Cow::Borrowed("The broker's cash, buying power and positions of each account"),
};

/// `risk.event.v1`: orders the risk checks rejected, kill switches and limits changed, and the
/// monitor's alerts (drawdown, margin, daily loss, halted holdings, breakers).
pub const RISK_EVENT: TopicSpec = TopicSpec {
    name: Cow::Borrowed("risk.event.v1"),
    key: Cow::Borrowed("account, strategy or \"global\""),
    payload: Cow::Borrowed("qts.risk.v1.RiskEvent"),
    partitions: TRADING_PARTITIONS,
    description: Cow::Borrowed(
        "Orders the risk checks rejected, kill switch and limit changes, the monitor's alerts",
    ),
};
/// `notification.request.v1`: something to tell a person (a password reset link, a locked
/// account), for the notification service to deliver; keyed by the user's id.
pub const NOTIFICATION_REQUEST: TopicSpec = TopicSpec {
    name: Cow::Borrowed("notification.request.v1"),
    key: Cow::Borrowed("user id"),
    payload: Cow::Borrowed("qts.notification.v1.NotificationRequest"),
    partitions: 4,
    description: Cow::Borrowed("Messages to people, for the notification service to deliver"),
};

/// `config.changed.v1`: every new version of a service's configuration (values and flags) in an
/// environment, keyed `<service>/<environment>`; the latest event of a key is the current
/// document, so the topic is compacted on Kafka (`cleanup.policy=compact`). Services follow it
/// through `common::remote_config`.
pub const CONFIG_CHANGED: TopicSpec = TopicSpec {
    name: Cow::Borrowed("config.changed.v1"),
    key: Cow::Borrowed("<service>/<environment>"),
    payload: Cow::Borrowed("qts.config.v1.ConfigChanged"),
    partitions: 1,
    description: Cow::Borrowed(
        "Every new version of a service's configuration and flags (compacted: latest per key)",
    ),
};

/// `rule.set.v1`: which version of each rule set is active, keyed by the set's name; the latest
/// event of a key is the set's state, so the topic is compacted on Kafka
/// (`cleanup.policy=compact`). The risk service and the decision engine follow it through
/// `rules::Rules`.
pub const RULE_SET: TopicSpec = TopicSpec {
    name: Cow::Borrowed("rule.set.v1"),
    key: Cow::Borrowed("rule set name"),
    payload: Cow::Borrowed("qts.rule.v1.RuleSetChanged"),
    partitions: 1,
    description: Cow::Borrowed("The active version of every rule set (compacted: latest per set)"),
};
/// `rule.evaluation.v1`: every evaluation of the active rule sets on an order or a decision,
/// with its findings and inputs, from the service that evaluated it (written with its own
/// state, through the outbox); the rule service keeps them as the audit trail and the record
/// a what-if replays.
pub const RULE_EVALUATION: TopicSpec = TopicSpec {
    name: Cow::Borrowed("rule.evaluation.v1"),
    key: Cow::Borrowed("account or strategy"),
    payload: Cow::Borrowed("qts.rule.v1.RuleEvaluation"),
    partitions: 4,
    description: Cow::Borrowed("Rule evaluations of orders and decisions, with their findings"),
};

/// Every registered topic.
pub const TOPICS: &[TopicSpec] = &[
    SYSTEM_LIFECYCLE,
    SYSTEM_DEADLETTER,
    MARKET_RAW,
    MARKET_TRADE,
    MARKET_QUOTE,
    MARKET_INDEX,
    MARKET_FOREIGN_ROOM,
    MARKET_STREAM_BAR,
    MARKET_BAR,
    MARKET_STATUS,
    MARKET_FEED,
    MARKET_REJECTED,
    MASTERDATA_SECURITY,
    TA_INDICATOR,
    TA_SIGNAL,
    PREDICTION_SIGNAL,
    NEWS_ITEM,
    SENTIMENT_ITEM,
    SENTIMENT_SERIES,
    OMS_ORDER,
    OMS_FILL,
    OMS_ACCOUNT,
    RISK_EVENT,
    NOTIFICATION_REQUEST,
    CONFIG_CHANGED,
    RULE_SET,
    RULE_EVALUATION,
];

/// Whether a topic keeps only the latest event of each key (`cleanup.policy=compact` on Kafka):
/// topics whose events are states, not happenings.
pub fn compacted(name: &str) -> bool {
    [
        CONFIG_CHANGED.static_name(),
        RULE_SET.static_name(),
        OMS_ACCOUNT.static_name(),
    ]
    .contains(&name)
}

/// The registered topic with this name.
pub fn find(name: &str) -> Option<&'static TopicSpec> {
    TOPICS.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_topics_are_valid_versioned_and_unique() {
        let mut names = std::collections::HashSet::new();
        for t in TOPICS {
            t.validate().unwrap();
            assert!(
                t.name.rsplit('.').next().unwrap().starts_with('v'),
                "{} has no version",
                t.name
            );
            assert!(names.insert(t.name.clone()));
        }
    }

    #[test]
    fn bad_names_and_partition_counts_are_refused() {
        assert!(TopicSpec::new("a b", "x", 1).validate().is_err());
        assert!(TopicSpec::new("", "x", 1).validate().is_err());
        assert!(TopicSpec::new("ok.v1", "x", 0).validate().is_err());
        assert!(TopicSpec::new("ok.v1", "x", 3).validate().is_ok());
    }
}
