"""Calibration against the public record: --until, rate timelines, fitting, bad targets."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pandas as pd
import pytest

import socialcredit
from socialcredit.analysis import calibrate as cal
from socialcredit.cli import main
from socialcredit.scenario import builtin_names, load, parse


def _national(**changes) -> socialcredit.Scenario:
    s, _ = load("national")
    return cal.with_values(s, changes, keep_calibrate=True) if changes else s


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


# -- --until ------------------------------------------------------------------------------------

def test_until_ends_the_run_on_that_date():
    res = socialcredit.run("national", population=20_000, until="2014-03-31", report=False)
    assert res.daily["date"].iloc[-1] == dt.datetime(2014, 3, 31)
    assert len(res.daily) == (dt.date(2014, 3, 31) - dt.date(2013, 10, 1)).days + 1
    assert str(res.info["end_date"])[:10] == "2014-03-31"


def test_until_on_the_command_line_ends_there_too(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "national", "--population", "20000", "--until", "2013-10-10",
                 "--out", str(out), "--quiet", "--no-report", "--no-citizens"]) == 0
    res = socialcredit.open_results(out)
    assert len(res.daily) == 10
    assert res.daily["date"].iloc[-1] == dt.datetime(2013, 10, 10)


@pytest.mark.parametrize("until, words", [
    ("2013-09-30", "before the scenario's start"),
    ("2200-01-01", "beyond the longest run"),
    ("31/12/2018", "not a date"),
])
def test_a_bad_until_is_one_line_and_exit_2(tmp_path, capsys, until, words):
    out = tmp_path / "r"
    assert main(["run", "national", "--until", until, "--out", str(out)]) == 2
    line = _err_line(capsys)
    assert "--until" in line and words in line
    assert not out.exists()


def test_until_and_days_together_are_refused():
    with pytest.raises(socialcredit.UserError, match="not both"):
        socialcredit.run("national", population=1000, days=5, until="2014-01-01")


# -- rate timelines and attempts by listed people ------------------------------------------------

def test_a_rate_change_changes_counts_from_its_date_and_nothing_before():
    s = _national()
    d = s.model_dump(mode="json")
    d["calibrate"] = []
    d["acts"][0]["rate_changes"] = [{"date": "2014-01-01", "rate": 0.0},
                                    {"date": "2014-03-01", "rate": 0.02}]
    changed = socialcredit.Scenario.model_validate(d)
    base = socialcredit.run(s, population=50_000, until="2014-04-30", report=False).daily
    new = socialcredit.run(changed, population=50_000, until="2014-04-30", report=False).daily
    cut, back = (dt.date(2014, 1, 1) - dt.date(2013, 10, 1)).days, \
        (dt.date(2014, 3, 1) - dt.date(2013, 10, 1)).days
    # the same random numbers: identical until the first change
    assert new["acts_committed"].iloc[:cut].tolist() == base["acts_committed"].iloc[:cut].tolist()
    assert new["acts_committed"].iloc[cut:back].sum() == 0
    after = new["acts_committed"].iloc[back:].sum()
    assert after > 5 * max(1, base["acts_committed"].iloc[back:].sum())


def test_rate_changes_out_of_order_are_refused():
    s = _national()
    d = s.model_dump(mode="json")
    d["acts"][0]["rate_changes"] = [{"date": "2015-01-01", "rate": 0.001},
                                    {"date": "2014-01-01", "rate": 0.002}]
    with pytest.raises(socialcredit.UserError, match=r"acts\[0\]\.rate_changes.*increasing"):
        parse(json.dumps(d), "x.toml")


def test_listed_people_try_a_gate_listed_attempts_times_as_often():
    low = socialcredit.run(_national(**{"gates.flights.listed_attempts": 1.0}),
                           population=200_000, until="2016-12-31", report=False).daily
    high = socialcredit.run(_national(**{"gates.flights.listed_attempts": 4.0}),
                            population=200_000, until="2016-12-31", report=False).daily
    assert low["listed"].tolist() == high["listed"].tolist()  # the list is untouched
    n_low, n_high = low["flights_denied"].sum(), high["flights_denied"].sum()
    ratio = n_high / n_low
    # Poisson counts: the ratio's standard error is about 4 * sqrt(1/n_low + 1/n_high)
    assert n_low > 200 and abs(ratio - 4.0) < 5 * 4.0 * (1 / n_low + 1 / n_high) ** 0.5


# -- [[calibrate]] entries ---------------------------------------------------------------------

def test_a_calibrate_path_that_names_nothing_is_one_clear_error():
    _, text = load("national")
    bad = text.replace('path = "gates.rail.listed_attempts"', 'path = "gates.bus.listed_attempts"')
    with pytest.raises(socialcredit.UserError) as e:
        parse(bad, "my.toml")
    msg = str(e.value)
    assert msg.startswith("my.toml: calibrate[") and "'bus'" in msg and "flights, rail" in msg


def test_a_value_outside_its_calibrate_bounds_is_refused():
    _, text = load("national")
    bad = re.sub(r"listed_attempts = [0-9.]+", "listed_attempts = 80.0", text, count=1)
    assert bad != text
    with pytest.raises(socialcredit.UserError, match="outside its bounds"):
        parse(bad, "my.toml")


@pytest.mark.parametrize("name", builtin_names())
def test_a_scenario_written_as_toml_loads_back_the_same(name):
    s, _ = load(name)
    assert parse(cal.to_toml(s, "header"), "x.toml") == s


# -- targets -----------------------------------------------------------------------------------

def test_the_shipped_targets_leave_out_the_falling_flights_figure():
    s = _national()
    where, text = cal.packaged_targets("spc_blacklist")
    t = cal.read_targets(text, where, s)
    out = t.cells[t.cells["excluded"]]
    assert len(out) == 1
    row = out.iloc[0]
    assert row["date"] == dt.date(2018, 3, 31) and row["target"] == "flights_blocked_cumulative"
    assert "9,360,000" in row["why"]
    assert len(t.used) == 18
    assert set(t.used["column"]) == {"listed_cumulative", "flights_denied_cumulative",
                                     "rail_denied_cumulative"}


@pytest.mark.parametrize("csv, words", [
    ("when,people_listed_cumulative\n2014-07-23,203000\n", "no 'date' column"),
    ("date,people_shot\n2014-07-23,5\n", "column 'people_shot' is not a figure"),
    ("date,listed\n2030-01-01,5\n", "held out of the fit"),
    ("date,listed\n2200-01-01,5\n", "outside the run"),
    ("date,listed\n2012-01-01,5\n", "outside the run"),
    ("date,listed\nsoon,5\n", "not a date"),
])
def test_bad_targets_are_one_line_and_exit_2(tmp_path, capsys, csv, words):
    f = tmp_path / "t.csv"
    f.write_text(csv)
    out = tmp_path / "c"
    code = main(["calibrate", "national", "--targets", str(f), "--out", str(out),
                 "--until", "2018-12-31"])
    assert code == 2
    line = _err_line(capsys)
    assert words in line and str(f) in line
    assert not out.exists()


def test_a_missing_targets_file_is_exit_2(tmp_path, capsys):
    assert main(["calibrate", "national", "--targets", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in _err_line(capsys)


# -- fitting -----------------------------------------------------------------------------------

def test_calibration_recovers_values_that_made_a_synthetic_record():
    truth = {"acts.unpaid_judgment.rate_changes.2014-07-01.rate": 0.0025,
             "gates.flights.listed_attempts": 2.5}
    s = _national()
    made = cal.with_values(s, truth)
    days = (dt.date(2016, 6, 30) - s.scenario.start).days + 1
    res = socialcredit.run(made, population=100_000, days=days, report=False)
    rows = ["date,people_listed_cumulative,flights_blocked_cumulative,source"]
    scale = res.info["scale"]
    for date in ("2015-03-31", "2015-09-30", "2016-03-31", "2016-06-30"):
        r = res.daily[res.daily["date"] == date].iloc[0]
        rows.append(f"{date},{r['listed_cumulative'] * scale:.0f},"
                    f"{r['flights_denied_cumulative'] * scale:.0f},made by the model")
    # start away from the truth, fit only these two values
    start = cal.with_values(s, {k: v * 0.6 for k, v in truth.items()}, keep_calibrate=True)
    d = start.model_dump(mode="json")
    d["calibrate"] = [c for c in d["calibrate"] if c["path"] in truth]
    start = socialcredit.Scenario.model_validate(d)
    t = cal.read_targets("\n".join(rows), "synthetic", start)
    fit = cal.calibrate(start, t, 100_000, seed=0, max_trials=40)
    got = dict(zip(fit.params["path"], fit.params["value"], strict=True))
    for path, value in truth.items():
        assert got[path] == pytest.approx(value, rel=0.05), path
    assert fit.objective < 1e-3 < fit.start_objective


def test_calibrate_command_writes_the_fit_the_confirmation_run_and_its_report(tmp_path, capsys):
    _, text = load("national")
    # a short run fitting one value, to keep the test quick
    keep = 'path = "gates.rail.listed_attempts"'
    blocks = text.split("\n[[calibrate]]\n")
    text = blocks[0] + "".join("\n[[calibrate]]\n" + b for b in blocks[1:] if keep in b)
    scen = tmp_path / "nat.toml"
    scen.write_text(text)
    targets = tmp_path / "t.csv"
    targets.write_text("date,rail_blocked_cumulative,source\n2016-06-30,3000000,made up\n"
                       "2016-12-31,4000000,made up\n")
    out = tmp_path / "cal"
    assert main(["calibrate", str(scen), "--targets", str(targets), "--trial-population",
                 "20000", "--population", "40000", "--trials", "6", "--posterior-points", "4",
                 "--draws", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rail_blocked_cumulative" in printed and "gates.rail.listed_attempts" in printed
    fitted, _ = load(out / "fitted.toml")
    assert fitted.gates[1].listed_attempts > 1.5 * 0.221575  # the made-up record is higher
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    fit = con.execute("SELECT * FROM calibration").df()
    params = con.execute("SELECT * FROM calibration_params").df()
    con.close()
    assert len(fit) == 2 and set(fit["target"]) == {"rail_blocked_cumulative"}
    assert list(params["path"]) == ["gates.rail.listed_attempts"]
    res = socialcredit.open_results(out)
    assert res.info["population"] == 40_000
    assert "calibration" in res.extras
    html = (out / "report.html").read_text()
    assert "<h2>Calibration</h2>" in html and "gates.rail.listed_attempts" in html
    assert (out / "fit.csv").exists() and (out / "fit.svg").exists()
    # the posterior: 4 weighed points, 5 draws resampled from them, the same beside fitted.toml
    assert "Posterior: 4 trials weighed" in printed
    draws = res.extras["calibration_posterior"]
    points = res.extras["calibration_samples"]
    assert len(draws) == 5 and len(points) == 4
    assert set(draws["gates.rail.listed_attempts"]) <= set(points["gates.rail.listed_attempts"])
    beside = pd.read_csv(out / "posterior.csv")
    assert list(beside.columns) == ["gates.rail.listed_attempts"]
    assert beside["gates.rail.listed_attempts"].to_numpy() == pytest.approx(
        draws["gates.rail.listed_attempts"].to_numpy())


def test_figures_after_until_are_held_out_of_the_fit_and_kept():
    s = _national()
    where, text = cal.packaged_targets("spc_blacklist")
    t = cal.read_targets(text, where, s, until=dt.date(2017, 12, 31))
    held = t.cells[t.cells["date"] > dt.date(2017, 12, 31)]
    assert len(held) == 9 and held["excluded"].all()
    assert held["why"].str.contains("held out of the fit").all()
    assert not (t.used["date"] > dt.date(2017, 12, 31)).any() and len(t.used) == 10


def test_the_shipped_national_lands_within_15_percent_of_the_record_at_reduced_scale():
    s = _national()
    res = socialcredit.run("national", population=1_410_000, until="2018-12-31", report=False,
                           citizens=False)
    where, text = cal.packaged_targets("spc_blacklist")
    t = cal.read_targets(text, where, s)
    table = cal.fit_table(t, res.daily, res.info["scale"], s)
    used = table[table["used"]]
    end = used[used["date"] == dt.date(2018, 12, 31)]
    assert len(end) == 3
    assert (end["relative_error"].abs() < 0.15).all(), end
    assert (used["relative_error"].abs() < 0.25).all(), used
