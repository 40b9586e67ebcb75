"""Newer-format evidence inside payload files, for ``--dialect auto``.

Current Codex (after upstream-delta-2.md) changed payload shapes, not the event
inventory, so a bundle may carry no event-level evidence at all. Reading every
payload again would cost as much as the replay's own reads, so the scan looks
only where each shape can be and stops where it would already have shown:

- ``additional_tools`` opens every "lite" request and ``cache_write_input_tokens``
  comes with every usage report of such a provider: the first few requests and
  usage-carrying responses are enough;
- a two-part ``agent_message`` is a delivery to a child: any request of a
  thread other than the root is checked;
- ``operation``/``outcome`` are fields of a ``SubAgentActivity``: the runtime
  end of any agent tool is checked.

A check reads the payload bytes and parses them only when its field name is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracegraph.bundle import serde_json

__all__ = ["PayloadEvidence"]

#: Root-thread requests and usage-carrying responses looked at before giving up.
FIRST_LOOKS = 8

_AGENT_TOOL_KINDS = frozenset({"spawn_agent", "send_message", "assign_agent_task",
                               "wait_agent", "close_agent"})

#: A ``tool_call_started`` line without these cannot name an agent (or ``other``) kind.
_AGENT_TOOL_HINTS = (*(kind.encode() for kind in _AGENT_TOOL_KINDS), b'"other"')

ReadBytes = Callable[[dict[str, Any]], bytes | None]


def _parse(data: bytes | None, *markers: bytes) -> Any:
    if data is None or not any(marker in data for marker in markers):
        return None
    try:
        return serde_json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, serde_json.JsonError):
        return None


def _request_evidence(value: Any) -> str | None:
    items = value.get("input") if isinstance(value, dict) else None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        if item.get("type") == "additional_tools":
            return "an additional_tools request item"
        content = item.get("content")
        if (item.get("type") == "agent_message" and isinstance(content, list)
                and [part.get("type") if isinstance(part, dict) else None for part in content]
                == ["input_text", "encrypted_content"]):
            return "a two-part agent_message"
    return None


class PayloadEvidence:
    """Looks for newer-format payload shapes, one event at a time, in log order."""

    #: A line :meth:`wants` holds one of these.
    MARKERS = (b"\\u", b"tool_call_started", b"inference_started", b"inference_completed",
               b"tool_call_runtime_ended")

    def __init__(self, root_thread_id: str, read_bytes: ReadBytes) -> None:
        self._root = root_thread_id
        # serde writes ids unescaped, so a line without these bytes is not the root's.
        self._root_bytes = f'"{root_thread_id}"'.encode()
        self._read = read_bytes
        self._root_requests = 0
        self._usages = 0
        self._agent_tools: set[str] = set()

    def wants(self, raw: bytes) -> bool:
        """Whether :meth:`check` could find anything in this raw event line (cheap)."""
        if b"\\u" in raw:
            return True  # escaped names: only the parsed line can tell
        if b"tool_call_started" in raw:
            return any(hint in raw for hint in _AGENT_TOOL_HINTS)
        if b"inference_started" in raw:
            return self._root_requests < FIRST_LOOKS or self._root_bytes not in raw
        if b"inference_completed" in raw:
            return self._usages < FIRST_LOOKS
        return b"tool_call_runtime_ended" in raw and bool(self._agent_tools)

    def still_wants(self, marker: bytes) -> bool:
        """Whether a line holding ``marker`` may yet be wanted for it (it never comes
        back once ``False``; other markers in the line may still make it wanted)."""
        return marker != b"inference_completed" or self._usages < FIRST_LOOKS

    def check(self, event: dict[str, Any]) -> str | None:
        """What in this event's payload shows the newer format, if anything."""
        event_type = event.get("type")
        if event_type == "tool_call_started":
            kind = event.get("kind")
            # A damaged line may hold anything here (a list is no set member).
            kind_type = kind.get("type") if isinstance(kind, dict) else None
            if isinstance(kind_type, str) and kind_type in _AGENT_TOOL_KINDS:
                self._agent_tools.add(str(event.get("tool_call_id")))
            elif kind_type == "other":
                # Newer dispatch names namespaced agent tools `other`; check them too.
                self._agent_tools.add(str(event.get("tool_call_id")))
            return None
        if event_type == "inference_started":
            child = event.get("thread_id") != self._root
            if not child:
                if self._root_requests >= FIRST_LOOKS:
                    return None
                self._root_requests += 1
            value = _parse(self._payload(event, "request_payload"),
                           b'"additional_tools"', b'"agent_message"')
            return _request_evidence(value) if value is not None else None
        if event_type == "inference_completed":
            if self._usages >= FIRST_LOOKS:
                return None
            data = self._payload(event, "response_payload")
            value = _parse(data, b'"token_usage"')
            usage = value.get("token_usage") if isinstance(value, dict) else None
            if not isinstance(usage, dict):
                return None
            self._usages += 1
            return ("token_usage.cache_write_input_tokens"
                    if "cache_write_input_tokens" in usage else None)
        if event_type == "tool_call_runtime_ended":
            tool_call_id = event.get("tool_call_id")
            if not isinstance(tool_call_id, str) or tool_call_id not in self._agent_tools:
                return None
            value = _parse(self._payload(event, "runtime_payload"), b'"operation"', b'"outcome"')
            if not isinstance(value, dict) or "agent_thread_id" not in value:
                return None
            for name in ("operation", "outcome"):
                if name in value:
                    return f"SubAgentActivity.{name}"
        return None

    def _payload(self, event: dict[str, Any], field: str) -> bytes | None:
        ref = event.get(field)
        return self._read(ref) if isinstance(ref, dict) else None
