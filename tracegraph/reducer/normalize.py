"""Normalization of Responses-shaped JSON items into conversation item data.

Ids and provenance are assigned later, by reconciliation; this module only says
what one model-facing item is. Bodies are kept as tuples of parts here (cheap
to compare and hash); see :mod:`tracegraph.reducer.parts`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from tracegraph.bundle import serde_json
from tracegraph.errors import TraceError, safe_name
from tracegraph.model.conversation import TokenUsage
from tracegraph.reducer.parts import Part

__all__ = [
    "MAX_JSON_SUMMARY_LEN",
    "MISSING",
    "NormalizedItem",
    "get",
    "get_str",
    "normalize_model_item",
    "normalize_model_items",
    "summarize_json",
    "token_usage_from_value",
]


#: What `get` returns for an absent key, as opposed to a JSON null.
MISSING: Any = object()
MAX_JSON_SUMMARY_LEN = 240


@dataclass(slots=True)
class NormalizedItem:
    role: str
    channel: str | None
    kind: str
    parts: tuple[Part, ...]
    call_id: str | None
    #: ``(author, recipient)`` of a typed ``agent_message`` (upstream dialect).
    agent_message: tuple[str, str] | None = None


def get(value: Any, key: str) -> Any:
    """``Value::get``: the field of an object, else missing."""
    if type(value) is dict:
        return value.get(key, MISSING)
    return MISSING


def get_str(value: Any, key: str) -> str | None:
    # Called for every field of every model item: one lookup, no nested call.
    if type(value) is not dict:
        return None
    found = value.get(key)
    return found if type(found) is str else None


#: Codex-internal metadata that rides along on replayed items; not model-visible.
_PASSTHROUGH = "internal_chat_message_metadata_passthrough"

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def normalize_model_items(
    items: list[Any],
    raw_payload_id: str,
    *,
    upstream: bool = False,
    opaque: list[str] | None = None,
) -> list[NormalizedItem]:
    """Normalize request/response items in order.

    ``opaque`` (lenient mode) receives the type of every unknown item, which is
    then kept as an opaque item in its position instead of failing the replay.
    """
    normalized = []
    for item in items:
        if upstream and isinstance(item, dict):
            # From one fork only (code-akram/ycode @df172957, upstream-delta-2.md
            # rows 6 and 7): tool specs sent as an input item are not
            # conversation, and passthrough metadata is not part of an item.
            if item.get("type") == "additional_tools":
                continue
            if _PASSTHROUGH in item:
                item = {key: value for key, value in item.items() if key != _PASSTHROUGH}
        normalized.append(normalize_model_item(item, raw_payload_id, upstream=upstream,
                                               opaque=opaque))
    return normalized


_USAGE_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
_I64_MAX = 2**63 - 1


def token_usage_from_value(value: Any, *, upstream: bool = False) -> TokenUsage | None:
    if type(value) is not dict:
        return None
    numbers: dict[str, Any] = {}
    for name in _USAGE_FIELDS:
        found = value.get(name)
        # `as_i64`: only integers that fit i64; negatives clamp to zero.
        if type(found) is not int or found > _I64_MAX:
            return None
        numbers[name] = found if found > 0 else 0
    if upstream:
        # One fork only (code-akram/ycode, row 8): a u64 read with default 0.
        found = value.get("cache_write_input_tokens")
        valid = type(found) is int and 0 <= found < 2**64
        numbers["cache_write_input_tokens"] = found if valid else 0
    return TokenUsage(**numbers)


def _opaque_item(item: Any, item_type: str, raw_payload_id: str) -> NormalizedItem:
    """An item of an unknown type: its raw type and payload, in its position."""
    role = get_str(item, "role")
    return NormalizedItem(
        role if role in _ROLES else "assistant", None, "opaque",
        (("payload_ref", item_type, raw_payload_id),), get_str(item, "call_id"),
    )


def normalize_model_item(
    item: Any, raw_payload_id: str, *, upstream: bool = False, opaque: list[str] | None = None
) -> NormalizedItem:
    # `get_str` inlined: this runs for every item of every payload.
    item_type = item.get("type") if type(item) is dict else None
    if type(item_type) is not str:
        raise TraceError(f"model item in payload {raw_payload_id} did not contain a string type")
    call_id = item.get("call_id")
    if type(call_id) is not str:
        call_id = None
    if upstream:
        if item_type == "agent_message":
            return _normalize_agent_message(item, raw_payload_id)
        if item_type == "context_compaction":
            item_type = "compaction"
    match item_type:
        case "message":
            return _normalize_message(item, raw_payload_id)
        case "reasoning":
            return _normalize_reasoning(item, raw_payload_id)
        case "function_call":
            body = _raw_text_or_json_body(item.get("arguments", MISSING), raw_payload_id)
            return NormalizedItem("assistant", "commentary", "function_call", body, call_id)
        case "function_call_output":
            body = _tool_output_body(item.get("output", MISSING), raw_payload_id)
            return NormalizedItem("tool", "commentary", "function_call_output", body, call_id)
        case "custom_tool_call":
            body = _custom_tool_call_body(item, raw_payload_id)
            return NormalizedItem("assistant", "commentary", "custom_tool_call", body, call_id)
        case "custom_tool_call_output":
            body = _tool_output_body(item.get("output", MISSING), raw_payload_id)
            return NormalizedItem("tool", "commentary", "custom_tool_call_output", body, call_id)
        case "tool_search_call" | "web_search_call" | "image_generation_call" | "local_shell_call":
            body = _json_body(item, raw_payload_id)
            return NormalizedItem("assistant", "commentary", "function_call", body, call_id)
        case "tool_search_output" | "mcp_tool_call_output":
            body = _json_body(item, raw_payload_id)
            return NormalizedItem("tool", "commentary", "function_call_output", body, call_id)
        case "compaction" | "compaction_summary":
            encrypted = get_str(item, "encrypted_content")
            if encrypted is None:
                raise TraceError(
                    f"compaction item in payload {raw_payload_id} did not contain string "
                    "encrypted_content"
                )
            # The encoded summary itself is the identity: payload refs are
            # observation-local and would differ on every replay of the item.
            parts: tuple[Part, ...] = (("encoded", "encrypted_content", encrypted),)
            return NormalizedItem("assistant", "summary", "message", parts, None)
        case _:
            if opaque is not None:
                opaque.append(item_type)
                return _opaque_item(item, item_type, raw_payload_id)
            raise TraceError(
                f"unsupported model item type {safe_name(item_type)} in payload {raw_payload_id} "
                "(--lenient keeps unknown items as opaque conversation items)"
            )


def _normalize_agent_message(item: Any, raw_payload_id: str) -> NormalizedItem:
    """Upstream typed mailbox delivery: assistant/analysis message with metadata."""
    author = get_str(item, "author")
    if author is None:
        raise TraceError(
            f"agent_message item in payload {raw_payload_id} did not contain a string author"
        )
    recipient = get_str(item, "recipient")
    if recipient is None:
        raise TraceError(
            f"agent_message item in payload {raw_payload_id} did not contain a string recipient"
        )
    content = get(item, "content")
    if not isinstance(content, list):
        raise TraceError(f"agent_message item in payload {raw_payload_id} had non-array content")
    parts: list[Part] = []
    for entry in content:
        entry_type = get_str(entry, "type")
        if entry_type is None:
            raise TraceError(
                f"agent_message item in payload {raw_payload_id} had content entry without "
                "string type"
            )
        if entry_type == "input_text":
            text = get_str(entry, "text")
            if text is None:
                raise TraceError(
                    f"agent_message item in payload {raw_payload_id} had input_text entry "
                    "without string text"
                )
            parts.append(("text", text))
        elif entry_type == "encrypted_content":
            value = get_str(entry, "encrypted_content")
            if value is None:
                raise TraceError(
                    f"agent_message item in payload {raw_payload_id} had encrypted_content "
                    "entry without string encrypted_content"
                )
            parts.append(("encoded", "encrypted_content", value))
        else:
            raise TraceError(
                f"agent_message item in payload {raw_payload_id} had unsupported content type "
                f"{safe_name(entry_type)}"
            )
    if not parts:
        raise TraceError(f"agent_message item in payload {raw_payload_id} contained no content")
    return NormalizedItem(
        "assistant", "analysis", "message", tuple(parts), None, (author, recipient)
    )


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_PHASE_CHANNELS = {"commentary": "commentary", "final_answer": "final", "summary": "summary"}


def _normalize_message(item: dict[str, Any], raw_payload_id: str) -> NormalizedItem:
    role = item.get("role")
    if type(role) is not str:
        raise TraceError(f"message item in payload {raw_payload_id} did not contain a string role")
    if role not in _ROLES:
        raise TraceError(f"unsupported message role {safe_name(role)} in payload {raw_payload_id}")
    phase = item.get("phase")
    channel = _PHASE_CHANNELS.get(phase) if type(phase) is str else None
    parts = _content_parts(item.get("content", MISSING), raw_payload_id)
    return NormalizedItem(role, channel, "message", parts, None)


def _normalize_reasoning(item: dict[str, Any], raw_payload_id: str) -> NormalizedItem:
    parts: list[Part] = []
    _append_reasoning_parts(item, "content", raw_payload_id, parts)
    _append_reasoning_parts(item, "summary", raw_payload_id, parts)
    encrypted = item.get("encrypted_content")
    if encrypted is not None:
        if not isinstance(encrypted, str):
            raise TraceError(
                f"reasoning item in payload {raw_payload_id} had non-string encrypted_content"
            )
        parts.append(("encoded", "encrypted_content", encrypted))
    if not parts:
        raise TraceError(
            f"reasoning item in payload {raw_payload_id} contained no content, summary, "
            "or encrypted_content"
        )
    return NormalizedItem("assistant", "analysis", "reasoning", tuple(parts), None)


def _append_reasoning_parts(
    item: dict[str, Any], key: str, raw_payload_id: str, parts: list[Part]
) -> None:
    entries = item.get(key, MISSING)
    if entries is MISSING:
        return
    # `content: null` is how Responses omits raw reasoning; `summary: null` is not valid.
    if key == "content" and entries is None:
        return
    if not isinstance(entries, list):
        raise TraceError(f"reasoning item in payload {raw_payload_id} had non-array {key}")
    for entry in entries:
        # `get_str` inlined (every entry of every reasoning item).
        entry_type = entry.get("type") if type(entry) is dict else None
        if type(entry_type) is not str:
            raise TraceError(
                f"reasoning item in payload {raw_payload_id} had {key} entry without string type"
            )
        if key == "content":
            if entry_type not in ("reasoning_text", "text"):
                raise TraceError(
                    f"reasoning item in payload {raw_payload_id} had unsupported content type "
                    f"{safe_name(entry_type)}"
                )
        elif entry_type != "summary_text":
            raise TraceError(
                f"reasoning item in payload {raw_payload_id} had unsupported summary type "
                f"{safe_name(entry_type)}"
            )
        text = entry.get("text")
        if type(text) is not str:
            raise TraceError(
                f"reasoning item in payload {raw_payload_id} had {key} entry without string text"
            )
        parts.append(("text", text) if key == "content" else ("summary", text))


def _content_parts(content: Any, raw_payload_id: str) -> tuple[Part, ...]:
    if not isinstance(content, list):
        return (("payload_ref", "content", raw_payload_id),)
    parts: list[Part] = []
    for part in content:
        # `get_str` inlined (every content entry of every message).
        part_type = part.get("type") if type(part) is dict else None
        if type(part_type) is not str:
            part_type = None
        if part_type in ("input_text", "output_text", "text"):
            text = part.get("text")
            if type(text) is str:
                parts.append(("text", text))
        elif part_type is None:
            parts.append(("payload_ref", "content", raw_payload_id))
        else:
            # `input_image` and any other typed part are kept by reference.
            parts.append(("payload_ref", part_type, raw_payload_id))
    if not parts:
        parts.append(("payload_ref", "empty_content", raw_payload_id))
    return tuple(parts)


def _custom_tool_call_body(item: Any, raw_payload_id: str) -> tuple[Part, ...]:
    source = get_str(item, "input")
    if source is None:
        return _json_body(item, raw_payload_id)
    if get_str(item, "name") == "exec":
        return (("code", "javascript", source),)
    return (("text", source),)


def _raw_text_or_json_body(value: Any, raw_payload_id: str) -> tuple[Part, ...]:
    if value is MISSING:
        return (("payload_ref", "payload", raw_payload_id),)
    if isinstance(value, str):
        summary = _json_text_summary(value)
        if summary is None:
            return (("text", value),)
        return (("json", summary, raw_payload_id),)
    return _json_body(value, raw_payload_id)


@functools.lru_cache(maxsize=1024)
def _json_text_summary(text: str) -> str | None:
    """The JSON summary of ``text`` parsed, or ``None`` when it is not JSON.

    A pure function of the text, memoized: the same call arguments come back in
    every later full request and compaction input (parsing and re-encoding them
    was a tenth of request reduction). Errors are not cached, so they recur.
    """
    try:
        parsed = serde_json.loads(text)
    except serde_json.JsonError:
        return None
    return summarize_json(parsed)


def _tool_output_body(output: Any, raw_payload_id: str) -> tuple[Part, ...]:
    if output is MISSING:
        return (("payload_ref", "tool_output", raw_payload_id),)
    if isinstance(output, str):
        return (("text", output),)
    if isinstance(output, list):
        return _content_parts(output, raw_payload_id)
    return _json_body(output, raw_payload_id)


def _json_body(value: Any, raw_payload_id: str) -> tuple[Part, ...]:
    return (("json", summarize_json(value), raw_payload_id),)


def summarize_json(value: Any) -> str:
    summary = serde_json.dumps_compact(value)
    encoded = summary.encode("utf-8")
    if len(encoded) <= MAX_JSON_SUMMARY_LEN:
        return summary
    head = encoded[:MAX_JSON_SUMMARY_LEN]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        # `String::truncate` panics off a char boundary; the reference reducer
        # aborts on such a payload, so replay must fail here too.
        raise TraceError(
            f"JSON summary cannot be cut at byte {MAX_JSON_SUMMARY_LEN}: it splits a UTF-8 "
            "character (the reference reducer panics on this payload)"
        ) from err
    return text + "..."
