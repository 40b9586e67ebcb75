"""Multi-agent queries: the thread tree and how results travel back."""

from __future__ import annotations

from typing import Any

from tracegraph.graph.schema import Label, Rel
from tracegraph.queries._walk import Row, Walk, order_key

__all__ = [
    "agent_result_path",
    "agent_tree",
]


def _spawn_edge(walk: Walk, thread: str) -> tuple[Any, Any, str | None]:
    """(tool call id, edge id, target kind) of the SPAWNED_AGENT edge into a thread.

    The edge targets the child's task item when it was model-visible, else the
    child thread itself.
    """
    found: list[tuple[Any, Any, str]] = []
    for source, data in walk.into(thread, Rel.SPAWNED_AGENT, Label.TOOL_CALL):
        found.append((walk.get(source, "object_id"), data.get("edge_id"), "thread"))
    for item, _ in walk.out(thread, Rel.HAS_ITEM, Label.CONVERSATION_ITEM):
        for source, data in walk.into(item, Rel.SPAWNED_AGENT, Label.TOOL_CALL):
            found.append((walk.get(source, "object_id"), data.get("edge_id"), "item"))
    if not found:
        return None, None, None
    return min(found)


def _result_edges(walk: Walk, thread: str) -> list[tuple[Any, str | None, str]]:
    """(edge id, source item node or None, target node) of results leaving a thread."""
    edges: list[tuple[Any, str | None, str]] = []
    for target, data in walk.out(thread, Rel.DELIVERED_RESULT):
        edges.append((data.get("edge_id"), None, target))
    items = {item for item, _ in walk.out(thread, Rel.HAS_ITEM, Label.CONVERSATION_ITEM)}
    for item in sorted(items):
        for target, data in walk.out(item, Rel.DELIVERED_RESULT):
            edges.append((data.get("edge_id"), item, target))
    return sorted(set(edges), key=lambda edge: order_key(edge[0], edge[1], edge[2]))


def agent_tree(walk: Walk) -> list[Row]:
    """Threads with parent, task, role, status, spawn and result edges."""
    rows: list[Row] = []
    for thread in walk.nodes(Label.THREAD):
        tool_id, edge_id, target_kind = _spawn_edge(walk, thread)
        rows.append({
            "thread_id": walk.get(thread, "object_id"),
            "agent_path": walk.get(thread, "agent_path"),
            "parent_thread_id": walk.get(thread, "parent_thread_id"),
            "task_name": walk.get(thread, "task_name"),
            "agent_role": walk.get(thread, "agent_role"),
            "status": walk.get(thread, "status"),
            "spawn_tool_call_id": tool_id,
            "spawn_edge_id": edge_id,
            "spawn_target": target_kind,
            "result_edge_ids": sorted({edge for edge, _, _ in _result_edges(walk, thread)}),
        })
    rows.sort(key=lambda row: order_key(row["agent_path"], row["thread_id"]))
    return rows


def agent_result_path(walk: Walk, thread: str) -> list[Row]:
    """From a child's result to the parent item that received it, and the spawning tool."""
    child = walk.find(Label.THREAD, thread)
    tool_id, _, _ = _spawn_edge(walk, child)
    rows: list[Row] = []
    for edge_id, source_item, target in _result_edges(walk, child):
        target_is_item = walk.get(target, "label") == Label.CONVERSATION_ITEM.value
        rows.append({
            "edge_id": edge_id,
            "child_thread_id": walk.get(child, "object_id"),
            "source_item_id": walk.get(source_item, "object_id"),
            "target_item_id": walk.get(target, "object_id") if target_is_item else None,
            "parent_thread_id": walk.get(target, "thread_id") if target_is_item
            else walk.get(target, "object_id"),
            "spawn_tool_call_id": tool_id,
        })
    return rows
