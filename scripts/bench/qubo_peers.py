"""Run one of the established Python QUBO solvers on a QUBO JSON file and print its result.

    python qubo_peers.py FILE PEER [--sweeps N] [--reads R] [--timeout-ms T] [--seed S]

PEER is one of dwave-sa, dwave-tabu, openjij-sqa, sb-ballistic, sb-discrete. Prints JSON
{"peer", "energy", "time_ms"} where time_ms is the solver call alone (the model is built
first, outside the timing), and the energy is re-evaluated on the model, the same way for
every peer. Used by scripts/bench/qubo.py; needs the packages of scripts/bench/requirements.txt.
"""

import argparse
import json
import sys
import time

import numpy as np


def load(path):
    with open(path) as f:
        form = json.load(f)
    n = form["n"]
    linear = np.zeros(n)
    for i, w in form.get("linear", []):
        linear[i] += w
    rows, cols, weights = [], [], []
    for i, j, w in form.get("quadratic", []):
        if i == j:
            linear[i] += w
        else:
            rows.append(min(i, j))
            cols.append(max(i, j))
            weights.append(w)
    return n, linear, np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(weights), form.get("offset", 0.0)


def energy(model, x):
    n, linear, rows, cols, weights, offset = model
    x = np.asarray(x, dtype=float)
    return float(offset + linear @ x + np.sum(weights * x[rows] * x[cols]))


def bqm_of(model):
    import dimod

    n, linear, rows, cols, weights, offset = model
    return dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (rows, cols, weights), offset, dimod.BINARY)


def best_of(sampleset, n):
    # The lowest sample, in variable order 0..n-1, as 0/1.
    first = sampleset.first.sample
    return [1 if first[i] > 0 else 0 for i in range(n)]


def dimod_sampler(peer, sweeps, reads, timeout_ms, seed):
    """The sampler of a dimod-based peer and its budget arguments, or None."""
    if peer == "dwave-sa":
        from dwave.samplers import SimulatedAnnealingSampler

        return SimulatedAnnealingSampler(), dict(num_reads=reads, num_sweeps=sweeps, seed=seed)
    if peer == "dwave-tabu":
        from dwave.samplers import TabuSampler

        return TabuSampler(), dict(num_reads=reads, timeout=timeout_ms, seed=seed)
    if peer == "openjij-sqa":
        import openjij as oj

        return oj.SQASampler(), dict(num_reads=reads, num_sweeps=sweeps, seed=seed)
    return None


def run(model, peer, sweeps, reads, timeout_ms, seed):
    n = model[0]
    dimod_peer = dimod_sampler(peer, sweeps, reads, timeout_ms, seed)
    if dimod_peer is not None:
        sampler, budget = dimod_peer
        bqm = bqm_of(model)
        started = time.perf_counter()
        out = sampler.sample(bqm, **budget)
        took = time.perf_counter() - started
        return best_of(out, n), took
    if peer in ("sb-ballistic", "sb-discrete"):
        import simulated_bifurcation as sb
        import torch

        torch.manual_seed(seed)
        _, linear, rows, cols, weights, offset = model
        matrix = torch.zeros((n, n), dtype=torch.float32)
        matrix[rows, cols] = torch.tensor(weights, dtype=torch.float32)
        vector = torch.tensor(linear, dtype=torch.float32)
        started = time.perf_counter()
        x, _ = sb.minimize(
            matrix,
            vector,
            float(offset),
            domain="binary",
            agents=reads,
            max_steps=sweeps,
            mode=peer.split("-")[1],
            verbose=False,
        )
        took = time.perf_counter() - started
        return [int(v) for v in x.tolist()], took
    sys.exit(f"unknown peer {peer}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("peer")
    ap.add_argument("--sweeps", type=int, default=1000)
    ap.add_argument("--reads", type=int, default=1)
    ap.add_argument("--timeout-ms", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    model = load(a.file)
    x, took = run(model, a.peer, a.sweeps, a.reads, a.timeout_ms, a.seed)
    print(json.dumps({"peer": a.peer, "energy": energy(model, x), "time_ms": took * 1e3}))


if __name__ == "__main__":
    main()
