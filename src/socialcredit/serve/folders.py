"""The data folder as the server sees it: run folders named by ids, resolved inside it only.

Every run the server shows lives in a folder directly under the data folder, written by the
server's queue or by `socialcredit run --out`; the two are the same format. A request names a
run by its folder's name, which must match `RUN_ID` and must be a real folder (not a link)
whose resolved path lies directly inside the data folder, so no request reaches a file
outside it. The server's own state (its queue) lives in `.serve/`, a name no run id matches.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..record import folder as folder_
from ..record import store
from ..record.results import Results

RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"
"""A run's folder name: letters, digits, '-', '_' and single dots between them; never '..',
never a leading dot, never a slash."""
_RUN_ID = re.compile(RUN_ID)
MAX_ID = 120
STATE = ".serve"
"""The server's own folder inside the data folder: the queue's records."""

FILES = {"results.duckdb": "application/vnd.duckdb",
         "report.html": "text/html; charset=utf-8",
         "daily.csv": "text/csv; charset=utf-8",
         "citizens.parquet": "application/vnd.apache.parquet"}
"""What a client may download from a finished run, by name; nothing else is served."""
ENSEMBLE_FILES = ("results.duckdb", "report.html", "daily.csv")
"""What an ensemble offers of FILES (its daily.csv holds every replicate's rows)."""


class NotFound(UserError):
    """A run or file that does not exist (a 404, where other UserErrors are a 400)."""


class NotReady(UserError):
    """A run that exists but has not finished (a 409)."""


def valid_id(run_id: str) -> bool:
    return len(run_id) <= MAX_ID and bool(_RUN_ID.match(run_id))


def safe_name(text: str, most: int = 40) -> str:
    """A scenario's name made fit for a run id (names from pasted TOML are checked by the
    schema, but an id never trusts them)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:most]
    return name or "run"


def inside(data: Path, run_id: str) -> Path:
    """The folder of run `run_id`, checked to lie directly inside `data` and not to be a link;
    a NotFound otherwise (the same answer for a bad id and a missing run: a client learns
    nothing about what lies outside)."""
    if not valid_id(run_id):
        raise NotFound(f"no run {run_id[:60]!r}; a run id is a folder name of letters, digits, "
                       "'-', '_' and '.'", "run")
    root = data.resolve()
    path = root / run_id
    try:
        if path.is_symlink() or not path.is_dir() or path.resolve().parent != root:
            raise NotFound(f"no run {run_id!r} in the data folder", "run")
    except OSError:
        raise NotFound(f"no run {run_id!r} in the data folder", "run") from None
    return path


def file_inside(folder: Path, name: str) -> Path:
    """A downloadable file of a run folder: a name on the allow-list, a real file or folder
    (not a link) inside it."""
    if name not in FILES:
        raise NotFound(f"no file {name[:60]!r}; a run offers {', '.join(FILES)}", "file")
    path = folder / name
    try:
        if path.is_symlink() or not path.exists() or path.resolve().parent != folder.resolve():
            raise NotFound(f"{name} is not in this run's folder", "file")
    except OSError:
        raise NotFound(f"{name} is not in this run's folder", "file") from None
    return path


def folder_status(path: Path) -> tuple[str, int, int]:
    """What a run folder holds, and the (day, days) a running one has reached: done,
    running (another process writes it and notes its day in its lock file), interrupted (a
    checkpoint nobody writes), or empty (reserved for a queued run)."""
    if (path / store.RESULTS).is_file():
        return "done", 0, 0
    if folder_.busy(path):
        return ("running", *(folder_.progress(path) or (0, 0)))
    if (path / store.CHECKPOINT).exists():
        return "interrupted", 0, 0
    return "empty", 0, 0


def run_folders(data: Path) -> list[Path]:
    """Every run folder directly under `data` (finished, running or interrupted), newest
    first; links and names that are not run ids are left out."""
    try:
        entries = list(data.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        try:
            if valid_id(p.name) and not p.is_symlink() and p.is_dir() and folder_.is_run(p):
                out.append(p)
        except OSError:
            continue
    return sorted(out, key=_mtime, reverse=True)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


class Finished:
    """A finished run read once: its results and what the pages ask of it, kept while the
    store is unchanged (a finished run is never written into again)."""

    kind = "run"

    def __init__(self, results: Results):
        self.results = results
        info = results.info
        self.info = {k: _plain(v) for k, v in info.items() if k != "scenario_text"}
        self.scale = float(info["scale"])
        self.daily = results.daily
        self.columns = [c for c in self.daily.columns if c != "date"]
        self.dates = _dates(self.daily["date"])
        self.series = {c: [_plain(v) for v in self.daily[c].tolist()] for c in self.columns}
        self._csv: bytes | None = None
        self._json: OrderedDict[tuple[str, ...], bytes] = OrderedDict()

    def daily_json(self, columns: tuple[str, ...]) -> bytes:
        """The daily series of `columns` as the API sends them, encoded once: many clients
        reading the same series cost one encoding."""
        return self._encoded(columns, lambda: {
            "dates": self.dates, "scale": self.scale,
            "series": {c: self.series[c] for c in columns}})

    def _encoded(self, columns: tuple[str, ...], make) -> bytes:
        held = self._json.get(columns)
        if held is None:
            held = json.dumps(make()).encode()
            self._json[columns] = held
            while len(self._json) > 16:
                self._json.popitem(last=False)
        return held

    def daily_csv(self) -> bytes:
        if self._csv is None:
            self._csv = self.daily.to_csv(index=False).encode()
        return self._csv


class Ensemble(Finished):
    """A finished ensemble read once: its replicates, their daily rows and the bands over
    them (median, 50% and 90% of the replicates, per date and daily column)."""

    kind = "ensemble"

    def __init__(self, res):
        self.results = res
        self.info = {k: _plain(v) for k, v in res.info.items()}
        self.scale = float(self.info.get("scale") or 1.0)
        self.daily = res.daily
        bands = res.bands
        self.columns = [c for c in dict.fromkeys(bands["column"]) if c != "day"]
        self.dates = _dates(pd.Series(bands["date"].unique()))
        self.bands = {c: {k: [_plain(v) for v in part[k].tolist()]
                          for k in ("mean", "p5", "p25", "p50", "p75", "p95")}
                      for c, part in bands.groupby("column", sort=False)}
        self.replicates = [{k: _plain(v) for k, v in row.items()}
                           for row in res.runs.to_dict(orient="records")]
        self._csv = None
        self._json = OrderedDict()

    def bands_json(self, columns: tuple[str, ...]) -> bytes:
        """The bands of `columns` as the API sends them, encoded once."""
        return self._encoded(columns, lambda: {
            "dates": self.dates, "scale": self.scale,
            "bands": {c: self.bands[c] for c in columns}})


def _dates(values) -> list[str]:
    return [d.date().isoformat() for d in pd.to_datetime(values)]


def read_folder(path: Path) -> Finished:
    """A finished folder as a run or an ensemble, told apart by the tables its store holds
    (an ensemble's has `ensemble` and `bands`)."""
    import duckdb

    from ..ensembles.ensemble import open_ensemble

    try:
        con = duckdb.connect(str(path / store.RESULTS), read_only=True)
        try:
            tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        finally:
            con.close()
    except duckdb.Error:
        tables = set()  # the run reader says what is wrong in one line
    if not {"ensemble", "bands"} <= tables:
        return Finished(store.read_results(path))
    try:
        return Ensemble(open_ensemble(path))
    except duckdb.Error as e:
        raise UserError(f"cannot be read ({store.one_line(e)}){store.DAMAGED}",
                        str(path / store.RESULTS)) from None


def _plain(v):
    """A value as JSON holds it: numbers, text, None for missing, dates as text."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, int | float | str | bool):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10] if hasattr(v, "hour") and not (
            v.hour or v.minute or v.second) else v.isoformat()
    return str(v)


class Cache:
    """Finished runs read from their folders, the most recently used kept."""

    def __init__(self, most: int = 32):
        self.most = most
        self._held: OrderedDict[str, tuple[float, Finished]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def peek(self, path: Path) -> Finished | None:
        """The run if it is held and unchanged, without reading anything but the store's
        time stamp (cheap enough for the event loop)."""
        try:
            stamp = (path / store.RESULTS).stat().st_mtime
        except OSError:
            return None
        with self._lock:
            held = self._held.get(str(path))
        return held[1] if held and held[0] == stamp else None

    def get(self, path: Path) -> Finished:
        results = path / store.RESULTS
        if results.is_symlink():
            raise NotFound(f"run {path.name!r} holds a link where its results belong; the "
                           "server reads no file outside the data folder", "run")
        try:
            stamp = results.stat().st_mtime
        except OSError:
            raise NotReady(f"run {path.name!r} has not finished; its results are not there "
                           "yet", "run") from None
        key = str(path)
        with self._lock:
            held = self._held.get(key)
            if held and held[0] == stamp:
                self._held.move_to_end(key)
                return held[1]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:  # one reader per run: the clients that ask meanwhile wait for it
            with self._lock:
                held = self._held.get(key)
            if held and held[0] == stamp:
                return held[1]
            finished = read_folder(path)
            with self._lock:
                self._held[key] = (stamp, finished)
                self._held.move_to_end(key)
                while len(self._held) > self.most:
                    self._held.popitem(last=False)
        return finished
