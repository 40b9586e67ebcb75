"""Multi-agent v2 interaction edges: spawn, task, message, result, close.

Deliveries wait (pending) until the recipient-side transcript item exists, so
an edge can point at the exact model-visible item rather than a whole thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracegraph.bundle import events as ev
from tracegraph.bundle import serde_json
from tracegraph.errors import TraceError
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    ConversationItemAnchor,
    InteractionEdge,
    InteractionEdgeKind,
    ThreadAnchor,
    ToolCallAnchor,
)
from tracegraph.reducer import protocol
from tracegraph.reducer.serde_shapes import (
    ShapeError,
    json_value,
    read_struct,
    read_struct_text,
    string,
)
from tracegraph.reducer.serde_shapes import field as struct_field
from tracegraph.reducer.state import Domain, Peers, ReplayContext, extend_unique, push_unique
from tracegraph.reducer.thread import spawn_edge_id

__all__ = ["AgentsReducer", "PendingAgentInteractionEdge", "tool_edge_id"]

#: Upstream SubAgentActivity kinds each agent tool may report.
_ACTIVITY_PAIRS = frozenset({
    ("spawn_agent", "started"),
    ("assign_agent_task", "interacted"),
    ("send_message", "interacted"),
    ("close_agent", "interrupted"),
})

#: SubAgentActivity ``operation`` values that deliver a message, and the edge kind
#: they make whatever the tool call's kind (ai-repo-save/codex @a912defb).
_DELIVERING_OPERATIONS = {
    "send_message": InteractionEdgeKind.SEND_MESSAGE,
    "followup_task": InteractionEdgeKind.ASSIGN_AGENT_TASK,
}
#: Operations that deliver nothing to a child (a reply to the parent, an inspection).
_SILENT_OPERATIONS = frozenset({"parent_reply", "inspect_agent"})
_OUTCOMES = frozenset({"succeeded", "failed"})


def tool_edge_id(tool_call_id: str) -> str:
    return f"edge:tool:{tool_call_id}"


def _merge_ended(existing: int | None, incoming: int | None) -> int | None:
    if existing is not None and incoming is not None:
        return max(existing, incoming)
    return existing if existing is not None else incoming


@dataclass(slots=True)
class PendingAgentInteractionEdge:
    """Agent delivery waiting for the recipient-side conversation item."""

    edge_id: str
    kind: str
    source: Any
    target_thread_id: str
    #: Upstream: the sender's agent path, which the delivered item's author must
    #: equal. ``None`` in the seed, which matches on content alone.
    message_author: str | None
    message_content: str
    #: Spawn-only fallback for children that fail before their task is model-visible.
    unresolved_spawn_thread_id: str | None
    started_at_unix_ms: int
    ended_at_unix_ms: int | None
    carried_raw_payload_ids: list[str] = field(default_factory=list)


def _edge_from_pending(
    pending: PendingAgentInteractionEdge, target: Any, carried_item_ids: list[str] | None = None
) -> InteractionEdge:
    return InteractionEdge(
        edge_id=pending.edge_id,
        kind=pending.kind,
        source=pending.source,
        target=target,
        started_at_unix_ms=pending.started_at_unix_ms,
        ended_at_unix_ms=pending.ended_at_unix_ms,
        carried_item_ids=carried_item_ids or [],
        carried_raw_payload_ids=list(pending.carried_raw_payload_ids),
    )


def _merge_edge(existing: InteractionEdge, edge: InteractionEdge) -> None:
    """Fold a repeated observation of an edge into the one already reduced."""
    if (
        existing.kind != edge.kind
        or existing.source != edge.source
        or existing.target != edge.target
    ):
        raise TraceError(
            f"interaction edge {edge.edge_id} was observed with conflicting endpoints"
        )
    existing.started_at_unix_ms = min(existing.started_at_unix_ms, edge.started_at_unix_ms)
    existing.ended_at_unix_ms = _merge_ended(existing.ended_at_unix_ms, edge.ended_at_unix_ms)
    extend_unique(existing.carried_item_ids, edge.carried_item_ids)
    extend_unique(existing.carried_raw_payload_ids, edge.carried_raw_payload_ids)


class AgentsReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Multi-agent deliveries whose recipient-side transcript item has not been
        #: observed yet.
        #:
        #: V2 agent tools enqueue mailbox messages in the target thread. The trace
        #: event for the sending tool arrives before the recipient inference request
        #: materializes that mailbox item as a ``ConversationItem``, so the reducer
        #: keeps the delivery edge pending until it can point at the exact
        #: model-visible item instead of a coarse thread.
        self._pending: list[PendingAgentInteractionEdge] = []
        #: Items some edge already targets (a delivery item carries one edge).
        self._edge_target_items: set[str] = set()
        #: Tool call -> edges it is the source of (its result payload joins them).
        self._edges_by_source_tool: dict[str, set[str]] = {}

    def _read_protocol(self, payload: RawPayloadRef, reader: Any) -> dict[str, Any]:
        value = self.read_payload_json(payload)
        try:
            result: dict[str, Any] = reader(value)
        except ShapeError as err:
            raise TraceError(f"parse agent runtime payload {payload.raw_payload_id}: {err}") from err
        return result

    def start_agent_interaction_from_runtime(
        self, tool_call_id: str, runtime_payload: RawPayloadRef
    ) -> None:
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"agent edge referenced unknown tool call {tool_call_id}")
        kind = tool_call.kind.type
        if kind in ("assign_agent_task", "send_message"):
            begin = self._read_protocol(runtime_payload, protocol.read_collab_interaction_begin)
            self._queue_message_agent_interaction(
                tool_call_id, InteractionEdgeKind(kind), begin["receiver_thread_id"],
                begin["prompt"], None,
            )
        elif kind == "close_agent":
            close = self._read_protocol(runtime_payload, protocol.read_collab_close_begin)
            self._upsert_close_agent_interaction(tool_call_id, close["receiver_thread_id"], None)

    def end_agent_interaction_from_runtime(
        self, wall_time_unix_ms: int, tool_call_id: str, runtime_payload: RawPayloadRef
    ) -> None:
        kind = self.rollout.tool_calls[tool_call_id].kind.type
        if self.upstream:
            value = self.read_payload_json(runtime_payload)
            if isinstance(value, dict) and "agent_thread_id" in value:
                self._reduce_sub_agent_activity(
                    wall_time_unix_ms, tool_call_id, runtime_payload, value
                )
                return
        if kind == "spawn_agent":
            spawn = self._read_protocol(runtime_payload, protocol.read_collab_spawn_end)
            self._end_spawn_agent_interaction(wall_time_unix_ms, tool_call_id, spawn)
        elif kind in ("assign_agent_task", "send_message"):
            end = self._read_protocol(runtime_payload, protocol.read_collab_interaction_end)
            self._queue_message_agent_interaction(
                tool_call_id, InteractionEdgeKind(kind), end["receiver_thread_id"],
                end["prompt"], wall_time_unix_ms,
            )
        elif kind == "close_agent":
            close = self._read_protocol(runtime_payload, protocol.read_collab_close_end)
            self._upsert_close_agent_interaction(
                tool_call_id, close["receiver_thread_id"], wall_time_unix_ms
            )

    def _reduce_sub_agent_activity(
        self,
        wall_time_unix_ms: int,
        tool_call_id: str,
        runtime_payload: RawPayloadRef,
        value: dict[str, Any],
    ) -> None:
        """Upstream ``SubAgentActivity``: the protocol's own record of an agent tool's effect.

        ``outcome`` and ``operation`` decide first (upstream-delta-2.md rows 1
        and 5): a failed activity, a parent reply or an inspection makes no
        edge; ``send_message``/``followup_task`` make the tool's delivery edge
        whatever the tool's kind. Without an operation the tool kind and the
        activity kind must agree, as before.
        """
        try:
            activity = read_struct(value, "SubAgentActivity", [
                struct_field("event_id", string),
                struct_field("occurred_at_ms", json_value, optional=True),
                struct_field("agent_thread_id", string),
                struct_field("agent_path", string, optional=True),
                struct_field("kind", string),
                struct_field("operation", string, optional=True),
                struct_field("outcome", string, optional=True),
            ])
            operation, outcome = activity["operation"], activity["outcome"]
            if operation is not None and operation not in (
                *_DELIVERING_OPERATIONS, *_SILENT_OPERATIONS
            ):
                raise ShapeError(f"unknown variant `{operation}` for operation")
            if outcome is not None and outcome not in _OUTCOMES:
                raise ShapeError(f"unknown variant `{outcome}` for outcome")
        except ShapeError as err:
            raise TraceError(
                f"parse sub-agent activity payload {runtime_payload.raw_payload_id}: {err}"
            ) from err
        if outcome == "failed" or operation in _SILENT_OPERATIONS:
            return
        tool_call = self.rollout.tool_calls[tool_call_id]
        child_thread_id = activity["agent_thread_id"]
        if operation is not None:
            self._queue_activity_delivery(
                wall_time_unix_ms, tool_call_id, tool_edge_id(tool_call_id),
                _DELIVERING_OPERATIONS[operation], child_thread_id, fallback=False,
            )
            return
        tool_kind, activity_kind = tool_call.kind.type, activity["kind"]
        if (tool_kind, activity_kind) not in _ACTIVITY_PAIRS:
            raise TraceError(
                f"sub-agent activity {activity_kind} does not match tool call kind {tool_kind}"
            )
        if tool_kind == "close_agent":
            self._upsert_close_agent_interaction(tool_call_id, child_thread_id, wall_time_unix_ms)
        elif tool_kind == "spawn_agent":
            self._queue_activity_delivery(
                wall_time_unix_ms, tool_call_id,
                spawn_edge_id(tool_call.thread_id, child_thread_id),
                InteractionEdgeKind.SPAWN_AGENT, child_thread_id, fallback=True,
            )
        else:
            self._queue_activity_delivery(
                wall_time_unix_ms, tool_call_id, tool_edge_id(tool_call_id),
                InteractionEdgeKind(tool_kind), child_thread_id, fallback=False,
            )

    def _queue_activity_delivery(
        self,
        wall_time_unix_ms: int,
        tool_call_id: str,
        edge_id: str,
        kind: InteractionEdgeKind,
        target_thread_id: str,
        *,
        fallback: bool,
    ) -> None:
        """A delivery reported by an activity; only a spawn falls back to the thread."""
        tool_call = self.rollout.tool_calls[tool_call_id]
        self._queue_or_resolve_agent_interaction_edge(
            PendingAgentInteractionEdge(
                edge_id=edge_id,
                kind=kind,
                source=ToolCallAnchor(tool_call_id=tool_call_id),
                target_thread_id=target_thread_id,
                message_author=self._agent_path(tool_call.thread_id),
                message_content=self._invocation_message(tool_call_id),
                unresolved_spawn_thread_id=target_thread_id if fallback else None,
                started_at_unix_ms=tool_call.execution.started_at_unix_ms,
                ended_at_unix_ms=wall_time_unix_ms,
                carried_raw_payload_ids=self._agent_tool_payload_ids(tool_call_id),
            )
        )

    def _invocation_message(self, tool_call_id: str) -> str:
        """The ``message`` argument of an agent tool's function-call invocation."""
        tool_call = self.rollout.tool_calls[tool_call_id]
        payload_id = tool_call.raw_invocation_payload_id
        if payload_id is None:
            raise TraceError(f"agent activity tool call {tool_call_id} missing invocation payload")
        ref = self.rollout.raw_payloads.get(payload_id)
        if ref is None:
            raise TraceError(
                f"agent activity tool call {tool_call_id} referenced missing invocation "
                f"payload {payload_id}"
            )
        invocation = self.read_payload_json(ref)
        inner = invocation.get("payload") if isinstance(invocation, dict) else None
        arguments = inner.get("arguments") if isinstance(inner, dict) else None
        if not isinstance(arguments, str):
            raise TraceError(f"agent activity tool call {tool_call_id} missing function arguments")
        try:
            args = read_struct_text(arguments, "AgentMessageInvocationArgs",
                                    [struct_field("message", string)])
        except (serde_json.JsonError, ShapeError, RecursionError) as err:
            raise TraceError(
                f"parse agent activity tool call {tool_call_id} arguments: {err}"
            ) from err
        message: str = args["message"]
        return message

    def _agent_path(self, thread_id: str) -> str | None:
        """The sender's agent path, which upstream matching requires; ``None`` in the seed."""
        if not self.upstream:
            return None
        thread = self.rollout.threads.get(thread_id)
        if thread is None:
            raise TraceError(f"agent edge referenced unknown thread {thread_id}")
        return thread.agent_path

    def attach_agent_interaction_tool_result(
        self, tool_call_id: str, result_payload: RawPayloadRef | None
    ) -> None:
        """Add the canonical tool result to the tool's edge, reduced or still pending."""
        if result_payload is None:
            return
        edge_ids = self._edges_by_source_tool.get(tool_call_id)
        if edge_ids:
            edge = self.rollout.interaction_edges[min(edge_ids)]
            push_unique(edge.carried_raw_payload_ids, result_payload.raw_payload_id)
            return
        # Tool end can precede the recipient item; keep the evidence on the pending edge.
        for pending in self._pending:
            if isinstance(pending.source, ToolCallAnchor) and (
                pending.source.tool_call_id == tool_call_id
            ):
                push_unique(pending.carried_raw_payload_ids, result_payload.raw_payload_id)
                return

    def _end_spawn_agent_interaction(
        self, wall_time_unix_ms: int, tool_call_id: str, payload: dict[str, Any]
    ) -> None:
        child_thread_id = payload["new_thread_id"]
        if child_thread_id is None:
            return  # failed spawn: no child to point at
        tool_call = self.rollout.tool_calls[tool_call_id]
        self._queue_or_resolve_agent_interaction_edge(
            PendingAgentInteractionEdge(
                edge_id=spawn_edge_id(payload["sender_thread_id"], child_thread_id),
                kind=InteractionEdgeKind.SPAWN_AGENT,
                source=ToolCallAnchor(tool_call_id=tool_call_id),
                target_thread_id=child_thread_id,
                message_author=self._agent_path(tool_call.thread_id),
                message_content=payload["prompt"],
                unresolved_spawn_thread_id=child_thread_id,
                started_at_unix_ms=tool_call.execution.started_at_unix_ms,
                ended_at_unix_ms=wall_time_unix_ms,
                carried_raw_payload_ids=self._agent_tool_payload_ids(tool_call_id),
            )
        )

    def _queue_message_agent_interaction(
        self,
        tool_call_id: str,
        kind: InteractionEdgeKind,
        target_thread_id: str,
        message_content: str,
        ended_at_unix_ms: int | None,
    ) -> None:
        tool_call = self.rollout.tool_calls[tool_call_id]
        self._queue_or_resolve_agent_interaction_edge(
            PendingAgentInteractionEdge(
                edge_id=tool_edge_id(tool_call_id),
                kind=kind,
                source=ToolCallAnchor(tool_call_id=tool_call_id),
                target_thread_id=target_thread_id,
                message_author=self._agent_path(tool_call.thread_id),
                message_content=message_content,
                unresolved_spawn_thread_id=None,
                started_at_unix_ms=tool_call.execution.started_at_unix_ms,
                ended_at_unix_ms=ended_at_unix_ms,
                carried_raw_payload_ids=self._agent_tool_payload_ids(tool_call_id),
            )
        )

    def _agent_tool_payload_ids(self, tool_call_id: str) -> list[str]:
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"agent edge referenced unknown tool call {tool_call_id}")
        payload_ids: list[str] = []
        if tool_call.raw_invocation_payload_id is not None:
            push_unique(payload_ids, tool_call.raw_invocation_payload_id)
        for payload_id in tool_call.raw_runtime_payload_ids:
            push_unique(payload_ids, payload_id)
        if tool_call.raw_result_payload_id is not None:
            push_unique(payload_ids, tool_call.raw_result_payload_id)
        return payload_ids

    def _upsert_close_agent_interaction(
        self, tool_call_id: str, target_thread_id: str, ended_at_unix_ms: int | None
    ) -> None:
        # A failed close can name a thread that never joined this trace; its
        # evidence stays on the tool's raw payloads instead.
        if target_thread_id not in self.rollout.threads:
            return
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"close edge referenced unknown tool call {tool_call_id}")
        self._upsert_interaction_edge(
            InteractionEdge(
                edge_id=tool_edge_id(tool_call_id),
                kind=InteractionEdgeKind.CLOSE_AGENT,
                source=ToolCallAnchor(tool_call_id=tool_call_id),
                target=ThreadAnchor(thread_id=target_thread_id),
                started_at_unix_ms=tool_call.execution.started_at_unix_ms,
                ended_at_unix_ms=ended_at_unix_ms,
                carried_raw_payload_ids=self._agent_tool_payload_ids(tool_call_id),
            )
        )

    def queue_agent_result_interaction_edge(
        self, event: ev.RawTraceEvent, observed: ev.AgentResultObserved
    ) -> None:
        """Queue (or resolve) the edge from a child's completion to its parent notice."""
        wall_time_unix_ms, child_thread_id = event.wall_time_unix_ms, observed.child_thread_id
        carried_payload = observed.carried_payload
        source_item_id = self._latest_assistant_message_item_for_turn(
            child_thread_id, observed.child_codex_turn_id
        )
        # Completion comes from AgentStatus, not the transcript: a failed child
        # may have no final message, so anchor on the thread instead.
        source: Any = (
            ConversationItemAnchor(item_id=source_item_id)
            if source_item_id is not None
            else ThreadAnchor(thread_id=child_thread_id)
        )
        self._queue_or_resolve_agent_interaction_edge(
            PendingAgentInteractionEdge(
                edge_id=observed.edge_id,
                kind=InteractionEdgeKind.AGENT_RESULT,
                source=source,
                target_thread_id=observed.parent_thread_id,
                message_author=self._agent_path(child_thread_id),
                message_content=observed.message,
                unresolved_spawn_thread_id=None,
                started_at_unix_ms=wall_time_unix_ms,
                ended_at_unix_ms=wall_time_unix_ms,
                carried_raw_payload_ids=(
                    [carried_payload.raw_payload_id] if carried_payload is not None else []
                ),
            )
        )

    def resolve_pending_agent_edges_for_item(self, item_id: str) -> None:
        """Resolve the first pending delivery whose recipient item this is."""
        if not self._pending:  # every sighting of every item asks; most rollouts have none
            return
        delivery = self.peers.conversation.delivery_to_own_thread(item_id)
        if delivery is None:
            return
        thread_id, author, content = delivery
        for index, pending in enumerate(self._pending):
            if (
                pending.target_thread_id == thread_id
                and pending.message_content == content
                and pending.message_author in (None, author)
            ):
                del self._pending[index]
                self._upsert_agent_interaction_edge_for_item(pending, item_id)
                return

    def _queue_or_resolve_agent_interaction_edge(
        self, pending: PendingAgentInteractionEdge
    ) -> None:
        item_id = self._find_unlinked_inter_agent_message_item(
            pending.target_thread_id, pending.message_content, pending.message_author
        )
        if item_id is not None:
            self._upsert_agent_interaction_edge_for_item(pending, item_id)
            return
        for existing in self._pending:
            if existing.edge_id != pending.edge_id:
                continue
            if (
                existing.kind != pending.kind
                or existing.source != pending.source
                or existing.target_thread_id != pending.target_thread_id
                or existing.message_author != pending.message_author
                or existing.message_content != pending.message_content
                or existing.unresolved_spawn_thread_id != pending.unresolved_spawn_thread_id
            ):
                raise TraceError(
                    f"pending interaction edge {pending.edge_id} was observed with conflicting "
                    "delivery data"
                )
            existing.started_at_unix_ms = min(
                existing.started_at_unix_ms, pending.started_at_unix_ms
            )
            existing.ended_at_unix_ms = _merge_ended(
                existing.ended_at_unix_ms, pending.ended_at_unix_ms
            )
            extend_unique(existing.carried_raw_payload_ids, pending.carried_raw_payload_ids)
            return
        self._pending.append(pending)

    def finished_interaction_edges(self) -> dict[str, InteractionEdge]:
        """The interaction edges as they stand if the log ends now.

        Spawn edges never matched to a task item then target the child thread: a
        child can fail before its task message becomes model-visible, and the
        spawned thread is still real, so the relationship is kept. Pure: the
        live edges and pending deliveries are left as they are (edges the
        fallback merges into are copies).
        """
        edges = dict(self.rollout.interaction_edges)
        for pending in self._pending:
            child_thread_id = pending.unresolved_spawn_thread_id
            if child_thread_id is None:
                continue
            if pending.kind != InteractionEdgeKind.SPAWN_AGENT:
                raise TraceError(
                    f"non-spawn interaction edge {pending.edge_id} carried a spawn fallback target"
                )
            if child_thread_id not in self.rollout.threads:
                continue
            edge = _edge_from_pending(pending, ThreadAnchor(thread_id=child_thread_id))
            existing = edges.get(edge.edge_id)
            if existing is None:
                edges[edge.edge_id] = edge
            else:
                merged = existing.model_copy(deep=True)
                _merge_edge(merged, edge)
                edges[edge.edge_id] = merged
        return edges

    def _upsert_agent_interaction_edge_for_item(
        self, pending: PendingAgentInteractionEdge, target_item_id: str
    ) -> None:
        self._upsert_interaction_edge(
            _edge_from_pending(
                pending, ConversationItemAnchor(item_id=target_item_id), [target_item_id]
            )
        )

    def _upsert_interaction_edge(self, edge: InteractionEdge) -> None:
        existing = self.rollout.interaction_edges.get(edge.edge_id)
        if existing is not None:
            _merge_edge(existing, edge)
            return
        self.rollout.interaction_edges[edge.edge_id] = edge
        if isinstance(edge.target, ConversationItemAnchor):
            self._edge_target_items.add(edge.target.item_id)
        if isinstance(edge.source, ToolCallAnchor):
            self._edges_by_source_tool.setdefault(edge.source.tool_call_id, set()).add(
                edge.edge_id
            )

    def _find_unlinked_inter_agent_message_item(
        self, thread_id: str, message_content: str, message_author: str | None
    ) -> str | None:
        for item_id in self.peers.conversation.delivery_items(
            thread_id, message_content, message_author
        ):
            if item_id not in self._edge_target_items:
                return item_id
        return None

    def _latest_assistant_message_item_for_turn(
        self, thread_id: str, codex_turn_id: str
    ) -> str | None:
        latest: str | None = None
        latest_seen = 0
        # Iterator::max_by_key keeps the last of equal maxima, in key order.
        for item_id in sorted(
            self.peers.conversation.assistant_messages_in_turn(thread_id, codex_turn_id)
        ):
            seen = self.rollout.conversation_items[item_id].first_seen_at_unix_ms
            if latest is None or seen >= latest_seen:
                latest, latest_seen = item_id, seen
        return latest
