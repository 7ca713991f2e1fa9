"""Finding, reading and validating scenario files."""

from __future__ import annotations

import functools
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
    if len(spec) > 4096 or "\x00" in spec:
        raise UserError(f"{spec[:60]!r}... is not a scenario name or a file name", "scenario")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in RECORD_SUFFIXES:
        raise PersonalDataRefused(f"data file {spec!r}", "scenario")
    if suffix == ".toml":
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte
            is_file = False
        if not is_file:
            raise UserError(f"no such file {spec!r}; give a TOML file or one of: "
                            + ", ".join(builtin_names()), "scenario")
        where = str(path) if str(path).isprintable() else repr(str(path))
        try:
            return where, path.read_text(encoding="utf-8")
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


MAX_DEPTH = 32
"""Deepest nesting of tables and arrays in a scenario or a --set value (a scenario needs 5)."""


def too_deep(data, limit: int = MAX_DEPTH) -> bool:
    """Whether tables and arrays nest more than `limit` deep (counted without recursion)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((v, depth + 1) for v in children)
    return False


def loads(text: str, where: str, what: str = "TOML") -> dict:
    """TOML text (or JSON, when it starts with '{') as data; one-line UserError if it is not."""
    is_json = text.lstrip().startswith("{")
    deep = UserError(f"tables and arrays nest too deeply; at most {MAX_DEPTH} levels", where)
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except RecursionError:
        raise deep from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        message = " ".join(str(e).split())
        raise UserError(f"not valid {'JSON' if is_json else what}: {message}", where) from None
    except ValueError:  # an integer of thousands of digits
        raise UserError(f"not valid {'JSON' if is_json else what}: a number has too many "
                        "digits", where) from None
    if not isinstance(data, dict):
        raise UserError("not a table of sections (scenario, society, ...)", where)
    if too_deep(data):
        raise deep
    return data


def parse(text: str, where: str = "<text>") -> Scenario:
    """Validate TOML text as a scenario; raise UserError with file and field on failure."""
    return validate(loads(text, where), where)


def validate(data: dict, where: str) -> Scenario:
    """Validate scenario data (a parsed TOML file); raise UserError with field on failure."""
    if too_deep(data):
        raise UserError(f"tables and arrays nest too deeply; at most {MAX_DEPTH} levels", where)
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
        msg = " ".join(err["msg"].removeprefix("Value error, ").split())
        if err["type"] in PLAIN:
            msg = PLAIN[err["type"]]
        if err["type"] in RANGE_ERRORS:
            valid = _valid_range(_schema_at(err["loc"]))
            if valid:
                msg += f"; valid: {valid}"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise UserError(f"{loc}: {msg}{more}", where) from None


RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
PLAIN = {"list_type": 'give a list, e.g. ["C", "D"] (in --set: \'["C","D"]\')',
         "int_from_float": "give a whole number, e.g. 3, not a fraction",
         "int_type": "give a whole number, e.g. 3",
         "float_type": "give a number, e.g. 0.5",
         "bool_type": "give true or false",
         "string_type": "give text in quotes, e.g. \"name\""}
"""Pydantic's words for a value of the wrong kind, put plainly (the field is named before)."""


def _valid_range(node: dict) -> str:
    """A field's bounds from its JSON Schema node, as words: '0 to 1', 'above 0 up to 1'."""
    lo = node.get("minimum")
    hi = node.get("maximum")
    xlo = node.get("exclusiveMinimum")
    xhi = node.get("exclusiveMaximum")
    low = _num(lo) if lo is not None else f"above {_num(xlo)}" if xlo is not None else None
    high = _num(hi) if hi is not None else f"below {_num(xhi)}" if xhi is not None else None
    if low and high:
        return f"{low} to {high}" if lo is not None and hi is not None else f"{low}, {high}"
    if low:
        return low + (" or more" if lo is not None else "")
    if high:
        return high + (" or less" if hi is not None else "")
    return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


@functools.cache
def _json_schema() -> dict:
    return Scenario.model_json_schema()


def _schema_at(loc: tuple) -> dict:
    """The JSON Schema node of the field at a validation error's location ({} if unknown)."""
    schema = _json_schema()
    defs = schema.get("$defs", {})

    def deref(node: dict) -> dict:
        for _ in range(8):
            if "$ref" in node:
                node = defs.get(node["$ref"].split("/")[-1], {})
            elif "anyOf" in node:  # an optional field: the branch that is not null
                node = next((n for n in node["anyOf"] if n.get("type") != "null"), {})
            else:
                break
        return node

    node = deref(schema)
    for part in loc:
        if isinstance(part, int):
            node = deref(node.get("items", {}))
        else:
            node = deref(node.get("properties", {}).get(part, {}))
    return node


def _fields_at(loc: tuple) -> str:
    """Field names valid at a location of the scenario schema, for error messages."""
    return ", ".join(_schema_at(loc).get("properties", {})) or "none"


def load(spec: str | Path) -> tuple[Scenario, str]:
    """Load a built-in scenario by name or a TOML file; return it with its text."""
    where, text = resolve(spec)
    return parse(text, where), text


def json_schema() -> str:
    """The scenario schema as JSON Schema, for editors that complete TOML files."""
    return json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
