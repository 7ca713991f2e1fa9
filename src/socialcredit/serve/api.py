"""The JSON API under /api, the only way the pages reach runs and scenarios.

Requests are strict pydantic models (extra fields refused; `false` is not 0, "5" is not 5);
a bad request gets a 4xx with {"error": "one line"}, never a 5xx. A run or compare asked for
is checked here, in the server, against the scenario schema and the server's limits, then
queued; the computing happens in the queue's worker processes.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..engine.memory import estimate
from ..engine.run import MAX_DAYS, resolve
from ..errors import UserError
from ..record import store
from ..scenario import builtin_names, load, parse
from .folders import (
    ENSEMBLE_FILES,
    FILES,
    RUN_ID,
    STATE,
    Cache,
    Finished,
    NotFound,
    NotReady,
    file_inside,
    folder_status,
    inside,
    run_folders,
)
from .queue import ACTIVE, FOLDERS, RunQueue
from .settings import Settings


class TooLarge(UserError):
    """A run beyond the server's limits or its memory (a 413)."""


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


ScenarioName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9\-]*$",
                                    description="A built-in scenario (GET /api/scenarios).")]
TomlText = Annotated[str, Field(min_length=1, max_length=1_000_000,
                                description="A scenario's TOML text, as a file holds it.")]
SetText = Annotated[str, Field(min_length=3, max_length=4000, pattern=r"^[^=\s][^=]*=.*$",
                               description="PATH=VALUE, as `socialcredit run --set`.")]
Population = Annotated[int, Field(ge=1, le=2_000_000_000, description="Simulated citizens.")]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]
Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
MAX_REPLICATES = 100
SEED_MAX = 2**63 - 1


class CheckRequest(Strict):
    toml: TomlText


class RunRequest(Strict):
    """One run: a built-in `scenario` or pasted `toml`, changed by `sets`; with
    `replicates` above 1, an ensemble of that many runs, seeds `seed`, `seed` + 1, ..."""

    scenario: ScenarioName | None = None
    toml: TomlText | None = None
    sets: list[SetText] = Field(default_factory=list, max_length=64)
    population: Population | None = None
    days: Days | None = None
    until: Date | None = None
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 0
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES, description="Runs of the "
                                     "design, one seed each; above 1, an ensemble")] = 1

    @model_validator(mode="after")
    def _one_scenario(self) -> RunRequest:
        if (self.scenario is None) == (self.toml is None):
            raise ValueError("give scenario (a built-in name) or toml (a scenario's text), "
                             "one of them")
        if self.days is not None and self.until is not None:
            raise ValueError("give days or until, not both")
        if self.seed > SEED_MAX - self.replicates + 1:
            raise ValueError(f"{self.replicates} replicates from seed {self.seed} run "
                             f"past the largest seed; give a seed of at most "
                             f"{SEED_MAX - self.replicates + 1}")
        return self


class CompareRequest(Strict):
    """Two designs on the same seeds. A is a built-in `scenario` or pasted `toml`; B is A, or
    a second built-in `other` or pasted `other_toml`, changed by `sets`."""

    scenario: ScenarioName | None = None
    toml: TomlText | None = None
    other: ScenarioName | None = None
    other_toml: TomlText | None = None
    sets: list[SetText] = Field(default_factory=list, max_length=64)
    seeds: Annotated[int, Field(ge=2, le=50)] = 3
    population: Population | None = None
    days: Days | None = None

    @model_validator(mode="after")
    def _two_designs(self) -> CompareRequest:
        if (self.scenario is None) == (self.toml is None):
            raise ValueError("give scenario (a built-in name) or toml (a scenario's text) for "
                             "A, one of them")
        if self.other is not None and self.other_toml is not None:
            raise ValueError("give other (a built-in name) or other_toml (a scenario's text) "
                             "for B, not both")
        if self.other is None and self.other_toml is None and not self.sets:
            raise ValueError("nothing to compare: give B as other, other_toml or sets "
                             "(changes to A)")
        return self


RunId = Annotated[str, PathParam(pattern=RUN_ID, max_length=120,
                                 description="A run's folder name in the data folder.")]


async def _existing(request: Request, run_id: RunId) -> str:
    """A run or ensemble the queue knows or a folder of one in the data folder; 404
    otherwise."""
    job = request.app.state.queue.snapshot(run_id)
    if job is None or job["kind"] not in FOLDERS:
        inside(request.app.state.settings.data, run_id)
    return run_id


Existing = Annotated[str, Depends(_existing)]


def _line(e: BaseException) -> str:
    return " ".join(str(e).split())


def _scenario(name: str):
    if name not in builtin_names():
        raise NotFound(f"no built-in scenario {name!r}; valid: {', '.join(builtin_names())}",
                       "scenario")
    return load(name)


def _leaves(node: Any, path: str, source: str, out: list) -> None:
    """Every number and switch of a scenario dump with its --set path and the source of the
    entry that holds it."""
    if isinstance(node, dict):
        here = node.get("source", source) if isinstance(node.get("source"), str) else source
        for k, v in node.items():
            if k not in ("source", "assumed", "sources", "name"):
                _leaves(v, f"{path}.{k}" if path else k, here, out)
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        from ..scenario.schema import NAMED

        key = NAMED.get(path.rsplit(".", 1)[-1], "name")
        for x in node:
            if x.get(key) is not None:
                _leaves(x, f"{path}.{x[key]}", source, out)
    elif isinstance(node, bool | int | float):
        out.append((path, node, source))


def changeable(sc) -> list[dict]:
    """The values a form may change, each with its kind, its unit (where the schema says
    one), the source ids of its entry and whether no source gives it (assumed)."""
    from ..sources import assumed_values
    from .units import unit

    assumed = {p for p, _ in assumed_values(sc)}
    found: list = []
    _leaves(sc.model_dump(mode="json", exclude={"calibrate", "scenario", "recording"}), "",
            "", found)
    return [{"path": p, "value": v, "kind": "switch" if isinstance(v, bool) else "number",
             "unit": "" if isinstance(v, bool) else unit(p), "source": s,
             "assumed": p in assumed or s.strip() == "assumed"}
            for p, v, s in found]


def check_limits(settings: Settings, sc, population: int, days: int) -> None:
    """Refuse what this server does not run: beyond its limits or the memory a run may use."""
    if population > settings.max_population:
        raise TooLarge(f"{population:,} citizens is more than this server runs: at most "
                       f"{settings.max_population:,} (--max-population); lower population",
                       "population")
    if days > settings.max_days:
        raise TooLarge(f"{days:,} days is more than this server runs: at most "
                       f"{settings.max_days:,} (--max-days); lower days or until", "days")
    est = estimate(sc, population, days)
    budget = settings.run_memory()
    if est.total > budget:
        raise TooLarge(f"a run of {population:,} citizens over {days:,} days needs about "
                       f"{est.total / 2**30:,.1f} GiB of memory ({est.describe()}), more than "
                       f"the {budget / 2**30:,.1f} GiB a run may use on this server; lower "
                       "population or days", "population")


def build_router(settings: Settings, queue: RunQueue) -> APIRouter:
    """The API's routes over one data folder and queue."""
    api = APIRouter(prefix="/api")
    cache = Cache()
    data = settings.data

    def status(run_id: str) -> dict:
        """A run's status: the queue's record, else what its folder holds."""
        job = queue.snapshot(run_id)
        if job is not None and job["kind"] in FOLDERS:
            if job["status"] == "done" and not (data / run_id / store.RESULTS).is_file():
                job["status"], job["message"] = "failed", "its results are gone"
            return {**job, "source": "server"}
        path = inside(data, run_id)
        now, day, days = folder_status(path)
        return {"id": run_id, "kind": "run", "status": now, "day": day,
                "days": days, "unit": "day", "phase": "", "message": "", "created": "",
                "started": None, "finished": None, "seq": 0, "request": {}, "source": "folder"}

    def describe(run_id: str) -> dict:
        """A run's status and, once finished, what it ran and its key figures."""
        out = status(run_id)
        if out["status"] == "done":
            fin = cache.get(inside(data, run_id))
            offered = ENSEMBLE_FILES if fin.kind == "ensemble" else FILES
            out.update(kind=fin.kind, info=fin.info, columns=fin.columns,
                       title=fin.info.get("title", ""), scenario=fin.info.get("scenario", ""),
                       files=[n for n in offered
                              if n == "daily.csv" or (data / run_id / n).exists()])
            if fin.kind == "ensemble":
                out["key"] = ensemble_figures(fin)
                out["replicates"] = fin.replicates
            else:
                out["key"] = key_figures(fin)
        return out

    @api.get("/scenarios", summary="The built-in scenarios")
    def scenarios() -> list[dict]:
        out = []
        for name in builtin_names():
            sc, _ = load(name)
            m = sc.scenario
            out.append({"name": name, "title": m.title, "summary": m.summary,
                        "start": m.start.isoformat(), "days": m.days,
                        "population": sc.society.population,
                        "simulate": sc.society.simulate})
        return out

    @api.get("/scenarios/{name}", summary="One built-in scenario: its sources and the values "
             "a run may change")
    def scenario(name: Annotated[str, PathParam(max_length=64)]) -> dict:
        from ..sources import cited, entries

        sc, text = _scenario(name)
        known = entries()
        m = sc.scenario
        return {"name": name, "title": m.title, "summary": m.summary,
                "start": m.start.isoformat(), "days": m.days,
                "population": sc.society.population, "simulate": sc.society.simulate,
                "sources": [{"id": i, "title": known[i].title,
                             "statement": known[i].statement,
                             "published": known[i].published}
                            for i in cited(sc) if i in known],
                "values": changeable(sc), "toml": text}

    @api.post("/check", summary="Validate a scenario's TOML text")
    def check(body: CheckRequest) -> dict:
        sc = parse(body.toml, "toml")
        m = sc.scenario
        return {"ok": True, "name": m.name, "title": m.title, "summary": m.summary,
                "days": m.days, "population": sc.society.population}

    @api.post("/runs", status_code=201, summary="Queue a run")
    def create_run(body: RunRequest) -> dict:
        spec = parse(body.toml, "toml") if body.toml is not None else _scenario(
            body.scenario)[0]
        sc, _, _, population, days = resolve(spec, body.sets, body.population, body.days,
                                             body.until)
        check_limits(settings, sc, population, days)
        if body.replicates > 1:
            job = queue.submit("ensemble", body.model_dump(), f"{sc.scenario.name}-ensemble",
                               body.replicates, unit="replicate")
        else:
            job = queue.submit("run", body.model_dump(), sc.scenario.name, days)
        return status(job.id)

    async def finished(path: Path):
        """A finished run from the cache, read in a worker thread when it is not held (the
        event loop never waits on a store being read)."""
        return cache.peek(path) or await run_in_threadpool(cache.get, path)

    @api.get("/runs", summary="Every run in the data folder: the server's and the CLI's",
             response_class=JSONResponse)
    async def runs():
        seen, out = set(), []
        for job in sorted(queue.all(), key=lambda j: j["created"], reverse=True):
            if job["kind"] in FOLDERS:
                seen.add(job["id"])
                out.append(await brief(job["id"]))
        for path in run_folders(data):
            if path.name not in seen:
                out.append(await brief(path.name))
        return Response(json.dumps(out).encode(), media_type="application/json")

    async def brief(run_id: str) -> dict:
        try:
            s = status(run_id)
        except NotFound:
            return {"id": run_id, "status": "gone"}
        out = {k: s[k] for k in ("id", "kind", "status", "day", "days", "unit", "phase",
                                 "message", "created", "source")}
        req = s.get("request") or {}
        out["scenario"] = req.get("scenario") or ("pasted TOML" if req.get("toml") else "")
        out["title"] = ""
        if s["status"] == "done":
            try:
                fin = await finished(data / run_id)
                info = fin.info
                out.update(kind=fin.kind, scenario=info.get("scenario", ""),
                           title=info.get("title", ""), population=info.get("population"),
                           seed=info.get("seed", info.get("first_seed")),
                           replicates=info.get("seeds", 1), unit="day")
                out["days"] = out["day"] = info.get("days")
            except UserError as e:
                out.update(status="damaged", message=_line(e))
        return out

    @api.get("/runs/{run_id}", summary="A run: status, and once finished its key figures")
    def get_run(run_id: Existing) -> dict:
        return describe(run_id)

    @api.get("/runs/{run_id}/daily", summary="A finished run's daily series",
             response_class=JSONResponse)
    async def daily(run_id: Existing, columns: Columns = None):
        fin = only(await finished(inside(data, run_id)), "run", run_id)
        return Response(fin.daily_json(wanted(fin, columns)), media_type="application/json")

    @api.get("/runs/{run_id}/bands", summary="A finished ensemble's daily bands: median, "
             "50% and 90% of the replicates", response_class=JSONResponse)
    async def bands(run_id: Existing, columns: Columns = None):
        fin = only(await finished(inside(data, run_id)), "ensemble", run_id)
        return Response(fin.bands_json(wanted(fin, columns)), media_type="application/json")

    @api.get("/runs/{run_id}/events", response_class=EventSourceResponse,
             summary="A run's progress as server-sent events, until it ends")
    async def events(run_id: Existing, request: Request):
        last = None
        while True:
            s = status(run_id)
            # the queue's runs count their changes; a run another process writes (the
            # command line's) is followed by what its folder says
            mark = (s["seq"], s["status"], s["day"], s["days"])
            if mark != last:
                last = mark
                yield ServerSentEvent(data={k: s[k] for k in (
                    "id", "status", "day", "days", "unit", "phase", "message", "source")},
                    event="status")
            if s["status"] not in ACTIVE:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.25)

    @api.post("/runs/{run_id}/cancel", summary="Cancel a queued or running run")
    def cancel(run_id: RunId) -> dict:
        job = queue.snapshot(run_id)
        if job is None or job["kind"] not in FOLDERS:
            inside(data, run_id)
            raise UserError(f"run {run_id!r} was not started by this server; only its own "
                            "runs can be cancelled here", "run")
        if job["status"] not in ACTIVE:
            raise NotReady(f"run {run_id!r} is {job['status']}; only a queued or running run "
                           "can be cancelled", "run")
        queue.cancel(run_id)
        return status(run_id)

    @api.get("/runs/{run_id}/files/{name}", summary="Download a finished run's file",
             response_class=Response)
    def download(run_id: Existing, name: Annotated[str, PathParam(max_length=64)]):
        path = inside(data, run_id)
        if name == "daily.csv":
            fin = cache.get(path)
            return Response(fin.daily_csv(), media_type=FILES[name], headers=_attach(
                f"{run_id}-daily.csv"))
        if not (path / store.RESULTS).is_file():
            raise NotReady(f"run {run_id!r} has not finished; its files are not there yet",
                           "run")
        target = file_inside(path, name)
        if name == "citizens.parquet":
            target = one_parquet(path, only(cache.get(path), "run", run_id).results.agents,
                                 data / STATE / "downloads" / run_id)
        if not target.is_file():
            raise NotFound(f"{name} is not in this run's folder", "file")
        return FileResponse(target, media_type=FILES[name],
                            filename=f"{run_id}-{name}" if name != "report.html" else None)

    @api.get("/runs/{run_id}/citizens/{n}", summary="One citizen's story (socialcredit explain)")
    def citizen(run_id: Existing, n: Annotated[int, PathParam(ge=0, le=2_000_000_000)]) -> dict:
        fin = only(cache.get(inside(data, run_id)), "run", run_id)
        return story(fin, inside(data, run_id), n)

    @api.get("/runs/{run_id}/groups", summary="Who is hit: a finished run's groups at the end")
    def groups(run_id: Existing) -> dict:
        fin = only(cache.get(inside(data, run_id)), "run", run_id)
        return {"scale": fin.scale, "groups": _records(fin.results.groups),
                "regions": _records(_last(fin.results.regions))}

    @api.post("/compares", status_code=201, summary="Queue a comparison of two designs on "
              "common random numbers")
    def create_compare(body: CompareRequest) -> dict:
        a = parse(body.toml, "toml") if body.toml is not None else _scenario(body.scenario)[0]
        b = a
        if body.other_toml is not None:
            b = parse(body.other_toml, "other_toml")
        elif body.other is not None:
            b = _scenario(body.other)[0]
        # each design as it will run, checked against the limits (B with the changes)
        sc, _, _, population, days = resolve(a, [], body.population, body.days, None)
        check_limits(settings, sc, population, days)
        sc, _, _, population, days = resolve(b, body.sets, body.population, body.days, None)
        check_limits(settings, sc, population, days)
        job = queue.submit("compare", body.model_dump(), a.scenario.name, 2 * body.seeds,
                           unit="run")
        return compare_status(job.id)

    def compare_status(job_id: str) -> dict:
        job = queue.snapshot(job_id)
        if job is None or job["kind"] != "compare":
            raise NotFound(f"no compare {job_id[:60]!r}", "compare")
        if job["status"] == "done":
            try:
                job["table"] = json.loads((data / STATE / "compares" / f"{job_id}.json")
                                          .read_text(encoding="utf-8"))
            except (OSError, ValueError):
                job["status"], job["message"] = "failed", "its table is gone"
        return job

    @api.get("/compares/{job_id}", summary="A comparison: status, and once done its table")
    def get_compare(job_id: RunId) -> dict:
        return compare_status(job_id)

    return api


Columns = Annotated[str | None, Query(max_length=4000, description="Comma-separated daily "
                                      "columns (default: all)")]


def wanted(fin: Finished, columns: str | None) -> tuple[str, ...]:
    """The daily columns asked for, each one the run or ensemble has."""
    want = fin.columns if not columns else [c for c in columns.split(",") if c]
    unknown = [c for c in want if c not in fin.columns]
    if unknown:
        raise UserError(f"no daily column {unknown[0][:60]!r}; this {fin.kind} has "
                        f"{', '.join(fin.columns[:12])}, ...", "columns")
    return tuple(want)


def only(fin: Finished, kind: str, run_id: str) -> Finished:
    """`fin` if it is a `kind` (a single run, or an ensemble); a 404 saying where its
    figures are otherwise."""
    if fin.kind == kind:
        return fin
    if fin.kind == "ensemble":
        raise NotFound(f"{run_id!r} is an ensemble of {fin.info.get('seeds')} replicates: it "
                       "keeps daily bands (/bands), not one run's series, citizens or groups",
                       "run")
    raise NotFound(f"{run_id!r} is a single run: its daily series are at /daily; bands come "
                   "from an ensemble (replicates above 1)", "run")


def _attach(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _records(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso")) if len(df) else []


def _last(df):
    if not len(df) or "date" not in df.columns:
        return df
    return df[df["date"] == df["date"].max()]


KEY = (("population", "simulated citizens", None), ("listed", "on a blacklist", "last"),
       ("listed_cumulative", "ever listed", "last"), ("penalties", "penalties", "total"),
       ("wrongful_penalties", "penalties for someone else's act", "total"),
       ("wrongful_listings", "wrongful listings", "total"),
       ("appeals_upheld", "appeals upheld", "total"), ("mean_score", "mean score", "last"))
"""The key figures of a run page: (daily column, words, last day or total)."""


def key_figures(fin) -> list[dict]:
    """A finished run's key figures, counts at real scale (times the run's scale)."""
    out = [{"name": "people", "label": "people it stands for", "of": "",
            "value": round(float(fin.info["population"]) * fin.scale)}]
    for col, label, of in KEY[1:]:
        values = fin.series.get(col)
        if not values:
            continue
        raw = values[-1] if of == "last" else sum(v or 0 for v in values)
        scaled = col != "mean_score"
        out.append({"name": col, "label": label, "of": "last day" if of == "last" else "total",
                    "value": (round(raw * fin.scale) if scaled else raw)})
    return out


def ensemble_figures(ens) -> list[dict]:
    """An ensemble's key figures, each over the replicates that finished: the median, and
    the 5th to 95th percentile, counts at real scale."""
    import numpy as np

    daily = ens.daily
    out = [{"name": "people", "label": "people it stands for", "of": "",
            "value": round(float(ens.info["population"]) * ens.scale), "low": None,
            "high": None},
           {"name": "replicates", "label": "replicates finished", "of": "",
            "value": sum(r["status"] == "done" for r in ens.replicates), "low": None,
            "high": None}]
    if not len(daily):
        return out
    for col, label, of in KEY[1:]:
        if col not in daily.columns:
            continue
        per_run = daily.groupby("run")[col]
        raw = (per_run.last() if of == "last" else per_run.sum()).to_numpy(dtype=float)
        k = 1.0 if col == "mean_score" else ens.scale
        p5, p50, p95 = np.quantile(raw * k, [0.05, 0.5, 0.95])
        out.append({"name": col, "label": label, "of": "last day" if of == "last" else "total",
                    "value": float(p50), "low": float(p5), "high": float(p95)})
    return out


def story(fin, folder: Path, n: int) -> dict:
    """One citizen's story: `socialcredit explain`'s text, and the score changes and listings
    as rows for a timeline, wrongful ones marked."""
    from rich.console import Console

    from ..analysis.explain import explain

    population = int(fin.info["population"])
    if n >= population:
        raise NotFound(f"citizen {n} does not exist; valid: 0 to {population - 1}", "citizen")
    console = Console(record=True, width=140, file=io.StringIO(), color_system=None)
    explain(folder, n, console)
    ledger = fin.results.ledger
    mine = ledger[ledger["citizen"] == n]
    listings = fin.results.listings
    hist = fin.results.score_hist
    starts = hist.loc[hist["when"] == "start", "score"]
    return {"citizen": n, "text": console.export_text(),
            "start_score": int(starts.min()) if len(starts) else None,
            "changes": _records(mine[["date", "act", "channel", "rule", "points",
                                      "score_after", "grade_after", "wrongful"]]),
            "listings": _records(listings[listings["citizen"] == n])}


def one_parquet(folder: Path, rows: int, cache: Path) -> Path:
    """The citizens dataset (a folder of part files) as one Parquet file, made once."""
    import pyarrow.parquet as pq

    out = cache / "citizens.parquet"
    if out.is_file():
        return out
    parts = store.citizen_files(folder, rows)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / ".citizens.parquet.tmp"
    writer = None
    try:
        for part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)
    return out

