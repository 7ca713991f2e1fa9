"""Fuzzing what users type: mutated scenario files and odd command-line values either work or
get one line (`socialcredit: error: ...`, exit 2), never a traceback or an internal error.

Bounded so the file runs in well under a minute; set SOCIALCREDIT_FUZZ_EXAMPLES to run more
examples of each test (e.g. 2000 before a release).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import math
import os
import sys
import tempfile

import numba
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import socialcredit
from socialcredit import UserError
from socialcredit.analysis import compare as cmp
from socialcredit.analysis.calibrate import daily_columns
from socialcredit.cli import main
from socialcredit.engine import run as engine_run
from socialcredit.scenario.load import builtin_names, parse, resolve

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = int(os.environ.get("SOCIALCREDIT_FUZZ_EXAMPLES", "0"))


def examples(default: int) -> settings:
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


BUILTIN = {name: tomllib.loads(resolve(name)[1]) for name in builtin_names()}
NATIONAL = socialcredit.load("national")[0]


@functools.cache
def _national_columns() -> frozenset[str]:
    return frozenset(daily_columns(NATIONAL))


# -- writing data back as TOML -----------------------------------------------------------------

ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
           "\r": "\\r"}


def toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in ESCAPES:
            out.append(ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v) -> str:
    """Any value as TOML, tables inline (so mutated data of any shape can be written)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_string(str(k))} = {toml_value(x)}"
                               for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_text(data: dict) -> str:
    return "".join(f"{toml_string(str(k))} = {toml_value(v)}\n" for k, v in data.items())


# -- mutations ---------------------------------------------------------------------------------

def nested(depth: int) -> list:
    v: list = []
    for _ in range(depth):
        v = [v]
    return v


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
ODD = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**20, 36_500, 36_501]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324]),
    st.booleans(),
    TEXT,
    st.sampled_from(["", "x" * 10_000, "assumed", "S1", "adult", "AAA", "none"]),
    st.builds(list), st.builds(dict),
    st.dates(), st.datetimes(), st.times(),
    st.sampled_from([dt.date.min, dt.date.max, dt.date(1899, 12, 31), dt.date(2100, 12, 31),
                     dt.date(2101, 1, 1), dt.date(2200, 12, 31), dt.date(9999, 12, 1)]),
    st.lists(st.integers(-(10**6), 10**6), max_size=5),
    st.lists(TEXT, max_size=3),
    st.integers(1, 60).map(nested),
)


def paths(node, prefix=()) -> list[tuple]:
    """Every position in parsed scenario data: (key or index, ...)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(paths(v, (*prefix, k)))
    return out


def at(data, path):
    for k in path:
        data = data[k]
    return data


def leaves(data) -> list[tuple]:
    """Positions of the numbers and dates of scenario data (what a gentle change moves)."""
    return [p for p in paths(data) if isinstance(at(data, p), (int, float, dt.date))
            and not isinstance(at(data, p), bool)]


def nudge(draw, value):
    """A value near `value`: most stay valid, some reach a bound."""
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=draw(st.integers(-400, 400)))
    factor = draw(st.sampled_from([0, 0.5, 0.9, 1, 1.1, 1.5, 2]))
    if isinstance(value, float):
        return value * factor
    return int(round(value * factor)) + draw(st.integers(-2, 2))


@st.composite
def mutated(draw) -> tuple[str, dict, bool]:
    """(scenario name, mutated data, whether only gentle changes were made).

    Half the cases only nudge numbers and dates (so many stay valid and run); the others also
    replace values with odd ones, delete and add keys, and grow lists."""
    name = draw(st.sampled_from(sorted(BUILTIN)))
    data = copy.deepcopy(BUILTIN[name])
    gentle = draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        if gentle:
            path = draw(st.sampled_from(leaves(data)))
            parent, key = at(data, path[:-1]), path[-1]
            parent[key] = nudge(draw, parent[key])
            continue
        path = draw(st.sampled_from(paths(data)))
        parent, key = at(data, path[:-1]), path[-1]
        value = parent[key]
        op = draw(st.sampled_from(["replace", "replace", "delete", "nudge", "add", "append"]))
        if op == "nudge" and isinstance(value, (int, float, dt.date)):
            parent[key] = nudge(draw, value) if draw(st.booleans()) else -value \
                if not isinstance(value, dt.date) else draw(ODD)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(value, dict):
            value[draw(st.one_of(TEXT, st.sampled_from(["name", "records", "phone", "x"])))] = \
                draw(ODD)
        elif op == "append" and isinstance(value, list):
            value.append(copy.deepcopy(value[0]) if value and draw(st.booleans())
                         else draw(ODD))
        else:
            parent[key] = draw(ODD)
    return name, data, gentle


def single_line(e: UserError) -> None:
    text = str(e)
    assert text and "\n" not in text and "\r" not in text, repr(text)


@examples(100)
@given(case=mutated(), as_json=st.booleans(), run_it=st.integers(0, 3).map(lambda k: k == 0))
def test_a_mutated_scenario_is_valid_or_refused_with_one_line_and_a_valid_one_runs(
        case, as_json, run_it):
    name, data, _ = case
    text = json.dumps(data, default=str) if as_json else toml_text(data)
    try:
        scenario = parse(text, f"{name}-mutant.toml")
    except UserError as e:
        single_line(e)
        event("scenario refused")
        return
    assert isinstance(scenario, socialcredit.Scenario)
    event("scenario valid")
    if run_it:  # one valid mutant in four: a run of a wide scenario takes a second
        try:
            res = socialcredit.run(scenario, population=200, days=3)
        except UserError as e:
            single_line(e)
            event("run refused")
            return
        assert len(res.daily) == 3
        event("ran")


@examples(60)
@given(name=st.sampled_from(sorted(BUILTIN)), cut=st.integers(0, 100_000),
       junk=st.one_of(st.just(""), TEXT, st.sampled_from(["[", "[[", "]", "=", '"', "{", "\x00",
                                                          "x = [[[[", "\ufeff"])))
def test_a_truncated_or_garbled_scenario_file_is_refused_with_one_line(name, cut, junk):
    text = resolve(name)[1]
    text = text[:cut % (len(text) + 1)] + junk
    try:
        parse(text, "cut.toml")
        event("valid")
    except UserError as e:
        single_line(e)
        event("refused")


# -- odd targets files for calibrate ----------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "1000", "1,000", "1e300", "1e400", "nan", "inf", "-0",
                     "12.5", "lots", " 7 ", '"3"', "2016-06-30", "\ufeff1"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    TEXT.filter(lambda s: "\r" not in s),
)
COLUMNS = st.one_of(
    st.sampled_from(["date", "people_listed_cumulative", "flights_blocked_cumulative",
                     "rail_blocked_cumulative", "listed", "listed_cumulative",
                     "penalties_cumulative", "source", "", "people_shot", "date "]),
    TEXT.filter(lambda s: "\r" not in s),
)
TARGET_DATES = st.one_of(
    st.dates(dt.date(2013, 10, 1), dt.date(2018, 12, 31)).map(str),
    st.sampled_from(["2013-09-30", "2019-01-01", "", "soon", "2018-02-30"]),
    st.dates().map(str),
)


FIGURES = ["people_listed_cumulative", "flights_blocked_cumulative", "rail_blocked_cumulative",
           "listed", "penalties_cumulative", "exits_complied_cumulative"]


@st.composite
def targets_csv(draw) -> str:
    """A targets file: half of them plausible (dated positive figures of known columns, with
    a few odd cells), the others of any shape."""
    import csv
    import io

    plausible = draw(st.booleans())
    if plausible:
        header = ["date", *draw(st.lists(st.sampled_from(FIGURES), min_size=1, max_size=3,
                                         unique=True))]
        if draw(st.booleans()):
            header.append("source")
    else:
        header = draw(st.lists(COLUMNS, min_size=0, max_size=5))
        if draw(st.booleans()):
            header = ["date", *header]
    rows = [header]
    for _ in range(draw(st.integers(0, 6))):
        n = len(header) if plausible else draw(st.integers(0, len(header) + 1))
        row = []
        for c in (header + ["extra"])[:n]:
            if c == "date":
                row.append(draw(st.dates(dt.date(2013, 10, 1), dt.date(2018, 12, 31)).map(str)
                                if plausible and draw(st.integers(0, 20)) else TARGET_DATES))
            elif plausible and c != "source" and draw(st.integers(0, 20)):
                row.append(str(draw(st.integers(1, 10**8))))
            else:
                row.append(draw(CELLS))
        rows.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return ("\ufeff" if draw(st.integers(0, 9)) == 0 else "") + buf.getvalue()


@examples(100)
@given(text=targets_csv(),
       exclude=st.one_of(st.just([]), st.just([]), st.lists(st.one_of(TARGET_DATES, TEXT),
                                                             max_size=2)))
def test_an_odd_targets_file_reads_or_is_refused_with_one_line(text, exclude, monkeypatch):
    from socialcredit.analysis import calibrate as cal

    monkeypatch.setattr(cal, "daily_columns", lambda sc: set(_national_columns()))
    try:
        t = cal.read_targets(text, "t.csv", NATIONAL, exclude=exclude)
    except UserError as e:
        single_line(e)
        event("refused")
        return
    event("read")
    assert len(t.used) >= 1
    assert (t.used["reported"] > 0).all()
    assert t.cells["reported"].map(math.isfinite).all()


# -- odd values for the command line -----------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "-1", "1", "2", "3", "36500", "36501", "2000000000", "2000000001",
                     "9223372036854775807", "9223372036854775808", "1e3", "1.5", "0x10", "1_000",
                     " 5", "5 ", "", "-", "nan", "inf", "٣", "²", "1" * 5000]),
    TEXT,
)
DATES = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2014-01-01", "2014-01-02", "2013-12-31", "9999-12-31", "0001-01-01",
                     "2114-12-31", "2200-12-06", "2014-02-30", "20140101", "2014-1-1", "today",
                     "2014-01-01T00:00", ""]),
    TEXT,
)
SETS = st.one_of(
    st.sampled_from(["acts.littering.rate=0.5", "scenario.start=1600-01-01",
                     "scenario.start=2015-01-01", "scenario.name.x=1", "manipulation.enabled=true",
                     "rules.littering.ladder=[9223372036854775808]", "points.start=5e400",
                     "responses.deterrence.enabled=false", "=", "==", ".=1", "a..b=1",
                     "rules.littering=1", "acts.littering.ages=[]", "society.ties=64",
                     "association={}", "gates.flights.deny_lists=[[[[]]]]",
                     "society.population=1", "recording.cohort=99999999999999999999"]),
    st.builds(lambda p, v: f"{p}={v}", st.sampled_from(
        ["acts.littering.rate", "scenario.start", "points.min", "grades.AAA.min",
         "rules.littering.points", "society.regions.rongcheng_urban.share", "channels",
         "scenario.days", "recording.groups_every_days", "x", ""]), st.one_of(NUMBERS, DATES)),
    TEXT,
)
SCENARIOS = st.one_of(
    st.sampled_from(["rongcheng", "suining", "corporate", "nope", "", ".", "..", "/", "x.toml",
                     "x.csv", "people.xlsx", "/dev/null", "/etc/passwd", "a" * 300 + ".toml",
                     "a" * 5000, "-", "--", "rongcheng.toml"]),
    TEXT,
)


@contextlib.contextmanager
def scratch():
    """A fresh working folder (results of valid runs land under it), the threads restored."""
    old, threads = os.getcwd(), numba.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield tmp
        finally:
            os.chdir(old)
            numba.set_num_threads(threads)


@pytest.fixture
def small_runs(monkeypatch):
    """Valid requests still run, but small and short, so a fuzz case takes a fraction of a
    second: every option is checked as given, then the run is cut to 200 citizens, 3 days."""
    real_run, real_compare = engine_run.run, cmp.compare

    def run(scenario, population=None, days=None, until=None, **kw):
        if until is not None:
            sc = scenario if isinstance(scenario, socialcredit.Scenario) \
                else socialcredit.load(scenario)[0]
            days = engine_run.days_until(sc, until)  # checked as the real run checks it
        kw.update(report=False, citizens=False)
        return real_run(scenario, population=min(population or 200, 200),
                        days=min(days or 3, 3), **kw)

    def compare(a, b, seeds=5, population=None, days=None, progress=None):
        if not 2 <= seeds <= 1000:  # checked as the real compare checks it
            return real_compare(a, b, seeds, population, days, progress)
        return real_compare(a, b, 2, min(population or 200, 200), min(days or 3, 3), progress)

    monkeypatch.setattr(engine_run, "run", run)
    monkeypatch.setattr(cmp, "compare", compare)


def check_outcome(args: list[str], capsys) -> None:
    code = main(args)
    captured = capsys.readouterr()
    event(f"exit {code}")
    assert code in (0, 2), captured.err[-2000:]
    if code == 2 and "--debug" not in args:  # --debug asks for the traceback
        lines = captured.err.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("socialcredit: error: "), captured.err


PLAUSIBLE = {
    "--population": st.integers(1, 3000), "--days": st.integers(1, 400),
    "--seed": st.integers(0, 2**63 - 1), "--until": st.dates(dt.date(2013, 6, 1),
                                                              dt.date(2016, 12, 31)),
    "--threads": st.integers(1, 2), "--checkpoint-every": st.integers(0, 5),
    "--seeds": st.integers(2, 4),
}
"""Values a user would give: three in four flags get one, the others an odd value."""


def option(draw, flag: str, odd) -> list[str]:
    value = str(draw(PLAUSIBLE[flag])) if draw(st.integers(0, 3)) else draw(odd)
    return [f"{flag}={value}"] if value.startswith("-") or not value else [flag, value]


@st.composite
def run_args(draw) -> list[str]:
    args = ["run"]
    if draw(st.booleans()):
        args.append(draw(st.sampled_from(builtin_names()) if draw(st.booleans()) else SCENARIOS))
    for flag, values in (("--population", NUMBERS), ("--days", NUMBERS), ("--seed", NUMBERS),
                         ("--until", DATES), ("--threads", NUMBERS),
                         ("--checkpoint-every", NUMBERS)):
        if draw(st.booleans()):
            args += option(draw, flag, values)
    if draw(st.integers(0, 4)) == 0:
        args.append(draw(st.one_of(TEXT, st.sampled_from(["--quiet", "--no-report", "--bogus",
                                                          "--names=x", "extra", "-x\ny"]))))
    return [*args, "--quiet", "--no-report"]


@examples(40)
@given(args=run_args())
def test_odd_run_options_work_or_get_one_line(args, capsys, small_runs):
    capsys.readouterr()
    with scratch():
        check_outcome(args, capsys)


PLAUSIBLE_SETS = st.sampled_from([
    "responses.deterrence.enabled=false", "scenario.start=2015-01-01",
    "manipulation.buy_per_year=1", "society.ties=3", "recording.cohort=10",
    "points.reset_days=30", "responses.deterrence.strength=0.9", "society.household_size=2.5"])
"""Changes valid for rongcheng, national and corporate alike."""


@st.composite
def compare_args(draw) -> list[str]:
    plausible = st.sampled_from(["rongcheng", "national", "corporate"])
    args = ["compare", draw(plausible if draw(st.integers(0, 3)) else SCENARIOS)]
    if draw(st.integers(0, 5)) == 0:
        args.append(draw(plausible if draw(st.booleans()) else SCENARIOS))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        value = draw(PLAUSIBLE_SETS if draw(st.integers(0, 3)) else SETS)
        args += [f"--set={value}"] if value.startswith("-") or not value else ["--set", value]
    for flag, values in (("--seeds", NUMBERS), ("--population", NUMBERS), ("--days", NUMBERS)):
        if draw(st.booleans()):
            args += option(draw, flag, values)
    if draw(st.integers(0, 3)) == 0:
        args += ["--out", draw(st.sampled_from(["out.csv", "missing/out.csv", ".", "/proc/x.csv",
                                                "a" * 300 + ".csv"]))]
    return args + ["--quiet"]


@examples(40)
@given(args=compare_args())
def test_odd_compare_options_work_or_get_one_line(args, capsys, small_runs):
    capsys.readouterr()
    with scratch():
        check_outcome(args, capsys)


@examples(30)
@given(spec=SCENARIOS)
def test_odd_scenario_names_and_paths_for_check_work_or_get_one_line(spec, capsys):
    capsys.readouterr()
    with scratch():
        check_outcome(["check", spec], capsys)
