"""The command line: run, resume, scenarios, check, schema, explain, summary, compare,
calibrate.

Bad input gets one line (what, where, what would be valid) and exit status 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
import traceback
from pathlib import Path

from rich.console import Console

from .errors import PersonalDataRefused, UserError

PERSONAL_OPTION = re.compile(
    r"^--?(names?|people|persons?|citizens?|records?|ids?|id-?numbers?|faces?|photos?|"
    r"addresses?|phones?|accounts?|population-file|census-file|individuals?)(=|$)",
    re.IGNORECASE)

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 150)


class Parser(argparse.ArgumentParser):
    """argparse that raises a one-line UserError instead of printing usage."""

    def error(self, message: str):  # noqa: D102
        for word in message.replace(",", " ").split():
            if PERSONAL_OPTION.match(word):
                raise PersonalDataRefused(f"option {word.split('=')[0]}", "command line")
        raise UserError(f"{message} (see `{self.prog} --help`)", self.prog)


def _population(text: str) -> int:
    """--population: a whole number of synthetic citizens, never a file of people."""
    from .scenario.load import RECORD_SUFFIXES

    if Path(text).suffix.lower() in RECORD_SUFFIXES or _is_file(text):
        raise PersonalDataRefused(f"--population {text!r}", "--population")
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise UserError(f"{text!r} is not a whole number of citizens; e.g. 700000",
                        "--population") from None
    if not 1 <= n <= 2_000_000_000:
        raise UserError(f"{n} is out of range; valid: 1 to 2000000000", "--population")
    return n


def _is_file(text: str) -> bool:
    """Whether `text` names a file; False for a name the file system cannot hold."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # e.g. longer than the file system allows
        return False


def _whole(name: str, lo: int, hi: int):
    """An argparse type for a whole number from lo to hi."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise UserError(f"{text!r} is not a whole number; valid: {lo} to {hi}",
                            name) from None
        if not lo <= v <= hi:
            raise UserError(f"{v} is out of range; valid: {lo} to {hi}", name)
        return v
    return parse


def _nonneg(name: str, hi: int):
    return _whole(name, 0, hi)


def _positive(name: str, hi: int):
    return _whole(name, 1, hi)


def _many_runs(p: argparse.ArgumentParser, unit: str, set_help: str) -> None:
    """The options of a command that runs one design many times: what each run is, and
    where the runs go (local worker processes or a Ray cluster)."""
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                   help=set_help)
    p.add_argument("--population", type=_population)
    p.add_argument("--days", type=_positive("--days", 36_500))
    p.add_argument("--until", metavar="DATE", help="end each run on this date (YYYY-MM-DD)")
    p.add_argument("--workers", type=_positive("--workers", 4096),
                   help="local worker processes (default: one per core)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local processes (default) or Ray tasks (pip install "
                   "'socialcredit[cluster]')")
    p.add_argument("--address", help="the Ray cluster: auto, or HOST:PORT (default: start "
                   "one on this machine)")
    p.add_argument("--threads", type=_positive("--threads", 4096), default=1,
                   help=f"kernel threads per {unit} (default 1)")
    p.add_argument("--out", type=Path, help="folder (default: a new one under runs/)")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> Parser:
    p = Parser(prog="socialcredit", description="An executable model of China's Social Credit "
               "System on synthetic populations.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    r = sub.add_parser("run", help="run a scenario and write its results folder")
    r.add_argument("scenario", nargs="?", default="rongcheng",
                   help="built-in name (see `socialcredit scenarios`) or FILE.toml")
    r.add_argument("--population", type=_population, help="simulated citizens "
                   "(default: the scenario's own)")
    r.add_argument("--days", type=_positive("--days", 36_500),
                   help="days to run (default: the scenario's own)")
    r.add_argument("--until", metavar="DATE", help="end the run on this date (YYYY-MM-DD; "
                   "instead of --days)")
    r.add_argument("--seed", type=_nonneg("--seed", 2**63 - 1), default=0)
    r.add_argument("--out", type=Path, help="results folder (default: a new one under runs/)")
    r.add_argument("--threads", type=_positive("--threads", 4096),
                   help="worker threads (default: all cores)")
    r.add_argument("--checkpoint-every", type=_nonneg("--checkpoint-every", 36_500),
                   default=None, metavar="DAYS",
                   help="write a checkpoint every DAYS days (0: never; default: after each "
                   "five minutes of work)")
    r.add_argument("--no-report", action="store_true", help="skip report.html")
    r.add_argument("--no-citizens", action="store_true",
                   help="skip citizens.parquet, the final state of every citizen (about a "
                   "minute per billion citizens)")
    r.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                   help="change one value of the scenario, e.g. "
                   "channels.cameras.misattribution=0.03 (repeatable; recorded in the run)")

    c = sub.add_parser("resume", help="continue an interrupted run from its checkpoint")
    c.add_argument("folder", type=Path)
    c.add_argument("--threads", type=_positive("--threads", 4096))
    c.add_argument("--no-report", action="store_true")
    c.add_argument("--quiet", action="store_true")

    n = sub.add_parser("scenarios", help="list the built-in scenarios, or print one's TOML "
                       "(socialcredit scenarios rongcheng > mine.toml starts an edit)")
    n.add_argument("name", nargs="?", help="a built-in scenario to print")
    o = sub.add_parser("sources", help="what the source ids of scenarios (S4, R1, P2, C, ...) "
                       "stand for: what was reported, and where")
    o.add_argument("ids", nargs="*", metavar="ID", help="ids to show, e.g. S4 R1 (default: "
                   "all)")
    o.add_argument("--scenario", metavar="NAME", help="show the ids this scenario cites "
                   "(built-in name or FILE.toml)")
    k = sub.add_parser("check", help="validate a scenario file")
    k.add_argument("file")
    s = sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    s.add_argument("--out", type=Path, help="write it to this file instead")
    e = sub.add_parser("explain", help="tell one citizen's story from a run's ledger")
    e.add_argument("folder", type=Path)
    e.add_argument("citizen", type=_nonneg("CITIZEN", 2_000_000_000))
    v = sub.add_parser("compare", help="run two designs on the same seeds and report the "
                       "difference with its uncertainty")
    v.add_argument("scenario", help="built-in name or FILE.toml")
    v.add_argument("other", nargs="?", help="a second scenario as B (any --set changes "
                   "apply to it)")
    v.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                   help="change one value of the scenario, e.g. "
                   "channels.cameras.misattribution=0.03 (repeatable)")
    v.add_argument("--seeds", type=_whole("--seeds", 2, 1000), default=5)
    v.add_argument("--population", type=_population)
    v.add_argument("--days", type=_positive("--days", 36_500))
    v.add_argument("--out", type=Path, help="also write the table as CSV")
    v.add_argument("--quiet", action="store_true")
    m = sub.add_parser("summary", help="print the summary of a finished run")
    m.add_argument("folder", type=Path)
    b = sub.add_parser("calibrate", help="fit a scenario's calibratable values to reported "
                       "figures, then confirm the fit in a larger run")
    b.add_argument("scenario", help="built-in name or FILE.toml with [[calibrate]] entries")
    b.add_argument("--targets", metavar="FILE.csv", help="dated reported figures (default: "
                   "the scenario's shipped targets)")
    b.add_argument("--exclude", action="append", default=[], metavar="DATE[:COLUMN]",
                   help="leave a reported figure out of the fit (repeatable)")
    b.add_argument("--trial-population", type=_population, help="citizens per trial "
                   "(default: the scenario's default run)")
    b.add_argument("--population", type=_population, help="citizens in the confirmation run "
                   "(default: ten times the trial population)")
    b.add_argument("--trials", type=_positive("--trials", 100_000), default=300,
                   help="most trials the fit may run (default 300)")
    b.add_argument("--until", metavar="DATE", help="run to this date (default: the last "
                   "target date)")
    b.add_argument("--seed", type=_nonneg("--seed", 2**63 - 1), default=0)
    b.add_argument("--posterior-points", type=_nonneg("--posterior-points", 100_000),
                   default=128, help="trials weighed into the posterior over the fitted values "
                   "(default 128; 0: no posterior)")
    b.add_argument("--draws", type=_positive("--draws", 100_000), default=100,
                   help="posterior draws written to posterior.csv (default 100)")
    b.add_argument("--obs-error", type=float, metavar="SD", help="sd of log(reported / model) "
                   "in the posterior's likelihood (default: estimated from the fit's residuals)")
    b.add_argument("--workers", type=_positive("--workers", 4096),
                   help="local worker processes for the posterior's trials (default: one per "
                   "core)")
    b.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where the posterior's trials run: local processes or Ray tasks")
    b.add_argument("--address", help="the Ray cluster (host:port or auto) with --executor ray")
    b.add_argument("--out", type=Path, help="folder (default: a new one under runs/)")
    b.add_argument("--threads", type=_positive("--threads", 4096))
    b.add_argument("--quiet", action="store_true")
    f = sub.add_parser("predict", help="run a calibration's posterior draws forward: every "
                       "target figure with its 50%% and 90%% intervals")
    f.add_argument("calibration", help="the folder `socialcredit calibrate` wrote (or its "
                   "fitted.toml, with posterior.csv beside it)")
    f.add_argument("--until", required=True, metavar="DATE", help="predict to this date")
    f.add_argument("--draws", type=_positive("--draws", 100_000),
                   help="posterior draws to run, each with a fresh seed (default 50)")
    f.add_argument("--population", type=_population, help="citizens per draw (default: the "
                   "calibration's trial population)")
    f.add_argument("--seed", type=_nonneg("--seed", 2**62), help="the first draw's seed "
                   "(default: the one after the calibration's)")
    f.add_argument("--targets", metavar="FILE.csv", help="reported figures to predict and "
                   "check against (default: the scenario's shipped targets)")
    f.add_argument("--columns", default="", metavar="COL,...", help="daily columns to "
                   "predict besides the targets, e.g. listed (people on a list that day)")
    f.add_argument("--at", action="append", default=[], metavar="DATE",
                   help="print the intervals on this date (repeatable; default: the reported "
                   "dates in range and the last date)")
    f.add_argument("--workers", type=_positive("--workers", 4096),
                   help="local worker processes (default: one per core)")
    f.add_argument("--executor", choices=["local", "ray"], default="local")
    f.add_argument("--address", help="the Ray cluster (host:port or auto) with --executor ray")
    f.add_argument("--threads", type=_positive("--threads", 4096), default=1)
    f.add_argument("--out", type=Path, help="folder (default: a new one under runs/)")
    f.add_argument("--quiet", action="store_true")
    w = sub.add_parser("ensemble", help="run one design over many seeds, on this machine or "
                       "a Ray cluster, and give every daily figure with its spread")
    w.add_argument("scenario", nargs="?", default="rongcheng",
                   help="built-in name or FILE.toml")
    w.add_argument("--seeds", type=_whole("--seeds", 1, 100_000), default=10,
                   help="replicates, one per seed (default 10)")
    w.add_argument("--seed", type=_nonneg("--seed", 2**62), default=0,
                   help="the first replicate's seed; the others follow (default 0)")
    _many_runs(w, "replicate", "change one value of the scenario (repeatable)")
    g = sub.add_parser("sensitivity", help="which values move which outcomes, and by how "
                       "much: a global sensitivity analysis (SALib) over runs with common seeds")
    g.add_argument("scenario", nargs="?", default="rongcheng",
                   help="built-in name or FILE.toml")
    g.add_argument("--vary", action="append", default=[], metavar="PATH=LO:HI[:log]",
                   help="a value to vary from LO to HI (over log10 of it with :log), e.g. "
                   "acts.littering.rate=0.2:3 (repeatable)")
    g.add_argument("--method", default="morris", help="morris (default: elementary effects, "
                   "few runs) or sobol (shares of variance, first and total order)")
    g.add_argument("--samples", type=_whole("--samples", 2, 100_000),
                   help="Morris trajectories (default 10) or Sobol' base samples, a power of "
                   "two (default 32)")
    g.add_argument("--levels", type=_whole("--levels", 2, 100), default=4,
                   help="Morris grid levels, even (default 4)")
    g.add_argument("--seeds", type=_whole("--seeds", 1, 1000), default=3,
                   help="seeds run at every design point, the same at each (default 3)")
    g.add_argument("--seed", type=_nonneg("--seed", 2**62), default=0,
                   help="the first seed; the others follow; it also draws the design "
                   "(default 0)")
    g.add_argument("--outcomes", metavar="COL,...", help="daily columns to analyse, or "
                   "listed_share (default: wrongful_listings, listed_share, mean_score, "
                   "expression_acts, children_denied, those the scenario has)")
    _many_runs(g, "run", "change one value of the scenario first (repeatable)")
    h = sub.add_parser("serve", help="the local web explorer: scenarios, runs with live "
                       "progress, charts, citizens and comparisons, over the runs in --data")
    h.add_argument("--data", type=Path, default=Path("runs"),
                   help="the folder of runs it shows and writes (default: runs)")
    h.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; "
                   "any other needs --token)")
    h.add_argument("--port", type=_nonneg("--port", 65535), default=8765,
                   help="port (default 8765; 0: a free one)")
    h.add_argument("--token", help="a token every page and API call must carry (default: "
                   "SOCIALCREDIT_TOKEN, or none)")
    h.add_argument("--workers", type=_positive("--workers", 256), default=1,
                   help="worker processes that run the queue (default 1)")
    h.add_argument("--max-population", type=_population,
                   help="the most citizens a run may have (default: what a year of "
                   "rongcheng fits in one worker's share of the memory available)")
    h.add_argument("--max-days", type=_positive("--max-days", 36_500), default=36_500,
                   help="the most days a run may last (default 36500)")
    h.add_argument("--max-queued", type=_positive("--max-queued", 10_000), default=8,
                   help="runs that may wait in the queue at once (default 8)")
    return p


def _progress(quiet: bool, unit: str = "day"):
    """A progress bar that appears with the first simulated day, so refusals stay one line."""
    if quiet or not err.is_terminal:  # a bar is for people watching, not for logs
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn(f"[bold]{unit}"), MofNCompleteColumn(), BarColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=err, transient=True)
    task = bar.add_task("run", total=None)

    def update(day: int, days: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=day, total=days)

    return bar, update


def _compiling(quiet: bool):
    """What the first run after an install shows while the kernels compile (about a minute);
    returns the callback and a function that clears the line."""
    if quiet:
        return None, lambda: None
    if not err.is_terminal:  # a log, not a screen: one line before, one after
        said: list[tuple[int, float]] = []

        def note(kernels: int, seconds: float) -> None:
            if not said:
                err.print("compiling the kernels, once (about a minute; later runs start at "
                          "once) ...")
            said[:] = [(kernels, seconds)]

        def finished() -> None:
            if said:
                kernels, seconds = said[0]
                err.print(f"compiled {kernels} kernel{'' if kernels == 1 else 's'} in "
                          f"{seconds:.0f} s, not counted in the run's timings")
                said.clear()
        return note, finished
    status = err.status("compiling the kernels, once (about a minute; later runs start at "
                        "once)")

    def show(kernels: int, seconds: float) -> None:
        if kernels == 1:
            status.start()
        status.update(f"compiling the kernels, once (about a minute; later runs start at "
                      f"once): {kernels} compiled, {seconds:.0f} s")
    return show, status.stop


def _drive(a, folder: Path, call) -> int:
    """Run `call(progress)` under a progress bar; print the summary, or the folder if quiet."""
    bar, update = _progress(a.quiet)
    try:
        res = call(update)
    except KeyboardInterrupt:
        if bar and bar.live.is_started:
            bar.stop()
        err.print(f"interrupted; continue with: socialcredit resume {folder}")
        return 130
    finally:
        if bar and bar.live.is_started:
            bar.stop()
    if a.quiet:
        out.print(str(folder))
    else:
        from .analysis.summary import print_summary

        print_summary(res, out)
    return 0


def cmd_run(a) -> int:
    from .engine.run import days_until, fresh_folder, run
    from .scenario import load

    scenario, _ = load(a.scenario)  # fail fast on a bad scenario, before any folder exists
    if a.sets:
        from .analysis.compare import apply_set

        for assignment in a.sets:
            scenario = apply_set(scenario, assignment)
    if a.until is not None:
        if a.days is not None:
            raise UserError("give --days or --until, not both", "--until")
        days_until(scenario, a.until)  # fail fast on a bad date too
    folder = a.out or fresh_folder(Path("runs"), scenario.scenario.name)
    real = scenario.society.population
    if a.population and a.population > 1.01 * real and not a.quiet:
        err.print(f"note: {scenario.scenario.name} stands for {real:,} people; simulating "
                  f"{a.population:,} makes each simulated citizen {real / a.population:.3g} "
                  "of a person (the run's scale), so counts at real scale are scaled down "
                  "accordingly", soft_wrap=True)
    compiling, done = _compiling(a.quiet)

    def call(update):
        try:
            return run(a.scenario, population=a.population, days=a.days, seed=a.seed,
                       out=folder, threads=a.threads, checkpoint_every=a.checkpoint_every,
                       progress=update, report=not a.no_report, citizens=not a.no_citizens,
                       until=a.until, compiling=compiling, sets=a.sets)
        finally:
            done()
    return _drive(a, folder, call)


def cmd_resume(a) -> int:
    from .engine.run import resume

    compiling, done = _compiling(a.quiet)

    def call(update):
        try:
            return resume(a.folder, threads=a.threads, progress=update,
                          report=not a.no_report, compiling=compiling)
        finally:
            done()
    return _drive(a, a.folder, call)


def cmd_scenarios(a) -> int:
    from .scenario import builtin_names, load

    if a.name is not None:
        from .scenario.load import resolve

        if a.name not in builtin_names():
            raise UserError(f"no built-in scenario {a.name!r}; valid: "
                            + ", ".join(builtin_names()), "scenarios")
        sys.stdout.write(resolve(a.name)[1])
        return 0

    for name in builtin_names():
        s, _ = load(name)
        out.print(f"{name:<14} {s.scenario.summary}", soft_wrap=True)
    return 0


def cmd_check(a) -> int:
    from .scenario.load import parse, resolve

    where, text = resolve(a.file)
    s = parse(text, where)
    n_assumed = sum(1 for sec in (s.acts, s.channels, s.rules, s.grades, s.lists, s.gates)
                    for x in sec if x.source == "assumed")

    def n(count: int, one: str, many: str = "") -> str:
        return f"{count} {one if count == 1 else many or one + 's'}"

    parts = ", ".join(n(len(sec), word) for sec, word in (
        (s.acts, "act"), (s.channels, "channel"), (s.rules, "rule"), (s.grades, "grade"),
        (s.lists, "list"), (s.gates, "gate")))
    out.print(f"{where}: valid scenario {s.scenario.name!r}: {parts}; "
              f"{n(n_assumed, 'entry', 'entries')} wholly assumed", soft_wrap=True)
    return 0


def cmd_schema(a) -> int:
    from .scenario import json_schema

    text = json_schema()
    if a.out:
        from .record.folder import guard_new_file

        guard_new_file(a.out, "--out")
        try:
            a.out.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UserError(f"cannot write {str(a.out)!r}: {e.strerror}", "--out") from None
        out.print(f"wrote {a.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_explain(a) -> int:
    from .analysis.explain import explain

    explain(a.folder, a.citizen, out)
    return 0


def cmd_compare(a) -> int:
    import math

    from rich.table import Table

    from .analysis.compare import changes, check_out_file, compare, variants, write_csv
    from .analysis.summary import scale_text
    from .scenario import load

    first, second, what = variants(a.scenario, a.other, a.sets)
    if a.out:
        check_out_file(a.out)  # before the runs, not after them
    bar, update = _progress(a.quiet, "run")
    try:
        table = compare(first, second, a.seeds, a.population, a.days, update)
    finally:
        if bar and bar.live.is_started:
            bar.stop()
    if a.other is None:
        for path, before, after in changes(first, a.sets):
            out.print(f"A: {path} = {before}   B: {path} = {after}", markup=False,
                      soft_wrap=True)
    else:
        for path, before, after in changes(load(a.other)[0], a.sets):
            out.print(f"B: {path} = {after} ({a.other} has {before})", markup=False,
                      soft_wrap=True)
    scale = table["scale"].max() if len(table) else 1.0
    real = math.isfinite(scale) and scale != 1.0
    t = Table(title=f"{what}: {a.seeds} seeds, difference B - A with 95% interval"
              + (f"; counts at real scale (x {scale_text(scale)})" if real else ""),
              title_justify="left")
    for col in ("outcome", "of", "A", "B", "B - A", "95% interval", "relative"):
        t.add_column(col, justify="left" if col in ("outcome", "of") else "right")

    def fmt(x: float, spec: str) -> str:
        return format(x, spec) if math.isfinite(x) else "n/a"  # undefined in some run

    for _, r in table.iterrows():
        k = r["scale"] if real else 1.0
        spec = ",.0f" if real and k != 1.0 else ",.2f"
        rel = "" if r["relative"] != r["relative"] else fmt(100 * r["relative"], "+.1f") + "%"
        interval = ("n/a" if r["ci95_low"] != r["ci95_low"]
                    else f"[{fmt(k * r['ci95_low'], '+' + spec)}, "
                    f"{fmt(k * r['ci95_high'], '+' + spec)}]")
        t.add_row(r["outcome"], r["kind"], fmt(k * r["a"], spec), fmt(k * r["b"], spec),
                  fmt(k * r["difference"], "+" + spec), interval, rel)
    out.print(t)
    out.print("of: 'last day' is the state on the run's last day, 'total' the sum over all its "
              "days; A and B are means over the seeds", soft_wrap=True)
    if a.out:
        write_csv(table, a.out)
        out.print(f"wrote {a.out}")
    return 0


def cmd_summary(a) -> int:
    from .analysis.summary import print_summary
    from .record.store import read_results

    print_summary(read_results(a.folder), out)
    return 0


def cmd_calibrate(a) -> int:
    import math

    from rich.table import Table

    from .analysis.calibrate import run_calibration
    from .analysis.summary import scale_text

    bar = None
    tasks: dict[str, int] = {}
    names = {"fit": "fitting", "sensitivity": "sensitivity", "posterior": "posterior",
             "confirm": "confirming, day"}

    def update(phase: str, done: int, total: int, detail: str) -> None:
        nonlocal bar
        if bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            bar = Progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(),
                           BarColumn(), TimeElapsedColumn(), TextColumn("{task.fields[detail]}"),
                           console=err, transient=True)
            bar.start()
        if phase not in tasks:
            tasks[phase] = bar.add_task(names[phase], total=total, detail="")
        bar.update(tasks[phase], completed=done, total=total, detail=detail)

    try:
        cal = run_calibration(a.scenario, a.targets, a.exclude, a.trial_population,
                              a.population, a.seed, a.until, a.trials, a.out, a.threads,
                              None if a.quiet else update, a.posterior_points, a.draws,
                              a.obs_error, a.workers, a.executor, a.address)
    finally:
        if bar is not None:
            bar.stop()
    if a.quiet:
        out.print(str(cal.folder))
        return 0
    fit, table = cal.fit, cal.table
    pop = int(cal.results.info["population"])
    t = Table(title=f"Fit at {pop:,} citizens (scale "
              f"{scale_text(float(cal.results.info['scale']))}): "
              f"reported vs model", title_justify="left")
    for c in ("date", "figure", "reported", "model", "error", "", "used"):
        t.add_column(c, justify="right" if c in ("reported", "model", "error") else "left")
    for r in table.itertuples():
        e = r.relative_error
        known = math.isfinite(e)  # none relative to a reported 0
        bar_ = ("-" if e < 0 else "+") * min(20, round(abs(e) * 50)) if known else ""  # per 2%
        model = f"{r.model:,.0f}" if math.isfinite(r.model) else "n/a"
        t.add_row(str(r.date)[:10], r.target, f"{r.reported:,.0f}", model,
                  f"{100 * e:+.1f}%" if known else "n/a", bar_,
                  "yes" if r.used else f"no: {r.why}")
    out.print(t)
    p = Table(title=f"Fitted values: {fit.trials} trials at {fit.trial_population:,} citizens in "
              f"{fit.seconds:.0f} s, objective {fit.start_objective:.4g} -> {fit.objective:.4g}"
              "; objective with each value -10% / +10%", title_justify="left")
    for c in ("value", "fitted", "bounds", "obj -10%", "obj +10%", "largest figure change"):
        p.add_column(c, justify="left" if c == "value" else "right")
    for r in fit.params.to_dict("records"):
        ch = max(r["largest_target_change_minus10"], r["largest_target_change_plus10"])
        p.add_row(r["path"] + (" (at a bound)" if r["at_bound"] else ""), f"{r['value']:.4g}",
                  f"{r['lower']:g} to {r['upper']:g}", f"{r['objective_minus10']:.4g}",
                  f"{r['objective_plus10']:.4g}", f"{100 * ch:.1f}%")
    out.print(p)
    if "posterior_p50" in fit.params:
        info = cal.results.extras["calibration_info"].iloc[0]
        q = Table(title=f"Posterior: {int(info['posterior_points'])} trials weighed, effective "
                  f"sample size {info['effective_sample_size']:.1f}, observation error "
                  f"{info['observation_error']:.3f} (sd of the log ratio, from "
                  f"{info['observation_error_from']}; run-to-run noise "
                  f"{info['run_to_run_noise']:.3f})", title_justify="left")
        for c in ("value", "median", "90% interval"):
            q.add_column(c, justify="left" if c == "value" else "right")
        for r in fit.params.to_dict("records"):
            q.add_row(r["path"], f"{r['posterior_p50']:.4g}",
                      f"{r['posterior_p5']:.4g} to {r['posterior_p95']:.4g}")
        out.print(q)
        out.print(f"posterior draws: {cal.folder / 'posterior.csv'}; forecast with intervals: "
                  f"socialcredit predict {cal.folder} --until DATE", soft_wrap=True)
    out.print(f"fitted scenario: {cal.folder / 'fitted.toml'}")
    out.print(f"report with the calibration section: {cal.folder / 'report.html'}")
    return 0


def cmd_sources(a) -> int:
    """Print source entries: the ids given, those a scenario cites, or all of them."""
    import textwrap

    from rich.text import Text

    from .sources import assumed_values, cited, entries, lookup

    def indented(text: str, lead: str = "") -> str:
        """Each line of `text` wrapped to the terminal, four spaces in."""
        width = max(40, min(out.width, 100) - 4)
        hang = {True: "      ", False: "    "}  # list items hang under their text
        return "\n".join(textwrap.fill(line, width, initial_indent="    " + lead,
                                        subsequent_indent=hang[line.startswith("- ")])
                          if line else "" for line in text.splitlines())

    if a.ids and a.scenario:
        raise UserError("give source ids or --scenario, not both", "sources")
    if a.scenario:
        from .scenario.load import parse, resolve

        where, text = resolve(a.scenario)
        scenario = parse(text, where)
        chosen = lookup(cited(scenario), where)
        n = len(assumed_values(scenario))
        out.print(Text(f"{scenario.scenario.name} cites {len(chosen)} sources; {n} of its "
                       "values are marked assumed (no source gives them).\n"), soft_wrap=True)
    elif a.ids:
        ids = [i for arg in a.ids for i in re.split(r"[\s,;]+", arg) if i]
        chosen = lookup(ids or a.ids, "sources")
    else:
        chosen = list(entries().values())
    for i, src in enumerate(chosen):
        if i:
            out.print()
        out.print(Text.assemble((src.id, "bold"), " — ", (src.title, "bold")), soft_wrap=True)
        out.print(Text(indented(src.statement)), soft_wrap=True)
        out.print(Text(indented(src.published, "Published in: ")), soft_wrap=True)
    return 0


def _many_runs_folder(a, scenario, kind: str) -> Path:
    """The folder of a command that runs a design many times (--out, or a new one named
    after the scenario), checked with its --executor and --address before any worker starts."""
    from .engine.run import fresh_folder
    from .ensembles.ensemble import _check_out

    folder = a.out or fresh_folder(Path("runs"), f"{scenario.scenario.name}-{kind}")
    _check_out(folder)
    if a.executor == "local" and a.address:
        raise UserError("--address names a Ray cluster; give it with --executor ray",
                        "--address")
    return folder


def _under_bar(a, unit: str, call):
    """`call(progress)` under a progress bar counting `unit`s, cleared however it ends."""
    bar, update = _progress(a.quiet, unit)
    try:
        return call(update)
    finally:
        if bar and bar.live.is_started:
            bar.stop()


def cmd_ensemble(a) -> int:
    from rich.table import Table

    from .ensembles import ensemble
    from .scenario import load

    scenario, _ = load(a.scenario)  # fail fast, before any folder or worker exists
    folder = _many_runs_folder(a, scenario, "ensemble")
    res = _under_bar(a, "replicate", lambda update: ensemble(
        a.scenario, seeds=a.seeds, sets=a.sets, population=a.population, days=a.days,
        until=a.until, workers=a.workers, executor=a.executor, address=a.address, out=folder,
        first_seed=a.seed, threads=a.threads, progress=update))
    if a.quiet:
        out.print(str(folder))
        return 0
    runs = res.runs
    done = int((runs["status"] == "done").sum())
    out.print(f"{done} of {len(runs)} replicates finished in {res.info['wall_seconds']:,.1f} s",
              soft_wrap=True)
    for r in runs[runs["status"] != "done"].itertuples():
        out.print(f"  run {r.run} (seed {r.seed}) failed: {r.error}", markup=False,
                  soft_wrap=True)
    if len(res.bands):
        last = res.bands[res.bands["date"] == res.bands["date"].max()].set_index("column")
        t = Table(title="last day, over the replicates (simulated citizens)",
                  title_justify="left")
        for col in ("figure", "median", "50% of replicates", "90% of replicates"):
            t.add_column(col, justify="left" if col == "figure" else "right")
        from .ensembles.report import KEY

        for col in KEY:
            if col in last.index:
                r = last.loc[col]
                t.add_row(col, f"{r['p50']:,.4g}", f"{r['p25']:,.4g} to {r['p75']:,.4g}",
                          f"{r['p5']:,.4g} to {r['p95']:,.4g}")
        out.print(t)
    out.print(f"wrote {folder}: open {folder / 'report.html'}; tables runs, daily and bands in "
              f"{folder / 'results.duckdb'}", soft_wrap=True)
    return 0 if done else 2


def cmd_predict(a) -> int:
    import datetime as dt

    from rich.table import Table

    from .analysis.predict import coverage, locate, predict
    from .engine.run import days_until
    from .scenario import load

    toml, _, _ = locate(a.calibration)  # fail fast, before any folder or worker exists
    sc, _ = load(toml)
    end = sc.scenario.start + dt.timedelta(days=days_until(sc, a.until) - 1)
    at = []
    for text in a.at:
        try:
            at.append(dt.date.fromisoformat(text))
        except ValueError:
            raise UserError(f"{text!r} is not a date; give YYYY-MM-DD", "--at") from None
        if not sc.scenario.start <= at[-1] <= end:
            raise UserError(f"{text} is outside the prediction; valid: {sc.scenario.start} to "
                            f"{end}", "--at")
    folder = _many_runs_folder(a, sc, "predict")
    res = _under_bar(a, "draw", lambda update: predict(
        toml, a.until, a.draws, a.population, a.seed, a.targets, a.workers, a.executor,
        a.address, folder, a.threads, update,
        [c.strip() for c in a.columns.split(",") if c.strip()]))
    if a.quiet:
        out.print(str(folder))
        return 0
    runs, rep = res.runs, res.reported
    done = int((runs["status"] == "done").sum())
    out.print(f"{done} of {len(runs)} posterior draws ran to {res.info['until']} at "
              f"{int(res.info['population']):,} citizens in {res.info['wall_seconds']:,.1f} s",
              soft_wrap=True)
    dates = at or sorted({*(dt.date.fromisoformat(d) for d in rep["date"]),
                          dt.date.fromisoformat(res.info["until"])})
    t = Table(title="Predicted figures (real scale): median, 50% and 90% intervals",
              title_justify="left")
    for c in ("date", "figure", "median", "50% interval", "90% interval", "reported", "fit"):
        t.add_column(c, justify="left" if c in ("date", "figure", "fit") else "right")
    for day in dates:
        for r in res.at(day).itertuples():
            got = rep[(rep["date"] == day.isoformat()) & (rep["target"] == r.column)]
            seen, fit = "", ""
            if len(got):
                g = got.iloc[0]
                seen = f"{g['reported']:,.0f}"
                fit = ("inconsistent" if not g["consistent"] else
                       "held out" if g["held_out"] else "used")
                fit += (", in 50%" if g["in_50"] else ", in 90%" if g["in_90"] else
                        ", outside")
            t.add_row(day.isoformat(), r.column, f"{r.p50:,.0f}",
                      f"{r.p25:,.0f} to {r.p75:,.0f}", f"{r.p5:,.0f} to {r.p95:,.0f}", seen, fit)
    out.print(t)
    cov = coverage(rep)
    if cov["held_out"]:
        out.print(f"held-out reported figures: {cov['in_50']} of {cov['held_out']} inside the "
                  f"50% intervals, {cov['in_90']} of {cov['held_out']} inside the 90%",
                  soft_wrap=True)
    out.print(f"wrote {folder}: open {folder / 'report.html'}; tables runs, predictions and "
              f"reported in {folder / 'results.duckdb'}", soft_wrap=True)
    return 0 if done else 2


def cmd_sensitivity(a) -> int:
    from rich.table import Table

    from .ensembles import sensitivity
    from .ensembles.sensitivity import MAIN, NOISE, SECOND
    from .scenario import load

    scenario, _ = load(a.scenario)  # fail fast, before any folder or worker exists
    folder = _many_runs_folder(a, scenario, "sensitivity")
    res = _under_bar(a, "run", lambda update: sensitivity(
        a.scenario, a.vary, method=a.method, samples=a.samples, seeds=a.seeds,
        outcomes=a.outcomes, sets=a.sets, population=a.population, days=a.days, until=a.until,
        workers=a.workers, executor=a.executor, address=a.address, out=folder,
        first_seed=a.seed, threads=a.threads, progress=update, levels=a.levels))
    if a.quiet:
        out.print(str(folder))
        return 0
    info = res.info
    seeds = f"{info['seeds']} seed{'' if info['seeds'] == 1 else 's'}"
    out.print(f"{len(res.design):,} runs ({info['points']:,} design points x {seeds}) of "
              f"{info['population']:,} citizens over {info['days']:,} days in "
              f"{info['wall_seconds']:,.1f} s", soft_wrap=True)
    for note in res.notes:
        out.print(f"note: {note}", markup=False, soft_wrap=True)
    main, second = MAIN[info["method"]], SECOND[info["method"]]
    t = Table(title=f"{info['method']}: the values ranked by {main} for each outcome, with "
              "95% intervals over all seeds' runs", title_justify="left")
    for col in ("outcome", "of", "value", main, "95% interval", second, "95% interval "):
        t.add_column(col, justify="left" if col in ("outcome", "of", "value") else "right")
    value = t.columns[2]  # the paths whole: the numbers may wrap instead
    value.no_wrap, value.min_width = True, max(len(p) for p in [*res.factors, NOISE])
    table = res.sensitivity
    for outcome, of in res.outcomes.items():
        mine = table[table["outcome"] == outcome]
        if mine.empty:
            continue
        rows = [(r.parameter, f"{r.main:.3g}", f"{r.main_low:.3g} to {r.main_high:.3g}",
                 f"{r.second:.3g}", f"{r.second_low:.3g} to {r.second_high:.3g}")
                for r in res.ranked(outcome).itertuples()]
        rows += [(NOISE, f"sd {r.estimate:.3g}", f"{r.low:.3g} to {r.high:.3g}", "", "")
                 for r in mine[mine["parameter"] == NOISE].itertuples()]
        for i, row in enumerate(rows):
            t.add_row(outcome if i == 0 else "", of if i == 0 else "", *row,
                      end_section=i == len(rows) - 1)
    out.print(t)
    out.print(f"wrote {folder}: open {folder / 'report.html'}; tables sensitivity, design and "
              f"sensitivity_info in {folder / 'results.duckdb'}", soft_wrap=True)
    return 0


def cmd_serve(a) -> int:
    from .serve.server import serve

    return serve(a.data, a.host, a.port, a.token or os.environ.get("SOCIALCREDIT_TOKEN"),
                 a.workers, a.max_population, a.max_days, a.max_queued, out)


COMMANDS = {"run": cmd_run, "resume": cmd_resume, "scenarios": cmd_scenarios,
            "check": cmd_check, "schema": cmd_schema, "explain": cmd_explain,
            "summary": cmd_summary, "compare": cmd_compare, "calibrate": cmd_calibrate,
            "sources": cmd_sources, "ensemble": cmd_ensemble,
            "sensitivity": cmd_sensitivity, "predict": cmd_predict, "serve": cmd_serve}


PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EACCES, errno.EROFS, errno.ENOTDIR,
                         errno.EISDIR, errno.ELOOP, errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
"""What the file system says of a path the user gave (or of the disk it lies on): bad input,
not a bug."""
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
"""Of these, the ones that are about the disk, whatever file was being written."""


def _os_error(e: OSError) -> str | None:
    """One line for an OSError caused by a path the user gave or a full disk, else None."""
    if e.errno not in PATH_ERRNOS:
        return None
    reason = e.strerror or os.strerror(e.errno)
    if e.filename is None:
        return f"disk: {reason}" if e.errno in DISK_ERRNOS else None
    name = os.fsdecode(e.filename) if isinstance(e.filename, (str, bytes)) else str(e.filename)
    return f"{name}: {reason}"


def _line(text: str) -> str:
    """Text on one line (library messages may add hints and a query on further lines)."""
    return re.sub(r"\s*\n\s*", " ", text.strip())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_usage(sys.stdout)
            raise UserError(f"no command given; give one of {', '.join(COMMANDS)} (see "
                            "`socialcredit --help`)", "command line")
        return COMMANDS[args.command](args)
    except UserError as e:
        if debug:
            traceback.print_exc()
        err.print(f"socialcredit: error: {_line(str(e))}", markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as e:
        line = _os_error(e)
        if line is None:
            return _internal(e, debug)
        if debug:
            traceback.print_exc()
        err.print(f"socialcredit: error: {_line(line)}", markup=False, soft_wrap=True)
        return 2
    except Exception as e:  # a bug, not bad input
        return _internal(e, debug)


def _internal(e: Exception, debug: bool) -> int:
    """Report a bug: the traceback with --debug, else one line asking for it."""
    if debug:
        traceback.print_exc()
    else:
        err.print(f"socialcredit: internal error: {type(e).__name__}: {_line(str(e))} "
                  "(run again with --debug for the traceback)", markup=False,
                  soft_wrap=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
