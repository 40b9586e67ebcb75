"""``reduce`` and ``validate``: the bundle, reducer and model only, so they start fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tracegraph.bundle.manifest import REDUCED_STATE_FILE_NAME
from tracegraph.cli.app import app
from tracegraph.cli.console import reports_errors, stdout
from tracegraph.cli.options import (
    BundleArg,
    DialectChoice,
    DialectOption,
    LenientOption,
    LimitOption,
    StrictOption,
    read_limits,
)
from tracegraph.cli.sources import replay_reporting
from tracegraph.model.rollout import MAP_FIELDS, dump_state

__all__ = ["reduce", "validate"]


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
