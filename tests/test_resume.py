"""An interrupted run continues from its checkpoint and ends exactly as if never stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import socialcredit
from socialcredit.record import checkpoint, store

ONE_THREAD = {**os.environ, "NUMBA_NUM_THREADS": "1"}
"""Child runs use one kernel thread: under xdist the other worker holds the other core, and
parallel kernels waiting for a busy core run many times slower."""


class Crash(Exception):
    pass


def _day(folder) -> int:
    """The day of the folder's last checkpoint (0 before the first)."""
    try:
        return checkpoint.read_index(folder)["meta"]["day"]
    except socialcredit.UserError:
        return 0


def test_resume_after_a_crash_gives_the_same_tables(tmp_path):
    whole = socialcredit.run("rongcheng", population=20_000, days=150, seed=2, report=False)

    def crash_at_day_70(day: int, days: int) -> None:
        if day == 70:
            raise Crash

    with pytest.raises(Crash):
        socialcredit.run("rongcheng", population=20_000, days=150, seed=2, report=False,
                         out=tmp_path / "r", checkpoint_every=25, progress=crash_at_day_70)
    assert checkpoint.read_index(tmp_path / "r")["meta"]["day"] == 50
    assert not (tmp_path / "r" / store.RESULTS).exists()
    resumed = socialcredit.resume(tmp_path / "r", report=False)
    pd.testing.assert_frame_equal(whole.daily, resumed.daily, check_exact=True)
    pd.testing.assert_frame_equal(whole.ledger, resumed.ledger, check_exact=True)
    pd.testing.assert_frame_equal(whole.listings, resumed.listings, check_exact=True)
    assert not (tmp_path / "r" / store.CHECKPOINT).exists()  # a finished run keeps no checkpoint
    assert socialcredit.open_results(tmp_path / "r").daily.equals(resumed.daily)


def test_a_run_killed_with_sigkill_resumes_to_the_same_daily_table(tmp_path):
    out = tmp_path / "killed"
    # 150,000 citizens keep each day long enough that the kill lands well before the end,
    # 100 days leave 90 after the first checkpoint
    args = ["run", "rongcheng", "--population", "150000", "--days", "100", "--seed", "4",
            "--checkpoint-every", "10", "--quiet", "--no-report"]
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ONE_THREAD)
    deadline = time.time() + 300
    while not _day(out) and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if (out / store.RESULTS).exists():
        pytest.fail("the run finished before it could be killed; make it longer")
    done = subprocess.run([sys.executable, "-m", "socialcredit.cli", "resume", str(out),
                           "--quiet", "--no-report"], capture_output=True, text=True,
                          env=ONE_THREAD)
    assert done.returncode == 0, done.stderr
    ref = socialcredit.run("rongcheng", population=150_000, days=100, seed=4, report=False)
    pd.testing.assert_frame_equal(socialcredit.open_results(out).daily, ref.daily,
                                  check_dtype=False)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_in_the_middle_of_a_day_stops_the_run_at_the_end_of_that_day(
        tmp_path, monkeypatch, signum):
    """Ctrl-C (or a SIGTERM a program turns into KeyboardInterrupt, as `socialcredit serve`'s
    workers do) arriving halfway through a day, between two stages: the day finishes, the
    checkpoint holds the end of it, and the resumed run has the tables of one never stopped."""
    import socialcredit.engine.loop as loop

    whole = socialcredit.run("rongcheng", population=5_000, days=40, seed=3, report=False)
    calls = []
    real_rate = loop.rate

    def rate_then_interrupted(*args, **kw):
        out = real_rate(*args, **kw)
        calls.append(1)
        if len(calls) == 18:  # day 18, after rate, before lists, gates and respond
            os.kill(os.getpid(), signum)
        return out

    def to_interrupt(signum, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "rate", rate_then_interrupted)
    # the handlers of a terminal's process (a test runner's worker may ignore SIGINT)
    old = signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                        else to_interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            socialcredit.run("rongcheng", population=5_000, days=40, seed=3, report=False,
                             out=tmp_path / "r", checkpoint_every=0)
    finally:
        signal.signal(signum, old)
    assert len(calls) == 18  # no stage of day 19 ran
    assert checkpoint.read_index(tmp_path / "r")["meta"]["day"] == 18
    monkeypatch.setattr(loop, "rate", real_rate)
    resumed = socialcredit.resume(tmp_path / "r", report=False)
    for table in ("daily", "ledger", "listings"):
        pd.testing.assert_frame_equal(getattr(whole, table), getattr(resumed, table),
                                      check_exact=True)
