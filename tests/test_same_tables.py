"""A country's run gives the same tables as the engine gave before its kernels were made
faster: 10 million citizens of `china` for a year, every table's fingerprint compared with
one stored from the engine before that work (tests/data/china-10m-365d-seed3.json)."""

from __future__ import annotations

import json
from pathlib import Path

import socialcredit
from tables import fingerprints

STORED = Path(__file__).parent / "data" / "china-10m-365d-seed3.json"


def test_ten_million_citizens_of_china_for_a_year_give_the_stored_tables(tmp_path):
    socialcredit.run("china", population=10_000_000, days=365, seed=3, out=tmp_path / "run",
                     citizens=False, report=False)
    found = fingerprints(tmp_path / "run")
    stored = json.loads(STORED.read_text())
    assert found.keys() == stored.keys()
    differ = sorted(k for k in stored if found[k] != stored[k])
    assert not differ, f"tables that changed: {differ}"
