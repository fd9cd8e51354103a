//! Volume indicators: AD, ADOSC, OBV, VWAP and per-session VWAP.
