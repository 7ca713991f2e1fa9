"""Start-up: the wall time of a small warm run as a whole process, and what importing costs.

    python benchmarks/startup.py                 # 5 runs of 1,000 citizens over 1 day
    python benchmarks/startup.py -n 11 --scenario china

Each run is `socialcredit run SCENARIO --population P --days D --quiet --no-report` in a
fresh process with a fresh results folder, after one run that is not counted (it compiles
the kernels if the cache is empty). Also timed, each in fresh processes: the interpreter
alone, `import socialcredit.cli` (what every command loads before it parses its arguments)
and `import socialcredit.engine.run` (the engine, pandas, DuckDB and pydantic a run loads).
The machine's load average is printed beside the figures: on a busy machine every figure
grows. Prints figures; asserts nothing. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; from socialcredit.cli import main; sys.exit(main())"
"""What the `socialcredit` command runs."""


def wall(argv: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - t, done


def import_seconds(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter, as the interpreter measures it."""
    code = (f"import time; t = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - t)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout)


def figures(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=5, help="counted runs (default 5)")
    ap.add_argument("--scenario", default="rongcheng")
    ap.add_argument("--population", type=int, default=1000)
    ap.add_argument("--days", type=int, default=1)
    a = ap.parse_args()

    load_before = os.getloadavg()
    runs, failed = [], []
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        for i in range(a.runs + 1):
            argv = [sys.executable, "-c", CLI, "run", a.scenario, "--population",
                    str(a.population), "--days", str(a.days), "--quiet", "--no-report",
                    "--out", str(Path(tmp) / f"run-{i}")]
            seconds, done = wall(argv)
            if done.returncode:
                failed.append(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
            elif i:  # the first run warms the caches (and compiles the kernels if need be)
                runs.append(seconds)
            else:
                print(f"first run (not counted): {seconds:.2f} s")
    bare = [wall([sys.executable, "-c", "pass"])[0] for _ in range(a.runs)]
    cli = [import_seconds("socialcredit.cli") for _ in range(a.runs)]
    engine = [import_seconds("socialcredit.engine.run") for _ in range(a.runs)]
    load_after = os.getloadavg()

    out = {"command": f"socialcredit run {a.scenario} --population {a.population} --days "
                      f"{a.days} --quiet --no-report --out NEW",
           "runs": len(runs), "run_wall_s": figures(runs) if runs else None,
           "interpreter_s": figures(bare), "import_cli_s": figures(cli),
           "import_engine_s": figures(engine),
           "load_average": [round(x, 2) for x in (*load_before, *load_after)],
           "cpus": os.cpu_count(), "failed": failed}
    if runs:
        r = out["run_wall_s"]
        print(f"warm run, wall:                  median {r['median']:.3f} s (min {r['min']:.3f}, "
              f"max {r['max']:.3f}) over {len(runs)} runs")
    for key, what in (("interpreter_s", "interpreter alone:"),
                      ("import_cli_s", "import socialcredit.cli:"),
                      ("import_engine_s", "import socialcredit.engine.run:")):
        f = out[key]
        print(f"{what:<33} median {f['median']:.3f} s (min {f['min']:.3f}, max {f['max']:.3f})")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} CPUs)")
    for line in failed:
        print(f"a run failed: {line}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
