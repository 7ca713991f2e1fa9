"""Compare two designs: the same society and seeds, one change, the difference it makes.

Both variants run with the same seeds, so they draw the same acts and attempts wherever the
change does not reach (common random numbers); the difference per seed is the change's effect,
and its spread over seeds gives the uncertainty.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from statistics import mean, stdev

import pandas as pd

from ..errors import UserError
from ..scenario.load import load, parse
from ..scenario.schema import NAMED, Scenario  # NAMED: how paths name list entries

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}


def _t95(df: int) -> float:
    """Two-sided 95% Student t quantile (nearest tabulated degrees of freedom below)."""
    return T95[max(k for k in T95 if k <= df)] if df < 30 else 1.96


def apply_set(s: Scenario, assignment: str) -> Scenario:
    """Return `s` with one `section.key=value` change; entries of lists are named by name."""
    if "=" not in assignment:
        raise UserError(f"{assignment!r} is not PATH=VALUE, e.g. "
                        "channels.cameras.misattribution=0.03", "--set")
    path, text = assignment.split("=", 1)
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    data = s.model_dump(mode="json")
    parts = path.strip().split(".")
    node = data
    where = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            key = NAMED.get(where[-1] if where else "", "name")
            match = [x for x in node if isinstance(x, dict) and str(x.get(key)) == part]
            if not match:
                valid = ", ".join(str(x.get(key)) for x in node if isinstance(x, dict))
                raise UserError(f"no {'.'.join(where)} entry named {part!r}; valid: {valid}",
                                "--set")
            if last:
                raise UserError(f"{path}: give a field of the entry, e.g. {path}.FIELD",
                                "--set")
            node = match[0]
        elif isinstance(node, dict):
            if part not in node:
                valid = ", ".join(node) or "none"
                raise UserError(f"{'.'.join([*where, part])}: no such field; valid: {valid}",
                                "--set")
            if last:
                node[part] = value
            else:
                node = node[part]
        where.append(part)
    return parse(json.dumps(data), f"--set {assignment}")


METRICS = ("mean_score", "listed", "listed_cumulative", "acts_committed", "acts_observed",
           "penalties", "wrongful_penalties", "wrongful_listings", "appeals_upheld")
HARM = ("association_penalties", "ties_cut", "children_denied", "expression_acts",
        "informant_reports", "false_reports", "sabotage_reports", "points_bought",
        "complied_under_pressure", "representatives_listed")
"""Harm-audit counts compared when either run has any."""
LAST = {"mean_score", "listed", "listed_cumulative"}


def outcomes(daily: pd.DataFrame, gates: list[str]) -> dict[str, float]:
    """End-of-run figures of one run: last-day states and sums of daily counts."""
    out = {m: float(daily[m].iloc[-1] if m in LAST else daily[m].sum()) for m in METRICS}
    for m in HARM:
        if m in daily.columns:
            out[m] = float(daily[m].sum())
    for g in gates:
        out[f"{g}_denied"] = float(daily[f"{g}_denied"].sum())
    return out


def compare(a: Scenario, b: Scenario, seeds: int = 5, population: int | None = None,
            days: int | None = None, progress=None) -> pd.DataFrame:
    """Run both variants over `seeds` seeds; one row per outcome with the paired difference."""
    from ..engine.run import run

    if not 2 <= seeds <= 1000:
        raise UserError(f"--seeds {seeds} is out of range; valid: 2 to 1000", "--seeds")
    gates = [g.name for g in a.gates if g.name in {x.name for x in b.gates}]
    rows: dict[str, list[tuple[float, float]]] = {}
    for seed in range(seeds):
        pair = []
        for s in (a, b):
            res = run(s, population=population, days=days, seed=seed, report=False)
            pair.append(outcomes(res.daily, gates))
            if progress:
                progress(2 * seed + len(pair), 2 * seeds)
        for k in pair[0]:
            rows.setdefault(k, []).append((pair[0][k], pair[1][k]))
    table = []
    for k, values in rows.items():
        if k in HARM and not any(x or y for x, y in values):
            continue  # a mechanism neither design has
        xa = [x for x, _ in values]
        xb = [y for _, y in values]
        d = [y - x for x, y in values]
        half = _t95(len(d) - 1) * stdev(d) / math.sqrt(len(d))
        table.append({"outcome": k, "a": mean(xa), "b": mean(xb), "difference": mean(d),
                      "ci95_low": mean(d) - half, "ci95_high": mean(d) + half,
                      "relative": mean(d) / mean(xa) if mean(xa) else float("nan")})
    return pd.DataFrame(table)


def variants(spec: str, other: str | None, sets: list[str]) -> tuple[Scenario, Scenario, str]:
    """The two scenarios to compare and a one-line description of the change."""
    a, _ = load(spec)
    if other is not None:
        if sets:
            raise UserError("give a second scenario or --set changes, not both", "compare")
        b, _ = load(other)
        return a, b, f"{spec} vs {other}"
    if not sets:
        raise UserError("nothing to compare: give a second scenario or --set PATH=VALUE",
                        "compare")
    b = a
    for x in sets:
        b = apply_set(b, x)
    return a, b, f"{spec} with " + ", ".join(sets)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(path)
