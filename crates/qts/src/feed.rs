//! `qts record` and `qts replay`: the raw market-data feed to and from day files
//! (`ingestion::record` has the format).
//!
//! - `qts record --dir DIR --broker FILE` records straight from a broker (a user with SSI
//!   credentials records real days), following the market calendar like ingestion;
//! - `qts record --dir DIR` (with the bus settings of the fleet, e.g. `--set bus.kind=kafka`)
//!   records what a running fleet's ingestion publishes, with master data; `qts up --record DIR`
//!   does the same inside `qts up`;
//! - `qts replay FILES` publishes recorded days into a bus (`qts up --replay FILES` into its
//!   own), with their original timing, `--speed N` times faster, or `--asap`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use broker::MarketData;
use common::bus::SharedBus;
use common::registry::ServiceSpec;
use common::settings::{BusKind, MarketClock, ServiceSettings};
use common::shutdown::CancellationToken;
use futures::StreamExt;
use ingestion::domain::format_day;
use ingestion::feed::{Recorder, Schedule, Window, whole_market};
use ingestion::record::DayWriter;
use proto::market::v1 as pb;

/// Opens the bus the `overrides` describe (`bus.kind`, `bus.kafka.brokers`, ...; the embedded
/// bus in `data_dir`) and creates the registered topics.
pub async fn open_bus(
    data_dir: Option<PathBuf>,
    overrides: &[(String, String)],
) -> anyhow::Result<SharedBus> {
    // The same layering as a service of the fleet gets (`--set` overrides, the data dir).
    let options = crate::fleet::Options {
        data_dir,
        overrides: overrides.to_vec(),
        ..crate::fleet::Options::default()
    };
    let spec: &'static ServiceSpec = ingestion::SPEC;
    let settings = ServiceSettings::load_from(spec, "", &options.sources(spec, None))
        .context("bus settings")?;
    let bus: SharedBus = match settings.bus.kind {
        BusKind::Embedded => Arc::new(
            common::bus::embedded::EmbeddedBus::open(&settings.bus.embedded, &settings.data_dir)
                .context("open the embedded bus")?,
        ),
        BusKind::Kafka => Arc::new(
            common::bus::kafka::KafkaBus::connect(&settings.bus.kafka, "qts")
                .context("create kafka clients")?,
        ),
    };
    bus.create_topics(common::bus::topics::TOPICS)
        .await
        .context("create topics")?;
    Ok(bus)
}

/// Records straight from `market_data` into day files in `dir`, connected from before the
/// first session to after the last of each trading day by `clock`, for `days` trading days
/// (forever when `None`) or until `token` is cancelled. Each day starts with the broker's
/// securities (as security events), so the recording can be checked on its own. Answers the
/// events written.
pub async fn record_broker(
    market_data: Arc<dyn MarketData>,
    dir: PathBuf,
    clock: MarketClock,
    days: Option<u32>,
    token: CancellationToken,
) -> anyhow::Result<u64> {
    let calendar = market::TradingCalendar::embedded().context("market calendar")?;
    let schedule = Schedule::new(
        calendar,
        time::Duration::minutes(15),
        time::Duration::minutes(5),
    );
    let mut writer = DayWriter::new(&dir)?;
    let mut recorder = Recorder::new(format!("fastconnect-{}", market_data.generation()));
    let mut written = 0u64;
    let mut recorded_days = 0u32;
    while days.is_none_or(|d| recorded_days < d) {
        let (day, until) = match schedule.window(clock.now()) {
            Window::Closed { until, .. } => {
                tracing::info!(%until, "waiting for the next trading day");
                tokio::select! {
                    () = token.cancelled() => break,
                    () = tokio::time::sleep(clock.wall_until(until).min(Duration::from_secs(60))) => continue,
                }
            }
            Window::Open { day, until } => (day, until),
        };
        let mut securities = 0;
        for exchange in market::Exchange::ALL {
            let list = match market_data.securities(exchange).await {
                Ok(list) => list,
                Err(err) => {
                    tracing::warn!(%exchange, error = %common::error::chain(&err), "no securities list");
                    continue;
                }
            };
            for s in list {
                let security = pb::Security {
                    symbol: s.symbol.as_str().to_owned(),
                    exchange: s.exchange.unwrap_or(exchange).ssi_code().to_owned(),
                    name: s.name.unwrap_or_default(),
                    trading_day: format_day(day),
                    ..pb::Security::default()
                };
                writer.write(&pb::FeedEvent {
                    source: recorder.source().to_owned(),
                    sequence: 0,
                    received_at: Some(ingestion::domain::to_timestamp(clock.now())),
                    trading_day: format_day(day),
                    event: Some(pb::feed_event::Event::Security(security)),
                })?;
                securities += 1;
            }
        }
        tracing::info!(%day, securities, "recording");
        let mut stream = market_data
            .stream(whole_market())
            .await
            .context("connect the feed")?;
        let close = tokio::time::sleep(clock.wall_until(until));
        tokio::pin!(close);
        let mut flushed = tokio::time::Instant::now();
        loop {
            let item = tokio::select! {
                () = token.cancelled() => break,
                () = &mut close => break,
                item = stream.next() => item,
            };
            match item {
                Some(Ok(event)) => {
                    writer.write(&recorder.event(event, clock.now()))?;
                    written += 1;
                }
                Some(Err(err)) => {
                    tracing::warn!(error = %common::error::chain(&err), "a feed message could not be read");
                }
                None => {
                    writer.write(&recorder.state(
                        pb::feed_state::State::Gap,
                        "the stream ended",
                        clock.now(),
                    ))?;
                    stream = market_data
                        .stream(whole_market())
                        .await
                        .context("reconnect the feed")?;
                }
            }
            if flushed.elapsed() >= Duration::from_secs(1) {
                tokio::task::block_in_place(|| writer.flush())?;
                flushed = tokio::time::Instant::now();
            }
        }
        tokio::task::block_in_place(|| writer.flush())?;
        if token.is_cancelled() {
            break;
        }
        recorded_days += 1;
    }
    tokio::task::block_in_place(|| writer.flush())?;
    Ok(written)
}
