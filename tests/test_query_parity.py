"""Every canned query gives the same rows from Cypher (Neo4j) as from networkx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tests.generator import generate_bundle_info
from tracegraph.graph import compose_graphs, load_graph
from tracegraph.neo4j.export import export_graph
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.queries import QUERIES, run_query
from tracegraph.queries.cypher import header, run_cypher_query

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
EXAMPLE_BUNDLES = sorted(path.name for path in EXAMPLES.iterdir()
                         if (path / "manifest.json").is_file())
#: Generated rollouts with failed tool calls and non-zero exits, beside the examples.
GENERATED_SEEDS = (0, 24)
BUNDLES = [*EXAMPLE_BUNDLES, *(f"seed-{seed}" for seed in GENERATED_SEEDS)]
#: Queries over every rollout of the graph or database.
CROSS_ROLLOUT = ("rollout-overview", "tool-failures", "slowest-commands", "failures")


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, nx.MultiDiGraph]:
    found = {name: load_graph(EXAMPLES / name) for name in EXAMPLE_BUNDLES}
    for seed in GENERATED_SEEDS:
        path = tmp_path_factory.mktemp("generated") / f"seed-{seed}"
        assert generate_bundle_info(path, seed).valid
        found[f"seed-{seed}"] = load_graph(path)
    return found


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
        ("rollout-overview", {}), ("tool-failures", {}), ("slowest-commands", {}),
        ("failures", {}),
        ("slowest-commands", {"n": 2}),
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


@pytest.mark.parametrize("name", CROSS_ROLLOUT)
def test_cross_rollout_queries_answer_the_same_over_every_rollout(
    name: str, graphs: dict[str, nx.MultiDiGraph], loaded: Any, neo4j_server: Neo4jServer,
) -> None:
    everything = compose_graphs(graphs.values())
    for params in ({}, {"n": 1}, {"n": 1000}) if name == "slowest-commands" else ({},):
        offline = run_query(everything, name, **params)
        online = run_cypher_query(loaded, name, database=neo4j_server.database, **params)
        assert online == offline, f"{name} {params}"
    if name == "rollout-overview":
        assert [row["trace_id"] for row in offline] == sorted(everything.graph["trace_ids"])
        assert sum(row["failures"] for row in offline) == len(run_query(everything,
                                                                          "failed-operations"))
    if name == "tool-failures":
        assert any(row["failures"] for row in offline)
        assert any(row["nonzero_exits"] for row in offline)
        assert any(row["rollouts"] > 1 for row in offline)
    if name == "slowest-commands":
        assert len({row["trace_id"] for row in offline}) > 1
    if name == "failures":
        assert {row["label"] for row in offline} >= {"TerminalOperation", "ToolCall", "Thread"}
        assert any("exit code" in row["reason"] for row in offline)


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
