"""Our QUBO solvers side by side with the established Python ones, in one run, on the same
instances: energy reached at equal time, and time to reach a target energy.

    python scripts/bench/qubo.py --qts target/release/qts [--quick] [--out DIR]

Run through scripts/bench/qubo.sh, which makes the Python environment and the release build.
For every instance (written by `qts qubo gen`, so both sides read the same JSON file) each peer
runs once with a fixed budget; its own timing of the solver call is the time our counterpart
then gets (`qts qubo solve --time-limit-ms`), on every core and on one. Energies are lower is
better, and every peer's is re-evaluated on the model by qubo_peers.py. Time to target: the
target is the lowest energy any run found on the instance; ours stops itself at the target
(`--target`), a peer's budget is doubled from a small start (sweeps, tabu's timeout, SB's agents) until
one run reaches it, and the time of that run alone is reported (earlier, failed runs are not
counted, which favours the peers); '-' when eight doublings or the cap did not reach it.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (name, `qts qubo gen` arguments)
INSTANCES = [
    ("dense-100", ["dense", "--n", "100"]),
    ("dense-500", ["dense", "--n", "500"]),
    ("dense-1000", ["dense", "--n", "1000"]),
    ("dense-2000", ["dense", "--n", "2000"]),
    ("maxcut-800", ["maxcut", "--n", "800", "--density", "0.06"]),
    ("maxcut-2000", ["maxcut", "--n", "2000", "--density", "0.01"]),
    ("portfolio-100", ["portfolio", "--n", "100", "--k", "10"]),
    ("portfolio-500", ["portfolio", "--n", "500", "--k", "50"]),
]
QUICK = ["dense-100", "maxcut-800", "portfolio-100"]
TARGETS = ["dense-1000", "maxcut-800", "portfolio-100"]

# peer -> (our counterpart, budget arguments of qubo_peers.py)
PEERS = {
    "dwave-sa": ("sa", ["--reads", "2", "--sweeps", "1000"]),
    "dwave-tabu": ("tabu", ["--reads", "1", "--timeout-ms", "1000"]),
    "openjij-sqa": ("sqa", ["--reads", "1", "--sweeps", "1000"]),
    "sb-ballistic": ("sb", ["--reads", "32", "--sweeps", "1000"]),
    "sb-discrete": ("dsb", ["--reads", "32", "--sweeps", "1000"]),
}


def peer(path, name, budget, seed=1):
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "qubo_peers.py"), path, name, "--seed", str(seed)] + budget,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours(qts, path, solver, extra):
    out = subprocess.run(
        [qts, "qubo", "solve", path, "--solver", solver, "--seed", "1"] + extra,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def ladder(path, name, target, cap_ms, rungs=8):
    """Doubles a peer's budget until a run reaches the target; that run's time, or None once a
    run takes longer than the cap or `rungs` doublings fail. Simulated bifurcation stops early
    when its agents converge, so its ladder doubles the agents (at 1000 steps) instead."""
    if name in ("dwave-sa", "openjij-sqa"):
        key, value, rest = "--sweeps", 50, ["--reads", "1"]
    elif name == "dwave-tabu":
        key, value, rest = "--timeout-ms", 10, ["--reads", "1"]
    else:
        key, value, rest = "--reads", 8, ["--sweeps", "1000"]
    for _ in range(rungs):
        r = peer(path, name, [key, str(value)] + rest)
        if r["energy"] <= target + 1e-9 * max(1.0, abs(target)):
            return r["time_ms"]
        if r["time_ms"] > cap_ms:
            return None
        value *= 2
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qts", default="target/release/qts")
    ap.add_argument("--out", default=os.path.join(os.path.expanduser("~"), ".cache", "qts", "qubo-bench"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cap-ms", type=float, default=20000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = QUICK if a.quick else [n for n, _ in INSTANCES]
    print(f"cores: {os.cpu_count()}; ours on every core (all) and on one (1t); energies: lower is better\n")
    print("| instance | peer | peer ms | peer energy | ours (same method, all) | ours (1t) | ours tabu (all) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    best = {}
    for name, gen in INSTANCES:
        if name not in names:
            continue
        path = os.path.join(a.out, name + ".json")
        if not os.path.exists(path):
            with open(path, "w") as f:
                subprocess.run([a.qts, "qubo", "gen"] + gen, check=True, stdout=f)
        for peer_name, (solver, budget) in PEERS.items():
            p = peer(path, peer_name, budget)
            limit = str(max(1, round(p["time_ms"])))
            same = ours(a.qts, path, solver, ["--time-limit-ms", limit])
            one = ours(a.qts, path, solver, ["--time-limit-ms", limit, "--threads", "1"])
            tabu = ours(a.qts, path, "tabu", ["--time-limit-ms", limit])
            for e in (p["energy"], same["energy"], one["energy"], tabu["energy"]):
                best[name] = min(best.get(name, e), e)
            mark = lambda e: f"**{e:.7g}**" if e <= p["energy"] + 1e-9 * max(1, abs(e)) else f"{e:.7g}"
            print(
                f"| {name} | {peer_name} | {p['time_ms']:.0f} | {p['energy']:.7g} | {mark(same['energy'])} "
                f"| {mark(one['energy'])} | {mark(tabu['energy'])} |",
                flush=True,
            )
    print("\nTime to reach the lowest energy found (ms; '-' = not within the cap):\n")
    print("| instance | target | peer | peer ms | ours (same method) ms | ours tabu ms |")
    print("|---|---:|---|---:|---:|---:|")
    for name in TARGETS:
        if name not in names or name not in best:
            continue
        path = os.path.join(a.out, name + ".json")
        target = best[name]
        for peer_name, (solver, _) in PEERS.items():
            t_peer = ladder(path, peer_name, target, a.cap_ms)
            cap = ["--time-limit-ms", str(int(a.cap_ms)), "--target", repr(target)]
            same = ours(a.qts, path, solver, cap)
            tabu = ours(a.qts, path, "tabu", cap)
            show = lambda r: f"{r['time_ms']:.0f}" if r["reached_target"] else "-"
            print(
                f"| {name} | {target:.7g} | {peer_name} | {'-' if t_peer is None else f'{t_peer:.0f}'} "
                f"| {show(same)} | {show(tabu)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
