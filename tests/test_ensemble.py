"""Ensembles on this machine: a replicate is the plain run with its seed, bit for bit; the
tables do not depend on the number of workers; a worker killed mid-run is replaced and its
replicate run again; a refused replicate is recorded and the rest complete; an ensemble that
would not fit in memory is refused before it starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit
from socialcredit.cli import main
from socialcredit.engine import memory
from socialcredit.ensembles import ensemble, open_ensemble
from socialcredit.ensembles.ensemble import tables
from socialcredit.ensembles.executors import run_local
from socialcredit.ensembles.replicate import Replicate
from socialcredit.errors import UserError

SMALL = {"population": 5000, "days": 60}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """Three replicates on two workers, through the command line."""
    out = tmp_path_factory.mktemp("ens") / "two"
    assert main(["ensemble", "rongcheng", "--seeds", "3", "--population", "5000", "--days",
                 "60", "--workers", "2", "--out", str(out), "--quiet"]) == 0
    return open_ensemble(out)


def test_a_replicate_is_the_plain_run_with_its_seed_bit_for_bit(two_workers, tmp_path):
    plain = tmp_path / "plain"
    assert main(["run", "rongcheng", "--seed", "2", "--population", "5000", "--days", "60",
                 "--no-report", "--no-citizens", "--quiet", "--out", str(plain)]) == 0
    mine = two_workers.daily[two_workers.daily["run"] == 2].drop(columns="run")
    pd.testing.assert_frame_equal(mine.reset_index(drop=True),
                                  socialcredit.open_results(plain).daily, check_exact=True)
    assert list(two_workers.runs["seed"]) == [0, 1, 2]
    assert (two_workers.runs["status"] == "done").all()


def test_bands_are_the_percentiles_over_the_replicates(two_workers):
    daily, bands = two_workers.daily, two_workers.bands
    last = daily["date"].max()
    values = daily.loc[daily["date"] == last, "listed_cumulative"].to_numpy(dtype=float)
    row = bands[(bands["date"] == last) & (bands["column"] == "listed_cumulative")].iloc[0]
    assert row["replicates"] == 3
    assert row["mean"] == pytest.approx(values.mean())
    for name, q in (("p5", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95)):
        assert row[name] == pytest.approx(np.percentile(values, q))
    assert set(bands["column"]) >= {"listed", "mean_score", "wrongful_penalties"}
    assert len(bands) == len(set(daily["date"])) * bands["column"].nunique()
    html = (two_workers.folder / "report.html").read_text()
    assert "90% of replicates" in html and "<svg" in html


def test_one_worker_gives_the_tables_of_two(two_workers):
    one = ensemble("rongcheng", seeds=3, workers=1, **SMALL)
    pd.testing.assert_frame_equal(one.daily, two_workers.daily, check_exact=True,
                                  check_dtype=False)
    pd.testing.assert_frame_equal(one.bands, two_workers.bands, check_exact=True,
                                  check_dtype=False)


def test_a_worker_killed_mid_run_is_replaced_and_the_tables_stay_the_same(two_workers,
                                                                          tmp_path, monkeypatch):
    killed = tmp_path / "killed"
    monkeypatch.setenv("SOCIALCREDIT_KILL_AT", "day-30")
    monkeypatch.setenv("SOCIALCREDIT_KILL_ONCE", str(killed))
    again = ensemble("rongcheng", seeds=3, workers=2, **SMALL)
    assert killed.exists()  # one worker did die at day 30 of a replicate
    assert (again.runs["status"] == "done").all()
    pd.testing.assert_frame_equal(again.daily, two_workers.daily, check_exact=True,
                                  check_dtype=False)


def test_a_refused_replicate_is_recorded_and_the_rest_complete(two_workers):
    text = socialcredit.load("rongcheng")[0].model_dump_json()
    bad = text.replace('"start":1000', '"start":5000')  # above the points maximum
    assert bad != text
    reps = [Replicate(0, 0, text, 5000, 60, 1), Replicate(1, 1, bad, 5000, 60, 1),
            Replicate(2, 2, text, 5000, 60, 1)]
    seen = []
    res = tables(run_local(reps, 1, seen.append), [], {})
    assert sorted(o.run for o in seen) == [0, 1, 2]
    runs = res.runs.set_index("run")
    assert list(runs["status"]) == ["done", "failed", "done"]
    why = runs.loc[1, "error"]
    assert "\n" not in why and "run 1" in why and "points" in why
    assert set(res.daily["run"]) == {0, 2}
    first = two_workers.daily[two_workers.daily["run"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.daily[res.daily["run"] == 0].reset_index(drop=True),
                                  first, check_exact=True, check_dtype=False)


def test_an_ensemble_that_would_not_fit_in_memory_is_refused_before_it_starts(
        monkeypatch, tmp_path, capsys):
    s = socialcredit.load("rongcheng")[0]
    need = memory.estimate(s, 5000, 60).total
    monkeypatch.setattr(memory, "available", lambda: int(1.5 * need))
    with pytest.raises(UserError, match="lower --workers"):
        ensemble("rongcheng", seeds=4, workers=2, **SMALL)
    out = tmp_path / "e"
    assert main(["ensemble", "--seeds", "4", "--workers", "2", "--population", "5000",
                 "--days", "60", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB" in err and not out.exists()


@pytest.mark.parametrize("args, words", [
    (["--executor", "spark"], "invalid choice"),
    (["--address", "auto"], "--executor ray"),
    (["--seeds", "0"], "--seeds"),
    (["--workers", "0"], "--workers"),
    (["--days", "5", "--until", "2014-02-01"], "not both"),
    (["--set", "points.start=nope"], "points.start"),
])
def test_bad_ensemble_options_get_one_line_and_status_2(args, words, tmp_path, capsys):
    out = tmp_path / "e"
    assert main(["ensemble", "--population", "500", "--days", "3", "--out", str(out),
                 *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()
