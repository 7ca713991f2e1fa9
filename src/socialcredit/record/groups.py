"""Who is hit: the state of citizens by region type and age group (disparate impact).

One parallel pass over the citizens gives, per region and age group, how many are scored, their
score total, how many are in each grade, listed, ever listed and wronged: the `groups` table at
the end of a run. Snapshots every `recording.groups_every_days` (`groups_over_time`) read the
census instead, which costs nothing per citizen: citizens, scored, per grade, listed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.state import AGE, EVER_LISTED, RURAL, State, is_scored
from ..scenario.schema import AGE_GROUPS

GROUP_STATS = ("citizens", "scored", "score_sum", "listed", "ever_listed", "wronged",
               "wrongful_points")


@njit(parallel=True, cache=True)
def _group_sums(people, start, n, black_mask, scored_mask, grade_of, pmin, n_grades):
    """Per age group: the GROUP_STATS sums and scored citizens per grade, for one region."""
    nb = (n + (1 << 20) - 1) >> 20
    part = np.zeros((nb, 4, len(GROUP_STATS) + n_grades), dtype=np.int64)
    for b in prange(nb):
        for i in range(start + (b << 20), start + min(n, (b + 1) << 20)):
            p = people[i]
            age = p.flags & AGE
            row = part[b, age]
            row[0] += 1
            if is_scored(p.flags, scored_mask):
                row[1] += 1
                row[2] += p.score
                row[len(GROUP_STATS) + grade_of[p.score - pmin]] += 1
            if p.lists & black_mask:
                row[3] += 1
            if p.flags & EVER_LISTED:
                row[4] += 1
            if p.wrong > 0:
                row[5] += 1
                row[6] += p.wrong
    return part.sum(axis=0)


def group_table(plan: Plan, state: State) -> pd.DataFrame:
    """The state now by region type and age group: who is graded low, listed, wronged."""
    n_grades = len(plan.grade_names)
    sums = {t: np.zeros((4, len(GROUP_STATS) + n_grades), dtype=np.int64)
            for t in ("urban", "rural")}
    for r in range(len(plan.region_names)):
        kind = "urban" if plan.region_type[r] == 0 else "rural"
        sums[kind] += _group_sums(state.people, int(plan.region_start[r]),
                                  int(plan.region_size[r]), plan.black_mask, plan.scored_mask,
                                  plan.grade_of, plan.pmin, n_grades)
    rows = []
    for kind, table in sums.items():
        for a, age in enumerate(AGE_GROUPS):
            v = table[a]
            if v[0] == 0:
                continue
            row = {"region_type": kind, "age_group": age}
            row.update({k: int(x) for k, x in zip(GROUP_STATS, v, strict=False)})
            row["mean_score"] = v[2] / v[1] if v[1] else float("nan")
            for g, name in enumerate(plan.grade_names):
                row[f"grade_{name}"] = int(v[len(GROUP_STATS) + g])
            row["listed_share"] = v[3] / v[0]
            row["wronged_share"] = v[5] / v[0]
            rows.append(row)
    return pd.DataFrame(rows).drop(columns=["score_sum"])



CENSUS_STATS = ("citizens", "scored", "listed")


def census_group_table(plan: Plan, state: State, date: dt.date) -> pd.DataFrame:
    """Groups now, read from the census (no pass over the citizens): citizens, scored, on a
    black list, and scored citizens per grade, by region type and age group."""
    census = state.census  # [lists mask, group, grade slot]
    masks = np.arange(census.shape[0])
    black = (masks & plan.black_mask) != 0
    rows = []
    for kind, rural in (("urban", 0), ("rural", RURAL)):
        for a, age in enumerate(AGE_GROUPS):
            cells = census[:, a | rural, :]
            citizens = int(cells.sum())
            if citizens == 0:
                continue
            per_grade = cells[:, :-1].sum(axis=0)
            listed = int(cells[black].sum())
            row = {"date": pd.Timestamp(date), "region_type": kind, "age_group": age,
                   "citizens": citizens, "scored": int(per_grade.sum()), "listed": listed}
            for g, name in enumerate(plan.grade_names):
                row[f"grade_{name}"] = int(per_grade[g])
            row["listed_share"] = listed / citizens
            rows.append(row)
    return pd.DataFrame(rows)
