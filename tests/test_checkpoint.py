"""Checkpoints are plain data, checked before use: a damaged or altered one gets one line
and exit 2, never a crash, and nothing in it can run code. Runs that cannot fit in memory
are refused before anything is allocated."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import socialcredit
from socialcredit.engine import memory
from socialcredit.errors import UserError
from socialcredit.record import checkpoint, store

EXAMPLES = int(os.environ.get("SOCIALCREDIT_FUZZ_EXAMPLES", "10"))
"""Random alterations per run, each resuming a small run; set more for a long hunt."""


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run of 2000 citizens stopped on day 25, with its checkpoint of day 20."""
    folder = tmp_path_factory.mktemp("ckpt") / "run"

    def stop(day: int, days: int) -> None:
        if day == 25:
            raise Stop

    with pytest.raises(Stop):
        socialcredit.run("rongcheng", population=2000, days=40, seed=5, out=folder,
                         checkpoint_every=10, progress=stop, report=False)
    return folder


@pytest.fixture
def copy(interrupted, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(interrupted, dest)
    (dest / ".lock").unlink(missing_ok=True)
    return dest


def _load(folder):
    return checkpoint.read(folder)


def _rewrite(folder, meta, arrays) -> None:
    """Write an altered checkpoint with valid checksums, as a forger would."""
    shutil.rmtree(folder / checkpoint.FOLDER)
    checkpoint.write(folder, meta, arrays)


def _refused(folder) -> str:
    with pytest.raises(UserError) as e:
        socialcredit.resume(folder, report=False)
    line = str(e.value)
    assert "\n" not in line
    assert not (folder / store.RESULTS).exists()
    return line


def test_a_checkpoint_is_json_and_npy_arrays_and_nothing_else(interrupted):
    files = sorted(p.name for p in (interrupted / checkpoint.FOLDER).iterdir())
    assert checkpoint.INDEX in files
    assert all(f == checkpoint.INDEX or ".000020-" in f and f.endswith(".npy") for f in files)
    index = json.loads((interrupted / checkpoint.FOLDER / checkpoint.INDEX).read_text())
    assert index["format"] == checkpoint.FORMAT and index["meta"]["day"] == 20
    for entry in index["arrays"].values():
        np.load(interrupted / checkpoint.FOLDER / entry["file"], allow_pickle=False)


def test_resume_from_a_copied_checkpoint_matches_a_whole_run(copy):
    whole = socialcredit.run("rongcheng", population=2000, days=40, seed=5, report=False)
    done = socialcredit.resume(copy, report=False)
    for name in ("daily", "ledger", "listings", "groups_over_time", "acts", "score_hist"):
        assert getattr(done, name).equals(getattr(whole, name)), name


def test_a_flipped_byte_is_caught_by_the_checksum(copy):
    index = checkpoint.read_index(copy)
    path = copy / checkpoint.FOLDER / index["arrays"]["state.people"]["file"]
    raw = bytearray(path.read_bytes())
    raw[-7] ^= 0x10
    path.write_bytes(bytes(raw))
    assert "checksum" in _refused(copy)


def test_a_truncated_array_or_index_is_refused(copy):
    index = checkpoint.read_index(copy)
    path = copy / checkpoint.FOLDER / index["arrays"]["state.log_id"]["file"]
    path.write_bytes(path.read_bytes()[:100])
    assert "damaged" in _refused(copy)
    (copy / checkpoint.FOLDER / checkpoint.INDEX).write_text('{"format": "socialcredit-che')
    assert "not valid JSON" in _refused(copy)


class Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_in_place_of_an_array_never_runs(copy, monkeypatch):
    monkeypatch.chdir(copy)
    index = checkpoint.read_index(copy)
    path = copy / checkpoint.FOLDER / index["arrays"]["state.hist"]["file"]
    path.write_bytes(pickle.dumps(Payload()))
    _refused(copy)
    arr = np.array([Payload()], dtype=object)  # an object array: .npy would pickle it
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, allow_pickle=True)
    _refused(copy)
    assert not (copy / "pwned").exists()


def test_an_old_pickle_checkpoint_is_not_read(copy, monkeypatch):
    shutil.rmtree(copy / checkpoint.FOLDER)
    (copy / "checkpoint.pkl").write_bytes(pickle.dumps(Payload()))
    monkeypatch.chdir(copy)
    assert "no checkpoint" in _refused(copy)
    assert not (copy / "pwned").exists()


def test_altered_fields_are_refused_even_with_valid_checksums(copy):
    meta, arrays = _load(copy)

    def altered(change) -> str:
        m, a = json.loads(json.dumps(meta)), {k: v.copy() for k, v in arrays.items()}
        change(m, a)
        _rewrite(copy, m, a)
        return _refused(copy)

    def population(m, a):
        m["request"]["population"] = 5000

    def other_scenario(m, a):
        m["request"]["scenario_text"] = (socialcredit.load("jinan-dogs")[1])

    def score(m, a):
        a["state.people"]["score"][17] = 32000

    def lists(m, a):
        a["state.people"]["lists"][3] = 255

    def listing(m, a):
        a["state.counters"][0] = max(1, a["state.counters"][0])
        a["state.log_id"][0] = 10**12

    def active(m, a):
        a["state.counters"][1] = len(a["state.active"]) + 5

    def hist(m, a):
        a["state.hist"][0] += 1

    def day(m, a):
        m["day"] = 39

    def daily(m, a):
        m["daily"][3]["date"] = "9999-99-99"

    def nan(m, a):
        a["state.deter_seen"][:] = np.nan

    def ledger(m, a):
        a["ledger.1"] = a["ledger.1"][:-1]

    for change in (population, other_scenario, score, lists, listing, active, hist, day,
                   daily, nan, ledger):
        line = altered(change)
        assert "checkpoint" in line, (change.__name__, line)


def test_another_format_version_says_so(copy):
    meta, arrays = _load(copy)
    _rewrite(copy, meta, arrays)
    path = copy / checkpoint.FOLDER / checkpoint.INDEX
    index = json.loads(path.read_text())
    index["version"] = 2
    index["checksum"] = checkpoint._index_checksum(index)
    path.write_text(json.dumps(index))
    assert "format 2" in _refused(copy)


def test_resume_on_the_command_line_gives_one_line_and_exit_2(copy):
    (copy / checkpoint.FOLDER / checkpoint.INDEX).write_text("[]")
    proc = subprocess.run([sys.executable, "-m", "socialcredit.cli", "resume", str(copy)],
                          capture_output=True, text=True,
                          env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    assert proc.returncode == 2
    assert proc.stderr.startswith("socialcredit: error:") and proc.stderr.count("\n") == 1


# -- fuzz: random alterations, with and without valid checksums -------------------------------

LEAVES = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=8),
                   st.none(), st.booleans(), st.lists(st.integers(), max_size=3))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list) and node:
        for i in (0, len(node) - 1):
            yield from _paths(node[i], (*prefix, i))
    else:
        yield prefix


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_altered_checkpoints_never_crash(interrupted, tmp_path, data):
    folder = tmp_path / uuid.uuid4().hex
    shutil.copytree(interrupted, folder)
    (folder / ".lock").unlink(missing_ok=True)
    meta, arrays = _load(folder)
    kind = data.draw(st.sampled_from(["meta", "array", "bytes"]))
    if kind == "meta":
        paths = sorted(_paths(meta), key=str)
        path = data.draw(st.sampled_from(paths))
        node = meta
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = data.draw(LEAVES)
        _rewrite(folder, meta, arrays)
    elif kind == "array":
        name = data.draw(st.sampled_from(sorted(arrays)))
        arr = arrays[name]
        if arr.size:
            flat = arr.view(np.uint8).reshape(-1)
            i = data.draw(st.integers(0, len(flat) - 1))
            flat[i] = data.draw(st.integers(0, 255))
        _rewrite(folder, meta, arrays)
    else:
        index = checkpoint.read_index(folder)
        entry = data.draw(st.sampled_from(sorted(index["arrays"])))
        path = folder / checkpoint.FOLDER / index["arrays"][entry]["file"]
        raw = bytearray(path.read_bytes())
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
        path.write_bytes(bytes(raw))
    try:
        socialcredit.resume(folder, report=False)
    except UserError as e:
        assert "\n" not in str(e)
        assert checkpoint.exists(folder) and not (folder / store.RESULTS).exists()
        event(f"{kind}: refused")
    else:
        assert (folder / store.RESULTS).exists()
        event(f"{kind}: resumed")


# -- memory ----------------------------------------------------------------------------------

def test_a_run_that_cannot_fit_is_refused_before_it_starts(tmp_path):
    with pytest.raises(UserError) as e:
        socialcredit.run("china", population=2_000_000_000, days=36_500, out=tmp_path / "big")
    line = str(e.value)
    assert "GiB" in line and "lower --population or --days" in line and "\n" not in line
    assert not (tmp_path / "big").exists()


def test_the_estimate_follows_the_machine(monkeypatch, tmp_path, capsys):
    from socialcredit.cli import main

    monkeypatch.setattr(memory, "available", lambda: 64 << 20)
    with pytest.raises(UserError, match="more than the 0.1 GiB available"):
        socialcredit.run("rongcheng", population=1000, days=5)
    assert main(["run", "--population", "1000", "--days", "5", "--out",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB" in err and not (tmp_path / "r").exists()
    monkeypatch.undo()
    s, _ = socialcredit.load("china")
    small = memory.estimate(s, 1_410_000, 365).total
    big = memory.estimate(s, 1_410_000_000, 365).total
    assert 20 * small < big < 12 * 2**30  # about 7 bytes an agent at country scale
    from socialcredit.engine.plan import build
    for name in ("china", "rongcheng", "corporate"):
        s, _ = socialcredit.load(name)
        assert memory.estimate(s, 54_321, 1).agents == build(s, 54_321, 0).population


def test_a_ledger_of_everyone_counts_in_the_estimate():
    s, _ = socialcredit.load("china")
    everyone = s.model_copy(update={"recording": s.recording.model_copy(
        update={"full_ledger_up_to": 10**12})})
    assert (memory.estimate(everyone, 100_000_000, 365).parts["ledger"]
            > 100 * memory.estimate(s, 100_000_000, 365).parts["ledger"])
    with pytest.raises(UserError, match="full_ledger_up_to"):
        memory.check_fits(everyone, 1_000_000_000, 3650)


def test_compare_and_calibrate_refuse_what_cannot_fit(capsys, monkeypatch):
    from socialcredit.cli import main

    monkeypatch.setattr(memory, "available", lambda: 1 << 30)  # a machine with 1 GiB free
    for argv in (["compare", "china", "--set", "association.enabled=false", "--seeds", "1000",
                  "--population", "200000000"],
                 ["calibrate", "national", "--trials", "100000", "--trial-population",
                  "200000000"],
                 ["calibrate", "national", "--trials", "2", "--trial-population", "1000",
                  "--population", "200000000"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("socialcredit: error:") and err.count("\n") == 1
        assert "GiB" in err, err


def test_a_second_checkpoint_of_the_same_day_never_touches_the_first(copy):
    before = {p.name: p.read_bytes() for p in (copy / checkpoint.FOLDER).iterdir()}
    meta, arrays = _load(copy)
    names = set(before) - {checkpoint.INDEX}
    checkpoint.write(copy, meta, arrays)
    after = {p.name for p in (copy / checkpoint.FOLDER).iterdir()}
    assert not (after - {checkpoint.INDEX}) & names  # new files beside, old ones removed
    assert _load(copy)[0] == meta


def test_a_scenario_with_empty_tables_checkpoints_and_resumes(tmp_path):
    out = tmp_path / "dogs"
    socialcredit.run("jinan-dogs", population=200, days=3, checkpoint_every=1, out=out,
                     report=False)
    assert (out / store.RESULTS).exists() and not checkpoint.exists(out)
