#!/usr/bin/env python3
"""Times TA-Lib on the same 1,000,000 deterministic bars as benches/indicators.rs.

    /work/venv-talib/bin/python crates/indicators/golden/bench_talib.py

Prints ms per batch call and ns per bar, best of 5, for the eight headline functions
with default parameters.
"""

import os
import sys
import time

import talib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import series  # noqa: E402

BARS = 1_000_000


def main():
    t0 = time.perf_counter()
    b = series(BARS)
    sys.stderr.write("generated %d bars in %.1f s\n" % (BARS, time.perf_counter() - t0))
    h, l, c = b["high"], b["low"], b["close"]
    calls = [
        ("SMA", lambda: talib.SMA(c)),
        ("EMA", lambda: talib.EMA(c)),
        ("RSI", lambda: talib.RSI(c)),
        ("MACD", lambda: talib.MACD(c)),
        ("BBANDS", lambda: talib.BBANDS(c)),
        ("ATR", lambda: talib.ATR(h, l, c)),
        ("ADX", lambda: talib.ADX(h, l, c)),
        ("STOCH", lambda: talib.STOCH(h, l, c)),
    ]
    print("function  ms/1M-bars  ns/bar   (TA-Lib %s, C %s)" % (talib.__version__, talib.__ta_version__.decode()))
    for name, call in calls:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t)
        print("%-9s %10.2f %7.2f" % (name, best * 1e3, best * 1e9 / BARS))


if __name__ == "__main__":
    main()
