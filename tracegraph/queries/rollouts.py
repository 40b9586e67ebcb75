"""Cross-rollout queries: every rollout in the graph (or database) side by side."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tracegraph.graph.schema import FAILED_STATUSES, Label, Rel, node_key
from tracegraph.queries._walk import QueryError, Row, Walk, order_key
from tracegraph.queries.reports import TOKEN_FIELDS

__all__ = ["FAILURE_LABELS", "rollout_overview", "slowest_commands", "tool_failures"]

#: Labels whose failed, cancelled or aborted nodes count as a rollout's failures
#: (the rows of ``failed-operations``).
FAILURE_LABELS = (Label.CODE_CELL, Label.INFERENCE_CALL, Label.TERMINAL_OPERATION,
                  Label.TOOL_CALL)


def _failed(walk: Walk, node: str) -> bool:
    return walk.get(node, "status") in FAILED_STATUSES


def rollout_overview(walk: Walk) -> list[Row]:
    """One row per rollout: threads, turns, inference and tool calls, failures, tokens,
    wall time."""
    counted = (Label.THREAD, Label.TURN, Label.INFERENCE_CALL, Label.TOOL_CALL)
    counts: defaultdict[tuple[str, Label], int] = defaultdict(int)
    failures: defaultdict[str, int] = defaultdict(int)
    tokens: defaultdict[tuple[str, str], int] = defaultdict(int)
    for node, data in walk.graph.nodes(data=True):
        trace_id, label = data.get("trace_id"), data.get("label")
        if walk.trace is not None and trace_id != walk.trace:
            continue
        if label in counted:
            counts[trace_id, Label(label)] += 1
        if label in FAILURE_LABELS and _failed(walk, node):
            failures[trace_id] += 1
        if label == Label.INFERENCE_CALL:
            for name in TOKEN_FIELDS:
                tokens[trace_id, name] += data.get(name) or 0
    rows: list[Row] = []
    for rollout in walk.nodes(Label.ROLLOUT):
        trace_id = walk.get(rollout, "trace_id")
        rows.append({
            "trace_id": trace_id,
            "rollout_id": walk.get(rollout, "object_id"),
            "status": walk.get(rollout, "status"),
            "threads": counts[trace_id, Label.THREAD],
            "turns": counts[trace_id, Label.TURN],
            "inference_calls": counts[trace_id, Label.INFERENCE_CALL],
            "tool_calls": counts[trace_id, Label.TOOL_CALL],
            "failures": failures[trace_id],
            **{name: tokens[trace_id, name] for name in TOKEN_FIELDS},
            "wall_time_ms": walk.get(rollout, "duration_ms"),
        })
    rows.sort(key=lambda row: order_key(row["trace_id"], row["rollout_id"]))
    return rows


def tool_failures(walk: Walk) -> list[Row]:
    """Calls, failures and failure rate by tool kind and name, over every rollout."""
    groups: dict[tuple[Any, Any], Row] = {}
    traces: defaultdict[tuple[Any, Any], set[str]] = defaultdict(set)
    for tool in walk.nodes(Label.TOOL_CALL):
        key = (walk.get(tool, "kind"), walk.get(tool, "tool_name"))
        row = groups.setdefault(key, {"kind": key[0], "tool_name": key[1], "calls": 0,
                                      "failures": 0, "nonzero_exits": 0})
        traces[key].add(walk.get(tool, "trace_id"))
        row["calls"] += 1
        row["failures"] += _failed(walk, tool)
        row["nonzero_exits"] += any(
            walk.get(op, "exit_code") not in (None, 0) for op, _ in walk.out(tool, Rel.EXECUTED))
    rows = [{**row, "rollouts": len(traces[key]), "failure_rate": row["failures"] / row["calls"]}
            for key, row in groups.items()]
    rows.sort(key=lambda row: order_key(-row["failure_rate"], -row["calls"], row["kind"],
                                        row["tool_name"]))
    return rows


def slowest_commands(walk: Walk, n: int = 10) -> list[Row]:
    """The ``n`` longest terminal operations over every rollout, with rollout and thread."""
    if n < 1:
        raise QueryError(f"slowest-commands needs N >= 1, got {n}")
    rollouts = {walk.get(node, "trace_id"): walk.get(node, "object_id")
                for node in walk.nodes(Label.ROLLOUT)}
    timed = [op for op in walk.nodes(Label.TERMINAL_OPERATION)
             if walk.get(op, "duration_ms") is not None]
    timed.sort(key=lambda op: order_key(-walk.get(op, "duration_ms"), walk.get(op, "trace_id"),
                                        walk.get(op, "object_id")))
    rows: list[Row] = []
    for op in timed[:n]:
        trace_id = walk.get(op, "trace_id")
        tool = walk.executing_tool(op)
        thread_id = walk.get(tool, "thread_id")
        thread = node_key(trace_id, Label.THREAD, thread_id) if thread_id is not None else None
        rows.append({
            "trace_id": trace_id,
            "rollout_id": rollouts.get(trace_id),
            "thread_id": thread_id,
            "agent_path": walk.get(thread, "agent_path") if thread in walk.graph else None,
            "operation_id": walk.get(op, "object_id"),
            "kind": walk.get(op, "kind"),
            "command": walk.get(op, "display_command"),
            "stdin": walk.get(op, "stdin"),
            "duration_ms": walk.get(op, "duration_ms"),
            "exit_code": walk.get(op, "exit_code"),
            "status": walk.get(op, "status"),
        })
    return rows
