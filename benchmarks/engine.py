"""Engine throughput: agent-days per second, per-stage times, memory, start-up.

    python benchmarks/engine.py                         # 1M and 10M citizens, 365 days
    python benchmarks/engine.py --populations 700000 --days 365 --startup

Prints figures; asserts nothing. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numba

from socialcredit.engine.loop import STAGES, Simulation
from socialcredit.scenario import load


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def one(scenario: str, population: int, days: int, seed: int) -> dict:
    s, _ = load(scenario)
    t0 = time.perf_counter()
    sim = Simulation(s, population, seed)
    t1 = time.perf_counter()
    sim.run(days)
    t2 = time.perf_counter()
    run_s = t2 - t1
    return {
        "scenario": scenario, "population": population, "days": days,
        "threads": numba.get_num_threads(),
        "setup_s": round(t1 - t0, 3), "run_s": round(run_s, 3),
        "agent_days_per_s": population * days / run_s,
        "acts": int(sim.act_committed.sum()),
        "events_per_s": int(sim.act_committed.sum()) / run_s,
        "hot_bytes_per_citizen": sim.state.hot_bytes_per_citizen(),
        "stage_s": {k: round(sim.seconds[k], 3) for k in STAGES},
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def startup(scenario: str) -> dict:
    """Wall time of the default CLI run with an empty kernel cache, then with a warm one."""
    out = {}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as runs:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("first", "second"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "socialcredit.cli", "run", scenario, "--quiet",
                            "--out", os.path.join(runs, label)], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            out[f"{label}_run_s"] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="rongcheng")
    p.add_argument("--populations", default="1000000,10000000")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--startup", action="store_true", help="also time the CLI cold and warm")
    a = p.parse_args()
    results: dict = {"machine": {"cpus": os.cpu_count(), "threads": numba.get_num_threads()}}
    one(a.scenario, 20_000, 5, a.seed)  # load compiled kernels before timing
    rows = []
    for n in (int(float(x)) for x in a.populations.split(",")):
        r = one(a.scenario, n, a.days, a.seed)
        rows.append(r)
        print(f"{n:>13,} citizens x {a.days} days: {r['run_s']:8.2f} s  "
              f"{r['agent_days_per_s'] / 1e6:9.1f} M agent-days/s  "
              f"{r['events_per_s'] / 1e6:6.2f} M acts/s  setup {r['setup_s']:.2f} s  "
              f"peak {r['peak_rss_gib']:.2f} GiB")
        print("    stages (s): " + "  ".join(f"{k} {v:.2f}" for k, v in r["stage_s"].items()))
    results["runs"] = rows
    if a.startup:
        results["startup"] = startup(a.scenario)
        print(f"CLI default run: first (cold cache) {results['startup']['first_run_s']} s, "
              f"second {results['startup']['second_run_s']} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
