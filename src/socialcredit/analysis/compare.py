"""Compare two designs: the same society and seeds, one change, the difference it makes.

Both variants run with the same seeds, so they draw the same acts and attempts wherever the
change does not reach (common random numbers); the difference per seed is the change's effect,
and its spread over seeds gives the uncertainty.
"""

from __future__ import annotations

import json
import math
import sys
import typing
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from ..errors import UserError
from ..record.folder import run_around
from ..scenario.load import MAX_DEPTH, load, too_deep, validate
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


def parse_value(text: str, where: str = "--set") -> object:
    """A --set value: a TOML value (number, true/false, date, [list], {table}) or else text."""
    deep = UserError(f"the value nests too deeply; at most {MAX_DEPTH} levels", where)
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        parsed = None  # a bare word, e.g. a name
    except RecursionError:
        raise deep from None
    except ValueError:  # an integer of thousands of digits
        raise UserError(f"{_shown(text)}: a number with too many digits", where) from None
    if parsed is not None and set(parsed) == {"v"}:
        if too_deep(parsed["v"], MAX_DEPTH - 1):
            raise deep
        return parsed["v"]
    if not text.isprintable():
        raise UserError(f"the value {_shown(text)} holds control characters (a line break?); "
                        "give PATH=VALUE on one line", where)
    return text


def _shown(text: str, most: int = 80) -> str:
    """Text as it may appear in a one-line message: quoted if odd, shortened if long."""
    short = text if len(text) <= most else text[:most] + "..."
    return short if short.isprintable() else repr(short)


def _quote(text: str, most: int = 120) -> str:
    """Text quoted for a one-line message, shortened if long."""
    return repr(text if len(text) <= most else text[:most] + "...")


def _model_of(annotation) -> type[BaseModel] | None:
    """The scenario model inside a field's annotation (X, X | None, list[X]), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _absent_section(model: type[BaseModel], here: str, part: str, where: str) -> dict:
    """An absent optional section made from its defaults, or a one-line refusal."""
    needed = [n for n, f in model.model_fields.items() if f.is_required() and n != "source"]
    if needed:
        example = ", ".join(f"{n}=..." for n in needed)
        raise UserError(f"this scenario has no [{here}] section, so it has no {part!r}; give "
                        f"the section whole, e.g. --set '{here}={{source=\"assumed\", "
                        f"{example}}}'", where)
    return model.model_validate({"source": "assumed"}).model_dump(mode="json")


def apply_set(s: Scenario, assignment: str) -> Scenario:
    """Return `s` with one `section.key=value` change; entries of lists are named by name.

    A path must name a field of the scenario: one through a value, or a field that does not
    exist, is refused with the valid names. A path into an optional section the scenario
    leaves out creates that section from its defaults when they are complete."""
    where = "--set"
    if "=" not in assignment:
        raise UserError(f"{_quote(assignment)} is not PATH=VALUE, e.g. "
                        "channels.cameras.misattribution=0.03", where)
    path, text = assignment.split("=", 1)
    path = path.strip()
    if not path.isprintable():
        raise UserError(f"the path {path!r} holds control characters; give PATH=VALUE on one "
                        "line", where)
    value = parse_value(text, where)
    data = s.model_dump(mode="json")
    parts = path.split(".")
    node: object = data
    model: type[BaseModel] | None = Scenario
    where_: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(where_)
        if isinstance(node, list):
            if not all(isinstance(x, dict) for x in node):
                raise UserError(f"{here} is a list of values, not of named entries; set it "
                                f"whole, e.g. {here}={json.dumps(node[:2])}", where)
            key = NAMED.get(where_[-1] if where_ else "", "name")
            if node and not any(key in x for x in node):
                raise UserError(f"the entries of {here} have no names to put in a path; set "
                                f"{here} whole, e.g. {here}=[{{...}}]", where)
            match = [x for x in node if str(x.get(key)) == part]
            if not match:
                valid = ", ".join(str(x.get(key)) for x in node) or "none"
                raise UserError(f"no {here} entry named {_quote(part)}; valid: {valid}",
                                where)
            if last:
                raise UserError(f"{_shown(path)}: give a field of the entry, e.g. "
                                f"{_shown(path)}.FIELD", where)
            node = match[0]
        elif isinstance(node, dict):
            if part not in node:
                valid = ", ".join(node) or "none"
                raise UserError(f"{_shown('.'.join([*where_, part]))}: no such field; valid: "
                                f"{valid}", where)
            field = model.model_fields.get(part) if model is not None else None
            sub = _model_of(field.annotation) if field is not None else None
            if last:
                node[part] = value
            else:
                if node[part] is None and sub is not None:
                    node[part] = _absent_section(sub, ".".join([*where_, part]),
                                                 parts[i + 1], where)
                elif node[part] is None:
                    raise UserError(f"{'.'.join([*where_, part])} is not set in this "
                                    f"scenario, so it has no {_quote(parts[i + 1])}", where)
                node = node[part]
            model = sub
        else:
            raise UserError(f"{here} is a value, not a section, so it has no "
                            f"{_quote(part)}; set {here}=VALUE", where)
        where_.append(part)
    if path == "society.regions_from" or path.startswith("society.regions_from."):
        data["society"]["regions"] = []  # rebuilt from the changed table settings
    return validate(data, f"--set {_shown(assignment)}")


METRICS = ("mean_score", "listed", "listed_cumulative", "acts_committed", "acts_observed",
           "penalties", "wrongful_penalties", "wrongful_listings", "appeals_upheld")
HARM = ("association_penalties", "ties_cut", "children_denied", "expression_acts",
        "informant_reports", "false_reports", "sabotage_reports", "points_bought",
        "complied_under_pressure", "representatives_listed", "exits_complied",
        "disclosed_cumulative", "disclosure_views", "wrongfully_disclosed",
        "ties_cut_by_disclosure", "repairs_applied", "repairs_granted")
"""Harm-audit counts compared when either run has any."""
LAST = {"mean_score", "listed", "listed_cumulative", "disclosed_cumulative",
        "wrongfully_disclosed", "approval_percent"}


def outcomes(daily: pd.DataFrame, gates: list[str]) -> dict[str, float]:
    """End-of-run figures of one run: last-day states and sums of daily counts."""
    out = {m: float(daily[m].iloc[-1] if m in LAST else daily[m].sum()) for m in METRICS}
    for m in HARM:
        if m in daily.columns:
            out[m] = float(daily[m].iloc[-1] if m in LAST else daily[m].sum())
    if "approval" in daily.columns:  # a share, shown in percent so small moves show
        out["approval_percent"] = 100.0 * float(daily["approval"].iloc[-1])
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
    scales = set()
    for seed in range(seeds):
        pair = []
        for s in (a, b):
            res = run(s, population=population, days=days, seed=seed, report=False,
                      citizens=False)
            scales.add(float(res.info["scale"]))
            pair.append(outcomes(res.daily, gates))
            if progress:
                progress(2 * seed + len(pair), 2 * seeds)
        for k in pair[0]:
            if k in pair[1]:  # an outcome only one design records cannot be compared
                rows.setdefault(k, []).append((pair[0][k], pair[1][k]))
    table = []
    for k, values in rows.items():
        if k in HARM and not any(x or y for x, y in values):
            continue  # a mechanism neither design has
        table.append({"outcome": k, "kind": "last day" if k in LAST else "total",
                      **paired(values)})
    frame = pd.DataFrame(table)
    # counts of people at real scale (one scale: both designs stand for the same society)
    frame["scale"] = scales.pop() if len(scales) == 1 else float("nan")
    frame.loc[frame["outcome"].isin(UNSCALED), "scale"] = 1.0
    return frame


UNSCALED = {"mean_score", "points_bought", "approval_percent"}
"""Outcomes that are not counts of people or acts: shown as they are."""


def changes(a: Scenario, sets: list[str]) -> list[tuple[str, object, object]]:
    """Each --set change as (path, value in A, value in B), for the comparison's heading."""
    from ..scenario.schema import resolve_path

    data = a.model_dump(mode="json")
    out = []
    for assignment in sets:
        path, _, text = assignment.partition("=")
        before, why = resolve_path(data, path.strip())
        out.append((path.strip(), "(absent)" if why else before, parse_value(text)))
    return out


def paired(values: list[tuple[float, float]]) -> dict[str, float]:
    """Means of A and B, their mean difference and its 95% interval over seeds.

    An outcome undefined in some run (a mean score with no one scored) is undefined (NaN) in
    every figure it enters, never an error."""
    xa = np.array([x for x, _ in values], dtype=np.float64)
    xb = np.array([y for _, y in values], dtype=np.float64)
    d = xb - xa
    n = len(d)
    nan = float("nan")
    defined = bool(np.isfinite(d).all())
    diff = float(d.mean()) if defined else nan
    half = _t95(n - 1) * float(d.std(ddof=1)) / math.sqrt(n) if defined and n > 1 else nan
    ma = float(xa.mean()) if np.isfinite(xa).all() else nan
    return {"a": ma, "b": float(xb.mean()) if np.isfinite(xb).all() else nan,
            "difference": diff, "ci95_low": diff - half, "ci95_high": diff + half,
            "relative": diff / ma if ma else nan}


def variants(spec, other, sets: list[str]) -> tuple[Scenario, Scenario, str]:
    """The two scenarios to compare and a one-line description of the change.

    `spec` and `other` are a built-in name, a TOML file or a parsed Scenario. The changes in
    `sets` make B: applied to `other` where it is given, to `spec` otherwise."""
    a, a_name = _design(spec)
    if other is None and not sets:
        raise UserError("nothing to compare: give a second scenario or --set PATH=VALUE",
                        "compare")
    b, b_name = (a, a_name) if other is None else _design(other)
    for x in sets:
        b = apply_set(b, x)
    changed = f" with {', '.join(sets)}" if sets else ""
    if other is None:
        return a, b, f"{a_name}{changed}"
    return a, b, f"{a_name} vs {b_name}{changed}"


def _design(spec) -> tuple[Scenario, str]:
    """A scenario and the name a comparison calls it by."""
    if isinstance(spec, Scenario):
        return spec, spec.scenario.name
    return load(spec)[0], str(spec)


def probe_write(folder: Path, flag: str = "--out", name: str = ".socialcredit.probe") -> None:
    """Refuse a folder that cannot take a new file named like `name`, by writing and removing
    one (a name as long as the file to come, so a name too long is found now too)."""
    probe = folder / name
    try:
        with open(probe, "w", encoding="utf-8") as f:
            f.write("probe")
        probe.unlink()
    except (OSError, ValueError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise UserError(f"cannot write in {_quote(str(folder))}: {why}", flag) from None


def check_out_file(path: Path, flag: str = "--out") -> None:
    """Refuse, before any run, a file to write that exists or whose folder cannot take it."""
    shown = _quote(str(path))
    if "\x00" in str(path):
        raise UserError(f"{shown} is not a valid file name", flag)
    host = run_around(path)
    if host is not None:
        raise UserError(f"{shown} is inside the run folder {_quote(str(host))}; a run folder "
                        "holds one run's files only: write elsewhere", flag)
    parent = path.parent
    try:
        if path.exists() or path.is_symlink():
            raise UserError(f"{shown} exists; results are never overwritten", flag)
        if not parent.exists():
            raise UserError(f"{shown}: folder {_quote(str(parent))} does not exist; create "
                            "it first", flag)
        if not parent.is_dir():
            raise UserError(f"{shown}: {_quote(str(parent))} is not a folder", flag)
    except OSError as e:
        raise UserError(f"cannot use {shown}: {e.strerror or e}", flag) from None
    probe_write(parent, flag, f".{path.name}.probe")  # what write_csv's .tmp file needs


def write_csv(table: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(path)
