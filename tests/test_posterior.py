"""Calibration with uncertainty: the posterior over fitted values, and `predict` with intervals.

The posterior is checked against a record the model made itself from known values: the
values must lie inside it, a value the record pins down must get a narrow posterior, and a
value the record says nothing about must keep about the width of its prior. `predict` is
checked on a calibration folder written by hand (fitted.toml and posterior.csv), so its
tables can be set against plain runs of the same draws.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

import socialcredit
from socialcredit.analysis import calibrate as cal
from socialcredit.analysis.posterior import posterior
from socialcredit.analysis.predict import QUANTILES
from socialcredit.cli import main
from socialcredit.scenario import load

RAIL, FLIGHTS = "gates.rail.listed_attempts", "gates.flights.listed_attempts"
POP = 20_000


def _two_values() -> socialcredit.Scenario:
    """`national` with only the rail and flights attempts calibratable."""
    s, _ = load("national")
    d = s.model_dump(mode="json")
    d["calibrate"] = [c for c in d["calibrate"] if c["path"] in (RAIL, FLIGHTS)]
    return socialcredit.Scenario.model_validate(d)


def _rail_record(s, truth: float, until: str) -> str:
    res = socialcredit.run(cal.with_values(s, {RAIL: truth}), population=POP, until=until,
                           report=False, citizens=False)
    scale = res.info["scale"]
    rows = ["date,rail_blocked_cumulative,source"]
    for date in ("2015-03-31", "2015-06-30", "2015-09-30", "2015-12-31"):
        if date <= until:
            day = res.daily["date"] == date
            rows.append(f"{date},{res.daily['rail_denied'].cumsum()[day].iloc[0] * scale:.0f},"
                        "made by the model")
    return "\n".join(rows) + "\n"


def _log_width(rows: pd.Series, c) -> float:
    """The share of a value's log-scaled prior range that its 90% interval covers."""
    lo, hi = np.quantile(rows, [0.05, 0.95])
    return math.log(hi / lo) / math.log(c.upper / c.lower)


def _fit_at(s, t: cal.Targets, values: dict[str, float]) -> cal.Fit:
    """A Fit as `calibrate` returns it, found at `values` (the posterior does not ask how)."""
    days = (t.last_date - s.scenario.start).days + 1
    at = cal.with_values(s, values, keep_calibrate=True)
    model = cal.model_figures(at, POP, 0, days, t.used)
    res = cal.residuals(model, t.used["reported"].to_numpy(), s.society.population / POP)
    params = pd.DataFrame({"path": list(values), "value": list(values.values())})
    return cal.Fit(scenario=at, params=params, targets=t, trial_population=POP, seed=0,
                   days=days, trials=1, objective=float(res @ res),
                   start_objective=float(res @ res), seconds=0.0, trial_model=model)


def test_the_posterior_holds_the_truth_narrows_where_the_record_speaks_and_not_elsewhere():
    s = _two_values()
    truth = 0.5
    t = cal.read_targets(_rail_record(s, truth, "2015-12-31"), "synthetic", s)
    # a fit that missed the truth by 15%: the weights must still find it
    fit = _fit_at(s, t, {FLIGHTS: 3.0, RAIL: truth * 1.15})
    post = posterior(fit, points=24, draws=400, workers=1)
    entries = {c.path: c for c in s.calibrate}
    rail, flights = post.draws[RAIL], post.draws[FLIGHTS]
    assert rail.quantile(0.05) <= truth <= rail.quantile(0.95)
    assert _log_width(rail, entries[RAIL]) < 0.25  # the rail record pins the rail value
    assert _log_width(flights, entries[FLIGHTS]) > 0.6  # and says nothing of flights
    assert post.noise > 0 and post.sigma >= post.noise
    assert 1 <= post.ess <= 24
    w = post.samples["weight"]
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    # every draw is one of the weighed points, with its values
    picked = post.samples.set_index("point").loc[post.draws["point"]]
    assert np.array_equal(picked[RAIL].to_numpy(), rail.to_numpy())


def _folder(tmp_path, draws: list[dict]) -> tuple:
    """A calibration folder written by hand: fitted.toml and posterior.csv."""
    s = _two_values()
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "fitted.toml").write_text(cal.to_toml(s))
    paths = [c.path for c in s.calibrate]
    pd.DataFrame(draws)[paths].to_csv(folder / "posterior.csv", index=False)
    targets = tmp_path / "t.csv"
    targets.write_text("date,flights_blocked_cumulative,rail_blocked_cumulative,source\n"
                       "2014-06-30,800000,,made up\n2014-12-31,1000000,900000,made up\n")
    return s, folder, targets


def test_predict_gives_the_quantiles_of_the_draws_as_plain_runs_give_them(tmp_path, capsys):
    draws = [{RAIL: 0.3, FLIGHTS: 2.0}, {RAIL: 0.6, FLIGHTS: 4.0}, {RAIL: 0.9, FLIGHTS: 1.0}]
    s, folder, targets = _folder(tmp_path, draws)
    out = tmp_path / "pred"
    assert main(["predict", str(folder), "--until", "2014-12-31", "--population", "5000",
                 "--seed", "7", "--targets", str(targets), "--workers", "1", "--out",
                 str(out), "--at", "2014-12-31", "--columns", "listed"]) == 0
    printed = capsys.readouterr().out
    assert "flights_blocked_cumulative" in printed and "90% interval" in printed
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    pred = con.execute("SELECT * FROM predictions").df()
    runs = con.execute("SELECT * FROM runs").df()
    rep = con.execute("SELECT * FROM reported").df()
    con.close()
    assert list(pred.columns) == ["date", "column", *QUANTILES]
    days = (dt.date(2014, 12, 31) - dt.date(2013, 10, 1)).days + 1
    assert len(pred) == 3 * days
    assert set(pred["column"]) == {"flights_blocked_cumulative", "rail_blocked_cumulative",
                                   "listed"}
    assert list(runs["seed"]) == [7, 8, 9] and (runs["status"] == "done").all()
    # each draw is the plain run with its values and seed
    end = pred[pred["date"] == "2014-12-31"].set_index("column")
    figures = []
    for i, d in enumerate(draws):
        res = socialcredit.run(cal.with_values(s, d), population=5000, seed=7 + i,
                               until="2014-12-31", report=False, citizens=False)
        figures.append(res.daily["rail_denied"].sum() * res.info["scale"])
    want = np.quantile(figures, list(QUANTILES.values()))
    assert end.loc["rail_blocked_cumulative", list(QUANTILES)].to_numpy() == pytest.approx(want)
    assert len(set(figures)) > 1  # the draws differ, so the interval is not one point
    # the reported figures beside their intervals
    assert len(rep) == 3
    for r in rep.itertuples():
        assert r.in_90 == (r.p5 <= r.reported <= r.p95)
        assert r.in_50 == (r.p25 <= r.reported <= r.p75)
    listed = end.loc["listed", list(QUANTILES)].to_numpy()
    assert (np.diff(listed) >= 0).all() and listed[-1] > 0
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 3 and "rail_blocked_cumulative" in html


@pytest.mark.parametrize("change, words", [
    ("no posterior", "no posterior.csv"),
    ("out of bounds", "outside its bounds"),
    ("wrong columns", "the columns must be"),
    ("too many draws", "--draws"),
    ("bad at", "--at"),
    ("bad column", "not a daily column"),
])
def test_bad_predictions_are_one_line_and_exit_2(tmp_path, capsys, change, words):
    _, folder, targets = _folder(tmp_path, [{RAIL: 0.3, FLIGHTS: 2.0}])
    args = ["predict", str(folder), "--until", "2014-01-31", "--population", "1000",
            "--targets", str(targets), "--workers", "1", "--out", str(tmp_path / "p")]
    if change == "no posterior":
        (folder / "posterior.csv").unlink()
    elif change == "out of bounds":
        (folder / "posterior.csv").write_text(f"{FLIGHTS},{RAIL}\n500,0.3\n")
    elif change == "wrong columns":
        (folder / "posterior.csv").write_text(f"{RAIL},{FLIGHTS}\n0.3,2.0\n")
    elif change == "too many draws":
        args += ["--draws", "5"]
    elif change == "bad at":
        args += ["--at", "2015-01-01"]
    else:
        args += ["--columns", "listed,happiness"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and words in err, err
    assert not (tmp_path / "p").exists()
