"""Model-visible conversation items and inference calls."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tracegraph.model._base import SnakeEnum, TraceModel
from tracegraph.model.session import ExecutionWindow

__all__ = [
    "AgentMessageMetadata",
    "CodeCellProducer",
    "CodePart",
    "CompactionProducer",
    "ConversationBody",
    "ConversationChannel",
    "ConversationItem",
    "ConversationItemKind",
    "ConversationPart",
    "ConversationRole",
    "EncodedPart",
    "HarnessProducer",
    "InferenceCall",
    "InferenceProducer",
    "InteractionEdgeProducer",
    "JsonPart",
    "PayloadRefPart",
    "ProducerRef",
    "SummaryPart",
    "TextPart",
    "TokenUsage",
    "ToolProducer",
    "UserInputProducer",
]



class ConversationRole(SnakeEnum):
    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ConversationChannel(SnakeEnum):
    ANALYSIS = "analysis"
    COMMENTARY = "commentary"
    FINAL = "final"
    SUMMARY = "summary"


class ConversationItemKind(SnakeEnum):
    MESSAGE = "message"
    REASONING = "reasoning"
    FUNCTION_CALL = "function_call"
    FUNCTION_CALL_OUTPUT = "function_call_output"
    CUSTOM_TOOL_CALL = "custom_tool_call"
    CUSTOM_TOOL_CALL_OUTPUT = "custom_tool_call_output"
    COMPACTION_MARKER = "compaction_marker"
    #: A model item of a type the reducer does not know, kept under ``--lenient``.
    OPAQUE = "opaque"


class TextPart(TraceModel):
    type: Literal["text"] = "text"
    text: str


class SummaryPart(TraceModel):
    type: Literal["summary"] = "summary"
    text: str


class EncodedPart(TraceModel):
    """Opaque content (e.g. reasoning ``encrypted_content``); part of item identity."""

    type: Literal["encoded"] = "encoded"
    label: str
    value: str


class JsonPart(TraceModel):
    type: Literal["json"] = "json"
    summary: str
    raw_payload_id: str


class CodePart(TraceModel):
    type: Literal["code"] = "code"
    language: str
    source: str


class PayloadRefPart(TraceModel):
    type: Literal["payload_ref"] = "payload_ref"
    label: str
    raw_payload_id: str


ConversationPart = Annotated[
    TextPart | SummaryPart | EncodedPart | JsonPart | CodePart | PayloadRefPart,
    Field(discriminator="type"),
]


class ConversationBody(TraceModel):
    parts: list[ConversationPart] = Field(default_factory=list)


class UserInputProducer(TraceModel):
    type: Literal["user_input"] = "user_input"


class InferenceProducer(TraceModel):
    type: Literal["inference"] = "inference"
    inference_call_id: str


class ToolProducer(TraceModel):
    type: Literal["tool"] = "tool"
    tool_call_id: str


class CodeCellProducer(TraceModel):
    type: Literal["code_cell"] = "code_cell"
    code_cell_id: str


class InteractionEdgeProducer(TraceModel):
    type: Literal["interaction_edge"] = "interaction_edge"
    edge_id: str


class CompactionProducer(TraceModel):
    type: Literal["compaction"] = "compaction"
    compaction_id: str


class HarnessProducer(TraceModel):
    type: Literal["harness"] = "harness"


ProducerRef = Annotated[
    UserInputProducer
    | InferenceProducer
    | ToolProducer
    | CodeCellProducer
    | InteractionEdgeProducer
    | CompactionProducer
    | HarnessProducer,
    Field(discriminator="type"),
]


class AgentMessageMetadata(TraceModel):
    """Author and recipient of a typed ``agent_message`` item (upstream dialect)."""

    author: str
    recipient: str


class ConversationItem(TraceModel):
    item_id: str
    thread_id: str
    codex_turn_id: str | None = None
    first_seen_at_unix_ms: int
    role: ConversationRole
    channel: ConversationChannel | None = None
    kind: ConversationItemKind
    #: Upstream dialect only; omitted from state.json when absent.
    agent_message: AgentMessageMetadata | None = None
    body: ConversationBody
    call_id: str | None = None
    produced_by: list[ProducerRef] = Field(default_factory=list)


class TokenUsage(TraceModel):
    input_tokens: int
    cached_input_tokens: int
    #: Upstream dialect only (code-akram/ycode fork, upstream-delta-2.md row 8):
    #: read with default 0 and always written; the seed has no such field.
    cache_write_input_tokens: int | None = None
    output_tokens: int
    reasoning_output_tokens: int


class InferenceCall(TraceModel):
    inference_call_id: str
    thread_id: str
    codex_turn_id: str
    execution: ExecutionWindow
    model: str
    provider_name: str
    #: Upstream dialect only: the Responses ``response.id`` that
    #: ``previous_response_id`` refers to. (The seed keeps it in
    #: ``upstream_request_id``, which upstream uses for the transport id.)
    response_id: str | None = None
    upstream_request_id: str | None = None
    request_item_ids: list[str] = Field(default_factory=list)
    response_item_ids: list[str] = Field(default_factory=list)
    tool_call_ids_started_by_response: list[str] = Field(default_factory=list)
    usage: TokenUsage | None = None
    raw_request_payload_id: str
    raw_response_payload_id: str | None = None
