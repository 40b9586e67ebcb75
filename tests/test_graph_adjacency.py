"""The adjacency fast paths give what networkx's public calls give, in the same order."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from tracegraph.graph import project
from tracegraph.graph.adjacency import edge_triples, insert_edges, keyed_edges, node_edges
from tracegraph.model import load_state

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
EXAMPLES = sorted(path.name for path in BUNDLES.iterdir() if (path / "state.json").is_file())


@pytest.fixture(params=EXAMPLES)
def graph(request: pytest.FixtureRequest) -> nx.MultiDiGraph:
    return project(load_state(BUNDLES / request.param / "state.json"))


def test_edge_iteration_matches_the_edge_views(graph: nx.MultiDiGraph) -> None:
    assert list(edge_triples(graph)) == list(graph.edges(data=True))
    assert list(keyed_edges(graph)) == list(graph.edges(keys=True, data=True))
    half = graph.subgraph(list(graph)[::2])
    assert list(edge_triples(half)) == list(half.edges(data=True))


def test_node_edges_match_in_and_out_edges_on_graphs_and_views(graph: nx.MultiDiGraph) -> None:
    half = graph.subgraph(list(graph)[1::2])
    for view in (graph, half):
        for node in view:
            assert list(node_edges(view, node, into=True)) == [
                (source, data) for source, _, data in view.in_edges(node, data=True)]
            assert list(node_edges(view, node, into=False)) == [
                (target, data) for _, target, data in view.out_edges(node, data=True)]


def test_insert_edges_builds_what_add_edge_builds(graph: nx.MultiDiGraph) -> None:
    edges = list(graph.edges(keys=True, data=True))
    by_api: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    fast: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for built in (by_api, fast):
        built.add_nodes_from(graph.nodes(data=True))
    for u, v, key, data in edges:
        by_api.add_edge(u, v, key, **data)
    insert_edges(fast, ((u, v, key, dict(data)) for u, v, key, data in edges))
    assert list(fast.edges(keys=True, data=True)) == list(by_api.edges(keys=True, data=True))
    for node in graph:
        assert list(fast.pred[node]) == list(by_api.pred[node])
        assert list(fast.succ[node]) == list(by_api.succ[node])
    # Later changes through the public API see one edge from both ends.
    u, v, key, _ = edges[0]
    fast.edges[u, v, key]["extra"] = 1
    assert fast.pred[v][u][key]["extra"] == 1
    fast.remove_edge(u, v, key)
    assert not fast.has_edge(u, v, key) and fast.number_of_edges() == len(edges) - 1


def test_insert_edges_adds_missing_endpoints_and_merges_like_add_edge() -> None:
    by_api: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    fast: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    edges = [("a", "b", "k", {"x": 1}), ("c", "a", "k", {"y": 2}), ("a", "b", "k", {"z": 3})]
    for u, v, key, data in edges:
        by_api.add_edge(u, v, key, **data)
    insert_edges(fast, ((u, v, key, dict(data)) for u, v, key, data in edges))
    assert list(fast.nodes) == list(by_api.nodes) == ["a", "b", "c"]
    assert list(fast.edges(keys=True, data=True)) == list(by_api.edges(keys=True, data=True))
