"""The kernels compiled once per test session, for every pytest-xdist worker.

From an empty kernel cache (a fresh clone) each worker would compile the same numba kernels at
the same time, a minute of work each, done twice. The first worker to reach a test runs every
built-in scenario on a small society, which compiles and caches each kernel those scenarios
use. The others run the test files marked `before_kernels` meanwhile (tests/conftest.py puts
them first); a test that needs the kernels waits for them, then loads them from the cache in a
second or two.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

_ready = False
_started = False
_compiled_here: Path | None = None


def _shared() -> Path | None:
    """A folder every worker of this test session shares, or None outside pytest-xdist."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return Path(tempfile.gettempdir()) / f"socialcredit-kernels-{run}" if run else None


def start() -> None:
    """Before a worker's first test: if no other worker has begun, compile the kernels now;
    otherwise go on at once, to run the tests that need none while the other compiles."""
    global _started
    shared = _shared()
    if _started or shared is None:
        return
    _started = True
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        _compile(shared)


def kernels_ready() -> None:
    """Return once every kernel the built-in scenarios use is compiled and cached."""
    global _ready
    shared = _shared()
    if _ready or shared is None:
        return  # one process: each kernel compiles on first use, as for a user
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held by a worker compiling: wait for it
        _compile(shared)
    _ready = True


def _compile(shared: Path) -> None:
    """Compile the kernels unless a worker already has (the caller holds the lock)."""
    global _compiled_here
    if (shared / "compiled").exists():
        return
    import socialcredit
    from socialcredit.scenario import builtin_names

    with tempfile.TemporaryDirectory() as scratch:
        for name in builtin_names():  # 62 days reach every periodic step
            socialcredit.run(name, population=1000, days=62, seed=0,
                             out=Path(scratch) / name, report=False)
    (shared / "compiled").touch()
    _compiled_here = shared


def tidy() -> None:
    """Remove the shared folder, from the worker that compiled (a worker asking later only
    loads the kernels from the cache again)."""
    if _compiled_here is not None:
        shutil.rmtree(_compiled_here, ignore_errors=True)
