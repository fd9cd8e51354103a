//! Candlestick patterns (CDL*): outputs 0, ±100 or ±200 as TA-Lib does. Filled in by
//! the pattern work.
