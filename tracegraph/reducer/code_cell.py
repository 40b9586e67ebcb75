"""Code-mode cells: model-authored ``exec`` JavaScript and its runtime work.

Two clocks meet here: model-visible items come from inference payloads, while
runtime work starts as soon as Codex dispatches the tool. A ``CodeCellStarted``
can therefore precede the response that holds its ``custom_tool_call`` item;
such starts (and their lifecycle events) wait until the source item exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracegraph.bundle import events as ev
from tracegraph.bundle import serde_json
from tracegraph.errors import TraceError
from tracegraph.model.conversation import CodeCellProducer
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    CodeCell,
    CodeCellRequester,
    CodeCellRuntimeStatus,
    ModelRequester,
)
from tracegraph.model.session import ExecutionStatus, running_window
from tracegraph.reducer.normalize import get
from tracegraph.reducer.state import Domain, Peers, ReplayContext, push_unique

__all__ = [
    "CodeCellReducer",
    "PendingCodeCellLifecycleEvent",
    "PendingCodeCellStart",
    "reduced_code_cell_id",
]

_CELL_EXECUTION_STATUS = {
    CodeCellRuntimeStatus.STARTING: ExecutionStatus.RUNNING,
    CodeCellRuntimeStatus.RUNNING: ExecutionStatus.RUNNING,
    CodeCellRuntimeStatus.YIELDED: ExecutionStatus.RUNNING,
    CodeCellRuntimeStatus.COMPLETED: ExecutionStatus.COMPLETED,
    CodeCellRuntimeStatus.FAILED: ExecutionStatus.FAILED,
    CodeCellRuntimeStatus.TERMINATED: ExecutionStatus.CANCELLED,
}


def reduced_code_cell_id(model_visible_call_id: str) -> str:
    """The model-visible ``exec`` call is the durable identity of a cell."""
    return f"code_cell:{model_visible_call_id}"


@dataclass(slots=True)
class PendingCodeCellStart:
    seq: int
    wall_time_unix_ms: int
    thread_id: str
    codex_turn_id: str | None
    code_cell_id: str
    runtime_cell_id: str
    model_visible_call_id: str
    source_js: str


@dataclass(slots=True)
class PendingCodeCellLifecycleEvent:
    seq: int
    wall_time_unix_ms: int
    #: ``"initial_response"`` or ``"ended"``.
    kind: str
    status: str
    runtime_cell_id: str | None = None


class CodeCellReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Runtime cell ids indexed by thread-local code-mode handle.
        #:
        #: Reduced ``CodeCellId``s are based on the model-visible ``exec`` call id
        #: because that is the durable source identity. Runtime lifecycle, nested
        #: tools, and ``wait`` calls arrive with the runtime-local ``cell_id``, so
        #: this index is the one intentional bridge between those namespaces.
        self._ids_by_runtime: dict[tuple[str, str], str] = {}
        #: Code-cell starts whose model-visible ``custom_tool_call`` item has not
        #: been reduced yet.
        #:
        #: Core begins executing tools before the stream-completion hook records
        #: the response payload that requested them. Queueing keeps replay strict
        #: about eventual source-item ownership without requiring trace producers
        #: to reorder runtime events behind inference completion.
        self._pending_starts: dict[str, PendingCodeCellStart] = {}
        #: Initial/end events that arrived while the matching start was queued.
        #:
        #: Fast cells can return before the inference response payload that proves
        #: the model-visible ``exec`` source item has been reduced. The start
        #: remains queued for ownership validation; these lifecycle events wait
        #: with it and are replayed in raw sequence order once the cell materializes.
        self._pending_lifecycle_events: dict[str, list[PendingCodeCellLifecycleEvent]] = {}
        #: Codex turn -> cells started in it (a failed or cancelled turn ends them).
        self._by_turn: dict[str, list[str]] = {}

    def start_code_cell(self, event: ev.RawTraceEvent, started: ev.CodeCellStarted) -> None:
        thread_id = self._event_thread_id(event, started.runtime_cell_id, "code cell start")
        code_cell_id = reduced_code_cell_id(started.model_visible_call_id)
        self._record_runtime_code_cell_id(thread_id, started.runtime_cell_id, code_cell_id)
        self._start_or_queue_code_cell(
            PendingCodeCellStart(
                seq=event.seq,
                wall_time_unix_ms=event.wall_time_unix_ms,
                thread_id=thread_id,
                codex_turn_id=event.codex_turn_id,
                code_cell_id=code_cell_id,
                runtime_cell_id=started.runtime_cell_id,
                model_visible_call_id=started.model_visible_call_id,
                source_js=started.source_js,
            )
        )

    def record_code_cell_initial_response(
        self, event: ev.RawTraceEvent, initial: ev.CodeCellInitialResponse
    ) -> None:
        name = "code cell initial response"
        thread_id = self._event_thread_id(event, initial.runtime_cell_id, name)
        self._apply_or_queue(
            self.code_cell_id_for_runtime_cell_id(thread_id, initial.runtime_cell_id, name),
            PendingCodeCellLifecycleEvent(
                event.seq, event.wall_time_unix_ms, "initial_response", initial.status,
                initial.runtime_cell_id,
            ),
            name,
        )

    def end_code_cell(self, event: ev.RawTraceEvent, ended: ev.CodeCellEnded) -> None:
        name = "code cell end"
        thread_id = self._event_thread_id(event, ended.runtime_cell_id, name)
        self._apply_or_queue(
            self.code_cell_id_for_runtime_cell_id(thread_id, ended.runtime_cell_id, name),
            PendingCodeCellLifecycleEvent(
                event.seq, event.wall_time_unix_ms, "ended", ended.status
            ),
            name,
        )

    def _start_or_queue_code_cell(self, pending: PendingCodeCellStart) -> None:
        code_cell_id = pending.code_cell_id
        if self._source_item_for(pending.thread_id, pending.model_visible_call_id) is None:
            if (
                code_cell_id in self.rollout.code_cells
                or code_cell_id in self._pending_starts
            ):
                raise TraceError(f"duplicate code cell start for {code_cell_id}")
            self._pending_starts[code_cell_id] = pending
            return
        self._start_code_cell(pending)

    def flush_pending_code_cell_starts(self) -> None:
        """Materialize queued starts whose source item now exists (key order)."""
        if not self._pending_starts:
            return
        ready = [
            code_cell_id
            for code_cell_id in sorted(self._pending_starts)
            if self._source_item_for(
                self._pending_starts[code_cell_id].thread_id,
                self._pending_starts[code_cell_id].model_visible_call_id,
            )
            is not None
        ]
        for code_cell_id in ready:
            pending = self._pending_starts.pop(code_cell_id, None)
            if pending is not None:
                self._start_code_cell(pending)

    def _start_code_cell(self, pending: PendingCodeCellStart) -> None:
        code_cell_id = pending.code_cell_id
        if code_cell_id in self.rollout.code_cells:
            raise TraceError(f"duplicate code cell start for {code_cell_id}")
        if pending.codex_turn_id is None:
            raise TraceError(f"code cell start {code_cell_id} did not include a Codex turn id")
        self.check_turn("code cell start", pending.thread_id, pending.codex_turn_id)
        source_item_id = self._source_item_for(pending.thread_id, pending.model_visible_call_id)
        if source_item_id is None:
            raise TraceError(
                f"code cell {code_cell_id} referenced model-visible call "
                f"{pending.model_visible_call_id}, but no custom tool call item was observed"
            )
        output_item_ids = self.peers.conversation.items_with_call_id(
            pending.thread_id, pending.model_visible_call_id, ("custom_tool_call_output",)
        )
        # Nested tools may have started while the cell was queued.
        nested_tool_call_ids = self.peers.tools.tools_requested_by_cell(code_cell_id)
        self.rollout.code_cells[code_cell_id] = CodeCell(
            code_cell_id=code_cell_id,
            model_visible_call_id=pending.model_visible_call_id,
            thread_id=pending.thread_id,
            codex_turn_id=pending.codex_turn_id,
            source_item_id=source_item_id,
            output_item_ids=list(output_item_ids),
            runtime_cell_id=pending.runtime_cell_id,
            execution=running_window(pending.wall_time_unix_ms, pending.seq),
            runtime_status=CodeCellRuntimeStatus.STARTING,
            source_js=pending.source_js,
            nested_tool_call_ids=nested_tool_call_ids,
        )
        self._by_turn.setdefault(pending.codex_turn_id, []).append(code_cell_id)
        self.thread_mut(pending.thread_id)
        for item_id in output_item_ids:
            self._add_code_cell_output_item(code_cell_id, item_id)
        self._flush_pending_lifecycle_events(code_cell_id)

    def _source_item_for(self, thread_id: str, model_visible_call_id: str) -> str | None:
        items = self.peers.conversation.items_with_call_id(
            thread_id, model_visible_call_id, ("custom_tool_call",)
        )
        return items[0] if items else None

    def _apply_or_queue(
        self, code_cell_id: str, event: PendingCodeCellLifecycleEvent, event_name: str
    ) -> None:
        """Apply a lifecycle event, or keep it beside its queued start.

        Unknown cells are an error; a cell whose start waits for its source item
        is known, and its lifecycle is replayed in seq order once it materializes.
        """
        if code_cell_id in self.rollout.code_cells:
            self._apply_lifecycle_event(code_cell_id, event)
        elif code_cell_id in self._pending_starts:
            events = self._pending_lifecycle_events.setdefault(code_cell_id, [])
            events.append(event)
            events.sort(key=lambda queued: queued.seq)
        else:
            raise TraceError(f"{event_name} referenced unknown cell {code_cell_id}")

    def _apply_lifecycle_event(
        self, code_cell_id: str, event: PendingCodeCellLifecycleEvent
    ) -> None:
        status = CodeCellRuntimeStatus(event.status)
        if event.kind == "initial_response":
            assert event.runtime_cell_id is not None
            self._record_initial_response(
                event.seq, event.wall_time_unix_ms, code_cell_id, event.runtime_cell_id, status
            )
        else:
            self._end_code_cell(event.seq, event.wall_time_unix_ms, code_cell_id, status)

    def _record_initial_response(
        self,
        seq: int,
        wall_time_unix_ms: int,
        code_cell_id: str,
        runtime_cell_id: str,
        status: CodeCellRuntimeStatus,
    ) -> None:
        cell = self.rollout.code_cells[code_cell_id]
        cell.runtime_cell_id = runtime_cell_id
        if cell.initial_response_at_unix_ms is None:
            cell.initial_response_at_unix_ms = wall_time_unix_ms
            cell.initial_response_seq = seq
        if status == CodeCellRuntimeStatus.YIELDED:
            cell.yielded_at_unix_ms = wall_time_unix_ms
            cell.yielded_seq = seq
        cell.runtime_status = status

    def _end_code_cell(
        self, seq: int, wall_time_unix_ms: int, code_cell_id: str, status: CodeCellRuntimeStatus
    ) -> None:
        cell = self.rollout.code_cells[code_cell_id]
        if cell.initial_response_at_unix_ms is None:
            cell.initial_response_at_unix_ms = wall_time_unix_ms
            cell.initial_response_seq = seq
        cell.execution.end(wall_time_unix_ms, seq, _CELL_EXECUTION_STATUS[status])
        cell.runtime_status = status

    def terminate_running_code_cells_for_turn_end(
        self, seq: int, wall_time_unix_ms: int, codex_turn_id: str, status: str
    ) -> None:
        """A cancelled or failed turn abandons its still-running cells.

        Normal completion does not: a yielded cell can outlive its turn and be
        resumed by a later ``wait``.
        """
        if status == ExecutionStatus.FAILED:
            runtime_status = CodeCellRuntimeStatus.FAILED
        elif status in (ExecutionStatus.CANCELLED, ExecutionStatus.ABORTED):
            runtime_status = CodeCellRuntimeStatus.TERMINATED
        else:
            return
        for code_cell_id in sorted(self._by_turn.get(codex_turn_id, ())):
            cell = self.rollout.code_cells[code_cell_id]
            if cell.execution.status == ExecutionStatus.RUNNING:
                self._end_code_cell(seq, wall_time_unix_ms, code_cell_id, runtime_status)

    def _flush_pending_lifecycle_events(self, code_cell_id: str) -> None:
        for event in self._pending_lifecycle_events.pop(code_cell_id, []):
            self._apply_lifecycle_event(code_cell_id, event)

    def link_tool_call_to_code_cell(self, tool_call_id: str, requester: Any) -> None:
        """Nested tool -> parent cell; a queued cell backfills this when it starts."""
        if not isinstance(requester, CodeCellRequester):
            return
        cell = self.rollout.code_cells.get(requester.code_cell_id)
        if cell is not None:
            push_unique(cell.nested_tool_call_ids, tool_call_id)

    def link_wait_tool_call_from_request_payload(
        self, thread_id: str, tool_call_id: str, request_payload: RawPayloadRef | None
    ) -> None:
        """A model-visible ``wait`` names its cell only by runtime ``cell_id`` in its arguments."""
        if request_payload is None:
            return
        payload = self.read_payload_json(request_payload)
        if get(payload, "tool_name") != "wait":
            return
        arguments = get(get(payload, "payload"), "arguments")
        if not isinstance(arguments, str):
            raise TraceError(
                f"wait tool request payload {request_payload.raw_payload_id} did not contain "
                "function arguments"
            )
        try:
            parsed = serde_json.loads(arguments)
        except serde_json.JsonError as err:
            raise TraceError(
                f"wait tool request payload {request_payload.raw_payload_id} had invalid JSON "
                f"arguments: {err}"
            ) from err
        runtime_cell_id = get(parsed, "cell_id")
        if not isinstance(runtime_cell_id, str):
            raise TraceError(
                f"wait tool request payload {request_payload.raw_payload_id} did not contain "
                "cell_id"
            )
        code_cell_id = self._ids_by_runtime.get((thread_id, runtime_cell_id))
        if code_cell_id is None:
            return
        cell = self.rollout.code_cells.get(code_cell_id)
        if cell is not None:
            push_unique(cell.wait_tool_call_ids, tool_call_id)

    def attach_model_visible_code_cell_item(
        self, item_id: str, call_id: str | None, kind: str
    ) -> None:
        """A later request may carry the cell's custom-tool output back to the model."""
        if call_id is None or kind != "custom_tool_call_output":
            return
        code_cell_id = reduced_code_cell_id(call_id)
        if code_cell_id in self.rollout.code_cells:
            self._add_code_cell_output_item(code_cell_id, item_id)

    def _event_thread_id(
        self, event: ev.RawTraceEvent, runtime_cell_id: str, event_name: str
    ) -> str:
        if event.thread_id is not None:
            return event.thread_id
        codex_turn_id = event.codex_turn_id
        if codex_turn_id is None:
            raise TraceError(f"{event_name} {runtime_cell_id} did not include a thread id")
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(
                f"{event_name} {runtime_cell_id} referenced unknown Codex turn {codex_turn_id}"
            )
        return turn.thread_id

    def _record_runtime_code_cell_id(
        self, thread_id: str, runtime_cell_id: str, code_cell_id: str
    ) -> None:
        key = (thread_id, runtime_cell_id)
        existing = self._ids_by_runtime.get(key)
        if existing is None:
            self._ids_by_runtime[key] = code_cell_id
        elif existing != code_cell_id:
            raise TraceError(
                f"runtime code cell {runtime_cell_id} in thread {thread_id} mapped to both "
                f"{existing} and {code_cell_id}"
            )

    def code_cell_id_for_runtime_cell_id(
        self, thread_id: str, runtime_cell_id: str, event_name: str
    ) -> str:
        code_cell_id = self._ids_by_runtime.get((thread_id, runtime_cell_id))
        if code_cell_id is None:
            raise TraceError(
                f"{event_name} referenced unknown runtime cell {runtime_cell_id} "
                f"in thread {thread_id}"
            )
        return code_cell_id

    def reduce_tool_call_requester(self, thread_id: str, requester: Any) -> Any:
        """Map the runtime-local cell handle of a nested tool to its stable cell id."""
        if requester.type == "model":
            return ModelRequester()
        return CodeCellRequester(
            code_cell_id=self.code_cell_id_for_runtime_cell_id(
                thread_id, requester.runtime_cell_id, "code-mode nested tool"
            )
        )

    def _add_code_cell_output_item(self, code_cell_id: str, item_id: str) -> None:
        cell = self.rollout.code_cells[code_cell_id]
        push_unique(cell.output_item_ids, item_id)
        self.peers.conversation.add_producer(
            item_id, CodeCellProducer(code_cell_id=code_cell_id), "code-cell output linking"
        )
