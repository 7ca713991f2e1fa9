"""The sources behind a scenario: what each id (S4, R1, P2, C, ...) stands for and which
values no source gives.

The ids are explained in SOURCES.md beside this file, one entry per id: a heading
``### ID — title``, what the source states, and a line ``Published in: ...``. This module
reads that document once and answers three questions a reader of a scenario asks: what does
an id say (`lookup`), which ids does a scenario cite (`cited`), and which of its values are
assumed rather than sourced (`assumed_values`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from ..errors import UserError
from ..scenario.schema import NAMED, Scenario

ASSUMED = "assumed"
"""The word a scenario writes instead of an id for a value no source gives."""

_HEADING = re.compile(r"^###\s+(?P<id>[A-Za-z]+[0-9]*)\s+[—–-]\s+(?P<title>\S.*?)\s*$")
_PUBLISHED = "Published in:"
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Source:
    """One entry of SOURCES.md: what was reported, and where."""

    id: str
    title: str
    statement: str  # paragraphs separated by a blank line, list items one per line
    published: str


def _unwrap(block: list[str]) -> str:
    """One block of lines as text: wrapped lines joined, each "- " list item on its line."""
    items: list[str] = []
    for line in block:
        if line.startswith("- ") or not items:
            items.append(line.strip())
        else:
            items[-1] += " " + line.strip()
    return "\n".join(items)


def _entry(sid: str, title: str, body: list[str]) -> Source:
    """An entry from its heading and the lines below it."""
    blocks: list[list[str]] = [[]]
    for line in body:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    texts = [_unwrap(b) for b in blocks if b]
    published = [t for t in texts if t.startswith(_PUBLISHED)]
    statement = [t for t in texts if not t.startswith(_PUBLISHED)]
    if len(published) != 1 or not statement:
        raise ValueError(f"SOURCES.md: entry {sid} needs a statement and one "
                         f"'{_PUBLISHED}' line")
    return Source(sid, title, "\n\n".join(statement),
                  published[0][len(_PUBLISHED):].strip())


def parse(text: str) -> dict[str, Source]:
    """The entries of a sources document, by id, in the order they appear.

    An entry runs from its ``### ID — title`` heading to the next heading of any level."""
    found: dict[str, Source] = {}
    head: re.Match | None = None
    body: list[str] = []

    def close() -> None:
        if head is not None:
            sid = head["id"].upper()
            if sid in found:
                raise ValueError(f"SOURCES.md: entry {sid} appears twice")
            found[sid] = _entry(sid, head["title"], body)

    for line in text.splitlines():
        if line.startswith("#"):
            close()
            head, body = _HEADING.match(line), []
        elif head is not None:
            body.append(line)
    close()
    return found


def document() -> str:
    """The text of SOURCES.md as shipped with the package."""
    return (resources.files(__package__) / "SOURCES.md").read_text(encoding="utf-8")


@functools.cache
def _entries() -> dict[str, Source]:
    return parse(document())


def entries() -> dict[str, Source]:
    """Every entry of SOURCES.md by id (A1..A5, S1..S21, R1..R11, P1..P4, C), in order."""
    return dict(_entries())


def valid_ids() -> str:
    """The ids as a reader would write them, runs shortened: "A1..A5, S1..S21, ..., C"."""
    runs: list[list[str]] = []
    for sid in _entries():
        prefix = sid.rstrip("0123456789")
        if runs and runs[-1][0].rstrip("0123456789") == prefix and prefix != sid:
            runs[-1].append(sid)
        else:
            runs.append([sid])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def lookup(ids: Iterable[str], where: str | None = None) -> list[Source]:
    """The entries for `ids` (any case, in the order given, each once).

    An id the document does not hold raises UserError naming it and the valid ids; `where`
    says where it was written (a scenario file, the command line)."""
    known = _entries()
    out: list[Source] = []
    for raw in ids:
        sid = raw.strip().upper()
        if sid not in known:
            raise UserError(f"unknown source id {raw.strip()[:40]!r}; valid: {valid_ids()}",
                            where)
        if known[sid] not in out:
            out.append(known[sid])
    return out


def split_ids(text: str) -> list[str]:
    """The ids in one `source` value: "R1,S12", "R1, R3" or "S4; assumed" (without
    "assumed"), upper-cased."""
    return [p.upper() for p in _SPLIT.split(text) if p and p.lower() != ASSUMED]


def _walk(node: object) -> Iterator[dict]:
    """Every mapping inside a scenario dump, outermost first."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def cited(scenario: Scenario) -> list[str]:
    """Every id the scenario cites in any `source` or `sources` field, each once.

    Ids the document holds come in its order (S, R, P, C); others, which `lookup` refuses,
    follow in the order they are first cited."""
    found: list[str] = []
    for node in _walk(scenario.model_dump(mode="json")):
        for key in ("source", "sources"):
            value = node.get(key)
            for text in [value] if isinstance(value, str) else value or []:
                if isinstance(text, str):
                    found.extend(i for i in split_ids(text) if i not in found)
    order = {sid: n for n, sid in enumerate(_entries())}
    return sorted(found, key=lambda i: (order.get(i, len(order)), found.index(i)))


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_numeric(v: object) -> bool:
    """A number, or a list of numbers (such as a ladder of points)."""
    return _is_number(v) or (isinstance(v, list) and bool(v) and all(map(_is_number, v)))


def _leaves(value: object, path: str) -> Iterator[tuple[str, object]]:
    """The values under `path`, each with its --set path: sections and named entries of
    lists are opened up; values and lists of values are leaves; unset values are left out."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in ("source", "assumed"):
                yield from _leaves(v, f"{path}.{k}")
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        key = NAMED.get(path.rsplit(".", 1)[-1], "name")
        for x in value:
            if x.get(key) is not None:
                yield from _leaves(x, f"{path}.{x[key]}")
    elif value is not None:
        yield path, value


def _entries_of(node: object, path: str) -> Iterator[tuple[str, dict]]:
    """Every entry that names a source (a mapping with `source`), with its --set path."""
    if isinstance(node, dict):
        if "source" in node:
            yield path, node
        for k, v in node.items():
            yield from _entries_of(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        key = NAMED.get(path.rsplit(".", 1)[-1], "name")
        for x in node:
            if isinstance(x, dict) and x.get(key) is not None:
                yield from _entries_of(x, f"{path}.{x[key]}")


def assumed_values(scenario: Scenario) -> list[tuple[str, object]]:
    """Every value of the scenario that no source gives, as (--set path, value).

    An entry whose `source` is only "assumed" (or says "assumed" and lists no fields)
    assumes all its numbers; any entry assumes the fields its `assumed` list names. Paths
    name entries of lists as `--set` does (acts.littering.rate, rules.littering.points);
    values are as a scenario dump holds them (numbers, text, dates as text, lists), so
    f"{path}={value}" is a valid `--set`. Sections inside an entry that name their own
    source answer for themselves; unset values are left out; [[calibrate]] bounds are not
    values of the model, so they are left out too."""
    data = scenario.model_dump(mode="json", exclude={"calibrate"})
    out: dict[str, object] = {}
    for path, node in _entries_of(data, ""):
        parts = [p.lower() for p in _SPLIT.split(node.get("source") or "") if p]
        named = node.get("assumed") or []
        whole = ASSUMED in parts and (set(parts) == {ASSUMED} or not named)
        for field, value in node.items():
            if field in ("source", "assumed"):
                continue
            if field in named:
                out.update(_leaves(value, f"{path}.{field}"))
            elif whole and not (isinstance(value, dict) and "source" in value):
                own = [x for x in ([value] if not isinstance(value, list) else value)
                       if isinstance(x, dict) and "source" in x]
                if not own:
                    out.update((p, v) for p, v in _leaves(value, f"{path}.{field}")
                               if _is_numeric(v))
    return list(out.items())


__all__ = ["ASSUMED", "Source", "assumed_values", "cited", "document", "entries", "lookup",
           "parse", "split_ids", "valid_ids"]
