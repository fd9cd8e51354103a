//! Hilbert-transform cycle indicators (HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE,
//! HT_TRENDMODE) and the HT-based HT_TRENDLINE and MAMA. Filled in by the cycle work.
