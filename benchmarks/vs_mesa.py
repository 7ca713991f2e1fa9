"""The engine against the same model written in plain Mesa 3 (benchmarks/mesa_model.py) and
in Starsim (benchmarks/starsim_model.py).

    python benchmarks/vs_mesa.py        # Mesa 100k; Starsim 1M; engine 100k, 1M and 10M; 365 days
    python benchmarks/vs_mesa.py --mesa-days 60 --engine-populations 100000,1000000
    python benchmarks/vs_mesa.py --starsim-populations 0     # no Starsim runs

All run in this process on this machine; construction is timed apart from the day loop, and
the engine's kernels (and Starsim's) are loaded by a small warm-up run first. The engine also
runs at each Starsim size, for the same-size ratio. Prints figures; asserts nothing. The last
line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numba

from socialcredit.engine.loop import Simulation
from socialcredit.scenario import load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mesa_model import RongchengModel  # noqa: E402
from starsim_model import make_sim  # noqa: E402


def rss_gib() -> float:
    """Resident memory now (Linux), in GiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def engine(scenario, population: int, days: int, seed: int) -> dict:
    t0 = time.perf_counter()
    sim = Simulation(scenario, population, seed)
    t1 = time.perf_counter()
    sim.run(days)
    t2 = time.perf_counter()
    last = sim.daily[-1]
    return {"population": population, "days": days, "construct_s": t1 - t0,
            "run_s": t2 - t1, "agent_days_per_s": population * days / (t2 - t1),
            "mean_score": last["mean_score"], "listed": last["listed"]}


def mesa(scenario, population: int, days: int, seed: int) -> dict:
    before = rss_gib()
    t0 = time.perf_counter()
    model = RongchengModel(population, seed=seed, scenario=scenario)
    t1 = time.perf_counter()
    grown = rss_gib() - before
    for _ in range(days):
        model.step()
    t2 = time.perf_counter()
    return {"population": population, "days": days, "construct_s": t1 - t0,
            "run_s": t2 - t1, "agent_days_per_s": population * days / (t2 - t1),
            "bytes_per_agent": grown * 2**30 / population,
            "mean_score": model.score_sum / model.n_scored, "listed": model.n_listed}


def starsim(scenario, population: int, days: int, seed: int) -> dict:
    before = rss_gib()
    t0 = time.perf_counter()
    sim = make_sim(scenario, population, days, seed)
    sim.init()
    t1 = time.perf_counter()
    grown = rss_gib() - before
    sim.run()
    t2 = time.perf_counter()
    last = sim.custom.points.results
    return {"population": population, "days": days, "construct_s": t1 - t0,
            "run_s": t2 - t1, "agent_days_per_s": population * days / (t2 - t1),
            "bytes_per_agent": grown * 2**30 / population,
            "mean_score": float(last.mean_score[-1]), "listed": int(last.n_listed[-1])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="rongcheng")
    p.add_argument("--mesa-population", type=int, default=100_000)
    p.add_argument("--mesa-days", type=int, default=365)
    p.add_argument("--engine-populations", default="100000,10000000")
    p.add_argument("--starsim-populations", default="1000000",
                   help="comma-separated; 0 for none")
    p.add_argument("--starsim-days", type=int, default=None,
                   help="days for the Starsim runs (default: --days)")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    scenario, _ = load(a.scenario)
    print(f"{a.scenario}, seed {a.seed}, {os.cpu_count()} CPUs, "
          f"{numba.get_num_threads()} numba threads; timings are wall clock and noisy")

    m = mesa(scenario, a.mesa_population, a.mesa_days, a.seed)
    note = "" if a.mesa_days == a.days else f" (fewer days than the engine's {a.days})"
    print(f"Mesa   {m['population']:>12,} citizens x {m['days']} days{note}: "
          f"construct {m['construct_s']:.2f} s, steps {m['run_s']:.2f} s, "
          f"{m['agent_days_per_s'] / 1e6:.3f} M agent-days/s, "
          f"~{m['bytes_per_agent']:.0f} bytes per citizen, mean score {m['mean_score']:.2f}")

    starsim_days = a.starsim_days or a.days
    starsim_sizes = [n for n in (int(float(x)) for x in a.starsim_populations.split(",")) if n]
    starsim_runs = []
    if starsim_sizes:
        make_sim(scenario, 2_000, 5, a.seed).run()  # load Starsim's compiled kernels
    note = "" if starsim_days == a.days else f" (fewer days than the engine's {a.days})"
    for n in starsim_sizes:
        r = starsim(scenario, n, starsim_days, a.seed)
        starsim_runs.append(r)
        print(f"Starsim{n:>12,} citizens x {r['days']} days{note}: "
              f"construct {r['construct_s']:.2f} s, steps {r['run_s']:.2f} s, "
              f"{r['agent_days_per_s'] / 1e6:.2f} M agent-days/s, "
              f"~{r['bytes_per_agent']:.0f} bytes per citizen, mean score {r['mean_score']:.2f}")

    Simulation(scenario, 20_000, a.seed).run(5)  # load the compiled kernels
    runs = []
    sizes = [int(float(x)) for x in a.engine_populations.split(",")]
    sizes += [n for n in starsim_sizes if n not in sizes]
    for n in sorted(sizes):
        r = engine(scenario, n, a.days, a.seed)
        runs.append(r)
        print(f"engine {n:>12,} citizens x {a.days} days: construct {r['construct_s']:.2f} s, "
              f"run {r['run_s']:.2f} s, {r['agent_days_per_s'] / 1e6:.1f} M agent-days/s, "
              f"mean score {r['mean_score']:.2f}")
    same = next((r for r in runs if r["population"] == a.mesa_population), runs[0])
    big = max(runs, key=lambda r: r["population"])
    ratio = big["agent_days_per_s"] / m["agent_days_per_s"]
    ratio_same = same["agent_days_per_s"] / m["agent_days_per_s"]
    print(f"engine at {big['population']:,} / Mesa at {m['population']:,}: {ratio:,.0f}x "
          f"agent-days per second; at the same size ({same['population']:,}): "
          f"{ratio_same:,.0f}x")
    versus = {}
    for r in starsim_runs:
        e = next(x for x in runs if x["population"] == r["population"])
        versus[r["population"]] = e["agent_days_per_s"] / r["agent_days_per_s"]
        print(f"engine / Starsim at the same size ({r['population']:,}): "
              f"{versus[r['population']]:,.1f}x agent-days per second; engine at "
              f"{big['population']:,} / Starsim at {r['population']:,}: "
              f"{big['agent_days_per_s'] / r['agent_days_per_s']:,.1f}x")
    print(f"Peak memory {peak_rss_gib():.2f} GiB")
    st = starsim_runs[0] if starsim_runs else None
    print(json.dumps({
        "scenario": a.scenario, "seed": a.seed, "cpus": os.cpu_count(),
        "threads": numba.get_num_threads(),
        "engine_agent_days_per_s": big["agent_days_per_s"],
        "engine_population": big["population"],
        "engine_100k_agent_days_per_s": same["agent_days_per_s"],
        "engine_days": a.days,
        "mesa_agent_days_per_s": m["agent_days_per_s"],
        "mesa_population": m["population"], "mesa_days": m["days"],
        "mesa_construct_s": m["construct_s"], "mesa_run_s": m["run_s"],
        "mesa_bytes_per_agent": m["bytes_per_agent"],
        "ratio": ratio, "ratio_same_size": ratio_same,
        "starsim_agent_days_per_s": st and st["agent_days_per_s"],
        "starsim_population": st and st["population"], "starsim_days": starsim_days,
        "starsim_construct_s": st and st["construct_s"], "starsim_run_s": st and st["run_s"],
        "starsim_bytes_per_agent": st and st["bytes_per_agent"],
        "engine_starsim_size_agent_days_per_s": st and next(
            x["agent_days_per_s"] for x in runs if x["population"] == st["population"]),
        "ratio_starsim_same_size": st and versus[st["population"]],
        "ratio_starsim": st and big["agent_days_per_s"] / st["agent_days_per_s"],
        "starsim_runs": starsim_runs,
        "engine_runs": runs, "peak_rss_gib": peak_rss_gib(),
    }))


if __name__ == "__main__":
    main()
