"""What the report and the summary say about disclosure, credit repair and approval.

China publishes its debtors' list, lets listed people and firms repair their records and holds
each adult's view of the system; Rongcheng does none of these, and its report says so in a
sentence instead of showing rows of zeros or an empty chart.
"""

from __future__ import annotations

import dataclasses
import io
import re
from html import escape, unescape

import pandas as pd
import pytest
from rich.console import Console

import socialcredit
from socialcredit.analysis.summary import print_summary
from socialcredit.report import write_report
from socialcredit.report.html import SECTIONS, approx, harm_rows
from test_summary_first_hour import section
from test_summary_first_hour import text as words


@pytest.fixture(scope="module")
def china(tmp_path_factory):
    """A small China run: disclosure from the start, repair of firms' entries after 30 days."""
    return socialcredit.run("china", population=20000, days=60, seed=3,
                            out=tmp_path_factory.mktemp("china") / "r")


@pytest.fixture(scope="module")
def rongcheng(tmp_path_factory):
    return socialcredit.run("rongcheng", population=3000, days=20,
                            out=tmp_path_factory.mktemp("rongcheng") / "r")


def page_of(results) -> str:
    return (results.path / "report.html").read_text(encoding="utf-8")




def row(harm: str, label: str) -> list[str] | None:
    """The cells after the label of the harm audit row `label`, or None without that row."""
    m = re.search(rf"<tr><td>{re.escape(escape(label))}</td>(.*?)</tr>", harm)
    return [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))] if m else None


def summary(results) -> str:
    out = io.StringIO()
    print_summary(results, Console(file=out, width=400))
    return out.getvalue()


def test_the_harm_audit_counts_disclosure_at_real_scale(china):
    d = china.daily
    scale = float(china.info["scale"])
    assert d["disclosed_cumulative"].iloc[-1] > 0 and d["disclosure_views"].sum() > 0
    harm = section(page_of(china), "Harm audit")
    made = int(d["disclosed_cumulative"].iloc[-1])  # a running count: its last day
    listings = int(d["listed_new"].sum())
    assert row(harm, "listings disclosed (made public)") == [
        f"{made:,}", f"≈ {approx(made * scale)}", f"{100 * made / listings:.1f}% of "
        f"{listings:,} listings"]
    views = int(d["disclosure_views"].sum())
    per = views / d["disclosed"].sum()
    cells = row(harm, "disclosure person-views")
    assert cells[:2] == [f"{views:,}", f"≈ {approx(views * scale)}"]
    assert float(cells[2].split()[0]) == pytest.approx(per, rel=1e-2)
    for label, c in (("ties cut by disclosure", "ties_cut_by_disclosure"),
                     ("wrongfully disclosed (public on the last day)", "wrongfully_disclosed")):
        n = int(d[c].sum() if c != "wrongfully_disclosed" else d[c].iloc[-1])
        if n:
            assert row(harm, label)[:2] == [f"{n:,}", f"≈ {approx(n * scale)}"], label
        else:  # a zero is named in the sentence, not shown as a row
            assert row(harm, label) is None
            assert re.search(rf"{re.escape(escape(label))}[^<]*stayed 0 for the whole run",
                             harm, re.I), label


def test_repairs_are_counted_and_their_mean_days_never_scaled(china, tmp_path):
    days = pd.Series(range(len(china.daily)))
    daily = china.daily.assign(repairs_applied=(days % 10 == 0).astype(int) * 4,
                               repairs_granted=(days % 10 == 0).astype(int) * 3,
                               repair_days_cleared=(days % 10 == 0).astype(int) * 3 * 40)
    page = write_report(dataclasses.replace(china, daily=daily),
                        tmp_path / "repairs.html").read_text(encoding="utf-8")
    harm = section(page, "Harm audit")
    scale = float(china.info["scale"])
    applied, granted = int(daily["repairs_applied"].sum()), int(daily["repairs_granted"].sum())
    assert row(harm, "credit repairs applied for")[:2] == [f"{applied:,}",
                                                           f"≈ {approx(applied * scale)}"]
    assert row(harm, "credit repairs granted") == [
        f"{granted:,}", f"≈ {approx(granted * scale)}", f"75.0% of {applied:,} applied for"]
    assert row(harm, "mean days from listing to repair") == ["40", "",
                                                             f"over {granted:,} repairs granted"]
    part = section(page, "Disclosure and repair")
    assert "repairs, cumulative" in part and "<svg" in part
    assert f"repairs granted ({granted:,})" in part


def test_no_granted_repair_gives_no_mean_row():
    daily = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=3),
                          "repairs_applied": [1, 0, 1], "repairs_granted": [0, 0, 0],
                          "repair_days_cleared": [0, 0, 0]})
    rows = {label: (v, detail) for _, label, v, detail in harm_rows(daily)}
    assert rows["mean days from listing to repair"] == (None, "no repair was granted")
    assert rows["credit repairs applied for"][0] == 2


def test_the_approval_chart_shows_in_china_with_its_sources(china):
    d = china.daily
    part = section(page_of(china), "Approval")
    assert "<svg" in part
    text = words(part)
    first, last = d["approval"].iloc[0], d["approval"].iloc[-1]
    assert f"{100 * first:.1f}% approved on the first day and {100 * last:.1f}% on the last" \
        in text
    lost = int(d["approval_lost"].sum())
    assert f"{lost:,} turned against the system over the run" in text
    assert "R11 gives the starting share, 80%" in text and "53% to 29%" in text
    assert "are assumed (after penalty 0.05" in text
    assert "adults and elders" in text


def test_rongcheng_says_why_there_is_no_disclosure_or_approval(rongcheng):
    page = page_of(rongcheng)
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    approval = section(page, "Approval")
    assert "<svg" not in approval
    assert "no [responses.attitudes] section" in words(approval)
    disclosure = section(page, "Disclosure and repair")
    assert "<svg" not in disclosure
    assert "nothing is disclosed or repaired" in words(disclosure)
    harm = section(page, "Harm audit")  # no rows, nor a sentence of zeros, for what is absent
    assert "disclos" not in words(harm) and "repair" not in words(harm)
    out = summary(rongcheng)
    assert "disclosure:" not in out and "repair:" not in out and "approval" not in out


def test_the_summary_has_a_line_each_for_disclosure_repair_and_approval(china):
    d = china.daily
    out = summary(china)
    assert (f"disclosure: {int(d['disclosed_cumulative'].iloc[-1]):,} listings made public, "
            f"{int(d['disclosure_views'].sum()):,} person-views; on the last day "
            f"{int(d['disclosed'].iloc[-1]):,} public") in out
    assert f"{int(d['ties_cut_by_disclosure'].sum()):,} ties cut by disclosure" in out
    assert (f"repair: {int(d['repairs_applied'].sum()):,} applied for, "
            f"{int(d['repairs_granted'].sum()):,} granted") in out
    assert (f"approval (adults and elders): {100 * d['approval'].iloc[0]:.2f}% on the first "
            f"day -> {100 * d['approval'].iloc[-1]:.2f}% on the last") in out


def test_the_sources_list_the_new_sections(china):
    part = section(page_of(china), "Sources and assumptions")
    for sid in ("S8", "R10", "R11"):
        assert f"<td>{sid}</td>" in part, sid
    for path in ("lists.dishonest_debtors.disclosure.cut_share",
                 "responses.attitudes.after_disclosed", "gates.rental.deny_disclosed"):
        assert f"<td>{path}</td>" in part, path
