"""The HTML report: one file a reader can open offline, with every section, for any run."""

import dataclasses
import io
import json
import re
from html import escape, unescape

import pandas as pd
import pytest
from rich.console import Console

import socialcredit
from socialcredit.analysis.summary import print_summary
from socialcredit.report import write_report
from socialcredit.report.html import SECTIONS, approx


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A small Rongcheng run written to a folder, which writes its report too."""
    return socialcredit.run("rongcheng", population=5000, days=30,
                            out=tmp_path_factory.mktemp("run") / "r")


def _check_offline(page: str) -> None:
    """No scripts, stylesheets or fonts fetched from anywhere; URLs only as SVG namespaces."""
    assert "<script src=" not in page and "<link href=" not in page
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", page)
    for m in re.finditer(r"https?://", page):
        assert re.search(r'xmlns(:\w+)?="$', page[max(0, m.start() - 20):m.start()]), \
            page[m.start() - 60:m.start() + 60]


def test_run_writes_a_self_contained_report(results):
    path = results.path / "report.html"
    assert path.exists()
    page = path.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<svg") >= 5
    _check_offline(page)
    assert "Rongcheng: 1000 points, grades AAA to D, a blacklist" in page
    assert "high_speed_rail" in page  # a gate
    assert "jaywalking" in page  # an act
    assert not list(results.path.glob("*.tmp")), "the temporary file was left behind"


def test_report_of_a_run_with_no_days(results, tmp_path):
    empty = dataclasses.replace(results, daily=results.daily.iloc[:0])
    path = write_report(empty, tmp_path / "empty.html")
    page = path.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    assert "No days were simulated" in page
    _check_offline(page)


def test_report_of_a_run_with_no_columns_no_gates_and_odd_names(results, tmp_path):
    run = results.run.copy()
    run["gates"] = json.dumps([])
    run["title"] = "<b>Fish & chips</b>"
    gate_cols = [c for c in results.daily.columns
                 if c.endswith(("_attempts", "_denied", "_perks"))]
    odd = dataclasses.replace(results, run=run, daily=results.daily.drop(columns=gate_cols))
    page = write_report(odd, tmp_path / "nogates.html").read_text(encoding="utf-8")
    assert "This scenario has no gates." in page
    assert "share of denials" not in _key(page)  # no card that reads "no gates"
    assert "&lt;b&gt;Fish &amp; chips&lt;/b&gt;" in page and "<b>Fish" not in page

    bare = dataclasses.replace(results, daily=pd.DataFrame(), listings=results.listings.iloc[:0],
                               acts=results.acts.iloc[:0], score_hist=results.score_hist.iloc[:0])
    page = write_report(bare, tmp_path / "bare.html").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    _check_offline(page)


HARM_COLUMNS = ["expression_acts", "children_denied", "association_penalties",
                "association_points", "ties_cut", "informant_reports", "false_reports",
                "sabotage_reports", "points_bought", "informant_reward_points",
                "representatives_listed", "points_moved_by_ties"]


@pytest.fixture(scope="module")
def china(tmp_path_factory):
    """A small run of the composite China scenario: informants, association, bought points,
    a children's school gate and firms whose representatives are listed with them."""
    return socialcredit.run("china", population=20000, days=60, seed=1,
                            out=tmp_path_factory.mktemp("china") / "r")


def _harm(page: str) -> str:
    m = re.search(r"<section><h2>Harm audit</h2>.*?</section>", page, re.DOTALL)
    assert m, "no Harm audit section"
    return m.group(0)


def _row(section: str, label: str) -> list[str]:
    """The cells after the label of the harm audit row `label`."""
    m = re.search(rf"<tr><td>{re.escape(escape(label))}</td>(.*?)</tr>", section)
    assert m, f"no row {label!r}"
    return [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))]


def test_harm_audit_counts_what_the_daily_table_counts(china):
    d = china.daily
    for c in ("informant_reports", "false_reports", "association_penalties"):
        assert d[c].sum() > 0, f"the china scenario should record {c}"
    scale = float(china.info["scale"])
    harm = _harm((china.path / "report.html").read_text(encoding="utf-8"))
    for label, c in (("false reports", "false_reports"), ("informant reports",
                                                          "informant_reports"),
                     ("association penalties (for a tie's act)", "association_penalties"),
                     ("wrongful penalties", "wrongful_penalties")):
        n = int(d[c].sum())
        assert _row(harm, label)[:2] == [f"{n:,}", f"≈ {approx(n * scale)}"], label
    false, reports = int(d["false_reports"].sum()), int(d["informant_reports"].sum())
    assert _row(harm, "false reports")[2] == (f"{100 * false / reports:.1f}% of {reports:,} "
                                              "informant reports")
    assert _row(harm, "association penalties (for a tie's act)")[2] == \
        f"{int(d['association_points'].sum()):,} points taken"
    upheld = int(d["appeals_upheld"].sum())
    if upheld:
        days = _row(harm, "mean days to clear a wrongful listing")
        assert float(days[0]) == pytest.approx(d["wrongful_days_cleared"].sum() / upheld,
                                               rel=1e-2)
    else:  # no row of zeros: a sentence names what stayed 0
        assert "<td>mean days to clear a wrongful listing</td>" not in harm
        assert re.search(r"appeals upheld[^<]* stayed 0 for the whole run", harm, re.I)
    for label, c in (("points bought", "points_bought"),
                     ("informant reward points", "informant_reward_points")):
        if d[c].sum():  # points, not people: unscaled
            assert _row(harm, label)[1] == ""
    assert "in the first 30 days" in _row(harm, "expression acts (speech)")[-1]
    # cumulative harms and disparate impact always; expression only when anyone spoke
    assert harm.count("<svg") == 2 + bool(d["expression_acts"].sum())
    assert "urban solid, rural dashed" in harm


def test_harm_audit_of_an_older_store_leaves_out_what_it_lacks(china, tmp_path):
    old = dataclasses.replace(china, daily=china.daily.drop(columns=HARM_COLUMNS),
                              groups_over_time=pd.DataFrame())
    page = write_report(old, tmp_path / "old.html").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    harm = _harm(page)
    assert _row(harm, "wrongful penalties")[0] == f"{int(china.daily.wrongful_penalties.sum()):,}"
    for label in ("false reports", "ties cut", "expression acts (speech)"):
        assert f"<td>{escape(label)}</td>" not in harm
    assert harm.count("<svg") == 1  # cumulative harms only
    _check_offline(page)

    out = io.StringIO()
    print_summary(old, Console(file=out, width=200))
    assert "penalties" in out.getvalue() and "harm:" not in out.getvalue()


def test_summary_names_only_the_harms_that_happened(china):
    out = io.StringIO()
    print_summary(china, Console(file=out, width=300))
    text = out.getvalue()
    d = china.daily
    assert (f"informant reports {int(d.informant_reports.sum()):,} "
            f"({int(d.false_reports.sum()):,} false)") in text
    assert (f"association penalties {int(d.association_penalties.sum()):,} "
            f"({int(d.association_points.sum()):,} points)") in text
    for c, words in (("children_denied", "children denied"), ("points_bought", "points bought"),
                     ("sabotage_reports", "sabotage reports"),
                     ("representatives_listed", "representatives listed")):
        assert (words in text) == bool(d[c].sum()), words


def _key(page: str) -> str:
    m = re.search(r"<section><h2>Key figures</h2>.*?</section>", page, re.DOTALL)
    assert m, "no Key figures section"
    return m.group(0)


def _words(page: str) -> str:
    """The text a reader sees, charts left out."""
    page = re.sub(r"<(svg|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_scale_near_a_thousand_reads_as_a_number_and_real_counts_as_estimates(results,
                                                                                 tmp_path):
    # national at its default size: each citizen stands for 999.858 people
    run = results.run.copy()
    run["scale"] = 999.858
    page = write_report(dataclasses.replace(results, run=run),
                        tmp_path / "scaled.html").read_text(encoding="utf-8")
    words = _words(page)
    assert "e+" not in words, re.search(r".{40}e\+.{20}", words).group(0)
    assert "1,000 real people per simulated citizen" in words
    listed = int(results.daily["listed_cumulative"].iloc[-1])
    assert f"≈ {approx(listed * 999.858)} real people" in words
    assert approx(3_129_756) == "3.13 million" and approx(14_098) == "14,100"
    assert approx(1_409_800_000) == "1.41 billion" and approx(6) == "6"


def test_at_scale_one_counts_are_real_and_not_repeated(results, tmp_path):
    run = results.run.copy()
    run["scale"] = 1.0
    page = write_report(dataclasses.replace(results, run=run),
                        tmp_path / "one.html").read_text(encoding="utf-8")
    words = _words(page)
    assert "1 real person per simulated citizen" in words and "1 real people" not in words
    assert "≈" not in _words(_key(page)) and "(≈" not in words


def test_ever_listed_says_when_listings_outnumber_people(results, tmp_path):
    d = results.daily
    assert ("listed more than once" in _key(page_of(results))) == bool(
        d["listed_new"].sum() > d["listed_cumulative"].iloc[-1])
    daily = results.daily.copy()
    daily.loc[daily.index[0], "listed_new"] += 1  # one person listed a second time
    page = write_report(dataclasses.replace(results, daily=daily),
                        tmp_path / "twice.html").read_text(encoding="utf-8")
    new = int(daily["listed_new"].sum())
    assert f"in {new:,} listings (some listed more than once)" in _words(_key(page))


def page_of(results) -> str:
    return (results.path / "report.html").read_text(encoding="utf-8")


def test_harm_totals_far_apart_get_a_panel_each(china):
    from socialcredit.report import plots
    from socialcredit.report.html import _running_totals

    days = pd.date_range("2014-01-01", periods=10)
    near = pd.DataFrame({"date": days, "wrongful_penalties": 3, "wrongful_listings": 1,
                         "association_penalties": 0})
    far = near.assign(association_penalties=100)
    keys = ["wrongful_penalties", "wrongful_listings", "association_penalties"]
    assert not plots.harm_apart(near, keys[:2]) and plots.harm_apart(far, keys)
    with plots.capture() as figs:
        plots.harm_over_time(far, keys)
        assert len(figs["harm"].axes) == 3  # one scale would flatten the small ones
        plots.harm_over_time(near, keys[:2])
        assert len(figs["harm"].axes) == 1
    assert _running_totals(keys, far) == (
        "Running totals of penalties that hit the wrong person, wrongful listings and "
        "penalties for a tie's act, each in its own panel: their sizes are too far apart for "
        "one scale. ")
    assert _running_totals(["wrongful_listings"], near) == "Running totals of wrongful listings. "


def test_one_of_a_kind_is_said_in_the_singular():
    from socialcredit.report.html import harm_rows

    daily = pd.DataFrame({"date": pd.date_range("2014-01-01", periods=2),
                          "appeals_filed": [1, 0], "appeals_upheld": [1, 0],
                          "wrongful_days_cleared": [10, 0], "wrongful_listings": [1, 0],
                          "listed_new": [1, 0]})
    details = {label: detail for _, label, _, detail in harm_rows(daily)}
    assert details["appeals upheld"] == "100.0% of 1 appeal filed"
    assert details["mean days to clear a wrongful listing"] == "over 1 upheld appeal"
    assert details["wrongful listings"] == "100.0% of 1 listing"


def test_the_header_names_the_scenario_once_and_any_change(results, tmp_path):
    from socialcredit.report.html import _scenario_line

    assert _scenario_line({"scenario": "jinan-dogs", "source": "jinan-dogs"}) == "jinan-dogs"
    assert _scenario_line({"scenario": "mine", "source": "mine.toml"}) == "mine (from mine.toml)"
    assert _scenario_line({"scenario": "rongcheng", "source": "rongcheng --set a.b=1 --set "
                           "c.d=2"}) == "rongcheng, changed with --set a.b=1, c.d=2"
    assert "<th>scenario</th><td>rongcheng</td>" in page_of(results)
