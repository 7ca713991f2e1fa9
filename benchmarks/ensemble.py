"""Ensemble throughput: runs per minute on 1 and 2 local workers and on a two-node Ray cluster
on this machine, and what a replicate costs beyond its own day loop.

    python benchmarks/ensemble.py                       # rongcheng, 100,000 x 365, 8 seeds
    python benchmarks/ensemble.py --no-ray              # the local rows only

The Ray row needs Ray (`pip install 'socialcredit[cluster]'`): it starts two nodes on this
machine (socialcredit.ensembles.cluster.local_cluster), each of 1 CPU and memory for one run,
so it compares with the 2-worker row; the time the cluster takes to start is printed apart and
not counted in its runs per minute. Each configuration runs the same seeds. "overhead" is a
replicate's wall time in its worker minus its day loop: building the plan, the society, and
the daily table. Prints figures; asserts nothing. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import time

import socialcredit
from socialcredit.engine import memory
from socialcredit.ensembles import ensemble
from socialcredit.ensembles.cluster import local_cluster, ray_command
from socialcredit.errors import UserError


def measure(label: str, **options) -> dict:
    t0 = time.perf_counter()
    res = ensemble(**options)
    wall = time.perf_counter() - t0
    runs = res.runs
    done = runs[runs["status"] == "done"]
    over = done["wall_seconds"] - done["loop_seconds"]
    row = {"config": label, "replicates": len(done), "wall_s": round(wall, 2),
           "runs_per_minute": round(60 * len(done) / wall, 2),
           "loop_s_mean": round(float(done["loop_seconds"].mean()), 3),
           "overhead_s_mean": round(float(over.mean()), 3),
           "overhead_s_max": round(float(over.max()), 3)}
    print(f"{label:>22}: {row['runs_per_minute']:6.2f} runs/min, wall {wall:6.1f} s, loop "
          f"{row['loop_s_mean']:.2f} s/run, overhead {row['overhead_s_mean']:.3f} s/run "
          f"(max {row['overhead_s_max']:.3f})", flush=True)
    return row


def on_ray(**common) -> dict:
    """The row of a Ray cluster of two nodes on this machine, each holding one run."""
    sc, _ = socialcredit.load(common["scenario"])
    need = memory.estimate(sc, common["population"], common["days"]).total
    t0 = time.perf_counter()
    with local_cluster(nodes=2, cpus_per_node=1, memory_per_node=int(need * 1.5)) as cluster:
        start = time.perf_counter() - t0
        print(f"{'':>22}  (a Ray cluster of 2 nodes started in {start:.1f} s, not counted)",
              flush=True)
        row = measure("ray, 2 nodes", executor="ray", address=cluster.address, **common)
    return {**row, "cluster_start_s": round(start, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="rongcheng")
    ap.add_argument("--population", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--no-ray", action="store_true", help="leave the Ray cluster row out")
    a = ap.parse_args()
    if not a.no_ray:
        try:
            ray_command()
        except UserError as e:
            ap.error(f"{e.message}, or pass --no-ray")
    common = {"scenario": a.scenario, "seeds": a.seeds, "population": a.population,
              "days": a.days}
    rows = [measure("local, 1 worker", workers=1, **common),
            measure("local, 2 workers", workers=2, **common)]
    if not a.no_ray:
        rows.append(on_ray(**common))
    print(json.dumps({"benchmark": "ensemble", **common, "rows": rows}))


if __name__ == "__main__":
    main()
