"""The typed causal graph of a reduced rollout trace (networkx ``MultiDiGraph``).

Function-first, like networkx::

    from tracegraph.graph import load_graph, graph_summary, write_graphml

    graph = load_graph("examples/bundles/terminal-reuse")   # bundle dir or state.json
    graph_summary(graph)["nodes"]["ToolCall"]
    write_graphml(graph, "graph.graphml")

Labels, edge types and attributes are declared once in
:mod:`tracegraph.graph.schema` (rendered as ``docs/graph-schema.md`` by :mod:`tracegraph.graph.schema_docs`).
"""

from __future__ import annotations

from tracegraph.graph.compose import compose_graphs
from tracegraph.graph.graphml import GraphFileError, read_graphml, write_graphml
from tracegraph.graph.load import load_graph, load_session_graph, load_trace
from tracegraph.graph.project import project
from tracegraph.graph.schema import SCHEMA, Label, Provenance, Rel, node_key
from tracegraph.graph.summary import graph_summary

__all__ = [
    "SCHEMA",
    "GraphFileError",
    "Label",
    "Provenance",
    "Rel",
    "compose_graphs",
    "graph_summary",
    "load_graph",
    "load_session_graph",
    "load_trace",
    "node_key",
    "project",
    "read_graphml",
    "write_graphml",
]
