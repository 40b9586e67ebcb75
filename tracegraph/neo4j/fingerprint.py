"""Fingerprints that let a re-load skip what Neo4j already holds.

Two kinds, both stored in the ``load_fingerprint`` list property of a trace's
``Rollout`` node once a load of that trace has completed (and removed before a
load or an incremental upsert writes anything, so a half-written trace never
carries one):

- **Units**: one digest per *unit* of a trace's graph, the nodes of one label
  (``N:Label``) or the relationships of one type leaving one label
  (``R:TYPE:Label``, the unit the clean-up works on). A load compares elements,
  and cleans up, only in units whose digest differs from the stored one.
- **Source**: a digest of the input files (a bundle's manifest, event log and
  payloads, or a ``state.json``), the reduction options and tracegraph's own
  code. When the database holds it, the CLI does not even reduce and project
  that source again.

The database is trusted to hold what the last completed load wrote: a change
made by hand to a loaded trace is not seen by a re-load whose fingerprints
match (``export_graph(..., trust_fingerprints=False)`` compares everything).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import orjson

from tracegraph.bundle.manifest import (
    MANIFEST_FILE_NAME,
    PAYLOADS_DIR_NAME,
    RAW_EVENT_LOG_FILE_NAME,
)
from tracegraph.graph.schema import GRAPH_SCHEMA_VERSION

__all__ = [
    "FINGERPRINT_FORMAT",
    "FINGERPRINT_PROPERTY",
    "SOURCE_PREFIX",
    "code_fingerprint",
    "node_unit",
    "parse_source_entry",
    "relationship_unit",
    "row_text",
    "source_entry",
    "source_fingerprint",
    "unit_digest",
]

#: The Rollout node property holding the fingerprints (a list of strings).
FINGERPRINT_PROPERTY = "load_fingerprint"
#: Bumped when what a unit digest covers, or how a unit is stored, changes: older
#: fingerprints then never match, so the next load compares and rewrites every unit
#: (3: relationships no longer store ``label`` and ``edge_key``).
FINGERPRINT_FORMAT = 3
#: Prefix of the entry recording a source fingerprint.
SOURCE_PREFIX = "source "
_PACKAGE = Path(__file__).resolve().parents[1]
_CHUNK = 1 << 20


def node_unit(label: str) -> str:
    return f"N:{label}"


def relationship_unit(rel: str, source_label: str) -> str:
    return f"R:{rel}:{source_label}"


def row_text(value: object) -> bytes:
    """Deterministic bytes of a row part (plain dicts, lists and scalars; orjson makes it
    cheap). Values orjson cannot write (a huge int, a lone surrogate) take ``repr``."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return repr(value).encode("utf-8", "surrogatepass")


def unit_digest(lines: Iterable[bytes]) -> str:
    """Digest of a unit's rows, one :func:`row_text` line each (in plan order)."""
    h = hashlib.blake2b(f"{FINGERPRINT_FORMAT}/{GRAPH_SCHEMA_VERSION}".encode(), digest_size=16)
    h.update(b"\n".join(lines))
    return h.hexdigest()


@cache
def code_fingerprint() -> str:
    """Digest of tracegraph's Python sources: a changed reducer or projection changes
    every source fingerprint, so a re-load after an upgrade is never skipped."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _update_file(h: hashlib.blake2b, path: Path) -> None:
    h.update(f"{path.name}\0{path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)


def source_fingerprint(path: str | Path, *, options: str = "") -> str:
    """Digest of a bundle directory's inputs (manifest, event log, payload files) or of
    a state file, with ``options`` (dialect, lenient) and :func:`code_fingerprint`.

    Files it cannot read make it raise ``OSError``; callers then simply load.
    """
    path = Path(path)
    h = hashlib.blake2b(f"{code_fingerprint()}\0{options}\0".encode(), digest_size=16)
    if path.is_dir():
        for name in (MANIFEST_FILE_NAME, RAW_EVENT_LOG_FILE_NAME):
            _update_file(h, path / name)
        payloads = path / PAYLOADS_DIR_NAME
        if payloads.is_dir():
            for child in sorted(payloads.iterdir()):
                if child.is_file():
                    _update_file(h, child)
    else:
        _update_file(h, path)
    return h.hexdigest()


def source_entry(fingerprint: str, nodes: int, relationships: int) -> str:
    """The ``load_fingerprint`` entry recording a source fingerprint and its graph's size."""
    return f"{SOURCE_PREFIX}{fingerprint} {nodes} {relationships}"


def parse_source_entry(entry: str) -> tuple[str, int, int] | None:
    """(fingerprint, nodes, relationships) of a source entry, else ``None``."""
    parts = str(entry).split(" ")
    if len(parts) != 4 or parts[0] + " " != SOURCE_PREFIX:
        return None
    try:
        return parts[1], int(parts[2]), int(parts[3])
    except ValueError:
        return None
