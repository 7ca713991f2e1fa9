"""Finding, reading and validating scenario files."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ..errors import PersonalDataRefused, UserError
from .schema import PERSONAL_FIELDS, ReferenceError_, Scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RECORD_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xls", ".parquet", ".json", ".jsonl", ".sqlite",
                   ".db", ".duckdb", ".feather", ".arrow", ".dta", ".sav", ".txt"}


def builtin_dir():
    return resources.files("socialcredit.scenario") / "scenarios"


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    return sorted(p.name[:-5] for p in builtin_dir().iterdir() if p.name.endswith(".toml"))


def resolve(spec: str | Path) -> tuple[str, str]:
    """Return (where, TOML text) for a built-in name or a path to a TOML file."""
    spec = str(spec)
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in RECORD_SUFFIXES:
        raise PersonalDataRefused(f"data file {spec!r}", "scenario")
    if suffix == ".toml":
        if not path.is_file():
            raise UserError(f"no such file {spec!r}; give a TOML file or one of: "
                            + ", ".join(builtin_names()), "scenario")
        try:
            return str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read {spec!r}: {e}", "scenario") from None
    names = builtin_names()
    if spec not in names:
        raise UserError(f"unknown scenario {spec!r}; valid: {', '.join(names)} "
                        "or a path to a .toml file", "scenario")
    return f"{spec} (built-in)", (builtin_dir() / f"{spec}.toml").read_text(encoding="utf-8")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _personal_field(data, path=()) -> tuple | None:
    """The path of the first key that names per-person data, if any."""
    if isinstance(data, dict):
        for k, v in data.items():
            if PERSONAL_FIELDS.search(str(k)) and k not in {"name", "records"}:
                return (*path, k)
            found = _personal_field(v, (*path, k))
            if found:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found = _personal_field(v, (*path, i))
            if found:
                return found
    return None


def parse(text: str, where: str = "<text>") -> Scenario:
    """Validate TOML text as a scenario; raise UserError with file and field on failure."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"not valid TOML: {e}", where) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = _loc(err["loc"])
        if err["type"] == "extra_forbidden":
            personal = _personal_field(data)
            if personal is not None:
                raise PersonalDataRefused(f"field {_loc(personal)!r}", where) from None
            parent = err["loc"][:-1]
            valid = _fields_at(parent)
            raise UserError(f"{loc}: unknown field; valid here: {valid}", where) from None
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, ReferenceError_):
            raise UserError(f"{cause.loc}: {cause}", where) from None
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise UserError(f"{loc}: {msg}{more}", where) from None


def _fields_at(loc: tuple) -> str:
    """Field names valid at a location of the scenario schema, for error messages."""
    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    node = schema
    for part in loc:
        if "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        if isinstance(part, int):
            node = node.get("items", node)
        else:
            node = node.get("properties", {}).get(part, {})
        if "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        if "items" in node and "$ref" in node["items"]:
            pass
    if "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    return ", ".join(node.get("properties", {})) or "none"


def load(spec: str | Path) -> tuple[Scenario, str]:
    """Load a built-in scenario by name or a TOML file; return it with its text."""
    where, text = resolve(spec)
    return parse(text, where), text


def json_schema() -> str:
    """The scenario schema as JSON Schema, for editors that complete TOML files."""
    return json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
