"""``tracegraph`` command line.

Bad input never prints a traceback: one line on stderr naming the file, line or
event ``seq``, exit code 2, and no partially written output file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from tracegraph.bundle.manifest import REDUCED_STATE_FILE_NAME
from tracegraph.errors import TracegraphError
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


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
