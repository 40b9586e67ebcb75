"""Finding session rollout files by their content, not their names.

A file is a session rollout file when its first line (decompressed, for
zstandard data) is a ``session_meta`` record. A directory is a session
directory when it is not a trace bundle and holds at least one session file,
at any depth (``~/.codex/sessions/YYYY/MM/DD/``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import zstandard

from tracegraph.sessions.lines import ZSTD_MAGIC, open_session_bytes

__all__ = ["MAX_META_LINE", "candidate_files", "find_session_files", "is_session_file", "is_session_source"]

#: Longest first line sniffed (a session_meta line with base instructions is ~20-60 KB).
MAX_META_LINE = 16 * 1024 * 1024

#: A bundle directory holds this file (tracegraph.bundle.manifest.MANIFEST_FILE_NAME).
_BUNDLE_MANIFEST = "manifest.json"


def is_session_file(path: Path) -> bool:
    """Whether ``path`` is a readable file whose first line is a ``session_meta`` record."""
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if not head.startswith(b"{") and head != ZSTD_MAGIC[:2]:
                return False
        stream, _ = open_session_bytes(path)
        with stream:
            # Bounded: a huge file without newlines is not read whole just to sniff it.
            first = stream.readline(MAX_META_LINE)
    except (OSError, ValueError, zstandard.ZstdError):
        return False
    try:
        value = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return (isinstance(value, dict) and value.get("type") == "session_meta"
            and isinstance(value.get("payload"), dict))


def candidate_files(directory: Path) -> Iterator[Path]:
    """Files under ``directory`` in name order, skipping hidden entries and bundles."""
    try:
        entries = sorted(directory.iterdir(), key=lambda entry: entry.name)
    except OSError:
        return
    if any(entry.name == _BUNDLE_MANIFEST for entry in entries):
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from candidate_files(entry)
        elif entry.is_file():
            yield entry


def find_session_files(directory: Path) -> list[Path]:
    """Every session file under ``directory`` (recursively), in path order."""
    return [path for path in candidate_files(directory) if is_session_file(path)]


def is_session_source(path: Path) -> bool:
    """A session file, or a directory (not a bundle) holding one at any depth."""
    if path.is_file():
        return is_session_file(path)
    if path.is_dir() and not (path / _BUNDLE_MANIFEST).exists():
        return any(is_session_file(file) for file in candidate_files(path))
    return False
