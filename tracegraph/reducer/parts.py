"""Conversation body parts as tuples, and the body-matching rules.

A part is ``(type, field, ...)`` in the field order of ``ConversationPart``:
``("text", text)``, ``("summary", text)``, ``("encoded", label, value)``,
``("json", summary, raw_payload_id)``, ``("code", language, source)``,
``("payload_ref", label, raw_payload_id)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracegraph.model.conversation import ConversationBody

__all__ = [
    "BodyKey",
    "Part",
    "body_fields",
    "body_key",
    "body_model",
    "encoded_part",
    "merge_upstream_reasoning",
    "parts_from_body",
    "readable_parts",
    "reasoning_body_matches",
]


Part = tuple[str, ...]
BodyKey = tuple[Part, ...]


def body_key(parts: tuple[Part, ...]) -> BodyKey:
    """Identity of a body: JSON parts match on their summary, not the payload id."""
    for part in parts:
        if part[0] == "json":
            break
    else:
        return parts
    return tuple(("json", part[1]) if part[0] == "json" else part for part in parts)


def encoded_part(parts: tuple[Part, ...]) -> tuple[str, str] | None:
    for part in parts:
        if part[0] == "encoded":
            return part[1], part[2]
    return None


def readable_parts(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    return tuple(part for part in parts if part[0] in ("text", "summary"))


def reasoning_body_matches(
    left: tuple[Part, ...], right: tuple[Part, ...], *, loose: bool = False
) -> bool:
    """Reasoning identity: same body, or same encrypted blob with agreeing readable text.

    Responses may return readable reasoning on completion while later requests
    replay only the encrypted blob, so the blob is the stable identity. The
    seed also requires readable parts to agree when both sides have them;
    upstream (``loose``) ignores readable text for identity.
    """
    if left == right or body_key(left) == body_key(right):
        return True
    left_encoded = encoded_part(left)
    right_encoded = encoded_part(right)
    if left_encoded is None or right_encoded is None or left_encoded != right_encoded:
        return False
    if loose:
        return True
    left_readable = readable_parts(left)
    right_readable = readable_parts(right)
    return not left_readable or not right_readable or left_readable == right_readable


def merge_upstream_reasoning(existing: tuple[Part, ...], incoming: tuple[Part, ...]) -> tuple[Part, ...]:
    """Upstream merge: the first readable body wins; missing kinds are filled in.

    Text parts, then summary parts (each kept from ``existing`` unless it has
    none), then the existing encoded part(s).
    """
    text = [part for part in existing if part[0] == "text"]
    summary = [part for part in existing if part[0] == "summary"]
    if text and summary:
        return existing
    if not text:
        text = [part for part in incoming if part[0] == "text"]
    if not summary:
        summary = [part for part in incoming if part[0] == "summary"]
    encoded = [part for part in existing if part[0] == "encoded"]
    return (*text, *summary, *encoded)


#: Each part tuple as ``ConversationPart`` fields (literal dicts: a generic zip costs more).
_PART_FIELDS: dict[str, Callable[[Part], dict[str, str]]] = {
    "text": lambda p: {"type": "text", "text": p[1]},
    "summary": lambda p: {"type": "summary", "text": p[1]},
    "encoded": lambda p: {"type": "encoded", "label": p[1], "value": p[2]},
    "json": lambda p: {"type": "json", "summary": p[1], "raw_payload_id": p[2]},
    "code": lambda p: {"type": "code", "language": p[1], "source": p[2]},
    "payload_ref": lambda p: {"type": "payload_ref", "label": p[1], "raw_payload_id": p[2]},
}


def body_fields(parts: tuple[Part, ...]) -> dict[str, Any]:
    """A ``ConversationBody`` as plain fields, to validate inside its owner in one call
    (building each part model first costs a validation per part)."""
    return {"parts": [_PART_FIELDS[part[0]](part) for part in parts]}


def body_model(parts: tuple[Part, ...]) -> ConversationBody:
    return ConversationBody.model_validate(body_fields(parts))


def parts_from_body(body: ConversationBody) -> tuple[Part, ...]:
    """Inverse of :func:`body_model`, for items loaded from a model."""
    out: list[Part] = []
    for part in body.parts:
        dumped = part.model_dump()
        out.append(tuple(str(value) for value in dumped.values()))
    return tuple(out)
