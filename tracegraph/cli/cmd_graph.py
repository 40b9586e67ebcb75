"""``load``, ``delete`` and ``export``: graphs to GraphML files or Neo4j."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracegraph.cli.app import app
from tracegraph.cli.console import (
    EXIT_BAD_INPUT,
    bundle_progress,
    fail,
    print_notes,
    progress_steps,
    reports_errors,
    stdout,
)
from tracegraph.cli.neo4j_load import (
    load_sources_into_neo4j,
    neo4j_password,
    quiet_neo4j_driver,
    report_failures,
)
from tracegraph.cli.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_WRITERS,
    NEO4J_OPTION,
    DatabaseOption,
    DialectChoice,
    DialectOption,
    FullSnapshotsOption,
    LenientOption,
    LimitOption,
    Neo4jUriCommand,
    Neo4jUriOption,
    SourceArg,
    StrictOption,
    UserOption,
    read_limits,
)
from tracegraph.cli.sources import (
    GRAPH_FILE_NAME,
    build_graph,
    default_graph_path,
    expand_sources,
    write_combined,
)
from tracegraph.cli.summary import print_graph_summary, render_graph_summary

__all__ = ["delete", "export", "load"]


@app.command(cls=Neo4jUriCommand)
@reports_errors
def load(
    sources: Annotated[
        list[Path],
        typer.Argument(help="Trace bundle directories, reduced state.json files, or "
                            "directories holding bundles."),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o",
                     help=f"Where to write the GraphML file (default: {GRAPH_FILE_NAME} in each "
                          "bundle, or beside each state file; none with --neo4j). With several "
                          "sources the file holds the graph of all of them."),
    ] = None,
    neo4j: Neo4jUriOption = None,
    user: UserOption = "neo4j",
    database: DatabaseOption = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per Neo4j transaction."),
    ] = DEFAULT_BATCH_SIZE,
    writers: Annotated[
        int, typer.Option("--writers", min=1,
                          help="Neo4j write transactions in flight at once (more can help a "
                               "server with more cores than this machine)."),
    ] = DEFAULT_WRITERS,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1,
                          help="Worker processes that reduce and project the sources (one "
                               "database, one progress bar over sources)."),
    ] = 1,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
    full_snapshots: FullSnapshotsOption = False,
) -> None:
    """Reduce SOURCE(s), project the typed graph, write GraphML or load Neo4j, print a summary.

    Without --neo4j: writes graph.graphml beside each source (no server needed).

    With --neo4j: upserts the graphs into Neo4j instead (idempotent; nodes and relationships those traces no longer have are removed; a source unchanged since its last complete load is skipped), and writes GraphML only with -o.

    A source that cannot be loaded is reported by name, the others still load, and the exit code is 2.
    """
    from tracegraph.graph.summary import graph_summary
    from tracegraph.jobs import Job, run_jobs

    paths = expand_sources(sources)
    per_source = neo4j is None and output is None
    limits = read_limits(limit)
    work = [Job(path, dialect.value, lenient, default_graph_path(path) if per_source else None,
                full_snapshots, strict, limits, render_graph_summary) for path in paths]
    if neo4j is not None:
        failed = load_sources_into_neo4j(paths, work, jobs, neo4j, user, database, batch_size,
                                         output, writers)
    else:
        failed = []
        graphs = []
        with bundle_progress() as bar:
            task = bar.add_task("reducing", total=len(paths))
            for result in run_jobs(work, jobs):
                bar.update(task, advance=1, description=str(result.source))
                print_notes(result.notes)
                if result.error is not None:
                    failed.append(result)
                    report_failures([result])
                elif result.summary is not None:
                    target = default_graph_path(result.source)
                    stdout.print(str(target), markup=False, highlight=False, soft_wrap=True)
                    stdout.file.write(result.summary_text or "")
                elif result.graph is not None:
                    graphs.append(result.graph)
        if output is not None and graphs:
            print_graph_summary(graph_summary(write_combined(graphs, output)), output)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command(cls=Neo4jUriCommand)
@reports_errors
def delete(
    trace_id: Annotated[str, typer.Argument(help="Trace id (manifest trace_id) to delete.")],
    neo4j: Neo4jUriOption = None,
    user: UserOption = "neo4j",
    database: DatabaseOption = None,
) -> None:
    """Delete one rollout's subgraph (every node with TRACE_ID and its relationships) from Neo4j."""
    from tracegraph.neo4j import connect, delete_trace

    if neo4j is None:
        raise fail(f"nothing to delete from: pass {NEO4J_OPTION} [URI]")
    quiet_neo4j_driver()
    password = neo4j_password()
    with (connect(neo4j, user=user, password=password, database=database) as driver,
          progress_steps() as step):
        step(f"deleting trace {trace_id}")
        summary = delete_trace(driver, trace_id, database=database)
    if summary.nodes_deleted == 0:
        message = f"trace {trace_id}: nothing to delete (no nodes with that trace_id)"
    else:
        message = (f"deleted trace {trace_id}: {summary.nodes_deleted} nodes, "
                   f"{summary.relationships_deleted} relationships")
    stdout.print(message, markup=False, highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def export(
    source: SourceArg,
    graphml: Annotated[
        Path | None,
        typer.Option("--graphml", help="Write the graph as GraphML to this file."),
    ] = None,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
    full_snapshots: FullSnapshotsOption = False,
) -> None:
    """Export the graph of SOURCE to files; prints each path written."""
    from tracegraph.graph.graphml import write_graphml

    if graphml is None:
        raise fail("nothing to export: pass --graphml FILE")
    with progress_steps() as step:
        graph = build_graph(source, step, dialect, lenient, full_snapshots,
                    strict=strict, limits=read_limits(limit))
        step(f"writing {graphml}")
        write_graphml(graph, graphml)
    stdout.print(str(graphml), markup=False, highlight=False, soft_wrap=True)
