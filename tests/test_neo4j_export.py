"""The Neo4j exporter against a real server: counts, idempotency, growth, deletion, resume."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import neo4j
import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.neo4j_support import (
    BUNDLE_NAMES,
    BUNDLES,
    RecordingDriver,
    copy_bundle,
    counts,
    dump,
    free_port,
    graph_counts,
    pattern_names,
    wipe,
)
from tracegraph.errors import TracegraphError
from tracegraph.graph import compose_graphs, load_graph
from tracegraph.graph.schema import Label, Rel
from tracegraph.neo4j import (
    ExportProgress,
    Neo4jExportError,
    connect,
    delete_trace,
    encode_properties,
    export_graph,
    render_schema_cypher,
    schema_statements,
)
from tracegraph.neo4j import plan as plan_module
from tracegraph.neo4j.fingerprint import FINGERPRINT_PROPERTY
from tracegraph.neo4j.properties import encode_value
from tracegraph.neo4j.schema import parse_cypher_statements
from tracegraph.neo4j_harness import Neo4jServer

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "cypher" / "schema.cypher"
WHITELIST = {label.value for label in Label} | {rel.value for rel in Rel}

_graphs: dict[str, nx.MultiDiGraph] = {}


def example_graph(name: str) -> nx.MultiDiGraph:
    """The graph of an example bundle (its golden state.json), cached per test run."""
    if name not in _graphs:
        _graphs[name] = load_graph(BUNDLES / name / "state.json")
    return _graphs[name]


def clean_dump(driver: neo4j.Driver, database: str, *graphs: nx.MultiDiGraph) -> dict[str, Any]:
    """The dump of an empty database into which ``graphs`` were loaded; the database is
    left empty afterwards."""
    wipe(driver, database)
    for graph in graphs:
        export_graph(graph, driver, database=database)
    result = dump(driver, database)
    wipe(driver, database)
    return result


SCHEMA_VERBS = ("CREATE CONSTRAINT", "CREATE INDEX", "DROP CONSTRAINT", "CALL db.awaitIndexes")


def drop_schema(driver: neo4j.Driver, database: str) -> None:
    """Drop every tracegraph constraint and index (a load creates them again)."""
    for kind in ("CONSTRAINT", "INDEX"):
        records, _, _ = driver.execute_query(f"SHOW {kind}ES YIELD name RETURN name"
                                             if kind == "INDEX" else
                                             f"SHOW {kind}S YIELD name RETURN name",
                                             database_=database)
        for record in records:
            if record["name"].startswith("tracegraph_"):
                driver.execute_query(f"DROP {kind} {record['name']} IF EXISTS",
                                     database_=database)


def trace_id(graph: nx.MultiDiGraph) -> str:
    (only,) = graph.graph["trace_ids"]
    return str(only)


# --- the schema file ------------------------------------------------------------------


def test_schema_file_is_the_generated_text() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema_cypher(), (
        "regenerate it: python -m tracegraph.neo4j.schema > cypher/schema.cypher"
    )
    assert parse_cypher_statements(render_schema_cypher()) == schema_statements()


def test_schema_has_a_key_constraint_and_indexes_for_every_label() -> None:
    statements = schema_statements()
    for label in Label:
        assert (f"CREATE CONSTRAINT tracegraph_{label.value}_key IF NOT EXISTS "
                f"FOR (n:{label.value}) REQUIRE n.key IS UNIQUE") in statements
        for prop in ("trace_id", "object_id"):
            assert (f"CREATE INDEX tracegraph_{label.value}_{prop} IF NOT EXISTS "
                    f"FOR (n:{label.value}) ON (n.{prop})") in statements
    for rel in Rel:
        create = (f"CREATE INDEX tracegraph_{rel.value}_key_range IF NOT EXISTS "
                  f"FOR ()-[r:{rel.value}]-() ON (r.key)")
        drop = f"DROP CONSTRAINT tracegraph_{rel.value}_key IF EXISTS"
        # The constraint of earlier versions goes first: it would hide the index.
        assert statements.index(drop) < statements.index(create)


@pytest.mark.neo4j
def test_exporter_runs_exactly_the_statements_of_the_schema_file(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    drop_schema(neo4j_driver, neo4j_server.database)
    recording = RecordingDriver(neo4j_driver)
    export_graph(example_graph("terminal-reuse"), recording,  # type: ignore[arg-type]
                 database=neo4j_server.database)
    expected = parse_cypher_statements(SCHEMA_FILE.read_text(encoding="utf-8"))
    schema_queries = [q for q in recording.queries if q.startswith(SCHEMA_VERBS)]
    assert tuple(schema_queries) == expected
    # Once every constraint and index is online, a load runs none of them again.
    again = RecordingDriver(neo4j_driver)
    export_graph(example_graph("code-mode"), again,  # type: ignore[arg-type]
                 database=neo4j_server.database)
    assert not [q for q in again.queries if q.startswith(SCHEMA_VERBS)]
    records, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties RETURN name",
        database_=neo4j_server.database)
    names = {r["name"] for r in records}
    assert {f"tracegraph_{label.value}_key" for label in Label} <= names
    records, _, _ = neo4j_driver.execute_query(
        "SHOW INDEXES YIELD name, state RETURN name, state", database_=neo4j_server.database)
    states = {r["name"]: r["state"] for r in records}
    for label in Label:
        assert states[f"tracegraph_{label.value}_trace_id"] == "ONLINE"
        assert states[f"tracegraph_{label.value}_object_id"] == "ONLINE"
    for rel in Rel:
        assert states[f"tracegraph_{rel.value}_key_range"] == "ONLINE"


@pytest.mark.neo4j
def test_a_database_loaded_by_an_earlier_version_trades_its_relationship_key_constraints(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    """A database whose relationship keys have the uniqueness constraints of earlier
    versions: the next load drops them and creates the range indexes, and the trace
    loaded before stays whole (the indexes are populated from it)."""
    database = neo4j_server.database
    drop_schema(neo4j_driver, database)
    for rel in Rel:
        neo4j_driver.execute_query(
            f"CREATE CONSTRAINT tracegraph_{rel.value}_key IF NOT EXISTS "
            f"FOR ()-[r:{rel.value}]-() REQUIRE r.key IS UNIQUE", database_=database)
    graph = example_graph("terminal-reuse")
    before = export_graph(graph, neo4j_driver, database=database, create_schema=False)
    assert before.modes == {trace_id(graph): "new"}
    export_graph(example_graph("code-mode"), neo4j_driver, database=database)
    records, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, entityType RETURN name, entityType", database_=database)
    assert not [r["name"] for r in records if r["entityType"] == "RELATIONSHIP"
                and r["name"].startswith("tracegraph_")]
    records, _, _ = neo4j_driver.execute_query(
        "SHOW INDEXES YIELD name, state, entityType, owningConstraint "
        "RETURN name, state, entityType, owningConstraint", database_=database)
    relationship_indexes = {r["name"]: (r["state"], r["owningConstraint"]) for r in records
                            if r["entityType"] == "RELATIONSHIP"
                            and r["name"].startswith("tracegraph_")}
    assert relationship_indexes == {f"tracegraph_{rel.value}_key_range": ("ONLINE", None)
                                    for rel in Rel}
    again = export_graph(graph, neo4j_driver, database=database)
    assert again.modes == {trace_id(graph): "unchanged"}
    # A changed relationship of the earlier trace is found through the new index.
    records, _, _ = neo4j_driver.execute_query(
        "MATCH ()-[r]->() WHERE r.trace_id = $t WITH r LIMIT 1 "
        "SET r.provenance = 'stale' RETURN type(r) AS type, r.key AS key",
        t=trace_id(graph), database_=database)
    (changed,) = records
    update = export_graph(graph, neo4j_driver, database=database, trust_fingerprints=False)
    assert update.relationships_updated == 1
    records, _, _ = neo4j_driver.execute_query(
        f"MATCH ()-[r:{changed['type']} {{key: $k}}]->() RETURN r.provenance AS p",
        k=changed["key"], database_=database)
    assert [r["p"] for r in records] == [graph.edges[next(
        (u, v, k) for u, v, k, d in graph.edges(keys=True, data=True)
        if d["edge_key"] == changed["key"])]["provenance"]]


# --- labels and types come from the schema only ---------------------------------------


@pytest.mark.neo4j
def test_every_query_names_only_schema_labels_and_types(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    recording = RecordingDriver(neo4j_driver)
    driver: Any = recording
    grown = load_graph(copy_bundle(tmp_path, "multi-agent", keep_lines=0.5))
    full = example_graph("multi-agent")
    export_graph(full, driver, database=database, batch_size=7)
    export_graph(grown, driver, database=database)  # shrinks: the clean-up deletes
    export_graph(full, driver, database=database)
    delete_trace(driver, trace_id(full), database=database, batch_size=10)
    assert len(recording.queries) > 100
    named: set[str] = set()
    for query in recording.queries:
        named |= pattern_names(query)
        assert trace_id(full) not in query  # values travel as parameters
        assert "$(" not in query  # no dynamic labels
    assert named <= WHITELIST, named - WHITELIST
    assert {"Rollout", "ConversationItem", "PROMPTED", "EVIDENCED_BY"} <= named


class UnusableDriver:
    def session(self, **config: Any) -> Any:
        raise AssertionError("the exporter must refuse the graph before connecting")


@pytest.mark.parametrize("change", ["node label", "edge type", "edge endpoints"])
def test_labels_and_types_from_the_data_are_refused(change: str) -> None:
    graph = example_graph("terminal-reuse").copy()
    evil = "Rollout) DETACH DELETE n //"
    if change == "node label":
        key = next(iter(graph.nodes))
        graph.nodes[key]["label"] = evil
    else:
        u, v, k = next(iter(graph.edges(keys=True)))
        if change == "edge type":
            graph.edges[u, v, k]["label"] = "HAS_THREAD]->() DETACH DELETE n //"
        else:
            graph.edges[u, v, k]["label"] = "HAS_RAW_PAYLOAD"  # not Rollout -> RawPayload
    with pytest.raises(ValueError, match="schema"):
        export_graph(graph, UnusableDriver())  # type: ignore[arg-type]


def test_an_edge_value_neo4j_cannot_store_is_refused_before_anything_is_written() -> None:
    # A new trace's nodes are written while its edges are planned: the edges are checked
    # first, values included, so the last edge's bad value stops the load up front.
    graph = example_graph("terminal-reuse").copy()
    *_, (u, v, k) = graph.edges(keys=True)
    graph.edges[u, v, k]["position"] = {1, 2}
    with pytest.raises(TypeError, match="cannot store a set value in Neo4j"):
        export_graph(graph, UnusableDriver())  # type: ignore[arg-type]


# --- property encoding -----------------------------------------------------------------


def test_property_encoding() -> None:
    assert encode_value("x") == "x"
    assert encode_value(True) is True
    assert encode_value(3) == 3
    assert encode_value(["a", "b"]) == ["a", "b"]
    assert encode_value([]) == []
    assert encode_value([1, 2]) == [1, 2]
    assert encode_value([True, 1]) == "[true,1]"  # mixed: JSON
    assert encode_value(["a", None]) == '["a",null]'
    assert encode_value({"b": 1, "a": [1, "x"]}) == '{"a":[1,"x"],"b":1}'
    assert encode_value([["a"]]) == '[["a"]]'
    assert encode_value(2**70) == str(2**70)
    assert encode_value("\ud800") == '"\\ud800"'
    assert encode_properties({"a": None, "b": 1, "c": {"z": "é"}}) == {"b": 1, "c": '{"z":"é"}'}


_ATTRIBUTE_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text()
    | st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**70, "\ud800"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=2),
    max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "label", "trace_id", "position"]),
                       _ATTRIBUTE_VALUES, max_size=4))
def test_the_plan_fast_path_encodes_properties_as_the_slow_path_does(
        attrs: dict[str, Any]) -> None:
    """The plan copies plain attributes as they are; whatever it copies must be what
    encode_properties makes of them, with the same row text."""
    assert plan_module._properties(attrs, "k", "node") == plan_module._encoded(
        attrs, "k", "node")


def _written_properties(segments: list[plan_module.Segment]) -> dict[str, dict[str, Any]]:
    """What each row's element gets: its ``p`` plus the segment's ``$common``, by key."""
    out = {}
    for segment in segments:
        rows, common = plan_module.segment_parameters(segment)
        for row in rows:
            assert not row["p"].keys() & common.keys()
            out[row["k"]] = {**row["p"], **common}
    return out


def test_small_groups_of_one_query_share_a_segment_and_keep_every_property() -> None:
    """Many small traces in one load: a query per label and type per batch, not one per
    trace, and every element still gets exactly its own properties."""
    from tracegraph.neo4j.statements import group_query

    parts = [example_graph(name) for name in BUNDLE_NAMES]
    plan = plan_module.plan_graph(compose_graphs(parts))
    work = [(group, group_query(group, create=True)) for group in plan.groups]
    batches = plan_module.pack_batches(work, 2500)
    segments = [segment for batch in batches for segment in batch]
    for batch in batches:
        queries = [segment.query for segment in batch]
        assert len(queries) == len(set(queries))
    assert len(segments) < len(plan.groups)
    # Against each group written on its own (one segment per group, as one trace loads).
    alone = [plan_module.Segment(group, query, group.rows) for group, query in work]
    assert _written_properties(segments) == _written_properties(alone)
    assert sum(len(segment.rows) for segment in segments) == sum(
        len(group.rows) for group in plan.groups)


# --- loading ---------------------------------------------------------------------------


@pytest.mark.neo4j
@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_every_example_bundle_loads_with_the_graphs_counts_and_properties(
    name: str, neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    graph = example_graph(name)
    summary = export_graph(graph, neo4j_driver, database=neo4j_server.database)
    assert (summary.nodes_created, summary.relationships_created) == (
        graph.number_of_nodes(), graph.number_of_edges())
    assert not (summary.nodes_updated or summary.nodes_deleted or summary.relationships_deleted)
    assert counts(neo4j_driver, neo4j_server.database) == graph_counts(graph)
    # Every attribute is a property (encoded), plus `key`; nothing else.
    expected_nodes = sorted(
        (key, sorted({**encode_properties(attrs), "key": key}.items()))
        for key, attrs in graph.nodes(data=True))
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (n) RETURN n.key AS key, properties(n) AS props", database_=neo4j_server.database)
    # The Rollout node also keeps the load's fingerprints (nothing else does).
    fingerprints = [r["props"].pop(FINGERPRINT_PROPERTY, None) for r in records]
    assert [f is not None for f in fingerprints] == [
        graph.nodes[r["key"]]["label"] == "Rollout" for r in records]
    assert sorted((r["key"], sorted(r["props"].items())) for r in records) == expected_nodes
    # A relationship's `label` is its type and its `edge_key` its `key`: neither is stored.
    expected_rels = sorted(
        (attrs["edge_key"], attrs["label"], u, v, sorted(
            {**{name: value for name, value in encode_properties(attrs).items()
                if name not in ("label", "edge_key")}, "key": attrs["edge_key"]}.items()))
        for u, v, attrs in graph.edges(data=True))
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN r.key AS key, type(r) AS type, a.key AS a, b.key AS b, "
        "properties(r) AS props", database_=neo4j_server.database)
    assert sorted((r["key"], r["type"], r["a"], r["b"], sorted(r["props"].items()))
                  for r in records) == expected_rels


@pytest.mark.neo4j
def test_loading_the_same_graph_again_changes_nothing(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    graph = example_graph("multi-agent")
    export_graph(graph, neo4j_driver, database=neo4j_server.database)
    before = dump(neo4j_driver, neo4j_server.database)
    recording = RecordingDriver(neo4j_driver)
    again = export_graph(graph, recording, database=neo4j_server.database)  # type: ignore[arg-type]
    assert dump(neo4j_driver, neo4j_server.database) == before
    assert not again.changed
    assert (again.nodes_unchanged, again.relationships_unchanged) == (
        graph.number_of_nodes(), graph.number_of_edges())
    assert (again.nodes_created, again.nodes_updated, again.nodes_deleted) == (0, 0, 0)
    assert (again.relationships_created, again.relationships_updated,
            again.relationships_deleted) == (0, 0, 0)


@pytest.mark.neo4j
@pytest.mark.parametrize("name", ["multi-agent", "compaction"])
def test_a_grown_bundle_updates_in_place_to_a_clean_load(
    name: str, neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    bundle = copy_bundle(tmp_path, name, keep_lines=0.5)
    early = load_graph(bundle)
    full = example_graph(name)
    assert trace_id(early) == trace_id(full)
    export_graph(early, neo4j_driver, database=database)
    grown = export_graph(full, neo4j_driver, database=database)
    assert grown.nodes_created and grown.nodes_updated and grown.relationships_created
    loaded = dump(neo4j_driver, database)
    assert loaded == clean_dump(neo4j_driver, database, full)


@pytest.mark.neo4j
def test_a_shrunk_graph_removes_stale_nodes_relationships_and_properties(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    full = example_graph("terminal-reuse")
    early = load_graph(copy_bundle(tmp_path, "terminal-reuse", keep_lines=0.5))
    export_graph(full, neo4j_driver, database=database)
    # A stale relationship with no key of a schema type between two nodes of the trace.
    neo4j_driver.execute_query(
        "MATCH (r:Rollout {trace_id: $t}) MATCH (p:RawPayload {trace_id: $t}) "
        "WITH r, p LIMIT 1 CREATE (r)-[:HAS_RAW_PAYLOAD {trace_id: $t}]->(p)",
        t=trace_id(full), database_=database)
    shrunk = export_graph(early, neo4j_driver, database=database)
    assert shrunk.nodes_deleted == full.number_of_nodes() - early.number_of_nodes()
    assert shrunk.relationships_deleted == full.number_of_edges() - early.number_of_edges() + 1
    assert shrunk.nodes_updated  # e.g. ended_at_unix_ms gone again
    assert dump(neo4j_driver, database) == clean_dump(neo4j_driver, database, early)


@pytest.mark.neo4j
def test_rollouts_live_side_by_side_and_delete_removes_only_one(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    first, second = example_graph("code-mode"), example_graph("terminal-reuse")
    only_second = clean_dump(neo4j_driver, database, second)
    export_graph(first, neo4j_driver, database=database)
    export_graph(second, neo4j_driver, database=database)
    neo4j_driver.execute_query("CREATE (:Note {trace_id: $t, text: 'not ours'})",
                               t=trace_id(first), database_=database)
    both_nodes, both_rels = counts(neo4j_driver, database)
    assert both_nodes - Counter(["Note"]) == graph_counts(first)[0] + graph_counts(second)[0]
    assert both_rels == graph_counts(first)[1] + graph_counts(second)[1]
    # Re-loading one does not touch the other.
    again = export_graph(first, neo4j_driver, database=database)
    assert not again.changed

    deleted = delete_trace(neo4j_driver, trace_id(first), database=database, batch_size=25)
    assert (deleted.nodes_deleted, deleted.relationships_deleted) == (
        first.number_of_nodes(), first.number_of_edges())
    assert counts(neo4j_driver, database, trace_id(first)) == (Counter(["Note"]), Counter())
    neo4j_driver.execute_query("MATCH (n:Note) DELETE n", database_=database)
    assert dump(neo4j_driver, database) == only_second
    nothing = delete_trace(neo4j_driver, trace_id(first), database=database)
    assert (nothing.nodes_deleted, nothing.relationships_deleted) == (0, 0)


@pytest.mark.neo4j
def test_a_composed_graph_loads_like_its_parts(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    parts = [example_graph("code-mode"), example_graph("compaction")]
    separately = clean_dump(neo4j_driver, database, *parts)
    summary = export_graph(compose_graphs(parts), neo4j_driver, database=database)
    assert set(summary.trace_ids) == {trace_id(g) for g in parts}
    assert dump(neo4j_driver, database) == separately


@pytest.mark.neo4j
def test_a_composed_graph_of_new_and_changed_traces_loads_like_its_parts(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    """New traces written together (their small groups merged) beside a trace the
    database holds an older version of: the same database as clean loads of each."""
    database = neo4j_server.database
    parts = [example_graph(name) for name in BUNDLE_NAMES]
    separately = clean_dump(neo4j_driver, database, *parts)
    older = parts[0].copy()
    older.remove_nodes_from(list(older.nodes)[-5:])
    for key in list(older.nodes)[:5]:
        older.nodes[key]["stale"] = "yes"
    export_graph(older, neo4j_driver, database=database)
    summary = export_graph(compose_graphs(parts), neo4j_driver, database=database)
    assert summary.modes == {trace_id(parts[0]): "update",
                             **{trace_id(g): "new" for g in parts[1:]}}
    assert dump(neo4j_driver, database) == separately


# --- interrupted loads ------------------------------------------------------------------


class StopLoading(Exception):
    pass


@pytest.mark.neo4j
@pytest.mark.parametrize("there", ["an older version", "nothing"])
def test_a_load_stopped_half_way_is_completed_by_a_rerun(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path, there: str
) -> None:
    database = neo4j_server.database
    full = example_graph("multi-agent")
    early = load_graph(copy_bundle(tmp_path, "multi-agent", keep_lines=0.4))
    expected = clean_dump(neo4j_driver, database, full)
    if there == "an older version":  # an update; else a new trace, whose nodes are
        export_graph(early, neo4j_driver, database=database)  # written in the background
    seen: list[ExportProgress] = []

    def stop_after_three(event: ExportProgress) -> None:
        seen.append(event)
        if event.batches_done == 3:
            raise StopLoading

    with pytest.raises(StopLoading):
        export_graph(full, neo4j_driver, database=database, batch_size=40,
                     progress=stop_after_three)
    assert seen[-1].batches_total > 6 and seen[-1].phase in {"nodes", "relationships"}
    if there == "nothing":
        assert seen[-1].phase == "nodes"  # stopped among the background node batches
    half = dump(neo4j_driver, database)
    assert half != expected
    rerun = export_graph(full, neo4j_driver, database=database, batch_size=40)
    assert rerun.changed
    assert dump(neo4j_driver, database) == expected


@pytest.mark.neo4j
def test_a_lost_connection_is_a_one_line_error_and_a_rerun_completes_the_load(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    graph = example_graph("compaction")
    expected = clean_dump(neo4j_driver, database, graph)
    # The schema is in place (clean_dump loaded), so every write is a batch; one writer
    # makes "the fifth write fails" mean "the fifth batch fails".
    broken = RecordingDriver(neo4j_driver, fail_after_writes=4)
    with pytest.raises(Neo4jExportError) as failure:
        export_graph(graph, broken, database=database, batch_size=30,  # type: ignore[arg-type]
                     writers=1)
    err = failure.value
    assert isinstance(err, TracegraphError)
    # Nodes, then relationships, each in batches of 30 (the last of each may be short).
    sizes = [min(30, n - start) for n in (graph.number_of_nodes(), graph.number_of_edges())
             for start in range(0, n, 30)]
    total = len(sizes)
    assert (err.batches_written, err.batches_total) == (4, total)
    assert len(str(err).splitlines()) == 1
    assert f"after 4 of {total} batches" in str(err) and "again" in str(err)
    nodes, rels = counts(neo4j_driver, database)
    assert sum(nodes.values()) + sum(rels.values()) == sum(sizes[:4])
    export_graph(graph, neo4j_driver, database=database, batch_size=30)
    assert dump(neo4j_driver, database) == expected


# --- connection errors ------------------------------------------------------------------


@pytest.mark.neo4j
def test_connection_errors_are_one_line_export_errors(neo4j_server: Neo4jServer) -> None:
    refused = f"bolt://127.0.0.1:{free_port()}"
    with pytest.raises(Neo4jExportError) as failure:
        connect(refused, password="x")
    assert str(failure.value).startswith(f"cannot connect to Neo4j at {refused}")
    assert len(str(failure.value).splitlines()) == 1

    with pytest.raises(Neo4jExportError) as failure:
        connect("http://localhost:7474", password="x")
    assert "unsupported Neo4j URI" in str(failure.value)

    with pytest.raises(Neo4jExportError) as failure:
        connect(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password,
                database="no-such-database")
    assert "has no database 'no-such-database'" in str(failure.value)
    assert len(str(failure.value).splitlines()) == 1

    if not neo4j_server.password:
        pytest.skip("the server runs without authentication")
    with pytest.raises(Neo4jExportError) as failure:
        connect(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password + "x")
    assert "refused the credentials for user 'neo4j'" in str(failure.value)
    assert len(str(failure.value).splitlines()) == 1


@pytest.mark.neo4j
def test_routing_uri_works(neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> None:
    if not neo4j_server.uri.startswith("bolt://"):
        pytest.skip("needs a bolt:// server to derive the neo4j:// URI from")
    routing = "neo4j://" + neo4j_server.uri.removeprefix("bolt://")
    graph = example_graph("upstream-interrupt")
    with connect(routing, user=neo4j_server.user, password=neo4j_server.password,
                 database=neo4j_server.database) as driver:
        summary = export_graph(graph, driver, database=neo4j_server.database)
    assert summary.nodes_created == graph.number_of_nodes()
    assert counts(neo4j_driver, neo4j_server.database) == graph_counts(graph)


# --- deployment files ------------------------------------------------------------------------


def test_compose_file_runs_the_lts_community_image_locally_with_auth_from_an_env_file() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "image: neo4j:5.26-community" in compose
    assert '"127.0.0.1:7687:7687"' in compose and '"127.0.0.1:7474:7474"' in compose
    assert "- .env.neo4j" in compose and "neo4j-data:/data" in compose
    assert "healthcheck:" in compose
    example = (ROOT / "neo4j.env.example").read_text(encoding="utf-8")
    assert "NEO4J_AUTH=neo4j/" in example
    assert ".env.neo4j" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
