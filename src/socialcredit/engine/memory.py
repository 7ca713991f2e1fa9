"""How much memory a run needs, estimated before anything is allocated.

A run that cannot fit is refused with one line naming the estimate and how to lower it,
instead of being killed by the system an hour in. The estimate adds up what grows with the
population (the 6-byte records, the listing log), with the days (the daily rows, listings
made over the years, the tracked ledger) and with what is kept (the citizens table of a run
held in memory).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from ..scenario.schema import Scenario
from .plan import agent_count
from .state import PERSON

LOG_BYTES = 29
"""One listing in the log: id, list, since, until, exit, wrongful, extensions, active slot."""
LEDGER_BYTES = 100
"""One tracked score change, kept in memory and then turned into the ledger table."""
DAILY_BYTES = 80
"""One value of a daily row, as kept until the run ends."""
CITIZEN_ROW_BYTES = 40
"""One citizen of the in-memory citizens table (runs without a results folder)."""
LISTED_PER_YEAR = 0.01
"""Listings a year per agent assumed for the log's growth: above what any built-in
scenario reaches (about 0.002 in `china`), so the estimate errs on the safe side."""
FIXED = 400 << 20
"""The interpreter, compiled kernels, pandas, DuckDB and the report."""


@dataclass
class Estimate:
    agents: int
    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def describe(self) -> str:
        big = sorted(self.parts.items(), key=lambda kv: -kv[1])[:3]
        return ", ".join(f"{name} {_gib(b)}" for name, b in big if b > 0)


def _gib(b: float) -> str:
    return f"{b / 2**30:,.1f} GiB"


def estimate(s: Scenario, population: int, days: int, in_memory: bool = False) -> Estimate:
    """Bytes a run of `s` at `population` citizens over `days` days needs at its peak."""
    agents = agent_count(s, population)
    years = days / 365
    rec = s.recording
    tracked = agents if agents <= rec.full_ledger_up_to else min(agents, rec.cohort)
    acts_per_year = sum(max([a.rate] + [c.rate for c in a.rate_changes]) for a in s.acts)
    columns = 40 + 5 * (len(s.gates) + len(s.lists)) + len(s.grades)
    log = max(agents // 50, int(agents * years * LISTED_PER_YEAR))
    parts = {
        "agents": agents * PERSON.itemsize,
        "listing log": 2 * log * LOG_BYTES,  # the log doubles when full
        "ledger": int(tracked * years * acts_per_year * 3 * LEDGER_BYTES),
        "daily rows": days * columns * DAILY_BYTES,
        "citizens table": agents * CITIZEN_ROW_BYTES if in_memory else 0,
        "software": FIXED,
    }
    return Estimate(agents, parts)


def available() -> int:
    """Bytes of memory this machine can give a run now."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(s: Scenario, population: int, days: int, in_memory: bool = False,
               what: str = "a run", where: str = "--population") -> Estimate:
    """Refuse with one line a run that would not fit in the memory available now."""
    est = estimate(s, population, days, in_memory)
    free = available()
    if est.total > free:
        lower = "lower --population or --days"
        if est.parts["ledger"] > est.total / 3:
            lower += " or recording.full_ledger_up_to / recording.cohort"
        raise UserError(
            f"{what} of {population:,} citizens ({est.agents:,} agents) over {days:,} days "
            f"needs about {_gib(est.total)} of memory ({est.describe()}), more than the "
            f"{_gib(free)} available; {lower}", where)
    return est
