"""The run over one grouped rollout: every thread, then what spans threads.

:func:`build_rollout` reads each thread (root first), then adds the agent edges that
need every thread to exist (a spawn call to the child's first user message, send,
assign and close calls to their target thread, a child's message to the parent
item it delivered a result into), the Rollout node and its HAS_THREAD edges, and
the graph attributes.
"""

from __future__ import annotations

import json
from collections import Counter

import networkx as nx

from tracegraph.graph.schema import GRAPH_SCHEMA_VERSION, Label, Rel, Source
from tracegraph.graph.session.builder import RolloutBuilder
from tracegraph.graph.session.thread import Thread
from tracegraph.graph.session.tools import OPERATION_COUNT
from tracegraph.graph.session.vocabulary import spawned_thread_id, text_or_none
from tracegraph.sessions.group import RolloutGroup

__all__ = ["add_agent_edges", "build_rollout"]


def build_rollout(group: RolloutGroup) -> nx.MultiDiGraph:
    """The typed graph of one rollout grouped from session files."""
    builder = RolloutBuilder(group)
    root = group.root
    statuses = []
    for index, thread in enumerate(group.threads):
        statuses.append(Thread(builder, index, thread).run())
    add_agent_edges(builder)
    started = root.file.records[0].timestamp_ms
    ended = max((r.timestamp_ms for t in group.threads for r in t.own
                 if r.timestamp_ms is not None), default=started)
    status = statuses[0]
    skipped = Counter(builder.skipped)
    for thread in group.threads:
        skipped.update(thread.file.skipped)
    builder.node(
        Label.ROLLOUT, root.thread_id, rollout_id=root.thread_id,
        status=status, started_at_unix_ms=started,
        ended_at_unix_ms=None if status == "running" else ended,
        duration_ms=None if status == "running" or started is None or ended is None
        else ended - started,
        root_thread_id=root.thread_id, source=Source.SESSION_ROLLOUT.value, era=group.era,
        session_files=[str(t.file.path) for t in group.threads],
        skipped=json.dumps(dict(sorted(skipped.items())), separators=(",", ":")),
        torn_files=[str(t.file.path) for t in group.threads if t.file.torn] or None,
        duplicate_files=group.duplicate_files or None,
        partial=any(t.file.torn for t in group.threads),
    )
    for thread in group.threads:
        builder.edge(Rel.HAS_THREAD, (Label.ROLLOUT, root.thread_id),
                     (Label.THREAD, thread.thread_id), "session_file")
    graph = builder.graph
    graph.graph.update(
        trace_ids=[builder.trace_id], graph_schema_version=GRAPH_SCHEMA_VERSION,
        dangling_references=list(dict.fromkeys(builder.dangling)),
    )
    # The terminal sessions' operation counters were only needed while building.
    for _, data in graph.nodes(data=True):
        data.pop(OPERATION_COUNT, None)
    return graph


def add_agent_edges(builder: RolloutBuilder) -> None:
    """Edges between threads, from the agent calls and messages the threads noted."""
    threads = {t.thread_id: t for t in builder.group.threads}
    spawn_edges: dict[str, tuple[str, str]] = {}
    for source, tool in builder.agent_calls:
        this = (Label.TOOL_CALL, tool.tool_id)
        if tool.kind == "spawn_agent":
            child = builder.spawn_children.get(tool.tool_id) or spawned_thread_id(tool.output)
            if child not in threads:
                continue
            edge_id = f"spawn_agent:{tool.tool_id}"
            target = ((Label.CONVERSATION_ITEM, builder.first_user[child])
                      if child in builder.first_user else (Label.THREAD, child))
            builder.edge(Rel.SPAWNED_AGENT, this, target, "spawn_output", edge_id=edge_id,
                         kind="spawn_agent", source_anchor="tool_call",
                         target_anchor="conversation_item" if target[0] is Label.CONVERSATION_ITEM
                         else "thread", started_at_unix_ms=tool.started_at,
                         ended_at_unix_ms=tool.ended_at)
            task = text_or_none(tool.args.get("task_name"))
            builder.edge(Rel.HAS_CHILD, (Label.THREAD, source.thread_id), (Label.THREAD, child),
                         "spawn_output", spawn_edge_id=edge_id, task_name=task)
            spawn_edges[child] = (edge_id, task or "")
            continue
        args = tool.args
        target_id = None
        for name in ("target", "id", "agent_id", "thread_id", "agent_path", "to", "agent"):
            target_id = builder.thread_by_ref(args.get(name))
            if target_id is not None:
                break
        rel, kind = {"send_message": (Rel.SENT_MESSAGE, "send_message"),
                     "assign_agent_task": (Rel.ASSIGNED_TASK, "assign_agent_task"),
                     "close_agent": (Rel.CLOSED_AGENT, "close_agent")}.get(tool.kind, (None, ""))
        if rel is None or target_id is None:
            continue
        builder.edge(rel, this, (Label.THREAD, target_id), "target_argument",
                     edge_id=f"{kind}:{tool.tool_id}", kind=kind, source_anchor="tool_call",
                     target_anchor="thread", started_at_unix_ms=tool.started_at,
                     ended_at_unix_ms=tool.ended_at)
    for child_id, (edge_id, task) in spawn_edges.items():
        node = builder.node_data(Label.THREAD, child_id)
        node["spawn_edge_id"] = edge_id
        if task:
            node.setdefault("task_name", task)
    # Results: an inter-agent message in a thread, authored by a loaded child.
    for receiver, item_id, author in builder.agent_items:
        sender = builder.thread_by_ref(author)
        if sender is None or sender == receiver.thread_id:
            continue
        anchor = ((Label.CONVERSATION_ITEM, builder.last_assistant[sender])
                  if sender in builder.last_assistant else (Label.THREAD, sender))
        record_node = builder.node_data(Label.CONVERSATION_ITEM, item_id)
        builder.edge(Rel.DELIVERED_RESULT, anchor, (Label.CONVERSATION_ITEM, item_id),
                     "inter_agent_communication", edge_id=f"agent_result:{item_id}",
                     kind="agent_result",
                     source_anchor="conversation_item"
                     if anchor[0] is Label.CONVERSATION_ITEM else "thread",
                     target_anchor="conversation_item",
                     started_at_unix_ms=record_node.get("first_seen_at_unix_ms"))
