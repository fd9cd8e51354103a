//! Feed gaps repaired from the broker: when ingestion reports a gap on `market.feed.v1`
//! (trades may have been missed while its stream was down) and then reconnects, the day's
//! one-minute bars of every symbol that has bars that day are fetched again from the broker
//! (an intraday backfill, which replaces the stored bars with the broker's), so a dropped
//! stream leaves no bar missing or short.

use std::time::Duration;

use anyhow::Context;
use common::bus::SharedBus;
use common::bus::topics::MARKET_FEED;
use common::shutdown::CancellationToken;
use proto::market::v1 as pb;
use proto::market::v1::feed_state::State;

use crate::backfill::{BackfillKind, BackfillRequest, Backfills};
use crate::domain::vn_date;
use crate::store::Store;

/// The consumer group.
pub const CONSUMER: &str = "historical.feed-gaps";

/// Follows `market.feed.v1` until `token` is cancelled, starting a repair after each gap.
pub async fn repair_after_gaps(
    bus: SharedBus,
    backfills: Backfills,
    store: Store,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus
        .subscribe(CONSUMER, &[MARKET_FEED.static_name()])
        .await
        .context("subscribe to the feed state")?;
    let mut gap_since: Option<time::OffsetDateTime> = None;
    loop {
        let polled = tokio::select! {
            () = token.cancelled() => return Ok(()),
            d = sub.poll(Duration::from_millis(500)) => d,
        };
        let delivery = match polled {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), "feed state poll failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        match delivery.envelope.decode::<pb::FeedState>() {
            Ok(state) => {
                let at = state.at.map(|t| {
                    time::OffsetDateTime::from_unix_timestamp(t.seconds)
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                });
                match State::try_from(state.state) {
                    Ok(State::Gap) => {
                        gap_since = gap_since.or(at);
                    }
                    Ok(State::Reconnected | State::Connected) => {
                        if let Some(since) = gap_since.take() {
                            repair(&backfills, &store, since).await;
                        }
                    }
                    Ok(State::Disconnected | State::Unspecified) | Err(_) => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %common::error::chain(&err), "ignoring a feed state");
            }
        }
        if let Err(err) = sub.commit(&delivery).await {
            tracing::debug!(error = %common::error::chain(&err), "feed state commit");
        }
    }
}

/// Starts the intraday backfill of the gap's day for every symbol with bars that day.
async fn repair(backfills: &Backfills, store: &Store, since: time::OffsetDateTime) {
    let day = vn_date(since);
    let symbols = match store.symbols_on(day).await {
        Ok(s) => s,
        Err(err) => {
            tracing::warn!(error = %common::error::chain(&err), %day, "cannot list the day's symbols; no repair");
            return;
        }
    };
    if symbols.is_empty() {
        return;
    }
    let text = day.to_string();
    let request = BackfillRequest {
        kinds: vec![BackfillKind::Intraday],
        symbols,
        indexes: Vec::new(),
        from: text.clone(),
        to: text,
    };
    match backfills.start(&request).await {
        Ok(job) => {
            tracing::info!(job = %job.id, %day, symbols = request.symbols.len(), "feed gap: repairing the day's bars from the broker")
        }
        Err(err) => {
            tracing::warn!(error = %common::error::chain(&err), %day, "feed gap: no repair")
        }
    }
}
