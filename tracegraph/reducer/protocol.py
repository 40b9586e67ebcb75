"""``codex_protocol`` types the reducer parses, with their April 2026 rules.

See ``codex-protocol-types.md`` in the reference: a ``ThreadId`` must be a UUID
(normalized to lowercase hyphenated form), an ``AgentPath`` is validated, and
``AgentStatus``/``ReasoningEffort`` are closed enums.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracegraph.bundle import serde_json
from tracegraph.reducer.serde_shapes import (
    ShapeError,
    boolean,
    describe,
    field,
    read_struct,
    seq_of,
    string,
    unit_enum,
)

__all__ = [
    "InterAgentCommunication",
    "agent_path",
    "agent_status",
    "parse_inter_agent_communication",
    "read_collab_close_begin",
    "read_collab_close_end",
    "read_collab_interaction_begin",
    "read_collab_interaction_end",
    "read_collab_spawn_end",
    "reasoning_effort",
    "thread_id",
]


_HEX = re.compile(r"[0-9a-fA-F]+")


def thread_id(value: Any) -> str:
    """Deserialize a ``ThreadId`` and return its canonical ``to_string()``."""
    text = string(value)
    digits: str | None
    if len(text) == 32:
        digits = text
    elif len(text) == 36:
        digits = _hyphenated_digits(text)
    elif len(text) == 38 and text.startswith("{") and text.endswith("}"):
        digits = _hyphenated_digits(text[1:-1])
    elif len(text) == 45 and text.startswith("urn:uuid:"):
        digits = _hyphenated_digits(text[9:])
    else:
        raise ShapeError(_uuid_error(text))
    if digits is None or not _HEX.fullmatch(digits):
        raise ShapeError(_uuid_error(text))
    digits = digits.lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


#: Where the uuid crate expects each group of a hyphenated UUID to start.
_GROUP_STARTS = (0, 9, 14, 19, 24)


def _uuid_error(text: str) -> str:
    """Why ``text`` is no UUID, in the words of the uuid crate's ``parse_str`` error
    (which looks again at the whole input to say so). Only a single character of the
    input is shown, never the input itself."""
    data = text.encode("utf-8")
    body, offset, simple = data, 0, True
    if len(data) >= 2 and data[:1] == b"{" and data[-1:] == b"}":
        body, offset, simple = data[1:-1], 1, False
    elif data.startswith(b"urn:uuid:"):
        body, offset, simple = data[9:], 9, False
    hyphens: list[int] = []
    index = 0
    for character in body.decode("utf-8"):
        if character == "-":
            hyphens.append(index)
        elif not (character.isascii() and character in "0123456789abcdefABCDEF"):
            shown = character if character.isprintable() else f"U+{ord(character):04X}"
            return ("invalid character: expected an optional prefix of `urn:uuid:` followed "
                    f"by [0-9a-zA-Z], found `{shown}` at {index + offset + 1}")
        index += len(character.encode("utf-8"))
    if not hyphens and simple:
        return f"invalid length: expected length 32 for simple format, found {len(data)}"
    if len(hyphens) != 4:
        return f"invalid group count: expected 5, found {len(hyphens) + 1}"
    for group, bound in enumerate(hyphens):
        if bound != _GROUP_STARTS[group + 1] - 1:
            return (f"invalid group length in group {group}: expected "
                    f"{(8, 4, 4, 4, 12)[group]}, found {bound - _GROUP_STARTS[group]}")
    return f"invalid group length in group 4: expected 12, found {len(data) - _GROUP_STARTS[4]}"


def _hyphenated_digits(text: str) -> str | None:
    if len(text) != 36 or any(text[i] != "-" for i in (8, 13, 18, 23)):
        return None
    return text.replace("-", "", 4) if text.count("-") == 4 else None


_AGENT_NAME = re.compile(r"[a-z0-9_]+")


def agent_path(value: Any) -> str:
    """Deserialize an ``AgentPath`` (validated, stored as given)."""
    text = string(value)
    if text == "/morpheus":
        return text
    if not (text == "/root" or text.startswith("/root/")):
        raise ShapeError("absolute agent paths must start with `/root` or be `/morpheus`")
    if text.endswith("/"):
        raise ShapeError("absolute agent path must not end with `/`")
    for name in text.split("/")[2:]:
        if not name:
            raise ShapeError("agent_name must not be empty")
        if name in ("root", ".", ".."):
            raise ShapeError(f"agent_name `{name}` is reserved")
        if not _AGENT_NAME.fullmatch(name):
            raise ShapeError("agent_name must use only lowercase letters, digits, and underscores")
    return text


#: In declaration order, as serde lists them; ``completed`` and ``errored`` carry data.
_AGENT_STATUS_VARIANTS = ("pending_init", "running", "interrupted", "completed", "errored",
                          "shutdown", "not_found")


def agent_status(value: Any) -> Any:
    """Deserialize an ``AgentStatus`` (externally tagged enum)."""
    if isinstance(value, dict) and len(value) == 1:
        (key, content), = value.items()
        if key == "completed":
            if content is None or isinstance(content, str):
                return value
            raise ShapeError(f"invalid type: {describe(content)}, expected a string")
        if key == "errored":
            return {"errored": string(content)}
    return unit_enum("AgentStatus", _AGENT_STATUS_VARIANTS, ("completed", "errored"))(value)


reasoning_effort = unit_enum(
    "ReasoningEffort", ("none", "minimal", "low", "medium", "high", "xhigh")
)


def read_collab_spawn_end(value: Any) -> dict[str, Any]:
    return read_struct(value, "CollabAgentSpawnEndEvent", [
        field("call_id", string),
        field("sender_thread_id", thread_id),
        field("new_thread_id", thread_id, optional=True),
        field("new_agent_nickname", string, optional=True),
        field("new_agent_role", string, optional=True),
        field("prompt", string),
        field("model", string),
        field("reasoning_effort", reasoning_effort),
        field("status", agent_status),
    ])


def read_collab_interaction_begin(value: Any) -> dict[str, Any]:
    return read_struct(value, "CollabAgentInteractionBeginEvent", [
        field("call_id", string),
        field("sender_thread_id", thread_id),
        field("receiver_thread_id", thread_id),
        field("prompt", string),
    ])


def read_collab_interaction_end(value: Any) -> dict[str, Any]:
    return read_struct(value, "CollabAgentInteractionEndEvent", [
        field("call_id", string),
        field("sender_thread_id", thread_id),
        field("receiver_thread_id", thread_id),
        field("receiver_agent_nickname", string, optional=True),
        field("receiver_agent_role", string, optional=True),
        field("prompt", string),
        field("status", agent_status),
    ])


def read_collab_close_begin(value: Any) -> dict[str, Any]:
    return read_struct(value, "CollabCloseBeginEvent", [
        field("call_id", string),
        field("sender_thread_id", thread_id),
        field("receiver_thread_id", thread_id),
    ])


def read_collab_close_end(value: Any) -> dict[str, Any]:
    return read_struct(value, "CollabCloseEndEvent", [
        field("call_id", string),
        field("sender_thread_id", thread_id),
        field("receiver_thread_id", thread_id),
        field("receiver_agent_nickname", string, optional=True),
        field("receiver_agent_role", string, optional=True),
        field("status", agent_status),
    ])


@dataclass(frozen=True, slots=True)
class InterAgentCommunication:
    author: str
    recipient: str
    other_recipients: list[str]
    content: str
    trigger_turn: bool
    #: Upstream only (2026-06): the sealed form of ``content``.
    encrypted_content: str | None = None


def parse_inter_agent_communication(
    text: str, *, upstream: bool = False
) -> InterAgentCommunication | None:
    """``serde_json::from_str::<InterAgentCommunication>(text).ok()``."""
    if "{" not in text and "[" not in text:
        return None
    try:
        # from_str on a struct rejects duplicate fields (from_value would not).
        value = serde_json.loads_struct_text(text)
        fields = read_struct(value, "InterAgentCommunication", [
            field("author", agent_path),
            field("recipient", agent_path),
            field("other_recipients", seq_of(agent_path), default=[]),
            field("content", string),
            field("trigger_turn", boolean),
            *([field("encrypted_content", string, optional=True)] if upstream else []),
        ])
    except (ValueError, ShapeError, RecursionError):
        return None
    return InterAgentCommunication(**fields)
