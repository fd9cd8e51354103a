#!/usr/bin/env bash
# The QUBO solver benchmark of docs/performance.md: our solvers against dwave-samplers (SA,
# tabu), OpenJij (SQA) and simulated-bifurcation (ballistic, discrete) on the same instances.
# Makes a Python environment with the pinned peers (PyPI; simulated-bifurcation brings PyTorch,
# several GB) under ~/.cache/qts/qubo-peers, builds qts in release, and runs scripts/bench/qubo.py.
#   scripts/bench/qubo.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${QUBO_PEERS_VENV:-$HOME/.cache/qts/qubo-peers}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r scripts/bench/requirements.txt
cargo build --release -p qts
target="${CARGO_TARGET_DIR:-target}"
exec "$venv/bin/python" scripts/bench/qubo.py --qts "$target/release/qts" "$@"
