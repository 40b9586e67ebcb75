"""References to raw payload files stored beside the event log."""

from __future__ import annotations

from pydantic import ConfigDict

from tracegraph.model._base import SnakeEnum, TraceModel

RawPayloadId = str


class RawPayloadKindName(SnakeEnum):
    INFERENCE_REQUEST = "inference_request"
    INFERENCE_RESPONSE = "inference_response"
    COMPACTION_REQUEST = "compaction_request"
    COMPACTION_CHECKPOINT = "compaction_checkpoint"
    COMPACTION_RESPONSE = "compaction_response"
    TOOL_INVOCATION = "tool_invocation"
    TOOL_RESULT = "tool_result"
    TOOL_RUNTIME_EVENT = "tool_runtime_event"
    TERMINAL_RUNTIME_EVENT = "terminal_runtime_event"
    PROTOCOL_EVENT = "protocol_event"
    SESSION_METADATA = "session_metadata"
    AGENT_RESULT = "agent_result"


class RawPayloadKind(TraceModel):
    """Coarse role of a raw payload.

    Adjacently tagged in serde (``tag = "type", content = "value"``); every
    variant is a unit variant, so it serializes as ``{"type": "..."}``.
    """

    # Any other key sends an event line to the exact path, which reads serde's forms
    # (``"value": null``, a variant index; see ``bundle/seq_form.py``) into this one.
    model_config = ConfigDict(extra="forbid")

    type: RawPayloadKindName


class RawPayloadRef(TraceModel):
    raw_payload_id: RawPayloadId
    kind: RawPayloadKind
    #: Path relative to the bundle root.
    path: str


def payload_kind(name: str | RawPayloadKindName) -> RawPayloadKind:
    return RawPayloadKind(type=RawPayloadKindName(name))


__all__ = [
    "RawPayloadId",
    "RawPayloadKind",
    "RawPayloadKindName",
    "RawPayloadRef",
    "payload_kind",
]
