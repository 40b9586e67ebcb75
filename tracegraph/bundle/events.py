"""Typed raw trace events: one ``RawTraceEvent`` per ``trace.jsonl`` line.

Parsing follows serde's derive rules as the reference applies them: unknown keys
are ignored, a missing ``Option`` field is ``None``, every other field is
required, integers must fit their Rust width and are never coerced from strings
or floats (strict mode).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from tracegraph.model._base import I64, U32, U64, TraceModel
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import CodeCellRuntimeStatus, ToolCallKind, ToolCallSummary
from tracegraph.model.session import ExecutionStatus, RolloutStatus

__all__ = [
    "EVENT_ENUMS",
    "EVENT_TYPES",
    "RAW_TRACE_EVENT_SCHEMA_VERSION",
    "SEED_OMITTED",
    "STARTED_ID_FIELD",
    "UPSTREAM_EVENT_FIELDS",
    "UPSTREAM_EVENT_TYPES",
    "AgentResultObserved",
    "CodeCellEnded",
    "CodeCellInitialResponse",
    "CodeCellStarted",
    "CodexTurnEnded",
    "CodexTurnStarted",
    "CompactionInstalled",
    "CompactionRequestCompleted",
    "CompactionRequestFailed",
    "CompactionRequestStarted",
    "FullSnapshotInput",
    "IncrementalInput",
    "IncrementalWithUntracedPrefixInput",
    "InferenceCancelled",
    "InferenceCompleted",
    "InferenceFailed",
    "InferenceRequestInputMode",
    "InferenceStarted",
    "McpToolCallCorrelationAssigned",
    "Other",
    "ProtocolEventObserved",
    "RawCodeCellRequester",
    "RawModelRequester",
    "RawToolCallRequester",
    "RawTraceEvent",
    "RawTraceEventPayload",
    "RolloutEnded",
    "RolloutStarted",
    "ThreadEnded",
    "ThreadStarted",
    "ToolCallEnded",
    "ToolCallRuntimeEnded",
    "ToolCallRuntimeStarted",
    "ToolCallStarted",
    "raw_payload_refs",
    "upstream_event_evidence",
]



class RawModelRequester(TraceModel):
    type: Literal["model"] = "model"


class RawCodeCellRequester(TraceModel):
    type: Literal["code_cell"] = "code_cell"
    #: Runtime-local code-mode cell handle.
    runtime_cell_id: str


RawToolCallRequester = Annotated[
    RawModelRequester | RawCodeCellRequester, Field(discriminator="type")
]


class RolloutStarted(TraceModel):
    type: Literal["rollout_started"] = "rollout_started"
    trace_id: str
    root_thread_id: str


class RolloutEnded(TraceModel):
    type: Literal["rollout_ended"] = "rollout_ended"
    status: RolloutStatus


class ThreadStarted(TraceModel):
    type: Literal["thread_started"] = "thread_started"
    thread_id: str
    agent_path: str
    metadata_payload: RawPayloadRef | None = None


class ThreadEnded(TraceModel):
    type: Literal["thread_ended"] = "thread_ended"
    thread_id: str
    status: RolloutStatus


class CodexTurnStarted(TraceModel):
    type: Literal["codex_turn_started"] = "codex_turn_started"
    codex_turn_id: str
    thread_id: str


class CodexTurnEnded(TraceModel):
    type: Literal["codex_turn_ended"] = "codex_turn_ended"
    codex_turn_id: str
    status: ExecutionStatus


class FullSnapshotInput(TraceModel):
    type: Literal["full_snapshot"] = "full_snapshot"


class IncrementalInput(TraceModel):
    type: Literal["incremental"] = "incremental"
    previous_response_id: str


class IncrementalWithUntracedPrefixInput(TraceModel):
    type: Literal["incremental_with_untraced_prefix"] = "incremental_with_untraced_prefix"
    previous_response_id: str
    prefix_payload: RawPayloadRef


#: Upstream (unmerged branch) ``InferenceRequestInputMode``; optional everywhere.
InferenceRequestInputMode = Annotated[
    FullSnapshotInput | IncrementalInput | IncrementalWithUntracedPrefixInput,
    Field(discriminator="type"),
]


class InferenceStarted(TraceModel):
    type: Literal["inference_started"] = "inference_started"
    inference_call_id: str
    thread_id: str
    codex_turn_id: str
    model: str
    provider_name: str
    #: Upstream only; omitted when absent.
    request_input_mode: InferenceRequestInputMode | None = None
    request_payload: RawPayloadRef


class InferenceCompleted(TraceModel):
    type: Literal["inference_completed"] = "inference_completed"
    inference_call_id: str
    response_id: str | None = None
    #: Upstream only: the transport request id (``x-request-id``).
    upstream_request_id: str | None = None
    response_payload: RawPayloadRef


class InferenceFailed(TraceModel):
    type: Literal["inference_failed"] = "inference_failed"
    inference_call_id: str
    #: Upstream only.
    upstream_request_id: str | None = None
    error: str
    partial_response_payload: RawPayloadRef | None = None


class InferenceCancelled(TraceModel):
    """Upstream only: Codex stopped reading the stream before ``response.completed``."""

    type: Literal["inference_cancelled"] = "inference_cancelled"
    inference_call_id: str
    upstream_request_id: str | None = None
    reason: str
    partial_response_payload: RawPayloadRef | None = None


class McpToolCallCorrelationAssigned(TraceModel):
    """Upstream only: the id sent along with one MCP backend request."""

    type: Literal["mcp_tool_call_correlation_assigned"] = "mcp_tool_call_correlation_assigned"
    tool_call_id: str
    mcp_call_id: str


class ToolCallStarted(TraceModel):
    type: Literal["tool_call_started"] = "tool_call_started"
    tool_call_id: str
    model_visible_call_id: str | None = None
    code_mode_runtime_tool_id: str | None = None
    requester: RawToolCallRequester
    kind: ToolCallKind
    summary: ToolCallSummary
    invocation_payload: RawPayloadRef | None = None


class ToolCallRuntimeStarted(TraceModel):
    type: Literal["tool_call_runtime_started"] = "tool_call_runtime_started"
    tool_call_id: str
    runtime_payload: RawPayloadRef


class ToolCallRuntimeEnded(TraceModel):
    type: Literal["tool_call_runtime_ended"] = "tool_call_runtime_ended"
    tool_call_id: str
    status: ExecutionStatus
    runtime_payload: RawPayloadRef


class ToolCallEnded(TraceModel):
    type: Literal["tool_call_ended"] = "tool_call_ended"
    tool_call_id: str
    status: ExecutionStatus
    result_payload: RawPayloadRef | None = None


class CodeCellStarted(TraceModel):
    type: Literal["code_cell_started"] = "code_cell_started"
    runtime_cell_id: str
    model_visible_call_id: str
    source_js: str


class CodeCellInitialResponse(TraceModel):
    type: Literal["code_cell_initial_response"] = "code_cell_initial_response"
    runtime_cell_id: str
    status: CodeCellRuntimeStatus
    response_payload: RawPayloadRef | None = None


class CodeCellEnded(TraceModel):
    type: Literal["code_cell_ended"] = "code_cell_ended"
    runtime_cell_id: str
    status: CodeCellRuntimeStatus
    response_payload: RawPayloadRef | None = None


class CompactionRequestStarted(TraceModel):
    type: Literal["compaction_request_started"] = "compaction_request_started"
    compaction_id: str
    compaction_request_id: str
    thread_id: str
    codex_turn_id: str
    model: str
    provider_name: str
    request_payload: RawPayloadRef


class CompactionRequestCompleted(TraceModel):
    type: Literal["compaction_request_completed"] = "compaction_request_completed"
    compaction_id: str
    compaction_request_id: str
    response_payload: RawPayloadRef


class CompactionRequestFailed(TraceModel):
    type: Literal["compaction_request_failed"] = "compaction_request_failed"
    compaction_id: str
    compaction_request_id: str
    error: str


class CompactionInstalled(TraceModel):
    type: Literal["compaction_installed"] = "compaction_installed"
    compaction_id: str
    checkpoint_payload: RawPayloadRef


class AgentResultObserved(TraceModel):
    type: Literal["agent_result_observed"] = "agent_result_observed"
    edge_id: str
    child_thread_id: str
    child_codex_turn_id: str
    parent_thread_id: str
    message: str
    carried_payload: RawPayloadRef | None = None


class ProtocolEventObserved(TraceModel):
    type: Literal["protocol_event_observed"] = "protocol_event_observed"
    event_type: str
    event_payload: RawPayloadRef


class Other(TraceModel):
    type: Literal["other"] = "other"
    kind: str
    summary: str
    payloads: list[RawPayloadRef]
    metadata: Any


RawTraceEventPayload = Annotated[
    RolloutStarted
    | RolloutEnded
    | ThreadStarted
    | ThreadEnded
    | CodexTurnStarted
    | CodexTurnEnded
    | InferenceStarted
    | InferenceCompleted
    | InferenceFailed
    | InferenceCancelled
    | McpToolCallCorrelationAssigned
    | ToolCallStarted
    | ToolCallRuntimeStarted
    | ToolCallRuntimeEnded
    | ToolCallEnded
    | CodeCellStarted
    | CodeCellInitialResponse
    | CodeCellEnded
    | CompactionRequestStarted
    | CompactionRequestCompleted
    | CompactionRequestFailed
    | CompactionInstalled
    | AgentResultObserved
    | ProtocolEventObserved
    | Other,
    Field(discriminator="type"),
]

#: Event ``type`` tags of the seed format, in declaration order.
EVENT_TYPES: tuple[str, ...] = (
    "rollout_started",
    "rollout_ended",
    "thread_started",
    "thread_ended",
    "codex_turn_started",
    "codex_turn_ended",
    "inference_started",
    "inference_completed",
    "inference_failed",
    "tool_call_started",
    "tool_call_runtime_started",
    "tool_call_runtime_ended",
    "tool_call_ended",
    "code_cell_started",
    "code_cell_initial_response",
    "code_cell_ended",
    "compaction_request_started",
    "compaction_request_completed",
    "compaction_request_failed",
    "compaction_installed",
    "agent_result_observed",
    "protocol_event_observed",
    "other",
)

#: Event types only the upstream dialect knows.
UPSTREAM_EVENT_TYPES: tuple[str, ...] = ("inference_cancelled", "mcp_tool_call_correlation_assigned")

#: Optional event fields only upstream writers emit: (event type, field, omitted when null).
UPSTREAM_EVENT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("inference_started", "request_input_mode", True),
    ("inference_completed", "upstream_request_id", False),
    ("inference_failed", "upstream_request_id", False),
)

RAW_TRACE_EVENT_SCHEMA_VERSION = 1


def upstream_event_evidence(payload: dict[str, Any]) -> str | None:
    """What in an event's payload object only the upstream format has: an event type
    (``TYPE event``) or a field (``TYPE.FIELD``); ``None`` if nothing."""
    event_type = payload.get("type")
    if event_type in UPSTREAM_EVENT_TYPES:
        return f"{event_type} event"
    for upstream_type, field_name, _ in UPSTREAM_EVENT_FIELDS:
        if event_type == upstream_type and field_name in payload:
            return f"{event_type}.{field_name}"
    return None



class RawTraceEvent(TraceModel):
    """One append-only event; the envelope is the same for every payload type."""

    schema_version: U32
    #: Writer-assigned order inside one event log.
    seq: U64
    wall_time_unix_ms: I64
    rollout_id: str
    thread_id: str | None = None
    codex_turn_id: str | None = None
    payload: RawTraceEventPayload


def raw_payload_refs(payload: Any) -> list[RawPayloadRef]:
    """Payload refs an event carries, in the order the reference records them."""
    names = _REF_FIELDS.get(type(payload))
    if names is None:
        return list(payload.payloads) if isinstance(payload, Other) else []
    if len(names) == 1:  # every event type so far: no generator per event
        ref = getattr(payload, names[0])
        refs = [] if ref is None else [ref]
    else:
        refs = [ref for ref in (getattr(payload, name) for name in names) if ref is not None]
    if type(payload) is InferenceStarted and isinstance(
        payload.request_input_mode, IncrementalWithUntracedPrefixInput
    ):
        # Request first, then the untraced prefix (the producer's write order).
        refs.append(payload.request_input_mode.prefix_payload)
    return refs


#: The payload ref fields of each event type (looked up by type: this runs per event).
_REF_FIELDS: dict[type, tuple[str, ...]] = {
    ThreadStarted: ("metadata_payload",),
    InferenceStarted: ("request_payload",),
    CompactionRequestStarted: ("request_payload",),
    InferenceCompleted: ("response_payload",),
    CompactionRequestCompleted: ("response_payload",),
    CompactionInstalled: ("checkpoint_payload",),
    ProtocolEventObserved: ("event_payload",),
    InferenceFailed: ("partial_response_payload",),
    InferenceCancelled: ("partial_response_payload",),
    ToolCallStarted: ("invocation_payload",),
    ToolCallEnded: ("result_payload",),
    CodeCellInitialResponse: ("response_payload",),
    CodeCellEnded: ("response_payload",),
    AgentResultObserved: ("carried_payload",),
    ToolCallRuntimeStarted: ("runtime_payload",),
    ToolCallRuntimeEnded: ("runtime_payload",),
}


#: The Rust enums behind the event model's tagged unions, by their Rust names.
EVENT_ENUMS: dict[str, Any] = {
    "RawTraceEventPayload": RawTraceEventPayload,
    "RawToolCallRequester": RawToolCallRequester,
    "InferenceRequestInputMode": InferenceRequestInputMode,
    "ToolCallKind": ToolCallKind,
    "ToolCallSummary": ToolCallSummary,
}

#: The seed's structs lack the upstream-only fields (their sequence form is shorter).
SEED_OMITTED: dict[type[BaseModel], frozenset[str]] = {
    InferenceStarted: frozenset({"request_input_mode"}),
    InferenceCompleted: frozenset({"upstream_request_id"}),
    InferenceFailed: frozenset({"upstream_request_id"}),
}


#: The payload field holding the id a starting event gives what it starts, by event
#: type. A lenient replay that leaves such an event out (or skips it) leaves out the
#: later events naming that id too: they need what it would have started.
#: (``thread_id`` and ``codex_turn_id`` also stand in the envelope of every event
#: inside that thread or turn.)
STARTED_ID_FIELD: dict[str, str] = {
    "thread_started": "thread_id",
    "codex_turn_started": "codex_turn_id",
    "inference_started": "inference_call_id",
    "tool_call_started": "tool_call_id",
    "code_cell_started": "runtime_cell_id",
    "compaction_request_started": "compaction_request_id",
}
