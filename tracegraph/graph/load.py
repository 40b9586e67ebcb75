"""Load a trace or its graph from a bundle directory, a state.json or a GraphML file."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from tracegraph._gc import collector_paused
from tracegraph.bundle.limits import Limits
from tracegraph.errors import BundleError
from tracegraph.graph.compose import compose_graphs
from tracegraph.graph.graphml import read_graphml
from tracegraph.graph.project import project
from tracegraph.graph.session import project_session_rollout
from tracegraph.model import Dialect, RolloutTrace, load_state
from tracegraph.reducer import replay_bundle
from tracegraph.sessions import is_session_source, read_session_rollouts

__all__ = [
    "GRAPHML_SUFFIXES",
    "load_graph",
    "load_session_graph",
    "load_trace",
    "source_kind",
]

#: File suffixes :func:`load_graph` reads as GraphML rather than as a state file.
GRAPHML_SUFFIXES = frozenset({".graphml", ".xml"})


def load_trace(
    path: str | Path, *, dialect: Dialect | str = "auto", lenient: bool = False,
    strict: bool = False, limits: Limits | None = None,
) -> RolloutTrace:
    """Replay a bundle directory (``dialect``/``lenient``/``strict``/``limits`` as for
    :func:`~tracegraph.reducer.replay`), or load a ``state.json`` file."""
    path = Path(path)
    with collector_paused():
        if path.is_dir():
            return replay_bundle(path, dialect=dialect, lenient=lenient, strict=strict,
                                 limits=limits)
        if path.is_file():
            return load_state(path)
    raise BundleError(f"{path}: no such bundle directory or state file")


def load_session_graph(path: str | Path) -> nx.MultiDiGraph:
    """The graph of every rollout in a Codex session file or directory of them
    (``~/.codex/sessions``), composed into one."""
    graphs = [project_session_rollout(group) for group in read_session_rollouts(path)]
    return graphs[0] if len(graphs) == 1 else compose_graphs(graphs)


def source_kind(path: str | Path) -> str:
    """What a source path holds: ``graphml``, ``session`` (a Codex session rollout file
    or a directory of them, by content), ``bundle`` (a directory) or ``state``.

    Every command that loads a graph goes through this, so all of them accept the
    same sources."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in GRAPHML_SUFFIXES:
        return "graphml"
    if is_session_source(path):
        return "session"
    return "bundle" if path.is_dir() else "state"


def load_graph(
    path: str | Path, *, dialect: Dialect | str = "auto", lenient: bool = False,
    full_snapshots: bool = False, strict: bool = False, limits: Limits | None = None,
) -> nx.MultiDiGraph:
    """The graph of a bundle directory, ``state.json``, session rollout file or directory
    of them; a ``.graphml`` file is read back (in the form it was written).
    ``full_snapshots`` as for :func:`project`. (``dialect``, ``lenient`` and
    ``full_snapshots`` are for bundles: session files always skip and count unknown
    types, and have no request snapshots.)"""
    path = Path(path)
    kind = source_kind(path)
    if kind == "graphml":
        return read_graphml(path)
    if kind == "session":
        return load_session_graph(path)
    return project(load_trace(path, dialect=dialect, lenient=lenient, strict=strict,
                              limits=limits),
                   full_snapshots=full_snapshots)
