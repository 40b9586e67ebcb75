"""Load modes against a real server: new traces are created, unchanged ones skipped by
their fingerprints, changed ones compared; incremental upserts of given elements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import neo4j
import networkx as nx
import pytest

from tests.neo4j_support import BUNDLES, RecordingDriver, copy_bundle, dump, wipe
from tracegraph.graph import load_graph
from tracegraph.neo4j import (
    ExportProgress,
    export_graph,
    loaded_sources,
    source_fingerprint,
    upsert_trace_elements,
)
from tracegraph.neo4j.fingerprint import FINGERPRINT_PROPERTY
from tracegraph.neo4j.plan import edge_key
from tracegraph.neo4j.properties import encode_properties
from tracegraph.neo4j_harness import Neo4jServer

pytestmark = pytest.mark.neo4j


def clean(driver: neo4j.Driver, database: str, graph: nx.MultiDiGraph) -> dict[str, Any]:
    wipe(driver, database)
    export_graph(graph, driver, database=database)
    result = dump(driver, database)
    wipe(driver, database)
    return result


def only_trace(graph: nx.MultiDiGraph) -> str:
    (trace_id,) = graph.graph["trace_ids"]
    return str(trace_id)


def stored_fingerprint(driver: neo4j.Driver, database: str, trace_id: str) -> Any:
    records, _, _ = driver.execute_query(
        "MATCH (r:Rollout {trace_id: $t}) RETURN r[$p] AS fp", t=trace_id,
        p=FINGERPRINT_PROPERTY, database_=database)
    return records[0]["fp"]


def test_a_new_trace_is_created_and_an_unchanged_one_is_not_written(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    graph = load_graph(BUNDLES / "multi-agent" / "state.json")
    first = RecordingDriver(neo4j_driver)
    summary = export_graph(graph, first, database=database)  # type: ignore[arg-type]
    assert summary.modes == {only_trace(graph): "new"}
    assert summary.nodes_created == graph.number_of_nodes()
    assert any("CREATE (x:" in q for q in first.queries)
    assert not any("MERGE" in q for q in first.queries)
    assert stored_fingerprint(neo4j_driver, database, only_trace(graph))
    before = dump(neo4j_driver, database)

    again = RecordingDriver(neo4j_driver)
    summary = export_graph(graph, again, database=database)  # type: ignore[arg-type]
    assert summary.modes == {only_trace(graph): "unchanged"}
    assert not summary.changed and summary.batches == 0
    assert (summary.nodes_unchanged, summary.relationships_unchanged) == (
        graph.number_of_nodes(), graph.number_of_edges())
    assert again.writes == 0
    assert dump(neo4j_driver, database) == before


def test_fingerprints_are_trusted_unless_told_not_to(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    graph = load_graph(BUNDLES / "code-mode" / "state.json")
    expected = clean(neo4j_driver, database, graph)
    export_graph(graph, neo4j_driver, database=database)
    neo4j_driver.execute_query("MATCH (n:Thread) SET n.status = 'edited by hand'",
                               database_=database)
    assert not export_graph(graph, neo4j_driver, database=database).changed
    assert dump(neo4j_driver, database) != expected
    fixed = export_graph(graph, neo4j_driver, database=database, trust_fingerprints=False)
    assert fixed.modes == {only_trace(graph): "update"} and fixed.nodes_updated >= 1
    assert dump(neo4j_driver, database) == expected


class StopLoading(Exception):
    pass


def test_an_interrupted_update_drops_the_fingerprint_so_nothing_is_skipped_later(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    early = load_graph(copy_bundle(tmp_path, "terminal-reuse", keep_lines=0.5))
    full = load_graph(BUNDLES / "terminal-reuse" / "state.json")
    expected_early = clean(neo4j_driver, database, early)
    export_graph(early, neo4j_driver, database=database)

    def stop(event: ExportProgress) -> None:
        if event.batches_done == 2:
            raise StopLoading

    with pytest.raises(StopLoading):
        export_graph(full, neo4j_driver, database=database, batch_size=20, progress=stop)
    assert stored_fingerprint(neo4j_driver, database, only_trace(full)) is None
    # Loading the older graph again must compare, not trust what is now half the newer one.
    back = export_graph(early, neo4j_driver, database=database)
    assert back.modes == {only_trace(early): "update"} and back.changed
    assert dump(neo4j_driver, database) == expected_early


def test_a_grown_graph_compares_only_the_units_that_changed(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    early = load_graph(copy_bundle(tmp_path, "compaction", keep_lines=0.5))
    full = load_graph(BUNDLES / "compaction" / "state.json")
    expected = clean(neo4j_driver, database, full)
    export_graph(early, neo4j_driver, database=database)
    grown = RecordingDriver(neo4j_driver)
    summary = export_graph(full, grown, database=database)  # type: ignore[arg-type]
    assert summary.modes == {only_trace(full): "update"}
    assert summary.nodes_created and summary.relationships_created
    assert dump(neo4j_driver, database) == expected
    # Another trace's load leaves this one's fingerprint alone.
    other = load_graph(BUNDLES / "code-mode" / "state.json")
    export_graph(other, neo4j_driver, database=database)
    assert export_graph(full, neo4j_driver, database=database).modes == {
        only_trace(full): "unchanged"}


def test_loaded_sources_names_only_completed_loads(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    database = neo4j_server.database
    source = BUNDLES / "code-mode" / "state.json"
    fingerprint = source_fingerprint(source, options="auto")
    assert fingerprint == source_fingerprint(source, options="auto")
    assert fingerprint != source_fingerprint(source, options="seed")
    assert fingerprint != source_fingerprint(BUNDLES / "code-mode", options="auto")
    graph = load_graph(source)
    assert loaded_sources(neo4j_driver, [fingerprint], database=database) == {}
    export_graph(graph, neo4j_driver, database=database,
                 source_fingerprints={only_trace(graph): fingerprint})
    found = loaded_sources(neo4j_driver, [fingerprint, "0" * 32], database=database)
    assert list(found) == [fingerprint]
    assert (found[fingerprint].trace_id, found[fingerprint].nodes,
            found[fingerprint].relationships) == (
        only_trace(graph), graph.number_of_nodes(), graph.number_of_edges())


def test_upserting_the_difference_gives_a_clean_load_of_the_new_graph(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    database = neo4j_server.database
    early = load_graph(copy_bundle(tmp_path, "multi-agent", keep_lines=0.5))
    full = load_graph(BUNDLES / "multi-agent" / "state.json")
    expected = clean(neo4j_driver, database, full)
    export_graph(early, neo4j_driver, database=database)
    trace_id = only_trace(full)

    def props(attrs: dict[str, Any]) -> dict[str, Any]:
        return encode_properties(attrs)

    nodes = [key for key, attrs in full.nodes(data=True)
             if key not in early or props(early.nodes[key]) != props(attrs)]
    early_edges = {(attrs["label"], edge_key(u, v, k, attrs)): attrs
                   for u, v, k, attrs in early.edges(keys=True, data=True)}
    full_edges = {(attrs["label"], edge_key(u, v, k, attrs))
                  for u, v, k, attrs in full.edges(keys=True, data=True)}
    edges = [(u, v, k) for u, v, k, attrs in full.edges(keys=True, data=True)
             if props(early_edges.get((attrs["label"], edge_key(u, v, k, attrs)), {}))
             != props(attrs)]
    remove_nodes = [(attrs["label"], key) for key, attrs in early.nodes(data=True)
                    if key not in full]
    remove_edges = [pair for pair in early_edges if pair not in full_edges]
    assert nodes and edges
    summary = upsert_trace_elements(neo4j_driver, full, trace_id, nodes=nodes, edges=edges,
                                    remove_nodes=remove_nodes, remove_edges=remove_edges,
                                    database=database, batch_size=25)
    assert summary.batches >= 2 and summary.nodes_created
    assert stored_fingerprint(neo4j_driver, database, trace_id) is None
    after = dump(neo4j_driver, database)
    # A clean load also stores fingerprints; everything else must be equal.
    assert strip_fingerprints(after) == strip_fingerprints(expected)
    again = export_graph(full, neo4j_driver, database=database)
    assert again.modes == {trace_id: "update"} and not again.changed
    assert dump(neo4j_driver, database) == expected


def strip_fingerprints(dumped: dict[str, Any]) -> dict[str, Any]:
    def strip(text: str) -> str:
        labels, properties = json.loads(text)
        properties.pop(FINGERPRINT_PROPERTY, None)
        return json.dumps([labels, properties], sort_keys=True, ensure_ascii=False)

    return {"nodes": sorted(strip(n) for n in dumped["nodes"]),
            "relationships": dumped["relationships"]}


def test_a_trace_loaded_in_the_previous_layout_is_rewritten_to_a_clean_load(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fingerprint format 2 stored every relationship's `label` and `edge_key` too.
    database = neo4j_server.database
    graph = load_graph(BUNDLES / "code-mode" / "state.json")
    expected = clean(neo4j_driver, database, graph)
    with monkeypatch.context() as patch:
        patch.setattr("tracegraph.neo4j.fingerprint.FINGERPRINT_FORMAT", 2)
        export_graph(graph, neo4j_driver, database=database)
    neo4j_driver.execute_query("MATCH ()-[r]->() SET r.label = type(r), r.edge_key = r.key",
                               database_=database)
    summary = export_graph(graph, neo4j_driver, database=database)
    assert summary.modes == {only_trace(graph): "update"}
    assert summary.relationships_updated == graph.number_of_edges()
    assert summary.nodes_updated == 0
    assert dump(neo4j_driver, database) == expected
    again = export_graph(graph, neo4j_driver, database=database)
    assert again.modes == {only_trace(graph): "unchanged"}
