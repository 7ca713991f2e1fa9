"""Every value of the scenario schema is bounded, and every value of a built-in scenario can be
set through `--set`: setting it to itself changes nothing, and a change takes effect or is
refused in one line, never dropped. Nothing here runs the engine."""

from __future__ import annotations

import json
import re

import pytest

from socialcredit import UserError, builtin_names, load
from socialcredit.analysis.compare import apply_set
from socialcredit.scenario import json_schema
from socialcredit.scenario.schema import NAMED, resolve_path

pytestmark = pytest.mark.before_kernels


def _integer_fields(node, schema, path="", seen=None):
    """(path, node) for every whole-number field of the scenario JSON Schema."""
    seen = set() if seen is None else seen
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        if name in seen:
            return
        yield from _integer_fields(schema["$defs"][name], schema, path, seen | {name})
        return
    if node.get("type") == "integer":
        yield path, node
    for branch in node.get("anyOf", []):
        yield from _integer_fields(branch, schema, path, seen)
    if "items" in node:
        yield from _integer_fields(node["items"], schema, path + "[]", seen)
    for key, sub in node.get("properties", {}).items():
        yield from _integer_fields(sub, schema, f"{path}.{key}".lstrip("."), seen)


def test_every_whole_number_field_of_the_schema_has_a_lower_and_an_upper_bound():
    schema = json.loads(json_schema())
    fields = list(_integer_fields(schema, schema))
    assert len(fields) > 20
    for path, node in fields:
        assert "minimum" in node or "exclusiveMinimum" in node, path
        assert "maximum" in node or "exclusiveMaximum" in node, path
        assert node.get("maximum", node.get("exclusiveMaximum")) < 2**63, path


def _leaves(node, path=(), parent=""):
    """(dotted path, value) of every value of a scenario dump, list entries named as --set
    names them."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k), k)
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        key = NAMED.get(parent, "name")
        for x in node:
            yield from _leaves(x, (*path, str(x.get(key))), "")
    else:
        yield ".".join(path), node


def _toml(v) -> str:
    return json.dumps(v) if not isinstance(v, bool) else ("true" if v else "false")


@pytest.mark.parametrize("name", builtin_names())
def test_every_value_of_a_scenario_can_be_set_and_a_change_is_never_dropped(name):
    s, _ = load(name)
    data = s.model_dump(mode="json")
    leaves = [(p, v) for p, v in _leaves(data) if v is not None and not p.startswith(
        ("society.regions.", "calibrate."))]
    assert len(leaves) > 30
    for path, value in leaves:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            text = value
        else:
            text = _toml(value)
        assert apply_set(s, f"{path}={text}") == s, path
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        new = value + 1 if isinstance(value, int) else value / 2
        try:
            b = apply_set(s, f"{path}={new!r}")
        except UserError as e:
            assert "\n" not in str(e)
            continue
        got, why = resolve_path(b.model_dump(mode="json"), path)
        assert not why and got == new, path
