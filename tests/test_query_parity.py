"""Every canned query gives the same rows from Cypher (Neo4j) as from networkx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tracegraph.graph import compose_graphs, load_graph
from tracegraph.neo4j.export import export_graph
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.queries import QUERIES, run_query
from tracegraph.queries.cypher import header, run_cypher_query

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLES = sorted(path.name for path in EXAMPLES.iterdir() if (path / "manifest.json").is_file())


@pytest.fixture(scope="module")
def graphs() -> dict[str, nx.MultiDiGraph]:
    return {name: load_graph(EXAMPLES / name) for name in BUNDLES}


@pytest.fixture(scope="module")
def loaded(neo4j_server: Neo4jServer, graphs: dict[str, nx.MultiDiGraph]) -> Iterator[Any]:
    """Every example bundle side by side in one database."""
    driver = neo4j_server.driver()
    try:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_server.database)
        export_graph(compose_graphs(graphs.values()), driver, database=neo4j_server.database)
        yield driver
    finally:
        driver.close()


def _ids(graph: nx.MultiDiGraph, label: str) -> list[str]:
    return sorted(data["object_id"] for _, data in graph.nodes(data=True)
                  if data["label"] == label)


def _cases(graph: nx.MultiDiGraph) -> list[tuple[str, dict[str, Any]]]:
    """Every query with every meaningful argument the bundle offers."""
    items = _ids(graph, "ConversationItem")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("agent-tree", {}), ("failed-operations", {}), ("compactions", {}),
        ("token-usage", {}), ("slowest", {"n": 1}), ("slowest", {"n": 3}),
    ]
    cases += [("inference-for-terminal-op", {"operation": op})
              for op in _ids(graph, "TerminalOperation")]
    cases += [("terminal-history", {"terminal": terminal})
              for terminal in _ids(graph, "TerminalSession")]
    cases += [(name, {"inference": inference}) for inference in _ids(graph, "InferenceCall")
              for name in ("tool-calls-of-inference", "request-input")]
    for thread in _ids(graph, "Thread"):
        cases += [("transcript", {"thread": thread}), ("agent-result-path", {"thread": thread})]
    cases += [("item-provenance", {"item": item}) for item in items]
    chain_starts = (_ids(graph, "TerminalOperation") + _ids(graph, "ToolCall")
                    + _ids(graph, "Thread") + _ids(graph, "CompactionRequest")
                    + _ids(graph, "InferenceCall") + items[-5:])
    cases += [("causal-chain", {"node": node}) for node in chain_starts]
    return cases


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_query_gives_the_same_rows_in_cypher(
    bundle: str, graphs: dict[str, nx.MultiDiGraph], loaded: Any,
    neo4j_server: Neo4jServer,
) -> None:
    graph = graphs[bundle]
    (trace_id,) = graph.graph["trace_ids"]
    cases = _cases(graph)
    assert {name for name, _ in cases} <= set(QUERIES)
    for name, params in cases:
        offline = run_query(graph, name, **params)
        online = run_cypher_query(loaded, name, database=neo4j_server.database,
                                  trace=trace_id, **params)
        assert online == offline, f"{bundle}: {name} {params}"


def test_queries_have_rows_somewhere(graphs: dict[str, nx.MultiDiGraph]) -> None:
    """Parity on empty answers proves little: every query answers something somewhere."""
    answered = {name for graph in graphs.values() for name, params in _cases(graph)
                if run_query(graph, name, **params)}
    assert answered == set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_has_a_cypher_file_with_a_header(name: str) -> None:
    fields = header(name)
    assert fields["name"] == name
    assert "params" in fields and "answers" in fields
    if name != "causal-chain":
        for param in QUERIES[name].params:
            assert f"${param.name}" in fields["params"]
        assert "$trace" in fields["params"]
