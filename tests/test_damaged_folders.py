"""A damaged or foreign run folder, a missing command and names the file system cannot hold
get one line on stderr naming what is wrong, and exit status 2; never a traceback."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import socialcredit
from socialcredit import cli
from socialcredit.cli import main
from socialcredit.report.html import render
from test_cli import error_line

DAMAGED = "the folder was not written by this version of socialcredit or is damaged"
LONG = "a" * 300


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run every command from a scratch folder, so a default `runs/` never lands in the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A small finished run, copied before each damage."""
    out = tmp_path_factory.mktemp("finished") / "run"
    socialcredit.run("rongcheng", population=2000, days=20, out=out)
    return out


@pytest.fixture
def copy(finished, tmp_path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(finished, folder)
    return folder


def sql(folder: Path, *statements: str) -> None:
    con = duckdb.connect(str(folder / "results.duckdb"))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def refused_everywhere(capsys, folder: Path, *expected: str) -> str:
    """summary, explain and open_results all refuse the folder with the same one line."""
    lines = {error_line(capsys, ["summary", str(folder)]),
             error_line(capsys, ["explain", str(folder), "5"])}
    with pytest.raises(socialcredit.UserError) as e:
        socialcredit.open_results(folder)
    assert "\n" not in str(e.value)
    lines.add(f"socialcredit: error: {e.value}")
    assert len(lines) == 1, lines
    line = lines.pop()
    for text in expected:
        assert text in line, line
    return line


# -- results.duckdb ---------------------------------------------------------------------------

STORE_DAMAGE = {
    "a table dropped": (["DROP TABLE daily"], "lacks table daily"),
    "two tables dropped": (["DROP TABLE ledger", "DROP TABLE acts"], "lacks tables ledger, acts"),
    "a column dropped": (["ALTER TABLE daily DROP COLUMN date"], "table daily lacks column date"),
    "a grade's daily column dropped": (["ALTER TABLE daily DROP COLUMN grade_A"],
                                       "table daily lacks column grade_A"),
    "a gate's column dropped": (["ALTER TABLE daily DROP COLUMN flight_denied"],
                                "table daily lacks column flight_denied"),
    "bad JSON in run.grades": (["UPDATE run SET grades = '[oops'"],
                               "table run column grades holds '[oops'"),
    "JSON of another shape in run.gates": (["UPDATE run SET gates = '{\"a\": 1}'"],
                                          "table run column gates"),
    "a NULL JSON list": (["UPDATE run SET lists = NULL"], "missing values in column lists"),
    "words where dates belong": (["ALTER TABLE daily ALTER date TYPE VARCHAR",
                                  "UPDATE daily SET date = 'garbage'"],
                                 "table daily column date is VARCHAR where dates belong"),
    "words where a start date belongs": (["ALTER TABLE run ALTER start_date TYPE VARCHAR",
                                          "UPDATE run SET start_date = 'someday'"],
                                         "column start_date is VARCHAR"),
    "a date past any calendar": (["UPDATE ledger SET date = 'infinity'"],
                                 "table ledger holds dates outside years 1 to 9999"),
    "a missing value": (["UPDATE daily SET listed = NULL WHERE day = 3"],
                        "table daily holds missing values in column listed"),
    "words where numbers belong": (["ALTER TABLE acts ALTER points TYPE VARCHAR",
                                    "UPDATE acts SET points = 'many'"],
                                   "table acts column points is VARCHAR where whole numbers"),
    "an infinite number": (["ALTER TABLE run ALTER scale TYPE DOUBLE",
                            "UPDATE run SET scale = 'inf'"], "infinite numbers in column scale"),
    "no run row": (["DELETE FROM run"], "table run holds 0 rows where one belongs"),
    "two run rows": (["INSERT INTO run SELECT * FROM run"], "table run holds 2 rows"),
    "a grade missing": (["DELETE FROM grades WHERE grade = 'B'"], "table grades lacks grade B"),
    "an ended listing without its end": (
        ["ALTER TABLE listings ALTER list TYPE VARCHAR",
         "ALTER TABLE listings ALTER exit TYPE VARCHAR",
         "INSERT INTO listings VALUES (1, 'blacklist', 3, TIMESTAMP '2014-01-04', 9, NULL, "
         "'expired', 6, false, 0)"], "ended listing(s) without a left_on date"),
}


@pytest.mark.parametrize("case", list(STORE_DAMAGE))
def test_a_damaged_store_is_refused_with_one_line(copy, capsys, case):
    statements, expected = STORE_DAMAGE[case]
    sql(copy, *statements)
    line = refused_everywhere(capsys, copy, expected, DAMAGED)
    assert f"{copy / 'results.duckdb'}: " in line


def test_a_file_that_is_not_duckdb_is_refused(copy, capsys):
    (copy / "results.duckdb").write_bytes(b"not a database at all\n" * 10)
    refused_everywhere(capsys, copy, str(copy / "results.duckdb"),
                       "cannot be opened as a DuckDB database")


@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_a_truncated_store_is_refused(copy, capsys, keep):
    path = copy / "results.duckdb"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    refused_everywhere(capsys, copy, str(path))


def test_a_store_held_open_for_writing_is_named(copy, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(copy / "results.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        line = error_line(capsys, ["summary", str(copy)])
    finally:
        holder.kill()
        holder.wait()
    assert "another program holds it open for writing" in line


def test_library_messages_are_cut_to_one_line(copy, capsys):
    (copy / "results.duckdb").write_bytes(b"")
    line = refused_everywhere(capsys, copy, str(copy / "results.duckdb"))
    assert "LINE 1" not in line


def test_a_store_with_odd_but_usable_values_still_reads(copy, capsys):
    """Text that is not a scenario, markup-like titles and an extra table are no damage."""
    sql(copy, "UPDATE run SET scenario_text = '[[[ not toml', title = 'x [/red] [bold] y'",
        "CREATE TABLE notes AS SELECT 1 AS n")
    assert main(["summary", str(copy)]) == 0
    assert "x [/red] [bold] y" in capsys.readouterr().out
    assert main(["explain", str(copy), "5"]) == 0
    capsys.readouterr()
    res = socialcredit.open_results(copy)
    assert list(res.extras) == ["notes"]
    assert "<html" in render(res)


def test_a_store_without_optional_columns_reads(copy, capsys):
    """Columns older stores lack (firms, end_date, the harm counts) are not needed."""
    sql(copy, "ALTER TABLE run DROP COLUMN firms", "ALTER TABLE run DROP COLUMN end_date",
        "ALTER TABLE daily DROP COLUMN association_penalties")
    assert main(["summary", str(copy)]) == 0
    assert main(["explain", str(copy), "5"]) == 0
    assert len(socialcredit.open_results(copy).citizens) == 2000


# -- citizens.parquet -------------------------------------------------------------------------

def part(folder: Path) -> Path:
    parts = sorted((folder / "citizens.parquet").glob("*.parquet"))
    assert parts
    return parts[0]


def citizens_refused(capsys, folder: Path, *expected: str) -> str:
    """explain and Results.citizens refuse the damaged table; summary does not need it."""
    assert main(["summary", str(folder)]) == 0
    capsys.readouterr()
    line = error_line(capsys, ["explain", str(folder), "5"])
    res = socialcredit.open_results(folder)
    with pytest.raises(socialcredit.UserError) as e:
        _ = res.citizens
    assert line == f"socialcredit: error: {e.value}"
    for text in expected:
        assert text in line, line
    return line


def test_an_empty_part_file_is_refused(copy, capsys):
    p = part(copy)
    p.write_bytes(b"")
    citizens_refused(capsys, copy, f"{p}: cannot be read as Parquet", DAMAGED)


def test_a_garbage_part_file_is_refused(copy, capsys):
    p = part(copy)
    p.write_bytes(b"garbage" * 500)
    citizens_refused(capsys, copy, f"{p}: cannot be read as Parquet")


def test_a_part_with_its_middle_overwritten_is_refused_or_read(copy, capsys):
    p = part(copy)
    data = bytearray(p.read_bytes())
    data[100:400] = b"\xff" * 300
    p.write_bytes(bytes(data))
    assert main(["summary", str(copy)]) == 0
    status = main(["explain", str(copy), "5"])
    _, err = capsys.readouterr()
    assert status == 0 or (status == 2 and len(err.splitlines()) == 1), err


def test_a_deleted_part_file_is_noticed(copy, capsys):
    part(copy).unlink()
    citizens_refused(capsys, copy, f"{copy / 'citizens.parquet'}: holds no part files")


def test_a_part_with_too_few_citizens_is_noticed(copy, capsys):
    p = part(copy)
    pq.write_table(pq.read_table(p).slice(0, 1500), p)
    citizens_refused(capsys, copy, "holds 1,500 citizens where the run has 2,000")


def test_a_part_lacking_a_column_is_refused(copy, capsys):
    p = part(copy)
    pq.write_table(pq.read_table(p).drop_columns(["tracked"]), p)
    citizens_refused(capsys, copy, f"{p}: lacks column tracked")


def test_a_part_with_words_for_scores_is_refused(copy, capsys):
    p = part(copy)
    t = pq.read_table(p)
    i = t.schema.get_field_index("score")
    pq.write_table(t.set_column(i, "score", pa.array(["x"] * len(t))), p)
    citizens_refused(capsys, copy, "column score is string where whole numbers belong")


def test_a_stray_file_among_the_parts_is_refused(copy, capsys):
    stray = copy / "citizens.parquet" / "notes.txt"
    stray.write_text("hello")
    citizens_refused(capsys, copy, f"{stray}: cannot be read as Parquet")


def test_citizens_parquet_as_a_file_is_refused(copy, capsys):
    shutil.rmtree(copy / "citizens.parquet")
    (copy / "citizens.parquet").write_bytes(b"PAR1")
    citizens_refused(capsys, copy, "citizens.parquet: is not a folder of Parquet part files")


def test_a_missing_citizens_table_leaves_the_ledger_story(copy, capsys):
    shutil.rmtree(copy / "citizens.parquet")
    assert main(["summary", str(copy)]) == 0
    assert main(["explain", str(copy), "5"]) == 0
    res = socialcredit.open_results(copy)
    with pytest.raises(socialcredit.UserError, match="kept no citizens table") as e:
        _ = res.citizens
    assert str(copy / "citizens.parquet") in str(e.value)


# -- no command -------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [[], ["--debug"]])
def test_no_command_names_the_commands(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert "usage: socialcredit" in out
    line = err.splitlines()[-1]
    assert line.startswith("socialcredit: error: ") and "no command" in line
    for command in ("run", "summary", "explain", "compare"):
        assert command in line
    if not argv:
        assert len(err.splitlines()) == 1


# -- names the file system cannot hold --------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["run", f"{LONG}.toml"],
    ["check", f"{LONG}.toml"],
    ["run", "--population", "100", "--days", "2", "--out", f"out/{LONG}/x"],
    ["summary", LONG],
    ["explain", LONG, "3"],
    ["resume", LONG],
    ["run", "--population", LONG],
    ["compare", "rongcheng", "--set", "seed=1", "--population", LONG],
])
def test_names_too_long_for_the_file_system_get_one_line(capsys, argv):
    line = error_line(capsys, argv)
    assert "internal error" not in line
    assert LONG[:50] in line


def test_a_long_population_value_is_not_a_number(capsys):
    line = error_line(capsys, ["run", "--population", LONG])
    assert "--population" in line and "not a whole number" in line


def fail_with(monkeypatch, exc: BaseException) -> None:
    def command(a):
        raise exc
    monkeypatch.setitem(cli.COMMANDS, "scenarios", command)


@pytest.mark.parametrize("exc, expected", [
    (PermissionError(errno.EACCES, "Permission denied", "/srv/runs/a"),
     "/srv/runs/a: Permission denied"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out"),
     "/mnt/ro/out: Read-only file system"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "notes.txt/out"),
     "notes.txt/out: Not a directory"),
    (OSError(errno.ENOSPC, "No space left on device"), "disk: No space left on device"),
])
def test_file_system_refusals_of_user_paths_are_one_line(monkeypatch, capsys, exc, expected):
    fail_with(monkeypatch, exc)
    assert error_line(capsys, ["scenarios"]) == f"socialcredit: error: {expected}"


@pytest.mark.parametrize("exc", [
    FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"),
    OSError("not about a path"),
    OSError(errno.EACCES, "Permission denied"),  # no file named: not the user's path
    ValueError("a bug"),
])
def test_programming_errors_stay_internal(monkeypatch, capsys, exc):
    fail_with(monkeypatch, exc)
    assert main(["scenarios"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("socialcredit: internal error: ") and len(err.splitlines()) == 1


def test_a_message_on_several_lines_is_printed_on_one(monkeypatch, capsys):
    fail_with(monkeypatch, socialcredit.UserError("first\nsecond\n\nthird", "here"))
    assert error_line(capsys, ["scenarios"]) == "socialcredit: error: here: first second third"
