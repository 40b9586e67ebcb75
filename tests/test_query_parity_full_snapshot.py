"""The Cypher queries that walk PROMPTED answer the same on a full-snapshot graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tracegraph.graph import compose_graphs, load_graph
from tracegraph.neo4j.export import export_graph
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.queries import run_query
from tracegraph.queries.cypher import run_cypher_query

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLES = sorted(path for path in EXAMPLES.iterdir() if (path / "manifest.json").is_file())


def test_prompted_queries_agree_in_both_forms_and_in_cypher(
        neo4j_driver: Any, neo4j_server: Neo4jServer) -> None:
    full = {path.name: load_graph(path, full_snapshots=True) for path in BUNDLES}
    export_graph(compose_graphs(full.values()), neo4j_driver, database=neo4j_server.database)
    checked = 0
    for name, graph in full.items():
        delta = load_graph(EXAMPLES / name)
        (trace_id,) = graph.graph["trace_ids"]
        ids = {label: sorted(data["object_id"] for _, data in graph.nodes(data=True)
                             if data["label"] == label)
               for label in ("InferenceCall", "ConversationItem")}
        cases = [("request-input", {"inference": call}) for call in ids["InferenceCall"]]
        cases += [("causal-chain", {"node": call}) for call in ids["InferenceCall"][-2:]]
        cases += [("item-provenance", {"item": item}) for item in ids["ConversationItem"]]
        for query, params in cases:
            offline = run_query(graph, query, **params)
            assert offline == run_query(delta, query, **params), f"{name}: {query} {params}"
            online = run_cypher_query(neo4j_driver, query, database=neo4j_server.database,
                                      trace=trace_id, **params)
            assert online == offline, f"{name}: {query} {params}"
            checked += 1
    assert checked > 100
