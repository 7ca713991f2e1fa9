"""Roofline: each stage of a run set against what this machine's memory allows.

    python benchmarks/roofline.py                          # china, 100,000,000 citizens, 30 days
    python benchmarks/roofline.py --scenario rongcheng --population 10000000 --days 365
    python benchmarks/roofline.py --threads 1 --probe-gib 1

First the machine's limits, from small kernels of this script on a probe array of --probe-gib
GiB (far beyond the last-level cache) of the engine's own 6-byte citizen records, put on huge
pages the way the engine puts its records (`engine.state.zeros`): random read-modify-write of
one record (the run's --threads, and one thread; `_all_` and `_one_` in the JSON), random read
of one record (the same), sequential read and sequential write (the run's threads; the first
write to fresh pages apart, on 512 MiB arrays, as it includes the system's zeroing of each
page). Each figure is the best of five timings (three for the first write): on a shared
machine the best is the nearest to the limit, and the load average before the probes is
printed with them. Then the scenario, after a small warm-up run that loads the compiled
kernels, and per stage of `Simulation.seconds` what it touched against the limit for that
kind of access.

Columns of the table:
  stage     a stage of the day loop (times summed over the days); `setup` is
            Simulation(...): the plan, the population generated, counted and given views
  seconds   time spent in the stage
  touches   how many things the stage touched, and what (below)
  access    the kind of memory access those touches are, and how many threads make them
  rate      touches per second of the stage's time
  limit     touches per second this machine's memory allows for that access (the probe's
            figure; for scans and writes, bandwidth over the 6 bytes of a record)
  of limit  rate / limit. Where the stage is not bound by memory it says why instead: it
            touches no citizen record, the data it touches fit in the last-level cache (the
            listing log; all the citizens' records in a small run), or its touches at the
            limit would take under 1% of its time (few touches)

What each stage touches (read from stages/*.py and engine/loop.py; counts from the day rows,
sim.act_committed and the plan):
  behave    acts committed. Actors come from hashes of ranks; no citizen record is read.
  observe   records read: acts watched by a channel with a coverage of the blacklisted read the
            actor's lists (an upper bound); every other act is decided from hashes alone.
  score     records applied, each a read-modify-write of one citizen's record (in parallel by
            shard): seen acts, false reports, sabotage, points bought (expected count), the
            association penalties and informants' rewards. The day rows count association
            records only when they moved a score, so this is a slight undercount.
  rate      nothing per citizen: grades and percentiles from the score histogram.
  lists     listings in force, visited each day (their end, disclosure, repair), and the
            records of people listed, leaving a list or listed as a firm's representative.
  gates     nothing per citizen: Poisson draws per census cell, and listings drawn for
            compliance under pressure.
  respond   records read by attitudes, expected from the scenario's chances (one thread): a
            penalty, a tie's penalty or being told the risks reads the record only when its
            draw turns the person; each draw for coming round reads one. The events handled
            (penalties, people told, people who may come round) are given beside them.
  record    citizens scanned by the snapshots for the regions table (one parallel pass over
            everyone each recording.groups_every_days); the day's row itself is small.
  setup     records written (the population generator writes every record; setup makes a
            few passes over them: the traits and the starting scores written, the census
            counted and the starting views drawn).

Prints figures; asserts nothing. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numba
import numpy as np
from numba import njit, prange

from socialcredit.engine.loop import STAGES, Simulation
from socialcredit.engine.memory import LOG_BYTES, check_fits
from socialcredit.engine.plan import M
from socialcredit.engine.state import PERSON, zeros
from socialcredit.errors import UserError
from socialcredit.scenario import load

RECORD = PERSON.itemsize
CHUNKS = 64
BLOCK = 1 << 16
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
REPS = 5
"""Timings of each limit; the shortest counts (others share the machine: the best is the
limit)."""
FEW = 0.01
"""A stage whose touches at the memory limit would take less than this share of its time is
not memory-bound."""


@njit(inline="always", cache=True)
def _mix(z):
    """splitmix64's finaliser: a well-spread 64-bit value from a counter."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def _index(z, n):
    """A uniform index below `n` (< 2**32) from the high bits of `z`."""
    return np.int64(((z >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(parallel=True, cache=True)
def _update(recs, per_chunk, seed):
    """Random read-modify-write: one record's score, at hashed indices (independent updates,
    so the memory system overlaps the misses; lost updates between threads do not matter)."""
    n = len(recs)
    for c in prange(CHUNKS):
        x = np.uint64(seed) ^ (np.uint64(c) << np.uint64(40))
        for k in range(per_chunk):
            r = recs[_index(_mix(x + np.uint64(k) * GOLDEN), n)]
            r.score += 1


@njit(parallel=True, cache=True)
def _gather(recs, per_chunk, seed):
    """Random read: one record's lists, at hashed indices."""
    n = len(recs)
    part = np.zeros(CHUNKS, dtype=np.int64)
    for c in prange(CHUNKS):
        x = np.uint64(seed) ^ (np.uint64(c) << np.uint64(40))
        acc = np.int64(0)
        for k in range(per_chunk):
            acc += recs[_index(_mix(x + np.uint64(k) * GOLDEN), n)].lists
        part[c] = acc
    return part.sum()


@njit(parallel=True, cache=True)
def _scan(words):
    """Sequential read: the sum of every word, in parallel blocks."""
    n = len(words)
    nb = (n + BLOCK - 1) // BLOCK
    part = np.zeros(nb, dtype=np.uint64)
    for b in prange(nb):
        acc = np.uint64(0)
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            acc += words[i]
        part[b] = acc
    return part.sum()


@njit(parallel=True, cache=True)
def _fill(words, v):
    """Sequential write: every word, in parallel blocks."""
    n = len(words)
    nb = (n + BLOCK - 1) // BLOCK
    for b in prange(nb):
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            words[i] = v


def _best(f, reps: int = 3) -> float:
    """Shortest of `reps` timings of f()."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def _huge_gib() -> float | None:
    """Anonymous memory of this process on huge pages now (Linux), GiB."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _llc_bytes() -> int | None:
    """Size of the last-level cache, from sysfs."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    best = None
    try:
        for d in sorted(os.listdir(base)):
            if not d.startswith("index"):
                continue
            with open(f"{base}/{d}/level") as f:
                level = int(f.read())
            with open(f"{base}/{d}/size") as f:
                size = f.read().strip()
            mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1], 1)
            b = int(size.rstrip("KMG")) * mult
            if best is None or level >= best[0]:
                best = (level, b)
    except (OSError, ValueError):
        return None
    return best[1] if best else None


def limits(gib: float, threads: int) -> dict:
    """This machine's memory limits, measured on a probe of `gib` GiB of 6-byte records."""
    n_words = int(gib * 2**30) // 8
    n_recs = n_words * 8 // RECORD
    if n_recs >= 1 << 32:
        raise UserError("the probe holds at most 2**32 records; give a smaller value",
                        "--probe-gib")
    small = zeros(1 << 16, np.uint64)  # compile or load the kernels first
    srec = small.view(np.uint8)[: (len(small) * 8 // RECORD) * RECORD].view(PERSON)
    _update(srec, 4, 1)
    _gather(srec, 4, 1)
    _scan(small)
    _fill(small, np.uint64(1))

    fresh_words = min(n_words, (1 << 29) // 8)  # the first write to fresh pages: 512 MiB
    first_touch = float("inf")
    for _ in range(3):
        fresh = zeros(fresh_words, np.uint64)
        t0 = time.perf_counter()
        _fill(fresh, np.uint64(1))  # each page is zeroed by the system before it is written
        first_touch = min(first_touch, time.perf_counter() - t0)
        del fresh

    words = zeros(n_words, np.uint64)
    recs = words.view(np.uint8)[: n_recs * RECORD].view(PERSON)
    huge0 = _huge_gib()
    _fill(words, np.uint64(0))
    huge = _huge_gib()
    nbytes = n_words * 8
    write = _best(lambda: _fill(words, np.uint64(7)), REPS)
    read = _best(lambda: _scan(words), REPS)
    out = {"probe_gib": round(nbytes / 2**30, 2), "probe_records": n_recs,
           "probe_on_huge_pages_gib": (None if huge is None or huge0 is None
                                       else round(huge - huge0, 2)),
           "seq_read_gb_s": nbytes / read / 1e9, "seq_write_gb_s": nbytes / write / 1e9,
           "first_touch_write_gb_s": fresh_words * 8 / first_touch / 1e9}
    for label, t, per in (("all", threads, (1 << 24) // CHUNKS), ("one", 1, (1 << 23) // CHUNKS)):
        numba.set_num_threads(t)
        out[f"random_update_{label}_per_s"] = CHUNKS * per / _best(
            lambda p=per: _update(recs, p, time.perf_counter_ns()), REPS)
        out[f"random_read_{label}_per_s"] = CHUNKS * per / _best(
            lambda p=per: _gather(recs, p, time.perf_counter_ns()), REPS)
    numba.set_num_threads(threads)
    return out  # the probe's pages go back to the system here


def _total(rows: list[dict], key: str) -> int:
    return int(sum(r.get(key, 0) or 0 for r in rows))


def _threads(n: int) -> str:
    return f"{n} thread" + ("s" if n != 1 else "")


def stages(sim: Simulation, days: int, lim: dict, llc: int | None, threads: int
           ) -> list[dict]:
    """Per stage: seconds, touches, what they are, the access they make and its limit."""
    plan, state, rows = sim.plan, sim.state, sim.daily
    every, one = _threads(threads), _threads(1)
    mech = plan.mech
    n = plan.population
    t = {k: _total(rows, k) for k in (
        "acts_committed", "acts_observed", "false_reports", "sabotage_reports",
        "association_penalties", "informant_reports", "penalties", "wrongful_penalties",
        "listed_new", "list_exits",
        "representatives_listed", "complied_under_pressure")}
    scan = lim["seq_read_gb_s"] * 1e9 / RECORD
    out = []

    def row(name, touches, what, access, limit, reason=None, citizens=True, **extra):
        out.append({"stage": name, "seconds": sim.seconds[name], "touches": int(touches),
                    "what": what, "access": access, "limit_per_s": limit, "reason": reason,
                    "citizens": citizens, **extra})

    row("behave", t["acts_committed"], "acts committed", "none (hashing)", None,
        "reads no citizen record: actors come from hashes")

    # observe reads a citizen's lists only for a channel with a coverage of the blacklisted
    listed_cov = plan.channel_cov_listed >= 0
    watched = np.array([bool(listed_cov[c[c >= 0]].any()) for c in plan.act_channels])
    reads = int(sim.act_committed[watched].sum()) if len(watched) else 0
    row("observe", reads, f"records read (of {t['acts_committed']:,} acts)",
        f"random read, {every}", lim["random_read_all_per_s"],
        None if reads else "reads no citizen record: coverage from hashes",
        acts_handled=t["acts_committed"])

    informed = bool(mech[M["inform_on"]])
    rewards = t["informant_reports"] if informed and mech[M["reward"]] else 0
    bought = n * float(mech[M["buy_rate_day"]]) * days
    records = (t["acts_observed"] + t["false_reports"] + t["sabotage_reports"] + bought
               + t["association_penalties"] + rewards)
    row("score", records, "records applied", f"random update, {every}",
        lim["random_update_all_per_s"], None,
        parts={"acts_observed": t["acts_observed"], "false_reports": t["false_reports"],
               "sabotage_reports": t["sabotage_reports"], "bought_expected": round(bought),
               "association_penalties": t["association_penalties"],
               "informant_rewards": rewards})

    row("rate", 0, f"scores in the histogram ({len(state.hist):,} values)", "none", None,
        "reads the score histogram, not the citizens")

    if len(plan.list_names) > 1:
        in_force = sum(_total(rows, f"{name}_listed") for name in plan.list_names)
    else:
        in_force = _total(rows, "listed")
    people = t["listed_new"] + t["list_exits"] + t["representatives_listed"]
    log_bytes = state.n_log * LOG_BYTES
    fits = llc is not None and log_bytes < llc
    row("lists", in_force + people, "listing-days in force + records of people",
        f"random read, {one}", lim["random_read_one_per_s"],
        (f"the {state.n_log:,} listings ({_bytes(log_bytes)}) fit in the "
         f"last-level cache; {people:,} citizen records") if fits else None,
        listing_days=in_force, people=people, log_bytes=log_bytes)

    cells = state.census.size * len(plan.gate_names) * days
    row("gates", cells, "census cells x gates", "none", None,
        f"Poisson draws per census cell ({state.census.size:,} cells); "
        f"{t['complied_under_pressure']:,} listings drawn for compliance")

    # attitudes draw first and read a record only when the draw turns someone (or, for
    # people who may come round, always): the expected reads are the touches
    att = bool(mech[M["att_on"]])
    told = plan.citizens * float(mech[M["att_told_day"]]) * days if att else 0.0
    regained = plan.citizens * float(mech[M["att_regain_day"]]) * days if att else 0.0
    pen, wrong = (t["penalties"], t["wrongful_penalties"]) if att else (0, 0)
    reads = ((pen - wrong) * float(mech[M["att_penalty"]])
             + wrong * float(mech[M["att_wrongful"]])
             + pen * plan.ties * float(mech[M["att_tie"]])
             + told * (1.0 - float(mech[M["att_keeps"]])) + regained)
    events = pen + told + regained
    row("respond", reads, f"records read (of {round(events):,} events)",
        f"random read, {one}", lim["random_read_one_per_s"],
        None if events else "attitudes off: per (act, region) averages only",
        events=round(events), penalties=pen, told_expected=round(told),
        regained_expected=round(regained))

    snapshots = len(sim.group_rows)
    row("record", snapshots * n, f"citizens scanned ({snapshots} snapshots)",
        f"sequential read, {every}", scan,
        None if snapshots else "the day's row only: no pass over the citizens",
        snapshots=snapshots)
    cached = llc is not None and state.people.nbytes < llc
    for r in out:
        if r.pop("citizens") and cached and r["reason"] is None and r["touches"]:
            r["reason"] = (f"the {len(state.people):,} records ({_bytes(state.people.nbytes)}) "
                           "fit in the last-level cache")
        lim_s = r["limit_per_s"]
        r["rate_per_s"] = r["touches"] / r["seconds"] if r["seconds"] > 0 else None
        if lim_s and r["rate_per_s"] is not None:
            r["fraction"] = r["rate_per_s"] / lim_s
            if r["reason"] is None and r["fraction"] < FEW:
                r["reason"] = (f"{100 * r['fraction']:.2f}%, few touches: "
                               f"{1e3 * r['touches'] / lim_s:.1f} ms at the limit of its "
                               f"{1e3 * r['seconds']:.0f} ms")
        else:
            r["fraction"] = None
    return out


def _bytes(b: float) -> str:
    for unit, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= f:
            return f"{b / f:.1f} {unit}"
    return f"{b:.0f} bytes"


def _si(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= f:
            return f"{x / f:.3g} {unit}"
    return f"{x:.3g}"


def table(rows: list[dict]) -> None:
    print(f"{'stage':<8} {'seconds':>8} {'touches':>14}  {'what':<44} {'access':<28} "
          f"{'rate/s':>9} {'limit/s':>9}  of limit")
    for r in rows:
        frac = (f"{100 * r['fraction']:.1f}%" if r["reason"] is None
                else f"not memory-bound: {r['reason']}")
        print(f"{r['stage']:<8} {r['seconds']:8.3f} {r['touches']:>14,}  {r['what']:<44} "
              f"{r['access']:<28} {_si(r['rate_per_s']):>9} {_si(r['limit_per_s']):>9}  "
              f"{frac}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="china")
    p.add_argument("--population", type=int, default=100_000_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS,
                   help="numba threads for the run and the all-thread probes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--probe-gib", type=float, default=2.0,
                   help="size of the probe array for the memory limits (default 2)")
    a = p.parse_args()
    try:
        if not 1 <= a.threads <= numba.config.NUMBA_NUM_THREADS:
            raise UserError(f"{a.threads} threads; between 1 and "
                            f"{numba.config.NUMBA_NUM_THREADS}", "--threads")
        if a.population < 1 or a.days < 1:
            raise UserError("population and days must be at least 1", "--population/--days")
        if not 0.125 <= a.probe_gib <= 16:
            raise UserError(f"{a.probe_gib} GiB; between 0.125 and 16", "--probe-gib")
        scenario, _ = load(a.scenario)
        check_fits(scenario, a.population, a.days)
    except UserError as e:
        print(f"roofline: {e}", file=sys.stderr)
        sys.exit(2)
    numba.set_num_threads(a.threads)
    llc = _llc_bytes()
    t_start = time.perf_counter()

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    lim = limits(a.probe_gib, a.threads)
    print(f"Memory limits ({_threads(a.threads)}, probe {lim['probe_gib']} GiB of {RECORD}-byte "
          f"records, {lim['probe_on_huge_pages_gib']} GiB of it on huge pages; last-level "
          f"cache {'?' if llc is None else f'{llc / 2**20:.0f} MiB'}; load average before "
          f"{'?' if load_before is None else f'{load_before:.2f}'} on {os.cpu_count()} CPUs):")
    every = _threads(a.threads)
    print(f"  random update   {_si(lim['random_update_all_per_s'])}/s {every}, "
          f"{_si(lim['random_update_one_per_s'])}/s one thread")
    print(f"  random read     {_si(lim['random_read_all_per_s'])}/s {every}, "
          f"{_si(lim['random_read_one_per_s'])}/s one thread")
    print(f"  sequential      read {lim['seq_read_gb_s']:.1f} GB/s, write "
          f"{lim['seq_write_gb_s']:.1f} GB/s, first write to fresh pages "
          f"{lim['first_touch_write_gb_s']:.1f} GB/s")

    Simulation(scenario, 20_000, a.seed).run(2)  # load compiled kernels before timing
    t0 = time.perf_counter()
    sim = Simulation(scenario, a.population, a.seed)
    setup_s = time.perf_counter() - t0
    sim.run(a.days)
    loop_s = sum(sim.seconds.values())
    agents = sim.plan.population
    rows = stages(sim, a.days, lim, llc, a.threads)
    write = lim["first_touch_write_gb_s"] * 1e9 / RECORD
    setup = {"stage": "setup", "seconds": setup_s, "touches": agents,
             "what": "records written (a few passes)",
             "access": f"first write, {_threads(a.threads)}",
             "limit_per_s": write, "reason": None, "rate_per_s": agents / setup_s,
             "fraction": agents / setup_s / write,
             "warm_write_fraction": agents / setup_s / (lim["seq_write_gb_s"] * 1e9 / RECORD)}
    print()
    print(f"{a.scenario}: {agents:,} agents ({sim.plan.citizens:,} citizens) x {a.days} days, "
          f"{_threads(a.threads)}: day loop {loop_s:.2f} s "
          f"({agents * a.days / loop_s / 1e6:,.0f} M agent-days/s), setup {setup_s:.2f} s")
    print()
    table([setup, *rows])
    print()
    print("Setup is set against the first write to fresh pages (its records are new memory); "
          f"against the write to pages already mapped it reaches "
          f"{100 * setup['warm_write_fraction']:.1f}%.")
    print("score's count is derived from the day rows (see the docstring): "
          + ", ".join(f"{k} {v:,}" for k, v in rows[2]["parts"].items()) + ".")
    total_s = time.perf_counter() - t_start
    print(f"Whole benchmark: {total_s:.0f} s.")
    print(json.dumps({
        "scenario": a.scenario, "population": a.population, "agents": agents,
        "citizens": int(sim.plan.citizens), "days": a.days, "seed": a.seed,
        "machine": {"cpus": os.cpu_count(), "threads": a.threads, "llc_bytes": llc,
                    "load_average_before": load_before,
                    "threading_layer": numba.threading_layer()},
        "limits": lim, "setup": setup, "day_loop_s": loop_s,
        "stages": {r["stage"]: r for r in rows},
        "seconds": {k: sim.seconds[k] for k in STAGES}, "benchmark_s": total_s,
    }))


if __name__ == "__main__":
    main()
