"""Checkpoints in a plain format: arrays as .npy files, everything else as JSON.

A checkpoint is the folder DIR/checkpoint/: `checkpoint.json` (a format name and version,
the run's metadata, and for each array its file, dtype, shape and CRC-32 checksums of 64 MiB
chunks) beside the array files it names. Nothing in it can run code when read: arrays load
with `allow_pickle=False` and the JSON is data. A reader checks the format, every checksum,
dtype and shape before anything uses the arrays; the engine then checks the values against
the scenario and population (engine/run.py).

Writes never damage the previous checkpoint: the new arrays go to files of their own
(named after the day, with a tag of their own), then `checkpoint.json` is replaced in one
step, then the old files are removed. A run killed at any moment leaves a checkpoint.json
that names complete files.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import UserError
from .faults import reached

FOLDER = "checkpoint"
INDEX = "checkpoint.json"
FORMAT = "socialcredit-checkpoint"
VERSION = 4
CHUNK = 64 << 20
"""Bytes per checksum chunk: chunks are summed in parallel."""
MAX_INDEX_BYTES = 256 << 20
"""A checkpoint.json larger than this is not one of ours (the daily rows of 100 years of a
run with every mechanism take a few tens of MiB)."""


class CheckpointError(UserError):
    """A checkpoint that is missing, damaged or altered."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _checksum_jobs(arr: np.ndarray, pool: ThreadPoolExecutor) -> list:
    """CRC-32 of each 64 MiB chunk of the array's bytes, under way in the pool (zlib releases
    the GIL, so they run while the array is written or the next one read)."""
    raw = memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))  # empty ones too
    return [pool.submit(zlib.crc32, raw[s: s + CHUNK]) for s in range(0, max(1, len(raw)), CHUNK)]


def _checksums(arr: np.ndarray, pool: ThreadPoolExecutor) -> list[int]:
    return [job.result() for job in _checksum_jobs(arr, pool)]


def _index_checksum(index: dict) -> int:
    body = {k: v for k, v in index.items() if k != "checksum"}
    return zlib.crc32(json.dumps(body, sort_keys=True).encode())


def exists(folder: Path) -> bool:
    return (folder / FOLDER / INDEX).is_file()


def write(folder: Path, meta: dict, arrays: dict[str, np.ndarray], threads: int = 2) -> None:
    """Save `meta` (JSON-able) and `arrays` as the checkpoint of the run in `folder`.

    The previous checkpoint stays valid until the new one is complete.
    """
    where = folder / FOLDER
    where.mkdir(exist_ok=True)
    day = meta.get("day")
    # a tag of its own, so a checkpoint of the same day never overwrites the files of the
    # checkpoint it replaces
    tag = f"{day if isinstance(day, int) and 0 <= day < 10**6 else 0:06d}-{uuid.uuid4().hex[:8]}"
    files: dict[str, dict] = {}
    written: list[Path] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for i, (name, arr) in enumerate(arrays.items()):
                arr = np.ascontiguousarray(arr)
                path = where / f"{name}.{tag}.npy"
                written.append(path)
                jobs = _checksum_jobs(arr, pool)  # summed while the bytes go to disk
                with open(path, "wb") as f:
                    np.lib.format.write_array(f, arr, allow_pickle=False)
                    f.flush()
                    os.fsync(f.fileno())
                files[name] = {"file": path.name, "dtype": np.lib.format.dtype_to_descr(arr.dtype),
                               "shape": list(arr.shape), "crc32": [j.result() for j in jobs]}
                if i == 0:
                    reached("checkpoint-arrays")
        index = {"format": FORMAT, "version": VERSION, "meta": meta, "arrays": files}
        index["checksum"] = _index_checksum(index)
        tmp = where / f".{INDEX}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(index, f, separators=(",", ":"), allow_nan=True)
            f.flush()
            os.fsync(f.fileno())
        if arrays:
            reached("checkpoint-index")
        os.replace(tmp, where / INDEX)
        _fsync_dir(where)
    except BaseException:
        # the old checkpoint.json still names the old files: drop only the new ones
        for path in written:
            if not _named(where, path.name):
                path.unlink(missing_ok=True)
        (where / f".{INDEX}.tmp").unlink(missing_ok=True)
        raise
    if arrays:
        reached("checkpoint-commit")
    _tidy(where, {f["file"] for f in files.values()})


def _named(where: Path, name: str) -> bool:
    """Whether the current checkpoint.json names the file `name`."""
    try:
        index = json.loads((where / INDEX).read_text(encoding="utf-8"))
        return any(f.get("file") == name for f in index["arrays"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _tidy(where: Path, keep: set[str]) -> None:
    """Remove array files that the checkpoint no longer names (and leftover temporaries)."""
    for path in where.iterdir():
        if path.name != INDEX and path.name not in keep:
            try:
                path.unlink()
            except OSError:
                pass


def remove(folder: Path) -> None:
    """Delete the checkpoint of a finished run: its index first, so no half checkpoint is read."""
    where = folder / FOLDER
    (where / INDEX).unlink(missing_ok=True)
    shutil.rmtree(where, ignore_errors=True)


def _bad(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"{path}: {what}; the checkpoint is damaged or was altered, so the "
                           "run cannot continue from it (start it again with `socialcredit "
                           "run`)", "resume")


def read_index(folder: Path) -> dict:
    """The checked contents of checkpoint.json: format, version, checksum and array entries."""
    path = folder / FOLDER / INDEX
    try:
        if path.stat().st_size > MAX_INDEX_BYTES:
            raise _bad(path, "too large to be a checkpoint index")
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint in {str(folder)!r}", "resume") from None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror}", "resume") from None
    except (ValueError, RecursionError) as e:
        raise _bad(path, f"not valid JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise _bad(path, "not a socialcredit checkpoint")
    if index.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format {index.get('version')!r}; this "
                              f"version of socialcredit reads format {VERSION} (continue the run "
                              "with the version that started it)", "resume")
    if index.get("checksum") != _index_checksum(index):
        raise _bad(path, "its checksum does not match its contents")
    arrays, meta = index.get("arrays"), index.get("meta")
    if not isinstance(arrays, dict) or not isinstance(meta, dict):
        raise _bad(path, "no arrays or no metadata")
    for name, entry in arrays.items():
        ok = (isinstance(entry, dict) and isinstance(entry.get("file"), str)
              and Path(entry["file"]).name == entry["file"] and entry["file"].endswith(".npy")
              and isinstance(entry.get("shape"), list)
              and all(isinstance(d, int) and d >= 0 for d in entry["shape"])
              and isinstance(entry.get("crc32"), list)
              and all(isinstance(c, int) for c in entry["crc32"]))
        if not ok:
            raise _bad(path, f"entry {name!r} is malformed")
    return index


def read(folder: Path, threads: int = 2) -> tuple[dict, dict[str, np.ndarray]]:
    """The checkpoint's metadata and arrays, each array's dtype, shape and checksums checked."""
    index = read_index(folder)
    where = folder / FOLDER
    arrays: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for name, entry in index["arrays"].items():
            path = where / entry["file"]
            try:
                with open(path, "rb") as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    if list(shape) != entry["shape"] or dtype.hasobject:
                        raise _bad(path, f"array {name} has shape {list(shape)} and dtype "
                                   f"{dtype}, not what the index says")
                    want = np.lib.format.dtype_to_descr(dtype)
                    if json.loads(json.dumps(want)) != entry.get("dtype"):
                        raise _bad(path, f"array {name} has dtype {dtype}, not what the index "
                                   "says")
                    f.seek(0)
                    arr = np.lib.format.read_array(f, allow_pickle=False)
            except FileNotFoundError:
                raise _bad(path, "missing") from None
            except OSError as e:
                if e.errno in (errno.EIO,):
                    raise _bad(path, e.strerror) from None
                raise CheckpointError(f"cannot read {path}: {e.strerror}", "resume") from None
            except CheckpointError:
                raise
            except Exception as e:  # numpy's header parser raises many kinds on a bad file
                first = (str(e).splitlines() or [type(e).__name__])[0][:120]
                raise _bad(path, f"not a plain .npy array ({first})") from None
            if _checksums(arr, pool) != entry["crc32"]:
                raise _bad(path, f"array {name} does not match its checksum")
            arrays[name] = arr
    return index["meta"], arrays
