#!/usr/bin/env python3
"""Times TA-Lib on the same 1,000,000 deterministic bars as benches/indicators.rs.

    bash scripts/bench/talib.sh          (with the Rust side, in one run)
    ~/.cache/qts/talib-venv/bin/python crates/indicators/golden/bench_talib.py

Prints ms per batch call (best and median of 20 calls, after one warm-up call) and ns per
bar, for the eight headline functions with default parameters.
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
    print("function   best ms  median ms  ns/bar (best)   (TA-Lib %s, C %s)" % (talib.__version__, talib.__ta_version__.decode()))
    for name, call in calls:
        call()
        times = []
        for _ in range(20):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        times.sort()
        best, median = times[0], (times[9] + times[10]) / 2
        print("%-9s %8.3f %10.3f %8.2f" % (name, best * 1e3, median * 1e3, best * 1e9 / BARS))

if __name__ == "__main__":
    main()
