"""The results store: DIR/results.duckdb, DIR/citizens.parquet/ (a Parquet dataset: one
part file per slice of citizen ids), and checkpoints.

Every file is written beside its final name and moved into place in one step, so a folder
never holds a half-written store: a reader sees the old file or the new one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import UserError
from .faults import reached
from .results import TABLES, Results

RESULTS = "results.duckdb"
CITIZENS = "citizens.parquet"
REPORT = "report.html"
CHECKPOINT = "checkpoint"
"""The folder of a run's checkpoint (record/checkpoint.py)."""


def _replace(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def remove_temporaries(folder: Path) -> None:
    """Remove what an interrupted write left beside its final name."""
    for name in (RESULTS, CITIZENS, REPORT):
        for tmp in folder.glob(f".{name}*.tmp"):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)


def write_results(results: Results, folder: Path) -> Path:
    """Write every table into DIR/results.duckdb, atomically."""
    return write_tables(results.tables(), folder)


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write `tables` (name: frame) into DIR/results.duckdb beside it, then move it into
    place in one step."""
    final = folder / RESULTS
    tmp = folder / f".{RESULTS}.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("BEGIN TRANSACTION")  # one commit for all the tables, not one each
        for name, df in tables.items():
            con.register("frame", df)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    reached("results")
    _replace(tmp, final)
    reached("results-moved")
    return final


def write_citizens(parts, folder: Path, threads: int = 1) -> Path:
    """Write the final per-citizen state as a Parquet dataset, parts in parallel, atomically.

    `parts` is a list of callables, each returning the record batches of one part.
    """
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
    reached("citizens")
    if final.exists():  # left by a run killed before its store was written
        shutil.rmtree(final)
    os.replace(tmp, final)
    reached("citizens-moved")
    return final


def read_results(folder: str | Path) -> Results:
    """Open the results of a finished run.

    The store is checked once here (every table, the columns readers use with usable types,
    no missing values where the run always writes one, dates a calendar holds), so a damaged
    or foreign folder is refused with one line naming the file, and a folder that opens can be
    summarised, explained and reported without further checks.
    """
    folder = Path(folder)
    path = folder / RESULTS
    try:
        found = path.is_file()
        unfinished = not found and (folder / CHECKPOINT).exists()
    except OSError as e:  # e.g. a name longer than the file system allows
        raise UserError(f"{e.strerror}; give a folder written by `socialcredit run`",
                        str(folder)) from None
    if not found:
        hint = (" (an unfinished run: continue it with `socialcredit resume "
                f"{folder}`)" if unfinished else "")
        raise UserError(f"no {RESULTS} in {str(folder)!r}{hint}; give a folder written by "
                        "`socialcredit run`", "results")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        why = one_line(e)
        hint = ("; another program holds it open for writing" if "lock" in why.lower()
                else DAMAGED)
        raise UserError(f"cannot be opened as a DuckDB database ({why}){hint}",
                        str(path)) from None
    try:
        frames, extras = _read_store(con, path)
    except duckdb.Error as e:
        raise UserError(f"cannot be read ({one_line(e)}){DAMAGED}", str(path)) from None
    finally:
        con.close()
    return Results(**frames, path=folder, extras=extras)


DAMAGED = "; the folder was not written by this version of socialcredit or is damaged"

INT = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                 "UINTEGER"})
NUM = INT | {"FLOAT", "DOUBLE"}
KINDS = {"int": INT, "num": NUM, "text": frozenset({"VARCHAR"}),
         "bool": frozenset({"BOOLEAN"}), "names": frozenset({"VARCHAR"}),
         "date": frozenset({"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS",
                            "TIMESTAMP_NS"})}
WHAT = {"int": "whole numbers", "num": "numbers", "text": "text", "bool": "true/false",
        "names": "a JSON list of names", "date": "dates"}
NULLABLE = {"num"}
"""Kinds whose columns may hold missing values (a mean of nobody); the rest never do."""

COLUMNS: dict[str, dict[str, str]] = {
    "run": {"scenario": "text", "title": "text", "scenario_text": "text", "seed": "int",
            "population": "int", "days": "int", "scale": "num", "start_date": "date",
            "wall_seconds": "num", "grades": "names", "lists": "names", "gates": "names"},
    "daily": {"date": "date", "day": "int", "scored": "int", "mean_score": "num",
              "listed": "int", "listed_cumulative": "int", "penalties": "int",
              "wrongful_penalties": "int", "wrongful_listings": "int",
              "appeals_upheld": "int"},
    "ledger": {"day": "int", "date": "date", "citizen": "int", "act": "text",
               "channel": "text", "rule": "text", "points": "int", "score_after": "int",
               "grade_after": "text", "wrongful": "bool"},
    "listings": {"citizen": "int", "list": "text", "listed_day": "int", "listed_on": "date",
                 "left_day": "int", "left_on": "date", "exit": "text", "days_listed": "int",
                 "wrongful": "bool", "extensions": "int"},
    "acts": {"act": "text", "points_per_act": "int", "committed": "int", "observed": "int",
             "scored": "int", "points": "int", "wrongful_penalties": "int"},
    "score_hist": {"when": "text", "score": "int", "count": "int"},
    "grades": {"grade": "text", "min": "int", "max": "int"},
    "groups": {"region_type": "text", "age_group": "text", "citizens": "int",
               "scored": "int", "listed": "int", "wronged": "int", "mean_score": "num",
               "listed_share": "num", "wronged_share": "num"},
    "groups_over_time": {"date": "date", "region_type": "text", "age_group": "text",
                         "citizens": "int", "scored": "int", "listed": "int",
                         "listed_share": "num"},
}
"""The columns readers (summary, explain, report) rely on, and their kinds."""

OPTIONAL = {"run": {"firms": "int", "end_date": "date", "source": "text", "version": "text",
                    "created": "text"},
            "acts": {"area": "text", "valence": "text"}}
"""Columns older stores lack; checked when present."""

OTHERS = {"daily": "num", "groups": "num", "groups_over_time": "num"}
"""The kind of every further column of a table (daily counts, per-grade counts, ...)."""

MAY_BE_MISSING = {("listings", "left_on")}
"""Columns that hold no value in some rows by design (a listing still in force)."""

FIRST_DATE, LAST_DATE = "0001-01-01", "9999-12-31 23:59:59"


def one_line(e: BaseException) -> str:
    """The first line of a library's message (DuckDB and Arrow add hints and the query)."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return lines[0] if lines else type(e).__name__


def _read_store(con, path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Check the store's tables and columns, then read every table into a DataFrame."""
    def bad(message: str) -> UserError:
        return UserError(message + DAMAGED, str(path))

    rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                       "WHERE database_name = current_database() AND schema_name = 'main' "
                       "ORDER BY table_name, column_index").fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        types.setdefault(table, {})[column] = kind
    missing = [t for t in TABLES if t not in types]
    if missing:
        raise bad(f"lacks table{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    n_run = con.execute('SELECT count(*) FROM "run"').fetchone()[0]
    if n_run != 1:
        raise bad(f"table run holds {n_run} rows where one belongs")
    _check_columns(con, "run", types["run"], _present("run", types) | COLUMNS["run"], bad)
    run = con.execute('SELECT * FROM "run"').df()
    names = {}
    for key in ("grades", "lists", "gates"):
        names[key] = _names(run[key].iloc[0], f"table run column {key}", bad)
    grade_cols = {f"grade_{g}": "int" for g in names["grades"]}
    gate_cols = {f"{g}_{k}": "int" for g in names["gates"] for k in ("attempts", "denied",
                                                                      "perks")}
    need = {"daily": COLUMNS["daily"] | grade_cols | gate_cols,
            "groups": COLUMNS["groups"] | grade_cols,
            "groups_over_time": COLUMNS["groups_over_time"] | grade_cols}
    for table in (t for t in TABLES if t != "run"):
        cols = _present(table, types) | need.get(table, COLUMNS[table])
        _check_columns(con, table, types[table], cols, bad)
    have = {r[0] for r in con.execute('SELECT grade FROM "grades"').fetchall()}
    lacking = [g for g in names["grades"] if g not in have]
    if lacking:
        raise bad(f"table grades lacks grade {', '.join(lacking)} named in table run")
    open_ended = con.execute("SELECT count(*) FROM listings WHERE left_on IS NULL AND "
                             "\"exit\" <> 'in force'").fetchone()[0]
    if open_ended:
        raise bad(f"table listings holds {open_ended} ended listing(s) without a left_on date")
    try:
        frames = {t: run if t == "run" else con.execute(f'SELECT * FROM "{t}"').df()
                  for t in TABLES}
        extras = {t: con.execute(f'SELECT * FROM "{t}"').df() for t in types
                  if t not in TABLES}
        for name in ("daily", "ledger"):
            frames[name]["date"] = pd.to_datetime(frames[name]["date"])
    except (ValueError, OverflowError, TypeError) as e:  # values pandas cannot hold
        raise bad(f"holds values that cannot be read ({one_line(e)})") from None
    return frames, extras


def _present(table: str, types: dict[str, dict[str, str]]) -> dict[str, str]:
    """The kinds of the table's further columns that it holds (checked when present)."""
    other = OTHERS.get(table)
    cols = {c: other for c in types[table]} if other else {}
    return cols | {c: k for c, k in OPTIONAL.get(table, {}).items() if c in types[table]}


def _check_columns(con, table: str, have: dict[str, str], need: dict[str, str], bad) -> None:
    """Each needed column present with a usable type, no missing values where none belong,
    dates within the calendar and numbers finite."""
    checks = []
    for column, kind in need.items():
        if column not in have:
            raise bad(f"table {table} lacks column {column}")
        sql_type = have[column]
        if sql_type != '"NULL"' and sql_type not in KINDS[kind]:  # "NULL": no value at all
            raise bad(f"table {table} column {column} is {sql_type} where {WHAT[kind]} "
                      "belong")
        q = '"' + column.replace('"', '""') + '"'
        if kind not in NULLABLE and (table, column) not in MAY_BE_MISSING:
            checks.append((f"count(*) - count({q})", f"holds missing values in column {column}"))
        if sql_type == '"NULL"':
            continue
        if kind == "date":
            checks.append((f"count(*) FILTER (WHERE NOT CAST({q} AS TIMESTAMP) BETWEEN "
                           f"TIMESTAMP '{FIRST_DATE}' AND TIMESTAMP '{LAST_DATE}')",
                           f"holds dates outside years 1 to 9999 in column {column}"))
        elif kind == "num" and sql_type in ("FLOAT", "DOUBLE"):
            checks.append((f"count(*) FILTER (WHERE isinf({q}))",
                           f"holds infinite numbers in column {column}"))
    if not checks:
        return
    counts = con.execute(f'SELECT {", ".join(c for c, _ in checks)} FROM "{table}"').fetchone()
    for n, (_, what) in zip(counts, checks, strict=True):
        if n:
            raise bad(f"table {table} {what}")


def _names(raw, where: str, bad) -> list[str]:
    """A JSON list of names from the run row (grades, lists, gates)."""
    import json

    try:
        names = json.loads(raw)
    except (TypeError, ValueError):
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(f"{where} holds {str(raw)[:40]!r} where a JSON list of names belongs")
    return names


CITIZEN_COLUMNS = {"citizen": "int", "region": "text", "age_group": "text",
                   "household_start": "bool", "scored": "bool", "score": "int",
                   "grade": "text", "wrongful_points": "int", "ever_listed": "bool",
                   "tracked": "bool"}
"""The columns of citizens.parquet that readers use, and their kinds."""


def citizen_files(folder: Path, rows: int) -> list[Path]:
    """The part files of DIR/citizens.parquet, checked from their footers: each a Parquet
    file with the columns readers use, all alike, together holding `rows` citizens."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / CITIZENS
    if not path.exists():
        raise UserError("this run kept no citizens table (run without --no-citizens)",
                        str(path))
    if not path.is_dir():
        raise UserError(f"is not a folder of Parquet part files{DAMAGED}", str(path))
    files = sorted(p for p in path.iterdir() if not p.name.startswith((".", "_")))
    if not files:
        raise UserError(f"holds no part files{DAMAGED}", str(path))
    kinds = {"int": pa.types.is_integer, "bool": pa.types.is_boolean,
             "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or (
                 pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type)
                                                or pa.types.is_large_string(t.value_type)))}
    total, first = 0, None
    for f in files:
        def bad(message: str, f: Path = f) -> UserError:
            return UserError(message + DAMAGED, str(f))

        if not f.is_file():
            raise bad("is not a Parquet part file")
        try:
            meta = pq.read_metadata(f)
            schema = meta.schema.to_arrow_schema()
        except (pa.ArrowException, OSError, ValueError) as e:
            raise bad(f"cannot be read as Parquet ({one_line(e)})") from None
        for column, kind in CITIZEN_COLUMNS.items():
            i = schema.get_field_index(column)
            if i < 0:
                raise bad(f"lacks column {column}")
            if not kinds[kind](schema.field(i).type):
                raise bad(f"column {column} is {schema.field(i).type} where {WHAT[kind]} "
                          "belong")
        if first is None:
            first = (f, schema)
        elif not schema.equals(first[1]):
            raise bad(f"has other columns than {first[0].name}")
        total += meta.num_rows
    if total != rows:
        raise UserError(f"holds {total:,} citizens where the run has {rows:,} (a part file "
                        f"is missing or damaged){DAMAGED}", str(path))
    return files
