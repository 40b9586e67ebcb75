"""Report queries: failures, terminals, transcripts, compactions, tokens, latency."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.summary import failures as summary_failures
from tracegraph.queries._walk import QueryError, Row, Walk, order_key

__all__ = [
    "FAILED_STATUSES",
    "TOKEN_FIELDS",
    "compactions",
    "failed_operations",
    "failures",
    "slowest",
    "terminal_history",
    "token_usage",
    "transcript",
]

FAILED_STATUSES = ("failed", "cancelled", "aborted")


def failed_operations(walk: Walk) -> list[Row]:
    """Failed/cancelled/aborted inference calls, tool calls, terminal operations, code cells."""
    rows: list[Row] = []
    for label in (Label.CODE_CELL, Label.INFERENCE_CALL, Label.TERMINAL_OPERATION,
                  Label.TOOL_CALL):
        for node in walk.nodes(label):
            if walk.get(node, "status") not in FAILED_STATUSES:
                continue
            tool = walk.executing_tool(node) if label is Label.TERMINAL_OPERATION else node
            if label is Label.INFERENCE_CALL:
                inference: str | None = node
            elif label is Label.CODE_CELL:
                started = walk.starting_inferences(node)
                inference = started[0] if started else None
            else:
                inference = walk.causing_inference(tool) if tool is not None else None
            rows.append({
                "label": label.value,
                "object_id": walk.get(node, "object_id"),
                "status": walk.get(node, "status"),
                "thread_id": walk.get(tool, "thread_id"),
                "causing_inference_call_id": walk.get(inference, "object_id"),
                "started_seq": walk.get(node, "started_seq"),
            })
    rows.sort(key=lambda row: order_key(row["started_seq"], row["label"], row["object_id"]))
    return rows


def terminal_history(walk: Walk, terminal: str) -> list[Row]:
    """Operations on one terminal session in seq order, with their tool and inference."""
    session = walk.find(Label.TERMINAL_SESSION, terminal)
    rows: list[Row] = []
    for op in sorted({source for source, _ in walk.into(session, Rel.USED_TERMINAL)}):
        tool = walk.executing_tool(op)
        inference = walk.causing_inference(tool) if tool is not None else None
        rows.append({
            "operation_id": walk.get(op, "object_id"),
            "kind": walk.get(op, "kind"),
            "started_seq": walk.get(op, "started_seq"),
            "command": walk.get(op, "display_command"),
            "stdin": walk.get(op, "stdin"),
            "exit_code": walk.get(op, "exit_code"),
            "status": walk.get(op, "status"),
            "tool_call_id": walk.get(tool, "object_id"),
            "inference_call_id": walk.get(inference, "object_id"),
        })
    rows.sort(key=lambda row: order_key(row["started_seq"], row["operation_id"]))
    return rows


def transcript(walk: Walk, thread: str) -> list[Row]:
    """A thread's items in transcript order."""
    node = walk.find(Label.THREAD, thread)
    rows: list[Row] = []
    for item, data in walk.out(node, Rel.HAS_ITEM, Label.CONVERSATION_ITEM):
        if data.get("position") is None:
            continue
        rows.append({
            "position": data["position"],
            "item_id": walk.get(item, "object_id"),
            "role": walk.get(item, "role"),
            "kind": walk.get(item, "kind"),
            "channel": walk.get(item, "channel"),
            "preview": walk.get(item, "preview"),
        })
    rows.sort(key=lambda row: order_key(row["position"], row["item_id"]))
    return rows


def compactions(walk: Walk) -> list[Row]:
    """Each compaction with its requests, their status, input and replacement counts."""
    rows: list[Row] = []
    for node in walk.nodes(Label.COMPACTION):
        requests = sorted({target for target, _ in walk.out(node, Rel.MADE_REQUEST)})
        statuses = [walk.get(request, "status") for request in requests]
        rows.append({
            "compaction_id": walk.get(node, "object_id"),
            "thread_id": walk.get(node, "thread_id"),
            "installed_at_unix_ms": walk.get(node, "installed_at_unix_ms"),
            "request_ids": [walk.get(request, "object_id") for request in requests],
            "request_statuses": statuses,
            "failed_requests": sum(status in FAILED_STATUSES for status in statuses),
            "input_items": len({source for source, _ in walk.into(node, Rel.COMPACTED_INTO)}),
            "replacement_items": len({target for target, _ in walk.out(node, Rel.REPLACED_WITH)}),
            "marker_item_id": walk.get(node, "marker_item_id"),
        })
    rows.sort(key=lambda row: order_key(row["installed_at_unix_ms"], row["compaction_id"]))
    return rows


TOKEN_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def token_usage(walk: Walk) -> list[Row]:
    """Token totals by thread, turn and model."""
    groups: dict[tuple[Any, Any, Any], Row] = {}
    calls: defaultdict[tuple[Any, Any, Any], int] = defaultdict(int)
    for node in walk.nodes(Label.INFERENCE_CALL):
        key = (walk.get(node, "thread_id"), walk.get(node, "codex_turn_id"),
               walk.get(node, "model"))
        row = groups.setdefault(key, {
            "thread_id": key[0], "codex_turn_id": key[1], "model": key[2],
            **dict.fromkeys(TOKEN_FIELDS, 0),
        })
        calls[key] += 1
        for name in TOKEN_FIELDS:
            row[name] += walk.get(node, name) or 0
    rows = [{**row, "inference_calls": calls[key]} for key, row in groups.items()]
    rows.sort(key=lambda row: order_key(row["thread_id"], row["codex_turn_id"], row["model"]))
    return rows


SLOWEST_LABELS = (Label.INFERENCE_CALL, Label.TERMINAL_OPERATION, Label.TOOL_CALL)


def slowest(walk: Walk, n: int = 10) -> list[Row]:
    """The ``n`` longest inference calls, tool calls and terminal operations (each)."""
    if n < 1:
        raise QueryError(f"slowest needs N >= 1, got {n}")
    rows: list[Row] = []
    for label in SLOWEST_LABELS:
        timed = [node for node in walk.nodes(label) if walk.get(node, "duration_ms") is not None]
        timed.sort(key=lambda node: order_key(-walk.get(node, "duration_ms"),
                                              walk.get(node, "object_id")))
        rows.extend({
            "label": label.value,
            "object_id": walk.get(node, "object_id"),
            "duration_ms": walk.get(node, "duration_ms"),
            "status": walk.get(node, "status"),
            "started_seq": walk.get(node, "started_seq"),
        } for node in timed[:n])
    return rows


def failures(walk: Walk) -> list[Row]:
    """Every failure the load summary counts (it shows the first ten)."""
    return summary_failures(walk.graph, walk.trace)
