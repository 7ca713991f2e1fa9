"""The engine agrees with an independent Starsim model of the same scenario.

benchmarks/starsim_model.py writes Rongcheng again as a Starsim model (state arrays, one
module per concern, Starsim's own random streams). Both run 20,000 citizens for a year, the
engine over five seeds and Starsim over three, and every figure a user reads off the last
day must agree as in tests/test_vs_mesa.py (whose comparison this file imports): the
difference of the seed means within 4 standard errors of it, plus the small floor for shares.
Giving one rule other points in the Starsim model alone makes the comparison fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import pytest

from compiled import kernels_ready
from socialcredit.scenario import Scenario, load
from test_vs_mesa import (
    CHANGED_ACT,
    CHANGED_POINTS,
    CHANGED_SEEDS,
    DAYS,
    ENGINE_SEEDS,
    FIGURES,
    POPULATION,
    _engine,
    _fails,
    _with_points,
    assert_agree,
    figures_of,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from starsim_model import run_starsim  # noqa: E402

STARSIM_SEEDS = range(3)  # about 2 s each


def _starsim(seed: int, scenario: Scenario | None = None) -> dict[str, float]:
    return figures_of(run_starsim(scenario, POPULATION, DAYS, seed))


pytestmark = pytest.mark.before_kernels  # the Starsim model runs while the kernels compile


@pytest.fixture(scope="module")
def runs() -> tuple[list[dict], list[dict], list[dict]]:
    starsim = [_starsim(s) for s in STARSIM_SEEDS]
    changed = _with_points(load("rongcheng")[0], CHANGED_ACT, CHANGED_POINTS)
    starsim_changed = [_starsim(s, changed) for s in CHANGED_SEEDS]
    kernels_ready()
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # as tests/conftest.py does per worker: the same figures, and no
    try:  # thread left waiting for a core that another process holds
        engine = [_engine(s) for s in ENGINE_SEEDS]
    finally:
        numba.set_num_threads(threads)
    return engine, starsim, starsim_changed


@pytest.mark.parametrize("figure", FIGURES)
def test_engine_and_starsim_agree_on(figure: str, runs) -> None:
    assert_agree(figure, runs[0], runs[1], "Starsim")


def test_one_rule_changed_in_starsim_only_is_caught(runs) -> None:
    """The comparison has the power to see a model that differs in one rule's points."""
    failed = _fails(runs[0], runs[2])
    assert "mean_score" in failed, (
        f"littering at {CHANGED_POINTS} points in Starsim only went unnoticed; failing "
        f"figures: {failed}")
