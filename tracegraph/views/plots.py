"""``tracegraph plot``: static matplotlib pictures for reports and pull requests.

- ``timeline``: a Gantt chart, one lane per thread and one row per kind of object,
  bars coloured by status (running ones hatched, drawn to the end of the trace);
- ``tokens``: input (uncached), cached input, output and reasoning tokens per turn,
  one panel per model;
- ``agents``: the agent tree with its spawn, task, message, result and close edges.

Each function returns a ``matplotlib.figure.Figure`` (notebooks show it inline);
:func:`write_plot` saves one as PNG or SVG.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from tracegraph._atomic import atomic_write_bytes
from tracegraph.graph.schema import Label, Rel
from tracegraph.views.extract import AGENT_EDGES, ROWS, AgentEdge, TraceView, ViewError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOT_KINDS", "STATUS_COLORS", "plot", "plot_agents", "plot_timeline", "plot_tokens",
           "write_plot"]

STATUS_COLORS: dict[str, str] = {
    "completed": "#43a047", "failed": "#e53935", "cancelled": "#fb8c00", "aborted": "#8e24aa",
    "running": "#1e88e5", "unknown": "#9e9e9e",
}
_EDGE_COLORS = {"spawn": "#1f77b4", "task": "#2ca02c", "message": "#9467bd",
                "result": "#ff7f0e", "close": "#d62728"}
_ROW_LABELS = dict(ROWS)


def _figure(width: float, height: float) -> Figure:
    # The object-oriented API: no pyplot state, no GUI backend needed.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_timeline(view: TraceView) -> Figure:
    """Gantt chart of the trace: lanes per thread, rows per kind, colours per status."""
    from matplotlib.patches import Patch

    rows: list[tuple[str, str]] = []
    for thread in view.threads:
        present = {span.row for span in view.spans if span.thread == thread}
        rows += [(thread, name) for name, _ in ROWS if name in present] or [(thread, "turn")]
    y_of = {row: position for position, row in enumerate(rows)}
    figure = _figure(11, 1.2 + 0.34 * len(rows))
    axes = figure.add_subplot()
    wall = max((view.end_ms - view.start_ms) / 1000, 0.001)
    min_width = wall * 0.002
    bars: dict[tuple[str, bool], list[tuple[float, float, int]]] = defaultdict(list)
    for span in view.spans:
        start = (span.start_ms - view.start_ms) / 1000
        width = max((span.end_ms - span.start_ms) / 1000, min_width)
        bars[(span.status, span.open)].append((start, width, y_of[(span.thread, span.row)]))
    for (status, is_open), members in sorted(bars.items()):
        color = STATUS_COLORS.get(status, STATUS_COLORS["unknown"])
        by_row: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for start, width, y in members:
            by_row[y].append((start, width))
        for y, ranges in by_row.items():
            axes.broken_barh(ranges, (y - 0.36, 0.72), facecolors=color,
                             hatch="///" if is_open else None, edgecolor="white" if is_open else color,
                             linewidth=0)
    first = 0
    for thread in view.threads:
        count = sum(1 for row in rows if row[0] == thread)
        axes.axhline(first - 0.5, color="#d0d7de", linewidth=0.8)
        axes.text(0.002, first - 0.45, view.lane_name(thread), transform=axes.get_yaxis_transform(),
                  fontsize=8, fontweight="bold", va="top")
        first += count
    axes.set_yticks(range(len(rows)), [_ROW_LABELS[name] for _, name in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(0, wall)
    axes.set_xlabel("seconds since the trace started")
    axes.set_title(f"{view.trace_id}: {view.rollout.get('status')}, "
                   f"{len(view.spans)} objects in {len(view.threads)} thread(s)", fontsize=10)
    statuses = sorted({span.status for span in view.spans})
    handles = [Patch(color=STATUS_COLORS.get(status, STATUS_COLORS["unknown"]), label=status)
               for status in statuses]
    if any(span.open for span in view.spans):
        handles.append(Patch(facecolor=STATUS_COLORS["running"], hatch="///", edgecolor="white",
                             label="open (no end yet)"))
    figure.legend(handles=handles, loc="outside lower center", ncol=max(1, len(handles)),
                  fontsize=8, frameon=False)
    return figure


def plot_tokens(view: TraceView) -> Figure:
    """Stacked token bars per turn (in turn start order), one panel per model."""
    from matplotlib.ticker import MaxNLocator

    turn_order = [span.node for span in view.spans if span.label == Label.TURN]
    position = {turn: index for index, turn in enumerate(turn_order)}
    per_model: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    for span in view.spans:
        if span.label != Label.INFERENCE_CALL:
            continue
        attrs = view.attrs(span.node)
        turn = next((source for source, _, data in view.graph.in_edges(span.node, data=True)
                     if data.get("label") == Rel.CONTAINS
                     and view.graph.nodes[source].get("label") == Label.TURN), None)
        if turn is None or turn not in position:
            continue
        cached = int(attrs.get("cached_input_tokens") or 0)
        totals = per_model[str(attrs.get("model") or "?")][position[turn]]
        totals[0] += int(attrs.get("input_tokens") or 0) - cached
        totals[1] += cached
        totals[2] += int(attrs.get("output_tokens") or 0) - int(attrs.get("reasoning_output_tokens") or 0)
        totals[3] += int(attrs.get("reasoning_output_tokens") or 0)
    models = sorted(per_model)
    figure = _figure(11, 1.2 + 2.6 * max(1, len(models)))
    if not models:
        axes = figure.add_subplot()
        axes.text(0.5, 0.5, "no token usage recorded", ha="center", va="center")
        axes.set_axis_off()
        return figure
    names = ("input (uncached)", "cached input", "output (non-reasoning)", "reasoning output")
    colors = ("#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78")
    all_axes = figure.subplots(len(models), 1, sharex=True, squeeze=False)[:, 0]
    for axes, model in zip(all_axes, models, strict=True):
        turns = sorted(per_model[model])
        bottom = [0] * len(turns)
        for part, (name, color) in enumerate(zip(names, colors, strict=True)):
            values = [per_model[model][turn][part] for turn in turns]
            axes.bar(turns, values, bottom=bottom, color=color, label=name,
                     width=0.8 if len(turns) < 200 else 1.0, linewidth=0)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_ylabel("tokens")
        axes.set_title(f"model {model}", fontsize=10)
    all_axes[0].legend(fontsize=8, ncol=4, loc="upper right")
    all_axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    all_axes[-1].set_xlabel("turn (in start order; reasoning is part of output)")
    return figure


def plot_agents(view: TraceView) -> Figure:
    """The agent tree: threads by depth, parent links, and interaction edges between them."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    y_of = {thread: index for index, thread in enumerate(view.threads)}
    figure = _figure(9, 1.4 + 0.7 * len(view.threads))
    axes = figure.add_subplot()
    for thread, parent in view.parent.items():
        if parent in y_of:
            axes.plot([view.depth[parent], view.depth[parent], view.depth[thread]],
                      [y_of[parent], y_of[thread], y_of[thread]], color="#8c959f", linewidth=1.5,
                      zorder=1)
    kinds = [name for _, name in AGENT_EDGES]
    # Edges between the same two threads run side by side, their labels spread along them.
    pairs: dict[tuple[str, ...], list[AgentEdge]] = defaultdict(list)
    for edge in view.agent_edges:
        pairs[tuple(sorted((edge.source, edge.target)))].append(edge)
    for pair, group in pairs.items():
        for k, edge in enumerate(group):
            sx, sy = float(view.depth[edge.source]), float(y_of[edge.source])
            tx, ty = float(view.depth[edge.target]), float(y_of[edge.target])
            if edge.source == edge.target:
                tx, ty = tx + 0.6, ty + 0.3
            length = math.hypot(tx - sx, ty - sy) or 1.0
            # Shift across the pair's line whatever the edge's direction.
            same = 1.0 if (edge.source, edge.target) == pair else -1.0
            nx, ny = -(ty - sy) / length * same, (tx - sx) / length * same
            shift = (k - (len(group) - 1) / 2) * 0.09
            trim = 0.1 / length
            ax, ay = sx + (tx - sx) * trim + nx * shift, sy + (ty - sy) * trim + ny * shift
            bx, by = tx - (tx - sx) * trim + nx * shift, ty - (ty - sy) * trim + ny * shift
            color = _EDGE_COLORS[edge.name]
            axes.add_patch(FancyArrowPatch((ax, ay), (bx, by), arrowstyle="-|>",
                                           mutation_scale=12, color=color, linewidth=1.4,
                                           zorder=2))
            at = 0.25 + 0.5 * k / (len(group) - 1) if len(group) > 1 else 0.5
            axes.annotate(edge.name + (f" x{edge.count}" if edge.count > 1 else ""),
                          (ax + (bx - ax) * at, ay + (by - ay) * at), fontsize=7, color=color,
                          ha="center", va="center", zorder=4,
                          bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                "alpha": 0.85})
    for thread in view.threads:
        attrs = view.attrs(thread)
        color = STATUS_COLORS.get(str(attrs.get("status")), STATUS_COLORS["unknown"])
        axes.scatter([view.depth[thread]], [y_of[thread]], s=140, color=color,
                     edgecolors="#24292f", zorder=3)
        extra = [str(attrs[name]) for name in ("agent_role", "task_name") if attrs.get(name)]
        axes.annotate(view.lane_name(thread) + (f"  [{', '.join(extra)}]" if extra else ""),
                      (view.depth[thread], y_of[thread]), xytext=(10, -3),
                      textcoords="offset points", fontsize=8)
    depth = max(view.depth.values(), default=0)
    axes.set_xlim(-0.4, depth + 2.2)
    axes.set_ylim(len(view.threads) - 0.4, -0.6)
    axes.set_axis_off()
    axes.set_title(f"{view.trace_id}: {len(view.threads)} thread(s)", fontsize=10)
    handles = [Line2D([], [], color="#8c959f", label="parent → child")]
    handles += [Line2D([], [], color=_EDGE_COLORS[name], label=name) for name in kinds]
    axes.legend(handles=handles, fontsize=7, loc="lower right", ncol=3, frameon=False)
    return figure


PLOT_KINDS = {"timeline": plot_timeline, "tokens": plot_tokens, "agents": plot_agents}


def plot(view: TraceView, kind: str) -> Figure:
    try:
        return PLOT_KINDS[kind](view)
    except KeyError:
        raise ViewError(f"unknown plot kind {kind!r} (known: {', '.join(PLOT_KINDS)})") from None


def write_plot(view: TraceView, kind: str, path: str | Path) -> Path:
    """Draw ``kind`` and save it as PNG or SVG (by the file suffix), atomically."""
    import io

    path = Path(path)
    file_format = path.suffix.lower().lstrip(".")
    if file_format not in {"png", "svg"}:
        raise ViewError(f"{path}: plots are written as .png or .svg")
    figure = plot(view, kind)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=file_format, dpi=120,
                   metadata={"Software": "tracegraph"} if file_format == "png" else {"Date": None})
    atomic_write_bytes(path, buffer.getvalue())
    return path
