"""Nothing crashes, nothing is lost: a wrong scenario, option or request gets one line on
stderr (`socialcredit: error: WHERE: what; what would be valid`) and exit status 2, before any
run starts; a change asked for either takes effect or is refused, never silently dropped."""

from __future__ import annotations

import datetime as dt

import pytest

import socialcredit
from socialcredit import UserError, load
from socialcredit.analysis import calibrate as cal
from socialcredit.analysis import compare as cmp
from socialcredit.analysis.compare import apply_set, paired, variants
from socialcredit.cli import main
from socialcredit.scenario import parse

_, RONGCHENG = load("rongcheng")
SMALL = ["--seeds", "2", "--population", "200", "--days", "1", "--quiet"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run every command from a scratch folder, so a default `runs/` never lands in the repo."""
    monkeypatch.chdir(tmp_path)


def one_line(capsys) -> str:
    """The single line a refused command printed on stderr."""
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert err.startswith("socialcredit: error: "), err
    return err


def refused(args: list[str], capsys) -> str:
    assert main(args) == 2
    return one_line(capsys)


def edited(old: str, new: str, text: str = RONGCHENG) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def refusal(text: str) -> str:
    with pytest.raises(UserError) as caught:
        parse(text, "edited.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("edited.toml: ")
    return message


def no_runs(monkeypatch):
    """Make any simulation fail loudly: a refusal must come before the first run."""
    def boom(*a, **k):
        raise AssertionError("a run started before the input was checked")
    monkeypatch.setattr("socialcredit.engine.run.run", boom)
    monkeypatch.setattr(cmp, "compare", boom)


@pytest.mark.parametrize("old, new, field", [
    ("points = -5\n", "points = -5\nladder = [9223372036854775808]\n", "ladder[0]"),
    ("points = -5\n", "points = -5\ncap = -9223372036854775809\n", ".cap"),
    ("points = -5\n", "points = 99999999999999999999\n", ".points"),
    ('name = "AAA"\nmin = 1050', 'name = "AAA"\nmin = 10000000000000000000000', "grades[0].min"),
    ("start = 1000", "start = -9223372036854775809", "points.start"),
])
def test_a_number_beyond_its_range_is_refused_by_check_naming_the_field_and_range(
        tmp_path, capsys, old, new, field):
    f = tmp_path / "big.toml"
    f.write_text(edited(old, new))
    line = refused(["check", str(f)], capsys)
    assert field in line and "valid: " in line and str(f) in line


def test_a_number_beyond_its_range_through_set_is_refused_before_any_run(capsys, monkeypatch):
    no_runs(monkeypatch)
    line = refused(["compare", "rongcheng", "--set",
                    "rules.littering.ladder=[9223372036854775808]", *SMALL], capsys)
    assert "ladder[0]" in line and "valid: -10000 to 10000" in line


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e400"])
def test_infinite_and_undefined_numbers_are_refused(value):
    line = refusal(edited("misattribution = 0.003", f"misattribution = {value}"))
    assert "channels[0].misattribution" in line


@pytest.mark.parametrize("old, new, words", [
    ("start = 2014-01-01", "start = 0", "scenario.start: give a date as YYYY-MM-DD"),
    ("misattribution = 0.003", "misattribution = true", "misattribution: give a number, not true"),
    ("points = -5\n", 'points = "-7"\n', "points: give a number, not the text '-7'"),
    ("points = -5\n", "points = -5\nladder = [-1, false]\n", "ladder: give a number"),
])
def test_a_value_of_the_wrong_kind_is_refused_not_converted(old, new, words):
    assert words in refusal(edited(old, new))


# -- deep nesting ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "x = " + "[" * 1000 + "]" * 1000,
    "x = " + "[" * 100 + "]" * 100,
    "x = " + "{a = " * 500 + "1" + "}" * 500,
    "[" + ".".join(["a"] * 2000) + "]\n",
    "{" + '"a": [' * 2000 + "]" * 2000 + "}",
])
def test_deeply_nested_files_are_refused_with_one_line(tmp_path, capsys, text):
    f = tmp_path / "deep.toml"
    f.write_text(text)
    line = refused(["check", str(f)], capsys)
    assert "nest too deeply" in line or "not valid" in line


def test_a_deeply_nested_set_value_is_refused(capsys, monkeypatch):
    no_runs(monkeypatch)
    deep = "[" * 1000 + "]" * 1000
    line = refused(["compare", "rongcheng", "--set", f"rules.littering.ladder={deep}", *SMALL],
                   capsys)
    assert "nests too deeply" in line


def test_a_number_of_thousands_of_digits_is_refused(tmp_path, capsys):
    f = tmp_path / "digits.toml"
    f.write_text(edited("misattribution = 0.003", "misattribution = 1" + "0" * 5000))
    assert "too many digits" in refused(["check", str(f)], capsys)


# -- calibration targets -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def national():
    return load("national")[0]


@pytest.mark.parametrize("value", ["0", "-5", "0.0"])
def test_a_reported_figure_of_zero_or_below_is_left_out_with_the_reason(national, value):
    text = f"date,people_listed_cumulative\n2015-06-30,{value}\n2016-06-30,1000\n"
    t = cal.read_targets(text, "t.csv", national)
    out = t.cells[t.cells["excluded"]]
    assert len(out) == 1 and "0 or below" in out.iloc[0]["why"]
    assert len(t.used) == 1
    import pandas as pd
    daily = pd.DataFrame({"listed_cumulative": [float(d) for d in range(2000)]})
    table = cal.fit_table(t, daily, 1.0, national)
    zero = table[~table["used"]].iloc[0]
    assert zero["relative_error"] != zero["relative_error"]  # undefined, not infinite


@pytest.mark.parametrize("csv, words", [
    ("", "empty"),
    ("\n\n", "empty"),
    ("date,people_listed_cumulative\n", "no reported figures"),
    ("date\n2015-06-30\n", "no reported figures"),
    ("date,people_listed_cumulative\n2015-06-30,0\n", "every figure is excluded"),
    ("date,people_listed_cumulative\n2015-06-30,nan\n", "'nan' is not a number"),
    ("date,people_listed_cumulative,source\n2015-06-30,lots,x\n", "'lots' is not a number"),
    ("date,people_listed_cumulative\n2015-06-30,inf\n", "not a number"),
    ("date,people_listed_cumulative\n2015-06-30,1e400\n", "not a number"),
    ("date,people_listed_cumulative\n2015-06-30,1e300\n", "beyond any count"),
    ("date,people_listed_cumulative\n2015-06-30,5\n2015-06-30,6\n", "also given in row 2"),
    ("date,listed,listed\n2015-06-30,5,6\n", "appears twice"),
    ("date,listed\n2015-06-30,5,6\n", "3 cells"),
    ("date,listed\n2015-06-30," + "9" * 200_000 + "\n", "not a readable CSV"),
    ("date,listed\n2015-06-31,5\n", "not a date"),
])
def test_odd_targets_files_are_refused_with_one_line_before_any_folder(tmp_path, capsys, csv,
                                                                      words):
    f = tmp_path / "t.csv"
    f.write_text(csv)
    out = tmp_path / "c"
    line = refused(["calibrate", "national", "--targets", str(f), "--out", str(out),
                    "--until", "2018-12-31"], capsys)
    assert words in line and str(f) in line
    assert not out.exists()


def test_a_targets_file_with_a_byte_order_mark_and_trailing_commas_reads(national):
    t = cal.read_targets("\ufeffdate,listed,\n2015-06-30,5,\n", "t.csv", national)
    assert list(t.used["reported"]) == [5.0]


# -- dates through --set -----------------------------------------------------------------------

def test_dates_set_on_the_command_line_take_effect():
    s, _ = load("rongcheng")
    b = apply_set(s, "scenario.start=2016-03-01")
    assert b.scenario.start == dt.date(2016, 3, 1)
    b = apply_set(s, "scenario.start=2016-03-01T00:00:00")
    assert b.scenario.start == dt.date(2016, 3, 1)
    b = apply_set(s, "rules.littering.starts=2015-01-01")
    assert [r.starts for r in b.rules if r.act == "littering"] == [dt.date(2015, 1, 1)]


@pytest.mark.parametrize("value, words", [
    ("1600-01-01", "valid: 1900-01-01 to 2100-12-31"),
    ("9999-12-01", "valid: 1900-01-01 to 2100-12-31"),
    ("2016-03-01T10:30:00", "zero time"),
    ("10:30:00", "valid date"),
    ("1979-05-27T07:32:00Z", "zero time"),
])
def test_dates_and_times_that_cannot_start_a_run_are_refused(capsys, monkeypatch, value, words):
    no_runs(monkeypatch)
    line = refused(["compare", "rongcheng", "--set", f"scenario.start={value}", *SMALL], capsys)
    assert "scenario.start" in line and words in line


# -- undefined statistics ----------------------------------------------------------------------

def test_an_outcome_undefined_in_the_runs_is_shown_as_such_not_a_crash(capsys):
    args = ["compare", "corporate", "--set", "responses.deterrence.enabled=false", "--seeds",
            "2", "--population", "200", "--days", "1", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if "mean_score" in line)
    assert "n/a" in row


def test_paired_statistics_of_undefined_values_are_undefined():
    nan = float("nan")
    got = paired([(nan, nan), (1.0, 2.0)])
    assert all(v != v for v in got.values())
    got = paired([(1.0, 2.0), (1.0, 2.0)])
    assert got["difference"] == 1 and got["ci95_low"] == got["ci95_high"] == 1
    assert got["relative"] == 1


# -- start dates at the ends of the calendar ---------------------------------------------------

@pytest.mark.parametrize("start", ["9999-12-01", "2101-01-01", "1899-12-31", "0001-01-01"])
def test_a_start_whose_runs_would_leave_the_calendar_is_refused(tmp_path, capsys, start):
    f = tmp_path / "late.toml"
    f.write_text(edited("start = 2014-01-01", f"start = {start}"))
    line = refused(["check", str(f)], capsys)
    assert "scenario.start" in line and "valid: 1900-01-01 to 2100-12-31" in line


def test_the_latest_start_allows_the_longest_run_and_the_latest_until():
    s = parse(edited("start = 2014-01-01", "start = 2100-12-31"), "late.toml")
    from socialcredit.engine.run import days_until
    assert days_until(s, "2200-12-06") == 36_500
    with pytest.raises(UserError, match="beyond the longest run"):
        days_until(s, "2200-12-07")


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_timeline_dates_outside_the_calendar_are_refused(date):
    text = edited('assumed = ["rate", "spread"]\n\n[[acts]]\nname = "contract_breach"',
                  f'assumed = ["rate", "spread"]\n[[acts.rate_changes]]\ndate = {date}\n'
                  'rate = 1\n\n[[acts]]\nname = "contract_breach"')
    line = refusal(text)
    assert "acts[0].rate_changes[0].date" in line and "valid: 1900-01-01 to 2200-12-31" in line


# -- outputs checked before the runs -----------------------------------------------------------

def _file(path, text=""):
    path.write_text(text)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda p: p / "missing" / "x.csv", "does not exist"),
    (lambda p: _file(p / "file") / "x.csv", "is not a folder"),
    (lambda p: _file(p / "x.csv", "keep"), "exists"),
    (lambda p: p, "exists"),
    (lambda p: p / ("a" * 300 + ".csv"), "File name too long"),
    (lambda p: p / ("a" * 250 + ".csv"), "File name too long"),  # its .tmp file would be
])
def test_compare_out_that_cannot_be_written_is_refused_before_any_run(tmp_path, capsys,
                                                                     monkeypatch, make, words):
    no_runs(monkeypatch)
    out = make(tmp_path)
    line = refused(["compare", "rongcheng", "--set", "acts.littering.rate=1", "--out", str(out),
                    *SMALL], capsys)
    assert "--out" in line and words in line
    if out.name == "x.csv" and out.parent == tmp_path:
        assert out.read_text() == "keep"


def test_compare_out_inside_a_run_folder_is_refused(tmp_path, capsys, monkeypatch):
    no_runs(monkeypatch)
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    line = refused(["compare", "rongcheng", "--set", "acts.littering.rate=1", "--out",
                    str(run / "x.csv"), *SMALL], capsys)
    assert "inside the run folder" in line


def test_compare_out_in_a_folder_nobody_may_write_is_refused(capsys, monkeypatch):
    no_runs(monkeypatch)
    line = refused(["compare", "rongcheng", "--set", "acts.littering.rate=1", "--out",
                    "/proc/x.csv", *SMALL], capsys)
    assert "cannot write" in line


@pytest.mark.parametrize("make, words", [
    (lambda p: _file(p / "fitted.toml", "keep").parent, "holds fitted.toml"),
    (lambda p: _file(p / "file") / "x", "cannot create"),
    (lambda p: "/proc/x", "cannot create"),
])
def test_calibrate_out_that_cannot_be_written_is_refused_before_the_fit(tmp_path, capsys,
                                                                       monkeypatch, make,
                                                                       words):
    monkeypatch.setattr(cal, "calibrate", lambda *a, **k: pytest.fail("the fit started"))
    out = make(tmp_path)
    line = refused(["calibrate", "national", "--out", str(out)], capsys)
    assert "--out" in line and words in line
    if (tmp_path / "fitted.toml").exists():
        assert (tmp_path / "fitted.toml").read_text() == "keep"


# -- --set paths name something, or are refused ------------------------------------------------

@pytest.mark.parametrize("assignment, words", [
    ("scenario.name.x=1", "scenario.name is a value, not a section"),
    ("points.start.x.y=1", "points.start is a value"),
    ("acts.littering.ages.adult=1", "list of values"),
    ("scenario.colour=1", "no such field; valid: name, title"),
    ("nothing=1", "no such field; valid: scenario, society"),
    ("=1", "no such field"),
    ("rules.flying.points=1", "valid: "),
    ("association.enabled=true", "no [association] section"),
    ("responses.chilling.strength=0.5", "no [responses.chilling] section"),
    ("rules.littering.list.x=1", "not set in this scenario"),
])
def test_a_set_path_that_names_nothing_is_refused(capsys, monkeypatch, assignment, words):
    no_runs(monkeypatch)
    scenario = "national" if assignment.startswith(("association", "responses")) else "rongcheng"
    line = refused(["compare", scenario, "--set", assignment, *SMALL], capsys)
    assert words in line


def test_a_set_path_into_a_section_the_scenario_leaves_out_creates_it_from_its_defaults():
    s, _ = load("national")
    assert s.manipulation is None
    b = apply_set(s, "manipulation.buy_per_year=2")
    assert b.manipulation is not None and b.manipulation.buy_per_year == 2
    assert b.manipulation.enabled
    b = apply_set(s, 'association={source="assumed", penalty_share=0.1}')
    assert b.association is not None and b.association.penalty_share == 0.1


def test_a_set_of_the_region_table_rebuilds_the_regions():
    s, _ = load("china")
    b = apply_set(s, "society.regions_from.urban_share=0.5")
    urban = sum(r.share for r in b.society.regions if r.type == "urban")
    assert urban == pytest.approx(0.5)
    assert urban != pytest.approx(sum(r.share for r in s.society.regions if r.type == "urban"))


def test_a_calibrated_region_table_value_rebuilds_the_regions_too():
    s, _ = load("china")
    b = cal.with_values(s, {"society.regions_from.urban_share": 0.5})
    assert sum(r.share for r in b.society.regions if r.type == "urban") == pytest.approx(0.5)


def test_compare_with_a_set_still_describes_both_designs():
    a, b, what = variants("national", None, ["manipulation.buy_per_year=2"])
    assert a.manipulation is None and b.manipulation.buy_per_year == 2
    assert what == "national with manipulation.buy_per_year=2"


def test_socialcredit_run_of_a_scenario_with_a_created_section_completes():
    s, _ = load("national")
    b = apply_set(s, "manipulation.buy_per_year=2")
    res = socialcredit.run(b, population=200, days=3, report=False)
    assert len(res.daily) == 3
