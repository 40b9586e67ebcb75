"""Canned causality queries over the typed graph, offline (networkx) and in Neo4j.

    from tracegraph.graph import load_graph
    from tracegraph.queries import run_query, list_queries

    graph = load_graph("examples/bundles/terminal-reuse")
    run_query(graph, "inference-for-terminal-op", operation="terminal_operation:1")
"""

from tracegraph.queries._walk import QueryError
from tracegraph.queries.registry import (
    QUERIES,
    CannedQuery,
    QueryParam,
    get_query,
    list_queries,
    run_query,
    to_dataframe,
)

__all__ = [
    "QUERIES",
    "CannedQuery",
    "QueryError",
    "QueryParam",
    "get_query",
    "list_queries",
    "run_query",
    "to_dataframe",
]
