"""A posterior over the calibrated values: which values, besides the best fit, the record allows.

Observation model. Each reported figure y_j is the model's figure m_j(θ) times a log-normal
error: log y_j = log m_j(θ) + ε_j, ε_j independent N(0, σ²). The figures are rounded,
second-hand and partly inconsistent (see the targets file), and the model is simpler than the
system, so σ is not known in advance: by default it is estimated from the fit's own residuals,
σ² = SSR / (n − k) over n used figures and k fitted values, but never below the model's
run-to-run noise at the trial population (measured by running the fit with NOISE_SEEDS more
seeds: a fit to one seed partly fits that seed's noise), nor below SIGMA_FLOOR (the rounding
of the figures). A user who knows better gives σ.

Prior. Uniform between each value's [[calibrate]] bounds, on the log scale where the entry
says `log = true`: the bounds are the prior.

Sampler: importance sampling with a defensive mixture proposal, the first step of IMIS (the
sampler behind EMOD's calibration). Half the points are a scrambled Sobol design over the
whole prior box (`scipy.stats.qmc`), so no region the record allows is missed; the other half
are drawn around the fit from its Laplace approximation, a normal with covariance
(JᵀJ / σ² + 12·I)⁻¹ in the unit box (J: the residuals' Jacobian at the fit, by finite
differences; 12·I is the uniform prior's own precision, so a value the record cannot
constrain keeps the prior's width), widened twofold. Every point is weighted by likelihood ×
prior / mixture density, and the posterior draws are a systematic resample of the points by
weight. The effective sample size (Σw)² / Σw² says how many points carry the posterior; a
small one means more points are needed, and is printed.

Why this rather than MCMC (emcee): a point is a whole simulation, seconds to minutes. An
ensemble sampler needs thousands of them in a chain of steps; here every point is known before
any runs, so all of them run at once on the local workers or a Ray cluster, and the same seed
for every point (as in the fit) keeps the likelihood smooth in the values.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..scenario.schema import Scenario
from .calibrate import Fit, _Space, figures_from_daily, residuals, with_values

SIGMA_FLOOR = 0.02
"""Smallest observation error (sd of the log ratio) the estimate from the residuals may give."""
NOISE_SEEDS = 4
"""Extra seeds the fitted values run with, to measure the model's run-to-run noise."""
JACOBIAN_STEP = 0.02
"""Step in the unit box for the finite differences of the Laplace approximation."""
WIDEN = 2.0
"""The Laplace normal's standard deviations are multiplied by this in the proposal."""
POSTERIOR_FILE = "posterior.csv"
"""The posterior draws, beside fitted.toml: one row per draw, one column per value."""


@dataclass
class Posterior:
    """Weighted points and the draws resampled from them."""

    samples: pd.DataFrame  # point, stage, objective, log_likelihood, weight, one column per path
    draws: pd.DataFrame  # draw, point, one column per path
    sigma: float
    sigma_from: str  # "given", or estimated from "residuals and run-to-run noise"
    noise: float  # sd over seeds of log(model figure) at the fit, at the trial population
    ess: float
    seconds: float

    def summary(self) -> pd.DataFrame:
        """Per value: the posterior median and its 50% and 90% intervals (from the draws)."""
        rows = []
        for path in [c for c in self.draws.columns if c not in ("draw", "point")]:
            q = np.quantile(self.draws[path], [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append({"path": path, **dict(zip(("p5", "p25", "p50", "p75", "p95"), q,
                                                  strict=True))})
        return pd.DataFrame(rows)


Progress = Callable[[int, int], None]


def run_points(sc: Scenario, points: Sequence[dict[str, float]], population: int,
               seeds: int | Sequence[int], days: int, cells: pd.DataFrame,
               workers: int | None = None, executor: str = "local",
               address: str | None = None, threads: int = 1,
               progress: Progress | None = None) -> np.ndarray:
    """The model's figure for each target cell (columns) at each point (rows), each point run
    with its seed (one seed: the same for every point); NaN where a run failed."""
    from ..engine import memory
    from ..ensembles.executors import cores, run_all
    from ..ensembles.replicate import Replicate

    if not points:
        return np.empty((0, len(cells)))
    seeds = [seeds] * len(points) if isinstance(seeds, int) else list(seeds)
    reps = [Replicate(i, s, with_values(sc, p).model_dump_json(), population, days, threads)
            for i, (p, s) in enumerate(zip(points, seeds, strict=True))]
    need = memory.estimate(sc, population, days).total
    if executor != "ray":  # as many workers as hold a run each in the memory available
        workers = max(1, min(workers or cores(), int(memory.available() // max(need, 1))))
    outcomes = run_all(reps, executor, workers or 1, address, need, progress)
    scale = sc.society.population / population
    out = np.full((len(points), len(cells)), np.nan)
    for o in outcomes:
        if o.status == "done" and o.daily is not None:
            out[o.run] = figures_from_daily(o.daily, scale, sc, cells)
    return out


def estimate_sigma(fit: Fit, noise: float) -> float:
    """σ from the fit's residuals, sqrt(SSR / (n − k)), but never below the model's own
    run-to-run noise `noise` at the trial population, nor below SIGMA_FLOOR."""
    n, k = len(fit.targets.used), len(fit.params)
    return max(SIGMA_FLOOR, noise, math.sqrt(fit.objective / max(n - k, 1)))


def posterior(fit: Fit, points: int = 128, draws: int = 100, sigma: float | None = None,
              workers: int | None = None, executor: str = "local", address: str | None = None,
              threads: int = 1, progress: Progress | None = None) -> Posterior:
    """Weighted points over the prior box and around the fit, and `draws` resampled draws."""
    from scipy.stats import multivariate_normal, qmc

    if not 2 <= points <= 100_000:
        raise UserError(f"{points} is out of range; valid: 2 to 100000", "--posterior-points")
    if not 1 <= draws <= 100_000:
        raise UserError(f"{draws} is out of range; valid: 1 to 100000", "--draws")
    if sigma is not None and not (math.isfinite(sigma) and 0 < sigma <= 10):
        raise UserError(f"{sigma} is out of range; valid: above 0, up to 10 (the sd of "
                        "log(reported / model))", "--obs-error")
    t0 = time.perf_counter()
    sc, used = fit.scenario, fit.targets.used
    reported = used["reported"].to_numpy()
    space = _Space(sc)
    k = len(space.entries)
    trial = fit.trial_population
    floor_scale = max(1.0, sc.society.population / trial)
    x_fit = space.to_x([float(fit.params.loc[fit.params["path"] == c.path, "value"].iloc[0])
                        for c in space.entries])
    rng = np.random.default_rng([fit.seed, 0x5EED])
    total, ran = k + NOISE_SEEDS + points, [0]

    def run(xs: np.ndarray, seeds: int | list[int]) -> np.ndarray:
        """The figures at each point in the unit box (progress counts over both batches)."""
        base = ran[0]
        figs = run_points(sc, [space.to_values(x) for x in xs], trial, seeds, fit.days,
                          used, workers, executor, address, threads,
                          (lambda i, _: progress(base + i, total)) if progress else None)
        ran[0] += len(xs)
        return figs

    # the Laplace approximation around the fit, and the run-to-run noise there
    base_res = residuals(fit.trial_model, reported, floor_scale)
    xs_j = np.repeat(x_fit[None, :], k + NOISE_SEEDS, axis=0)
    h = np.where(x_fit + JACOBIAN_STEP <= 1.0, JACOBIAN_STEP, -JACOBIAN_STEP)
    xs_j[np.arange(k), np.arange(k)] += h
    figs_j = run(xs_j, [fit.seed] * k + [fit.seed + 1 + i for i in range(NOISE_SEEDS)])
    logs = np.log(np.maximum(np.vstack([fit.trial_model, figs_j[k:]]), 0.5 * floor_scale))
    noise = float(np.sqrt(np.nanmean(np.nanvar(logs, axis=0, ddof=1))))
    sigma_from = "given" if sigma is not None else "residuals and run-to-run noise"
    sigma = sigma if sigma is not None else estimate_sigma(fit, noise)
    jac = np.empty((len(reported), k))
    for i in range(k):
        res_i = residuals(figs_j[i], reported, floor_scale)
        jac[:, i] = np.nan_to_num((res_i - base_res) / h[i])
    precision = jac.T @ jac / sigma**2 + 12.0 * np.eye(k)
    cov = np.linalg.inv(precision) * WIDEN**2
    cov = (cov + cov.T) / 2

    # the proposal: half a Sobol design over the box, half the widened normal, kept in the box
    n_box = points // 2
    n_near = points - n_box
    with warnings.catch_warnings():  # a design of any size, not only powers of 2
        warnings.simplefilter("ignore", UserWarning)
        box = qmc.Sobol(k, scramble=True, seed=rng).random(n_box)
    normal = multivariate_normal(mean=x_fit, cov=cov, allow_singular=True)
    near = np.empty((0, k))
    while len(near) < n_near:
        x = normal.rvs(size=4 * n_near, random_state=rng).reshape(-1, k)
        near = np.vstack([near, x[((x >= 0) & (x <= 1)).all(axis=1)]])
    near = near[:n_near]
    check = normal.rvs(size=200_000, random_state=rng).reshape(-1, k)
    inside = max(float(((check >= 0) & (check <= 1)).all(axis=1).mean()), 1e-12)
    xs = np.vstack([box, near])
    figs = run(xs, fit.seed)

    # weights: likelihood x prior (1 in the unit box) / mixture density
    ssr = np.array([float(r @ r) for r in (residuals(f, reported, floor_scale) for f in figs)])
    loglik = -0.5 * ssr / sigma**2 - len(reported) * math.log(sigma * math.sqrt(2 * math.pi))
    q = (n_box + n_near * normal.pdf(xs) / inside) / points
    logw = np.where(np.isfinite(ssr), loglik - np.log(q), -np.inf)
    if not np.isfinite(logw).any():
        raise UserError("no posterior point ran; see the failed trials above", "calibrate")
    w = np.exp(logw - logw[np.isfinite(logw)].max())
    w /= w.sum()
    ess = float(1.0 / (w @ w))
    values = [space.to_values(x) for x in xs]
    paths = [c.path for c in space.entries]
    samples = pd.DataFrame({"point": np.arange(points),
                            "stage": ["prior design"] * n_box + ["near the fit"] * n_near,
                            "objective": ssr, "log_likelihood": loglik, "weight": w,
                            **{p: [v[p] for v in values] for p in paths}})
    picks = _systematic(w, draws, rng)
    out = pd.DataFrame({"draw": np.arange(draws), "point": picks,
                        **{p: samples[p].to_numpy()[picks] for p in paths}})
    return Posterior(samples, out, sigma, sigma_from, noise, ess, time.perf_counter() - t0)


def _systematic(w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` indices drawn by systematic resampling: point i about n·w_i times."""
    edges = np.cumsum(w)
    edges[-1] = 1.0
    return np.searchsorted(edges, (rng.random() + np.arange(n)) / n, side="right")


def write_draws(draws: pd.DataFrame, folder: Path) -> Path:
    """The draws as CSV beside fitted.toml (one column per value, no other columns)."""
    from .calibrate import write_text

    path = folder / POSTERIOR_FILE
    values = draws.drop(columns=["draw", "point"])
    write_text(path, values.to_csv(index=False, float_format="%.10g"))
    return path


def read_draws(path: Path, sc: Scenario) -> pd.DataFrame:
    """Posterior draws from a CSV: a column per calibrated value of `sc`, each within its
    bounds; refused with one line otherwise."""
    import csv
    import io

    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read the posterior draws: {e}", where) from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    paths = [c.path for c in sc.calibrate]
    if not rows or [h.strip() for h in rows[0]] != paths:
        have = ", ".join(h.strip() for h in rows[0]) if rows else "nothing"
        raise UserError(f"the columns must be the scenario's calibrated values ({', '.join(paths)}"
                        f"); found {have}", where)
    if len(rows) < 2:
        raise UserError("no draws: the file has only its header row", where)
    data = np.empty((len(rows) - 1, len(paths)))
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(paths):
            raise UserError(f"row {i} has {len(r)} cells; give one per value ({len(paths)})",
                            where)
        for j, (cell, c) in enumerate(zip(r, sc.calibrate, strict=True)):
            try:
                v = float(cell)
            except ValueError:
                raise UserError(f"row {i}, column {c.path!r}: {cell[:40]!r} is not a number",
                                where) from None
            if not (math.isfinite(v) and c.lower <= v <= c.upper):
                raise UserError(f"row {i}, column {c.path!r}: {v:g} is outside its bounds; "
                                f"valid: {c.lower:g} to {c.upper:g}", where)
            data[i - 2, j] = v
    return pd.DataFrame(data, columns=paths)
