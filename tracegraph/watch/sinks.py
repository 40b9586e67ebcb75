"""Where the watch loop writes each bundle's graph: Neo4j, or one GraphML file per bundle.

A sink is told the graph a bundle has now and the graph it last wrote for that
bundle (``None``: it does not know what the target holds). Neo4j gets only what
changed, in transactions of at most ``batch_size`` rows; when the previous graph
is unknown (first look at a bundle in this run, after a failed write, after a
reload) it gets a full idempotent load that also removes what the trace no
longer has, so what an earlier run left behind is corrected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx

from tracegraph.graph.graphml import write_graphml
from tracegraph.graph.schema import Label, Rel
from tracegraph.neo4j import DEFAULT_BATCH_SIZE, ExportSummary, delete_trace, export_graph
from tracegraph.neo4j.errors import Neo4jExportError, translate
from tracegraph.neo4j.export import node_merge_query, relationship_merge_query
from tracegraph.neo4j.properties import encode_properties
from tracegraph.neo4j.schema import KEY_PROPERTY, cypher_name
from tracegraph.watch.diff import EdgeRef, GraphDiff, diff_graphs

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction

__all__ = ["GraphmlSink", "Neo4jSink", "Sink", "WriteResult", "write_graph_changes"]


@dataclass(frozen=True)
class WriteResult:
    """What one write did: elements written (upserted or removed), transactions."""

    elements: int
    transactions: int
    full: bool


class Sink(Protocol):
    def write(self, name: str, graph: nx.MultiDiGraph,
              previous: nx.MultiDiGraph | None) -> WriteResult:
        """Make the target hold ``graph`` for bundle ``name``."""

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        """The bundle now holds another trace: drop what was written for ``previous``."""


class GraphmlSink:
    """Keeps ``DIR/NAME.graphml`` equal to each bundle's graph (atomic replace)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.graphml"

    def write(self, name: str, graph: nx.MultiDiGraph,
              previous: nx.MultiDiGraph | None) -> WriteResult:
        write_graphml(graph, self.path(name))
        return WriteResult(graph.number_of_nodes() + graph.number_of_edges(), 1, True)

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        # The next write replaces the file whole.
        return None


class Neo4jSink:
    """Upserts each bundle's changes into Neo4j; one transaction per batch."""

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
        diff = diff_graphs(previous, graph)
        summary = write_graph_changes(self.driver, graph, diff, database=self.database,
                                      batch_size=self.batch_size)
        return WriteResult(diff.size, summary.batches, False)

    def forget(self, name: str, previous: nx.MultiDiGraph) -> None:
        for trace_id in previous.graph.get("trace_ids", ()):
            delete_trace(self.driver, trace_id, database=self.database,
                         batch_size=self.batch_size)


# --- writing a diff --------------------------------------------------------------------

_KEY = cypher_name(KEY_PROPERTY)


def _delete_nodes_query(label: str) -> str:
    return (f"UNWIND $rows AS k MATCH (x:{cypher_name(Label(label).value)} {{{_KEY}: k}}) "
            "DETACH DELETE x RETURN count(*) AS rows, count(*) AS written")


def _delete_relationships_query(rel: str) -> str:
    return (f"UNWIND $rows AS k MATCH ()-[x:{cypher_name(Rel(rel).value)} {{{_KEY}: k}}]->() "
            "DELETE x RETURN count(*) AS rows, count(*) AS written")


@dataclass(frozen=True)
class _Step:
    """One query of a batch: nodes, relationships, removed relationships or removed nodes."""

    phase: str
    query: str
    rows: list[Any]


def _edge_key(ref: EdgeRef, attrs: dict[str, Any]) -> str:
    edge_key = attrs.get("edge_key")
    return edge_key if isinstance(edge_key, str) and edge_key else str(ref[2])


def _props(attrs: dict[str, Any]) -> dict[str, Any]:
    props = encode_properties(attrs)
    props.pop(KEY_PROPERTY, None)
    return props


def _steps(graph: nx.MultiDiGraph, diff: GraphDiff) -> Iterator[_Step]:
    """Upserts of nodes then relationships, then removals, grouped by query."""
    by_query: dict[tuple[str, str], list[Any]] = {}

    def add(phase: str, query: str, row: Any) -> None:
        by_query.setdefault((phase, query), []).append(row)

    for key in diff.nodes:
        attrs = graph.nodes[key]
        add("nodes", node_merge_query(attrs["label"]), {"k": key, "p": _props(attrs)})
    for ref in diff.edges:
        u, v, _ = ref
        attrs = graph.edges[ref]
        query = relationship_merge_query(attrs["label"], graph.nodes[u]["label"],
                                         graph.nodes[v]["label"])
        add("relationships", query,
            {"s": u, "t": v, "k": _edge_key(ref, attrs), "p": _props(attrs)})
    for ref, rel in diff.removed_edges:
        add("removed relationships", _delete_relationships_query(rel), str(ref[2]))
    for key, label in diff.removed_nodes:
        add("removed nodes", _delete_nodes_query(label), key)
    for (phase, query), rows in by_query.items():
        yield _Step(phase, query, rows)


def _batches(steps: Iterator[_Step], batch_size: int) -> Iterator[list[_Step]]:
    batch: list[_Step] = []
    room = batch_size
    for step in steps:
        rows = step.rows
        while rows:
            take, rows = rows[:room], rows[room:]
            batch.append(_Step(step.phase, step.query, take))
            room -= len(take)
            if room == 0:
                yield batch
                batch, room = [], batch_size
    if batch:
        yield batch


def _run_batch(tx: ManagedTransaction, batch: list[_Step]) -> list[tuple[int, int, int]]:
    out = []
    for step in batch:
        result = tx.run(step.query, rows=step.rows, common={})
        record = result.single(strict=True)
        counters = result.consume().counters
        rows, written = int(record["rows"]), int(record["written"] or 0)
        if step.phase == "relationships" and rows != len(step.rows):
            raise Neo4jExportError(
                f"{len(step.rows) - rows} of {len(step.rows)} relationship rows found no "
                "endpoint node (was the trace deleted while it was watched?)")
        created = (counters.nodes_created if step.phase == "nodes"
                   else counters.relationships_created)
        out.append((rows, written, created))
    return out


def write_graph_changes(driver: Driver, graph: nx.MultiDiGraph, diff: GraphDiff, *,
                        database: str | None = None,
                        batch_size: int = DEFAULT_BATCH_SIZE) -> ExportSummary:
    """Write ``diff`` (computed against what Neo4j holds) of ``graph``: upserts, removals.

    Every batch of at most ``batch_size`` rows is one transaction, so an
    interrupted write leaves whole batches; writing the same diff again, or a
    full load, completes it.
    """
    summary = ExportSummary(trace_ids=tuple(graph.graph.get("trace_ids", ())),
                            nodes=graph.number_of_nodes(),
                            relationships=graph.number_of_edges())
    if not diff:
        return summary
    try:
        with driver.session(database=database) as session:
            for batch in _batches(_steps(graph, diff), batch_size):
                counts = session.execute_write(_run_batch, batch)
                summary.batches += 1
                for step, (rows, written, created) in zip(batch, counts, strict=True):
                    if step.phase == "removed relationships":
                        summary.relationships_deleted += written
                    elif step.phase == "removed nodes":
                        summary.nodes_deleted += written
                    else:
                        summary.add(step.phase, rows=rows, written=written, created=created)
    except Neo4jExportError:
        raise
    except Exception as err:
        translated = translate(err, database=database, batches_written=summary.batches)
        if translated is None:
            raise
        raise translated from err
    return summary
