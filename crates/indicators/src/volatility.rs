//! Volatility: TRANGE, ATR, NATR.
