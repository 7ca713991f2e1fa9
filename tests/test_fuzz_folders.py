"""Random damage to a finished run folder: `summary`, `explain`, `open_results` and
`Results.citizens` either work or refuse with one line and exit status 2; never another
exception, never exit 1.

SOCIALCREDIT_FUZZ_EXAMPLES=N runs N random examples per test instead of a fixed few;
SOCIALCREDIT_FUZZ_REPORT=1 also renders the report of every folder that opens (seconds each).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialcredit
from socialcredit.cli import main
from socialcredit.record.results import TABLES

EXAMPLES = os.environ.get("SOCIALCREDIT_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(EXAMPLES or 12), deadline=None, derandomize=not EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REPORT = os.environ.get("SOCIALCREDIT_FUZZ_REPORT") == "1"
POPULATION = 2000
OUTCOMES: Counter = Counter()
"""What each check ended in, over the session (printed with -s when examples are asked for)."""


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "run"
    socialcredit.run("rongcheng", population=POPULATION, days=20, out=out)
    return out


@pytest.fixture(scope="module")
def columns(finished) -> dict[str, list[tuple[str, str]]]:
    """Every table's (column, type) of the finished store."""
    con = duckdb.connect(str(finished / "results.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                           "WHERE database_name = current_database() AND NOT internal "
                           "ORDER BY column_index").fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, k in rows:
        out.setdefault(t, []).append((c, k))
    return out


@pytest.fixture(scope="module", autouse=True)
def _outcomes():
    yield
    if EXAMPLES:
        print("\nfuzz outcomes:", dict(sorted(OUTCOMES.items())))


# -- damage -----------------------------------------------------------------------------------

WORDS = st.one_of(st.sampled_from(["", "garbage", "[oops", "null", "[]", '["A"]', "{}", "1",
                                   "[1, 2]", '["AAA", "ghost"]', "[/red]", "2014-13-45",
                                   "infinity", "-1"]),
                  st.text(max_size=30))
DATES = st.sampled_from(["infinity", "-infinity", "0001-01-01", "1500-06-01", "9999-12-31",
                         "2262-04-12", "1677-09-21", "2014-01-01"])
NUMBERS = st.sampled_from(["NULL", "0", "-1", "2147483647", "-2147483648",
                           "9223372036854775807", "'nan'::DOUBLE", "'inf'::DOUBLE", "1e300",
                           "0.5"])


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@st.composite
def store_damage(draw, columns) -> tuple:
    """One change to results.duckdb: ("sql", [(statement, parameters), ...])."""
    table = draw(st.sampled_from(sorted(columns)))
    column, kind = draw(st.sampled_from(columns[table]))
    where = draw(st.sampled_from(["", " WHERE rowid % 3 = 0", " WHERE rowid = 0"]))
    t, c = q(table), q(column)
    sql = draw(st.sampled_from([
        [(f"DROP TABLE {t}", [])],
        [(f"ALTER TABLE {t} DROP COLUMN {c}", [])],
        [(f"ALTER TABLE {t} RENAME COLUMN {c} TO {q(column + '_x')}", [])],
        [(f"UPDATE {t} SET {c} = NULL{where}", [])],
        [(f"DELETE FROM {t}{where}", [])],
        [(f"INSERT INTO {t} SELECT * FROM {t}", [])],
        [(f"ALTER TABLE {t} ALTER {c} TYPE VARCHAR", []),
         (f"UPDATE {t} SET {c} = ?{where}", [draw(WORDS)])],
        [(f"ALTER TABLE {t} ALTER {c} TYPE DOUBLE", []),
         (f"UPDATE {t} SET {c} = {draw(NUMBERS)}{where}", [])],
        [(f"UPDATE {t} SET {c} = {draw(NUMBERS)}{where}", [])],
        [(f"ALTER TABLE {t} ALTER {c} TYPE TIMESTAMP", []),
         (f"UPDATE {t} SET {c} = CAST(? AS TIMESTAMP){where}", [draw(DATES)])],
        [(f"UPDATE {t} SET {c} = ?{where}", [draw(DATES)])],
        [(f"ALTER TABLE {t} ALTER {c} TYPE BOOLEAN", [])],
        [(f"ALTER TABLE {t} ALTER {c} TYPE HUGEINT", [])],
    ]))
    return ("sql", sql)


SCENARIO_TEXT = socialcredit.load("rongcheng")[1].splitlines()


@st.composite
def scenario_text(draw) -> str:
    """The run's scenario with a line dropped or a value replaced: nearly a scenario."""
    lines = list(SCENARIO_TEXT)
    i = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()) or "=" not in lines[i]:
        del lines[i]
    else:
        lines[i] = lines[i].split("=")[0] + "= " + draw(st.sampled_from(
            ["", "x", "-1", "[", '"', "1e400", "nan", "inf", "[]", "{}", "true", "'a'"]))
    return "\n".join(lines)


def run_damage(draw_words: st.SearchStrategy) -> st.SearchStrategy:
    """A change to a run row's JSON list or text, or to a grade's name."""
    return st.tuples(st.just("run"),
                     st.sampled_from(["grades", "lists", "gates", "scenario_text", "title",
                                      "scenario", "start_date", "created"]),
                     draw_words)


BYTES = st.tuples(st.just("bytes"), st.sampled_from(["results.duckdb", "part"]),
                  st.sampled_from(["truncate", "overwrite", "zero", "append"]),
                  st.floats(0, 1), st.binary(min_size=1, max_size=64))
PARTS = st.tuples(st.just("parts"), st.sampled_from(["delete", "empty", "garbage", "stray",
                                                     "folder", "file", "subfolder", "dupe"]))


def apply(folder: Path, damage: tuple) -> None:
    """Damage the folder; a change the damaged store no longer allows is skipped."""
    what = damage[0]
    if what in ("sql", "run"):
        statements = (damage[1] if what == "sql"
                      else [(f"UPDATE run SET {q(damage[1])} = ?", [damage[2]])])
        try:
            con = duckdb.connect(str(folder / "results.duckdb"))
        except duckdb.Error:
            return
        try:
            for sql, params in statements:
                con.execute(sql, params)
        except (duckdb.Error, ValueError):
            pass
        finally:
            con.close()
    elif what == "bytes":
        _, name, how, where, data = damage
        parts = [p for p in sorted((folder / "citizens.parquet").glob("*.parquet"))
                 if p.is_file()]
        path = folder / "results.duckdb" if name == "results.duckdb" else (
            parts[0] if parts else None)
        if path is None or not path.is_file():
            return
        raw = bytearray(path.read_bytes())
        at = int(where * len(raw))
        if how == "truncate":
            raw = raw[:at]
        elif how == "overwrite":
            raw[at:at + len(data)] = data
        elif how == "zero":
            raw[at:at + 4096] = bytes(len(raw[at:at + 4096]))
        else:
            raw += data
        path.write_bytes(bytes(raw))
    elif what == "parts":
        cit = folder / "citizens.parquet"
        parts = [p for p in sorted(cit.glob("*.parquet")) if p.is_file()]
        how = damage[1]
        if how == "folder":
            shutil.rmtree(cit, ignore_errors=True)
        elif how == "file":
            shutil.rmtree(cit, ignore_errors=True)
            cit.write_bytes(b"PAR1")
        elif not cit.is_dir():
            return
        elif how == "stray":
            (cit / "notes.txt").write_text("hello")
        elif how == "subfolder":
            (cit / "part-99999.parquet").mkdir(exist_ok=True)
        elif how == "dupe" and parts:
            shutil.copy(parts[0], cit / "part-99998.parquet")
        elif parts:
            p = parts[0]
            if how == "delete":
                p.unlink()
            elif how == "empty":
                p.write_bytes(b"")
            else:
                p.write_bytes(b"garbage" * 100)


# -- checks -----------------------------------------------------------------------------------

def check_cli(argv: list[str], name: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    text = err.getvalue()
    if status == 0:
        OUTCOMES[f"{name} works"] += 1
        return
    assert status == 2, f"{argv[0]} ended {status}: {text}"
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("socialcredit: error: "), text
    assert "Traceback" not in text
    OUTCOMES[f"{name} refused"] += 1


def check_api(folder: Path) -> None:
    try:
        res = socialcredit.open_results(folder)
    except socialcredit.UserError as e:
        assert "\n" not in str(e), str(e)
        OUTCOMES["open_results refused"] += 1
        return
    OUTCOMES["open_results works"] += 1
    assert isinstance(res.info, dict)
    try:
        cit = res.citizens
    except socialcredit.UserError as e:
        assert "\n" not in str(e), str(e)
        OUTCOMES["citizens refused"] += 1
    else:
        assert len(cit) == res.agents
        OUTCOMES["citizens works"] += 1
    if REPORT:
        from socialcredit.report.html import render

        assert "<html" in render(res)
        OUTCOMES["report works"] += 1


def check(finished: Path, damages: list[tuple], citizen: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(finished, folder)
        for d in damages:
            apply(folder, d)
        check_cli(["summary", str(folder)], "summary")
        check_cli(["explain", str(folder), str(citizen)], "explain")
        check_api(folder)
        OUTCOMES["cases"] += 1


CITIZENS = st.integers(0, POPULATION - 1)


@FUZZ
@given(data=st.data())
def test_a_store_damaged_at_random_is_read_or_refused_in_one_line(finished, columns, data):
    damages = data.draw(st.lists(st.one_of(
        store_damage(columns), run_damage(WORDS), run_damage(DATES),
        st.tuples(st.just("run"), st.just("scenario_text"), scenario_text())),
        min_size=1, max_size=3))
    check(finished, damages, data.draw(CITIZENS))


@FUZZ
@given(data=st.data())
def test_bytes_and_parts_damaged_at_random_are_read_or_refused_in_one_line(finished, columns,
                                                                           data):
    damages = data.draw(st.lists(st.one_of(BYTES, PARTS, store_damage(columns)), min_size=1,
                                 max_size=3))
    check(finished, damages, data.draw(CITIZENS))


def test_every_table_of_the_store_is_damaged_somewhere(columns):
    """The damage draws from all the tables the readers use."""
    assert set(TABLES) <= set(columns)
