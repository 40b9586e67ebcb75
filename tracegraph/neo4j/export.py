"""Load typed graphs into Neo4j, idempotently; delete one rollout's subgraph.

Function-first::

    from tracegraph.graph import load_graph
    from tracegraph.neo4j import connect, delete_trace, export_graph

    graph = load_graph("examples/bundles/multi-agent")
    with connect("bolt://localhost:7687", user="neo4j", password="...") as driver:
        summary = export_graph(graph, driver)
        print(summary.nodes_created, summary.relationships_created)
        delete_trace(driver, graph.graph["trace_ids"][0])

What a load does, in order (one driver session, so reads see earlier writes,
on a cluster too):

1. **Schema**: :func:`tracegraph.neo4j.schema.schema_statements`, the statements of
   ``cypher/schema.cypher`` (uniqueness constraints on ``key``, indexes on
   ``trace_id`` and ``object_id``, then ``db.awaitIndexes``).
2. **Nodes**, grouped by label, one transaction per batch::

       UNWIND $rows AS row MERGE (n:Label {key: row.key}) ... SET n = row.props

   ``row.props`` holds every attribute (see :mod:`tracegraph.neo4j.properties`) plus
   ``key``, the networkx node key. ``SET n = ...`` replaces the property map, so
   properties a node no longer has go away; a node whose properties already equal
   ``row.props`` is not written at all (a re-load writes nothing).
3. **Relationships**, grouped by (type, source label, target label), the same way,
   matched on both endpoints' keys and merged on their own ``key`` (the
   ``edge_key`` attribute).
4. **Clean-up** of every trace in the graph: nodes of that ``trace_id`` (schema
   labels only) and relationships of schema types leaving them that are not in
   the graph are deleted, so the database equals a clean load of the graph. Cheap
   when nothing is stale: it counts per label and type first and reads keys only
   where the database holds more than the graph.

Labels and relationship types are written into the query text, but only from
the graph schema (:mod:`tracegraph.graph.schema`), never from the data: a node
or edge whose ``label`` is not in the schema, or an edge whose endpoints the
schema does not allow for its type, is refused before anything is written. Every
value travels as a query parameter.

A load interrupted half-way leaves whole batches behind (each batch is one
transaction); running it again completes it to exactly the state of a clean
load, because every batch is an idempotent ``MERGE`` and the clean-up runs last.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from tracegraph.errors import GraphError
from tracegraph.graph.schema import SCHEMA, Label, Rel
from tracegraph.neo4j.errors import SUPPORTED_SCHEMES, Neo4jExportError, translate
from tracegraph.neo4j.properties import encode_properties
from tracegraph.neo4j.schema import (
    KEY_PROPERTY,
    cypher_name,
    node_labels,
    relationship_types,
    schema_statements,
)

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction, Session

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_URI",
    "DeleteSummary",
    "ExportProgress",
    "ExportSummary",
    "connect",
    "delete_trace",
    "export_graph",
    "node_merge_query",
    "relationship_merge_query",
]

#: Rows per transaction. On the harness, 1,000 to 20,000 rows load within 20% of each other.
DEFAULT_BATCH_SIZE = 5000
#: Where ``tracegraph load --neo4j`` connects when no URI is given.
DEFAULT_URI = "bolt://localhost:7687"

_KEY = cypher_name(KEY_PROPERTY)


# --- queries (labels and types come from the schema only) ---------------------------


def _label(name: str) -> str:
    return cypher_name(Label(name).value)


def _rel(name: str) -> str:
    return cypher_name(Rel(name).value)


#: Shared tail of the upserts: ``x`` is the merged element. Its property map must be
#: ``row.p`` + ``$common`` + ``{key: row.k}`` (disjoint); it is written only when it
#: differs, so a re-load writes nothing. ``SET x = ...`` drops stale properties.
_UPSERT_TAIL = (
    "WITH x, row, size(keys(x)) = size(keys(row.p)) + size(keys($common)) + 1\n"
    "  AND all(k IN keys(row.p) WHERE x[k] = row.p[k])\n"
    "  AND all(k IN keys($common) WHERE x[k] = $common[k]) AS same\n"
    f"FOREACH (_ IN CASE WHEN same THEN [] ELSE [1] END | "
    f"SET x = row.p, x += $common, x.{_KEY} = row.k)\n"
    "RETURN count(*) AS rows, sum(CASE WHEN same THEN 0 ELSE 1 END) AS written"
)


def node_merge_query(label: Label | str) -> str:
    """The batched node upsert for ``label``; returns the rows seen and written.

    Parameters: ``$rows`` (``{k: key, p: properties}`` each) and ``$common`` (the
    properties every row of the batch shares, sent once).
    """
    label = _label(label)
    return "UNWIND $rows AS row\n" f"MERGE (x:{label} {{{_KEY}: row.k}})\n" + _UPSERT_TAIL


def relationship_merge_query(rel: Rel | str, source: Label | str, target: Label | str) -> str:
    """The batched relationship upsert for one (type, source label, target label) group.

    Rows are ``{s: source key, t: target key, k: key, p: properties}``.
    """
    rel, source, target = _rel(rel), _label(source), _label(target)
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (a:{source} {{{_KEY}: row.s}})\n"
        f"MATCH (b:{target} {{{_KEY}: row.t}})\n"
        f"MERGE (a)-[x:{rel} {{{_KEY}: row.k}}]->(b)\n" + _UPSERT_TAIL
    )


def _count_nodes_query(label: str) -> str:
    return f"MATCH (n:{_label(label)} {{trace_id: $trace_id}}) RETURN count(n) AS count"


def _node_keys_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)} {{trace_id: $trace_id}}) "
            f"RETURN n.{_KEY} AS key, elementId(n) AS id")


def _count_relationships_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)} {{trace_id: $trace_id}})-[r]->() "
            "RETURN type(r) AS type, count(r) AS count")


def _relationship_keys_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)} {{trace_id: $trace_id}})-[r]->() "
            f"WHERE type(r) IN $types RETURN type(r) AS type, r.{_KEY} AS key, "
            "elementId(r) AS id")


_DELETE_NODES_BY_ID = (
    "UNWIND $ids AS id MATCH (n) WHERE elementId(n) = id DETACH DELETE n RETURN count(*) AS count"
)
_DELETE_RELATIONSHIPS_BY_ID = (
    "UNWIND $ids AS id MATCH ()-[r]->() WHERE elementId(r) = id DELETE r RETURN count(*) AS count"
)


def _delete_trace_relationships_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)} {{trace_id: $trace_id}})-[r]-() "
            "WITH DISTINCT r LIMIT $limit DELETE r RETURN count(r) AS count")


def _delete_trace_nodes_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)} {{trace_id: $trace_id}}) "
            "WITH n LIMIT $limit DETACH DELETE n RETURN count(n) AS count")


# --- results ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExportProgress:
    """Reported to the ``progress`` callback after each committed batch.

    ``phase`` is ``schema``, ``nodes``, ``relationships`` or ``cleanup``; ``name``
    is the label or relationship type of the batch. ``batches_total`` counts the
    node and relationship batches (clean-up deletes are reported with the phase
    ``cleanup`` and do not count).
    """

    phase: str
    name: str
    batches_done: int
    batches_total: int
    rows_done: int
    rows_total: int


@dataclass
class ExportSummary:
    """What a load changed. ``unchanged`` elements were matched and already equal."""

    trace_ids: tuple[str, ...] = ()
    nodes: int = 0
    relationships: int = 0
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_unchanged: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_updated: int = 0
    relationships_unchanged: int = 0
    relationships_deleted: int = 0
    batches: int = 0
    seconds: float = 0.0
    #: Seconds spent on each phase: schema, upsert (nodes and relationships), cleanup.
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, *, rows: int, written: int, created: int) -> None:
        """Count one upserted segment of ``phase`` (``nodes`` or ``relationships``)."""
        if phase == "nodes":
            self.nodes_created += created
            self.nodes_updated += written - created
            self.nodes_unchanged += rows - written
        else:
            self.relationships_created += created
            self.relationships_updated += written - created
            self.relationships_unchanged += rows - written

    @property
    def elements_per_second(self) -> float:
        """Nodes plus relationships of the graph per second of the whole load."""
        return (self.nodes + self.relationships) / self.seconds if self.seconds else 0.0

    @property
    def changed(self) -> bool:
        """True when the load created, updated or deleted anything."""
        return any((self.nodes_created, self.nodes_updated, self.nodes_deleted,
                    self.relationships_created, self.relationships_updated,
                    self.relationships_deleted))


@dataclass(frozen=True)
class DeleteSummary:
    trace_id: str
    nodes_deleted: int
    relationships_deleted: int


# --- connecting ------------------------------------------------------------------


def connect(uri: str = DEFAULT_URI, *, user: str = "neo4j", password: str | None = None,
            database: str | None = None, **config: Any) -> Driver:
    """A verified driver for ``uri`` (``bolt://`` direct or ``neo4j://`` routing).

    An empty or missing ``password`` connects without authentication. Connection
    refused, credentials refused and an unknown ``database`` raise
    :class:`Neo4jExportError` with a one-line message. The caller closes the driver
    (it is a context manager).
    """
    from neo4j import GraphDatabase

    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in SUPPORTED_SCHEMES:
        raise Neo4jExportError(
            f"unsupported Neo4j URI {uri!r}: use one of "
            + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        )
    auth = (user, password) if password else None
    try:
        driver = GraphDatabase.driver(uri, auth=auth, **config)
    except Exception as err:
        translated = translate(err, uri=uri, database=database, user=user)
        if translated is None:
            raise
        raise translated from None
    try:
        driver.verify_connectivity()
        with driver.session(database=database) as session:
            session.run("RETURN 1").consume()
    except Exception as err:
        driver.close()
        translated = translate(err, uri=uri, database=database, user=user)
        if translated is None:
            raise
        raise translated from None
    return driver


# --- planning --------------------------------------------------------------------


@dataclass
class _Plan:
    #: Node keys by label, in graph order.
    nodes: dict[str, list[str]] = field(default_factory=dict)
    #: Edges (source, target, multigraph key) by (type, source label, target label).
    edges: dict[tuple[str, str, str], list[tuple[str, str, Any]]] = field(default_factory=dict)
    trace_ids: list[str] = field(default_factory=list)
    #: Per trace: node keys by label, and relationship keys by (type, source label).
    node_keys: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    rel_keys: dict[str, dict[tuple[str, str], set[str]]] = field(default_factory=dict)


def _plan(graph: nx.MultiDiGraph) -> _Plan:
    """Group nodes and edges by schema label/type, refusing anything the schema lacks."""
    labels = {label.value for label in Label}
    endpoints = {edge.name.value: {(s.value, t.value) for s, t in edge.endpoints}
                 for edge in SCHEMA.edges}
    plan = _Plan()
    node_label: dict[str, str] = {}
    node_trace: dict[str, str] = {}
    nodes: dict[str, list[str]] = defaultdict(list)
    for key, attrs in graph.nodes(data=True):
        label, trace_id = attrs.get("label"), attrs.get("trace_id")
        if not isinstance(key, str):
            raise GraphError(f"node {key!r}: node keys must be strings")
        if label not in labels:
            raise GraphError(f"node {key!r}: label {label!r} is not in the graph schema")
        if not isinstance(trace_id, str) or not trace_id:
            raise GraphError(f"node {key!r}: no trace_id attribute")
        if KEY_PROPERTY in attrs and attrs[KEY_PROPERTY] != key:
            raise GraphError(f"node {key!r}: attribute {KEY_PROPERTY!r} differs from its key")
        node_label[key] = label
        node_trace[key] = trace_id
        nodes[label].append(key)
        plan.node_keys.setdefault(trace_id, defaultdict(set))[label].add(key)
    edges: dict[tuple[str, str, str], list[tuple[str, str, Any]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for source, target, multikey, attrs in graph.edges(keys=True, data=True):
        rel = attrs.get("label")
        pair = (node_label[source], node_label[target])
        if rel not in endpoints:
            raise GraphError(f"edge {multikey!r}: type {rel!r} is not in the graph schema")
        if pair not in endpoints[rel]:
            raise GraphError(f"edge {multikey!r}: the schema has no {rel} edge "
                             f"from {pair[0]} to {pair[1]}")
        edge_key = _edge_key(source, target, multikey, attrs)
        if KEY_PROPERTY in attrs and attrs[KEY_PROPERTY] != edge_key:
            raise GraphError(f"edge {edge_key!r}: attribute {KEY_PROPERTY!r} differs from its key")
        if (rel, edge_key) in seen:
            raise GraphError(f"edge key {edge_key!r} of type {rel} is not unique")
        seen.add((rel, edge_key))
        edges[(rel, *pair)].append((source, target, multikey))
        trace_id = node_trace[source]
        plan.rel_keys.setdefault(trace_id, defaultdict(set))[(rel, pair[0])].add(edge_key)
    # Groups in schema order, so that loads are reproducible.
    label_order = {label: i for i, label in enumerate(node_labels())}
    rel_order = {rel: i for i, rel in enumerate(relationship_types())}
    plan.nodes = {label: nodes[label] for label in sorted(nodes, key=label_order.__getitem__)}
    plan.edges = {group: edges[group] for group in sorted(
        edges, key=lambda g: (rel_order[g[0]], label_order[g[1]], label_order[g[2]]))}
    trace_ids = [str(t) for t in graph.graph.get("trace_ids", ()) if isinstance(t, str) and t]
    for trace_id in plan.node_keys:
        if trace_id not in trace_ids:
            trace_ids.append(trace_id)
    plan.trace_ids = trace_ids
    return plan


def _edge_key(source: str, target: str, multikey: Any, attrs: dict[str, Any]) -> str:
    edge_key = attrs.get("edge_key")
    if isinstance(edge_key, str) and edge_key:
        return edge_key
    return multikey if isinstance(multikey, str) else f"{source}|{target}|{multikey}"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _properties(attrs: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    props = encode_properties(attrs)
    if props.pop(KEY_PROPERTY, key) != key:
        raise GraphError(f"{what} {key!r}: attribute {KEY_PROPERTY!r} differs from its key")
    return props


def _rows(graph: nx.MultiDiGraph, segment: _Segment) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``$rows`` of a segment, and the ``$common`` properties taken out of them."""
    rows: list[dict[str, Any]] = []
    if segment.phase == "nodes":
        for key in segment.items:
            rows.append({"k": key, "p": _properties(graph.nodes[key], key, "node")})
    else:
        for source, target, multikey in segment.items:
            attrs = graph.edges[source, target, multikey]
            edge_key = _edge_key(source, target, multikey, attrs)
            rows.append({"s": source, "t": target, "k": edge_key,
                         "p": _properties(attrs, edge_key, "edge")})
    common = _common_properties([row["p"] for row in rows])
    for row in rows:
        for name in common:
            del row["p"][name]
    return rows, common


def _common_properties(props: list[dict[str, Any]]) -> dict[str, Any]:
    """The (name, value) pairs every map of ``props`` has (labels, trace ids, provenance)."""
    if len(props) < 2:
        return {}
    common = dict(props[0])
    for other in props[1:]:
        for name in [name for name, value in common.items()
                     if name not in other or other[name] != value
                     or type(other[name]) is not type(value)]:
            del common[name]
        if not common:
            break
    return common


@dataclass(frozen=True)
class _Segment:
    """Part of one group (a label, or a relationship type and endpoint labels) in a batch."""

    phase: str  # "nodes" or "relationships"
    name: str
    query: str
    items: Sequence[Any]


def _batches(plan: _Plan, batch_size: int) -> list[list[_Segment]]:
    """Node then relationship segments, packed into batches of at most ``batch_size`` rows.

    Small groups share a transaction (one query per group inside it), so a small
    graph is a handful of transactions rather than one per label and type.
    """
    groups: list[tuple[str, str, str, Sequence[Any]]] = [
        ("nodes", label, node_merge_query(label), keys) for label, keys in plan.nodes.items()
    ]
    groups += [
        ("relationships", rel, relationship_merge_query(rel, source, target), edges)
        for (rel, source, target), edges in plan.edges.items()
    ]
    batches: list[list[_Segment]] = []
    current: list[_Segment] = []
    room = batch_size
    for phase, name, query, items in groups:
        start = 0
        while start < len(items):
            take = min(room, len(items) - start)
            current.append(_Segment(phase, name, query, items[start:start + take]))
            start += take
            room -= take
            if room == 0:
                batches.append(current)
                current, room = [], batch_size
    if current:
        batches.append(current)
    return batches


# --- transactions ----------------------------------------------------------------


_Work = list[tuple[_Segment, tuple[list[dict[str, Any]], dict[str, Any]]]]


def _upsert_batch(tx: ManagedTransaction, work: _Work) -> list[tuple[int, int, int]]:
    """Run one batch (one query per segment); per segment (rows, written, created)."""
    out = []
    for segment, (rows, common) in work:
        result = tx.run(segment.query, rows=rows, common=common)
        record = result.single(strict=True)
        counters = result.consume().counters
        matched, written = int(record["rows"]), int(record["written"] or 0)
        if matched != len(rows):
            # Only relationships can lose rows: an endpoint node is missing.
            raise Neo4jExportError(
                f"{len(rows) - matched} of {len(rows)} {segment.name} rows found no endpoint "
                "node (was the trace deleted while it was being loaded?)"
            )
        created = counters.nodes_created if segment.phase == "nodes" else (
            counters.relationships_created)
        out.append((matched, written, created))
    return out


def _count(tx: ManagedTransaction, query: str, **params: Any) -> list[Any]:
    return list(tx.run(query, **params))


def _delete(tx: ManagedTransaction, query: str, **params: Any) -> tuple[int, int, int]:
    """Run a delete; returns (its ``count`` column, nodes deleted, relationships deleted)."""
    result = tx.run(query, **params)
    record = result.single(strict=True)
    counters = result.consume().counters
    return int(record["count"]), counters.nodes_deleted, counters.relationships_deleted


def _run_schema(tx: ManagedTransaction, statement: str) -> None:
    tx.run(statement).consume()


# --- export ------------------------------------------------------------------------


def export_graph(
    graph: nx.MultiDiGraph,
    driver: Driver,
    *,
    database: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ExportProgress], None] | None = None,
    create_schema: bool = True,
    cleanup: bool = True,
) -> ExportSummary:
    """Upsert ``graph`` into Neo4j and remove what its traces no longer have.

    ``graph`` is a graph of :func:`tracegraph.graph.project` (or several of them,
    composed). ``database`` ``None`` is the server's default database. ``progress``
    is called after each committed batch; an exception it raises stops the load
    (the batches already committed stay, and a re-run completes the load).
    ``cleanup=False`` skips step 4 (stale nodes and relationships stay).
    Driver failures raise :class:`Neo4jExportError` (with ``batches_written``).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    plan = _plan(graph)
    summary = ExportSummary(trace_ids=tuple(plan.trace_ids), nodes=graph.number_of_nodes(),
                            relationships=graph.number_of_edges())
    batches = _batches(plan, batch_size)
    batches_total = len(batches)
    rows_total = summary.nodes + summary.relationships
    rows_done = 0

    def report(phase: str, name: str) -> None:
        if progress is not None:
            progress(ExportProgress(phase, name, summary.batches, batches_total,
                                    rows_done, rows_total))

    def lap(phase: str, since: float) -> float:
        now = time.perf_counter()
        summary.phase_seconds[phase] = now - since
        return now

    try:
        with driver.session(database=database) as session:
            mark = time.perf_counter()
            if create_schema:
                for statement in schema_statements():
                    session.execute_write(_run_schema, statement)
                report("schema", "")
            mark = lap("schema", mark)
            for batch in batches:
                work = [(segment, _rows(graph, segment)) for segment in batch]
                counts = session.execute_write(_upsert_batch, work)
                for segment, (rows, written, created) in zip(batch, counts, strict=True):
                    summary.add(segment.phase, rows=rows, written=written, created=created)
                    rows_done += rows
                summary.batches += 1
                report(batch[-1].phase, batch[-1].name)
            mark = lap("upsert", mark)
            if cleanup:
                for trace_id in plan.trace_ids:
                    nodes_deleted, rels_deleted = _cleanup_trace(
                        session, trace_id, plan.node_keys.get(trace_id, {}),
                        plan.rel_keys.get(trace_id, {}), batch_size)
                    summary.nodes_deleted += nodes_deleted
                    summary.relationships_deleted += rels_deleted
                report("cleanup", "")
            lap("cleanup", mark)
    except Neo4jExportError as err:
        if err.batches_written is None:
            err.batches_written, err.batches_total = summary.batches, batches_total
        raise
    except Exception as err:
        translated = translate(err, database=database, batches_written=summary.batches,
                               batches_total=batches_total)
        if translated is None:
            raise
        raise translated from err
    summary.seconds = time.perf_counter() - started
    return summary


def _cleanup_trace(session: Session, trace_id: str, node_keys: dict[str, set[str]],
                   rel_keys: dict[tuple[str, str], set[str]], batch_size: int) -> tuple[int, int]:
    """Delete the nodes and relationships of ``trace_id`` the graph does not have.

    Returns (nodes deleted, relationships deleted). Every graph element was just
    merged, so the database holds a superset; where the counts per label (and per
    source label and type) are equal there is nothing to read.
    """
    types = list(relationship_types())
    known = set(types)
    stale_rels: list[str] = []
    stale_nodes: list[str] = []
    for label in node_labels():
        counts = session.execute_read(_count, _count_relationships_query(label), trace_id=trace_id)
        in_db = {r["type"]: r["count"] for r in counts if r["type"] in known}
        if any(count != len(rel_keys.get((rel, label), ())) for rel, count in in_db.items()):
            seen: Counter[tuple[str, Any]] = Counter()
            for record in session.execute_read(_count, _relationship_keys_query(label),
                                               trace_id=trace_id, types=types):
                rel, key = record["type"], record["key"]
                seen[(rel, key)] += 1
                if key not in rel_keys.get((rel, label), ()) or seen[(rel, key)] > 1:
                    stale_rels.append(record["id"])
        counted = session.execute_read(_count, _count_nodes_query(label), trace_id=trace_id)
        wanted = node_keys.get(label, set())
        if counted[0]["count"] != len(wanted):
            seen_nodes: Counter[Any] = Counter()
            for record in session.execute_read(_count, _node_keys_query(label),
                                               trace_id=trace_id):
                seen_nodes[record["key"]] += 1
                if record["key"] not in wanted or seen_nodes[record["key"]] > 1:
                    stale_nodes.append(record["id"])
    nodes_deleted = rels_deleted = 0
    for chunk in _chunks(stale_rels, batch_size):
        _, _, rels = session.execute_write(_delete, _DELETE_RELATIONSHIPS_BY_ID, ids=list(chunk))
        rels_deleted += rels
    for chunk in _chunks(stale_nodes, batch_size):
        _, nodes, rels = session.execute_write(_delete, _DELETE_NODES_BY_ID, ids=list(chunk))
        nodes_deleted += nodes
        rels_deleted += rels
    return nodes_deleted, rels_deleted


# --- delete --------------------------------------------------------------------------


def delete_trace(driver: Driver, trace_id: str, *, database: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> DeleteSummary:
    """Delete one rollout's subgraph: every schema-labelled node with ``trace_id``.

    Their relationships go first, in batches of ``batch_size`` per transaction, then
    the nodes. Nodes of other traces, and nodes without a schema label, are not
    touched. Deleting a trace that is not there deletes nothing.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    nodes_deleted = rels_deleted = 0
    try:
        with driver.session(database=database) as session:
            for label in node_labels():
                query = _delete_trace_relationships_query(label)
                while True:
                    count, _, rels = session.execute_write(
                        _delete, query, trace_id=trace_id, limit=batch_size)
                    rels_deleted += rels
                    if count < batch_size:
                        break
            for label in node_labels():
                query = _delete_trace_nodes_query(label)
                while True:
                    count, nodes, rels = session.execute_write(
                        _delete, query, trace_id=trace_id, limit=batch_size)
                    nodes_deleted += nodes
                    rels_deleted += rels
                    if count < batch_size:
                        break
    except Exception as err:
        translated = translate(err, database=database)
        if translated is None:
            raise
        raise translated from err
    return DeleteSummary(trace_id, nodes_deleted, rels_deleted)
