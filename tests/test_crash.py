"""A run killed at any moment resumes to the tables of an uninterrupted run; two processes
never write one folder; a failed write keeps the checkpoint.

Runs are killed with SIGKILL at named steps (SOCIALCREDIT_KILL_AT, record/faults.py): while
setting up, in the day loop, in the middle of a checkpoint write, and at each final write.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import socialcredit
from socialcredit.errors import UserError
from socialcredit.record import checkpoint, store
from socialcredit.record.faults import STEPS

ARGS = ["--population", "6000", "--days", "45", "--seed", "3", "--checkpoint-every", "10"]
KILLS = [*STEPS, "day-17"]
TABLES = ("daily", "ledger", "listings", "acts", "score_hist", "groups", "groups_over_time",
          "grades")


def _cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "socialcredit.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NUMBA_NUM_THREADS": "1", **(env or {})},
                            **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same run, never interrupted, read back from its folder."""
    out = tmp_path_factory.mktemp("whole") / "run"
    socialcredit.run("rongcheng", population=6000, days=45, seed=3, out=out)
    return socialcredit.open_results(out)


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """One run folder per kill step, all killed at once (in parallel, to keep the suite fast)."""
    base = tmp_path_factory.mktemp("killed")
    procs = {step: _cli("run", "rongcheng", *ARGS, "--quiet", "--out", str(base / step),
                        env={"SOCIALCREDIT_KILL_AT": step}) for step in KILLS}
    codes = {step: p.wait(timeout=300) for step, p in procs.items()}
    return base, codes


def _same_tables(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True,
                                      obj=name)
    pd.testing.assert_frame_equal(a.citizens.reset_index(drop=True),
                                  b.citizens.reset_index(drop=True), check_dtype=False,
                                  check_categorical=False, obj="citizens")


@pytest.mark.parametrize("step", KILLS)
def test_a_run_killed_at_any_step_resumes_to_the_same_tables(killed, reference, step):
    base, codes = killed
    folder = base / step
    assert codes[step] == -9, f"the run was not killed at {step}"
    assert not (folder / store.RESULTS).exists() or step == "results-moved"
    if step == "results-moved":  # the store was complete; only tidying was left
        with pytest.raises(UserError, match="finished run"):
            socialcredit.resume(folder)
    else:
        socialcredit.resume(folder)
    assert not (folder / store.CHECKPOINT).exists()
    assert sorted(p.name for p in folder.iterdir()) == [store.CITIZENS, store.REPORT,
                                                         store.RESULTS]
    _same_tables(socialcredit.open_results(folder), reference)


def test_a_second_process_on_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "busy"
    first = _cli("run", "rongcheng", "--population", "20000", "--days", "60",
                 "--checkpoint-every", "50", "--quiet", "--no-report", "--out", str(out))
    deadline = time.time() + 120
    while not checkpoint.exists(out):
        assert first.poll() is None and time.time() < deadline, first.stderr.read()
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGSTOP)  # paused, holding the folder, until SIGCONT
    second = _cli("run", "rongcheng", "--population", "1000", "--days", "5", "--out", str(out))
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2
    assert err.count("\n") == 1 and "another socialcredit process" in err
    resumed = _cli("resume", str(out))
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 2 and "another socialcredit process" in err
    os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    done = socialcredit.open_results(out)
    assert len(done.daily) == 60 and int(done.info["population"]) == 20_000


def _limit_file_size(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("limit", [1 << 20, 60_000])
def test_a_failed_write_keeps_the_checkpoint_and_resume_finishes(tmp_path, reference, limit):
    """No file may grow past `limit` bytes (as on a full disk): the results store (2 MiB)
    cannot be written, or not even the citizens; one line, exit 2, and resume completes."""
    out = tmp_path / "full"
    proc = _cli("run", "rongcheng", *ARGS, "--out", str(out), preexec_fn=_limit_file_size(limit))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("socialcredit: error:")
    assert "checkpoint is kept" in err and "socialcredit resume" in err
    assert checkpoint.exists(out) and not (out / store.RESULTS).exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    socialcredit.resume(out)
    _same_tables(socialcredit.open_results(out), reference)


def test_outputs_never_land_in_a_finished_run(tmp_path, reference, capsys):
    from socialcredit.cli import main

    out = tmp_path / "done"
    socialcredit.run("rongcheng", population=6000, days=45, seed=3, out=out, report=False)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    for args in (["run", "--population", "1000", "--days", "2", "--out", str(out / "sub")],
                 ["run", "--population", "1000", "--days", "2", "--out",
                  str(out / store.CITIZENS)],
                 ["run", "--population", "1000", "--days", "2", "--out", str(out)],
                 ["schema", "--out", str(out / store.RESULTS)],
                 ["schema", "--out", str(out / "schema.json")]):
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert err.count("\n") == 1, err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
