"""The command line's consoles, error exit and progress displays.

Bad input never prints a traceback: one line on stderr naming the file, line or
event ``seq``, exit code 2 (:func:`fail`, :func:`reports_errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from tracegraph.errors import TracegraphError

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "batch_progress",
    "bundle_progress",
    "fail",
    "print_notes",
    "progress_steps",
    "reports_errors",
    "stderr",
    "stdout",
]


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


def print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        stderr.print(note, markup=False, highlight=False, soft_wrap=True)


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


def bundle_progress() -> Progress:
    """A progress bar over sources on stderr (terminals only)."""
    return _progress("sources")
