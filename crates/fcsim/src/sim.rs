//! The simulator: generator, clock, credentials, and the servers on top.

use std::sync::{Arc, Mutex, MutexGuard};

use market::{MarketRules, TradingCalendar};
use rsa::RsaPublicKey;
use time::{Date, OffsetDateTime};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{KeyError, Tokens, parse_public_key};
use crate::clock::Clock;
use crate::config::SimConfig;
use crate::tape::Generator;
use crate::universe::Universe;

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
}

impl Core {
    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens
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
    /// Builds the market (universe, history) for `config`; binds nothing.
    pub fn new(config: SimConfig) -> Result<Self, Error> {
        let rules = MarketRules::default();
        let calendar = rules.calendar().map_err(|e| Error::Rules(e.to_string()))?;
        let (today, _) = TradingCalendar::local(config.start);
        let universe = Universe::generate(config.seed, config.universe, &calendar, today);
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
        Ok(Self {
            core: Arc::new(Core {
                clock: Clock::new(config.start, config.speed),
                config,
                generator,
                keys,
                tokens: Mutex::new(Tokens::default()),
                live: Mutex::new(None),
            }),
        })
    }

    /// The simulated instant now.
    pub fn now(&self) -> OffsetDateTime {
        self.core.clock.now()
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
