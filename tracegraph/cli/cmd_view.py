"""``view`` and ``plot``: an HTML page and static pictures of a trace."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tracegraph.cli.app import app
from tracegraph.cli.console import fail, progress_steps, reports_errors, stdout
from tracegraph.cli.options import (
    DEFAULT_MAX_BARS,
    DialectChoice,
    DialectOption,
    LenientOption,
    LimitOption,
    StrictOption,
    TraceOption,
    ViewSourceArg,
    read_limits,
)
from tracegraph.cli.sources import source_graph

__all__ = ["VIEW_FILE_NAME", "PlotKind", "default_view_path", "plot", "view"]


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
