"""The event dispatcher: one raw event in, reduced state updated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracegraph.bundle import events as ev
from tracegraph.bundle.reader import SkippedEvent, TraceBundle
from tracegraph.errors import BundleError, TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.model.rollout import RolloutTrace
from tracegraph.model.session import ExecutionStatus
from tracegraph.reducer.agents import AgentsReducer
from tracegraph.reducer.code_cell import CodeCellReducer, reduced_code_cell_id
from tracegraph.reducer.compaction import CompactionReducer
from tracegraph.reducer.conversation import ConversationReducer
from tracegraph.reducer.inference import InferenceReducer
from tracegraph.reducer.state import PendingCodeCellStart
from tracegraph.reducer.terminal import TerminalReducer
from tracegraph.reducer.thread import ThreadReducer
from tracegraph.reducer.tool import ToolReducer


class TraceReducer(
    ThreadReducer,
    ConversationReducer,
    InferenceReducer,
    ToolReducer,
    TerminalReducer,
    AgentsReducer,
    CodeCellReducer,
    CompactionReducer,
):
    """Deterministic replay of one bundle into a :class:`RolloutTrace`."""

    def apply_event(self, event: ev.RawTraceEvent) -> None:
        self.forget_payloads()
        # Payload refs are reducer-wide evidence, recorded before typed reduction.
        for payload in ev.raw_payload_refs(event.payload):
            self.insert_raw_payload(payload)
        seq, wall = event.seq, event.wall_time_unix_ms
        match event.payload:
            case ev.RolloutStarted(trace_id=trace_id, root_thread_id=root_thread_id):
                self.rollout.trace_id = trace_id
                self.rollout.root_thread_id = root_thread_id
            case ev.RolloutEnded(status=status):
                self.rollout.status = status
                self.rollout.ended_at_unix_ms = wall
            case ev.ThreadStarted() as started:
                self.start_thread(
                    seq, wall, started.thread_id, started.agent_path, started.metadata_payload
                )
            case ev.ThreadEnded(thread_id=thread_id, status=status):
                self.end_thread(seq, wall, thread_id, status)
            case ev.CodexTurnStarted(codex_turn_id=turn_id, thread_id=thread_id):
                self.start_codex_turn(seq, wall, turn_id, thread_id)
            case ev.CodexTurnEnded(codex_turn_id=turn_id, status=status):
                self.end_codex_turn(seq, wall, event.thread_id, turn_id, status)
            case ev.InferenceStarted() as started:
                self.start_inference_call(
                    seq, wall, started.inference_call_id, started.thread_id,
                    started.codex_turn_id, started.model, started.provider_name,
                    started.request_payload, started.request_input_mode,
                )
            case ev.InferenceCompleted() as completed:
                self.complete_inference_call(
                    seq, wall, completed.inference_call_id, ExecutionStatus.COMPLETED,
                    completed.response_id, completed.response_payload,
                    completed.upstream_request_id,
                )
            case ev.InferenceFailed() as failed:
                self.complete_inference_call(
                    seq, wall, failed.inference_call_id, ExecutionStatus.FAILED,
                    None, failed.partial_response_payload, failed.upstream_request_id,
                )
            case ev.InferenceCancelled() as cancelled:
                self.complete_inference_call(
                    seq, wall, cancelled.inference_call_id, ExecutionStatus.CANCELLED,
                    None, cancelled.partial_response_payload, cancelled.upstream_request_id,
                )
            case ev.McpToolCallCorrelationAssigned() as correlation:
                self.reduce_mcp_correlation(correlation.tool_call_id, correlation.mcp_call_id)
            case ev.ProtocolEventObserved():
                # Protocol wrappers are debug breadcrumbs: payload refs only.
                pass
            case ev.ToolCallStarted() as started:
                self.start_tool_call(seq, wall, event.thread_id, event.codex_turn_id, started)
            case ev.ToolCallRuntimeStarted(tool_call_id=tool_call_id, runtime_payload=payload):
                self.start_tool_runtime_observation(seq, wall, tool_call_id, payload)
            case ev.ToolCallRuntimeEnded() as ended:
                self.end_tool_runtime_observation(
                    seq, wall, ended.tool_call_id, ended.status, ended.runtime_payload
                )
            case ev.ToolCallEnded() as ended:
                self.end_tool_call(seq, wall, ended.tool_call_id, ended.status, ended.result_payload)
            case ev.CodeCellStarted() as started:
                thread_id = self.code_cell_event_thread_id(
                    event.thread_id, event.codex_turn_id, started.runtime_cell_id,
                    "code cell start",
                )
                code_cell_id = reduced_code_cell_id(started.model_visible_call_id)
                self.record_runtime_code_cell_id(thread_id, started.runtime_cell_id, code_cell_id)
                self.start_or_queue_code_cell(
                    PendingCodeCellStart(
                        seq=seq,
                        wall_time_unix_ms=wall,
                        thread_id=thread_id,
                        codex_turn_id=event.codex_turn_id,
                        code_cell_id=code_cell_id,
                        runtime_cell_id=started.runtime_cell_id,
                        model_visible_call_id=started.model_visible_call_id,
                        source_js=started.source_js,
                    )
                )
            case ev.CodeCellInitialResponse() as initial:
                thread_id = self.code_cell_event_thread_id(
                    event.thread_id, event.codex_turn_id, initial.runtime_cell_id,
                    "code cell initial response",
                )
                code_cell_id = self.code_cell_id_for_runtime_cell_id(
                    thread_id, initial.runtime_cell_id, "code cell initial response"
                )
                self.record_or_queue_code_cell_initial_response(
                    seq, wall, code_cell_id, initial.runtime_cell_id, initial.status
                )
            case ev.CodeCellEnded() as ended:
                thread_id = self.code_cell_event_thread_id(
                    event.thread_id, event.codex_turn_id, ended.runtime_cell_id, "code cell end"
                )
                code_cell_id = self.code_cell_id_for_runtime_cell_id(
                    thread_id, ended.runtime_cell_id, "code cell end"
                )
                self.end_or_queue_code_cell(seq, wall, code_cell_id, ended.status)
            case ev.CompactionRequestStarted() as started:
                self.start_compaction_request(
                    seq, wall, started.compaction_id, started.compaction_request_id,
                    started.thread_id, started.codex_turn_id, started.model,
                    started.provider_name, started.request_payload,
                )
            case ev.CompactionRequestCompleted() as completed:
                self.complete_compaction_request(
                    seq, wall, completed.compaction_id, completed.compaction_request_id,
                    ExecutionStatus.COMPLETED, completed.response_payload,
                )
            case ev.CompactionRequestFailed() as failed:
                self.complete_compaction_request(
                    seq, wall, failed.compaction_id, failed.compaction_request_id,
                    ExecutionStatus.FAILED, None,
                )
            case ev.CompactionInstalled() as installed:
                if event.thread_id is None:
                    raise TraceError(
                        f"compaction installed event {installed.compaction_id} did not include "
                        "a thread id"
                    )
                if event.codex_turn_id is None:
                    raise TraceError(
                        f"compaction installed event {installed.compaction_id} did not include "
                        "a codex turn id"
                    )
                self.reduce_compaction_installed_event(
                    wall, event.thread_id, event.codex_turn_id, installed.compaction_id,
                    installed.checkpoint_payload,
                )
            case ev.AgentResultObserved() as observed:
                self.queue_agent_result_interaction_edge(
                    wall, observed.edge_id, observed.child_thread_id,
                    observed.child_codex_turn_id, observed.parent_thread_id, observed.message,
                    observed.carried_payload,
                )
            case ev.Other():
                raise TraceError("raw trace event has no reducer implementation")
            case _:  # pragma: no cover - the payload union is closed
                raise TraceError(f"unhandled raw event {type(event.payload).__name__}")


@dataclass(frozen=True, slots=True)
class Replay:
    """A replayed bundle: the trace, the dialect used and why, skipped events."""

    trace: RolloutTrace
    dialect: Dialect
    dialect_reason: str
    skipped_events: tuple[SkippedEvent, ...] = ()


def replay(
    path: str | Path,
    *,
    dialect: Dialect | str = "auto",
    lenient: bool = False,
) -> Replay:
    """Replay a bundle directory, choosing the dialect when asked to (``auto``).

    ``auto`` picks ``upstream`` when the event log shows newer-format evidence
    and ``seed`` otherwise. Event types the dialect does not know are an error,
    unless ``lenient``: then they are skipped and reported in the result.
    """
    bundle = TraceBundle(path)
    if str(dialect) == "auto":
        chosen, reason = bundle.detect_dialect()
    else:
        chosen, reason = Dialect(dialect), "requested"
    reducer = TraceReducer(bundle, chosen)
    skipped: list[SkippedEvent] | None = [] if lenient else None
    log = str(bundle.event_log_path)
    for event_line in bundle.iter_events(chosen, skipped=skipped):
        try:
            reducer.apply_event(event_line.event)
        except (TraceError, BundleError) as err:
            reason_text = err.reason if isinstance(err, TraceError) else str(err)
            raise TraceError(
                reason_text, seq=event_line.event.seq, line=event_line.line, path=log
            ) from err
    # Only after the whole bundle do we know which spawns never reached a task item.
    try:
        reducer.resolve_pending_spawn_edge_fallbacks()
    except TraceError as err:
        raise TraceError(f"after replay: {err.reason}", path=log) from err
    return Replay(reducer.rollout, chosen, reason, tuple(skipped or ()))


def replay_bundle(
    path: str | Path, *, dialect: Dialect | str = "auto", lenient: bool = False
) -> RolloutTrace:
    """Replay a trace bundle directory into its reduced :class:`RolloutTrace`.

    Raises :class:`~tracegraph.errors.BundleError` when the bundle cannot be
    read and :class:`~tracegraph.errors.TraceError` (naming the event line and
    ``seq``) when the evidence is inconsistent.
    """
    return replay(path, dialect=dialect, lenient=lenient).trace
