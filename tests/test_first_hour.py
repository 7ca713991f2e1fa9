"""What a new user meets first: changing one value, starting an edit from a built-in, a
society larger than its place, and the first run's compile kept out of its timings."""

from __future__ import annotations

import time

import pytest

import socialcredit
from socialcredit.cli import main
from socialcredit.engine import compile as compile_
from socialcredit.scenario.load import parse


def test_run_set_changes_a_value_and_the_run_records_it(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--population", "3000", "--days", "20", "--quiet", "--no-report",
                 "--no-citizens", "--set", "channels.cameras.misattribution=0.25",
                 "--out", str(out)]) == 0
    info = socialcredit.open_results(out).info
    assert info["source"].endswith("--set channels.cameras.misattribution=0.25")
    recorded = parse(info["scenario_text"], "run")
    assert next(c for c in recorded.channels if c.name == "cameras").misattribution == 0.25
    plain = socialcredit.run("rongcheng", population=3000, days=20, report=False)
    changed = socialcredit.run("rongcheng", population=3000, days=20, report=False,
                               sets=["channels.cameras.misattribution=0.25"])
    assert (changed.daily["wrongful_penalties"].sum()
            > plain.daily["wrongful_penalties"].sum())


def test_run_set_with_an_unknown_path_is_one_line(capsys, tmp_path):
    assert main(["run", "--set", "channels.nope.x=1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cameras" in err  # names what would be valid
    assert not (tmp_path / "r").exists()


def test_scenarios_name_prints_a_toml_that_starts_an_edit(tmp_path, capsys):
    assert main(["scenarios", "jinan-dogs"]) == 0
    text = capsys.readouterr().out
    mine = tmp_path / "mine.toml"
    mine.write_text(text.replace("name = \"jinan-dogs\"", "name = \"my-dogs\""))
    assert main(["check", str(mine)]) == 0
    assert "my-dogs" in capsys.readouterr().out
    assert main(["scenarios", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jinan-dogs" in err


def test_a_society_larger_than_its_place_says_so_and_scales_down(tmp_path, capsys):
    res = socialcredit.run("jinan-dogs", population=100_000, days=5, report=False)
    assert res.info["scale"] == pytest.approx(0.5)  # 50,000 owners stand for themselves
    assert main(["run", "jinan-dogs", "--population", "100000", "--days", "2", "--no-report",
                 "--no-citizens", "--out", str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err
    assert "stands for 50,000 people" in err and "0.5 of a person" in err


def test_compiling_happens_before_the_run_is_timed(monkeypatch, tmp_path):
    calls = []

    def slow_warm_up(scenario, report=None):
        calls.append(scenario.scenario.name)
        if report is not None:
            report(1, 0.0)
        time.sleep(1.0)
        return 1.0

    monkeypatch.setattr("socialcredit.engine.run.warm_up", slow_warm_up)
    seen = []
    res = socialcredit.run("rongcheng", population=2000, days=3, report=False,
                           compiling=lambda n, s: seen.append(n))
    assert calls == ["rongcheng"] and seen == [1]
    assert res.info["wall_seconds"] < 1.0
    assert sum(v for k, v in res.info.items() if k.startswith("seconds_")) < 1.0


def test_a_warm_cache_is_marked_and_skips_the_warm_up(monkeypatch, tmp_path):
    monkeypatch.setattr(compile_, "cache_folder", lambda: tmp_path)
    assert not compile_.cached()
    compile_._mark()
    assert compile_.cached()
    s, _ = socialcredit.load("rongcheng")
    assert compile_.warm_up(s) == 0.0


def test_compare_from_python_gives_the_difference_with_its_interval():
    table = socialcredit.compare("rongcheng", sets=["channels.cameras.misattribution=0.25"],
                                 seeds=2, population=3000, days=20)
    row = table.set_index("outcome").loc["wrongful_penalties"]
    assert row["b"] > row["a"] and row["difference"] == row["b"] - row["a"]
    assert row["ci95_low"] <= row["difference"] <= row["ci95_high"]
    assert "misattribution" in table.attrs["what"]


def test_a_large_scale_reads_as_a_number_in_a_notebook():
    res = socialcredit.run("national", population=2000, days=2, report=False)
    assert "scale=704,900 " in repr(res)  # 1,409.8 million people over 2,000 citizens
    assert "704,900 people" in res._repr_html_()


def test_an_in_memory_run_without_citizens_keeps_none():
    res = socialcredit.run("rongcheng", population=2000, days=2, report=False, citizens=False)
    with pytest.raises(socialcredit.UserError):
        _ = res.citizens


def test_results_in_a_notebook_report_and_charts(tmp_path):
    from matplotlib.figure import Figure

    res = socialcredit.run("rongcheng", population=5000, days=40, report=False)
    assert "rongcheng" in repr(res) and "5,000" in repr(res)
    page = res._repr_html_()
    assert page.startswith("<table>") and "each stands for 140 people" in page
    figures = res.plot()
    assert "grades" in figures and all(isinstance(f, Figure) for f in figures.values())
    assert res.plot("grades").axes  # a chart with something drawn on it
    with pytest.raises(socialcredit.UserError, match="valid: grades"):
        res.plot("pie")
    path = res.report(tmp_path / "r.html")
    assert path.read_text().count("<svg") >= len(figures)
    with pytest.raises(socialcredit.UserError, match="never overwritten"):
        res.report(tmp_path / "r.html")


def test_compare_names_the_baseline_what_each_outcome_is_and_real_scale(capsys):
    assert main(["compare", "rongcheng", "--set", "channels.cameras.misattribution=0.03",
                 "--seeds", "2", "--population", "5000", "--days", "20"]) == 0
    text = capsys.readouterr().out
    assert "A: channels.cameras.misattribution = 0.003" in text
    assert "B: channels.cameras.misattribution = 0.03" in text
    assert "counts at real scale (x 140)" in text and "last day" in text and "total" in text
    table = socialcredit.compare("rongcheng", sets=["channels.cameras.misattribution=0.03"],
                                 seeds=2, population=5000, days=20)
    kinds = dict(zip(table["outcome"], table["kind"], strict=True))
    assert kinds["listed"] == "last day" and kinds["penalties"] == "total"
    scales = dict(zip(table["outcome"], table["scale"], strict=True))
    assert scales["penalties"] == 140 and scales["mean_score"] == 1


def test_an_unknown_id_in_the_scenario_sources_is_refused(tmp_path, capsys):
    _, text = socialcredit.load("jinan-dogs")
    assert "sources = [" in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("sources = [", 'sources = ["S99", ', 1))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "S99" in err and "socialcredit sources" in err


def test_compare_at_a_large_scale_prints_the_scale_as_a_number(capsys):
    assert main(["compare", "rongcheng", "--set", "channels.cameras.misattribution=0.03",
                 "--seeds", "2", "--population", "50", "--days", "2"]) == 0
    text = capsys.readouterr().out
    assert "counts at real scale (x 14,000)" in text and "e+04" not in text


def test_the_readme_python_compare_changes_a_section_rongcheng_has():
    import re
    from pathlib import Path

    from socialcredit.analysis.compare import apply_set
    from socialcredit.scenario import load

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r'socialcredit\.compare\("rongcheng", sets=\["([^"]+)"\]', readme)
    assert examples
    scenario, _ = load("rongcheng")
    for assignment in examples:
        apply_set(scenario, assignment)  # a section rongcheng leaves out would be refused
    with pytest.raises(socialcredit.UserError, match=r"give the section whole"):
        apply_set(scenario, "association.enabled=false")


def test_a_log_of_the_first_run_says_when_compiling_ended(monkeypatch, tmp_path, capsys):
    def warm_up(scenario, report=None):
        for k in (1, 2, 3):
            report(k, 20.0 * k)
        return 60.0

    monkeypatch.setattr("socialcredit.engine.run.warm_up", warm_up)
    assert main(["run", "--population", "2000", "--days", "2", "--no-report", "--no-citizens",
                 "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err  # not a terminal: no live status line, so a line after
    assert "compiling the kernels, once" in err
    assert "compiled 3 kernels in 60 s, not counted in the run's timings" in err


def test_check_counts_in_words_a_reader_would_use(tmp_path, capsys):
    assert main(["check", "rongcheng"]) == 0
    out = capsys.readouterr().out
    assert "1 list," in out and "1 lists" not in out and "19 acts" in out
