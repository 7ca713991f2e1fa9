"""Fingerprints of a run's tables: one SHA-256 per table of results.duckdb, over every row in
stored order, leaving out what differs between two runs of the same request (when and how
fast it ran, on how many threads, which version wrote it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

UNSTABLE = {"run": ("created", "wall_seconds", "threads", "version", "seconds_%")}
"""Columns of a table that say how a run went, not what it found."""


def fingerprints(folder: Path) -> dict[str, str]:
    con = duckdb.connect(str(Path(folder) / "results.duckdb"), read_only=True)
    try:
        out = {}
        for (table,) in con.execute("select table_name from information_schema.tables "
                                    "order by table_name").fetchall():
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position", [table]).fetchall()]
            skip = UNSTABLE.get(table, ())
            cols = [c for c in cols if not any(
                c == s or (s.endswith("%") and c.startswith(s[:-1])) for s in skip)]
            frame = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in cols)} '
                                f'from "{table}"').fetchdf()
            digest = hashlib.sha256()
            digest.update(",".join(cols).encode())
            digest.update(frame.to_csv(index=False, float_format="%.17g").encode())
            out[table] = digest.hexdigest()
        return out
    finally:
        con.close()
