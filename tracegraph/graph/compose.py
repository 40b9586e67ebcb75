"""Several graphs as one (rollouts side by side, as in a database that collects them)."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from tracegraph.errors import GraphError

__all__ = ["compose_graphs"]


def compose_graphs(graphs: Iterable[nx.MultiDiGraph]) -> nx.MultiDiGraph:
    """One graph holding every node and edge of ``graphs``.

    Keys embed the trace id, so graphs of different traces never collide; the
    same trace given twice merges into itself. A node or edge key present in
    two graphs with different attributes is an error.
    """
    graph_list = list(graphs)
    out: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for graph in graph_list:
        for name, value in graph.graph.items():
            out.graph.setdefault(name, value)
    trace_ids: list[str] = []
    dangling: list[str] = []
    for graph in graph_list:
        for trace_id in graph.graph.get("trace_ids", ()):
            if trace_id not in trace_ids:
                trace_ids.append(trace_id)
        for reference in graph.graph.get("dangling_references", ()):
            if reference not in dangling:
                dangling.append(reference)
        for key, attrs in graph.nodes(data=True):
            if key in out and out.nodes[key] != attrs:
                raise GraphError(f"node {key!r} differs between the composed graphs")
            out.add_node(key, **attrs)
        for u, v, key, attrs in graph.edges(keys=True, data=True):
            if out.has_edge(u, v, key) and out.edges[u, v, key] != attrs:
                raise GraphError(f"edge {key!r} differs between the composed graphs")
            out.add_edge(u, v, key=key, **attrs)
    out.graph.update(trace_ids=trace_ids, dangling_references=dangling)
    return out
