//! The contract every function implements ([`Streaming`]), the object-safe view the
//! registry hands out ([`Indicator`]), and the batch driver that runs the one over slices.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::registry::State;
use crate::{Error, Params, Spec};

/// The most inputs or outputs any function has; the batch driver's stack buffers.
pub const MAX_IO: usize = 8;

/// One function's streaming state machine: the single implementation behind both APIs.
///
/// The struct holds its parameters and its whole state, so `Clone` is an in-memory
/// snapshot and serde is a persistent one (state fields never hold NaN or infinities,
/// which JSON cannot carry: "not yet" is an `Option` or a counter).
///
/// [`Streaming::update`] consumes one bar and writes one value per output: NaN while the
/// first [`Streaming::lookback`] bars are consumed, a number from bar index `lookback`
/// on. Feeding a whole series gives exactly TA-Lib's output, shifted to the input's
/// length (what TA-Lib's Python wrapper returns).
pub trait Streaming:
    Clone + fmt::Debug + Send + Sync + Serialize + DeserializeOwned + 'static
{
    /// Name, inputs, parameters, outputs.
    const SPEC: &'static Spec;

    /// Builds a fresh indicator from checked parameters.
    fn from_params(params: &Params) -> Result<Self, Error>
    where
        Self: Sized;

    /// Bars consumed before the first defined output (TA-Lib's `_Lookback`, unstable
    /// period 0).
    fn lookback(&self) -> usize;

    /// Consumes one bar. `input` holds one value per [`Spec::inputs`], `out` one slot per
    /// [`Spec::outputs`] (callers guarantee the lengths). O(1) in the number of bars.
    fn update(&mut self, input: &[f64], out: &mut [f64]);

    /// The batch loop behind [`Streaming::batch`] and [`Indicator::batch`]: consumes
    /// every bar of `inputs` (one slice per [`Spec::inputs`], all of one length, checked
    /// by the caller) and appends one value per bar to each of `outputs` (one empty
    /// vector per [`Spec::outputs`], with capacity for the input length).
    ///
    /// The default drives [`Streaming::update`] bar by bar. A function may override it
    /// with a tighter loop, provided it calls the same arithmetic (the step functions
    /// `update` uses), so the values are bit for bit `update`'s, and leaves `self` in
    /// exactly the state `update` over the same bars would (streaming may continue).
    /// The one exception: EMA, RSI, ATR and MACD/MACDFIX run their EMA and Wilder
    /// recurrences four bars per step (`util::Decay4`), the same recurrence rounded
    /// differently, so their values and state agree with `update`'s to ~1e-14 relative
    /// (tested to 1e-12), not bit for bit.
    fn batch_into(&mut self, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
        drive_updates(self, inputs, outputs);
    }

    /// Runs the indicator over whole series: one slice per input, all of one length.
    /// Returns one vector per output, each as long as the input, NaN before `lookback`.
    fn batch(self, inputs: &[&[f64]]) -> Result<Vec<Vec<f64>>, Error>
    where
        Self: Sized,
    {
        run_batch(self, inputs)
    }
}

/// An indicator behind a `Box`, as built by name with [`crate::build`]. Every
/// [`Streaming`] type that the registry lists implements it.
pub trait Indicator: fmt::Debug + Send + Sync {
    /// Name, inputs, parameters, outputs.
    fn spec(&self) -> &'static Spec;
    /// Bars consumed before the first defined output.
    fn lookback(&self) -> usize;
    /// Consumes one bar; see [`Streaming::update`]. Panics never; wrong slice lengths
    /// leave missing outputs untouched.
    fn update(&mut self, input: &[f64], out: &mut [f64]);
    /// The whole state, serialisable with serde.
    fn snapshot(&self) -> State;
    /// Replaces the whole state with a snapshot of the same function.
    fn restore(&mut self, state: State) -> Result<(), Error>;
    /// An independent copy.
    fn clone_box(&self) -> Box<dyn Indicator>;
    /// Runs over whole series from the current state; see [`Streaming::batch`].
    fn batch(&mut self, inputs: &[&[f64]]) -> Result<Vec<Vec<f64>>, Error>;
}

impl<T> Indicator for T
where
    T: Streaming,
    State: From<T>,
    T: TryFrom<State, Error = Error>,
{
    fn spec(&self) -> &'static Spec {
        T::SPEC
    }

    fn lookback(&self) -> usize {
        Streaming::lookback(self)
    }

    fn update(&mut self, input: &[f64], out: &mut [f64]) {
        let n_in = T::SPEC.inputs.len();
        let n_out = T::SPEC.outputs.len();
        if input.len() >= n_in && out.len() >= n_out {
            Streaming::update(self, input, out);
        } else {
            let mut buf = [f64::NAN; MAX_IO];
            let mut inb = [f64::NAN; MAX_IO];
            for (d, s) in inb.iter_mut().zip(input) {
                *d = *s;
            }
            Streaming::update(
                self,
                &inb[..n_in.min(MAX_IO)],
                &mut buf[..n_out.min(MAX_IO)],
            );
            for (d, s) in out.iter_mut().zip(buf) {
                *d = s;
            }
        }
    }

    fn snapshot(&self) -> State {
        State::from(self.clone())
    }

    fn restore(&mut self, state: State) -> Result<(), Error> {
        *self = T::try_from(state)?;
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Indicator> {
        Box::new(self.clone())
    }

    fn batch(&mut self, inputs: &[&[f64]]) -> Result<Vec<Vec<f64>>, Error> {
        run_batch_mut(self, inputs)
    }
}

/// Runs `ind` over whole series; see [`Streaming::batch`].
pub fn run_batch<T: Streaming>(mut ind: T, inputs: &[&[f64]]) -> Result<Vec<Vec<f64>>, Error> {
    run_batch_mut(&mut ind, inputs)
}

fn run_batch_mut<T: Streaming>(ind: &mut T, inputs: &[&[f64]]) -> Result<Vec<Vec<f64>>, Error> {
    let spec = T::SPEC;
    let n_in = spec.inputs.len();
    let n_out = spec.outputs.len();
    if inputs.len() != n_in {
        return Err(Error::InputCount {
            function: spec.name,
            expected: n_in,
            got: inputs.len(),
        });
    }
    let len = inputs.first().map_or(0, |s| s.len());
    if inputs.iter().any(|s| s.len() != len) {
        return Err(Error::InputLength {
            function: spec.name,
        });
    }
    let mut outputs: Vec<Vec<f64>> = (0..n_out).map(|_| Vec::with_capacity(len)).collect();
    ind.batch_into(inputs, &mut outputs);
    for o in &mut outputs {
        // A batch loop appends exactly one value per bar; this only guards the length.
        o.resize(len, f64::NAN);
    }
    Ok(outputs)
}

/// [`Streaming::batch_into`]'s default: `update` bar by bar, through stack buffers.
pub fn drive_updates<T: Streaming>(ind: &mut T, inputs: &[&[f64]], outputs: &mut [Vec<f64>]) {
    let n_in = T::SPEC.inputs.len().min(MAX_IO);
    let n_out = T::SPEC.outputs.len().min(MAX_IO);
    let len = inputs.first().map_or(0, |s| s.len());
    if let ([input], [output]) = (inputs, &mut *outputs) {
        // The common single-series, single-output case, without per-bar copies.
        let mut out = [f64::NAN];
        output.extend(input.iter().map(|x| {
            ind.update(std::slice::from_ref(x), &mut out);
            out[0]
        }));
        return;
    }
    let mut bar = [0.0; MAX_IO];
    let mut out = [f64::NAN; MAX_IO];
    let (bar, out) = (&mut bar[..n_in], &mut out[..n_out]);
    for i in 0..len {
        for (b, s) in bar.iter_mut().zip(inputs) {
            *b = s.get(i).copied().unwrap_or(f64::NAN);
        }
        ind.update(bar, out);
        for (o, v) in outputs.iter_mut().zip(out.iter()) {
            o.push(*v);
        }
    }
}
