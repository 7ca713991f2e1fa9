"""Shared by every test file: the kernels are compiled once per session, not once per worker.

Run in two processes (pytest-xdist: `pytest -n 2 --dist loadfile`), from an empty
kernel cache (a fresh clone) both would compile the same numba kernels at the same time, a
minute of work each, done twice. Here the first worker to take a lock runs every built-in
scenario on a small society, which compiles and caches each kernel those scenarios use; the
other waits, then loads them from the cache in a second or two.
"""

from __future__ import annotations

import fcntl
import os

import pytest


@pytest.fixture(autouse=True)
def _one_kernel_thread_per_process():
    """As many processes as cores: each runs its kernels in one thread (tests that compare
    thread counts still ask for two). Parallel kernels whose threads wait for a core another
    process holds run many times slower."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import numba

        numba.set_num_threads(1)
    yield


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled_once(tmp_path_factory):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: each kernel compiles on first use, as for a user
    import socialcredit
    from socialcredit.scenario import builtin_names

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker
    mine = tmp_path_factory.mktemp("warm-up")
    with open(shared / "kernels.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in builtin_names():  # 62 days reach every periodic step (engine/compile.py)
            socialcredit.run(name, population=1000, days=62, seed=0, out=mine / name,
                             report=False)
