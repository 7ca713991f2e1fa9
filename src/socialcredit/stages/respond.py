"""Respond: people adapt to the system.

Deterrence: for each act and region people judge how likely the act is to be seen from what
happened over about the last `memory_days`: the ratio of exponential averages (weight
1/memory_days) of the acts recorded and the acts committed. A ratio of averages does not
depend on the population size, and a day without such acts teaches nothing new. A bad act's
rate falls by strength x perceived risk x severity, severity being the penalty over
`reference_points`, capped at one.
"""

from __future__ import annotations

import numpy as np

from ..engine.plan import Plan
from ..engine.state import State


def respond(plan: Plan, state: State, committed: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Update perceived risk from today's (act, region) counts; return tomorrow's multipliers."""
    if not plan.deter_on:
        return np.ones_like(state.deter_done)
    a = plan.deter_alpha
    state.deter_seen += a * (observed - state.deter_seen)
    state.deter_done += a * (committed - state.deter_done)
    return multipliers(plan, state)


def multipliers(plan: Plan, state: State) -> np.ndarray:
    """Rate multipliers per (act, region) from the perceived risk now."""
    if not plan.deter_on:
        return np.ones_like(state.deter_done)
    done = state.deter_done
    risk = np.divide(state.deter_seen, done, out=np.zeros_like(done), where=done > 0)
    return 1.0 - plan.deter_strength * risk * plan.deter_severity[:, None]
