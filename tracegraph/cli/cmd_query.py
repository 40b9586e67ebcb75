"""``queries`` and ``query``: the canned queries, offline or in Neo4j."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tracegraph.cli.app import app
from tracegraph.cli.console import fail, progress_steps, reports_errors, stdout
from tracegraph.cli.neo4j_load import neo4j_password, quiet_neo4j_driver
from tracegraph.cli.options import (
    NEO4J_OPTION,
    DatabaseOption,
    DialectChoice,
    DialectOption,
    FullSnapshotsOption,
    LenientOption,
    LimitOption,
    Neo4jUriCommand,
    Neo4jUriOption,
    StrictOption,
    UserOption,
    read_limits,
)
from tracegraph.cli.sources import source_graph
from tracegraph.cli.tables import print_rows

__all__ = ["queries", "query"]


@app.command()
def queries() -> None:
    """List the canned queries, their arguments and what each answers."""
    from tracegraph.queries import list_queries

    table = Table()
    table.add_column("query")
    table.add_column("arguments")
    table.add_column("answers")
    for query in list_queries():
        arguments = " ".join(
            param.name.upper() if param.required else f"[{param.name.upper()}]"
            for param in query.params
        )
        table.add_row(query.name, arguments, query.description)
    stdout.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(element) for element in value)
    return str(value)


@app.command(cls=Neo4jUriCommand)
@reports_errors
def query(
    name: Annotated[str, typer.Argument(help="Query name (see `tracegraph queries`).")],
    args: Annotated[
        list[str] | None, typer.Argument(help="The query's arguments, in order.")
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", "-b",
                     help="Answer offline from this bundle directory, state.json or GraphML file."),
    ] = None,
    neo4j: Neo4jUriOption = None,
    user: UserOption = "neo4j",
    database: DatabaseOption = None,
    trace: Annotated[
        str | None,
        typer.Option("--trace", help="Only this trace (needed when ids repeat across traces)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
    full_snapshots: FullSnapshotsOption = False,
) -> None:
    """Run a canned query offline (--bundle) or in Neo4j (--neo4j [URI]) and print its rows."""
    from tracegraph.neo4j import connect
    from tracegraph.queries import get_query, run_query
    from tracegraph.queries.cypher import run_cypher_query

    canned = get_query(name)
    bound = canned.bind(list(args or []))
    if (bundle is None) == (neo4j is None):
        raise fail(f"query {name}: pass exactly one of --bundle PATH or {NEO4J_OPTION} [URI]")
    if bundle is not None:
        with progress_steps() as step:
            graph = source_graph(bundle, step, dialect, lenient, full_snapshots,
                                 strict=strict, limits=read_limits(limit))
            step(f"running {name}")
            rows = run_query(graph, name, trace=trace, **bound)
    else:
        assert neo4j is not None
        quiet_neo4j_driver()
        password = neo4j_password()
        with connect(neo4j, user=user, password=password, database=database) as driver:
            rows = run_cypher_query(driver, name, database=database, trace=trace, **bound)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    print_rows(f"{name}: {len(rows)} row(s)", canned.columns,
               [[_cell(row[column]) for column in canned.columns] for row in rows], stdout)
