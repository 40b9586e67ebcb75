"""``tracegraph`` command line.

Bad input never prints a traceback: one line on stderr naming the file, line or
event ``seq``, exit code 2, and no partially written output file.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from tracegraph.bundle.limits import Limits
from tracegraph.bundle.manifest import MANIFEST_FILE_NAME, REDUCED_STATE_FILE_NAME
from tracegraph.errors import TracegraphError
from tracegraph.model.rollout import MAP_FIELDS, dump_state
from tracegraph.reducer import Replay, replay
from tracegraph.reducer.notes import replay_notes

# `reduce` and `validate` need only the bundle, reducer and model modules: the graph,
# Neo4j, query and view packages (networkx, the driver) are imported by the commands
# that use them, so those two start fast.
if TYPE_CHECKING:
    import networkx as nx
    from rich.progress import Progress

    from tracegraph.jobs import Job, JobResult
    from tracegraph.neo4j import ExportSummary

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BARS",
    "DEFAULT_URI",
    "DEFAULT_WRITERS",
    "app",
    "main",
    "quiet_neo4j_driver",
    "with_default_neo4j_uri",
]

#: Option defaults, as literals so that the help needs no heavy import; a test checks
#: them against tracegraph.neo4j and tracegraph.views.
DEFAULT_BATCH_SIZE = 2500
DEFAULT_WRITERS = 2
DEFAULT_URI = "bolt://localhost:7687"
DEFAULT_MAX_BARS = 2500

app = typer.Typer(
    name="tracegraph",
    help="Turn Codex rollout-trace bundles into a typed causal graph you can query.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stdout = Console()
stderr = Console(stderr=True)

EXIT_BAD_INPUT = 2
#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one error line and return the exit to raise."""
    stderr.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def reports_errors(command: F) -> F:
    """Turn tracegraph's explicit exceptions into a one-line error and exit 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TracegraphError as err:
            raise fail(str(err)) from None
        except OSError as err:
            raise fail(f"{getattr(err, 'filename', '') or ''}: {err.strerror or err}") from None
        except MemoryError:
            # The limits keep inputs far below this; say so rather than show a traceback.
            raise fail("out of memory; lower the input limits (--limit, "
                       "TRACEGRAPH_LIMIT_*) to refuse such input early") from None

    return wrapper  # type: ignore[return-value]


BundleArg = Annotated[
    Path,
    typer.Argument(help="Trace bundle directory (manifest.json, trace.jsonl, payloads/)."),
]


class DialectChoice(StrEnum):
    AUTO = "auto"
    SEED = "seed"
    UPSTREAM = "upstream"


DialectOption = Annotated[
    DialectChoice,
    typer.Option("--dialect", case_sensitive=False,
                 help="Trace format: seed (first published format, exactly the reference "
                      "reducer), upstream (current Codex), or auto: upstream when the event log "
                      "shows newer-format evidence, else seed."),
]
LenientOption = Annotated[
    bool,
    typer.Option("--lenient",
                 help="Instead of failing, skip event types the dialect does not know (and "
                      "events holding a variant it does not know, with the events that need "
                      "them) and keep unknown model item types as opaque conversation items; "
                      "each unknown type is reported once, with its count."),
]


FullSnapshotsOption = Annotated[
    bool,
    typer.Option("--full-snapshots",
                 help="Give every inference request a PROMPTED edge from every item of its "
                      "input (edges grow with the square of the turns) instead of only the "
                      "items it adds to the request it EXTENDS; see docs/graph-schema.md."),
]


StrictOption = Annotated[
    bool,
    typer.Option("--strict",
                 help="Refuse a bundle whose final line is unfinished (no newline, does not "
                      "parse), as the reference reducer does. By default such a line, a record "
                      "still being written, is left out and the complete events are reduced."),
]
LimitOption = Annotated[
    list[str] | None,
    typer.Option("--limit", metavar="NAME=VALUE",
                 help="Change an input limit (repeatable): line-bytes, payload-bytes, "
                      "bundle-bytes (e.g. 2GiB), events, payloads. Also "
                      "TRACEGRAPH_LIMIT_<NAME>; defaults in tracegraph/bundle/limits.py."),
]


def read_limits(options: Sequence[str] | None) -> Limits:
    """The input limits: defaults, then ``TRACEGRAPH_LIMIT_*``, then ``--limit`` options."""
    return Limits.from_env().with_options(options or ())


def replay_reporting(bundle: Path, dialect: DialectChoice, lenient: bool, *,
                     strict: bool = False, limits: Limits | None = None) -> Replay:
    """Replay a bundle; say on stderr when ``auto`` chose the upstream dialect (the seed
    is the silent default), list every event ``lenient`` skipped, and what was left
    out of a bundle caught mid-write."""
    result = replay(bundle, dialect=dialect.value, lenient=lenient, strict=strict,
                    limits=limits)
    print_notes(replay_notes(bundle, result, dialect.value))
    return result


def print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        stderr.print(note, markup=False, highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def reduce(
    bundle: BundleArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write state.json (default: BUNDLE/state.json)."),
    ] = None,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
) -> None:
    """Replay BUNDLE and write its reduced state.json, like `codex debug trace-reduce`."""
    trace = replay_reporting(bundle, dialect, lenient, strict=strict,
                             limits=read_limits(limit)).trace
    target = output if output is not None else bundle / REDUCED_STATE_FILE_NAME
    dump_state(trace, target)
    stdout.print(str(target), markup=False, highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def validate(
    bundle: BundleArg,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
) -> None:
    """Replay BUNDLE without writing anything; report object counts or the first error."""
    result = replay_reporting(bundle, dialect, lenient, strict=strict,
                              limits=read_limits(limit))
    trace = result.trace
    stdout.print(
        f"{bundle}: valid (trace {trace.trace_id}, rollout status {trace.status.value}, "
        f"dialect {result.dialect.value}: {result.dialect_reason})",
        markup=False, highlight=False, soft_wrap=True,
    )
    table = Table()
    table.add_column("object")
    table.add_column("count", justify="right")
    for name in MAP_FIELDS:
        table.add_row(name, str(len(getattr(trace, name))))
    stdout.print(table)
    if result.unknown:
        unknown_table = Table(title="not understood (--lenient)")
        for column in ("kind", "type", "count", "first seen"):
            # A long type wraps rather than loses its end (a variant's tag is there).
            unknown_table.add_column(column, justify="right" if column == "count" else "left",
                                     overflow="fold")
        for unknown in result.unknown:
            unknown_table.add_row(unknown.kind, unknown.shown_name, str(unknown.count),
                                  unknown.first_seen)
        stdout.print(unknown_table)


# --- graph commands: load, export --------------------------------------------

SourceArg = Annotated[
    Path,
    typer.Argument(help="Trace bundle directory, or a reduced state.json file."),
]

#: Default GraphML file name, written into the bundle (or beside the state file).
GRAPH_FILE_NAME = "graph.graphml"


def default_graph_path(source: Path) -> Path:
    return (source if source.is_dir() else source.parent) / GRAPH_FILE_NAME


@contextmanager
def progress_steps() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr (terminals only) whose text names the current step."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=stderr, transient=True, disable=not stderr.is_terminal,
    )
    with progress:
        task = progress.add_task("starting", total=None)
        yield lambda description: progress.update(task, description=description)


def build_graph(source: Path, step: Callable[[str], None],
                dialect: DialectChoice = DialectChoice.AUTO,
                lenient: bool = False, full_snapshots: bool = False, *,
                strict: bool = False, limits: Limits | None = None) -> nx.MultiDiGraph:
    from tracegraph.graph.load import load_session_graph, load_trace, source_kind
    from tracegraph.graph.project import project
    from tracegraph.sessions import session_notes

    if source_kind(source) == "session":
        step(f"reading session files {source}")
        graph = load_session_graph(source)
        for line in session_notes(graph):
            stderr.print(f"{source}: {line}", markup=False, highlight=False, soft_wrap=True)
        return graph
    step(f"replaying {source}" if source.is_dir() else f"loading {source}")
    trace = (replay_reporting(source, dialect, lenient, strict=strict, limits=limits).trace
             if source.is_dir()
             else load_trace(source))
    step("projecting the graph")
    return project(trace, full_snapshots=full_snapshots)


def source_graph(source: Path, step: Callable[[str], None],
                 dialect: DialectChoice = DialectChoice.AUTO,
                 lenient: bool = False, full_snapshots: bool = False, *,
                 strict: bool = False, limits: Limits | None = None) -> nx.MultiDiGraph:
    """The graph of any source (bundle, state.json, session files); GraphML is read back as is."""
    from tracegraph.graph.graphml import read_graphml
    from tracegraph.graph.load import source_kind

    if source_kind(source) == "graphml":
        step(f"reading {source}")
        return read_graphml(source)
    return build_graph(source, step, dialect, lenient, full_snapshots, strict=strict,
                       limits=limits)


#: Failures the load summary shows; the rest are counted and left to `query failures`.
SUMMARY_FAILURES = 10


def print_graph_summary(summary: dict[str, Any], graph_file: Path | None = None,
                        console: Console | None = None) -> None:
    """Print counts, threads and the first failures; ``graph_file`` (the GraphML just
    written) is named in the command that lists every failure."""
    out = console or stdout
    counts = Table(title="graph")
    counts.add_column("kind")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for label, count in summary["nodes"].items():
        counts.add_row("node", label, str(count))
    # Session-rollout graphs derive every edge type, so ask the graph, not the schema.
    derived_types = set(summary.get("derived_edges", ()))
    for name, count in summary["edges"].items():
        if count:
            derived = " (derived)" if name in derived_types else ""
            counts.add_row("edge", f"{name}{derived}", str(count))
    counts.add_row("total", "nodes / edges", f"{summary['node_count']} / {summary['edge_count']}")
    out.print(counts)

    threads = Table(title="threads")
    threads.add_column("agent path (nickname)")
    threads.add_column("status")
    for column in ("turns", "items", "inferences", "tools"):
        threads.add_column(column, justify="right")
    for thread in summary["threads"]:
        nickname = f" ({thread['nickname']})" if thread["nickname"] else ""
        threads.add_row(
            f"{thread['agent_path']}{nickname}", str(thread["status"]),
            str(thread["turns"]), str(thread["items"]), str(thread["inference_calls"]),
            str(thread["tool_calls"]),
        )
    out.print(threads)

    if summary["failures"]:
        total = len(summary["failures"])
        failures = Table(title="failures" if total <= SUMMARY_FAILURES
                         else f"failures (first {SUMMARY_FAILURES} of {total})")
        # The id is what to look up next: shown whole; the command line gives way.
        failures.add_column("object", no_wrap=True)
        failures.add_column("id", no_wrap=True, min_width=len("terminal_operation:000"))
        failures.add_column("reason")
        failures.add_column("detail", overflow="ellipsis", ratio=1)
        for failure in summary["failures"][:SUMMARY_FAILURES]:
            failures.add_row(failure["label"], str(failure["object_id"]), failure["reason"],
                             failure["detail"] or "")
        out.print(failures)
        if total > SUMMARY_FAILURES:
            source = str(graph_file) if graph_file is not None else "SOURCE"
            out.print(f"... and {total - SUMMARY_FAILURES} more failures; list them all with: "
                         f"tracegraph query failures --bundle {source}",
                         markup=False, highlight=False, soft_wrap=True)
    else:
        out.print("failures: none", markup=False, highlight=False)
    if summary["dangling_references"]:
        out.print(f"dangling references: {summary['dangling_references']} "
                     "(references to objects missing from the trace)",
                     markup=False, highlight=False)


def render_graph_summary(summary: dict[str, Any], graph_file: Path | None = None) -> str:
    """What :func:`print_graph_summary` prints, as text: ``load --jobs`` workers render
    it (rich tables cost more than reducing a small bundle)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=stdout.width, force_terminal=stdout.is_terminal,
                      no_color=stdout.no_color, soft_wrap=False)
    print_graph_summary(summary, graph_file, console)
    return buffer.getvalue()


# --- Neo4j: load --neo4j, delete ----------------------------------------------------

#: Environment variable holding the Neo4j password (never a command-line option).
PASSWORD_ENV = "NEO4J_PASSWORD"
NEO4J_OPTION = "--neo4j"


def with_default_neo4j_uri(args: Sequence[str]) -> list[str]:
    """``--neo4j`` not followed by a URI (something with ``://``) gets :data:`DEFAULT_URI`.

    Typer has no options with an optional value, so ``--neo4j [URI]`` is done here:
    ``load BUNDLE --neo4j``, ``load --neo4j BUNDLE`` and ``load BUNDLE --neo4j
    neo4j://host`` all work. ``--neo4j=URI`` and anything after ``--`` are left alone.
    """
    out: list[str] = []
    for index, arg in enumerate(args):
        out.append(arg)
        if arg == "--":
            out.extend(args[index + 1:])
            break
        if arg == NEO4J_OPTION and (index + 1 >= len(args) or "://" not in args[index + 1]):
            out.append(DEFAULT_URI)
    return out


class Neo4jUriCommand(TyperCommand):
    """A command whose ``--neo4j`` option may be given without its URI."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_default_neo4j_uri(args))


Neo4jUriOption = Annotated[
    str | None,
    typer.Option(NEO4J_OPTION, metavar="[URI]",
                 help=f"Neo4j server: bolt://host:port (one server) or neo4j://host:port "
                      f"(routing: cluster, Aura); {DEFAULT_URI} when given without a URI. "
                      f"The password comes from ${PASSWORD_ENV}, else a hidden prompt."),
]
UserOption = Annotated[str, typer.Option("--user", help="Neo4j user.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Neo4j database (default: the server's default database)."),
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


def expand_sources(sources: Sequence[Path]) -> list[Path]:
    """Bundle directories and state files; a directory of bundles stands for its bundles.

    A directory without ``manifest.json`` whose subdirectories hold bundles expands to
    those bundles (sorted by name); anything else is kept as given, so a bad source
    still gets the reducer's own error message.
    """
    out: list[Path] = []
    for source in sources:
        bundles: list[Path] = []
        if source.is_dir() and not (source / MANIFEST_FILE_NAME).exists():
            bundles = sorted(child for child in source.iterdir()
                             if (child / MANIFEST_FILE_NAME).is_file())
        for path in bundles or [source]:
            if path not in out:
                out.append(path)
    return out


def _progress(counted: str) -> Progress:
    """A progress bar on stderr (terminals only) counting ``counted`` after M/N.

    rich.progress is imported here, not at the top, so commands without a bar
    (reduce, validate) do not pay for it."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn(counted), TimeElapsedColumn(), TimeRemainingColumn(),
        console=stderr, transient=True, disable=not stderr.is_terminal,
    )


def batch_progress() -> Progress:
    """A per-batch progress bar on stderr (terminals only)."""
    return _progress("batches, {task.fields[rows]} rows")


def print_export_summary(summary: ExportSummary, uri: str, database: str | None) -> None:
    table = Table(title=f"Neo4j {uri}" + (f" (database {database})" if database else ""))
    for column in ("", "in graph", "created", "updated", "unchanged", "deleted"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("nodes", str(summary.nodes), str(summary.nodes_created),
                  str(summary.nodes_updated), str(summary.nodes_unchanged),
                  str(summary.nodes_deleted))
    table.add_row("relationships", str(summary.relationships),
                  str(summary.relationships_created), str(summary.relationships_updated),
                  str(summary.relationships_unchanged), str(summary.relationships_deleted))
    stdout.print(table)
    traces = ", ".join(summary.trace_ids)
    stdout.print(
        f"loaded {len(summary.trace_ids)} trace(s) ({traces}) in {summary.batches} "
        f"batch{'es' if summary.batches != 1 else ''}, "
        f"{summary.seconds:.1f} s ({summary.elements_per_second:,.0f} nodes+relationships/s)",
        markup=False, highlight=False, soft_wrap=True,
    )


def bundle_progress() -> Progress:
    """A progress bar over sources on stderr (terminals only)."""
    return _progress("sources")


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


def load_sources_into_neo4j(paths: Sequence[Path], jobs: Sequence[Job], workers: int,
                            uri: str, user: str, database: str | None, batch_size: int,
                            graphml: Path | None, writers: int) -> list[JobResult]:
    """Reduce and project in ``workers`` processes, export each graph as it comes.

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
                merge_summaries(total, export_one(graph, driver, uri, database, batch_size,
                                                  bar if single else None, sources, writers))
                if graphml is not None:
                    graphs.append(graph)
    if graphml is not None and graphs:
        write_combined(graphs, graphml)
    if total.trace_ids:
        print_export_summary(total, uri, database)
    return failed


def write_combined(graphs: Sequence[nx.MultiDiGraph], output: Path) -> nx.MultiDiGraph:
    from tracegraph.graph.compose import compose_graphs
    from tracegraph.graph.graphml import write_graphml

    try:
        graph = graphs[0] if len(graphs) == 1 else compose_graphs(graphs)
    except ValueError as err:
        raise fail(f"cannot load these sources together: {err}") from None
    write_graphml(graph, output)
    stdout.print(str(output), markup=False, highlight=False, soft_wrap=True)
    return graph


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


# --- canned queries: queries, query ------------------------------------------------


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
    table = Table(title=f"{name}: {len(rows)} row(s)")
    for column in canned.columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row[column]) for column in canned.columns))
    stdout.print(table)


# --- pictures: view, plot ----------------------------------------------------------

ViewSourceArg = Annotated[
    Path, typer.Argument(help="Trace bundle directory, reduced state.json or GraphML file."),
]
TraceOption = Annotated[
    str | None,
    typer.Option("--trace", help="The trace to draw, when the source holds several."),
]


def default_view_path(source: Path) -> Path:
    """``view.html`` in a bundle, else ``NAME.view.html`` beside the state or GraphML file."""
    if source.is_dir():
        return source / VIEW_FILE_NAME
    return source.with_name(f"{source.stem}.{VIEW_FILE_NAME}")


VIEW_FILE_NAME = "view.html"


@app.command()
@reports_errors
def view(
    source: ViewSourceArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o",
                     help=f"HTML file to write (default: {VIEW_FILE_NAME} in the bundle, or "
                          f"NAME.{VIEW_FILE_NAME} beside a state or GraphML file)."),
    ] = None,
    trace: TraceOption = None,
    max_bars: Annotated[
        int, typer.Option("--max-bars", min=1,
                          help="Most timeline bars drawn at once; a busier window is aggregated "
                               "into time buckets until you zoom in."),
    ] = DEFAULT_MAX_BARS,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
) -> None:
    """Write one self-contained HTML page (timeline, agent tree, causal chains) and print its path.

    Everything is inline: the page fetches nothing when opened, so it can be attached to a bug report.
    """
    from tracegraph.views import extract, write_html

    target = output or default_view_path(source)
    with progress_steps() as step:
        graph = source_graph(source, step, dialect, lenient, strict=strict,
                             limits=read_limits(limit))
        step("laying out the view")
        trace_view = extract(graph, trace)
        step(f"writing {target}")
        write_html(trace_view, target, max_bars=max_bars)
    stdout.print(str(target), markup=False, highlight=False, soft_wrap=True)


class PlotKind(StrEnum):
    TIMELINE = "timeline"
    TOKENS = "tokens"
    AGENTS = "agents"


@app.command()
@reports_errors
def plot(
    source: ViewSourceArg,
    kind: Annotated[PlotKind, typer.Option("--kind", "-k", help="What to draw.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Image to write: FILE.png or FILE.svg."),
    ],
    trace: TraceOption = None,
    dialect: DialectOption = DialectChoice.AUTO,
    lenient: LenientOption = False,
    strict: StrictOption = False,
    limit: LimitOption = None,
) -> None:
    """Draw a static picture with matplotlib (timeline, tokens per turn, agent tree) and print its path."""
    from tracegraph.views import extract, write_plot

    if output.suffix.lower() not in {".png", ".svg"}:
        raise fail(f"{output}: plots are written as .png or .svg")
    with progress_steps() as step:
        graph = source_graph(source, step, dialect, lenient, strict=strict,
                             limits=read_limits(limit))
        step(f"drawing the {kind.value} plot")
        write_plot(extract(graph, trace), kind.value, output)
    stdout.print(str(output), markup=False, highlight=False, soft_wrap=True)


# --- watch -------------------------------------------------------------------------


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


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
