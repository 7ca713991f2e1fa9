"""The engine: state columns, random streams, the day loop, checkpoints.

Compiled kernels are cached on disk. Numba checks only a kernel's own source file, not the
functions it inlines from other modules, so the cache lives in a folder named after a hash of
the whole package's source: any change to the code starts a fresh cache, never a stale one.
Set NUMBA_CACHE_DIR to choose the folder yourself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


def _fingerprint() -> str:
    h = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _use_private_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "socialcredit"
    folder = base / f"kernels-{numba.__version__}-{_fingerprint()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # keep numba's default (beside the sources)
    numba.config.CACHE_DIR = str(folder)


_use_private_cache()
