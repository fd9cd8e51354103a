//! What fills the board: master data's securities (reference, ceiling, floor, names, indexes),
//! ingestion's snapshots of today (so a new instance starts current), then the bus — trades,
//! quotes, foreign room and master-data changes — for as long as the service runs; and the OMS's
//! order and fill events for the trading pages' streams.

use std::sync::Arc;
use std::time::Duration;

use common::bus::topics::{
    MARKET_FOREIGN_ROOM, MARKET_QUOTE, MARKET_TRADE, MASTERDATA_SECURITY, OMS_FILL, OMS_ORDER,
};
use common::bus::{Delivery, SharedBus};
use common::error::chain;
use common::grpc::Channel;
use common::shutdown::CancellationToken;
use proto::ingestion::v1 as ingestion_pb;
use proto::ingestion::v1::ingestion_service_client::IngestionServiceClient;
use proto::market::v1 as market_pb;
use proto::master_data::v1 as master_pb;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::oms::v1 as oms_pb;

use crate::activity::Activity;
use crate::board::{Board, now_ms};

/// The peers the board is filled from.
#[derive(Clone)]
pub struct Sources {
    /// Master data's gRPC.
    pub master_data: MasterDataServiceClient<Channel>,
    /// Ingestion's gRPC.
    pub ingestion: IngestionServiceClient<Channel>,
}

/// Every security of master data, page by page.
async fn securities(
    client: &mut MasterDataServiceClient<Channel>,
) -> Result<Vec<market_pb::Security>, tonic::Status> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .list_securities(master_pb::ListSecuritiesRequest {
                limit: 1_000,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        all.extend(page.securities);
        if page.next_cursor.is_empty() {
            return Ok(all);
        }
        cursor = page.next_cursor;
    }
}

/// Follows the bus until `token` is cancelled; meanwhile loads master data (retrying until
/// it answers) and ingestion's snapshots (once: without them the board fills from the bus).
/// The OMS's order and fill events go to `activity`.
pub async fn run(
    board: Arc<Board>,
    activity: Arc<Activity>,
    sources: Sources,
    bus: SharedBus,
    group: String,
    token: CancellationToken,
) -> anyhow::Result<()> {
    // Subscribed first, so nothing between the loads and the first poll is missed; what the
    // loads bring that the bus already brought newer is skipped by its time.
    let mut sub = bus
        .subscribe(
            &group,
            &[
                MARKET_TRADE.static_name(),
                MARKET_QUOTE.static_name(),
                MARKET_FOREIGN_ROOM.static_name(),
                MASTERDATA_SECURITY.static_name(),
                OMS_ORDER.static_name(),
                OMS_FILL.static_name(),
            ],
        )
        .await?;
    let loading = tokio::spawn(load(board.clone(), sources, token.clone()));
    let _abort = AbortOnDrop(loading);
    loop {
        let polled = tokio::select! {
            () = token.cancelled() => return Ok(()),
            p = sub.poll(Duration::from_millis(500)) => p,
        };
        let delivery = match polled {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %chain(&e), "polling the market for the board; retrying");
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        apply(&board, &activity, &delivery);
        if let Err(e) = sub.commit(&delivery).await {
            tracing::warn!(error = %chain(&e), "committing the board's position");
        }
    }
}

/// Stops the loading task with the feed.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Master data's securities, retried until they come, then ingestion's snapshots of them.
async fn load(board: Arc<Board>, mut sources: Sources, token: CancellationToken) {
    let mut wait = Duration::from_millis(200);
    let listed = loop {
        match securities(&mut sources.master_data).await {
            Ok(list) => break list,
            Err(e) => {
                tracing::warn!(error = %e, "the board waits for master data");
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    };
    let at = now_ms();
    for s in &listed {
        board.security(s, at);
    }
    let symbols: Vec<String> = listed.into_iter().map(|s| s.symbol).collect();
    let mut snapshots = 0;
    for chunk in symbols.chunks(500) {
        match sources
            .ingestion
            .get_snapshots(ingestion_pb::GetSnapshotsRequest {
                symbols: chunk.to_vec(),
            })
            .await
        {
            Ok(r) => {
                let at = now_ms();
                for s in &r.get_ref().snapshots {
                    board.snapshot_of(s, at);
                    snapshots += 1;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no snapshots from ingestion: the board fills from the bus");
                break;
            }
        }
    }
    tracing::info!(
        securities = symbols.len(),
        snapshots,
        "the board is loaded from master data and ingestion"
    );
}

/// Applies one event; a malformed one is logged and skipped (the board is a view: the event
/// stays on the bus for its owners).
fn apply(board: &Board, activity: &Activity, d: &Delivery) {
    let topic = d.topic.as_str();
    // When the event was published: browsers measure their latency from it.
    let at = i64::try_from(d.envelope.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let outcome = if topic == MARKET_TRADE.static_name() {
        d.envelope
            .decode::<market_pb::Trade>()
            .map(|t| board.trade(&t, at))
    } else if topic == MARKET_QUOTE.static_name() {
        d.envelope
            .decode::<market_pb::Quote>()
            .map(|q| board.quote(&q, at))
    } else if topic == MARKET_FOREIGN_ROOM.static_name() {
        d.envelope
            .decode::<market_pb::ForeignRoom>()
            .map(|f| board.foreign_room(&f, at))
    } else if topic == MASTERDATA_SECURITY.static_name() {
        d.envelope
            .decode::<market_pb::Security>()
            .map(|s| board.security(&s, at))
    } else if topic == OMS_ORDER.static_name() {
        d.envelope
            .decode::<oms_pb::OrderEvent>()
            .map(|e| activity.order(&e))
    } else if topic == OMS_FILL.static_name() {
        d.envelope
            .decode::<oms_pb::Fill>()
            .map(|f| activity.fill(&f))
    } else {
        Ok(())
    };
    if let Err(e) = outcome {
        tracing::warn!(topic, event_id = %d.envelope.id, error = %e, "skipped a malformed event on the board");
    }
}
