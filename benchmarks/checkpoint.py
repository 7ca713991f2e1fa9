"""Checkpoint cost: time to write and to read (with every check) one checkpoint, and its size.

    python benchmarks/checkpoint.py                                  # china, 10M citizens
    python benchmarks/checkpoint.py --population 1410000000 --days 30  # everyone

Runs the scenario for `--days`, writes its checkpoint into a temporary folder (or `--dir`,
which should be on the disk runs use), reads it back as `socialcredit resume` does
(checksums, dtypes, shapes, then every value against the scenario) and prints the figures,
with the disk's plain sequential write of the same bytes for comparison, timed just before
and just after the checkpoint's (the first large write after a run is the slowest: the page
cache has to be made room for).
Prints figures; asserts nothing. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numba

from socialcredit.engine.loop import Simulation
from socialcredit.engine.run import _arrays, _meta, _request, _restore
from socialcredit.record import checkpoint
from socialcredit.scenario import load


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def plain_write(path: Path, arrays: dict) -> float:
    """Seconds to write the same bytes with plain sequential writes and one fsync."""
    t = time.perf_counter()
    with open(path, "wb") as f:
        for arr in arrays.values():
            f.write(memoryview(arr.reshape(-1).view("u1")))
        f.flush()
        os.fsync(f.fileno())
    s = time.perf_counter() - t
    path.unlink()
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="china")
    ap.add_argument("--population", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: a "
                    "temporary folder)")
    a = ap.parse_args()
    if a.dir is not None and not a.dir.is_dir():
        ap.error(f"--dir {str(a.dir)!r} is not a folder; give one that exists")
    s, text = load(a.scenario)
    base = Path(tempfile.mkdtemp(prefix="ckpt-", dir=a.dir))
    try:
        t0 = time.perf_counter()
        sim = Simulation(s, a.population, 0)
        sim.run(a.days)
        loop_s = time.perf_counter() - t0
        request = {"scenario_text": text, "where": a.scenario, "population": a.population,
                   "seed": 0, "days": a.days + 1, "checkpoint_every": None, "citizens": False}
        arrays = _arrays(sim)
        raw = sum(v.nbytes for v in arrays.values())
        threads = numba.get_num_threads()
        # the plain write before and after the checkpoint's, so neither has the disk's and
        # the page cache's state to itself; the lower of the two is the comparison
        plain_before = plain_write(base / "plain.bin", arrays)
        t = time.perf_counter()
        checkpoint.write(base, _meta(sim, request), arrays, threads)
        write_s = time.perf_counter() - t
        size = folder_bytes(base / checkpoint.FOLDER)
        plain_after = plain_write(base / "plain.bin", arrays)
        plain_s = min(plain_before, plain_after)
        del sim, arrays
        t = time.perf_counter()
        meta, arrays = checkpoint.read(base, threads)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        _restore(meta, arrays, _request(meta))
        check_s = time.perf_counter() - t
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = {"scenario": a.scenario, "population": a.population, "days": a.days,
           "threads": threads, "loop_seconds": round(loop_s, 2),
           "checkpoint_bytes": size, "array_bytes": raw,
           "write_seconds": round(write_s, 2), "plain_write_seconds": round(plain_s, 2),
           "plain_write_seconds_before_after": [round(plain_before, 2), round(plain_after, 2)],
           "read_seconds": round(read_s, 2), "check_seconds": round(check_s, 2),
           "write_gb_per_s": round(size / write_s / 1e9, 3),
           "read_gb_per_s": round(size / read_s / 1e9, 3),
           "peak_rss_gib": round(peak_rss_gib(), 2)}
    print(f"{a.scenario} at {a.population:,} citizens after {a.days} days: checkpoint of "
          f"{size / 2**30:.2f} GiB")
    print(f"  write  {write_s:7.2f} s  ({out['write_gb_per_s']} GB/s; plain sequential write "
          f"of the same bytes {plain_before:.2f} s before it, {plain_after:.2f} s after)")
    print(f"  read   {read_s:7.2f} s  ({out['read_gb_per_s']} GB/s, checksums included)")
    print(f"  check  {check_s:7.2f} s  (every value against the scenario and population)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
