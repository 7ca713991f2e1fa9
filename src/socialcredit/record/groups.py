"""Who is hit: the state of citizens by region type and age group, and by region.

One parallel pass over the citizens gives, per region and age group, how many are scored, their
score total, how many are in each grade, listed, ever listed and wronged: the `groups` table
(summed over regions of a type) and the `regions` table at the end of a run. Snapshots every
`recording.groups_every_days` read the census for `groups_over_time`, which costs nothing per
citizen, and make the same pass for the `regions` table's rows of that date.

A snapshot is one list of rows of both kinds (group rows have `region` "", region rows have
`age_group` ""), so a run's checkpoint keeps them in one list; the rows of every snapshot
become one frame at the end (`snapshot_frame`), which `split_snapshot` parts. Rows, not a
frame per snapshot: building a pandas frame costs more than the snapshot itself.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numba import njit, prange

from ..engine.plan import M, Plan
from ..engine.state import AGE, EVER_LISTED, RURAL, State, is_scored
from ..scenario.schema import AGE_GROUPS

GROUP_STATS = ("citizens", "scored", "score_sum", "listed", "ever_listed", "wronged",
               "wrongful_points")
BLOCK = 1 << 20
"""Citizens per block of the pass; a block never spans two regions."""
FIRM = AGE_GROUPS.index("firm")


@njit(parallel=True, cache=True)
def _block_sums(people, block_lo, block_hi, black_mask, scored_mask, grade_of, pmin,
                n_grades, start):
    """Per block and age group: the GROUP_STATS sums and scored citizens per grade.

    Most citizens are as they started (starting score, on no list, never wronged): they are
    only counted, per age group and whether scored, and added up after the block."""
    nb = len(block_lo)
    part = np.zeros((nb, 4, len(GROUP_STATS) + n_grades), dtype=np.int64)
    first = len(GROUP_STATS) + grade_of[start - pmin]
    for b in prange(nb):
        plain = np.zeros(8, dtype=np.int64)  # [age * 2 + scored]
        for i in range(block_lo[b], block_hi[b]):
            p = people[i]
            if p.score == start and p.lists == 0 and p.wrong == 0 and not (
                    p.flags & EVER_LISTED):
                plain[2 * (p.flags & AGE) + is_scored(p.flags, scored_mask)] += 1
                continue
            row = part[b, p.flags & AGE]
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
        for age in range(4):
            row = part[b, age]
            row[0] += plain[2 * age] + plain[2 * age + 1]
            row[1] += plain[2 * age + 1]
            row[2] += plain[2 * age + 1] * start
            row[first] += plain[2 * age + 1]
    return part


def region_sums(plan: Plan, state: State) -> np.ndarray:
    """[region, age group, GROUP_STATS then grades]: the state now, one pass in parallel."""
    lo, hi, of = [], [], []
    for r, (start, size) in enumerate(zip(plan.region_start, plan.region_size, strict=True)):
        for a in range(int(start), int(start + size), BLOCK):
            lo.append(a)
            hi.append(min(a + BLOCK, int(start + size)))
            of.append(r)
    n_grades = len(plan.grade_names)
    out = np.zeros((len(plan.region_names), 4, len(GROUP_STATS) + n_grades), dtype=np.int64)
    if lo:
        part = _block_sums(state.people, np.array(lo, dtype=np.int64),
                           np.array(hi, dtype=np.int64), plan.black_mask, plan.scored_mask,
                           plan.grade_of, plan.pmin, n_grades, np.int64(plan.start_points))
        np.add.at(out, np.array(of, dtype=np.int64), part)
    return out


def group_table(plan: Plan, state: State, sums: np.ndarray | None = None) -> pd.DataFrame:
    """The state now by region type and age group: who is graded low, listed, wronged."""
    sums = region_sums(plan, state) if sums is None else sums
    rows = []
    for kind, t in (("urban", 0), ("rural", 1)):
        table = sums[plan.region_type == t].sum(axis=0)
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


def region_columns(plan: Plan) -> list[str]:
    """The columns of the `regions` table, in order."""
    return ["date", "region", "region_type", "citizens", "scored", "mean_score",
            *(f"grade_{g}" for g in plan.grade_names), "listed", "listed_share", "ever_listed",
            "wronged", "wronged_share", "wrongful_points", "firms", "firms_listed"]


def region_table(plan: Plan, sums: np.ndarray, date: dt.date) -> pd.DataFrame:
    """One row per region of citizens (its firms folded in as `firms`, `firms_listed`):
    citizens, scored, mean score, per grade, listed, ever listed, wronged."""
    return pd.DataFrame(region_rows(plan, sums, date), columns=region_columns(plan))


def region_rows(plan: Plan, sums: np.ndarray, date: dt.date) -> list[dict]:
    """The rows of `region_table`."""
    s = {k: i for i, k in enumerate(GROUP_STATS)}
    rows = []
    for r, name in enumerate(plan.region_names):
        if plan.region_firm[r]:
            continue
        people = sums[r].copy()
        people[FIRM] = 0
        v = people.sum(axis=0)
        firms = sums[plan.region_firm & (plan.region_home == r), FIRM].sum(axis=0)
        n = int(v[s["citizens"]])
        row = {"date": pd.Timestamp(date), "region": name,
               "region_type": "urban" if plan.region_type[r] == 0 else "rural",
               "citizens": n, "scored": int(v[s["scored"]]),
               "mean_score": v[s["score_sum"]] / v[s["scored"]] if v[s["scored"]]
               else float("nan")}
        for g, grade in enumerate(plan.grade_names):
            row[f"grade_{grade}"] = int(v[len(GROUP_STATS) + g])
        row["listed"] = int(v[s["listed"]])
        row["listed_share"] = v[s["listed"]] / n if n else 0.0
        row["ever_listed"] = int(v[s["ever_listed"]])
        row["wronged"] = int(v[s["wronged"]])
        row["wronged_share"] = v[s["wronged"]] / n if n else 0.0
        row["wrongful_points"] = int(v[s["wrongful_points"]])
        row["firms"] = int(firms[s["citizens"]])
        row["firms_listed"] = int(firms[s["listed"]])
        rows.append(row)
    return rows


def snapshot(plan: Plan, state: State, date: dt.date) -> list[dict]:
    """A snapshot's rows: groups now, read from the census, and every region, from one pass
    over the citizens."""
    regions = [{**row, "age_group": ""} for row in
               region_rows(plan, region_sums(plan, state), date)]
    return census_group_rows(plan, state, date) + regions


def snapshot_frame(snapshots: list[list[dict]]) -> pd.DataFrame:
    """The rows of every snapshot as one frame, for `split_snapshot`."""
    return pd.DataFrame([row for snap in snapshots for row in snap])


def census_groups(plan: Plan, state: State, date: dt.date) -> pd.DataFrame:
    """Groups now, read from the census (no pass over the citizens): citizens, scored, on a
    black list, and scored citizens per grade, by region type and age group."""
    return pd.DataFrame(census_group_rows(plan, state, date))


def census_group_rows(plan: Plan, state: State, date: dt.date) -> list[dict]:
    """The rows of `census_groups`."""
    census = state.census  # [lists mask, group, grade slot]
    views = bool(plan.mech[M["att_on"]])
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
                   "region": "", "citizens": citizens, "scored": int(per_grade.sum()),
                   "listed": listed}
            for g, name in enumerate(plan.grade_names):
                row[f"grade_{name}"] = int(per_grade[g])
            row["listed_share"] = listed / citizens
            if views:  # share who approve, of those in the group who hold a view
                holds = (plan.att_age_mask >> a) & 1
                row["approval"] = (int(state.approve_n[a | rural]) / citizens if holds
                                   else float("nan"))
            rows.append(row)
    return rows


def split_snapshot(frame: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshot rows for `groups_over_time` and for `regions` (none in a snapshot taken by a
    version that made none)."""
    group_cols = ["date", "region_type", "age_group", "citizens", "scored", "listed",
                  *(f"grade_{g}" for g in plan.grade_names), "listed_share"]
    if "approval" in frame.columns:
        group_cols.append("approval")
    if "region" not in frame.columns:
        return frame[[c for c in group_cols if c in frame.columns]], pd.DataFrame()
    mine = frame["region"] == ""
    groups = frame.loc[mine, group_cols]
    groups = groups.astype(_int_types(groups))
    if mine.all():
        return groups, pd.DataFrame()
    regions = frame.loc[~mine, region_columns(plan)]
    return groups, regions.astype(_int_types(regions))


def _int_types(frame: pd.DataFrame) -> dict[str, str]:
    """Count columns back to whole numbers (a frame of both kinds of row may widen them)."""
    return {c: "int64" for c in frame.columns
            if c not in ("date", "region", "region_type", "age_group") and not
            c.endswith(("_share", "mean_score", "approval"))}
