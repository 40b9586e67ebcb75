"""What the commands read: bundles, state files, session files and GraphML, as graphs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tracegraph.bundle.limits import Limits
from tracegraph.bundle.manifest import MANIFEST_FILE_NAME
from tracegraph.cli.console import fail, print_notes, stderr, stdout
from tracegraph.cli.options import DialectChoice
from tracegraph.reducer import Replay, replay
from tracegraph.reducer.notes import replay_notes

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "GRAPH_FILE_NAME",
    "build_graph",
    "default_graph_path",
    "expand_sources",
    "replay_reporting",
    "source_graph",
    "write_combined",
]


def replay_reporting(bundle: Path, dialect: DialectChoice, lenient: bool, *,
                     strict: bool = False, limits: Limits | None = None) -> Replay:
    """Replay a bundle; say on stderr when ``auto`` chose the upstream dialect (the seed
    is the silent default), list every event ``lenient`` skipped, and what was left
    out of a bundle caught mid-write."""
    result = replay(bundle, dialect=dialect.value, lenient=lenient, strict=strict,
                    limits=limits)
    print_notes(replay_notes(bundle, result, dialect.value))
    return result


#: Default GraphML file name, written into the bundle (or beside the state file).
GRAPH_FILE_NAME = "graph.graphml"


def default_graph_path(source: Path) -> Path:
    return (source if source.is_dir() else source.parent) / GRAPH_FILE_NAME


def build_graph(source: Path, step: Callable[[str], None],
                dialect: DialectChoice = DialectChoice.AUTO,
                lenient: bool = False, full_snapshots: bool = False, *,
                strict: bool = False, limits: Limits | None = None) -> nx.MultiDiGraph:
    from tracegraph.graph.load import load_session_graph, load_trace, source_kind
    from tracegraph.graph.project import project
    from tracegraph.sessions import session_notes

    if source_kind(source) == "session":
        step(f"reading session files {source}")
        graph = load_session_graph(source)
        for line in session_notes(graph):
            stderr.print(f"{source}: {line}", markup=False, highlight=False, soft_wrap=True)
        return graph
    step(f"replaying {source}" if source.is_dir() else f"loading {source}")
    trace = (replay_reporting(source, dialect, lenient, strict=strict, limits=limits).trace
             if source.is_dir()
             else load_trace(source))
    step("projecting the graph")
    return project(trace, full_snapshots=full_snapshots)


def source_graph(source: Path, step: Callable[[str], None],
                 dialect: DialectChoice = DialectChoice.AUTO,
                 lenient: bool = False, full_snapshots: bool = False, *,
                 strict: bool = False, limits: Limits | None = None) -> nx.MultiDiGraph:
    """The graph of any source (bundle, state.json, session files); GraphML is read back as is."""
    from tracegraph.graph.graphml import read_graphml
    from tracegraph.graph.load import source_kind

    if source_kind(source) == "graphml":
        step(f"reading {source}")
        return read_graphml(source)
    return build_graph(source, step, dialect, lenient, full_snapshots, strict=strict,
                       limits=limits)


def expand_sources(sources: Sequence[Path]) -> list[Path]:
    """Bundle directories and state files; a directory of bundles stands for its bundles.

    A directory without ``manifest.json`` whose subdirectories hold bundles expands to
    those bundles (sorted by name); anything else is kept as given, so a bad source
    still gets the reducer's own error message.
    """
    out: list[Path] = []
    for source in sources:
        bundles: list[Path] = []
        if source.is_dir() and not (source / MANIFEST_FILE_NAME).exists():
            bundles = sorted(child for child in source.iterdir()
                             if (child / MANIFEST_FILE_NAME).is_file())
        for path in bundles or [source]:
            if path not in out:
                out.append(path)
    return out


def write_combined(graphs: Sequence[nx.MultiDiGraph], output: Path) -> nx.MultiDiGraph:
    from tracegraph.graph.compose import compose_graphs
    from tracegraph.graph.graphml import write_graphml

    try:
        graph = graphs[0] if len(graphs) == 1 else compose_graphs(graphs)
    except ValueError as err:
        raise fail(f"cannot load these sources together: {err}") from None
    write_graphml(graph, output)
    stdout.print(str(output), markup=False, highlight=False, soft_wrap=True)
    return graph
