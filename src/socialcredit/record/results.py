"""Results of a run as DataFrames, built from a finished Simulation or read from its folder."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit, prange

from ..engine.loop import Simulation
from ..engine.plan import PSEUDO, M
from ..engine.state import AGE, EVER_LISTED, EXIT_NAMES, TRACKED, is_scored
from ..errors import UserError
from ..scenario.schema import AGE_GROUPS
from ..society.traits import trait
from ..stages.lists import CORRECTED, RESTORED
from .groups import (
    census_group_rows,
    group_table,
    region_columns,
    region_rows,
    region_sums,
    snapshot_frame,
    split_snapshot,
)

TABLES = ("run", "daily", "ledger", "listings", "acts", "score_hist", "grades", "groups",
          "groups_over_time")


def scale_text(scale: float) -> str:
    """The real people a simulated citizen stands for, as a reader wants it: 14,098, 1,000
    (for 999.858), 14, 0.5."""
    return f"{scale:,.0f}" if scale >= 100 else f"{scale:.3g}"


@dataclass
class Results:
    """The tables of one run. `citizens` (final per-citizen state) is read on demand."""

    run: pd.DataFrame
    daily: pd.DataFrame
    ledger: pd.DataFrame
    listings: pd.DataFrame
    acts: pd.DataFrame
    score_hist: pd.DataFrame
    grades: pd.DataFrame
    groups: pd.DataFrame
    groups_over_time: pd.DataFrame
    path: Path | None = None
    _citizens: pd.DataFrame | None = None
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    """More tables stored beside the run's own, e.g. `calibration` in a calibration's
    confirmation run."""
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Each region of citizens at every snapshot and at the end (empty in stores written
    before the table existed)."""

    def __post_init__(self) -> None:
        if "regions" in self.extras:  # read back from a store, beside the required tables
            self.extras = dict(self.extras)
            self.regions = self.extras.pop("regions")

    @property
    def citizens(self) -> pd.DataFrame:
        """Final state of every citizen (from citizens.parquet/ when read from a folder)."""
        if self._citizens is None:
            if self.path is None:
                raise UserError("this run kept no citizens table (run without --no-citizens)")
            import pyarrow as pa

            from .store import citizen_files, one_line

            files = citizen_files(self.path, self.agents)
            try:
                self._citizens = pd.read_parquet(files)
            except (pa.ArrowException, OSError, ValueError) as e:  # a damaged data page
                raise UserError(f"cannot be read ({one_line(e)}); the folder was not written "
                                "by this version of socialcredit or is damaged",
                                str(self.path / "citizens.parquet")) from None
        return self._citizens

    @property
    def agents(self) -> int:
        """Citizens and firms: the rows of the citizens table."""
        i = self.info
        firms = i.get("firms", 0)
        return int(i["population"]) + (0 if pd.isna(firms) else int(firms))

    @property
    def info(self) -> dict:
        """The single row of the `run` table as a dict."""
        if len(self.run) != 1:
            raise UserError(f"the run table holds {len(self.run)} rows where one belongs",
                            str(self.path or "results"))
        return self.run.iloc[0].to_dict()

    def tables(self) -> dict[str, pd.DataFrame]:
        own = {name: getattr(self, name) for name in TABLES}
        if len(self.regions.columns):
            own["regions"] = self.regions
        return own | self.extras

    def __repr__(self) -> str:
        i = self.info
        last = self.daily.iloc[-1] if len(self.daily) else {}
        listed = f" listed={int(last['listed']):,}" if "listed" in last else ""
        return (f"<Results {i['scenario']} population={int(i['population']):,} "
                f"days={i['days']} seed={i['seed']} scale={scale_text(float(i['scale']))}{listed} "
                f"path={self.path}>")

    def _repr_html_(self) -> str:
        """A notebook's view: what ran and its headline figures."""
        from html import escape

        i = self.info
        d = self.daily
        rows = [("scenario", f"{i['scenario']}: {i.get('title', '')}"),
                ("citizens", f"{int(i['population']):,} (each stands for "
                             f"{scale_text(float(i['scale']))} people)"),
                ("days", f"{i['days']} from {str(i['start_date'])[:10]}, seed {i['seed']}")]
        if len(d):
            for col, label in (("listed", "on a blacklist on the last day"),
                               ("listed_cumulative", "ever listed"),
                               ("wrongful_penalties", "wrongful penalties (total)"),
                               ("wrongful_listings", "wrongful listings (total)")):
                if col in d:
                    v = d[col].iloc[-1] if col.startswith("listed") else d[col].sum()
                    rows.append((label, f"{int(v):,}"))
        rows.append(("folder", str(self.path) if self.path else "in memory"))
        rows.append(("tables", ", ".join(self.tables())))
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th>"
                       f"<td style='text-align:left'>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"

    def report(self, path: str | Path) -> Path:
        """Write the HTML report of these results to `path` (a new file)."""
        from ..report import write_report
        from .folder import guard_new_file

        return write_report(self, guard_new_file(Path(path), "path"))

    def plot(self, name: str | None = None):
        """The report's charts as matplotlib figures: one by name, or all as a dict."""
        from ..report import html, plots

        with plots.capture() as figures:
            html.render(self)
        if name is None:
            return dict(figures)
        if name not in figures:
            raise UserError(f"no chart {name!r} in this run's report; valid: "
                            + ", ".join(figures), "plot")
        return figures[name]


def from_simulation(sim: Simulation, text: str, where: str, wall: float, threads: int,
                    version: str) -> Results:
    """Assemble the tables of a finished (or interrupted) simulation."""
    plan, state = sim.plan, sim.state
    s = sim.scenario
    seconds = {f"seconds_{k}": v for k, v in sim.seconds.items()}
    run = pd.DataFrame([{
        "scenario": s.scenario.name, "title": s.scenario.title, "source": where,
        "scenario_text": text, "seed": plan.seed, "population": plan.citizens,
        "firms": plan.firms,
        "days": state.day, "scale": plan.scale, "start_date": s.scenario.start,
        "end_date": sim.date(state.day - 1) if state.day else s.scenario.start,
        "version": version, "threads": threads, "wall_seconds": wall,
        "hot_bytes_per_citizen": state.hot_bytes_per_citizen(),
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "grades": json.dumps(plan.grade_names), "lists": json.dumps(plan.list_names),
        "gates": json.dumps(plan.gate_names), **seconds,
    }])
    daily = daily_table(sim)
    sums = region_sums(plan, state)  # one pass at the end: groups and the regions' last row
    over_time, regions = _snapshots(sim, sums)
    return Results(run=run, daily=daily, ledger=_ledger(sim), listings=_listings(sim),
                   acts=_acts(sim), score_hist=_hists(sim),
                   groups=group_table(plan, state, sums), groups_over_time=over_time,
                   regions=regions,
                   grades=pd.DataFrame({"grade": [g.name for g in s.grades],
                                        "min": [g.min for g in s.grades],
                                        "max": [g.max for g in s.grades]}))


def daily_table(sim: Simulation) -> pd.DataFrame:
    """The `daily` table of a simulation: one row per day run."""
    daily = pd.DataFrame(sim.daily)
    if len(daily):
        daily["date"] = pd.to_datetime(daily["date"])
    return daily


def _ledger(sim: Simulation) -> pd.DataFrame:
    plan = sim.plan
    cols = ("day", "citizen", "act", "channel", "points", "score_after", "wrongful")
    if sim.ledger:
        parts = [np.concatenate([chunk[i] for chunk in sim.ledger]) for i in range(7)]
    else:
        parts = [np.empty(0, dtype=t) for t in (np.int32, np.int64, np.int16, np.int8, np.int32,
                                                  np.int32, np.bool_)]
    raw = dict(zip(cols, parts, strict=True))
    n_acts = len(plan.act_names)
    n_rules = n_acts + len(PSEUDO)
    act_names = np.array(plan.act_names + list(PSEUDO) + ["appeal_correction",
                                                          "points_restored"], dtype=object)
    ch_names = np.array(plan.channel_names + [""], dtype=object)
    act_idx = np.select([raw["act"] == CORRECTED, raw["act"] == RESTORED],
                        [n_rules, n_rules + 1], raw["act"])
    start = pd.Timestamp(sim.scenario.scenario.start)
    score_after = raw["score_after"].astype(np.int64)
    df = pd.DataFrame({
        "day": raw["day"].astype(np.int32),
        "date": start + pd.to_timedelta(raw["day"], unit="D"),
        "citizen": raw["citizen"],
        "act": act_names[act_idx],
        "channel": ch_names[np.where(raw["channel"] < 0, len(plan.channel_names),
                                     raw["channel"])],
        "rule": np.where(act_idx < n_rules, act_names[act_idx],
                         np.where(act_idx == n_rules, "appeal", "compliance")),
        "points": raw["points"].astype(np.int32),
        "score_after": score_after.astype(np.int32),
        "grade_after": np.array(plan.grade_names, dtype=object)[
            plan.grade_of[score_after - plan.pmin]] if len(score_after) else
        np.empty(0, dtype=object),
        "wrongful": raw["wrongful"],
    })
    return df.sort_values(["day", "citizen"], kind="stable").reset_index(drop=True)


def _listings(sim: Simulation) -> pd.DataFrame:
    plan, state = sim.plan, sim.state
    n = state.n_log
    active = np.zeros(n, dtype=np.bool_)
    active[state.active[: state.n_active]] = True
    since = state.log_since[:n].astype(np.int64)
    until = state.log_until[:n].astype(np.int64)
    start = pd.Timestamp(sim.scenario.scenario.start)
    exit_names = np.array([EXIT_NAMES[i] for i in sorted(EXIT_NAMES)], dtype=object)
    ended = ~active
    return pd.DataFrame({
        "citizen": state.log_id[:n],
        "list": np.array(plan.list_names, dtype=object)[state.log_list[:n]]
        if n else np.empty(0, dtype=object),
        "listed_day": since.astype(np.int32),
        "listed_on": start + pd.to_timedelta(since, unit="D"),
        "left_day": np.where(ended, until, -1).astype(np.int32),
        "left_on": (start + pd.to_timedelta(until, unit="D")).where(ended, pd.NaT),
        "exit": np.where(ended, exit_names[state.log_exit[:n]], "in force"),
        "days_listed": np.where(ended, until, state.day) - since,
        "wrongful": state.log_wrongful[:n],
        "extensions": state.log_extended[:n].astype(np.int16),
    })


def _acts(sim: Simulation) -> pd.DataFrame:
    s = sim.scenario
    rules = {r.act: r.points for r in s.rules}
    return pd.DataFrame({
        "act": [a.name for a in s.acts],
        "area": [a.area for a in s.acts],
        "valence": [a.valence for a in s.acts],
        "points_per_act": [rules.get(a.name, 0) for a in s.acts],
        "committed": sim.act_committed,
        "observed": sim.act_observed,
        "scored": sim.act_scored,
        "points": sim.act_points,
        "wrongful_penalties": sim.act_wrongful,
    })


def _hists(sim: Simulation) -> pd.DataFrame:
    plan = sim.plan
    values = np.arange(plan.pmin, plan.pmax + 1)
    frames = []
    for when, h in (("start", sim.start_hist), ("end", sim.state.hist)):
        nz = np.nonzero(h)[0]
        frames.append(pd.DataFrame({"when": when, "score": values[nz].astype(np.int32),
                                    "count": h[nz]}))
    return pd.concat(frames, ignore_index=True)


CITIZEN_ROWS = 1 << 24
"""Citizens per batch when the final state is turned into a table (bounds the memory used)."""
PART_ROWS = 1 << 26
"""Citizens per part file of citizens.parquet."""


def _snapshots(sim: Simulation, sums: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tables groups_over_time and regions: every snapshot, and the end."""
    plan = sim.plan
    snaps = list(sim.group_rows)
    last = sim.date(sim.state.day - 1) if sim.state.day else sim.scenario.scenario.start
    if not snaps or not snaps[-1] or snaps[-1][0]["date"] != pd.Timestamp(last):
        snaps.append(census_group_rows(plan, sim.state, last)
                     + [{**row, "age_group": ""} for row in region_rows(plan, sums, last)])
    groups, regions = split_snapshot(snapshot_frame(snaps), plan)
    if not len(regions):
        regions = pd.DataFrame(columns=region_columns(plan))
    return groups.reset_index(drop=True), regions.reset_index(drop=True)


def citizen_parts(sim: Simulation) -> list:
    """One callable per part of the citizens table, each yielding that part's batches."""
    n = sim.plan.population
    return [lambda lo=lo: citizen_batches(sim, lo=lo, hi=min(n, lo + PART_ROWS))
            for lo in range(0, n, PART_ROWS)]


@njit(parallel=True, cache=True)
def _citizen_columns(people, lo, region_start, region_of_block, region_firm, society_key,
                     age_probs, grade_of, pmin, scored_mask, region, age, grade, scored, head,
                     ever, tracked):
    """Decode packed records lo..lo+len(region) into plain columns, in parallel."""
    n = len(region)
    nb = (n + 65535) // 65536
    for blk in prange(nb):
        r = region_of_block[blk]
        for j in range(blk * 65536, min(n, (blk + 1) * 65536)):
            i = lo + j
            while r + 1 < len(region_start) and region_start[r + 1] <= i:
                r += 1
            p = people[i]
            f = p.flags
            g = f & AGE
            region[j] = r
            age[j] = g
            grade[j] = grade_of[p.score - pmin]
            scored[j] = is_scored(f, scored_mask)
            head[j] = not region_firm[r] and trait(society_key[r], i - region_start[r],
                                                   age_probs)[1]
            ever[j] = (f & EVER_LISTED) != 0
            tracked[j] = (f & TRACKED) != 0


def citizen_batches(sim: Simulation, rows: int = CITIZEN_ROWS, lo: int = 0,
                    hi: int | None = None):
    """Final state of citizens lo..hi as Arrow record batches (dictionary-encoded names)."""
    import pyarrow as pa

    plan, state = sim.plan, sim.state
    n = plan.population if hi is None else hi
    regions = pa.array(plan.region_names)
    ages = pa.array(list(AGE_GROUPS))
    grades = pa.array(plan.grade_names)
    for a in range(lo, n, rows):
        b = min(n, a + rows)
        m = b - a
        region = np.empty(m, dtype=np.int16)
        age, grade = (np.empty(m, dtype=np.int8) for _ in range(2))
        scored, head, ever, tracked = (np.empty(m, dtype=np.bool_) for _ in range(4))
        first = a + np.arange(0, m, 65536)
        region_of_block = np.searchsorted(plan.region_start, first, side="right") - 1
        _citizen_columns(state.people, a, plan.region_start, region_of_block,
                         plan.region_firm, plan.society_key, plan.age_probs, plan.grade_of,
                         plan.pmin, plan.scored_mask, region, age, grade, scored, head, ever,
                         tracked)
        rec = state.people[a:b]
        cols = {
            "citizen": pa.array(np.arange(a, b, dtype=np.int64)),
            "region": pa.DictionaryArray.from_arrays(region, regions),
            "age_group": pa.DictionaryArray.from_arrays(age, ages),
            "household_start": pa.array(head),
            "scored": pa.array(scored),
            "score": pa.array(rec["score"]),
            "grade": pa.DictionaryArray.from_arrays(pa.array(grade, mask=~scored), grades),
            "wrongful_points": pa.array(rec["wrong"]),
            "ever_listed": pa.array(ever),
            "tracked": pa.array(tracked),
        }
        for i, name in enumerate(plan.list_names):
            cols[f"on_{name}"] = pa.array((rec["lists"] >> i) & 1 == 1)
        if plan.mech[M["att_on"]]:  # approves of the system (empty for who holds no view)
            ids = np.arange(a, b, dtype=np.int64)
            mine = ids < plan.citizens
            bits = np.zeros(m, dtype=np.bool_)
            bits[mine] = (state.approve[ids[mine] >> 3] >> (ids[mine] & 7)) & 1 == 1
            holds = mine & ((plan.att_age_mask >> age.astype(np.int64)) & 1 == 1)
            cols["approves"] = pa.array(bits, mask=~holds)
        yield pa.record_batch(cols)


def citizens_frame(sim: Simulation) -> pd.DataFrame:
    """Final state of every citizen as one DataFrame (for in-memory results)."""
    import pyarrow as pa

    return pa.Table.from_batches(list(citizen_batches(sim))).to_pandas()
