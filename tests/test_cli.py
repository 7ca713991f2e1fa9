"""The command line as a user meets it: bad input gets one line and exit status 2, per-person
data is refused, finished results are never overwritten, and a run can be read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import socialcredit
from socialcredit.cli import COMMANDS, main
from socialcredit.scenario import json_schema
from socialcredit.scenario.load import builtin_dir
from socialcredit.scenario.schema import Society

SCENARIO, RONGCHENG = socialcredit.load("rongcheng")
SYNTHETIC_ONLY = "socialcredit only builds synthetic populations from aggregate figures"
E2E_POPULATION = 5000


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run every command from a scratch folder, so a default `runs/` never lands in the repo."""
    monkeypatch.chdir(tmp_path)


def write_edited(folder: Path, old: str, new: str, name: str = "edited.toml") -> Path:
    """Rongcheng with its one occurrence of `old` replaced by `new`, written to folder/name."""
    assert RONGCHENG.count(old) == 1, f"{old!r} should occur once in rongcheng.toml"
    text = RONGCHENG.replace(old, new)
    assert text != RONGCHENG
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_line(capsys, argv: list[str]) -> str:
    """Run the CLI in-process; it must exit 2 with one error line on stderr and no traceback."""
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("socialcredit: error: ")
    return lines[0]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "socialcredit.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NUMBA_NUM_THREADS": "1"})


def index_of(section: str, **match) -> int:
    """Where the Rongcheng entry with these field values sits in its section."""
    entries = getattr(SCENARIO, section)
    found = [i for i, e in enumerate(entries)
             if all(getattr(e, k) == v for k, v in match.items())]
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """A finished run through a real process: (the process, its results folder)."""
    base = tmp_path_factory.mktemp("e2e")
    folder = base / "out"
    proc = cli("run", "--population", str(E2E_POPULATION), "--days", "30", "--out",
               str(folder), cwd=base)
    return proc, folder


# -- bad scenario files -----------------------------------------------------------------------

ACT_NAMES = sorted(a.name for a in SCENARIO.acts)
LIST_NAMES = sorted(x.name for x in SCENARIO.lists)
BAND_A = index_of("grades", name="A")
ARREARS = index_of("acts", name="payment_arrears")
FLIGHT = index_of("gates", name="flight")
FIRST_RULE = index_of("rules", act="payment_arrears")
BROKEN_LINE = RONGCHENG.splitlines().index(
    next(ln for ln in RONGCHENG.splitlines() if ln.startswith("population = 700000"))) + 1

BAD_FILES = [
    pytest.param("population = 700000", "population = = 700000",
                 ["not valid TOML", f"line {BROKEN_LINE}"], id="toml-syntax"),
    pytest.param("household_size = 2.62", "household_size = 2.62\ncolour = 3",
                 ["society.colour", "unknown field", *Society.model_fields], id="unknown-field"),
    pytest.param("population = 700000", "population = -5",
                 ["society.population", "greater than 0"], id="negative-population"),
    pytest.param("rate = 0.06\n", "rate = -0.06\n",
                 [f"acts[{ARREARS}].rate", "greater than or equal to 0"], id="negative-rate"),
    pytest.param("min = 960\n", "min = 950\n",
                 [f"grades[{BAND_A}].min", "overlaps", "band A", "band B"], id="band-overlap"),
    pytest.param("min = 960\n", "min = 970\n",
                 [f"grades[{BAND_A}].min", "gap", "should start at 960"], id="band-gap"),
    pytest.param('act = "payment_arrears"', 'act = "no_such_act"',
                 [f"rules[{FIRST_RULE}].act", "'no_such_act'", *ACT_NAMES], id="unknown-act"),
    pytest.param('name = "flight"\nattempts = 0.47\ndeny_lists = ["blacklist"]',
                 'name = "flight"\nattempts = 0.47\ndeny_lists = ["greylist"]',
                 [f"gates[{FLIGHT}].deny_lists", "'greylist'", *LIST_NAMES], id="unknown-list"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_FILES)
def test_bad_scenario_file_gets_one_line_naming_file_field_and_valid_values(
        tmp_path, capsys, old, new, expected):
    path = write_edited(tmp_path, old, new)
    out = tmp_path / "out"
    line = error_line(capsys, ["run", str(path), "--population", "100", "--days", "1",
                               "--out", str(out)])
    assert f"{path}: " in line
    for fragment in expected:
        assert fragment in line
    assert not out.exists(), "a bad scenario must fail before any results folder exists"


def test_unknown_act_in_a_rule_is_located_at_the_act_field(tmp_path, capsys):
    path = write_edited(tmp_path, 'act = "payment_arrears"', 'act = "no_such_act"')
    line = error_line(capsys, ["check", str(path)])
    assert f"rules[{FIRST_RULE}].act: unknown act" in line


def test_bad_file_fails_through_a_real_process_with_status_2(tmp_path):
    path = write_edited(tmp_path, "population = 700000", "population = = 700000")
    proc = cli("check", str(path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("socialcredit: error: ")
    assert len(proc.stderr.splitlines()) == 1
    assert str(path) in proc.stderr and "not valid TOML" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


# -- bad options and requests -----------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "no-such-scenario"], ["scenario", "'no-such-scenario'", "rongcheng"]),
    (["run", "missing.toml"], ["'missing.toml'", "no such file", "rongcheng"]),
    (["check", "missing.toml"], ["'missing.toml'", "no such file", "rongcheng"]),
    (["run", "--population", "-5"], ["--population", "-5", "valid: 1 to"]),
    (["run", "--population", "abc"], ["--population", "'abc'", "whole number"]),
    (["run", "--population", "0"], ["--population", "valid: 1 to"]),
    (["run", "--days", "0"], ["--days", "valid: 1 to"]),
    (["run", "--threads", "0"], ["--threads", "valid: 1 to"]),
    (["run", "--frobnicate"], ["--frobnicate", "--help"]),
    (["frobnicate"], ["'frobnicate'", "run", "check", "explain"]),
    (["explain", ".", "abc"], ["CITIZEN", "'abc'", "whole number"]),
])
def test_bad_option_gets_one_line_and_status_2(capsys, argv, expected):
    line = error_line(capsys, argv)
    for fragment in expected:
        assert fragment in line


@pytest.mark.parametrize("argv", [["run", "--days", "40000"], ["run", "--threads", "99999"]])
def test_out_of_range_count_names_its_real_range(capsys, argv):
    line = error_line(capsys, argv)
    assert "valid: 1 to" in line


def test_bad_option_fails_through_a_real_process_with_status_2(tmp_path):
    proc = cli("run", "--population", "abc", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("socialcredit: error: --population")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "runs").exists()


def test_explain_refuses_a_citizen_out_of_range(e2e, capsys):
    _, folder = e2e
    line = error_line(capsys, ["explain", str(folder), "99999999"])
    assert "99999999" in line
    assert f"valid: 0 to {E2E_POPULATION - 1}" in line


def test_explain_and_summary_refuse_a_folder_without_results(tmp_path, capsys):
    for command in ("explain", "summary"):
        argv = [command, str(tmp_path)] + (["0"] if command == "explain" else [])
        line = error_line(capsys, argv)
        assert str(tmp_path) in line and "results.duckdb" in line


def test_resume_refuses_a_folder_without_a_checkpoint(tmp_path, capsys):
    line = error_line(capsys, ["resume", str(tmp_path), "--quiet"])
    assert str(tmp_path) in line and "checkpoint" in line


def test_resume_refuses_a_finished_run(e2e, capsys):
    _, folder = e2e
    line = error_line(capsys, ["resume", str(folder), "--quiet"])
    assert str(folder) in line and "finished" in line


@pytest.mark.parametrize("command", ["run", "resume"])
def test_refusal_is_one_line_with_the_progress_bar_on(e2e, tmp_path, capsys, command):
    _, finished = e2e
    argv = (["run", "--population", "100", "--days", "1", "--out", str(finished)]
            if command == "run" else ["resume", str(tmp_path)])
    error_line(capsys, argv)


def test_debug_shows_the_traceback_and_still_exits_2(tmp_path, capsys):
    path = write_edited(tmp_path, "household_size = 2.62", "household_size = 2.62\ncolour = 3")
    status = main(["--debug", "check", str(path)])
    _, err = capsys.readouterr()
    assert status == 2
    assert "Traceback" in err
    assert "socialcredit: error: " in err and "society.colour" in err


# -- per-person data --------------------------------------------------------------------------

@pytest.fixture
def people_csv(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("name,id_number\nZhang San,370000000000000000\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ["run", "{people}"],
    ["check", "{people}"],
    ["run", "--population", "{people}"],
    ["run", "--population", "{people_no_suffix}"],
    ["run", "--citizens", "file.csv"],
    ["run", "--citizens=file.csv"],
    ["run", "--id-numbers", "file.csv"],
])
def test_per_person_data_on_the_command_line_is_refused(tmp_path, people_csv, capsys, argv):
    plain = tmp_path / "people"
    plain.write_bytes(people_csv.read_bytes())
    argv = [a.format(people=people_csv, people_no_suffix=plain) for a in argv]
    line = error_line(capsys, argv)
    assert SYNTHETIC_ONLY in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("old", "new", "field"), [
    ("household_size = 2.62", 'household_size = 2.62\nid_number = "x"', "society.id_number"),
    ("[society.ages]", '[[society.citizens]]\nname = "Zhang San"\n\n[society.ages]',
     "society.citizens"),
    ('name = "city"', 'name = "city"\nfull_name = "Zhang San"', "society.regions[0].full_name"),
])
def test_per_person_fields_in_a_scenario_are_refused(tmp_path, capsys, old, new, field):
    path = write_edited(tmp_path, old, new)
    for command in ("check", "run"):
        line = error_line(capsys, [command, str(path)])
        assert SYNTHETIC_ONLY in line
        assert str(path) in line and f"'{field}'" in line
    assert not (tmp_path / "runs").exists()


# -- results already written ------------------------------------------------------------------

def test_a_second_run_into_the_same_folder_leaves_the_results_intact(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--population", "3000", "--days", "20", "--quiet", "--no-report",
            "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    store = out / "results.duckdb"
    before = (store.read_bytes(), store.stat().st_mtime_ns)
    line = error_line(capsys, argv)
    assert str(out) in line and "already holds results" in line
    assert (store.read_bytes(), store.stat().st_mtime_ns) == before


# -- scenarios, check, schema -----------------------------------------------------------------

def test_scenarios_lists_every_builtin_one_line_each(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = socialcredit.builtin_names()
    assert "rongcheng" in names
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert line.split()[0] == name
        assert socialcredit.load(name)[0].scenario.summary in line


@pytest.mark.parametrize("spec", [str(builtin_dir() / "rongcheng.toml"), "rongcheng"])
def test_check_accepts_the_builtin_scenario(capsys, spec):
    assert main(["check", spec]) == 0
    out = capsys.readouterr().out
    assert "valid scenario 'rongcheng'" in out
    assert f"{len(SCENARIO.acts)} acts" in out and f"{len(SCENARIO.gates)} gates" in out


def test_check_refuses_a_bad_file(tmp_path, capsys):
    path = write_edited(tmp_path, "rate = 0.06\n", "rate = -0.06\n")
    line = error_line(capsys, ["check", str(path)])
    assert str(path) in line and f"acts[{ARREARS}].rate" in line


def test_schema_prints_the_scenario_json_schema(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    schema = json.loads(out)
    for section in ("scenario", "society", "acts", "channels", "rules", "grades", "lists",
                    "gates", "responses"):
        assert section in schema["properties"]
    assert out == json_schema()


def test_schema_out_writes_the_same_json(tmp_path, capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    target = tmp_path / "scenario.schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed


def test_the_shipped_schema_file_matches_the_scenario_schema():
    shipped = builtin_dir().parent / "scenario.schema.json"
    assert shipped.read_text(encoding="utf-8") == json_schema()


def test_schema_out_to_an_unwritable_place_is_one_line(tmp_path, capsys):
    line = error_line(capsys, ["schema", "--out", str(tmp_path / "missing" / "s.json")])
    assert "--out" in line and "missing" in line


# -- a run end to end -------------------------------------------------------------------------

def test_run_writes_the_results_folder_and_prints_a_summary(e2e):
    proc, folder = e2e
    assert proc.returncode == 0, proc.stderr
    for name in ("results.duckdb", "report.html"):
        assert (folder / name).is_file(), name
    assert list((folder / "citizens.parquet").glob("part-*.parquet"))
    assert not (folder / "checkpoint").exists() and not (folder / ".lock").exists()
    assert "Grades" in proc.stdout and "Gates" in proc.stdout
    for gate in SCENARIO.gates:
        assert gate.name in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_summary_reads_a_finished_run(e2e, capsys):
    _, folder = e2e
    assert main(["summary", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{E2E_POPULATION:,} citizens" in out
    assert "Grades" in out and "Gates" in out


def test_explain_tells_a_tracked_citizens_story_from_the_ledger(e2e, capsys):
    _, folder = e2e
    ledger = socialcredit.open_results(folder).ledger
    acts = ledger[ledger["act"] != "appeal_correction"]
    assert len(acts), "a 30-day Rongcheng run should record some acts"
    citizen = int(acts["citizen"].iloc[0])
    assert main(["explain", str(folder), str(citizen)]) == 0
    out = capsys.readouterr().out
    assert f"Citizen {citizen}" in out
    theirs = set(acts.loc[acts["citizen"] == citizen, "act"])
    assert any(act in out or act.replace("_", " ") in out for act in theirs)


@pytest.mark.parametrize(("assignment", "says"), [
    ("gates.loan.deny_grades=C", 'give a list, e.g. ["C", "D"]'),
    ("rules.littering.points=2.5", "give a whole number"),
    ("gates.loan.children=1", "true or false"),
])
def test_a_value_of_the_wrong_kind_is_named_plainly(capsys, tmp_path, assignment, says):
    line = error_line(capsys, ["run", "rongcheng", "--population", "2000", "--days", "2",
                               "--set", assignment, "--out", str(tmp_path / "r")])
    assert assignment.split("=")[0].split(".")[-1] in line
    assert says in line
    assert "Input should" not in line
    assert not (tmp_path / "r").exists()


def test_explain_in_a_scenario_without_points_says_so(capsys, tmp_path):
    assert main(["run", "national", "--population", "5000", "--days", "30", "--set",
                 "acts.unpaid_judgment.rate=0.02", "--out", str(tmp_path / "n")]) == 0
    capsys.readouterr()
    assert main(["explain", str(tmp_path / "n"), "0"]) == 0
    out = capsys.readouterr().out
    assert "no points" in out and "score 0" not in out


@pytest.mark.parametrize("command", ["", *sorted(COMMANDS)])
def test_every_help_page_prints(command, capsys):
    """`socialcredit --help` and each command's: argparse formats help text with %, so a
    stray percent sign in any help string breaks the page."""
    with pytest.raises(SystemExit) as done:
        main([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("usage: socialcredit") and (command in printed)
