"""Runtime/debug objects: code cells, tools, terminals, compactions, edges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tracegraph.model._base import I32, U64, USIZE, SnakeEnum, TraceModel
from tracegraph.model.session import ExecutionWindow

__all__ = [
    "AgentSummary",
    "ApplyPatchKind",
    "AssignAgentTaskKind",
    "CloseAgentKind",
    "CodeCell",
    "CodeCellRequester",
    "CodeCellRuntimeStatus",
    "Compaction",
    "CompactionRequest",
    "ConversationItemAnchor",
    "ExecCommandKind",
    "ExecCommandRequest",
    "GenericSummary",
    "ImageGenerationKind",
    "InteractionEdge",
    "InteractionEdgeKind",
    "McpKind",
    "ModelRequester",
    "OtherKind",
    "SendMessageKind",
    "SpawnAgentKind",
    "TerminalModelObservation",
    "TerminalObservationSource",
    "TerminalOperation",
    "TerminalOperationKind",
    "TerminalRequest",
    "TerminalResult",
    "TerminalSession",
    "TerminalSummary",
    "ThreadAnchor",
    "ToolCall",
    "ToolCallAnchor",
    "ToolCallKind",
    "ToolCallRequester",
    "ToolCallSummary",
    "TraceAnchor",
    "WaitAgentKind",
    "WaitAgentSummary",
    "WebKind",
    "WriteStdinKind",
    "WriteStdinRequest",
]



class CodeCellRuntimeStatus(SnakeEnum):
    STARTING = "starting"
    RUNNING = "running"
    YIELDED = "yielded"
    COMPLETED = "completed"
    FAILED = "failed"
    TERMINATED = "terminated"


class CodeCell(TraceModel):
    """Runtime object for one model-authored ``exec`` JavaScript cell."""

    code_cell_id: str
    model_visible_call_id: str
    thread_id: str
    codex_turn_id: str
    source_item_id: str
    output_item_ids: list[str] = Field(default_factory=list)
    runtime_cell_id: str | None = None
    execution: ExecutionWindow
    runtime_status: CodeCellRuntimeStatus
    initial_response_at_unix_ms: int | None = None
    initial_response_seq: int | None = None
    yielded_at_unix_ms: int | None = None
    yielded_seq: int | None = None
    source_js: str
    nested_tool_call_ids: list[str] = Field(default_factory=list)
    wait_tool_call_ids: list[str] = Field(default_factory=list)


class Compaction(TraceModel):
    """Installed checkpoint where replacement history became live history."""

    compaction_id: str
    thread_id: str
    codex_turn_id: str
    installed_at_unix_ms: int
    marker_item_id: str
    request_ids: list[str] = Field(default_factory=list)
    input_item_ids: list[str] = Field(default_factory=list)
    replacement_item_ids: list[str] = Field(default_factory=list)


class CompactionRequest(TraceModel):
    compaction_request_id: str
    compaction_id: str
    thread_id: str
    codex_turn_id: str
    execution: ExecutionWindow
    model: str
    provider_name: str
    raw_request_payload_id: str
    raw_response_payload_id: str | None = None


class ModelRequester(TraceModel):
    type: Literal["model"] = "model"


class CodeCellRequester(TraceModel):
    type: Literal["code_cell"] = "code_cell"
    code_cell_id: str


ToolCallRequester = Annotated[ModelRequester | CodeCellRequester, Field(discriminator="type")]


class ExecCommandKind(TraceModel):
    type: Literal["exec_command"] = "exec_command"


class WriteStdinKind(TraceModel):
    type: Literal["write_stdin"] = "write_stdin"


class ApplyPatchKind(TraceModel):
    type: Literal["apply_patch"] = "apply_patch"


class McpKind(TraceModel):
    type: Literal["mcp"] = "mcp"
    server: str
    tool: str


class WebKind(TraceModel):
    type: Literal["web"] = "web"


class ImageGenerationKind(TraceModel):
    type: Literal["image_generation"] = "image_generation"


class SpawnAgentKind(TraceModel):
    type: Literal["spawn_agent"] = "spawn_agent"


class AssignAgentTaskKind(TraceModel):
    type: Literal["assign_agent_task"] = "assign_agent_task"


class SendMessageKind(TraceModel):
    type: Literal["send_message"] = "send_message"


class WaitAgentKind(TraceModel):
    type: Literal["wait_agent"] = "wait_agent"


class CloseAgentKind(TraceModel):
    type: Literal["close_agent"] = "close_agent"


class OtherKind(TraceModel):
    type: Literal["other"] = "other"
    name: str


ToolCallKind = Annotated[
    ExecCommandKind
    | WriteStdinKind
    | ApplyPatchKind
    | McpKind
    | WebKind
    | ImageGenerationKind
    | SpawnAgentKind
    | AssignAgentTaskKind
    | SendMessageKind
    | WaitAgentKind
    | CloseAgentKind
    | OtherKind,
    Field(discriminator="type"),
]


class TerminalSummary(TraceModel):
    type: Literal["terminal"] = "terminal"
    operation_id: str


class AgentSummary(TraceModel):
    type: Literal["agent"] = "agent"
    target_agent_path: str
    task_name: str | None = None
    message_preview: str


class WaitAgentSummary(TraceModel):
    type: Literal["wait_agent"] = "wait_agent"
    target_agent_path: str | None = None
    timeout_ms: U64 | None = None


class GenericSummary(TraceModel):
    type: Literal["generic"] = "generic"
    label: str
    input_preview: str | None = None
    output_preview: str | None = None


ToolCallSummary = Annotated[
    TerminalSummary | AgentSummary | WaitAgentSummary | GenericSummary,
    Field(discriminator="type"),
]


class ToolCall(TraceModel):
    """Runtime tool boundary; linked to transcript items, not itself a transcript row."""

    tool_call_id: str
    #: Upstream dialect only: correlation id sent with the MCP backend request.
    mcp_call_id: str | None = None
    model_visible_call_id: str | None = None
    code_mode_runtime_tool_id: str | None = None
    thread_id: str
    started_by_codex_turn_id: str | None = None
    execution: ExecutionWindow
    requester: ToolCallRequester
    kind: ToolCallKind
    model_visible_call_item_ids: list[str] = Field(default_factory=list)
    model_visible_output_item_ids: list[str] = Field(default_factory=list)
    terminal_operation_id: str | None = None
    summary: ToolCallSummary
    raw_invocation_payload_id: str | None = None
    raw_result_payload_id: str | None = None
    raw_runtime_payload_ids: list[str] = Field(default_factory=list)


class TerminalSession(TraceModel):
    terminal_id: str
    thread_id: str
    created_by_operation_id: str
    operation_ids: list[str] = Field(default_factory=list)
    execution: ExecutionWindow


class TerminalOperationKind(SnakeEnum):
    EXEC_COMMAND = "exec_command"
    WRITE_STDIN = "write_stdin"


class ExecCommandRequest(TraceModel):
    type: Literal["exec_command"] = "exec_command"
    command: list[str]
    display_command: str
    cwd: str
    yield_time_ms: U64 | None = None
    max_output_tokens: USIZE | None = None


class WriteStdinRequest(TraceModel):
    type: Literal["write_stdin"] = "write_stdin"
    #: Empty string means poll without writing bytes.
    stdin: str
    yield_time_ms: U64 | None = None
    max_output_tokens: USIZE | None = None


TerminalRequest = Annotated[ExecCommandRequest | WriteStdinRequest, Field(discriminator="type")]


class TerminalResult(TraceModel):
    exit_code: I32 | None = None
    stdout: str
    stderr: str
    formatted_output: str | None = None
    original_token_count: USIZE | None = None
    chunk_id: str | None = None


class TerminalObservationSource(SnakeEnum):
    DIRECT_TOOL_CALL = "direct_tool_call"
    CODE_CELL_OUTPUT = "code_cell_output"


class TerminalModelObservation(TraceModel):
    call_item_ids: list[str] = Field(default_factory=list)
    output_item_ids: list[str] = Field(default_factory=list)
    source: TerminalObservationSource


class TerminalOperation(TraceModel):
    operation_id: str
    terminal_id: str | None = None
    tool_call_id: str
    kind: TerminalOperationKind
    execution: ExecutionWindow
    request: TerminalRequest
    result: TerminalResult | None = None
    model_observations: list[TerminalModelObservation] = Field(default_factory=list)
    raw_payload_ids: list[str] = Field(default_factory=list)


class InteractionEdgeKind(SnakeEnum):
    SPAWN_AGENT = "spawn_agent"
    ASSIGN_AGENT_TASK = "assign_agent_task"
    SEND_MESSAGE = "send_message"
    AGENT_RESULT = "agent_result"
    CLOSE_AGENT = "close_agent"


class ConversationItemAnchor(TraceModel):
    type: Literal["conversation_item"] = "conversation_item"
    item_id: str


class ToolCallAnchor(TraceModel):
    type: Literal["tool_call"] = "tool_call"
    tool_call_id: str


class ThreadAnchor(TraceModel):
    type: Literal["thread"] = "thread"
    thread_id: str


TraceAnchor = Annotated[
    ConversationItemAnchor | ToolCallAnchor | ThreadAnchor, Field(discriminator="type")
]


class InteractionEdge(TraceModel):
    edge_id: str
    kind: InteractionEdgeKind
    source: TraceAnchor
    target: TraceAnchor
    started_at_unix_ms: int
    ended_at_unix_ms: int | None = None
    carried_item_ids: list[str] = Field(default_factory=list)
    carried_raw_payload_ids: list[str] = Field(default_factory=list)
