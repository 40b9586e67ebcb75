"""``tracegraph view``: one self-contained HTML page (timeline, agent tree, causal chain).

Drawing is plotly.js, inlined whole (``plotly.offline.get_plotlyjs()``), with the
page's own script and style from ``tracegraph/views/assets/``; nothing is
fetched when the page opens. The data is one JSON document in the page.

Large traces stay responsive because the page draws at most ``max_bars`` bars at
a time: when the visible time window holds more spans than that, each row's spans
are aggregated into time buckets (one bar per bucket, coloured by its worst
status, hover says how many objects it stands for, clicking it zooms in), and
zooming or panning redraws only the spans in the new window.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from tracegraph._atomic import atomic_write_text
from tracegraph._gc import collector_paused
from tracegraph.views.extract import AGENT_EDGES, ROWS, TraceView

__all__ = ["DEFAULT_MAX_BARS", "render_html", "view_data", "write_html"]

#: Most bars drawn at once before a window is aggregated into time buckets.
DEFAULT_MAX_BARS = 2500


def _iso(ms: Any) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat(timespec="milliseconds")


def view_data(view: TraceView, *, max_bars: int = DEFAULT_MAX_BARS) -> dict[str, Any]:
    """The JSON document the page draws from (nodes are referred to by index)."""
    index: dict[str, int] = {}
    nodes: list[dict[str, Any]] = []

    def ref(node: str) -> int:
        if node not in index:
            attrs = view.attrs(node)
            index[node] = len(nodes)
            nodes.append({"key": node, "label": attrs.get("label"), "id": attrs.get("object_id"),
                          "status": attrs.get("status"), "details": view.details(node)})
        return index[node]

    for thread in view.threads:
        ref(thread)
    lanes = []
    rows_of: dict[str, list[str]] = {thread: [] for thread in view.threads}
    for span in view.spans:
        if span.row not in rows_of[span.thread]:
            rows_of[span.thread].append(span.row)
    row_order = [name for name, _ in ROWS]
    for thread in view.threads:
        lanes.append({"node": ref(thread), "name": view.lane_name(thread),
                      "rows": sorted(rows_of[thread], key=row_order.index)})
    lane_of = {thread: position for position, thread in enumerate(view.threads)}
    spans: dict[str, list[Any]] = {"node": [], "lane": [], "row": [], "start": [], "end": [],
                                   "open": [], "no_start": []}
    for span in view.spans:
        spans["node"].append(ref(span.node))
        spans["lane"].append(lane_of[span.thread])
        spans["row"].append(span.row)
        spans["start"].append(span.start_ms - view.start_ms)
        spans["end"].append(span.end_ms - view.start_ms)
        spans["open"].append(1 if span.open else 0)
        spans["no_start"].append(0 if span.start_known else 1)

    causes: dict[int, list[Any]] = {}
    chains: dict[int, list[list[Any]]] = {}
    failures = []
    for failure in view.summary["failures"]:
        failures.append({"node": ref(failure["key"]), "reason": failure["reason"],
                         "detail": failure["detail"]})
    for node in list(index):
        steps = view.chain(node)
        if node in view.chains:
            chains[index[node]] = [[ref(step), via] for step, via in steps]
        for step, _ in steps:
            ref(step)
    # A tool call's hover shows the command of the terminal operation it ran.
    for tool, operation in view.terminal_of_tool.items():
        if tool in index:
            nodes[index[tool]]["terminal"] = ref(operation)
    # Every indexed node is selectable or on a chain, so its cause is indexed already.
    for node, (cause, via) in view.causes.items():
        if node in index:
            causes[index[node]] = [ref(cause), via]

    rollout = view.rollout
    counts = view.counts()
    totals = {
        "threads": len(view.threads),
        "turns": counts.get("Turn", 0),
        "inference_calls": counts.get("InferenceCall", 0),
        "tool_calls": counts.get("ToolCall", 0),
        "code_cells": counts.get("CodeCell", 0),
        "terminal_operations": counts.get("TerminalOperation", 0),
        **view.token_totals(),
    }
    tree = {
        "threads": [{"node": index[thread], "depth": view.depth[thread],
                     "parent": index[view.parent[thread]] if thread in view.parent else None}
                    for thread in view.threads],
        "edges": [{"source": index[edge.source], "target": index[edge.target], "rel": edge.rel,
                   "name": edge.name, "count": edge.count, "edge_ids": list(edge.edge_ids)}
                  for edge in view.agent_edges],
        "kinds": [[rel.value, name] for rel, name in AGENT_EDGES],
    }
    return {
        "header": {
            "trace_id": view.trace_id,
            "rollout_id": rollout.get("rollout_id"),
            "status": rollout.get("status"),
            "dialect": rollout.get("dialect"),
            "started_at": _iso(view.start_ms),
            "ended_at": _iso(rollout.get("ended_at_unix_ms")),
            "wall_ms": view.end_ms - view.start_ms,
            "totals": totals,
            "failures": failures,
        },
        "rows": [list(row) for row in ROWS],
        "lanes": lanes,
        "nodes": nodes,
        "spans": spans,
        "causes": causes,
        "chains": chains,
        "tree": tree,
        "max_bars": max_bars,
    }


def _json(value: Any) -> str:
    """Compact JSON; orjson is several times faster on a long rollout's document."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # Lone surrogates (from escaped trace text) are not UTF-8: json escapes them.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _asset(name: str) -> str:
    return resources.files("tracegraph.views").joinpath("assets", name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that cannot close the ``<script>`` element it sits in."""
    return text.replace("</", "<\\/")


@collector_paused()
def render_html(view: TraceView, *, max_bars: int = DEFAULT_MAX_BARS) -> str:
    """The whole page as one string."""
    from plotly.offline import get_plotlyjs

    data = _json(view_data(view, max_bars=max_bars))
    title = f"tracegraph · {view.trace_id}"
    return (
        _asset("view.html")
        .replace("{{title}}", _html_escape(title))
        .replace("{{style}}", _asset("view.css"))
        .replace("{{plotly}}", get_plotlyjs())
        .replace("{{data}}", _script_safe(data))
        .replace("{{script}}", _asset("view.js"))
    )


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_html(view: TraceView, path: str | Path, *, max_bars: int = DEFAULT_MAX_BARS) -> Path:
    """Write the page to ``path`` atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, render_html(view, max_bars=max_bars))
    return path
