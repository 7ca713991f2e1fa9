"""Scenario files are the documentation of a system: every built-in validates, every number
names its source, and the schema refuses a file that cites what SOURCES.md does not hold."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from socialcredit import UserError, builtin_names, load
from socialcredit.scenario import parse
from socialcredit.scenario.schema import SOURCE_IDS, Sourced

pytestmark = pytest.mark.before_kernels  # nothing here runs the engine

_, RONGCHENG = load("rongcheng")


def edited(old: str, new: str) -> str:
    """The Rongcheng text with its one occurrence of `old` replaced by `new`."""
    assert RONGCHENG.count(old) == 1, f"{old!r} should occur once in rongcheng.toml"
    text = RONGCHENG.replace(old, new)
    assert text != RONGCHENG
    return text


def refusal(text: str) -> str:
    """The one-line message a scenario text is refused with."""
    with pytest.raises(UserError) as caught:
        parse(text, "edited.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("edited.toml: ")
    return message


def sourced_entries(model: BaseModel, where: str = ""):
    """(location, entry) for every entry of a scenario that names its sources."""
    if isinstance(model, Sourced):
        yield where or "(top level)", model
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                at = f"{where}.{name}" if where else name
                yield from sourced_entries(item, f"{at}[{i}]" if isinstance(value, list) else at)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_validates(name):
    scenario, text = load(name)
    assert scenario.acts and scenario.channels and scenario.grades
    assert parse(text) == scenario


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_entry_names_known_sources_and_real_assumed_fields(name):
    scenario, _ = load(name)
    entries = list(sourced_entries(scenario))
    assert len(entries) > len(scenario.acts)
    for where, entry in entries:
        for part in entry.source.split(","):
            assert part.strip() in {*SOURCE_IDS, "assumed"}, f"{name}: {where}.source"
        own = set(type(entry).model_fields) - {"source", "assumed"}
        assert set(entry.assumed) <= own, f"{name}: {where}.assumed"


def test_every_source_id_is_accepted():
    for sid in [*SOURCE_IDS, "assumed", "R5, S1", "C,assumed"]:
        scenario = parse(edited('source = "P3,P2"', f'source = "{sid}"'))
        assert scenario.society.source == sid


@pytest.mark.parametrize("sid", ["X99", "S0", "S22", "R12", "P5", "s1", "R5,X99", ""])
def test_unknown_source_id_is_refused_naming_the_field(sid):
    message = refusal(edited('source = "P3,P2"', f'source = "{sid}"'))
    assert "society.source" in message
    assert "unknown source id" in message
    assert "SOURCES.md" in message and "assumed" in message


def test_assumed_naming_a_missing_field_is_refused_listing_the_fields():
    message = refusal(edited('assumed = ["min", "max"]', 'assumed = ["nonexistent"]'))
    assert message.startswith("edited.toml: points: ")
    assert "'nonexistent'" in message
    for field in ("start", "min", "max", "ages"):
        assert field in message


def test_assumed_cannot_name_the_source_itself():
    message = refusal(edited('assumed = ["min", "max"]', 'assumed = ["source"]'))
    assert "points" in message and "'source'" in message


def _without_acts() -> str:
    blocks = RONGCHENG.split("\n[[")
    kept = [b for b in blocks if not b.startswith("acts]]")]
    text = "\n[[".join(kept)
    assert len(kept) < len(blocks) and "[[acts]]" not in text
    return text


@pytest.mark.parametrize("text", [
    pytest.param(lambda: "acts = []\n" + _without_acts(), id="empty-list"),
    pytest.param(_without_acts, id="no-acts-section"),
])
def test_a_scenario_without_acts_is_refused(text):
    message = refusal(text())
    assert message.startswith("edited.toml: acts: ")
