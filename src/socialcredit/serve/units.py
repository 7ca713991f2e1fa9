"""The unit of each value a form may change, read from the scenario schema's field
descriptions where they say it without doubt ("per year", "Days ...", "Share ...", "Points
..."), and none where they do not.

The schema has no unit metadata of its own; this reads what its descriptions already say, so
a field whose description changes changes its unit here too.
"""

from __future__ import annotations

import re
import types
import typing

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..scenario.schema import NAMED, Scenario

RULES = ((re.compile(r"per (person )?per year|a year\b|per year", re.I), "per year"),
         (re.compile(r"per day per million", re.I), "per day per million citizens"),
         (re.compile(r"per 1000 people", re.I), "per 1,000 people"),
         (re.compile(r"^(mean )?days\b|^length .*days|days from|days until", re.I), "days"),
         (re.compile(r"^points\b|\bpoints at the start|^(lowest|highest) score", re.I),
          "points"))
"""Description patterns and the unit they name, first match wins; shares and chances are told
by their words and their bounds (0 to 1) together."""
NAMES = ((re.compile(r"_per_year$"), "per year"), (re.compile(r"_per_day$"), "per day"),
         (re.compile(r"_days$"), "days"), (re.compile(r"_m$"), "metres"),
         (re.compile(r"^density_"), "people per km²"))
"""Field name endings that say their unit (`wait_days`, `radius_m`)."""


def _model(annotation) -> type[BaseModel] | None:
    """The model a field holds: itself, or the item of its list, dict or optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model(arg)
            if found is not None:
                return found
    return None


def field_at(path: str) -> FieldInfo | None:
    """The schema field of a --set path (`rules.littering.points`), or None."""
    model: type[BaseModel] | None = Scenario
    parts = path.split(".")
    i = 0
    info = None
    while i < len(parts) and model is not None:
        info = model.model_fields.get(parts[i])
        if info is None:
            return None
        holder = typing.get_origin(info.annotation)
        named = parts[i] in NAMED or holder is dict
        model = _model(info.annotation)
        i += 2 if named and model is not None else 1
    return info if i == len(parts) else None


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else (
            getattr(m, "gt", None) if getattr(m, "gt", None) is not None else lo)
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    return lo, hi


def unit(path: str) -> str:
    """The unit of the value at `path` ("" where the schema does not say one)."""
    info = field_at(path)
    if info is None or info.annotation is bool:
        return ""
    text = (info.description or "").strip()
    if _bounds(info) == (0, 1) and re.match(r"(share|chance)\b", text, re.I):
        return "share, 0 to 1" if text.lower().startswith("share") else "chance, 0 to 1"
    for pattern, name in RULES:
        if pattern.search(text):
            return name
    last = path.rsplit(".", 1)[-1]
    return next((name for pattern, name in NAMES if pattern.search(last)), "")
