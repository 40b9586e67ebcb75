"""Trace format dialects.

``seed`` is the first published ``codex-rollout-trace`` (April 2026), the
reference this project is checked against byte for byte. ``upstream`` is the
newest behaviour documented as merged in ``upstream-delta.md``: cancelled
inferences, MCP correlation, the ``response_id``/``upstream_request_id`` split,
typed ``agent_message`` items and a looser reasoning identity.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "UPSTREAM_ONLY_FIELDS",
    "Dialect",
]



class Dialect(StrEnum):
    SEED = "seed"
    UPSTREAM = "upstream"


#: Reduced-model fields that exist only in the upstream dialect's state.json.
UPSTREAM_ONLY_FIELDS: dict[str, str] = {
    "inference_calls": "response_id",
    "tool_calls": "mcp_call_id",
    "conversation_items": "agent_message",
}
