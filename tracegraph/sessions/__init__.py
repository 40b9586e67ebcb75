"""Reading Codex session rollout files (``~/.codex/sessions``).

Every Codex user has them: one JSONL file per thread (``rollout-*.jsonl``, or
``.jsonl.zst``). :func:`read_session_rollouts` reads a file or a directory of
them and groups the files into one rollout per root session (sub-agents become
child threads; copied parent history is left out). The graph layer projects each
into the same typed graph as a trace bundle, with what a session file cannot give
left absent (:mod:`tracegraph.graph.session`)::

    from tracegraph.graph import load_session_graph   # or load_graph: any source

    graph = load_session_graph("~/.codex/sessions")
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from tracegraph.sessions.detect import find_session_files, is_session_file, is_session_source
from tracegraph.sessions.group import ERAS, RolloutGroup, group_rollouts
from tracegraph.sessions.lines import SessionFile, SessionFileError, read_session_file

__all__ = [
    "ERAS",
    "RolloutGroup",
    "SessionFile",
    "SessionFileError",
    "find_session_files",
    "group_rollouts",
    "is_session_file",
    "is_session_source",
    "read_session_file",
    "read_session_rollouts",
    "session_notes",
]


def read_session_rollouts(path: str | Path) -> list[RolloutGroup]:
    """The rollouts of a session file or a directory of them (searched recursively)."""
    # Absolute paths, so the graph (and a Neo4j load) does not depend on how it was named.
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        files = find_session_files(path)
        if not files:
            raise SessionFileError(f"{path}: no Codex session rollout files in this directory")
    elif path.is_file():
        files = [path]
    else:
        raise SessionFileError(f"{path}: no such session file or directory")
    return group_rollouts(read_session_file(file) for file in files)


def session_notes(graph: nx.MultiDiGraph) -> list[str]:
    """One line per rollout saying what was skipped or still being written, for stderr."""
    notes: list[str] = []
    for _, data in sorted(graph.nodes(data=True)):
        if data.get("label") != "Rollout" or data.get("source") != "session-rollout":
            continue
        skipped = json.loads(data.get("skipped") or "{}")
        if skipped:
            counts = ", ".join(f"{name} x{count}" for name, count in skipped.items())
            notes.append(f"rollout {data['object_id']}: skipped unknown types: {counts}")
        for path in data.get("torn_files") or ():
            notes.append(f"rollout {data['object_id']}: {path}: last line cut off "
                         "(still being written); left out")
    return notes
