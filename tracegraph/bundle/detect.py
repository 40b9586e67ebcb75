"""Newer-format evidence inside payload files, for ``--dialect auto``.

Current Codex (after upstream-delta-2.md) changed payload shapes, not the event
inventory, so a bundle may carry no event-level evidence at all. Each check
first looks for its field name in the payload bytes and parses the file only
on a hit, so a seed bundle costs one substring scan per payload read here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tracegraph.bundle import serde_json

__all__ = ["EVIDENCE_EVENT_HINT", "payload_evidence"]

#: Payload reference field of each event type that may carry evidence.
_PAYLOAD_FIELDS = {
    "inference_started": "request_payload",
    "inference_completed": "response_payload",
    "tool_call_runtime_ended": "runtime_payload",
}


def _request_evidence(value: Any) -> str | None:
    items = value.get("input") if isinstance(value, dict) else None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        if item.get("type") == "additional_tools":
            return "an additional_tools request item"
        content = item.get("content")
        if (item.get("type") == "agent_message" and isinstance(content, list)
                and len(content) == 2
                and [part.get("type") if isinstance(part, dict) else None for part in content]
                == ["input_text", "encrypted_content"]):
            return "a two-part agent_message"
    return None


def _response_evidence(value: Any) -> str | None:
    usage = value.get("token_usage") if isinstance(value, dict) else None
    if isinstance(usage, dict) and "cache_write_input_tokens" in usage:
        return "token_usage.cache_write_input_tokens"
    return None


def _runtime_evidence(value: Any) -> str | None:
    if not isinstance(value, dict) or "agent_thread_id" not in value:
        return None
    for name in ("operation", "outcome"):
        if name in value:
            return f"SubAgentActivity.{name}"
    return None


#: (byte markers, check) per event type; a check runs only when a marker is present.
_CHECKS: dict[str, tuple[tuple[bytes, ...], Callable[[Any], str | None]]] = {
    "inference_started": ((b'"additional_tools"', b'"agent_message"'), _request_evidence),
    "inference_completed": ((b'"cache_write_input_tokens"',), _response_evidence),
    "tool_call_runtime_ended": ((b'"operation"', b'"outcome"'), _runtime_evidence),
}


#: Matches every event line that :func:`payload_evidence` may need to see (and more).
EVIDENCE_EVENT_HINT = re.compile(
    b"|".join(re.escape(name.encode()) for name in _PAYLOAD_FIELDS) + rb"|\\u"
)


def payload_evidence(event: dict[str, Any],
                     read_bytes: Callable[[dict[str, Any]], bytes | None]) -> str | None:
    """What in this event's payload file shows the newer format, if anything.

    ``read_bytes`` reads the file a payload reference names, or returns
    ``None`` when it cannot (replay reports that error, not detection).
    """
    event_type = event.get("type")
    if not isinstance(event_type, str) or event_type not in _CHECKS:
        return None
    ref = event.get(_PAYLOAD_FIELDS[event_type])
    if not isinstance(ref, dict):
        return None
    markers, check = _CHECKS[event_type]
    data = read_bytes(ref)
    if data is None or not any(marker in data for marker in markers):
        return None
    try:
        value = serde_json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, serde_json.JsonError):
        return None
    return check(value)
