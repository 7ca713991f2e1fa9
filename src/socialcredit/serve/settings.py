"""What a server is allowed to do: where its runs live, who may use it, and how large a run
and how long a queue it takes.

Limits are checked when a run is asked for, in the server, before anything is queued: a run
that the machine's memory or the configured limits cannot take is refused with one line
instead of being killed an hour later in a worker.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ..engine.memory import available, estimate
from ..engine.run import MAX_DAYS
from ..errors import UserError
from ..scenario import load

LIMIT_SCENARIO = "rongcheng"
"""The built-in scenario whose memory estimate sets the default population limit."""
DEFAULT_QUEUED = 8
"""Runs that may wait in the queue at once, by default."""


@dataclass(frozen=True)
class Settings:
    """A server's data folder, token, workers and limits."""

    data: Path
    token: str | None = None
    workers: int = 1
    max_population: int = 1_000_000
    max_days: int = MAX_DAYS
    max_queued: int = DEFAULT_QUEUED
    memory: int | None = None
    """Bytes one worker's run may use (None: the memory available now over the workers)."""
    threads: int | None = None
    """Kernel threads per worker (None: the cores less one for the server, shared out)."""
    checkpoint_every: int | None = None
    """Days between a queued run's checkpoints (None: the engine's default, after each five
    minutes of work)."""

    def run_memory(self) -> int:
        """Bytes one run may take now: the configured figure, or a worker's share of what the
        machine has available."""
        return self.memory if self.memory is not None else available() // max(1, self.workers)

    def kernel_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        return max(1, (cores - 1) // max(1, self.workers))


def default_max_population(workers: int = 1, memory: int | None = None) -> int:
    """The largest population of a year of the default scenario that fits one worker's share
    of the memory available now, rounded down to two significant figures."""
    budget = memory if memory is not None else available() // max(1, workers)
    sc, _ = load(LIMIT_SCENARIO)
    lo, hi = 1, 2_000_000_000
    if estimate(sc, lo, 365).total > budget:
        return 1
    while lo < hi:  # the estimate grows with the population
        mid = (lo + hi + 1) // 2
        if estimate(sc, mid, 365).total <= budget:
            lo = mid
        else:
            hi = mid - 1
    digits = max(0, len(str(lo)) - 2)
    return max(1, lo // 10**digits * 10**digits)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token: anyone who can reach the port
    could start runs and read every result."""
    if not is_loopback(host) and not token:
        raise UserError(f"--host {host} lets other machines reach the server; give --token "
                        "(or SOCIALCREDIT_TOKEN) so that every page and API call needs it, "
                        "or bind 127.0.0.1", "--host")
    if token is not None and (len(token) < 8 or not token.isprintable() or " " in token):
        raise UserError("a token needs at least 8 printable characters without spaces",
                        "--token")
