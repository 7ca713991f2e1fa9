"""The source ids a scenario cites are explained: every id resolves to what was reported and
where, `socialcredit sources` prints them, and the values no source gives can be listed and
changed by the paths `--set` takes."""

from __future__ import annotations

import pytest

import socialcredit
from socialcredit import sources
from socialcredit.analysis.compare import apply_set
from socialcredit.cli import main
from socialcredit.errors import UserError
from socialcredit.scenario import parse
from socialcredit.scenario.load import builtin_dir
from socialcredit.scenario.schema import SOURCE_IDS

pytestmark = pytest.mark.before_kernels  # nothing here runs the engine


def rongcheng_text() -> str:
    return (builtin_dir() / "rongcheng.toml").read_text()


@pytest.mark.parametrize("name", socialcredit.builtin_names())
def test_every_id_a_builtin_scenario_cites_is_explained(name):
    scenario, _ = socialcredit.load(name)
    ids = sources.cited(scenario)
    assert ids, f"{name} cites nothing"
    assert [s.id for s in sources.lookup(ids)] == ids


def test_every_id_the_schema_accepts_is_explained():
    assert set(SOURCE_IDS) <= set(sources.entries())


def test_every_entry_says_what_was_reported_and_where():
    entries = sources.entries()
    assert len(entries) == len(set(entries)) >= len(SOURCE_IDS)
    for sid, s in entries.items():
        assert s.id == sid
        assert s.title.strip(), sid
        assert s.statement.strip(), sid
        assert s.published.strip(), sid
        assert "Published in" not in s.statement, sid


def test_an_entry_without_where_it_was_published_is_refused():
    with pytest.raises(ValueError, match="S1"):
        sources.parse("# Sources\n\n### S1 — A fact\n\nWhat it says.\n")


def test_lookup_takes_any_case_and_refuses_an_unknown_id_in_one_line():
    assert [s.id for s in sources.lookup(["s4", "c", "S4"])] == ["S4", "C"]
    with pytest.raises(UserError) as e:
        sources.lookup(["S99"], "my.toml")
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("my.toml: unknown source id 'S99'")
    assert "S1..S21" in message and "R1..R11" in message and "P1..P4" in message


def test_split_ids_reads_every_form_a_source_is_written_in():
    assert sources.split_ids("R1,S12") == ["R1", "S12"]
    assert sources.split_ids("R1, R3") == ["R1", "R3"]
    assert sources.split_ids("S4; assumed") == ["S4"]
    assert sources.split_ids("assumed") == []


def test_cited_reads_entries_and_the_scenario_sources_list():
    text = rongcheng_text().replace('source = "S1"\n', 'source = "S1, R10"\n', 1)
    text = text.replace('sources = ["S1",', 'sources = ["R11", "S1",', 1)
    ids = sources.cited(parse(text))
    assert "R10" in ids and "R11" in ids and "S1" in ids
    assert "assumed" not in [i.lower() for i in ids]
    assert len(ids) == len(set(ids))


def test_sources_S4_prints_its_numbers(capsys):
    assert main(["sources", "s4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("S4 — ")
    for figure in ("3 points", "50 yuan", "12", "5 social credit points", "1000 yuan",
                   "10 points", "Published in:"):
        assert figure in out
    assert "R1 —" not in out


def test_sources_without_ids_prints_every_entry(capsys):
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    for sid in sources.entries():
        assert f"{sid} — " in out


def test_an_unknown_id_gets_one_line_and_status_2(capsys):
    assert main(["sources", "S4", "S99"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "unknown source id 'S99'" in lines[0] and "valid:" in lines[0]
    assert captured.out == ""


def test_sources_of_a_scenario(capsys):
    assert main(["sources", "--scenario", "national"]) == 0
    out = capsys.readouterr().out
    assert "R1 — " in out and "C — " in out
    assert "S4 — " not in out  # national does not cite it
    assert "assumed" in out.splitlines()[0]


def test_a_scenario_citing_an_unknown_id_gets_one_line_naming_the_file(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text(rongcheng_text().replace('sources = ["S1",', 'sources = ["S99", "S1",', 1))
    assert main(["sources", "--scenario", str(path)]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "mine.toml" in line and "'S99'" in line


def test_ids_and_a_scenario_together_are_refused(capsys):
    assert main(["sources", "S4", "--scenario", "national"]) == 2
    assert "not both" in capsys.readouterr().err


def test_assumed_values_of_rongcheng_are_real_paths():
    scenario, _ = socialcredit.load("rongcheng")
    assumed = sources.assumed_values(scenario)
    assert assumed
    paths = [p for p, _ in assumed]
    assert len(paths) == len(set(paths))
    for path, value in assumed:
        # the same value set again by its path leaves the scenario as it was
        assert apply_set(scenario, f"{path}={value}") == scenario, path


def test_assumed_values_are_the_ones_the_scenario_marks():
    scenario, _ = socialcredit.load("rongcheng")
    assumed = dict(sources.assumed_values(scenario))
    # a wholly assumed entry: all its numbers
    assert assumed["grades.AA.min"] == 1030 and assumed["grades.AA.max"] == 1049
    # fields an entry's `assumed` list names, numbers or not
    assert assumed["acts.littering.rate"] == 1.0
    assert assumed["gates.top_school.deny_grades"] == ["C", "D"]
    assert assumed["lists.blacklist.exits.appeal_share"] == 0.1
    # sourced values are not listed: S1 gives the start, S4 littering's points
    assert "points.start" not in assumed
    assert "rules.littering.points" not in assumed
    assert "channels.cameras.misattribution" not in assumed  # R9
