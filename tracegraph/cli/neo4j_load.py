"""``load --neo4j``: the password, the quiet driver, and loading sources as they come."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tracegraph.cli.console import (
    EXIT_INTERRUPTED,
    batch_progress,
    bundle_progress,
    fail,
    print_notes,
    stderr,
)
from tracegraph.cli.options import PASSWORD_ENV
from tracegraph.cli.sources import write_combined
from tracegraph.cli.summary import print_export_summary

if TYPE_CHECKING:
    import networkx as nx
    from rich.progress import Progress

    from tracegraph.jobs import Job, JobResult
    from tracegraph.neo4j import ExportSummary

__all__ = [
    "GROUP_ELEMENTS",
    "export_one",
    "interrupted",
    "load_sources_into_neo4j",
    "merge_summaries",
    "neo4j_password",
    "quiet_neo4j_driver",
    "report_failures",
]


def neo4j_password() -> str:
    """``$NEO4J_PASSWORD``, else asked for on the terminal without echo (empty: no auth)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    try:
        answer = typer.prompt("Neo4j password", default="", show_default=False,
                              hide_input=True, err=True)
    except typer.Abort:
        raise fail(f"no Neo4j password: set {PASSWORD_ENV} or type it at the prompt") from None
    return str(answer)


#: Modules the driver imports when they are installed, only for ``Result.to_df()`` and
#: its other dataframe helpers, which no command calls: with pandas installed (the
#: ``pandas`` and ``dev`` extras) they were 0.4 s of every Neo4j command's start.
_DRIVER_DATAFRAME_MODULES = ("numpy", "pandas", "pyarrow")


def quiet_neo4j_driver() -> None:
    """Import the driver without its dataframe modules, and keep its own log lines
    (retries, routing) off stderr: errors are ours to print."""
    if "neo4j" not in sys.modules:
        hidden = [name for name in _DRIVER_DATAFRAME_MODULES if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # `import name` fails
        try:
            import neo4j  # noqa: F401
        finally:
            for name in hidden:
                if sys.modules.get(name) is None:
                    del sys.modules[name]
    logger = logging.getLogger("neo4j")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def interrupted(written: Sequence[int], uri: str) -> typer.Exit:
    stderr.print(
        f"interrupted: {written[0]} of {written[1]} batches were written to "
        f"{uri}; run the same command again to complete the load",
        markup=False, highlight=False, soft_wrap=True,
    )
    return typer.Exit(EXIT_INTERRUPTED)


def export_one(graph: nx.MultiDiGraph, driver: Any, uri: str, database: str | None,
               batch_size: int, bar: Progress | None,
               source_fingerprints: dict[str, str], writers: int) -> ExportSummary:
    """Export one graph; with ``bar``, its batches drive it. Ctrl-C says how far it got
    and exits 130."""
    from tracegraph.neo4j import ExportProgress, export_graph

    written = [0, 0]  # batches written, batches total
    task = bar.add_task("Neo4j", total=None, rows="0") if bar is not None else None

    def progress(event: ExportProgress) -> None:
        written[:] = [event.batches_done, event.batches_total]
        if bar is not None and task is not None:
            name = f" {event.name}" if event.name else ""
            bar.update(task, total=event.batches_total, completed=event.batches_done,
                       description=f"{event.phase}{name}",
                       rows=f"{event.rows_done:,}/{event.rows_total:,}")

    try:
        return export_graph(graph, driver, database=database, batch_size=batch_size,
                            progress=progress, source_fingerprints=source_fingerprints,
                            writers=writers)
    except KeyboardInterrupt:
        if bar is not None:
            bar.stop()
        raise interrupted(written, uri) from None


def merge_summaries(total: ExportSummary, part: ExportSummary) -> None:
    for name in ("nodes", "relationships", "nodes_created", "nodes_updated", "nodes_unchanged",
                 "nodes_deleted", "relationships_created", "relationships_updated",
                 "relationships_unchanged", "relationships_deleted", "batches", "seconds"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.trace_ids += tuple(t for t in part.trace_ids if t not in total.trace_ids)
    total.modes.update(part.modes)


def report_failures(results: Sequence[JobResult]) -> None:
    for result in results:
        if result.error is not None:
            stderr.print(f"error: {result.error}", markup=False, highlight=False,
                         soft_wrap=True)


#: Small graphs are exported together until they hold this many nodes and
#: relationships: each export costs a few round trips (schema check, trace states,
#: fingerprints) whatever its size, which dominated loads of many small rollouts.
GROUP_ELEMENTS = 20_000


class _ExportGroup:
    """Graphs of distinct traces waiting to be exported as one."""

    def __init__(self) -> None:
        self.graphs: list[nx.MultiDiGraph] = []
        self.trace_ids: set[str] = set()
        self.sources: dict[str, str] = {}
        self.elements = 0

    def takes(self, trace_ids: Sequence[str]) -> bool:
        """Whether a graph of ``trace_ids`` can join (it shares no trace with the group)."""
        return self.trace_ids.isdisjoint(trace_ids)

    def add(self, graph: nx.MultiDiGraph, trace_ids: Sequence[str],
            sources: dict[str, str]) -> None:
        self.graphs.append(graph)
        self.trace_ids.update(trace_ids)
        self.sources.update(sources)
        self.elements += graph.number_of_nodes() + graph.number_of_edges()

    def graph(self) -> nx.MultiDiGraph:
        from tracegraph.graph import compose_graphs

        return self.graphs[0] if len(self.graphs) == 1 else compose_graphs(self.graphs)

    def clear(self) -> None:
        self.graphs, self.trace_ids, self.sources, self.elements = [], set(), {}, 0


def load_sources_into_neo4j(paths: Sequence[Path], jobs: Sequence[Job], workers: int,
                            uri: str, user: str, database: str | None, batch_size: int,
                            graphml: Path | None, writers: int) -> list[JobResult]:
    """Reduce and project in ``workers`` processes, export the graphs as they come
    (small ones together, up to ``GROUP_ELEMENTS`` elements per export).

    Sources whose fingerprint a completed load stored are not even reduced (unless
    ``graphml`` needs every graph). Returns the failed results.
    """
    from tracegraph.jobs import run_jobs
    from tracegraph.neo4j import (
        ExportSummary,
        Neo4jExportError,
        connect,
        loaded_sources,
        source_fingerprint,
    )

    quiet_neo4j_driver()
    password = neo4j_password()
    options = {job.source: f"{job.dialect}/{job.lenient}/{job.full_snapshots}/{job.strict}/"
                     f"{job.limits}" for job in jobs}
    fingerprints: dict[Path, str] = {}
    for path in paths:
        with suppress(OSError):
            fingerprints[path] = source_fingerprint(path, options=options[path])
    try:
        driver = connect(uri, user=user, password=password, database=database)
    except Neo4jExportError as err:
        # Bad input is reported before an unreachable server.
        failed = [r for r in run_jobs(jobs, workers) if r.error is not None]
        if failed:
            report_failures(failed)
            return failed
        raise fail(str(err)) from None
    total = ExportSummary()
    failed = []
    with driver:
        loaded = {} if graphml is not None else loaded_sources(
            driver, fingerprints.values(), database=database)
        todo = [job for job in jobs if fingerprints.get(job.source) not in loaded]
        for job in jobs:
            if job not in todo:
                found = loaded[fingerprints[job.source]]
                merge_summaries(total, ExportSummary(
                    trace_ids=(found.trace_id,), nodes=found.nodes,
                    relationships=found.relationships, nodes_unchanged=found.nodes,
                    relationships_unchanged=found.relationships,
                    modes={found.trace_id: "unchanged"}))
        graphs = []
        single = len(todo) == 1
        with (batch_progress() if single else bundle_progress()) as bar:
            task = None if single else bar.add_task("reducing", total=len(todo))
            group = _ExportGroup()

            def flush() -> None:
                if group.graphs:
                    merge_summaries(total, export_one(
                        group.graph(), driver, uri, database, batch_size,
                        bar if single else None, group.sources, writers))
                    group.clear()

            for result in run_jobs(todo, workers):
                if task is not None:
                    bar.update(task, advance=1, description=str(result.source))
                print_notes(result.notes)
                if result.graph is None:
                    failed.append(result)
                    report_failures([result])
                    continue
                graph = result.graph
                trace_ids = [str(t) for t in graph.graph.get("trace_ids", ())]
                sources = ({trace_ids[0]: fingerprints[result.source]}
                           if len(trace_ids) == 1 and result.source in fingerprints else {})
                if not group.takes(trace_ids):
                    flush()  # the same trace again: the later source replaces it
                group.add(graph, trace_ids, sources)
                if group.elements >= GROUP_ELEMENTS:
                    flush()
                if graphml is not None:
                    graphs.append(graph)
            flush()
    if graphml is not None and graphs:
        write_combined(graphs, graphml)
    if total.trace_ids:
        print_export_summary(total, uri, database)
    return failed
