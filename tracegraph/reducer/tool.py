"""Tool call lifecycle and its links to model-visible items and inferences.

A ``ToolCall`` is the common index of runtime tool work; terminal operations
and agent edges are richer objects built from the same evidence.
"""

from __future__ import annotations

from collections import defaultdict

from tracegraph.bundle import events as ev
from tracegraph.errors import TraceError
from tracegraph.model.conversation import ToolProducer
from tracegraph.model.runtime import TerminalSummary, ToolCall
from tracegraph.model.session import running_window
from tracegraph.reducer.state import Domain, Peers, ReplayContext, push_unique

__all__ = ["ToolReducer"]

_CALL_KINDS = ("function_call", "custom_tool_call")
_OUTPUT_KINDS = ("function_call_output", "custom_tool_call_output")


class ToolReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Model-visible call id -> tools started with it (more than one is an error
        #: when looked up, global across threads as in the reference).
        self._by_model_visible_call_id: defaultdict[str, list[str]] = defaultdict(list)
        #: Reduced code cell id -> nested tools it requested, start order.
        self._by_requester_cell: defaultdict[str, list[str]] = defaultdict(list)
        #: Tool -> its producer ref, built once: every sighting of an output item
        #: links it again, and items may share the value (producers never change).
        self._producers: dict[str, ToolProducer] = {}

    def tools_requested_by_cell(self, code_cell_id: str) -> list[str]:
        """Nested tools a code cell requested, key order (a queued cell backfills them)."""
        return sorted(self._by_requester_cell.get(code_cell_id, ()))

    def start_tool_call(self, event: ev.RawTraceEvent, started: ev.ToolCallStarted) -> None:
        """Start a tool call and link it to items, code cells and inferences seen so far."""
        seq, wall_time_unix_ms = event.seq, event.wall_time_unix_ms
        codex_turn_id = event.codex_turn_id
        tool_call_id = started.tool_call_id
        if tool_call_id in self.rollout.tool_calls:
            raise TraceError(f"duplicate tool call start for {tool_call_id}")
        model_visible_call_id = started.model_visible_call_id
        if model_visible_call_id is not None:
            existing = self.single_tool_for_model_visible_call(model_visible_call_id)
            if existing is not None and existing != tool_call_id:
                raise TraceError(
                    f"duplicate tool call for model-visible call id {model_visible_call_id}"
                )
        thread_id = self._tool_thread_id(event.thread_id, codex_turn_id)
        self.check_turn("tool call start", thread_id, codex_turn_id)
        requester = self.peers.code_cells.reduce_tool_call_requester(thread_id, started.requester)
        items = self.peers.conversation.items_with_call_id
        call_item_ids = (
            items(thread_id, model_visible_call_id, _CALL_KINDS)
            if model_visible_call_id is not None
            else []
        )
        output_item_ids = (
            items(thread_id, model_visible_call_id, _OUTPUT_KINDS)
            if model_visible_call_id is not None
            else []
        )
        self.thread_mut(thread_id)
        kind_name = started.kind.type
        # write_stdin emits no runtime begin event; its invocation carries the
        # terminal join key.
        terminal_operation_id = self.peers.terminals.start_terminal_operation_from_invocation(
            seq, wall_time_unix_ms, thread_id, tool_call_id, kind_name, started.invocation_payload
        )
        summary = (
            TerminalSummary(operation_id=terminal_operation_id)
            if terminal_operation_id is not None
            else started.summary
        )
        invocation = started.invocation_payload
        self.peers.code_cells.link_wait_tool_call_from_request_payload(
            thread_id, tool_call_id, invocation
        )
        self.rollout.tool_calls[tool_call_id] = ToolCall(
            tool_call_id=tool_call_id,
            model_visible_call_id=model_visible_call_id,
            code_mode_runtime_tool_id=started.code_mode_runtime_tool_id,
            thread_id=thread_id,
            started_by_codex_turn_id=codex_turn_id,
            execution=running_window(wall_time_unix_ms, seq),
            requester=requester,
            kind=started.kind,
            model_visible_call_item_ids=call_item_ids,
            terminal_operation_id=terminal_operation_id,
            summary=summary,
            raw_invocation_payload_id=invocation.raw_payload_id if invocation else None,
        )
        if model_visible_call_id is not None:
            self._by_model_visible_call_id[model_visible_call_id].append(tool_call_id)
        if requester.type == "code_cell":
            self._by_requester_cell[requester.code_cell_id].append(tool_call_id)
        self.peers.code_cells.link_tool_call_to_code_cell(tool_call_id, requester)
        self.link_tool_to_inference_response(tool_call_id)
        # Outputs observed before the start get the reverse producer link too.
        for item_id in output_item_ids:
            self.add_tool_output_item(tool_call_id, item_id)
        self.peers.terminals.sync_terminal_model_observation(tool_call_id)

    def end_tool_call(self, event: ev.RawTraceEvent, ended: ev.ToolCallEnded) -> None:
        """End the tool, and its terminal operation when no runtime events drive it."""
        seq, wall_time_unix_ms = event.seq, event.wall_time_unix_ms
        tool_call_id, status, result_payload = ended.tool_call_id, ended.status, ended.result_payload
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"tool call end referenced unknown call {tool_call_id}")
        tool_call.execution.end(wall_time_unix_ms, seq, status)
        tool_call.raw_result_payload_id = (
            result_payload.raw_payload_id if result_payload is not None else None
        )
        # Protocol-backed tools end terminal operations from runtime events;
        # dispatch results are caller-facing and may be transformed.
        if not tool_call.raw_runtime_payload_ids and tool_call.terminal_operation_id is not None:
            self.peers.terminals.end_terminal_operation(
                seq, wall_time_unix_ms, tool_call.thread_id, tool_call.terminal_operation_id,
                status, result_payload,
            )
        self.peers.agents.attach_agent_interaction_tool_result(tool_call_id, result_payload)

    def start_tool_runtime_observation(
        self, event: ev.RawTraceEvent, started: ev.ToolCallRuntimeStarted
    ) -> None:
        """Runtime begin: protocol facts may create a terminal operation or agent edge."""
        tool_call_id, runtime_payload = started.tool_call_id, started.runtime_payload
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"tool runtime start referenced unknown call {tool_call_id}")
        push_unique(tool_call.raw_runtime_payload_ids, runtime_payload.raw_payload_id)
        kind_name = tool_call.kind.type
        if tool_call.terminal_operation_id is not None and kind_name in (
            "exec_command",
            "write_stdin",
        ):
            raise TraceError(
                f"tool runtime start would create a second terminal operation for {tool_call_id}"
            )
        operation_id = self.peers.terminals.start_terminal_operation_from_runtime(
            event.seq, event.wall_time_unix_ms, tool_call.thread_id, tool_call_id, kind_name,
            runtime_payload,
        )
        if operation_id is not None:
            if tool_call.terminal_operation_id is None:
                tool_call.terminal_operation_id = operation_id
                tool_call.summary = TerminalSummary(operation_id=operation_id)
            self.peers.terminals.sync_terminal_model_observation(tool_call_id)
        self.peers.agents.start_agent_interaction_from_runtime(tool_call_id, runtime_payload)

    def end_tool_runtime_observation(
        self, event: ev.RawTraceEvent, ended: ev.ToolCallRuntimeEnded
    ) -> None:
        seq, wall_time_unix_ms = event.seq, event.wall_time_unix_ms
        tool_call_id, runtime_payload = ended.tool_call_id, ended.runtime_payload
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"tool runtime end referenced unknown call {tool_call_id}")
        push_unique(tool_call.raw_runtime_payload_ids, runtime_payload.raw_payload_id)
        if tool_call.terminal_operation_id is not None:
            self.peers.terminals.end_terminal_operation(
                seq, wall_time_unix_ms, tool_call.thread_id, tool_call.terminal_operation_id,
                ended.status, runtime_payload,
            )
        self.peers.agents.end_agent_interaction_from_runtime(
            wall_time_unix_ms, tool_call_id, runtime_payload
        )

    def attach_model_visible_tool_item(self, item_id: str, call_id: str | None, kind: str) -> None:
        """Link a call/output item observed after (or again after) its tool started."""
        if call_id is None:
            return
        if kind in _CALL_KINDS:
            tool_call_id = self.single_tool_for_model_visible_call(call_id)
            if tool_call_id is not None:
                tool_call = self.rollout.tool_calls[tool_call_id]
                push_unique(tool_call.model_visible_call_item_ids, item_id)
                self.link_tool_to_inference_response(tool_call_id)
                self.peers.terminals.sync_terminal_model_observation(tool_call_id)
        elif kind in _OUTPUT_KINDS:
            tool_call_id = self.single_tool_for_model_visible_call(call_id)
            if tool_call_id is not None:
                self.add_tool_output_item(tool_call_id, item_id)
                self.peers.terminals.sync_terminal_model_observation(tool_call_id)

    def correlate_mcp_call(
        self, event: ev.RawTraceEvent, correlation: ev.McpToolCallCorrelationAssigned
    ) -> None:
        """Upstream: attach the MCP backend request id to its tool call."""
        tool_call_id = correlation.tool_call_id
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(f"MCP correlation referenced unknown tool call {tool_call_id}")
        if tool_call.mcp_call_id is not None:
            raise TraceError(f"duplicate MCP correlation for tool call {tool_call_id}")
        tool_call.mcp_call_id = correlation.mcp_call_id

    def _tool_thread_id(self, thread_id: str | None, codex_turn_id: str | None) -> str:
        if thread_id is not None:
            return thread_id
        if codex_turn_id is None:
            raise TraceError("tool call start did not include thread or Codex turn context")
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(f"tool call start referenced unknown Codex turn {codex_turn_id}")
        return turn.thread_id

    def single_tool_for_model_visible_call(self, model_visible_call_id: str) -> str | None:
        """The tool for a model-visible call id (global, as in the reference)."""
        matching = self._by_model_visible_call_id.get(model_visible_call_id)
        if not matching:
            return None
        if len(matching) > 1:
            raise TraceError(
                f"multiple tool calls matched model-visible call id {model_visible_call_id}"
            )
        return matching[0]

    def add_tool_output_item(self, tool_call_id: str, item_id: str) -> None:
        tool_call = self.rollout.tool_calls[tool_call_id]
        push_unique(tool_call.model_visible_output_item_ids, item_id)
        producer = self._producers.get(tool_call_id)
        if producer is None:
            producer = self._producers[tool_call_id] = ToolProducer(tool_call_id=tool_call_id)
        self.peers.conversation.add_producer(item_id, producer, "output linking")

    def link_tool_to_inference_response(self, tool_call_id: str) -> None:
        """Record the tool on every inference whose response holds its call item."""
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None or not tool_call.model_visible_call_item_ids:
            return
        inference_ids: set[str] = set()
        for item_id in tool_call.model_visible_call_item_ids:
            inference_ids.update(self.peers.inference.calls_with_response_item(item_id))
        for inference_id in sorted(inference_ids):
            self.peers.inference.record_tool_started_by_response(inference_id, tool_call_id)
