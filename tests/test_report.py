"""The HTML report: one file a reader can open offline, with every section, for any run."""

import dataclasses
import json
import re

import pandas as pd
import pytest

import socialcredit
from socialcredit.report import write_report
from socialcredit.report.html import SECTIONS


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
    assert "&lt;b&gt;Fish &amp; chips&lt;/b&gt;" in page and "<b>Fish" not in page

    bare = dataclasses.replace(results, daily=pd.DataFrame(), listings=results.listings.iloc[:0],
                               acts=results.acts.iloc[:0], score_hist=results.score_hist.iloc[:0])
    page = write_report(bare, tmp_path / "bare.html").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    _check_offline(page)
