"""Wall time and peak memory of whole runs, from 100,000 citizens to all of China.

    python benchmarks/scaling.py                      # 1e5 ... 1.41e9 citizens, 365 days
    python benchmarks/scaling.py --max 1e8 --days 90

Each size runs `socialcredit run` in its own process (kernels already cached), so the peak
memory is that run's own. Prints a table, writes scaling.png beside the results, and prints
JSON with every figure as its last line. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (100_000, 1_000_000, 10_000_000, 100_000_000, 1_410_000_000)

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import socialcredit
res = socialcredit.run(sys.argv[1], population=int(sys.argv[2]), days=int(sys.argv[3]),
                       out=sys.argv[4], checkpoint_every=0, report=False)
info = res.info
stages = {k[8:]: round(float(v), 2) for k, v in info.items() if k.startswith("seconds_")}
acts = int(res.acts["committed"].sum())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"process_s": time.perf_counter() - t0, "stages": stages, "acts": acts,
                  "wall_loop_s": float(info["wall_seconds"]), "peak_gib": round(peak, 2)}))
"""


def one(scenario: str, n: int, days: int, threads: int | None) -> dict:
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(n), str(days),
                               str(Path(tmp) / "out")], capture_output=True, text=True,
                              env=env)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"run at {n:,} failed:\n{done.stderr[-2000:]}")
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    return {"population": n, "days": days, "wall_s": round(wall, 2),
            "agent_days_per_s": n * days / inner["wall_loop_s"], **inner}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = [r["population"] for r in rows]
    ax.loglog(xs, [r["wall_s"] for r in rows], "o-", label="wall time of the run (s)")
    ax.loglog(xs, [r["wall_loop_s"] for r in rows], "s--", label="day loop only (s)")
    ax2 = ax.twinx()
    ax2.semilogx(xs, [r["peak_gib"] for r in rows], "^:", color="C2",
                 label="peak memory (GiB)")
    ax.set_xlabel("citizens")
    ax.set_ylabel("seconds")
    ax2.set_ylabel("GiB")
    fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88), fontsize=8)
    ax.set_title(f"socialcredit: {rows[0]['days']} days, cost against population")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="china")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--max", type=float, default=1.41e9, help="largest population")
    p.add_argument("--threads", type=int, help="worker threads (default: all cores)")
    p.add_argument("--plot", type=Path, default=Path("scaling.png"))
    a = p.parse_args()
    one(a.scenario, 20_000, 3, a.threads)  # compile or load the kernels first
    rows = []
    for n in (s for s in SIZES if s <= a.max):
        r = one(a.scenario, n, a.days, a.threads)
        rows.append(r)
        print(f"{n:>13,} citizens: {r['wall_s']:8.1f} s wall, loop {r['wall_loop_s']:7.1f} s, "
              f"{r['agent_days_per_s'] / 1e6:8.1f} M agent-days/s, peak {r['peak_gib']} GiB, "
              f"{r['acts'] / 1e6:9.1f} M acts", flush=True)
        print("    stages (s): " + "  ".join(f"{k} {v}" for k, v in r["stages"].items()),
              flush=True)
    plot(rows, a.plot)
    print(f"plot: {a.plot}")
    print(json.dumps({"scenario": a.scenario, "days": a.days, "cpus": os.cpu_count(),
                      "runs": rows}))


if __name__ == "__main__":
    main()
