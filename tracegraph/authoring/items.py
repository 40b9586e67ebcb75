"""Responses API items, in the field order Codex serializes them.

The shapes are ``codex_protocol::models::ResponseItem`` (and the typed
multi-agent ``agent_message`` of current Codex). Field order matters: payload
files keep it, and a bundle's bytes are compared.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "Json",
    "agent_message",
    "assistant",
    "custom_call",
    "custom_output",
    "developer",
    "encrypted_part",
    "function_call",
    "function_output",
    "input_message",
    "input_texts",
    "inter_agent",
    "inter_agent_communication",
    "message",
    "reasoning",
    "replayed",
    "user",
]

Json = dict[str, Any]

#: Roles whose message text is model input; the rest is model output.
_INPUT_ROLES = frozenset({"user", "developer", "system"})


def message(role: str, text: str, phase: str | None = None) -> Json:
    """A one-part message: ``input_text`` for input roles, ``output_text`` otherwise."""
    part = "input_text" if role in _INPUT_ROLES else "output_text"
    item: Json = {"type": "message", "role": role, "content": [{"type": part, "text": text}]}
    if phase is not None:
        item["phase"] = phase
    return item


def input_message(role: str, text: str) -> Json:
    """A one-part message whose part is ``input_text`` whatever the role."""
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def user(text: str) -> Json:
    return message("user", text)


def developer(text: str) -> Json:
    return message("developer", text)


def assistant(text: str, phase: str | None = None) -> Json:
    return message("assistant", text, phase)


def input_texts(*texts: str) -> list[Json]:
    return [{"type": "input_text", "text": text} for text in texts]


def reasoning(summary: list[str], encrypted: str | None,
              content: list[str] | None = None) -> Json:
    item: Json = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text} for text in summary],
    }
    if content is not None:
        item["content"] = [{"type": "reasoning_text", "text": text} for text in content]
    item["encrypted_content"] = encrypted
    return item


def function_call(name: str, arguments: Json | str, call_id: str) -> Json:
    """``arguments`` is the raw JSON string the model wrote (a dict is dumped)."""
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id}


def function_output(call_id: str, output: Any) -> Json:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def custom_call(name: str, tool_input: str, call_id: str) -> Json:
    return {
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "input": tool_input,
    }


def custom_output(call_id: str, output: Any) -> Json:
    return {"type": "custom_tool_call_output", "call_id": call_id, "output": output}


def replayed(item: Json) -> Json:
    """An output item as a later request carries it.

    The protocol serializer drops readable reasoning ``content``; everything
    else is sent back unchanged.
    """
    item = dict(item)
    if item.get("type") == "reasoning":
        item.pop("content", None)
    return item


# -- multi-agent deliveries --------------------------------------------------


def inter_agent_communication(author: str, recipient: str, content: str, trigger_turn: bool,
                              *, encrypted_content: str | None = None) -> Json:
    """``InterAgentCommunication``; current Codex leaves ``content`` empty and encrypts."""
    communication: Json = {
        "author": author,
        "recipient": recipient,
        "other_recipients": [],
        "content": content,
        "trigger_turn": trigger_turn,
    }
    if encrypted_content is not None:
        communication["encrypted_content"] = encrypted_content
    return communication


def inter_agent(author: str, recipient: str, content: str, trigger_turn: bool) -> Json:
    """A mailbox delivery: ``InterAgentCommunication::to_response_input_item()``."""
    communication = inter_agent_communication(author, recipient, content, trigger_turn)
    return assistant(json.dumps(communication, ensure_ascii=False, separators=(",", ":")),
                     phase="commentary")


def encrypted_part(encrypted_content: str) -> Json:
    """The encrypted body part of an ``agent_message``."""
    return {"type": "encrypted_content", "encrypted_content": encrypted_content}


def agent_message(author: str, recipient: str, text: str | None = None,
                  *, encrypted_content: str | None = None) -> Json:
    """A typed mailbox delivery: plaintext, encrypted, or both (text first)."""
    content: list[Json] = []
    if text is not None:
        content.append({"type": "input_text", "text": text})
    if encrypted_content is not None:
        content.append(encrypted_part(encrypted_content))
    return {"type": "agent_message", "author": author, "recipient": recipient,
            "content": content}
