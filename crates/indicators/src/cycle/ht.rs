//! HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE, HT_TRENDMODE and HT_TRENDLINE on the
//! shared [`Hilbert`] state.

use serde::{Deserialize, Serialize};

use super::hilbert::{DcPhase, Hilbert, Trendline};
use crate::{Error, Group, Input, Params, Spec, Streaming};

/// Price-WMA bars before the main loop of the lookback-32 functions (3 + 9).
const WARMUP_32: usize = 12;
/// Price-WMA bars before the main loop of the lookback-63 functions (3 + 34).
const WARMUP_63: usize = 37;

const fn spec(
    name: &'static str,
    group: Group,
    description: &'static str,
    outputs: &'static [&'static str],
) -> Spec {
    Spec {
        name,
        group,
        description,
        inputs: &[Input::Real],
        params: &[],
        outputs,
    }
}

/// HT_DCPERIOD: the smoothed dominant cycle period, in bars. Lookback 32.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtDcPeriod {
    ht: Hilbert,
}

impl Streaming for HtDcPeriod {
    const SPEC: &'static Spec = &spec(
        "HT_DCPERIOD",
        Group::Cycle,
        "Hilbert Transform - Dominant Cycle Period",
        &["real"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtDcPeriod {
            ht: Hilbert::new(WARMUP_32),
        })
    }

    fn lookback(&self) -> usize {
        32
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = match self.ht.next(input[0]) {
            Some(bar) if self.ht.seen() > 32 => bar.smooth_period,
            _ => f64::NAN,
        };
    }
}

/// HT_PHASOR: the in-phase and quadrature components of the Hilbert transform.
/// Lookback 32.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtPhasor {
    ht: Hilbert,
}

impl Streaming for HtPhasor {
    const SPEC: &'static Spec = &spec(
        "HT_PHASOR",
        Group::Cycle,
        "Hilbert Transform - Phasor Components",
        &["inphase", "quadrature"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtPhasor {
            ht: Hilbert::new(WARMUP_32),
        })
    }

    fn lookback(&self) -> usize {
        32
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        (out[0], out[1]) = match self.ht.next(input[0]) {
            Some(bar) if self.ht.seen() > 32 => (bar.i1, bar.q1),
            _ => (f64::NAN, f64::NAN),
        };
    }
}

/// HT_DCPHASE: the dominant cycle phase, in degrees (−45..315). Lookback 63.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtDcPhase {
    ht: Hilbert,
    phase: DcPhase,
}

impl Streaming for HtDcPhase {
    const SPEC: &'static Spec = &spec(
        "HT_DCPHASE",
        Group::Cycle,
        "Hilbert Transform - Dominant Cycle Phase",
        &["real"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtDcPhase {
            ht: Hilbert::new(WARMUP_63),
            phase: DcPhase::new(),
        })
    }

    fn lookback(&self) -> usize {
        63
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        if let Some(bar) = self.ht.next(input[0]) {
            let phase = self.phase.next(&bar);
            if self.ht.seen() > 63 {
                out[0] = phase;
            }
        }
    }
}

/// HT_SINE: the sine of the dominant cycle phase and of the phase advanced by 45°.
/// Lookback 63.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtSine {
    ht: Hilbert,
    phase: DcPhase,
}

impl Streaming for HtSine {
    const SPEC: &'static Spec = &spec(
        "HT_SINE",
        Group::Cycle,
        "Hilbert Transform - SineWave",
        &["sine", "leadsine"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtSine {
            ht: Hilbert::new(WARMUP_63),
            phase: DcPhase::new(),
        })
    }

    fn lookback(&self) -> usize {
        63
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        out[1] = f64::NAN;
        if let Some(bar) = self.ht.next(input[0]) {
            let phase = self.phase.next(&bar);
            if self.ht.seen() > 63 {
                let deg2rad = self.phase.deg2rad();
                out[0] = (phase * deg2rad).sin();
                out[1] = ((phase + 45.0) * deg2rad).sin();
            }
        }
    }
}

/// HT_TRENDLINE: Ehlers' instantaneous trendline (a 4-3-2-1 weighting of the mean price
/// over the dominant cycle). Lookback 63.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtTrendline {
    ht: Hilbert,
    line: Trendline,
}

impl Streaming for HtTrendline {
    const SPEC: &'static Spec = &spec(
        "HT_TRENDLINE",
        Group::Overlap,
        "Hilbert Transform - Instantaneous Trendline",
        &["real"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtTrendline {
            ht: Hilbert::new(WARMUP_63),
            line: Trendline::new(),
        })
    }

    fn lookback(&self) -> usize {
        63
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        self.line.push(input[0]);
        if let Some(bar) = self.ht.next(input[0]) {
            let line = self.line.next(bar.smooth_period);
            if self.ht.seen() > 63 {
                out[0] = line;
            }
        }
    }
}

/// HT_TRENDMODE: 1 while the market trends, 0 while it cycles (as `f64`). Lookback 63.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtTrendMode {
    ht: Hilbert,
    phase: DcPhase,
    line: Trendline,
    prev_phase: f64,
    sine: f64,
    lead_sine: f64,
    days_in_trend: u64,
}

impl Streaming for HtTrendMode {
    const SPEC: &'static Spec = &spec(
        "HT_TRENDMODE",
        Group::Cycle,
        "Hilbert Transform - Trend vs Cycle Mode",
        &["integer"],
    );

    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(HtTrendMode {
            ht: Hilbert::new(WARMUP_63),
            phase: DcPhase::new(),
            line: Trendline::new(),
            prev_phase: 0.0,
            sine: 0.0,
            lead_sine: 0.0,
            days_in_trend: 0,
        })
    }

    fn lookback(&self) -> usize {
        63
    }

    #[inline]
    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        out[0] = f64::NAN;
        self.line.push(input[0]);
        let Some(bar) = self.ht.next(input[0]) else {
            return;
        };
        let prev_phase = self.prev_phase;
        let phase = self.phase.next(&bar);
        self.prev_phase = phase;
        let (prev_sine, prev_lead_sine) = (self.sine, self.lead_sine);
        let deg2rad = self.phase.deg2rad();
        self.sine = (phase * deg2rad).sin();
        self.lead_sine = ((phase + 45.0) * deg2rad).sin();
        let (sine, lead_sine) = (self.sine, self.lead_sine);
        let smooth_period = bar.smooth_period;
        let trendline = self.line.next(smooth_period);

        // Assume a trend; count the bars since the sine wave lines last crossed.
        let mut trend = true;
        if (sine > lead_sine && prev_sine <= prev_lead_sine)
            || (sine < lead_sine && prev_sine >= prev_lead_sine)
        {
            self.days_in_trend = 0;
            trend = false;
        }
        self.days_in_trend = self.days_in_trend.saturating_add(1);
        if (self.days_in_trend as f64) < (0.5 * smooth_period) {
            trend = false;
        }
        let delta = phase - prev_phase;
        if smooth_period != 0.0
            && delta > (0.67 * 360.0 / smooth_period)
            && delta < (1.5 * 360.0 / smooth_period)
        {
            trend = false;
        }
        let smoothed = self.phase.current_smoothed();
        if trendline != 0.0 && ((smoothed - trendline) / trendline).abs() >= 0.015 {
            trend = true;
        }
        if self.ht.seen() > 63 {
            out[0] = if trend { 1.0 } else { 0.0 };
        }
    }
}
