"""Run folders: one run each, written by one process at a time, never written into later.

A run folder is one that holds `results.duckdb` (a finished run) or `checkpoint/` (a run
under way or interrupted). While a process writes a run it holds an exclusive lock on the
folder's `.lock` file (released by the system when the process ends, even by SIGKILL), so a
second process given the same `--out` is refused instead of mixing two runs' files.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from ..errors import UserError

LOCK = ".lock"
RESULTS = "results.duckdb"
CHECKPOINT = "checkpoint"


def is_run(path: Path) -> bool:
    """Whether `path` is a run folder (finished, under way or interrupted)."""
    try:
        return (path / RESULTS).exists() or (path / CHECKPOINT).exists()
    except OSError:
        return False


def run_around(path: Path) -> Path | None:
    """The run folder that `path` lies inside (itself excluded), if any."""
    try:
        full = Path(os.path.abspath(path))
    except OSError:
        return None
    for parent in full.parents:
        if is_run(parent):
            return parent
    return None


def _why(e: OSError) -> str:
    return e.strerror or str(e)


class Lock:
    """The exclusive right to write the run in `folder`; one line if another process has it."""

    def __init__(self, folder: Path, option: str = "--out"):
        self.folder, self.option, self.fd = folder, option, -1

    def __enter__(self) -> Lock:
        path = self.folder / LOCK
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise UserError(f"cannot create {str(path)!r}: {_why(e)}", self.option) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(self.fd)
            self.fd = -1
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UserError(f"{str(self.folder)!r} is being written by another socialcredit "
                                "process; wait for it to finish or choose another folder",
                                self.option) from None
            raise UserError(f"cannot lock {str(path)!r}: {_why(e)}", self.option) from None
        return self

    def note(self, day: int, days: int) -> None:
        """Say in the lock file how far the run has come, for whoever watches the folder
        (the web explorer shows it for runs other processes write). A fixed-width line
        written in place, so a reader never sees half of it."""
        if self.fd < 0:
            return
        try:
            os.pwrite(self.fd, f"{day:>12} {days:>12}\n".encode(), 0)
        except OSError:
            pass  # progress is a courtesy; the run goes on

    def release(self, remove: bool = False) -> None:
        if self.fd < 0:
            return
        if remove:
            try:
                (self.folder / LOCK).unlink()
            except OSError:
                pass
        os.close(self.fd)
        self.fd = -1

    def __exit__(self, *exc) -> None:
        self.release()


def progress(folder: Path) -> tuple[int, int] | None:
    """(day, days) last noted in the folder's lock file by the process writing it (see
    `busy`); None when it has noted nothing."""
    try:
        with open(folder / LOCK, "rb") as f:
            head = f.read(26).split()
        day, days = int(head[0]), int(head[1])
    except (OSError, ValueError, IndexError):
        return None
    return (day, days) if 0 <= day <= days <= 10**9 else None


def busy(folder: Path) -> bool:
    """Whether another process holds the folder's lock now (nothing is created to find out)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def guard_new_file(path: Path, option: str) -> Path:
    """Refuse, with one line, an output file that exists, lies inside a run folder or cannot
    be created; nothing is overwritten and no run folder gets foreign files."""
    host = run_around(path)
    if host is not None:
        raise UserError(f"{str(path)!r} is inside the run folder {str(host)!r}; a run folder "
                        "holds one run's files only: write elsewhere", option)
    try:
        if path.exists() or path.is_symlink():
            raise UserError(f"{str(path)!r} exists; files are never overwritten: give a new "
                            "name or remove it first", option)
        parent = Path(os.path.abspath(path)).parent
        if not parent.is_dir():
            raise UserError(f"folder {str(parent)!r} does not exist; create it first", option)
        probe = parent / f".{path.name}.probe"
        probe.touch()  # what writing the file will need: try it now
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot use {str(path)!r}: {_why(e)}", option) from None
    return path
