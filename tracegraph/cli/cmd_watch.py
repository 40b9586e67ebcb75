"""``watch``: follow bundles as sessions write them."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from tracegraph.cli.app import app
from tracegraph.cli.console import EXIT_INTERRUPTED, fail, reports_errors, stderr, stdout
from tracegraph.cli.neo4j_load import neo4j_password, quiet_neo4j_driver
from tracegraph.cli.options import (
    DEFAULT_BATCH_SIZE,
    NEO4J_OPTION,
    DatabaseOption,
    DialectChoice,
    DialectOption,
    LenientOption,
    LimitOption,
    Neo4jUriCommand,
    Neo4jUriOption,
    StrictOption,
    UserOption,
    read_limits,
)

__all__ = ["watch"]


@app.command(cls=Neo4jUriCommand)
@reports_errors
def watch(
    root: Annotated[
        Path,
        typer.Argument(help="Directory of trace bundles (like CODEX_ROLLOUT_TRACE_ROOT: one "
                            "bundle directory per rollout), or one bundle."),
    ],
    neo4j: Neo4jUriOption = None,
    graphml_dir: Annotated[
        Path | None,
        typer.Option("--graphml-dir",
                     help="Keep DIR/BUNDLE.graphml up to date instead of writing to Neo4j."),
    ] = None,
    user: UserOption = "neo4j",
    database: DatabaseOption = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per Neo4j transaction."),
    ] = DEFAULT_BATCH_SIZE,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll the files instead of native file events."),
    ] = False,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.01,
                            help="Seconds between looks when polling, and between looks "
                                 "without file events otherwise."),
    ] = 1.0,
    idle_exit: Annotated[
        float | None, typer.Option("--idle-exit", min=0,
                                   help="Stop after this many seconds without a new event."),
    ] = None,
    strict: StrictOption = False,
    limit: LimitOption = None,
) -> None:
    """Follow ROOT's bundles as they grow and keep Neo4j (or GraphML files) up to date.

    Prints one status line per bundle (events, threads, status, last update). Ctrl-C stops
    it with exit code 130; every batch written is a whole transaction. With --strict a
    bundle whose log ends in a line still being written is shown once that line is
    complete, never as a partial trace.
    """
    from tracegraph.graph.load import source_kind
    from tracegraph.neo4j import connect
    from tracegraph.watch import GraphmlSink, Neo4jSink, Sink, Watcher
    from tracegraph.watch.display import StatusDisplay
    from tracegraph.watch.sessions import SessionWatcher

    if (neo4j is None) == (graphml_dir is None):
        raise fail(f"watch {root}: pass exactly one of {NEO4J_OPTION} [URI] or --graphml-dir DIR")
    limits = read_limits(limit)

    def notice(message: str) -> None:
        stderr.print(message, markup=False, highlight=False, soft_wrap=True)

    with ExitStack() as stack:
        sink: Sink
        if neo4j is not None:
            quiet_neo4j_driver()
            driver = stack.enter_context(
                connect(neo4j, user=user, password=neo4j_password(), database=database))
            sink = Neo4jSink(driver, database=database, batch_size=batch_size)
        else:
            assert graphml_dir is not None
            sink = GraphmlSink(graphml_dir)
        display = stack.enter_context(StatusDisplay(stdout))
        # A directory of Codex session files is followed file by file (see watch.sessions).
        kind = SessionWatcher if source_kind(root) == "session" else Watcher
        watcher = kind(root, sink, dialect=dialect.value, lenient=lenient,
                       report=display.update, notice=notice, strict=strict, limits=limits)
        try:
            watcher.run(idle_exit=idle_exit, force_polling=poll, poll_interval=poll_interval)
        except KeyboardInterrupt:
            notice(f"interrupted: stopped watching {root}; every batch written is complete")
            raise typer.Exit(EXIT_INTERRUPTED) from None
