"""Edge access straight on a ``MultiDiGraph``'s adjacency dicts, kept in one module.

networkx stores a ``MultiDiGraph`` as dicts of dicts: ``_succ[u][v][key]`` and
``_pred[v][u][key]`` reach the same attribute dict, through one key dict shared
by both sides. Its own algorithms read these dicts directly. The public views
build several objects per step, and ``add_edge`` copies the attributes twice
and clears caches on every call: on a long rollout's 150k edges that is seconds.
Each function here gives what the public call named in its docstring gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

__all__ = ["edge_attrs", "edge_triples", "insert_edges", "keyed_edges", "node_edges"]


def edge_triples(graph: nx.MultiDiGraph) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """``graph.edges(data=True)``."""
    for source, neighbours in graph._succ.items():
        for target, keyed in neighbours.items():
            for attrs in keyed.values():
                yield source, target, attrs


def keyed_edges(graph: nx.MultiDiGraph) -> Iterator[tuple[Any, Any, Any, dict[str, Any]]]:
    """``graph.edges(keys=True, data=True)``."""
    for source, neighbours in graph._succ.items():
        for target, keyed in neighbours.items():
            for key, attrs in keyed.items():
                yield source, target, key, attrs


def node_edges(graph: nx.MultiDiGraph, node: Any, *,
               into: bool) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(other end, attributes) of ``graph.in_edges(node, data=True)`` when ``into``,
    else of ``graph.out_edges(node, data=True)`` (subgraph views included)."""
    adjacency = graph._pred[node] if into else graph._succ[node]
    for other, keyed in adjacency.items():
        for attrs in keyed.values():
            yield other, attrs


def edge_attrs(graph: nx.MultiDiGraph, u: Any, v: Any, key: Any) -> dict[str, Any] | None:
    """``graph.edges[u, v, key]``, or ``None`` when there is no such edge."""
    keyed = graph._succ.get(u, {}).get(v)
    return None if keyed is None else keyed.get(key)


def insert_edges(graph: nx.MultiDiGraph,
              edges: Iterable[tuple[Any, Any, Any, dict[str, Any]]]) -> None:
    """``graph.add_edge(u, v, key, **attrs)`` for each (u, v, key, attrs) of a graph
    (not a view): missing endpoints become nodes, and ``attrs`` itself becomes a new
    edge's attribute dict (an existing edge's is updated from it)."""
    succ, pred = graph._succ, graph._pred
    for u, v, key, attrs in edges:
        if u not in succ:
            graph.add_node(u)
        if v not in succ:
            graph.add_node(v)
        keyed = succ[u].get(v)
        if keyed is None:
            keyed = succ[u][v] = pred[v][u] = {}
        found = keyed.get(key)
        if found is None:
            keyed[key] = attrs
        else:
            found.update(attrs)
    cache = getattr(graph, "__networkx_cache__", None)
    if cache:
        cache.clear()
