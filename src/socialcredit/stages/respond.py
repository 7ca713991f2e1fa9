"""Respond: people adapt to the system.

Deterrence: for each act and region people judge how likely the act is to be seen, from what
they saw happen over the last `memory_days` (an exponential average of the share of acts
recorded). A bad act's rate falls by strength x perceived risk x severity, severity being the
penalty over `reference_points`, capped at one.
"""

from __future__ import annotations

import numpy as np

from ..engine.plan import Plan
from ..engine.state import State


def respond(plan: Plan, state: State, committed: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Update perceived risk from today's (act, region) counts; return tomorrow's multipliers."""
    if not plan.deter_on:
        return np.ones_like(state.deter_risk)
    seen = committed > 0
    share = np.where(seen, observed / np.maximum(committed, 1), 0.0)
    risk = state.deter_risk
    risk[seen] += plan.deter_alpha * (share[seen] - risk[seen])
    return multipliers(plan, state)


def multipliers(plan: Plan, state: State) -> np.ndarray:
    """Rate multipliers per (act, region) from the perceived risk now."""
    if not plan.deter_on:
        return np.ones_like(state.deter_risk)
    return 1.0 - plan.deter_strength * state.deter_risk * plan.deter_severity[:, None]
