#!/usr/bin/env python3
"""Golden data for crates/indicators: TA-Lib's own outputs on a deterministic series.

Run from anywhere with a Python that has the PyPI `ta-lib` wheel (it bundles the C
library) and numpy, installed outside the repo:

    python3 -m venv /work/venv-talib && /work/venv-talib/bin/pip install ta-lib numpy
    /work/venv-talib/bin/python crates/indicators/golden/generate.py

Writes golden/data/input.csv (the series) and one golden/data/<case>.csv per case:

    line 1   FUNCTION|input,columns|name=value,...   (inputs name input.csv columns)
    line 2   output names, comma-separated
    then     one row per bar, values as Python repr (exact doubles), empty for NaN

The series is generated with integer arithmetic and + - * / floor only, so the Rust
benchmark (benches/) regenerates bit-identical bars of any length without the file.
"""

import math
import os
import sys

import numpy as np
import talib
import talib.abstract

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
BARS = 400
BARS_PER_SESSION = 50
MASK = (1 << 64) - 1


class SplitMix64:
    """splitmix64: tiny, well-known, and trivial to reproduce in Rust."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        """A double in [0, 1) from the top 53 bits."""
        return (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)


def round2(x):
    """Round to 0.01 (prices move in ticks), half up, with floor only."""
    return math.floor(x * 100.0 + 0.5) / 100.0


def series(n):
    """Bars as dict of numpy arrays: open, high, low, close, volume, periods, session.

    A random walk of ±2% per bar with trending regimes of 60 bars, opening gaps, a doji
    every 17th bar, a flat bar (O=H=L=C) every 53rd, zero volume every 71st. Below 10.00
    the drift is up whatever the regime: without that floor the walk sinks to 0.21 by bar
    ~40,000, where a ±2% move is less than half a tick, and stays flat for good (a long
    benchmark series would be 96% constant). The first 400 bars (the golden data) never
    go below 42, so the floor does not change them.
    """
    rng = SplitMix64(20250101)
    cols = {k: np.empty(n) for k in ("open", "high", "low", "close", "volume", "periods", "session")}
    prev = 50.0
    for i in range(n):
        u = [rng.uniform() for _ in range(6)]
        drift = 0.003 if (i // 60) % 2 == 0 or prev < 10.0 else -0.003
        close = round2(prev * (1.0 + (u[0] - 0.5) * 0.04 + drift))
        open_ = round2(prev * (1.0 + (u[1] - 0.5) * 0.01))
        if i % 17 == 16:
            open_ = close
        high = round2(max(open_, close) * (1.0 + u[2] * 0.015))
        low = round2(min(open_, close) * (1.0 - u[3] * 0.015))
        if i % 53 == 52:
            open_ = high = low = close
        volume = math.floor(1000.0 + u[4] * 100000.0)
        if i % 71 == 70:
            volume = 0.0
        cols["open"][i] = open_
        cols["high"][i] = high
        cols["low"][i] = low
        cols["close"][i] = close
        cols["volume"][i] = volume
        cols["periods"][i] = 2.0 + math.floor(u[5] * 29.0)
        cols["session"][i] = float(i // BARS_PER_SESSION)
        prev = close
    return cols


def time_of(i):
    day = i // BARS_PER_SESSION
    minute = 9 * 60 + 15 + 5 * (i % BARS_PER_SESSION)
    return "2025-%02d-%02dT%02d:%02d:00" % (1 + day // 28, 1 + day % 28, minute // 60, minute % 60)


OHLC = ["open", "high", "low", "close"]
HL = ["high", "low"]
HLC = ["high", "low", "close"]
HLCV = ["high", "low", "close", "volume"]
C = ["close"]

# (case file name, function, input columns, params). Default parameters first, then
# variants that reach other branches (other MA types, short periods).
CASES = [
    # --- overlap studies ---
    ("SMA", "SMA", C, {}),
    ("SMA_5", "SMA", C, {"timeperiod": 5}),
    ("EMA", "EMA", C, {}),
    ("EMA_5", "EMA", C, {"timeperiod": 5}),
    ("WMA", "WMA", C, {}),
    ("DEMA", "DEMA", C, {}),
    ("TEMA", "TEMA", C, {}),
    ("TRIMA", "TRIMA", C, {}),
    ("TRIMA_7", "TRIMA", C, {"timeperiod": 7}),
    ("KAMA", "KAMA", C, {}),
    ("T3", "T3", C, {}),
    ("MA", "MA", C, {}),
] + [
    ("MA_%d" % t, "MA", C, {"timeperiod": 10, "matype": t}) for t in range(9)
] + [
    # MAMA (MAType 7) inside other functions; MACDEXT starts its fast MAMA 7 bars in
    # (an odd offset: TA-Lib's odd/even bars flip, its numbers must not) and runs its
    # signal MAMA on the MACD.
    ("BBANDS_MAMA", "BBANDS", C, {"matype": 7}),
    ("MACDEXT_MAMA", "MACDEXT", C, {"fastmatype": 7, "slowperiod": 40, "slowmatype": 0,
                                    "signalmatype": 7}),
    ("STOCH_MAMA", "STOCH", HLC, {"slowk_matype": 7, "slowd_matype": 7}),
] + [
    ("MA_P1", "MA", C, {"timeperiod": 1}),
    ("MAVP", "MAVP", ["close", "periods"], {}),
    ("MAVP_EMA", "MAVP", ["close", "periods"], {"minperiod": 4, "maxperiod": 20, "matype": 1}),
    ("BBANDS", "BBANDS", C, {}),
    ("BBANDS_EMA", "BBANDS", C, {"timeperiod": 10, "nbdevup": 1.5, "nbdevdn": 2.5, "matype": 1}),
    ("SAR", "SAR", HL, {}),
    ("SAREXT", "SAREXT", HL, {}),
    ("SAREXT_X", "SAREXT", HL, {"startvalue": 0.0, "offsetonreverse": 0.01, "accelerationinitlong": 0.03,
                                "accelerationlong": 0.01, "accelerationmaxlong": 0.25,
                                "accelerationinitshort": 0.01, "accelerationshort": 0.03,
                                "accelerationmaxshort": 0.15}),
    ("MIDPOINT", "MIDPOINT", C, {}),
    ("MIDPRICE", "MIDPRICE", HL, {}),
    ("HT_TRENDLINE", "HT_TRENDLINE", C, {}),
    ("MAMA", "MAMA", C, {}),
    # --- momentum ---
    ("ADX", "ADX", HLC, {}),
    ("ADX_5", "ADX", HLC, {"timeperiod": 5}),
    ("ADXR", "ADXR", HLC, {}),
    ("APO", "APO", C, {}),
    ("APO_SMA", "APO", C, {"matype": 0}),
    ("AROON", "AROON", HL, {}),
    ("AROONOSC", "AROONOSC", HL, {}),
    ("BOP", "BOP", OHLC, {}),
    ("CCI", "CCI", HLC, {}),
    ("CMO", "CMO", C, {}),
    ("DX", "DX", HLC, {}),
    ("MACD", "MACD", C, {}),
    ("MACD_X", "MACD", C, {"fastperiod": 5, "slowperiod": 13, "signalperiod": 4}),
    ("MACDEXT", "MACDEXT", C, {}),
    ("MACDEXT_X", "MACDEXT", C, {"fastmatype": 1, "slowmatype": 2, "signalmatype": 3}),
    ("MACDFIX", "MACDFIX", C, {}),
    ("MFI", "MFI", HLCV, {}),
    ("MINUS_DI", "MINUS_DI", HLC, {}),
    ("MINUS_DM", "MINUS_DM", HL, {}),
    ("MOM", "MOM", C, {}),
    ("PLUS_DI", "PLUS_DI", HLC, {}),
    ("PLUS_DM", "PLUS_DM", HL, {}),
    ("PPO", "PPO", C, {}),
    ("ROC", "ROC", C, {}),
    ("ROCP", "ROCP", C, {}),
    ("ROCR", "ROCR", C, {}),
    ("ROCR100", "ROCR100", C, {}),
    ("RSI", "RSI", C, {}),
    ("RSI_3", "RSI", C, {"timeperiod": 3}),
    ("STOCH", "STOCH", HLC, {}),
    ("STOCH_EMA", "STOCH", HLC, {"fastk_period": 9, "slowk_period": 4, "slowk_matype": 1,
                                 "slowd_period": 5, "slowd_matype": 2}),
    ("STOCHF", "STOCHF", HLC, {}),
    ("STOCHRSI", "STOCHRSI", C, {}),
    ("TRIX", "TRIX", C, {}),
    ("ULTOSC", "ULTOSC", HLC, {}),
    ("WILLR", "WILLR", HLC, {}),
    # --- volume ---
    ("AD", "AD", HLCV, {}),
    ("ADOSC", "ADOSC", HLCV, {}),
    ("OBV", "OBV", ["close", "volume"], {}),
    ("VWAP", "VWAP", HLCV, {}),
    # --- volatility ---
    ("ATR", "ATR", HLC, {}),
    ("ATR_5", "ATR", HLC, {"timeperiod": 5}),
    ("NATR", "NATR", HLC, {}),
    ("TRANGE", "TRANGE", HLC, {}),
    # --- price transforms ---
    ("AVGPRICE", "AVGPRICE", OHLC, {}),
    ("MEDPRICE", "MEDPRICE", HL, {}),
    ("TYPPRICE", "TYPPRICE", HLC, {}),
    ("WCLPRICE", "WCLPRICE", HLC, {}),
    # --- cycle ---
    ("HT_DCPERIOD", "HT_DCPERIOD", C, {}),
    ("HT_DCPHASE", "HT_DCPHASE", C, {}),
    ("HT_PHASOR", "HT_PHASOR", C, {}),
    ("HT_SINE", "HT_SINE", C, {}),
    ("HT_TRENDMODE", "HT_TRENDMODE", C, {}),
    # --- statistics ---
    ("BETA", "BETA", ["close", "open"], {}),
    ("CORREL", "CORREL", ["close", "open"], {}),
    ("LINEARREG", "LINEARREG", C, {}),
    ("LINEARREG_ANGLE", "LINEARREG_ANGLE", C, {}),
    ("LINEARREG_INTERCEPT", "LINEARREG_INTERCEPT", C, {}),
    ("LINEARREG_SLOPE", "LINEARREG_SLOPE", C, {}),
    ("STDDEV", "STDDEV", C, {}),
    ("STDDEV_X", "STDDEV", C, {"timeperiod": 20, "nbdev": 2.0}),
    ("TSF", "TSF", C, {}),
    ("VAR", "VAR", C, {}),
    # --- math operators used by the above ---
    ("MAX", "MAX", C, {}),
    ("MIN", "MIN", C, {}),
    ("SUM", "SUM", C, {}),
] + [
    (f, f, OHLC, {}) for f in talib.get_function_groups()["Pattern Recognition"]
    if f in {
        "CDL2CROWS", "CDL3BLACKCROWS", "CDL3INSIDE", "CDL3LINESTRIKE", "CDL3OUTSIDE",
        "CDL3STARSINSOUTH", "CDL3WHITESOLDIERS", "CDLABANDONEDBABY", "CDLADVANCEBLOCK",
        "CDLBELTHOLD", "CDLBREAKAWAY", "CDLCLOSINGMARUBOZU", "CDLCONCEALBABYSWALL",
        "CDLCOUNTERATTACK", "CDLDARKCLOUDCOVER", "CDLDOJI", "CDLDOJISTAR", "CDLDRAGONFLYDOJI",
        "CDLENGULFING", "CDLEVENINGDOJISTAR", "CDLEVENINGSTAR", "CDLGAPSIDESIDEWHITE",
        "CDLGRAVESTONEDOJI", "CDLHAMMER", "CDLHANGINGMAN", "CDLHARAMI", "CDLHARAMICROSS",
        "CDLHIGHWAVE", "CDLHIKKAKE", "CDLHIKKAKEMOD", "CDLHOMINGPIGEON", "CDLIDENTICAL3CROWS",
        "CDLINNECK", "CDLINVERTEDHAMMER", "CDLKICKING", "CDLKICKINGBYLENGTH", "CDLLADDERBOTTOM",
        "CDLLONGLEGGEDDOJI", "CDLLONGLINE", "CDLMARUBOZU", "CDLMATCHINGLOW", "CDLMATHOLD",
        "CDLMORNINGDOJISTAR", "CDLMORNINGSTAR", "CDLONNECK", "CDLPIERCING", "CDLRICKSHAWMAN",
        "CDLRISEFALL3METHODS", "CDLSEPARATINGLINES", "CDLSHOOTINGSTAR", "CDLSHORTLINE",
        "CDLSPINNINGTOP", "CDLSTALLEDPATTERN", "CDLSTICKSANDWICH", "CDLTAKURI", "CDLTASUKIGAP",
        "CDLTHRUSTING", "CDLTRISTAR", "CDLUNIQUE3RIVER", "CDLUPSIDEGAP2CROWS",
        "CDLXSIDEGAP3METHODS",
    }
]


def fmt(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return ""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def blank_integer_lookback(func, params, out):
    """Integer outputs (CDL*, HT_TRENDMODE) come back as int arrays with 0 where TA-Lib
    wrote nothing; blank TA-Lib's own lookback there, so the NaN positions check ours as
    for every real-valued output."""
    if not any(np.issubdtype(o.dtype, np.integer) for o in out):
        return out
    abstract = talib.abstract.Function(func)
    abstract.set_parameters(params)
    head = np.arange(len(out[0])) < abstract.lookback
    return tuple(np.where(head, np.nan, o.astype(float)) if np.issubdtype(o.dtype, np.integer)
                 else o for o in out)


def write_input(cols, path):
    with open(path, "w") as f:
        f.write("time,open,high,low,close,volume,periods,session\n")
        for i in range(len(cols["close"])):
            f.write(",".join([time_of(i)] + [fmt(cols[k][i]) for k in
                    ("open", "high", "low", "close", "volume", "periods", "session")]) + "\n")


def run_case(cols, func, inputs, params):
    out = getattr(talib, func)(*[cols[k] for k in inputs], **params)
    if not isinstance(out, tuple):
        out = (out,)
    names = talib.abstract.Function(func).info["output_names"]
    if func.startswith("CDL"):
        # Patterns return int arrays, 0 where TA-Lib wrote nothing: blank TA-Lib's own
        # lookback so the NaN positions check ours, as for every real-valued output.
        abstract = talib.abstract.Function(func)
        abstract.set_parameters(params)
        head = np.arange(len(out[0])) < abstract.lookback
        out = tuple(np.where(head, np.nan, o.astype(float)) for o in out)
    return names, out


def main():
    os.makedirs(DATA, exist_ok=True)
    for name in os.listdir(DATA):
        if name.endswith(".csv"):
            os.remove(os.path.join(DATA, name))
    cols = series(BARS)
    write_input(cols, os.path.join(DATA, "input.csv"))
    seen = set()
    for case, func, inputs, params in CASES:
        assert case not in seen, case
        seen.add(case)
        names, out = run_case(cols, func, inputs, params)
        out = blank_integer_lookback(func, params, out)
        p = ",".join("%s=%s" % (k, fmt(v)) for k, v in params.items())
        with open(os.path.join(DATA, case + ".csv"), "w") as f:
            f.write("%s|%s|%s\n" % (func, ",".join(inputs), p))
            f.write(",".join(names) + "\n")
            for i in range(BARS):
                f.write(",".join(fmt(o[i]) for o in out) + "\n")
    with open(os.path.join(DATA, "VERSION"), "w") as f:
        f.write("ta-lib python %s, C library %s\n" % (talib.__version__, talib.__ta_version__.decode()))
    sys.stderr.write("wrote %d cases of %d bars to %s\n" % (len(CASES), BARS, DATA))
    write_pattern_cases()


# --- candlestick patterns on a series where every one of them fires -----------------
# The main series fires only about two thirds of the patterns. This one is cut from a
# long random series of coarse-tick candles (equal levels, gaps, dojis and marubozu are
# common there): the 16 bars before each pattern's first signal of every value (more
# than any pattern's lookback, 14), so every pattern fires with each of its outputs.

PATTERNS = os.path.join(DATA, "patterns")
PATTERN_SOURCE_BARS = 400000
PATTERN_WINDOW = 16
PENETRATION = ["CDLABANDONEDBABY", "CDLDARKCLOUDCOVER", "CDLEVENINGDOJISTAR", "CDLEVENINGSTAR",
               "CDLMATHOLD", "CDLMORNINGDOJISTAR", "CDLMORNINGSTAR"]
PATTERN_CASES = [(c[0], c[1], c[3]) for c in CASES if c[1].startswith("CDL")] + [
    (f + "_P0", f, {"penetration": 0.0}) for f in PENETRATION if f != "CDLMATHOLD"
] + [
    (f + "_P07", f, {"penetration": 0.7}) for f in PENETRATION
]


def candles(n):
    """Random candles on a tick of 1 or 0.25 (exact doubles) around 100."""
    rng = SplitMix64(20250202)
    cols = {k: np.empty(n) for k in OHLC}
    scale = [0.0, 1.0, 1.0, 3.0]
    prev = 100.0
    for i in range(n):
        u = [rng.uniform() for _ in range(8)]
        tick = 1.0 if (i // 1000) % 2 == 0 else 0.25
        open_ = prev + tick * (math.floor(u[0] * 7.0) - 3.0) * scale[math.floor(u[1] * 4.0)]
        close = open_ + tick * (math.floor(u[2] * 11.0) - 5.0) * scale[math.floor(u[3] * 4.0)]
        high = max(open_, close) + tick * math.floor(u[4] * 4.0) * scale[math.floor(u[5] * 4.0)]
        low = min(open_, close) - tick * math.floor(u[6] * 4.0) * scale[math.floor(u[7] * 4.0)]
        cols["open"][i], cols["high"][i], cols["low"][i], cols["close"][i] = open_, high, low, close
        prev = close if 50.0 < close < 150.0 else 100.0
    return cols


# Concealing baby swallow needs two black marubozu, a black candle gapping down with an
# upper shadow into the prior body, and a black candle engulfing its range: it fires
# nowhere in the random source, so it comes hand-made after 12 quiet bars (o h l c).
CONCEAL_BABY_SWALLOW = [(100.0, 102.0, 99.0, 101.0)] * 12 + [
    (100.0, 100.0, 96.0, 96.0),
    (96.0, 96.0, 92.0, 92.0),
    (91.0, 93.0, 89.5, 90.0),
    (94.0, 94.5, 88.0, 88.0),
]


def write_pattern_cases():
    os.makedirs(PATTERNS, exist_ok=True)
    for name in os.listdir(PATTERNS):
        if name.endswith(".csv"):
            os.remove(os.path.join(PATTERNS, name))
    source = candles(PATTERN_SOURCE_BARS)
    signals = set()
    for _, func, params in PATTERN_CASES:
        out = run_case(source, func, OHLC, params)[1][0]
        for v in set(out[PATTERN_WINDOW:]) - {0.0}:
            signals.add(PATTERN_WINDOW + int(np.argmax(out[PATTERN_WINDOW:] == v)))
    keep = sorted({j for i in signals for j in range(i - PATTERN_WINDOW, i + 1)})
    cols = {k: np.concatenate([source[k][keep], [bar[j] for bar in CONCEAL_BABY_SWALLOW]])
            for j, k in enumerate(OHLC)}
    n = len(cols["close"])
    with open(os.path.join(PATTERNS, "input.csv"), "w") as f:
        f.write(",".join(OHLC) + "\n")
        for i in range(n):
            f.write(",".join(fmt(cols[k][i]) for k in OHLC) + "\n")
    for case, func, params in PATTERN_CASES:
        names, out = run_case(cols, func, OHLC, params)
        if not np.any(np.nan_to_num(out[0]) != 0.0):
            sys.stderr.write("warning: %s never fires on the pattern series\n" % case)
        p = ",".join("%s=%s" % (k, fmt(v)) for k, v in params.items())
        with open(os.path.join(PATTERNS, case + ".csv"), "w") as f:
            f.write("%s|%s|%s\n" % (func, ",".join(OHLC), p))
            f.write(",".join(names) + "\n")
            for i in range(n):
                f.write(",".join(fmt(o[i]) for o in out) + "\n")
    sys.stderr.write("wrote %d pattern cases of %d bars to %s\n" % (len(PATTERN_CASES), n, PATTERNS))


if __name__ == "__main__":
    main()
