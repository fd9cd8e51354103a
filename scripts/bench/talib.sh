#!/usr/bin/env bash
# The indicators crate's batch API against TA-Lib, side by side in one run:
# `cargo bench -p indicators --bench indicators` (criterion) and
# crates/indicators/golden/bench_talib.py (TA-Lib's Python wrapper) on the same
# 1,000,000 deterministic bars, back to back, then a table ours / TA-Lib / ratio.
#
#   bash scripts/bench/talib.sh [default|thp|both]     (default: both)
#
# Allocator environment, the same for both processes:
#   default  glibc as it comes. numpy asks for transparent huge pages for its big
#            arrays itself (madvise); our outputs get 4 KiB pages, and glibc returns
#            the freed 16-24 MB of a multi-output call to the kernel, so every MACD,
#            BBANDS or STOCH call faults ~4,000-6,000 fresh pages.
#   thp      GLIBC_TUNABLES: big blocks from the heap with huge pages (hugetlb=1,
#            mmap_threshold 32 MiB) and kept after free (trim_threshold 4 GiB), for
#            both processes: outputs are reused from call to call on both sides, so
#            the table compares the computations, not the page-fault paths.
#
# Creates the TA-Lib venv (~/.cache/qts/talib-venv: ta-lib 0.8.2, the version the
# golden data were made with, and numpy) when missing. Uses its own cargo target
# directory (~/.cache/qts/target-ta), so it does not lock the workspace's.
set -euo pipefail

cd "$(dirname "$0")/../.."
mode="${1:-both}"
case "$mode" in default | thp | both) ;; *)
    echo "usage: $0 [default|thp|both]" >&2
    exit 2
    ;;
esac

venv="$HOME/.cache/qts/talib-venv"
if ! "$venv/bin/python" -c "import talib, numpy" 2>/dev/null; then
    echo "creating $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "ta-lib==0.8.2" numpy
fi
export CARGO_TARGET_DIR="$HOME/.cache/qts/target-ta"
cargo bench -p indicators --bench indicators --no-run >&2

thp="glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run() { # $1 = environment name, $2 = GLIBC_TUNABLES value
    echo "== $1: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2
    GLIBC_TUNABLES="$2" cargo bench -p indicators --bench indicators >"$out/ours-$1" 2>&1 ||
        { cat "$out/ours-$1" >&2; exit 1; }
    GLIBC_TUNABLES="$2" "$venv/bin/python" crates/indicators/golden/bench_talib.py >"$out/talib-$1"
    echo "== $1: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2
    python3 - "$1" "$CARGO_TARGET_DIR/criterion" "$out/talib-$1" <<'PY'
import json, os, sys

env, criterion, talib_file = sys.argv[1:]
FUNCTIONS = ["SMA", "EMA", "RSI", "MACD", "BBANDS", "ATR", "ADX", "STOCH"]


def samples(group, name):
    """Criterion's samples of the run just made: ms per iteration, sorted."""
    with open(os.path.join(criterion, group, name, "new", "sample.json"), encoding="utf-8") as f:
        s = json.load(f)
    return sorted(t / n * 1e-6 for t, n in zip(s["times"], s["iters"]))


def median(v):
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


talib = {}
for line in open(talib_file, encoding="utf-8"):
    parts = line.split()
    if len(parts) == 4 and parts[0] in FUNCTIONS:
        talib[parts[0]] = (float(parts[1]), float(parts[2]))
print(f"\n{env}: ms per call on 1,000,000 bars; ours = criterion's samples (each the mean of")
print("many calls), TA-Lib = 20 single calls; ratio = ours / TA-Lib (below 1: ours faster)")
print(f"{'function':9} {'ours best':>9} {'TA-Lib best':>11} {'ratio':>6}   {'ours median':>11} "
      f"{'TA-Lib median':>13} {'ratio':>6}   {'stream ns/update':>16}")
for f in FUNCTIONS:
    ours = samples("batch_1m", f)
    stream = median(samples("stream_update", f)) * 1e6 / 10_000  # 10,000 updates per iteration
    tb, tm = talib.get(f, (float("nan"), float("nan")))
    print(f"{f:9} {ours[0]:9.3f} {tb:11.3f} {ours[0] / tb:6.2f}   {median(ours):11.3f} "
          f"{tm:13.3f} {median(ours) / tm:6.2f}   {stream:16.1f}")
PY
}

if [ "$mode" != thp ]; then run default ""; fi
if [ "$mode" != default ]; then run thp "$thp"; fi
