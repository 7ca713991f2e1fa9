"""The HTML report of a run."""

from __future__ import annotations

from pathlib import Path


def write_report(results, path: Path) -> Path:
    """Write the HTML report of `results` to `path` (matplotlib is loaded only here, so the
    printed summary, which shares report/facts.py, starts fast)."""
    from .html import write_report as write

    return write(results, path)


__all__ = ["write_report"]
