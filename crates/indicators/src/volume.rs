//! Volume indicators: AD, ADOSC, OBV, VWAP and per-session VWAP.

use serde::{Deserialize, Serialize};

use crate::{Error, Group, Input, ParamSpec, Params, Spec, Streaming};

const HLCV: &[Input] = &[Input::High, Input::Low, Input::Close, Input::Volume];

/// Chaikin's accumulation/distribution line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AdCore {
    ad: f64,
}

impl AdCore {
    #[inline]
    fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let range = high - low;
        if range > 0.0 {
            self.ad += (((close - low) - (high - close)) / range) * volume;
        }
        self.ad
    }
}

/// AD: Chaikin A/D line, Σ volume · ((C − L) − (H − C)) / (H − L). Lookback 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ad {
    core: AdCore,
}

impl Streaming for Ad {
    const SPEC: &'static Spec = &Spec {
        name: "AD",
        group: Group::Volume,
        description: "Chaikin A/D Line",
        inputs: HLCV,
        params: &[],
        outputs: &["real"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(Ad::default())
    }

    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.core.next(input[0], input[1], input[2], input[3]);
    }
}

/// ADOSC: EMA(fast) − EMA(slow) of the A/D line, both seeded with the first A/D value
/// (not an SMA: TA-Lib's ADOSC). Lookback `max(fast, slow) − 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdOsc {
    core: AdCore,
    fast_k: f64,
    slow_k: f64,
    fast: f64,
    slow: f64,
    seen: usize,
    lookback: usize,
}

impl Streaming for AdOsc {
    const SPEC: &'static Spec = &Spec {
        name: "ADOSC",
        group: Group::Volume,
        description: "Chaikin A/D Oscillator",
        inputs: HLCV,
        params: &[
            ParamSpec::int("fastperiod", 3, 2, 100_000),
            ParamSpec::int("slowperiod", 10, 2, 100_000),
        ],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        let (fast, slow) = (p.usize("fastperiod")?, p.usize("slowperiod")?);
        Ok(AdOsc {
            core: AdCore::default(),
            fast_k: 2.0 / (fast as f64 + 1.0),
            slow_k: 2.0 / (slow as f64 + 1.0),
            fast: 0.0,
            slow: 0.0,
            seen: 0,
            lookback: fast.max(slow) - 1,
        })
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let ad = self.core.next(input[0], input[1], input[2], input[3]);
        if self.seen == 0 {
            self.fast = ad;
            self.slow = ad;
        } else {
            self.fast = (self.fast_k * ad) + ((1.0 - self.fast_k) * self.fast);
            self.slow = (self.slow_k * ad) + ((1.0 - self.slow_k) * self.slow);
        }
        let today = self.seen;
        self.seen = self.seen.saturating_add(1);
        out[0] = if today >= self.lookback {
            self.fast - self.slow
        } else {
            f64::NAN
        };
    }
}

/// OBV: on-balance volume, starting at the first bar's volume. Lookback 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Obv {
    prev: Option<(f64, f64)>,
}

impl Streaming for Obv {
    const SPEC: &'static Spec = &Spec {
        name: "OBV",
        group: Group::Volume,
        description: "On Balance Volume",
        inputs: &[Input::Close, Input::Volume],
        params: &[],
        outputs: &["real"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(Obv::default())
    }

    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let (x, v) = (input[0], input[1]);
        let obv = match self.prev {
            None => v,
            Some((prev, obv)) if x > prev => obv + v,
            Some((prev, obv)) if x < prev => obv - v,
            Some((_, obv)) => obv,
        };
        self.prev = Some((x, obv));
        out[0] = obv;
    }
}

/// Σ typical price · volume / Σ volume, 0 while no volume traded (as TA-Lib's VWAP).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct VwapCore {
    pv: f64,
    v: f64,
}

impl VwapCore {
    #[inline]
    fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> f64 {
        let tp = (high + low + close) / 3.0;
        self.pv += tp * volume;
        self.v += volume;
        if self.v > 0.0 { self.pv / self.v } else { 0.0 }
    }
}

/// VWAP: cumulative volume-weighted typical price from the first bar. Lookback 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vwap {
    core: VwapCore,
}

impl Streaming for Vwap {
    const SPEC: &'static Spec = &Spec {
        name: "VWAP",
        group: Group::Volume,
        description: "Volume Weighted Average Price",
        inputs: HLCV,
        params: &[],
        outputs: &["real"],
    };

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(Vwap::default())
    }

    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = self.core.next(input[0], input[1], input[2], input[3]);
    }
}

/// SESSION_VWAP: VWAP restarted at every session. With `flag` = 0 (default) the fifth
/// input is a session id (e.g. the trading day) and a change of id starts a session;
/// with `flag` = 1 it is a reset flag and any non-zero value starts one. Lookback 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionVwap {
    flag: bool,
    session: Option<f64>,
    core: VwapCore,
}

impl Streaming for SessionVwap {
    const SPEC: &'static Spec = &Spec {
        name: "SESSION_VWAP",
        group: Group::Volume,
        description: "Volume Weighted Average Price, reset every session",
        inputs: &[
            Input::High,
            Input::Low,
            Input::Close,
            Input::Volume,
            Input::Session,
        ],
        params: &[ParamSpec::int("flag", 0, 0, 1)],
        outputs: &["real"],
    };

    fn from_params(p: &Params) -> Result<Self, Error> {
        Ok(SessionVwap {
            flag: p.usize("flag")? == 1,
            session: None,
            core: VwapCore::default(),
        })
    }

    fn lookback(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let s = input[4];
        let new_session = if self.flag {
            s != 0.0
        } else {
            self.session.is_none_or(|prev| prev != s)
        };
        if new_session {
            self.core = VwapCore::default();
        }
        self.session = Some(s);
        out[0] = self.core.next(input[0], input[1], input[2], input[3]);
    }
}
