"""Respond: people adapt to the system.

Deterrence: for each act and region people judge how likely the act is to be seen from what
happened over about the last `memory_days`: the ratio of exponential averages (weight
1/memory_days) of the acts recorded and the acts committed. A ratio of averages does not
depend on the population size, and a day without such acts teaches nothing new. A bad act's
rate falls by strength x perceived risk x severity, severity being the penalty over
`reference_points`, capped at one.

Chilling: people judge, in the same way, how often speech is put on record in their region
(all expression acts together, with their own memory), and every expression act's rate falls
by strength x that share, punished or not: people stop speaking, not only stop offending.
"""

from __future__ import annotations

import numpy as np

from ..engine.plan import M, Plan
from ..engine.state import State


def _chill_on(plan: Plan) -> bool:
    return bool(plan.mech[M["chill_on"]]) and bool(plan.act_expression.any())


def respond(plan: Plan, state: State, committed: np.ndarray, observed: np.ndarray) -> None:
    """Update perceived risk from today's (act, region) counts."""
    if plan.deter_on:
        a = plan.deter_alpha
        state.deter_seen += a * (observed - state.deter_seen)
        state.deter_done += a * (committed - state.deter_done)
    if _chill_on(plan):
        a = plan.mech[M["chill_alpha"]]
        speech = plan.act_expression
        state.chill[0] += a * (observed[speech].sum(axis=0) - state.chill[0])
        state.chill[1] += a * (committed[speech].sum(axis=0) - state.chill[1])


def multipliers(plan: Plan, state: State) -> np.ndarray:
    """Rate multipliers per (act, region) from the perceived risk now."""
    mult = np.ones_like(state.deter_done)
    if plan.deter_on:
        done = state.deter_done
        risk = np.divide(state.deter_seen, done, out=np.zeros_like(done), where=done > 0)
        mult *= 1.0 - plan.deter_strength * risk * plan.deter_severity[:, None]
    if _chill_on(plan):
        seen, done = state.chill
        risk = np.divide(seen, done, out=np.zeros_like(done), where=done > 0)
        mult[plan.act_expression] *= 1.0 - plan.mech[M["chill_strength"]] * risk
    return mult
