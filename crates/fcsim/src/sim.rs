//! The simulator: generator, clock, credentials and the trading desk, shared by the HTTP
//! and hub modules (`server` runs them). Imports nothing from those modules.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use market::{MarketRules, TradingCalendar};
use rsa::RsaPublicKey;
use time::{Date, OffsetDateTime};

use crate::auth::throttle::Guard;
use crate::auth::{KeyError, Tokens, parse_public_key};
use crate::broker::Sizes;
use crate::clock::Clock;
use crate::config::SimConfig;
use crate::desk::{Desk, Opened, Start};
use crate::history::IndexDays;
use crate::live::LiveDays;
use crate::quota::Limiter;
use crate::store::MarketKey;
use crate::tape::Generator;
use crate::universe::Universe;

/// Why the simulator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The market rules or calendar are unusable.
    #[error("market rules: {0}")]
    Rules(String),
    /// The generated market cannot be built (a market-model parameter out of range).
    #[error(transparent)]
    Market(#[from] crate::tape::Error),
    /// A configured client key is unreadable.
    #[error("trading consumer {consumer}: {source}")]
    Key {
        /// ConsumerID.
        consumer: String,
        /// Cause.
        #[source]
        source: KeyError,
    },
    /// The simulated broker could not open the configured accounts.
    #[error("broker accounts: {0}")]
    Broker(String),
    /// The durable trading state (`data_dir`) could not be read or written.
    #[error(transparent)]
    State(#[from] crate::store::StoreError),
    /// The trading state could not be saved at a stop.
    #[error("trading state: {0}")]
    Desk(String),
    /// The v3 stream's TLS certificate could not be made.
    #[error("TLS: {0}")]
    Tls(String),
    /// A listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// FC Data requests that generate history, and the pool they run on.
pub(crate) struct DataJobs {
    permits: tokio::sync::Semaphore,
    in_flight: AtomicUsize,
}

/// Counts one FC Data request in flight while alive.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl DataJobs {
    fn new(workers: usize) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(workers.max(1)),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Counts a request in flight until the guard drops.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(&self.in_flight)
    }

    /// Waits for a generation worker.
    pub(crate) async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }
}

pub(crate) struct Core {
    pub(crate) config: SimConfig,
    pub(crate) generator: Arc<Generator>,
    pub(crate) live: Arc<LiveDays>,
    pub(crate) clock: Clock,
    pub(crate) keys: Vec<(String, RsaPublicKey)>,
    /// Account → the FC Trading consumer that owns it.
    pub(crate) owners: HashMap<String, String>,
    tokens: Mutex<Tokens>,
    /// FastConnect v3 keys and their verified public keys.
    pub(crate) v3_keys: Vec<(crate::config::V3Consumer, RsaPublicKey)>,
    /// The self-signed certificate (PEM) of the v3 TLS port and its server configuration.
    pub(crate) v3_cert_pem: String,
    pub(crate) v3_tls: Arc<rustls::ServerConfig>,
    v3: Mutex<crate::v3::Sessions>,
    /// `batchRequestId`s used per apiKey on the simulated day.
    v3_batches: Mutex<HashMap<String, (Date, std::collections::HashSet<String>)>>,
    guard: Mutex<Guard>,
    limiter: Mutex<Limiter>,
    pub(crate) desk: Desk,
    pub(crate) data_jobs: DataJobs,
    pub(crate) index_days: IndexDays,
}

impl Core {
    /// "Sends" `otp` to `who`'s phone: the log, and a line in `otp_outbox` when configured.
    /// A failed write is logged; the OTP stays valid (the log has it).
    pub(crate) fn deliver_otp(&self, who: &str, otp: &str) {
        tracing::info!(%who, %otp, "fcsim: OTP issued (read it from the log, otp_outbox or Simulator::pending_otp)");
        let Some(path) = &self.config.otp_outbox else {
            return;
        };
        let line = format!("{who} {otp}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "fcsim: OTP outbox not written");
        }
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn v3(&self) -> MutexGuard<'_, crate::v3::Sessions> {
        self.v3
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a v3 `batchRequestId` of `api_key` for `today`; false if already used.
    pub(crate) fn claim_batch(&self, api_key: &str, today: Date, id: &str) -> bool {
        let mut all = self
            .v3_batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = all
            .entry(api_key.to_owned())
            .or_insert_with(|| (today, std::collections::HashSet::new()));
        if entry.0 != today {
            *entry = (today, std::collections::HashSet::new());
        }
        entry.1.insert(id.to_owned())
    }

    pub(crate) fn guard(&self) -> MutexGuard<'_, Guard> {
        self.guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn limiter(&self) -> MutexGuard<'_, Limiter> {
        self.limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Simulated now, Vietnam local date and seconds since local midnight.
    pub(crate) fn local_now(&self) -> (Date, u32) {
        let (date, tod) = TradingCalendar::local(self.clock.now());
        (date, tod.seconds())
    }

    /// Whether `consumer` owns `account`.
    pub(crate) fn owns(&self, consumer: &str, account: &str) -> bool {
        self.owners.get(account).is_some_and(|c| c == consumer)
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1` (ECDSA P-256, made at start)
/// and a TLS 1.3 server configuration with it.
fn self_signed() -> Result<(String, Arc<rustls::ServerConfig>), Error> {
    let tls = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(|e| tls(&e))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(|e| tls(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((made.cert.pem(), Arc::new(config)))
}

/// A running simulated market. Cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) core: Arc<Core>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("seed", &self.core.config.seed)
            .field("now", &self.core.clock.now())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Builds the market (universe, history) for `config` and starts the trading desk;
    /// binds nothing. With a `data_dir`, the directory is locked for this simulator and the
    /// trading state (engine, orders, notices, used request ids) and the simulated clock
    /// resume from its snapshot and journal; an unreadable, corrupt or locked state is an
    /// error naming the file.
    pub fn new(config: SimConfig) -> Result<Self, Error> {
        config.validate()?;
        let rules = MarketRules::default();
        let calendar = rules.calendar().map_err(|e| Error::Rules(e.to_string()))?;
        let (today, _) = TradingCalendar::local(config.start);
        let universe = Universe::generate_with(
            config.seed,
            config.universe,
            &calendar,
            today,
            &config.market,
        );
        let keys = config
            .trading_consumers
            .iter()
            .map(|c| {
                parse_public_key(&c.public_key)
                    .map(|k| (c.consumer_id.clone(), k))
                    .map_err(|source| Error::Key {
                        consumer: c.consumer_id.clone(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let v3_keys = config
            .live_v3_consumers()
            .map(|c| {
                parse_public_key(&c.public_key)
                    .map(|k| (c.clone(), k))
                    .map_err(|source| Error::Key {
                        consumer: c.api_key.clone(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (v3_cert_pem, v3_tls) = self_signed()?;
        let owners = config
            .trading_consumers
            .iter()
            .flat_map(|c| {
                c.accounts
                    .iter()
                    .map(|a| (a.id.clone(), c.consumer_id.clone()))
            })
            .collect();
        let generator = Arc::new(Generator::with_model(
            config.seed,
            rules.clone(),
            calendar.clone(),
            universe,
            today,
            config.history_days,
            60,
            config.market.clone(),
        )?);
        let live = Arc::new(LiveDays::new(generator.clone()));
        let mut opened = Opened::open(Start {
            generator: generator.clone(),
            live: live.clone(),
            rules,
            calendar,
            retention_days: config.retention_days,
            cash_advance_fee_ppm_per_day: config.cash_advance_fee_ppm_per_day,
            data_dir: config.data_dir.clone(),
            market: MarketKey {
                seed: config.seed,
                start: config.start,
                universe: [
                    config.universe.hose,
                    config.universe.hnx,
                    config.universe.upcom,
                ],
                model: crate::store::model_fingerprint(&config.market),
            },
            journal_fsync: config.journal_fsync,
            snapshot_journal_bytes: config.snapshot_journal_bytes,
        })?;
        let clock_start = match opened.resumed_at {
            Some(at) => {
                tracing::info!(resumed_at = %at, "fcsim: trading state restored");
                at
            }
            None => config.start,
        };
        let clock = Clock::new(clock_start, config.speed)
            .map_err(|e| Error::Config(crate::config::ConfigError::Clock(e)))?;
        opened
            .broker
            .start_at(clock.now(), &config.trading_consumers)
            .map_err(|e| Error::Broker(e.to_string()))?;
        let desk = opened.spawn(clock)?;
        let data_jobs = DataJobs::new(config.data_workers());
        Ok(Self {
            core: Arc::new(Core {
                clock,
                generator,
                live,
                keys,
                owners,
                tokens: Mutex::new(Tokens::new(&config)),
                v3_keys,
                v3_cert_pem,
                v3_tls,
                v3: Mutex::new(crate::v3::Sessions::new(&config)),
                v3_batches: Mutex::new(HashMap::new()),
                guard: Mutex::new(Guard::new(&config)),
                limiter: Mutex::new(Limiter::default()),
                desk,
                data_jobs,
                index_days: IndexDays::default(),
                config,
            }),
        })
    }

    /// The pending OTP of an FC Trading consumer after `GetOTP` (SSI would send it by SMS).
    pub fn pending_otp(&self, consumer_id: &str) -> Option<String> {
        self.core
            .tokens()
            .pending_otp(consumer_id)
            .map(str::to_owned)
    }

    /// The pending OTP of a FastConnect v3 key after `requestOtp` (SSI would send it by
    /// SMS or e-mail).
    pub fn pending_v3_otp(&self, api_key: &str) -> Option<String> {
        self.core.v3().pending_otp(api_key).map(str::to_owned)
    }

    /// The self-signed certificate (PEM) the v3 TLS port presents: a client trusts the
    /// simulator's `wss://` stream with it (Python: `SSL_CERT_FILE=<file>`).
    pub fn v3_cert_pem(&self) -> &str {
        &self.core.v3_cert_pem
    }

    /// Moves the broker to the simulated now: session transitions, market-maker quotes,
    /// stream notices. The trading server calls this every 200 ms.
    pub async fn tick(&self) {
        let core = &self.core;
        let (today, _) = core.local_now();
        // Built off the desk's thread (and off the runtime's workers) on a new day.
        let _ = core.live.get(today).await;
        let tick = crate::broker::Command::Tick {
            requote: true,
            prune_before: None,
        };
        if let Err(e) = core.desk.apply(tick).await {
            tracing::error!(error = %e, "fcsim: tick not applied");
        }
    }

    /// Writes a snapshot of the trading state now (with a `data_dir`; the journal already
    /// holds every acknowledged change).
    pub async fn save(&self) -> Result<(), Error> {
        self.core
            .desk
            .snapshot()
            .await
            .map_err(|e| Error::Desk(e.to_string()))
    }

    /// Stops the trading desk: moves it to now, writes a final snapshot and releases the
    /// data directory. `serve_trading` calls it when it stops; later trading requests
    /// answer HTTP 500.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.core
            .desk
            .stop()
            .await
            .map_err(|e| Error::Desk(e.to_string()))
    }

    /// The simulated instant now, in Vietnam time (UTC+7).
    pub fn now(&self) -> OffsetDateTime {
        self.core.clock.now().to_offset(market::calendar::VN_OFFSET)
    }

    /// The generator (universe, history, tapes).
    pub fn generator(&self) -> &Generator {
        &self.core.generator
    }

    /// The newest news items matching `query` published by the simulated now, newest first
    /// (what `GET /news/rss` serves; `news` has the model).
    pub fn news(&self, query: &crate::news::NewsQuery) -> Vec<crate::news::NewsItem> {
        crate::news::latest(&self.core.generator, self.core.clock.now(), query)
    }

    /// The verified public key of FC Trading consumer `consumer_id`.
    pub fn client_key(&self, consumer_id: &str) -> Option<&RsaPublicKey> {
        self.core
            .keys
            .iter()
            .find(|(id, _)| id == consumer_id)
            .map(|(_, k)| k)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.core.config
    }

    /// FC Data requests being served now (waiting for or running on the generation pool).
    pub fn data_requests_in_flight(&self) -> usize {
        self.core.data_jobs.in_flight.load(Ordering::SeqCst)
    }

    /// How much the broker holds (orders, client orders, working orders, notices).
    pub async fn sizes(&self) -> Sizes {
        self.core.desk.read(|b| b.sizes()).await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
