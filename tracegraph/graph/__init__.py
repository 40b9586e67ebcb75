"""The typed causal graph of a reduced rollout trace (networkx ``MultiDiGraph``).

Function-first, like networkx::

    from tracegraph.graph import load_graph, graph_summary, write_graphml

    graph = load_graph("examples/bundles/terminal-reuse")   # bundle dir or state.json
    graph_summary(graph)["nodes"]["ToolCall"]
    write_graphml(graph, "graph.graphml")

Labels, edge types and attributes are declared once in
:mod:`tracegraph.graph.schema` (rendered as ``docs/graph-schema.md``).
"""

from __future__ import annotations

import warnings

# `python -m tracegraph.graph.schema` runs a module this package already imported;
# runpy's warning about that is harmless here (the schema module has no state).
warnings.filterwarnings(
    "ignore", message=r"'tracegraph\.graph\.schema' found in sys\.modules", category=RuntimeWarning
)

from tracegraph.graph.compose import compose_graphs  # noqa: E402
from tracegraph.graph.graphml import GraphFileError, read_graphml, write_graphml  # noqa: E402
from tracegraph.graph.load import load_graph, load_session_graph, load_trace  # noqa: E402
from tracegraph.graph.project import project  # noqa: E402
from tracegraph.graph.schema import SCHEMA, Label, Provenance, Rel, node_key  # noqa: E402
from tracegraph.graph.summary import graph_summary  # noqa: E402

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
