"""Reduce and project many sources in worker processes (``tracegraph load --jobs N``).

Each source (a bundle directory or a ``state.json``) is one job: replay or read it,
project its graph, then either write its GraphML beside it (the worker returns the
summary) or return the graph itself (for Neo4j or a combined GraphML file). Results
come back in source order, so output is the same for any ``jobs``. A bad source is
a result with an error message, never an exception: the others still load.

Workers never print: what they would say on stderr (the dialect ``auto`` chose,
skipped events) travels back in ``notes``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from tracegraph.bundle.limits import Limits
from tracegraph.errors import TracegraphError
from tracegraph.graph.graphml import write_graphml
from tracegraph.graph.load import load_session_graph, load_trace, source_kind
from tracegraph.graph.project import project
from tracegraph.graph.summary import graph_summary
from tracegraph.reducer import replay
from tracegraph.reducer.notes import replay_notes
from tracegraph.sessions import session_notes

__all__ = ["Job", "JobResult", "replay_notes", "run_jobs"]


@dataclass(frozen=True)
class Job:
    source: Path
    dialect: str = "auto"
    lenient: bool = False
    #: Where to write GraphML (the worker returns the summary), or ``None``: return the graph.
    graphml: Path | None = None
    #: PROMPTED edges from every item of a request's input (see ``project``).
    full_snapshots: bool = False
    #: Refuse an unfinished final line (see :func:`tracegraph.reducer.replay`).
    strict: bool = False
    limits: Limits | None = None
    #: Renders the summary of a written GraphML (summary, GraphML path) to text.
    render: Callable[[dict[str, Any], Path], str] | None = None


@dataclass
class JobResult:
    source: Path
    graph: nx.MultiDiGraph | None = None
    summary: dict[str, Any] | None = None
    summary_text: str | None = None
    notes: list[str] = field(default_factory=list)
    #: One line naming the source, when it could not be loaded.
    error: str | None = None


def _error_line(source: Path, err: BaseException) -> str:
    if isinstance(err, OSError):
        text = f"{getattr(err, 'filename', '') or source}: {err.strerror or err}"
    else:
        text = str(err)
    return text if str(source) in text else f"{source}: {text}"


def run_job(job: Job) -> JobResult:
    """One source: reduce (or read) it, project it, write or return its graph."""
    result = JobResult(job.source)
    try:
        if source_kind(job.source) == "session":
            graph = load_session_graph(job.source)
            result.notes = [f"{job.source}: {line}" for line in session_notes(graph)]
        elif job.source.is_dir():
            replayed = replay(job.source, dialect=job.dialect, lenient=job.lenient,
                              strict=job.strict, limits=job.limits)
            result.notes = replay_notes(job.source, replayed, job.dialect)
            graph = project(replayed.trace, full_snapshots=job.full_snapshots)
        else:
            graph = project(load_trace(job.source, limits=job.limits),
                            full_snapshots=job.full_snapshots)
        if job.graphml is None:
            result.graph = graph
        else:
            write_graphml(graph, job.graphml)
            result.summary = graph_summary(graph)
            if job.render is not None:
                result.summary_text = job.render(result.summary, job.graphml)
    except (TracegraphError, OSError) as err:
        result.error = _error_line(job.source, err)
    return result


def run_jobs(jobs: Sequence[Job], workers: int) -> Iterator[JobResult]:
    """Results of ``jobs`` in order, computed by ``workers`` processes (in this process
    when 1). Closing the iterator early stops the workers."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(job)
        return
    # fork: workers start at once with tracegraph already imported.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    pool = context.Pool(min(workers, len(jobs)))
    try:
        yield from pool.imap(run_job, jobs, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
