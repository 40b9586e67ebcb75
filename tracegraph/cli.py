"""``tracegraph`` command line.

Bad input never prints a traceback: one line on stderr naming the file, line or
event ``seq``, exit code 2, and no partially written output file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import networkx as nx
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracegraph.bundle.manifest import REDUCED_STATE_FILE_NAME
from tracegraph.errors import TracegraphError
from tracegraph.graph.graphml import write_graphml
from tracegraph.graph.load import load_trace
from tracegraph.graph.project import project
from tracegraph.graph.schema import SCHEMA
from tracegraph.graph.summary import graph_summary
from tracegraph.model.rollout import MAP_FIELDS, dump_state
from tracegraph.reducer import replay_bundle

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

    return wrapper  # type: ignore[return-value]


BundleArg = Annotated[
    Path,
    typer.Argument(help="Trace bundle directory (manifest.json, trace.jsonl, payloads/)."),
]


@app.command()
@reports_errors
def reduce(
    bundle: BundleArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write state.json (default: BUNDLE/state.json)."),
    ] = None,
) -> None:
    """Replay BUNDLE and write its reduced state.json, like `codex debug trace-reduce`."""
    trace = replay_bundle(bundle)
    target = output if output is not None else bundle / REDUCED_STATE_FILE_NAME
    dump_state(trace, target)
    stdout.print(str(target), markup=False, highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def validate(bundle: BundleArg) -> None:
    """Replay BUNDLE without writing anything; report object counts or the first error."""
    trace = replay_bundle(bundle)
    stdout.print(
        f"{bundle}: valid (trace {trace.trace_id}, rollout status {trace.status.value})",
        markup=False, highlight=False, soft_wrap=True,
    )
    table = Table()
    table.add_column("object")
    table.add_column("count", justify="right")
    for name in MAP_FIELDS:
        table.add_row(name, str(len(getattr(trace, name))))
    stdout.print(table)


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
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=stderr, transient=True, disable=not stderr.is_terminal,
    )
    with progress:
        task = progress.add_task("starting", total=None)
        yield lambda description: progress.update(task, description=description)


def build_graph(source: Path, step: Callable[[str], None]) -> nx.MultiDiGraph:
    step(f"replaying {source}" if source.is_dir() else f"loading {source}")
    trace = load_trace(source)
    step("projecting the graph")
    return project(trace)


def print_graph_summary(summary: dict[str, Any]) -> None:
    counts = Table(title="graph")
    counts.add_column("kind")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for label, count in summary["nodes"].items():
        counts.add_row("node", label, str(count))
    provenance = {edge.name.value: edge.provenance.value for edge in SCHEMA.edges}
    for name, count in summary["edges"].items():
        if count:
            derived = " (derived)" if provenance.get(name) == "derived" else ""
            counts.add_row("edge", f"{name}{derived}", str(count))
    counts.add_row("total", "nodes / edges", f"{summary['node_count']} / {summary['edge_count']}")
    stdout.print(counts)

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
    stdout.print(threads)

    if summary["failures"]:
        failures = Table(title="failures")
        for column in ("object", "id", "reason", "detail"):
            failures.add_column(column)
        for failure in summary["failures"]:
            failures.add_row(failure["label"], str(failure["object_id"]), failure["reason"],
                             failure["detail"] or "")
        stdout.print(failures)
    else:
        stdout.print("failures: none", markup=False, highlight=False)
    if summary["dangling_references"]:
        stdout.print(f"dangling references: {summary['dangling_references']} "
                     "(references to objects missing from the trace)",
                     markup=False, highlight=False)


@app.command()
@reports_errors
def load(
    source: SourceArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o",
                     help=f"Where to write the GraphML file (default: {GRAPH_FILE_NAME} in the "
                          "bundle, or beside the state file)."),
    ] = None,
    # A later issue adds `--neo4j URI` here: load into a Neo4j server as well.
) -> None:
    """Reduce SOURCE, project its typed graph, write GraphML and print a summary (no server)."""
    target = output if output is not None else default_graph_path(source)
    with progress_steps() as step:
        graph = build_graph(source, step)
        step(f"writing {target}")
        write_graphml(graph, target)
    stdout.print(str(target), markup=False, highlight=False, soft_wrap=True)
    print_graph_summary(graph_summary(graph))


@app.command()
@reports_errors
def export(
    source: SourceArg,
    graphml: Annotated[
        Path | None,
        typer.Option("--graphml", help="Write the graph as GraphML to this file."),
    ] = None,
) -> None:
    """Export the graph of SOURCE to files; prints each path written."""
    if graphml is None:
        raise fail("nothing to export: pass --graphml FILE")
    with progress_steps() as step:
        graph = build_graph(source, step)
        step(f"writing {graphml}")
        write_graphml(graph, graphml)
    stdout.print(str(graphml), markup=False, highlight=False, soft_wrap=True)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
