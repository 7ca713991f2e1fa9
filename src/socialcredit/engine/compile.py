"""Compiling the kernels, once, before a run is timed.

The numba kernels are compiled on first use and cached on disk (engine/__init__.py says
where). From a fresh install that takes about a minute. Rather than let it land inside the
first run's day loop, where it would look like a minute of blank screen and count in the
run's seconds, a run whose cache is empty first runs its scenario on a small society for a
couple of months, which compiles every kernel it uses, while telling the user what happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numba
from numba.core import event

from ..scenario.schema import Scenario

Compiling = Callable[[int, float], None]
"""Called after each kernel compiled: kernels so far, seconds so far."""
WARM_UP_CITIZENS = 3000
WARM_UP_DAYS = 62
"""Long enough to reach every periodic step of the built-in scenarios (30-day snapshots)."""


def cache_folder() -> Path | None:
    folder = numba.config.CACHE_DIR
    return Path(folder) if folder else None


MARK = "warm"
"""Written into the cache folder once a warm-up has compiled the kernels."""


def cached() -> bool:
    """Whether compiled kernels of this version are on disk already."""
    folder = cache_folder()
    return folder is not None and (folder / MARK).is_file()


def _mark() -> None:
    folder = cache_folder()
    if folder is not None:
        try:
            (folder / MARK).write_text("kernels compiled\n")
        except OSError:
            pass  # a read-only cache: warm up again next time


class _Counter(event.Listener):
    """Counts the package's own kernels as numba compiles them."""

    def __init__(self, report: Compiling | None):
        self.report, self.count, self.t0 = report, 0, time.perf_counter()

    def on_start(self, ev) -> None:
        pass

    def on_end(self, ev) -> None:
        fn = getattr(ev.data.get("dispatcher"), "py_func", None)
        if fn is not None and fn.__module__.startswith("socialcredit"):
            self.count += 1
            if self.report is not None:
                self.report(self.count, time.perf_counter() - self.t0)


def warm_up(scenario: Scenario, report: Compiling | None = None) -> float:
    """Compile the kernels `scenario` uses, unless cached already; seconds it took."""
    if cached():
        return 0.0
    from ..record.results import citizens_frame, from_simulation
    from .loop import Simulation

    t0 = time.perf_counter()
    with event.install_listener("numba:compile", _Counter(report)):
        sim = Simulation(scenario, WARM_UP_CITIZENS, 0)
        sim.run(min(WARM_UP_DAYS, 36_500))
        from_simulation(sim, "", "", 0.0, numba.get_num_threads(), "")
        citizens_frame(sim)
    _mark()
    return time.perf_counter() - t0
