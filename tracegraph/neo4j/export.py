"""Load typed graphs into Neo4j, idempotently; delete one rollout's subgraph.

Function-first::

    from tracegraph.graph import load_graph
    from tracegraph.neo4j import connect, delete_trace, export_graph

    graph = load_graph("examples/bundles/multi-agent")
    with connect("bolt://localhost:7687", user="neo4j", password="...") as driver:
        summary = export_graph(graph, driver)
        print(summary.nodes_created, summary.relationships_created)
        delete_trace(driver, graph.graph["trace_ids"][0])

What a load does, in order:

1. **Schema**: :func:`tracegraph.neo4j.schema.schema_statements` (a uniqueness
   constraint on node ``key``s, indexes on relationship ``key``s, ``trace_id`` and
   ``object_id``, then
   ``db.awaitIndexes``), only those the database does not have online yet.
2. **Plan** (:mod:`tracegraph.neo4j.plan`): every node and edge is checked against
   the schema, encoded, grouped by trace and label or type, and every *unit* of a
   trace is fingerprinted (:mod:`tracegraph.neo4j.fingerprint`).
3. **Per trace, a mode**: *unchanged* when the fingerprints stored on its Rollout
   node equal the graph's (nothing is written); *new* when the database holds no
   node of the trace (plain ``CREATE``, no comparison, no clean-up); else *update*:
   the stored fingerprints are removed first, then only units whose digest differs
   are upserted and cleaned up.
4. **Nodes**, then **relationships**, in batches of ``batch_size`` rows, one
   transaction per batch, ``writers`` transactions in flight at once. An update
   batch is ``UNWIND $rows AS row MERGE (x:Label {key: row.k}) ...``: an element
   whose property map already equals ``row.p`` is not written, one that differs
   gets ``SET x = row.p`` (properties it no longer has go away). Relationships are
   matched on both endpoints' keys and merged on their own ``key``.
5. **Clean-up** of updated traces: nodes of that ``trace_id`` (schema labels only)
   and relationships of schema types leaving them that are not in the graph are
   deleted, so the database equals a clean load of the graph. It counts first and
   reads keys only where the database holds more than the graph.
6. **Fingerprints** are stored on each trace's Rollout node, last.

Labels and relationship types are written into the query text, but only from
the graph schema (:mod:`tracegraph.graph.schema`), never from the data: a node
or edge whose ``label`` is not in the schema, or an edge whose endpoints the
schema does not allow for its type, is refused before anything is written. Every
value travels as a query parameter.

A load interrupted half-way leaves whole batches behind (each batch is one
transaction) and no fingerprint; running it again completes it to exactly the
state of a clean load, because it then runs in *update* mode.

:func:`upsert_trace_elements` writes (and removes) given elements of one trace
the same way, for callers that know what changed (``tracegraph watch``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import networkx as nx

from tracegraph.errors import GraphError
from tracegraph.neo4j.errors import SUPPORTED_SCHEMES, Neo4jExportError, translate
from tracegraph.neo4j.fingerprint import (
    FINGERPRINT_PROPERTY,
    SOURCE_PREFIX,
    parse_source_entry,
    source_entry,
)
from tracegraph.neo4j.plan import (
    NODES,
    Group,
    Plan,
    Planner,
    Rows,
    Segment,
    chunks,
    pack_batches,
    paused_collector,
    plan_graph,
    segment_parameters,
)
from tracegraph.neo4j.schema import (
    node_labels,
    relationship_types,
    schema_statements,
)
from tracegraph.neo4j.statements import (
    CLEAR_FINGERPRINTS,
    DELETE_NODES_BY_ID,
    DELETE_RELATIONSHIPS_BY_ID,
    LOADED_SOURCES,
    SET_FINGERPRINTS,
    count_nodes_query,
    count_relationships_query,
    delete_node_by_key_query,
    delete_relationship_by_key_query,
    delete_trace_nodes_query,
    delete_trace_relationships_query,
    group_query,
    node_keys_query,
    relationship_create_by_id_query,
    relationship_keys_query,
    schema_label,
    schema_rel,
    trace_state_query,
)
from tracegraph.neo4j.summary import DeleteSummary, ExportProgress, ExportSummary, LoadedSource

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction, Session

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_URI",
    "DEFAULT_WRITERS",
    "DeleteSummary",
    "ExportProgress",
    "ExportSummary",
    "LoadedSource",
    "connect",
    "delete_trace",
    "export_graph",
    "loaded_sources",
    "upsert_trace_elements",
]

#: Rows per transaction. With two writers, batches of 2,500 keep both transactions'
#: threads fed better than 5,000 (and the server's young GC smaller); median write
#: phase of a 1,500-turn first load 3.7 s against 4.0 s, five alternated runs each.
DEFAULT_BATCH_SIZE = 2500
#: Write transactions in flight at once. Two: one transaction runs on one server thread,
#: so a second keeps the other core busy while the client packs and the first commits.
#: On 2 shared cores a 1,500-turn first load's write phase took ~20% less wall time
#: for ~20% more server CPU (contention between batches on shared endpoint nodes).
DEFAULT_WRITERS = 2
#: Where ``tracegraph load --neo4j`` connects when no URI is given.
DEFAULT_URI = "bolt://localhost:7687"

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


# --- transactions ----------------------------------------------------------------


_Work = list[tuple[Segment, tuple[list[dict[str, Any]], dict[str, Any]]]]
#: Per segment of a batch: rows seen, written, created.
_Counts = list[tuple[int, int, int]]


def _upsert_batch(tx: ManagedTransaction, work: _Work,
                  element_ids: dict[str, str]) -> _Counts:
    """Run one batch (one query per segment); per segment (rows, written, created).
    Node creates add the element ids of their nodes to ``element_ids`` (by key)."""
    out = []
    for segment, (rows, common) in work:
        result = tx.run(segment.query, rows=rows, common=common)
        record = result.single(strict=True)
        counters = result.consume().counters
        ids = record.get("ids")
        if ids is not None:
            # A retried transaction function writes the ids of its last attempt over
            # those of a rolled-back one.
            element_ids.update(zip(record["keys"], ids, strict=True))
        matched, written = int(record["rows"]), int(record["written"] or 0)
        if matched != len(rows):
            # Only relationships can lose rows: an endpoint node is missing.
            raise Neo4jExportError(
                f"{len(rows) - matched} of {len(rows)} {segment.group.name} rows found no "
                "endpoint node (was the trace deleted while it was being loaded?)"
            )
        created = counters.nodes_created if segment.group.phase == NODES else (
            counters.relationships_created)
        out.append((matched, written, created))
    return out


def _read(tx: ManagedTransaction, query: str, **params: Any) -> list[Any]:
    return list(tx.run(query, **params))


def _write(tx: ManagedTransaction, query: str, **params: Any) -> None:
    tx.run(query, **params).consume()


def _write_all(tx: ManagedTransaction, queries: Sequence[str]) -> None:
    for query in queries:
        tx.run(query).consume()


def _delete(tx: ManagedTransaction, query: str, **params: Any) -> tuple[int, int, int]:
    """Run a delete; returns (its ``count`` column, nodes deleted, relationships deleted)."""
    result = tx.run(query, **params)
    record = result.single(strict=True)
    counters = result.consume().counters
    return int(record["count"]), counters.nodes_deleted, counters.relationships_deleted


def _schema_name(statement: str) -> str | None:
    """The name of the constraint or index a ``CREATE`` statement makes."""
    words = statement.split()
    return words[2] if words[:2] in (["CREATE", "CONSTRAINT"], ["CREATE", "INDEX"]) else None


def _is_schema_change(statement: str) -> bool:
    """A ``CREATE`` or ``DROP`` of a constraint or index (not the wait for them)."""
    return statement.split(None, 1)[0] in ("CREATE", "DROP")


def _ensure_schema(session: Session) -> None:
    """Run the schema statements, unless every constraint and index is already online
    (one read instead of a transaction per statement)."""
    statements = schema_statements()
    online = {r["name"] for r in session.execute_read(
        _read, "SHOW INDEXES YIELD name, state WHERE state = 'ONLINE' RETURN name")}
    online |= {r["name"] for r in session.execute_read(
        _read, "SHOW CONSTRAINTS YIELD name RETURN name")}
    if all(_schema_name(s) in online for s in statements if _schema_name(s)):
        return
    changes = [s for s in statements if _is_schema_change(s)]
    # One transaction for every constraint and index (a fresh server plans each
    # statement, so 40 transactions cost seconds), then the wait for them.
    session.execute_write(_write_all, changes)
    for statement in statements:
        if not _is_schema_change(statement):
            session.execute_write(_write, statement)


class _Writers:
    """Runs write batches in ``count`` sessions at once, reporting them in order.

    When a batch fails or ``done`` raises, the batches already in flight are waited
    for (and reported, ``done`` errors then ignored), so that what was committed is
    counted before the first error propagates.
    """

    def __init__(self, driver: Driver, database: str | None, count: int,
                 done: Callable[[list[Segment], _Counts], None]) -> None:
        self._driver, self._database, self._count, self._done = driver, database, count, done
        #: Element ids of the nodes created so far, by key (see :func:`_upsert_batch`).
        self.element_ids: dict[str, str] = {}
        self._local = threading.local()
        self._sessions: list[Session] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(count, thread_name_prefix="tracegraph-neo4j") if (
            count > 1) else None

    def _session(self) -> Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._driver.session(database=self._database)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _run(self, batch: list[Segment]) -> _Counts:
        work = [(segment, segment_parameters(segment)) for segment in batch]
        ids: dict[str, str] = {}
        counts = self._session().execute_write(_upsert_batch, work, ids)
        with self._lock:
            self.element_ids.update(ids)
        return counts

    def run(self, batches: Iterable[list[Segment]]) -> None:
        """Write ``batches``; returns once all are committed."""
        if self._pool is None:
            for batch in batches:
                self._done(batch, self._run(batch))
            return
        pending: deque[tuple[list[Segment], Future[_Counts]]] = deque()
        try:
            for batch in batches:
                pending.append((batch, self._pool.submit(self._run, batch)))
                if len(pending) >= self._count:
                    finished, future = pending.popleft()
                    self._done(finished, future.result())
            while pending:
                finished, future = pending.popleft()
                self._done(finished, future.result())
        except BaseException:
            for finished, future in pending:
                with contextlib.suppress(BaseException):
                    self._done(finished, future.result())
            raise

    @contextlib.contextmanager
    def in_background(self, batches: Sequence[list[Segment]]) -> Iterator[None]:
        """Write ``batches`` in a thread while the body runs; on leaving, wait for them
        (their error, if any, is raised then). Should the body fail, no further batch
        is started and the ones in flight are waited for."""
        stop = threading.Event()
        failure: list[BaseException] = []

        def feed() -> Iterator[list[Segment]]:
            for batch in batches:
                if stop.is_set():
                    return
                yield batch

        def work() -> None:
            try:
                self.run(feed())
            except BaseException as err:  # handed to the caller's thread below
                failure.append(err)

        thread = threading.Thread(target=work, name="tracegraph-neo4j-feed", daemon=True)
        thread.start()
        try:
            yield
        except BaseException:
            stop.set()
            thread.join()
            raise
        thread.join()
        if failure:
            raise failure[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for session in self._sessions:
            with contextlib.suppress(Exception):
                session.close()


# --- export ------------------------------------------------------------------------


@contextlib.contextmanager
def quick_thread_switches(interval: float = 0.0005) -> Iterator[None]:
    """A shorter GIL switch interval while the main thread plans and the writer threads
    wait on the server: a writer whose batch has committed gets the interpreter back
    sooner to send the next one, so the server is not left idle."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)



def _stored_units(entries: Sequence[str] | None) -> dict[str, str] | None:
    """Unit digests from a stored fingerprint list (source entries left out)."""
    if not entries:
        return None
    units = {}
    for entry in entries:
        unit, _, digest = str(entry).partition(" ")
        if unit != "source" and digest:
            units[unit] = digest
    return units


def export_graph(
    graph: nx.MultiDiGraph,
    driver: Driver,
    *,
    database: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ExportProgress], None] | None = None,
    create_schema: bool = True,
    cleanup: bool = True,
    writers: int = DEFAULT_WRITERS,
    trust_fingerprints: bool = True,
    source_fingerprints: Mapping[str, str] | None = None,
) -> ExportSummary:
    """Upsert ``graph`` into Neo4j and remove what its traces no longer have.

    ``graph`` is a graph of :func:`tracegraph.graph.project` (or several of them,
    composed). ``database`` ``None`` is the server's default database. ``progress``
    is called after each committed batch; an exception it raises stops the load
    (the batches already committed stay, and a re-run completes the load).
    ``cleanup=False`` skips the clean-up (stale nodes and relationships stay, and no
    fingerprint is stored). ``writers`` transactions run at once.
    ``trust_fingerprints=False`` compares every element even where the stored
    fingerprints match. ``source_fingerprints`` (trace id to a
    :func:`~tracegraph.neo4j.fingerprint.source_fingerprint`) are stored with the
    graph's (see :func:`loaded_sources`).
    Driver failures raise :class:`Neo4jExportError` (with ``batches_written``).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if writers < 1:
        raise ValueError("writers must be at least 1")
    started = time.perf_counter()
    with paused_collector():
        planner = Planner(graph)
        planner.plan_nodes()
        checked = planner.check_edges()  # refuses what the schema lacks: nothing written yet
    plan = planner.plan
    summary = ExportSummary(trace_ids=tuple(plan.trace_ids), nodes=graph.number_of_nodes(),
                            relationships=graph.number_of_edges())
    summary.phase_seconds["plan"] = time.perf_counter() - started
    batches_total = 0
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

    def done(batch: list[Segment], counts: _Counts) -> None:
        nonlocal rows_done
        for segment, (rows, written, created) in zip(batch, counts, strict=True):
            summary.add(segment.group.phase, rows=rows, written=written, created=created)
            rows_done += rows
        summary.batches += 1
        report(batch[-1].group.phase, batch[-1].group.name)

    try:
        with driver.session(database=database) as session:
            mark = time.perf_counter()
            if create_schema:
                _ensure_schema(session)
                report("schema", "")
            mark = lap("schema", mark)
            states = {r["trace_id"]: r for r in session.execute_read(
                _read, trace_state_query(), trace_ids=plan.trace_ids,
                fingerprint=FINGERPRINT_PROPERTY)}
            pool = _Writers(driver, database, writers, done)
            try:
                if all(state is None or not state["present"]
                       for state in map(states.get, plan.trace_ids)):
                    # Only new traces: nothing to compare, so their nodes are written
                    # while the edges are planned (the client and the server each keep
                    # a core busy instead of taking turns).
                    for trace_id in plan.trace_ids:
                        summary.modes[trace_id] = "new"
                    node_batches = pack_batches(
                        [(g, group_query(g, create=True)) for g in plan.groups], batch_size)
                    batches_total = len(node_batches) + -(-len(checked) // batch_size)
                    with pool.in_background(node_batches), quick_thread_switches():
                        overlap = time.perf_counter()
                        with paused_collector():
                            planner.plan_edges(checked)
                        del checked
                        lap("plan, while writing", overlap)
                    rel_work = [(g, group_query(g, create=True)) for g in plan.groups
                                if g.phase != NODES]
                    dirty: dict[str, set[str] | None] = {}
                    updating: list[str] = []
                else:
                    with paused_collector():
                        planner.plan_edges(checked)
                    del checked
                    dirty, updating = _modes(plan, states, trust_fingerprints, summary)
                    if updating:
                        # An interrupted update must not leave a fingerprint that says
                        # "complete".
                        session.execute_write(_write, CLEAR_FINGERPRINTS,
                                              trace_ids=updating)
                    work: list[tuple[Group, str]] = []
                    for group in plan.groups:
                        mode = summary.modes[group.trace_id]
                        dirty_units = dirty.get(group.trace_id)
                        if mode == "new" or (mode == "update" and (
                                dirty_units is None or group.unit in dirty_units)):
                            work.append((group, group_query(group, create=mode == "new")))
                        else:
                            summary.add(group.phase, rows=len(group.rows), written=0,
                                        created=0)
                            rows_done += len(group.rows)
                    node_batches = pack_batches([w for w in work if w[0].phase == NODES],
                                                batch_size)
                    rel_work = [w for w in work if w[0].phase != NODES]
                    # Batches of the relationships as they will be packed below.
                    batches_total = len(node_batches) + len(pack_batches(rel_work, batch_size))
                    pool.run(node_batches)  # every endpoint exists before relationships start
                rel_work = [(group, query) if summary.modes[group.trace_id] != "new"
                            else _by_element_id(group, query, pool.element_ids)
                            for group, query in rel_work]
                pool.run(pack_batches(rel_work, batch_size))
            finally:
                pool.close()
            mark = lap("upsert", mark)
            if cleanup:
                for trace_id in updating:
                    nodes_deleted, rels_deleted = _cleanup_trace(
                        session, trace_id, plan.node_keys.get(trace_id, {}),
                        plan.rel_keys.get(trace_id, {}), batch_size, dirty[trace_id])
                    summary.nodes_deleted += nodes_deleted
                    summary.relationships_deleted += rels_deleted
                report("cleanup", "")
            mark = lap("cleanup", mark)
            if cleanup:
                _store_fingerprints(session, plan, summary.modes, source_fingerprints or {})
            lap("fingerprint", mark)
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


def _modes(plan: Plan, states: Mapping[str, Any], trust_fingerprints: bool,
           summary: ExportSummary) -> tuple[dict[str, set[str] | None], list[str]]:
    """Each trace's mode (into ``summary.modes``); per trace not new, the units to write
    (``None``: every unit); and the traces to update."""
    dirty: dict[str, set[str] | None] = {}
    for trace_id in plan.trace_ids:
        state = states.get(trace_id)
        stored = _stored_units(state["fingerprint"]) if state else None
        wanted = plan.digests.get(trace_id, {})
        if state is None or not state["present"]:
            summary.modes[trace_id] = "new"
        elif stored is not None and trust_fingerprints:
            units = {u for u in stored.keys() | wanted.keys()
                     if stored.get(u) != wanted.get(u)}
            summary.modes[trace_id] = "update" if units else "unchanged"
            dirty[trace_id] = units
        else:
            summary.modes[trace_id] = "update"
            dirty[trace_id] = None
    return dirty, [t for t, mode in summary.modes.items() if mode == "update"]


def _by_element_id(group: Group, query: str, element_ids: Mapping[str, str]) -> tuple[Group, str]:
    """A new trace's relationship group, its rows turned to name their endpoints by the
    element ids the node creates returned; as it is when some endpoint was not created
    by this load (a node of another trace)."""
    rows = group.rows
    if not all(row["s"] in element_ids and row["t"] in element_ids for row in rows):
        return group, query
    for row in rows:  # in place: the plan is this load's own
        row["s"], row["t"] = element_ids[row["s"]], element_ids[row["t"]]
    return group, relationship_create_by_id_query(group.name, group.source, group.target)


def _store_fingerprints(session: Session, plan: Plan, modes: Mapping[str, str],
                        sources: Mapping[str, str]) -> None:
    rows = []
    for trace_id, rollout in plan.rollout_keys.items():
        if modes.get(trace_id) == "unchanged" and trace_id not in sources:
            continue
        entries = sorted(f"{unit} {digest}" for unit, digest in plan.digests[trace_id].items())
        if trace_id in sources:
            nodes = sum(len(keys) for keys in plan.node_keys.get(trace_id, {}).values())
            relationships = sum(len(keys) for keys in plan.rel_keys.get(trace_id, {}).values())
            entries.append(source_entry(sources[trace_id], nodes, relationships))
        rows.append({"k": rollout, "fingerprint": entries})
    if rows:
        session.execute_write(_write, SET_FINGERPRINTS, rows=rows)


def loaded_sources(driver: Driver, fingerprints: Iterable[str], *,
                   database: str | None = None) -> dict[str, LoadedSource]:
    """Which of ``fingerprints`` (:func:`~tracegraph.neo4j.fingerprint.source_fingerprint`)
    a completed load stored in the database: those sources need no load."""
    wanted = set(fingerprints)
    if not wanted:
        return {}
    try:
        with driver.session(database=database) as session:
            records = session.execute_read(_read, LOADED_SOURCES, prefix=SOURCE_PREFIX,
                                           fingerprint=FINGERPRINT_PROPERTY)
    except Exception as err:
        translated = translate(err, database=database)
        if translated is None:
            raise
        raise translated from err
    out = {}
    for record in records:
        parsed = parse_source_entry(record["entry"])
        if parsed is not None and parsed[0] in wanted:
            fingerprint, nodes, relationships = parsed
            out[fingerprint] = LoadedSource(fingerprint, str(record["trace_id"]), nodes,
                                            relationships)
    return out


def _cleanup_trace(session: Session, trace_id: str, node_keys: dict[str, set[str]],
                   rel_keys: dict[tuple[str, str], set[str]], batch_size: int,
                   dirty: set[str] | None) -> tuple[int, int]:
    """Delete the nodes and relationships of ``trace_id`` the graph does not have.

    Returns (nodes deleted, relationships deleted). Every graph element was just
    merged, so the database holds a superset; where the counts per label (and per
    source label and type) are equal there is nothing to read. Only the units in
    ``dirty`` (all when ``None``) are looked at.
    """
    types = list(relationship_types())
    stale_rels: list[str] = []
    stale_nodes: list[str] = []
    for label in node_labels():
        rel_types = {rel for rel in types
                     if dirty is None or f"R:{rel}:{label}" in dirty}
        if rel_types:
            counts = session.execute_read(_read, count_relationships_query(label),
                                          trace_id=trace_id)
            in_db = {r["type"]: r["count"] for r in counts if r["type"] in rel_types}
            if any(count != len(rel_keys.get((rel, label), ())) for rel, count in in_db.items()):
                seen: Counter[tuple[str, Any]] = Counter()
                for record in session.execute_read(_read, relationship_keys_query(label),
                                                   trace_id=trace_id, types=sorted(rel_types)):
                    rel, key = record["type"], record["key"]
                    seen[(rel, key)] += 1
                    if key not in rel_keys.get((rel, label), ()) or seen[(rel, key)] > 1:
                        stale_rels.append(record["id"])
        if dirty is not None and f"N:{label}" not in dirty:
            continue
        counted = session.execute_read(_read, count_nodes_query(label), trace_id=trace_id)
        wanted = node_keys.get(label, set())
        if counted[0]["count"] != len(wanted):
            seen_nodes: Counter[Any] = Counter()
            for record in session.execute_read(_read, node_keys_query(label),
                                               trace_id=trace_id):
                seen_nodes[record["key"]] += 1
                if record["key"] not in wanted or seen_nodes[record["key"]] > 1:
                    stale_nodes.append(record["id"])
    nodes_deleted = rels_deleted = 0
    for chunk in chunks(stale_rels, batch_size):
        _, _, rels = session.execute_write(_delete, DELETE_RELATIONSHIPS_BY_ID, ids=Rows(chunk))
        rels_deleted += rels
    for chunk in chunks(stale_nodes, batch_size):
        _, nodes, rels = session.execute_write(_delete, DELETE_NODES_BY_ID, ids=Rows(chunk))
        nodes_deleted += nodes
        rels_deleted += rels
    return nodes_deleted, rels_deleted


# --- incremental upserts -------------------------------------------------------------


def upsert_trace_elements(
    driver: Driver,
    graph: nx.MultiDiGraph,
    trace_id: str,
    *,
    nodes: Iterable[str] = (),
    edges: Iterable[tuple[str, str, Any]] = (),
    remove_nodes: Iterable[tuple[str, str]] = (),
    remove_edges: Iterable[tuple[str, str]] = (),
    database: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ExportSummary:
    """Upsert the given ``nodes`` (keys) and ``edges`` (``(source, target, multigraph
    key)``) of ``graph``, all of trace ``trace_id``, then delete ``remove_edges``
    (``(type, edge key)``) and ``remove_nodes`` (``(label, node key)``, with their
    relationships). For callers that know what changed (a watched, growing bundle).

    Every batch is its own transaction (upserts compare like :func:`export_graph`'s
    update mode), so a stopped call leaves whole batches, never a half-written one.
    The trace's stored fingerprints are removed first: the next :func:`export_graph`
    of the trace compares everything. Endpoints of the given edges must be in the
    database or among ``nodes``. The schema must exist (any :func:`export_graph`
    creates it).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    plan = plan_graph(graph, nodes=nodes, edges=edges)
    foreign = [t for t in plan.trace_ids if t != trace_id]
    if foreign:
        raise GraphError(f"elements of trace {foreign[0]!r} given for trace {trace_id!r}")
    removals: dict[tuple[bool, str], list[str]] = {}
    for label, key in remove_nodes:
        removals.setdefault((True, schema_label(label)), []).append(key)
    for rel, key in remove_edges:
        removals.setdefault((False, schema_rel(rel)), []).append(key)
    summary = ExportSummary(trace_ids=(trace_id,),
                            nodes=sum(len(g.rows) for g in plan.groups if g.phase == NODES),
                            relationships=sum(len(g.rows) for g in plan.groups
                                              if g.phase != NODES))
    summary.modes[trace_id] = "update"

    def done(batch: list[Segment], counts: _Counts) -> None:
        for segment, (rows, written, created) in zip(batch, counts, strict=True):
            summary.add(segment.group.phase, rows=rows, written=written, created=created)
        summary.batches += 1

    try:
        with driver.session(database=database) as session:
            session.execute_write(_write, CLEAR_FINGERPRINTS, trace_ids=[trace_id])
            work = [(group, group_query(group, create=False)) for group in plan.groups]
            pool = _Writers(driver, database, 1, done)
            try:
                pool.run(pack_batches([w for w in work if w[0].phase == NODES], batch_size))
                pool.run(pack_batches([w for w in work if w[0].phase != NODES], batch_size))
            finally:
                pool.close()
            for (is_node, name), keys in sorted(removals.items()):
                query = (delete_node_by_key_query if is_node
                         else delete_relationship_by_key_query)(name)
                for chunk in chunks(keys, batch_size):
                    _, nodes_deleted, rels_deleted = session.execute_write(
                        _delete, query, keys=Rows(chunk))
                    summary.nodes_deleted += nodes_deleted
                    summary.relationships_deleted += rels_deleted
    except Neo4jExportError:
        raise
    except Exception as err:
        translated = translate(err, database=database, batches_written=summary.batches)
        if translated is None:
            raise
        raise translated from err
    summary.seconds = time.perf_counter() - started
    return summary


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
                query = delete_trace_relationships_query(label)
                while True:
                    count, _, rels = session.execute_write(
                        _delete, query, trace_id=trace_id, limit=batch_size)
                    rels_deleted += rels
                    if count < batch_size:
                        break
            for label in node_labels():
                query = delete_trace_nodes_query(label)
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
