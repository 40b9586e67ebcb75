"""Export typed trace graphs to Neo4j (official ``neo4j`` driver).

Function-first::

    from tracegraph.graph import load_graph
    from tracegraph.neo4j import connect, delete_trace, export_graph

    with connect("bolt://localhost:7687", password="...") as driver:
        summary = export_graph(load_graph("examples/bundles/multi-agent"), driver)
        delete_trace(driver, summary.trace_ids[0])

``connect`` accepts ``bolt://`` (one server) and ``neo4j://`` (routing: a cluster or
Aura) URIs, plus their ``+s``/``+ssc`` TLS variants; writes go through managed
transactions, so on a cluster they reach the leader and are retried on leader
changes. See :mod:`tracegraph.neo4j.export` for what a load does and
:mod:`tracegraph.neo4j.schema` for the constraints and indexes
(``cypher/schema.cypher``).
"""

from __future__ import annotations

import warnings

# `python -m tracegraph.neo4j.schema` runs a module this package already imported;
# runpy's warning about that is harmless here (the schema module has no state).
warnings.filterwarnings(
    "ignore", message=r"'tracegraph\.neo4j\.schema' found in sys\.modules", category=RuntimeWarning
)

from tracegraph.neo4j.errors import Neo4jExportError  # noqa: E402
from tracegraph.neo4j.export import (  # noqa: E402
    DEFAULT_BATCH_SIZE,
    DEFAULT_URI,
    DEFAULT_WRITERS,
    DeleteSummary,
    ExportProgress,
    ExportSummary,
    LoadedSource,
    connect,
    delete_trace,
    export_graph,
    loaded_sources,
    upsert_trace_elements,
)
from tracegraph.neo4j.fingerprint import source_fingerprint  # noqa: E402
from tracegraph.neo4j.properties import encode_properties  # noqa: E402
from tracegraph.neo4j.schema import render_schema_cypher, schema_statements  # noqa: E402

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_URI",
    "DEFAULT_WRITERS",
    "DeleteSummary",
    "ExportProgress",
    "ExportSummary",
    "LoadedSource",
    "Neo4jExportError",
    "connect",
    "delete_trace",
    "encode_properties",
    "export_graph",
    "loaded_sources",
    "render_schema_cypher",
    "schema_statements",
    "source_fingerprint",
    "upsert_trace_elements",
]
