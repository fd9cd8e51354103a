//! The parameters of the generated market: one serde struct, [`MarketModel`], with defaults
//! calibrated so that `qts sim stats` measures the stylized facts of equity returns
//! (`docs/simulator.md`, "Market model", lists every key, its default and the measured
//! figures). `SimConfig::market` carries it; every key is optional.
//!
//! Nothing here is an exchange rule: bands, ticks, lots and sessions stay `market`'s.

use serde::{Deserialize, Serialize};

use crate::universe::{Liquidity, Sector};

/// Everything the price, volume and intraday generator draws from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MarketModel {
    /// The market factor every stock loads on (with its GARCH volatility and jumps).
    pub market: MarketFactor,
    /// Calm and turbulent regimes.
    pub regimes: Regimes,
    /// Each stock's own shocks: fat tails, GARCH persistence, jumps.
    pub stock: StockShocks,
    /// How the number of trades follows volatility.
    pub volume: VolumeModel,
    /// Intraday shape: the U of activity, auctions, locked limits.
    pub intraday: Intraday,
    /// Per liquidity class.
    pub liquidity: LiquidityClasses,
    /// Per sector.
    pub sectors: Sectors,
    /// Per exchange.
    pub exchanges: Exchanges,
    /// VN30 index futures.
    pub futures: FuturesModel,
    /// Put-through (negotiated) deals.
    pub put_through: PutThroughModel,
}

/// The market factor: one daily shock shared by every stock (scaled by its beta).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketFactor {
    /// Daily volatility of the factor in the calm regime, as a fraction (0.011 = 1.1%).
    pub vol: f64,
    /// GARCH(1,1) weight of yesterday's squared shock.
    pub garch_alpha: f64,
    /// GARCH(1,1) weight of yesterday's variance (`garch_alpha + garch_beta < 1`).
    pub garch_beta: f64,
    /// Probability of a market-wide jump (sell-off or rally) on a calm day.
    pub jump_prob: f64,
    /// Typical size of a market jump, as a fraction (drawn in 0.6..1.4 × this).
    pub jump_size: f64,
    /// Share of market jumps that are sell-offs (the rest are rallies).
    pub selloff_share: f64,
}

impl Default for MarketFactor {
    fn default() -> Self {
        Self {
            vol: 0.008,
            garch_alpha: 0.10,
            garch_beta: 0.85,
            jump_prob: 0.004,
            jump_size: 0.035,
            selloff_share: 0.65,
        }
    }
}

/// A two-state Markov chain of regimes: calm and turbulent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Regimes {
    /// Daily probability that a calm market turns turbulent.
    pub calm_to_turbulent: f64,
    /// Daily probability that a turbulent market calms down.
    pub turbulent_to_calm: f64,
    /// Multiplier of the market and sector factors' volatility when turbulent.
    pub factor_scale: f64,
    /// Multiplier of the stocks' own volatility when turbulent (below `factor_scale`, so
    /// correlations rise in turbulent markets).
    pub stock_scale: f64,
    /// Multiplier of the market's jump probability when turbulent (stocks' own news does
    /// not cluster with the market's turbulence).
    pub jump_scale: f64,
}

impl Default for Regimes {
    fn default() -> Self {
        Self {
            calm_to_turbulent: 0.012,
            turbulent_to_calm: 0.045,
            factor_scale: 2.5,
            stock_scale: 1.3,
            jump_scale: 6.0,
        }
    }
}

/// Each stock's own (idiosyncratic) daily shock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StockShocks {
    /// Degrees of freedom of the Student-t innovations (fat tails; `> 2`, ∞ = Gaussian).
    pub tail_dof: f64,
    /// GARCH(1,1) weight of yesterday's squared own shock.
    pub garch_alpha: f64,
    /// GARCH(1,1) weight of yesterday's own variance.
    pub garch_beta: f64,
    /// Probability of an own jump (news) on a day, in either regime.
    pub jump_prob: f64,
    /// Typical size of an own jump in units of the stock's own daily volatility (drawn in
    /// 0.5..1.5 × this, either sign).
    pub jump_size: f64,
    /// Daily pull of the log price back to its starting level (keeps years of history in
    /// a plausible range; small enough to leave no measurable autocorrelation).
    pub mean_reversion: f64,
    /// A planted, known signal for testing prediction, off (0) by default: each day's log
    /// return gets `−planted_reversal ×` the stock's previous close-to-close log return, a
    /// short-term reversal that the prediction service's pipeline must find (and, at 0, must
    /// not imagine). In `0..=0.5`.
    pub planted_reversal: f64,
}

impl Default for StockShocks {
    fn default() -> Self {
        Self {
            tail_dof: 3.0,
            garch_alpha: 0.07,
            garch_beta: 0.90,
            jump_prob: 0.006,
            jump_size: 3.0,
            mean_reversion: 0.002,
            planted_reversal: 0.0,
        }
    }
}

/// The day's number of trades: the class's typical count × noise × volatility terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeModel {
    /// Standard deviation of the log of the day's activity noise.
    pub activity_sd: f64,
    /// Elasticity of activity to the day's conditional volatility (volatility clustering
    /// shows in volume too).
    pub vol_elasticity: f64,
    /// Extra activity per unit of |return| / volatility on the day.
    pub abs_return_elasticity: f64,
}

impl Default for VolumeModel {
    fn default() -> Self {
        Self {
            activity_sd: 0.3,
            vol_elasticity: 1.0,
            abs_return_elasticity: 0.35,
        }
    }
}

/// The intraday shape of the tape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intraday {
    /// Share of the day's variance realised before the open (the gap from the reference to
    /// the opening price).
    pub overnight_share: f64,
    /// Extra trade intensity right after the open (× the midday rate), decaying.
    pub open_boost: f64,
    /// Decay of the opening boost, minutes.
    pub open_decay_minutes: f64,
    /// Extra trade intensity right before the close (× the midday rate), growing.
    pub close_boost: f64,
    /// Decay of the closing boost (backwards from the close), minutes.
    pub close_decay_minutes: f64,
    /// Extra trade intensity when the afternoon session opens after the lunch break.
    pub afternoon_boost: f64,
    /// Decay of the afternoon boost, minutes.
    pub afternoon_decay_minutes: f64,
    /// Elasticity of the price variance per trade to the trade intensity at its time
    /// (0: volatility per minute follows the trade count alone; 1: it grows with the
    /// square of the activity, the sharper U of intraday volatility).
    pub volatility_elasticity: f64,
    /// Opening auction (ATO) volume as a share of the day's volume, where `market`'s
    /// timetable has one.
    pub ato_volume_share: f64,
    /// Closing auction (ATC) volume as a share of the day's volume, where there is one.
    pub atc_volume_share: f64,
    /// Once a stock is locked at its ceiling or floor, the share of the would-be trades
    /// that still print (sellers hitting the ceiling queue, buyers lifting the floor).
    pub locked_trade_share: f64,
}

impl Default for Intraday {
    fn default() -> Self {
        Self {
            overnight_share: 0.25,
            open_boost: 3.0,
            open_decay_minutes: 25.0,
            close_boost: 2.0,
            close_decay_minutes: 30.0,
            afternoon_boost: 0.6,
            afternoon_decay_minutes: 15.0,
            volatility_elasticity: 1.5,
            ato_volume_share: 0.04,
            atc_volume_share: 0.12,
            locked_trade_share: 0.15,
        }
    }
}

/// Parameters of one liquidity class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassParams {
    /// Unconditional daily volatility of a stock of this class, as a fraction (before the
    /// sector's and exchange's `vol_scale`).
    pub vol: f64,
    /// Typical continuous trades per day: each stock draws one in `[lo, hi]`
    /// (log-uniform). Below ~5, days without a trade are common.
    pub trades_per_day: [f64; 2],
    /// Median trade size in round lots (log-normal around it).
    pub trade_lots: f64,
    /// Quoted spread as basis points of the price, drawn per stock in `[lo, hi]`; never
    /// below one tick (`[0, 0]`: always one tick).
    pub spread_bps: [f64; 2],
    /// Round lots per book level, drawn per stock in `[lo, hi]`.
    pub book_lots: [u64; 2],
}

/// The three liquidity classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquidityClasses {
    /// Large caps: one-tick spreads, deep books, thousands of trades a day.
    pub liquid: ClassParams,
    /// Mid caps.
    pub mid: ClassParams,
    /// Small, thinly traded names (most of UPCoM): wide spreads, days without a trade.
    pub illiquid: ClassParams,
}

impl Default for LiquidityClasses {
    fn default() -> Self {
        Self {
            liquid: ClassParams {
                vol: 0.019,
                trades_per_day: [1_200.0, 2_400.0],
                trade_lots: 20.0,
                spread_bps: [0.0, 0.0],
                book_lots: [100, 1_000],
            },
            mid: ClassParams {
                vol: 0.025,
                trades_per_day: [120.0, 600.0],
                trade_lots: 8.0,
                spread_bps: [15.0, 45.0],
                book_lots: [10, 100],
            },
            illiquid: ClassParams {
                vol: 0.03,
                trades_per_day: [0.15, 15.0],
                trade_lots: 3.0,
                spread_bps: [150.0, 450.0],
                book_lots: [1, 15],
            },
        }
    }
}

impl LiquidityClasses {
    /// The parameters of `class`.
    pub fn of(&self, class: Liquidity) -> &ClassParams {
        match class {
            Liquidity::Liquid => &self.liquid,
            Liquidity::Mid => &self.mid,
            Liquidity::Illiquid => &self.illiquid,
        }
    }
}

/// Parameters of one sector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectorParams {
    /// Loading on the market factor (before the exchange's `beta_scale`).
    pub beta: f64,
    /// Daily volatility of the sector's own factor (shared by its stocks).
    pub factor_vol: f64,
    /// Multiplier of the class volatility for stocks of this sector.
    pub vol_scale: f64,
}

const fn sector(beta: f64, factor_vol: f64, vol_scale: f64) -> SectorParams {
    SectorParams {
        beta,
        factor_vol,
        vol_scale,
    }
}

/// One [`SectorParams`] per [`Sector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sectors {
    /// Commercial banks.
    pub banks: SectorParams,
    /// Securities brokers (high beta).
    pub securities: SectorParams,
    /// Insurers.
    pub insurance: SectorParams,
    /// Residential and industrial-park developers.
    pub real_estate: SectorParams,
    /// Construction, engineering, building materials, machinery.
    pub industrials: SectorParams,
    /// Steel makers.
    pub steel: SectorParams,
    /// Chemicals, fertiliser, rubber, plastics, minerals.
    pub materials: SectorParams,
    /// Oil and gas.
    pub energy: SectorParams,
    /// Power and water.
    pub utilities: SectorParams,
    /// Food, beverages, retail, agriculture, textiles.
    pub consumer: SectorParams,
    /// IT and telecoms.
    pub technology: SectorParams,
    /// Airlines, airports, ports, shipping, post.
    pub logistics: SectorParams,
    /// Pharmaceuticals.
    pub healthcare: SectorParams,
    /// ETFs and funds (track the market).
    pub funds: SectorParams,
}

impl Default for Sectors {
    fn default() -> Self {
        Self {
            banks: sector(1.05, 0.007, 1.0),
            securities: sector(1.4, 0.009, 1.2),
            insurance: sector(0.85, 0.006, 0.95),
            real_estate: sector(1.2, 0.008, 1.2),
            industrials: sector(1.0, 0.007, 1.05),
            steel: sector(1.2, 0.008, 1.1),
            materials: sector(0.95, 0.008, 1.0),
            energy: sector(0.9, 0.009, 1.0),
            utilities: sector(0.7, 0.006, 0.85),
            consumer: sector(0.8, 0.006, 0.9),
            technology: sector(0.9, 0.007, 0.95),
            logistics: sector(0.9, 0.007, 1.0),
            healthcare: sector(0.6, 0.005, 0.8),
            funds: sector(1.0, 0.0, 0.5),
        }
    }
}

impl Sectors {
    /// The parameters of `sector`.
    pub fn of(&self, sector: Sector) -> &SectorParams {
        match sector {
            Sector::Banks => &self.banks,
            Sector::Securities => &self.securities,
            Sector::Insurance => &self.insurance,
            Sector::RealEstate => &self.real_estate,
            Sector::Industrials => &self.industrials,
            Sector::Steel => &self.steel,
            Sector::Materials => &self.materials,
            Sector::Energy => &self.energy,
            Sector::Utilities => &self.utilities,
            Sector::Consumer => &self.consumer,
            Sector::Technology => &self.technology,
            Sector::Logistics => &self.logistics,
            Sector::Healthcare => &self.healthcare,
            Sector::Funds => &self.funds,
        }
    }

    fn all(&self) -> impl Iterator<Item = (Sector, &SectorParams)> {
        Sector::ALL.iter().map(|&s| (s, self.of(s)))
    }
}

/// Parameters of one exchange's stocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeParams {
    /// Multiplier of the sector beta (UPCoM names follow the market less).
    pub beta_scale: f64,
    /// Multiplier of the class volatility.
    pub vol_scale: f64,
}

/// One [`ExchangeParams`] per stock exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exchanges {
    /// HOSE.
    pub hose: ExchangeParams,
    /// HNX (listed board).
    pub hnx: ExchangeParams,
    /// UPCoM.
    pub upcom: ExchangeParams,
}

impl Default for Exchanges {
    fn default() -> Self {
        Self {
            hose: ExchangeParams {
                beta_scale: 1.0,
                vol_scale: 1.0,
            },
            hnx: ExchangeParams {
                beta_scale: 0.9,
                vol_scale: 1.1,
            },
            upcom: ExchangeParams {
                beta_scale: 0.6,
                vol_scale: 1.15,
            },
        }
    }
}

impl Exchanges {
    /// The parameters of `exchange` (futures use HOSE's: they follow VN30).
    pub fn of(&self, exchange: market::Exchange) -> &ExchangeParams {
        match exchange {
            market::Exchange::Hose | market::Exchange::HnxDeriv => &self.hose,
            market::Exchange::Hnx => &self.hnx,
            market::Exchange::Upcom => &self.upcom,
        }
    }
}

/// VN30 index futures: the daily close is the VN30 index (computed from its constituents'
/// closes) plus a small random basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FuturesModel {
    /// Standard deviation of the daily basis (futures / index − 1).
    pub basis_sd: f64,
}

impl Default for FuturesModel {
    fn default() -> Self {
        Self { basis_sd: 0.002 }
    }
}

/// Put-through deals per stock and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PutThroughModel {
    /// Mean deals per day for a liquid, a mid and an illiquid stock.
    pub deals_per_day: [f64; 3],
    /// Put-through volume as a share of the stock's typical matched volume.
    pub value_share: f64,
    /// Standard deviation of a deal's log price around the reference.
    pub price_sd: f64,
}

impl Default for PutThroughModel {
    fn default() -> Self {
        Self {
            deals_per_day: [0.6, 0.2, 0.02],
            value_share: 0.12,
            price_sd: 0.02,
        }
    }
}

/// A parameter outside its domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("market model: `{key}` {problem}")]
pub struct ModelError {
    /// Dotted key (`market.garch_alpha`).
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

fn check(ok: bool, key: impl Into<String>, problem: &str) -> Result<(), ModelError> {
    if ok {
        Ok(())
    } else {
        Err(ModelError {
            key: key.into(),
            problem: problem.to_owned(),
        })
    }
}

fn probability(x: f64, key: impl Into<String>) -> Result<(), ModelError> {
    check(
        (0.0..=1.0).contains(&x),
        key,
        "must be a probability in 0..=1",
    )
}

fn non_negative(x: f64, key: impl Into<String>) -> Result<(), ModelError> {
    check(
        x.is_finite() && x >= 0.0,
        key,
        "must be a finite number ≥ 0",
    )
}

fn garch(alpha: f64, beta: f64, key: &str) -> Result<(), ModelError> {
    non_negative(alpha, format!("{key}.garch_alpha"))?;
    non_negative(beta, format!("{key}.garch_beta"))?;
    check(
        alpha + beta < 1.0,
        format!("{key}.garch_alpha + garch_beta"),
        "must be below 1 (a stationary variance)",
    )
}

fn range(r: [f64; 2], key: String) -> Result<(), ModelError> {
    non_negative(r[0], key.clone())?;
    non_negative(r[1], key.clone())?;
    check(r[0] <= r[1], key, "must be [low, high] with low ≤ high")
}

impl MarketModel {
    /// Checks every parameter's domain; the first problem is the error.
    pub fn validate(&self) -> Result<(), ModelError> {
        let m = &self.market;
        non_negative(m.vol, "market.vol")?;
        garch(m.garch_alpha, m.garch_beta, "market")?;
        probability(m.jump_prob, "market.jump_prob")?;
        non_negative(m.jump_size, "market.jump_size")?;
        probability(m.selloff_share, "market.selloff_share")?;
        let r = &self.regimes;
        probability(r.calm_to_turbulent, "regimes.calm_to_turbulent")?;
        probability(r.turbulent_to_calm, "regimes.turbulent_to_calm")?;
        non_negative(r.factor_scale, "regimes.factor_scale")?;
        non_negative(r.stock_scale, "regimes.stock_scale")?;
        non_negative(r.jump_scale, "regimes.jump_scale")?;
        let s = &self.stock;
        check(
            s.tail_dof > 2.0,
            "stock.tail_dof",
            "must be above 2 (a finite variance)",
        )?;
        garch(s.garch_alpha, s.garch_beta, "stock")?;
        probability(s.jump_prob, "stock.jump_prob")?;
        non_negative(s.jump_size, "stock.jump_size")?;
        check(
            (0.0..1.0).contains(&s.mean_reversion),
            "stock.mean_reversion",
            "must be in 0..1",
        )?;
        check(
            (0.0..=0.5).contains(&s.planted_reversal),
            "stock.planted_reversal",
            "must be in 0..=0.5",
        )?;
        let v = &self.volume;
        non_negative(v.activity_sd, "volume.activity_sd")?;
        non_negative(v.vol_elasticity, "volume.vol_elasticity")?;
        non_negative(v.abs_return_elasticity, "volume.abs_return_elasticity")?;
        let d = &self.intraday;
        probability(d.overnight_share, "intraday.overnight_share")?;
        for (x, key) in [
            (d.open_boost, "intraday.open_boost"),
            (d.close_boost, "intraday.close_boost"),
            (d.afternoon_boost, "intraday.afternoon_boost"),
            (d.volatility_elasticity, "intraday.volatility_elasticity"),
        ] {
            non_negative(x, key)?;
        }
        for (x, key) in [
            (d.open_decay_minutes, "intraday.open_decay_minutes"),
            (d.close_decay_minutes, "intraday.close_decay_minutes"),
            (
                d.afternoon_decay_minutes,
                "intraday.afternoon_decay_minutes",
            ),
        ] {
            check(x.is_finite() && x > 0.0, key, "must be a positive number")?;
        }
        probability(d.ato_volume_share, "intraday.ato_volume_share")?;
        probability(d.atc_volume_share, "intraday.atc_volume_share")?;
        check(
            d.ato_volume_share + d.atc_volume_share < 1.0,
            "intraday.ato_volume_share + atc_volume_share",
            "must be below 1",
        )?;
        probability(d.locked_trade_share, "intraday.locked_trade_share")?;
        for class in Liquidity::ALL {
            let c = self.liquidity.of(class);
            let key = format!("liquidity.{}", class.key());
            non_negative(c.vol, format!("{key}.vol"))?;
            range(c.trades_per_day, format!("{key}.trades_per_day"))?;
            check(
                c.trade_lots.is_finite() && c.trade_lots >= 1.0,
                format!("{key}.trade_lots"),
                "must be at least 1",
            )?;
            range(c.spread_bps, format!("{key}.spread_bps"))?;
            check(
                1 <= c.book_lots[0] && c.book_lots[0] <= c.book_lots[1],
                format!("{key}.book_lots"),
                "must be [low, high] with 1 ≤ low ≤ high",
            )?;
        }
        for (s, p) in self.sectors.all() {
            let key = format!("sectors.{}", s.key());
            non_negative(p.beta, format!("{key}.beta"))?;
            non_negative(p.factor_vol, format!("{key}.factor_vol"))?;
            non_negative(p.vol_scale, format!("{key}.vol_scale"))?;
        }
        for (p, key) in [
            (&self.exchanges.hose, "exchanges.hose"),
            (&self.exchanges.hnx, "exchanges.hnx"),
            (&self.exchanges.upcom, "exchanges.upcom"),
        ] {
            non_negative(p.beta_scale, format!("{key}.beta_scale"))?;
            non_negative(p.vol_scale, format!("{key}.vol_scale"))?;
        }
        non_negative(self.futures.basis_sd, "futures.basis_sd")?;
        let p = &self.put_through;
        for x in p.deals_per_day {
            non_negative(x, "put_through.deals_per_day")?;
        }
        non_negative(p.value_share, "put_through.value_share")?;
        non_negative(p.price_sd, "put_through.price_sd")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(MarketModel::default().validate(), Ok(()));
    }

    #[test]
    fn a_partial_model_keeps_the_other_defaults() {
        let m: MarketModel = serde_json::from_str(
            r#"{"market": {"vol": 0.02}, "liquidity": {"illiquid": {"vol": 0.04,
                "trades_per_day": [0.1, 2.0], "trade_lots": 2.0, "spread_bps": [200.0, 300.0],
                "book_lots": [1, 3]}}}"#,
        )
        .unwrap();
        assert_eq!(m.market.vol, 0.02);
        assert_eq!(m.market.garch_beta, MarketFactor::default().garch_beta);
        assert_eq!(m.liquidity.illiquid.trades_per_day, [0.1, 2.0]);
        assert_eq!(m.liquidity.liquid, LiquidityClasses::default().liquid);
        assert_eq!(m.sectors, Sectors::default());
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_name() {
        assert!(serde_json::from_str::<MarketModel>(r#"{"market": {"volatility": 1}}"#).is_err());
        let mut m = MarketModel::default();
        m.market.garch_alpha = 0.2;
        m.market.garch_beta = 0.85;
        let e = m.validate().unwrap_err();
        assert_eq!(e.key, "market.garch_alpha + garch_beta");
        let mut m = MarketModel::default();
        m.stock.tail_dof = 2.0;
        assert_eq!(m.validate().unwrap_err().key, "stock.tail_dof");
        let mut m = MarketModel::default();
        m.liquidity.mid.trades_per_day = [10.0, 1.0];
        assert_eq!(
            m.validate().unwrap_err().key,
            "liquidity.mid.trades_per_day"
        );
        let mut m = MarketModel::default();
        m.sectors.steel.beta = f64::NAN;
        assert_eq!(m.validate().unwrap_err().key, "sectors.steel.beta");
    }
}
