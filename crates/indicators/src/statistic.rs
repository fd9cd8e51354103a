//! Statistic functions: BETA, CORREL, LINEARREG family, STDDEV, TSF, VAR.
