"""Where the watch loop writes each bundle's graph: Neo4j, or one GraphML file per bundle.

A sink is told the graph a bundle has now and the graph it last wrote for that
bundle (``None``: it does not know what the target holds). Neo4j gets only what
changed, in transactions of at most ``batch_size`` rows; when the previous graph
is unknown (first look at a bundle in this run, after a failed write, after a
reload) it gets a full idempotent load that also removes what the trace no
longer has, so what an earlier run left behind is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import networkx as nx

from tracegraph.graph.graphml import write_graphml
from tracegraph.neo4j import (
    DEFAULT_BATCH_SIZE,
    ExportSummary,
    delete_trace,
    export_graph,
    upsert_trace_elements,
)
from tracegraph.watch.diff import GraphDiff, diff_graphs

if TYPE_CHECKING:
    from neo4j import Driver

__all__ = ["GraphmlSink", "Neo4jSink", "Sink", "WriteResult", "write_graph_changes"]


@dataclass(frozen=True)
class WriteResult:
    """What one write did: elements written (upserted or removed), transactions."""

    elements: int
    transactions: int
    full: bool


class Sink(Protocol):
    #: Whether the sink wants a kept graph and its changes (``write_changes``) rather
    #: than a fresh graph at every look.
    incremental: bool

    def write(self, name: str, graph: nx.MultiDiGraph,
              previous: nx.MultiDiGraph | None) -> WriteResult:
        """Make the target hold ``graph`` for bundle ``name``."""

    def write_changes(self, name: str, graph: nx.MultiDiGraph, diff: GraphDiff) -> WriteResult:
        """The target holds ``graph`` as it was before ``diff``: write ``diff``."""

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        """The bundle now holds another trace: drop what was written for ``previous``."""


class GraphmlSink:
    """Keeps ``DIR/NAME.graphml`` equal to each bundle's graph (atomic replace)."""

    #: A file is written whole anyway; a fresh projection keeps ``export``'s element order.
    incremental = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.graphml"

    def write(self, name: str, graph: nx.MultiDiGraph,
              previous: nx.MultiDiGraph | None) -> WriteResult:
        write_graphml(graph, self.path(name))
        return WriteResult(graph.number_of_nodes() + graph.number_of_edges(), 1, True)

    def write_changes(self, name: str, graph: nx.MultiDiGraph, diff: GraphDiff) -> WriteResult:
        return self.write(name, graph, None)

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        # The next write replaces the file whole.
        return None


class Neo4jSink:
    """Upserts each bundle's changes into Neo4j; one transaction per batch."""

    incremental = True

    def __init__(self, driver: Driver, *, database: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.driver = driver
        self.database = database
        self.batch_size = batch_size
        self._schema_done = False

    def write(self, name: str, graph: nx.MultiDiGraph,
              previous: nx.MultiDiGraph | None) -> WriteResult:
        if previous is None:
            summary = export_graph(graph, self.driver, database=self.database,
                                   batch_size=self.batch_size,
                                   create_schema=not self._schema_done)
            self._schema_done = True
            written = (summary.nodes_created + summary.nodes_updated + summary.nodes_deleted
                       + summary.relationships_created + summary.relationships_updated
                       + summary.relationships_deleted)
            return WriteResult(written, summary.batches, True)
        return self.write_changes(name, graph, diff_graphs(previous, graph))

    def write_changes(self, name: str, graph: nx.MultiDiGraph, diff: GraphDiff) -> WriteResult:
        summary = write_graph_changes(self.driver, graph, diff, database=self.database,
                                      batch_size=self.batch_size)
        return WriteResult(diff.size, summary.batches, False)

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        for trace_id in previous.graph.get("trace_ids", ()):
            delete_trace(self.driver, trace_id, database=self.database,
                         batch_size=self.batch_size)


# --- writing a diff --------------------------------------------------------------------


def write_graph_changes(driver: Driver, graph: nx.MultiDiGraph, diff: GraphDiff, *,
                        database: str | None = None,
                        batch_size: int = DEFAULT_BATCH_SIZE) -> ExportSummary:
    """Write ``diff`` (computed against what Neo4j holds) of ``graph``: upserts, removals.

    Every batch of at most ``batch_size`` rows is one transaction
    (:func:`~tracegraph.neo4j.upsert_trace_elements`), so an interrupted write
    leaves whole batches; writing the same diff again, or a full load, completes it.
    """
    trace_ids = [str(t) for t in graph.graph.get("trace_ids", ())]
    if not diff or not trace_ids:
        return ExportSummary(trace_ids=tuple(trace_ids))
    return upsert_trace_elements(
        driver, graph, trace_ids[0], nodes=diff.nodes, edges=diff.edges,
        remove_nodes=[(label, key) for key, label in diff.removed_nodes],
        remove_edges=[(rel, str(ref[2])) for ref, rel in diff.removed_edges],
        database=database, batch_size=batch_size)
