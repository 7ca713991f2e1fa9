"""The results store: DIR/results.duckdb, DIR/citizens.parquet/ (a Parquet dataset: one
part file per slice of citizen ids), and checkpoints.

Every file is written beside its final name and moved into place in one step, so a folder
never holds a half-written store: a reader sees the old file or the new one.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import UserError
from .results import TABLES, Results

RESULTS = "results.duckdb"
CITIZENS = "citizens.parquet"
REPORT = "report.html"
CHECKPOINT = "checkpoint.pkl"


def _replace(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def write_results(results: Results, folder: Path) -> Path:
    """Write every table into DIR/results.duckdb, atomically."""
    final = folder / RESULTS
    tmp = folder / f".{RESULTS}.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, df in results.tables().items():
            con.register("frame", df)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    _replace(tmp, final)
    return final


def write_citizens(parts, folder: Path, threads: int = 1) -> Path:
    """Write the final per-citizen state as a Parquet dataset, parts in parallel, atomically.

    `parts` is a list of callables, each returning the record batches of one part.
    """
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    final = folder / CITIZENS
    tmp = folder / f".{CITIZENS}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    def write(i: int) -> None:
        writer = None
        try:
            for batch in parts[i]():
                if writer is None:
                    writer = pq.ParquetWriter(
                        tmp / f"part-{i:05d}.parquet", batch.schema, compression="zstd",
                        use_dictionary=[c for c in batch.schema.names if c != "citizen"],
                        column_encoding={"citizen": "DELTA_BINARY_PACKED"})
                writer.write_batch(batch)
        finally:
            if writer is not None:
                writer.close()

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(write, range(len(parts))))
    os.replace(tmp, final)
    return final


def read_results(folder: str | Path) -> Results:
    """Open the results of a finished run."""
    folder = Path(folder)
    path = folder / RESULTS
    if not path.is_file():
        hint = (" (an unfinished run: continue it with `socialcredit resume "
                f"{folder}`)" if (folder / CHECKPOINT).is_file() else "")
        raise UserError(f"no {RESULTS} in {str(folder)!r}{hint}; give a folder written by "
                        "`socialcredit run`", "results")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        raise UserError(f"cannot open {path}: {e}", "results") from None
    try:
        frames = {t: con.execute(f'SELECT * FROM "{t}"').df() for t in TABLES}
        names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        extras = {t: con.execute(f'SELECT * FROM "{t}"').df() for t in names
                  if t not in TABLES}
    except duckdb.Error as e:
        raise UserError(f"{path} is not a socialcredit results store: {e}", "results") from None
    finally:
        con.close()
    for name in ("daily", "ledger"):
        if "date" in frames[name]:
            frames[name]["date"] = pd.to_datetime(frames[name]["date"])
    return Results(**frames, path=folder, extras=extras)


def write_checkpoint(payload: dict, folder: Path) -> None:
    """Save everything needed to continue a run, atomically."""
    final = folder / CHECKPOINT
    tmp = folder / f".{CHECKPOINT}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    _replace(tmp, final)


def read_checkpoint(folder: Path) -> dict:
    path = folder / CHECKPOINT
    if not path.is_file():
        if (folder / RESULTS).is_file():
            raise UserError(f"{str(folder)!r} holds a finished run; nothing to resume",
                            "resume")
        raise UserError(f"no checkpoint in {str(folder)!r}; runs write one with "
                        "--checkpoint-every DAYS", "resume")
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as e:  # a checkpoint is replaced whole, so this means tampering
        raise UserError(f"cannot read checkpoint {path}: {e}", "resume") from None
