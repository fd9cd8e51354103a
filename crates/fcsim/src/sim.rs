//! The simulator: generator, clock, credentials, and the servers on top.

use std::sync::{Arc, Mutex, MutexGuard};

use market::{MarketRules, TradingCalendar};
use rsa::RsaPublicKey;
use time::{Date, OffsetDateTime};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use matching::{Engine, EngineConfig};

use crate::auth::{KeyError, Tokens, parse_public_key};
use crate::broker::Broker;
use crate::clock::Clock;
use crate::config::SimConfig;
use crate::store::{MarketKey, Store};
use crate::tape::Generator;
use crate::trading_api::Limiter;
use crate::universe::Universe;

/// With a `data_dir`, the ticker saves at least this often (wall time) even when no client
/// saw a change, so the simulated clock of a crashed simulator resumes close to where it was.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the simulator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The market rules or calendar are unusable.
    #[error("market rules: {0}")]
    Rules(String),
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
    /// A listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

pub(crate) struct Core {
    pub(crate) config: SimConfig,
    pub(crate) generator: Generator,
    pub(crate) clock: Clock,
    pub(crate) keys: Vec<(String, RsaPublicKey)>,
    tokens: Mutex<Tokens>,
    pub(crate) live: Mutex<Option<Arc<crate::data_hub::LiveDay>>>,
    broker: Mutex<Broker>,
    limiter: Mutex<Limiter>,
}

impl Core {
    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn broker(&self) -> MutexGuard<'_, Broker> {
        self.broker
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
    /// Builds the market (universe, history) for `config`; binds nothing. With a
    /// `data_dir` holding a saved state, the trading state (engine, orders, notices, used
    /// request ids) and the simulated clock resume from it; an unreadable or corrupt state
    /// file is an error naming it.
    pub fn new(config: SimConfig) -> Result<Self, Error> {
        let rules = MarketRules::default();
        let calendar = rules.calendar().map_err(|e| Error::Rules(e.to_string()))?;
        let (today, _) = TradingCalendar::local(config.start);
        let universe = Universe::generate(config.seed, config.universe, &calendar, today);
        let (store, saved) = match &config.data_dir {
            Some(dir) => {
                let key = MarketKey {
                    seed: config.seed,
                    start: config.start,
                    universe: [
                        config.universe.hose,
                        config.universe.hnx,
                        config.universe.upcom,
                    ],
                };
                let (store, saved) = Store::open(dir, key)?;
                (Some(store), saved)
            }
            None => (None, None),
        };
        let mut clock_start = config.start;
        let mut broker = match saved {
            Some(saved) => {
                let engine = Engine::from_state(rules.clone(), calendar.clone(), saved.engine);
                let mut broker = Broker::new(engine, universe.clone(), store);
                broker.restore(saved.broker, saved.saved_at);
                clock_start = saved.saved_at;
                tracing::info!(resumed_at = %saved.saved_at, "fcsim: trading state restored");
                broker
            }
            None => {
                let engine = Engine::new(
                    rules.clone(),
                    calendar.clone(),
                    EngineConfig {
                        roll_reference: false,
                        ..EngineConfig::default()
                    },
                );
                Broker::new(engine, universe.clone(), store)
            }
        };
        let opened = broker
            .open_accounts(&config.trading_consumers)
            .map_err(|e| Error::Broker(e.to_string()))?;
        let generator = Generator::new(
            config.seed,
            rules,
            calendar,
            universe,
            today,
            config.history_days,
            60,
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
        let sim = Self {
            core: Arc::new(Core {
                clock: Clock::new(clock_start, config.speed),
                config,
                generator,
                keys,
                tokens: Mutex::new(Tokens::default()),
                live: Mutex::new(None),
                broker: Mutex::new(broker),
                limiter: Mutex::new(Limiter::default()),
            }),
        };
        sim.seed_accounts(&opened)?;
        Ok(sim)
    }

    /// Sets the engine clock, lists and seeds the configured opening positions of the
    /// accounts just `opened`, and saves the result.
    fn seed_accounts(&self, opened: &[String]) -> Result<(), Error> {
        let core = &self.core;
        let live = crate::data_hub::live_day(core);
        let mut broker = core.broker();
        broker.sync(core, core.clock.now(), None)?;
        let Some(live) = live else {
            if !opened.is_empty() {
                tracing::warn!(
                    "fcsim: the start date is not a simulated trading day; no opening positions"
                );
            }
            return Ok(broker.commit()?);
        };
        for c in &core.config.trading_consumers {
            for a in c.accounts.iter().filter(|a| opened.contains(&a.id)) {
                for (symbol, qty) in &a.positions {
                    if let Err(e) = broker.seed(&live, &a.id, symbol, *qty) {
                        tracing::warn!(account = %a.id, %symbol, error = %e, "fcsim: opening position skipped");
                    }
                }
            }
        }
        broker.process();
        Ok(broker.commit()?)
    }

    /// The pending OTP of an FC Trading consumer after `GetOTP` (SSI would send it by SMS).
    pub fn pending_otp(&self, consumer_id: &str) -> Option<String> {
        self.core
            .tokens()
            .pending_otp(consumer_id)
            .map(str::to_owned)
    }

    /// The axum app serving FC Trading REST and the FC Trading hub.
    pub fn trading_router(&self) -> axum::Router {
        crate::trading_api::router(self.core.clone())
    }

    /// Moves the broker to the simulated now: session transitions, market-maker quotes,
    /// stream notices. The trading server calls this every 200 ms.
    pub fn tick(&self) {
        let core = &self.core;
        let live = crate::data_hub::live_day(core);
        let mut broker = core.broker();
        let saved = broker
            .sync(core, core.clock.now(), live.as_deref())
            .and_then(|()| broker.checkpoint(CHECKPOINT_EVERY));
        if let Err(e) = saved {
            tracing::error!(error = %e, "fcsim: trading state not saved; retrying");
        }
    }

    /// Saves the trading state now (with a `data_dir`), including the simulated instant,
    /// so a restart resumes exactly here. `serve_trading` calls it when it stops.
    pub fn save(&self) -> Result<(), Error> {
        let core = &self.core;
        let mut broker = core.broker();
        broker.sync(core, core.clock.now(), None)?;
        Ok(broker.checkpoint(std::time::Duration::ZERO)?)
    }

    /// The simulated instant now, in Vietnam time (UTC+7).
    pub fn now(&self) -> OffsetDateTime {
        self.core.clock.now().to_offset(market::calendar::VN_OFFSET)
    }

    /// The generator (universe, history, tapes).
    pub fn generator(&self) -> &Generator {
        &self.core.generator
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

    /// The axum app serving FC Data REST and the FC Data hub.
    pub fn data_router(&self) -> axum::Router {
        crate::data_api::router(self.core.clone())
    }
}

/// Serves FC Data (REST and hub) on `data` until `cancel` fires.
pub async fn serve(
    sim: Simulator,
    data: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let app = sim.data_router();
    axum::serve(data, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await?;
    Ok(())
}

/// Serves FC Trading (REST and hub) on `trading` until `cancel` fires, advancing the
/// broker every 200 ms of wall time.
pub async fn serve_trading(
    sim: Simulator,
    trading: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let ticker = {
        let sim = sim.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = every.tick() => sim.tick(),
                }
            }
        })
    };
    let app = sim.trading_router();
    let served = axum::serve(trading, app)
        .with_graceful_shutdown(cancel.clone().cancelled_owned())
        .await;
    cancel.cancel();
    let _ = ticker.await;
    let saved = sim.save();
    served?;
    saved
}

/// Serves FC Data on `data` and FC Trading on `trading` until `cancel` fires.
pub async fn serve_all(
    sim: Simulator,
    data: TcpListener,
    trading: TcpListener,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let (a, b) = tokio::join!(
        serve(sim.clone(), data, cancel.clone()),
        serve_trading(sim, trading, cancel)
    );
    a.and(b)
}
