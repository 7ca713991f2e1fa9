"""Sensitivity analyses: a value that cannot reach an outcome gets an interval holding 0, the
value that drives an outcome ranks first, the command writes its tables, report and terminal
table and refuses bad input in one line, and the same seeds give the same table whatever the
number of workers.

The design: on Rongcheng at 2,000 citizens over 60 days, the mean score at the end is driven
by how often people litter (3 points a time, caught by cameras), barely moved by fighting
(rare), and out of reach of how often people try to board a flight: gates come after the
score in the day and answer from it without changing it, and their draws have a stream of
their own, so runs at one seed differ in the flight figures only, whatever the attempts.
"""

from __future__ import annotations

import contextlib
import io

import duckdb
import pandas as pd
import pytest

from socialcredit.cli import main
from socialcredit.ensembles import open_sensitivity, sensitivity

LITTER, FIGHT, FLIGHT = "acts.littering.rate", "acts.fighting.rate", "gates.flight.attempts"
VARY = [f"{LITTER}=0.2:3", f"{FIGHT}=0.001:0.05:log", f"{FLIGHT}=0.1:2"]
SMALL = {"population": 2000, "days": 60, "seeds": 2}


@pytest.fixture(scope="module")
def morris(tmp_path_factory):
    """A Morris design through the command line on two workers: its folder, read back, and
    what it printed."""
    out = tmp_path_factory.mktemp("sens") / "morris"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["sensitivity", "rongcheng", *[a for v in VARY for a in ("--vary", v)],
                     "--samples", "4", "--seeds", "2", "--population", "2000", "--days", "60",
                     "--workers", "2", "--out", str(out)])
    assert code == 0
    return open_sensitivity(out), printed.getvalue()


@pytest.fixture(scope="module")
def sobol():
    """A Sobol' design through the Python API, in memory."""
    return sensitivity("rongcheng", {LITTER: (0.2, 3), FIGHT: (0.001, 0.05, "log"),
                                     FLIGHT: (0.1, 2)},
                       method="sobol", samples=4, workers=2, **SMALL)


def _rows(res, outcome: str, parameter: str) -> pd.DataFrame:
    t = res.sensitivity
    return t[(t["outcome"] == outcome) & (t["parameter"] == parameter)]


def test_the_flight_attempts_truly_cannot_move_the_mean_score(morris):
    """Runs at one seed that differ only in the flight attempts end on the same mean score
    (the Morris steps that move the flight attempts alone give such pairs)."""
    design = morris[0].design
    same = design.groupby(["seed", LITTER, FIGHT])
    moved = same[FLIGHT].nunique()
    assert (moved > 1).any()
    assert (same["mean_score"].nunique()[moved > 1] == 1).all()


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_a_value_that_cannot_move_an_outcome_gets_an_interval_holding_0(method, morris,
                                                                        sobol):
    res = morris[0] if method == "morris" else sobol
    inert = _rows(res, "mean_score", FLIGHT)
    assert set(inert["index"]) == ({"mu_star", "sigma"} if method == "morris"
                                   else {"S1", "ST"})
    assert ((inert["low"] <= 0) & (inert["high"] >= 0)).all()
    driver = _rows(res, "mean_score", LITTER).set_index("index")  # the test is not vacuous
    if method == "morris":
        assert driver.loc["mu_star", "low"] > 0
    else:  # 8 base samples, most of the variance the seeds': an estimate, a wide interval
        assert driver.loc["ST", "estimate"] > 0.1


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_the_value_that_drives_an_outcome_ranks_first(method, morris, sobol):
    res = morris[0] if method == "morris" else sobol
    ranked = res.ranked("mean_score")
    assert list(ranked["parameter"]) == [LITTER, FIGHT, FLIGHT]
    if method == "morris":  # apart beyond doubt, not only in the point estimates
        assert ranked["main_low"].iloc[0] > ranked["main_high"].iloc[1]


def test_an_outcome_no_run_moves_gets_0_not_a_failure_or_nan(morris, sobol):
    for res in (morris[0], sobol):
        assert res.sensitivity[["estimate", "low", "high"]].notna().all().all()
        wrongful = res.sensitivity[res.sensitivity["outcome"] == "wrongful_listings"]
        assert (wrongful[["estimate", "low", "high"]] == 0).all().all()
        assert any("wrongful_listings is 0 in every run" in n for n in res.notes)
        assert any("expression_acts left out" in n for n in res.notes)


def test_every_design_point_runs_with_the_same_seeds_and_noise_is_shown(morris):
    res, _ = morris
    design = res.design
    assert len(design) == 16 * 2 and (design["status"] == "done").all()
    assert (design.groupby("point")["seed"].apply(sorted).map(tuple) == (0, 1)).all()
    noise = _rows(res, "mean_score", "(replicate noise)").iloc[0]
    sd = design.groupby("point")["mean_score"].std().mean()
    assert noise["index"] == "sd" and noise["estimate"] == pytest.approx(sd)
    assert noise["low"] <= sd <= noise["high"]


def test_the_command_writes_the_tables_the_report_and_a_terminal_table(morris):
    res, printed = morris
    with duckdb.connect(str(res.folder / "results.duckdb"), read_only=True) as con:
        names = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        columns = list(con.execute("SELECT * FROM sensitivity").df().columns)
    assert names == {"sensitivity_info", "design", "sensitivity"}
    assert columns == ["outcome", "parameter", "index", "estimate", "low", "high"]
    assert {"run", "point", "seed", LITTER, FIGHT, FLIGHT, "mean_score", "status",
            "error"} <= set(res.design.columns)
    html = (res.folder / "report.html").read_text()
    assert "<svg" in html and "mu*" in html and "(replicate noise)" in html
    lines = printed.splitlines()
    assert lines[0].startswith("32 runs (16 design points x 2 seeds)")
    table = "\n".join(lines)
    assert "mu_star" in table and "95% interval" in table and "(replicate noise)" in table
    first = next(i for i, line in enumerate(lines) if "mean_score" in line)
    assert LITTER in lines[first]  # ranked first in the terminal too
    assert lines[-1].startswith(f"wrote {res.folder}")


def test_one_worker_gives_the_table_of_two(morris):
    one = sensitivity("rongcheng", VARY, samples=4, workers=1, **SMALL)
    pd.testing.assert_frame_equal(one.sensitivity, morris[0].sensitivity, check_exact=True)


@pytest.mark.parametrize("args, says", [
    (["--vary", "acts.littering.rate=3:0.2"], "LO (3) must be below HI (0.2)"),
    (["--vary", "acts.littering.rate=0:3:log"], "needs LO above 0"),
    (["--vary", "acts.nope.rate=0:1"], "no acts entry named 'nope'"),
    (["--vary", "acts.littering=0:1"], "vary one of its numbers: rate, spread"),
    (["--vary", "acts.littering.rate"], "is not PATH=LO:HI"),
    (["--vary", "acts.littering.rate=-1:2"], "greater than or equal to 0"),
    ([], "nothing to vary"),
    (["--vary", "acts.littering.rate=0.2:3", "--outcomes", "nope"], "valid: acts_committed"),
    (["--vary", "acts.littering.rate=0.2:3", "--method", "fast"], "valid: morris, sobol"),
    (["--vary", "acts.littering.rate=0.2:3", "--method", "sobol", "--samples", "12"],
     "power of two"),
    (["--vary", "acts.littering.rate=0.2:3", "--seeds", "0"], "valid: 1 to 1000"),
])
def test_bad_input_is_refused_in_one_line_with_status_2(args, says, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["sensitivity", "rongcheng", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err, err
    assert not out.exists()


def test_runs_the_scenario_refuses_are_recorded_and_the_analysis_refused(tmp_path, capsys):
    """Each end of each range is a valid scenario, but together the age shares sum to more
    than 1 at every design point: every run is recorded with the reason, and no analysis is
    made from a design with holes."""
    out = tmp_path / "holes"
    assert main(["sensitivity", "rongcheng", "--vary", "society.ages.child=0.1801:0.1804",
                 "--vary", "society.ages.adult=0.6341:0.6344", "--samples", "2", "--seeds",
                 "2", "--population", "1000", "--days", "20", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "12 of 12 runs failed" in err and "age shares must sum to 1" in err
    design = open_sensitivity(out).design
    assert len(design) == 12 and (design["status"] == "failed").all()
    assert design["error"].str.contains("age shares must sum to 1").all()
    assert "Runs that did not finish" in (out / "report.html").read_text()
