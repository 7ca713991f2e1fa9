"""Comparing two designs on common random numbers."""

from __future__ import annotations

import pytest

from socialcredit.analysis.compare import apply_set, compare, variants
from socialcredit.cli import main
from socialcredit.errors import UserError
from socialcredit.scenario import load

SMALL = {"population": 20_000, "days": 90}


def _row(table, outcome):
    return table.set_index("outcome").loc[outcome]


def test_a_camera_error_change_moves_penalties_onto_the_wrong_people_only():
    a, b, _ = variants("rongcheng", None, ["channels.cameras.misattribution=0.05"])
    assert b.channels[0].misattribution == 0.05 and a.channels[0].misattribution == 0.003
    t = compare(a, b, seeds=3, **SMALL)
    # the same acts happen and are seen (common random numbers) ...
    assert _row(t, "acts_committed")["difference"] == 0
    assert _row(t, "acts_observed")["difference"] == 0
    # ... but more of the penalties land on someone who did not commit the act
    wrong = _row(t, "wrongful_penalties")
    assert wrong["difference"] > 0 and wrong["ci95_low"] > 0


def test_switching_deterrence_off_raises_the_number_of_acts():
    a, b, _ = variants("rongcheng", None, ["responses.deterrence.enabled=false"])
    t = compare(a, b, seeds=3, **SMALL)
    acts = _row(t, "acts_committed")
    assert acts["ci95_low"] > 0


def test_changes_with_a_second_scenario_reach_the_second_one_only(capsys):
    a, b, what = variants("rongcheng", "suining", ["channels.official_records.misattribution=0.05"])
    suining = load("suining")[0]
    assert a == load("rongcheng")[0]  # A as it is
    assert b.scenario.name == "suining" and b != suining
    assert b.channels[0].misattribution == 0.05 != suining.channels[0].misattribution
    assert what == "rongcheng vs suining with channels.official_records.misattribution=0.05"
    # a parsed scenario is taken as it is, named by its own name
    a, b, what = variants(suining, None, ["channels.official_records.misattribution=0.05"])
    assert a is suining and what.startswith("suining with ")
    change = "channels.official_records.misattribution=0.05"
    assert main(["compare", "sesame", "suining", "--set", change,
                 "--seeds", "2", "--population", "2000", "--days", "5", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "B: channels.official_records.misattribution = 0.05 (suining has " in printed
    assert "sesame vs suining with channels.official_records.misattribution=0.05" in printed


def test_set_paths_name_entries_and_fields_and_bad_ones_are_refused():
    s, _ = load("rongcheng")
    changed = apply_set(s, "rules.littering.points=-30")
    assert [r.points for r in changed.rules if r.act == "littering"] == [-30]
    with pytest.raises(UserError, match="valid: .*cameras"):
        apply_set(s, "channels.drones.coverage_urban=1")
    with pytest.raises(UserError, match="no such field"):
        apply_set(s, "channels.cameras.colour=1")
    with pytest.raises(UserError, match="PATH=VALUE"):
        apply_set(s, "channels.cameras.misattribution")
    with pytest.raises(UserError, match="misattribution"):
        apply_set(s, "channels.cameras.misattribution=2")  # outside 0..1


@pytest.mark.parametrize("args", [
    ["compare", "rongcheng"],
    ["compare", "rongcheng", "--set", "acts.flying.rate=1"],
    ["compare", "rongcheng", "--seeds", "1", "--set", "acts.littering.rate=1"],
    ["compare", "rongcheng", "suining", "--set", "acts.littering.rate=1"],
])
def test_bad_compare_requests_get_one_line_and_status_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("socialcredit: error:")


def test_compare_prints_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "diff.csv"
    code = main(["compare", "rongcheng", "--set", "gates.flight.attempts=2", "--seeds", "2",
                 "--population", "5000", "--days", "30", "--quiet", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "flight_denied" in printed and "95%" in printed
    assert out.read_text().splitlines()[0].startswith("outcome,kind,a,b,difference")
