"""Tool names to ``ToolCallKind``, as the live recorder maps them.

This is ``dispatched_tool_kind`` in ``codex-core/src/rollout_trace.rs``: MCP
payloads become ``mcp`` kinds, four shell spellings are ``exec_command``, and
any other name is ``other``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOOL_KINDS", "tool_kind"]

TOOL_KINDS: dict[str, dict[str, Any]] = {
    "exec_command": {"type": "exec_command"},
    "local_shell": {"type": "exec_command"},
    "shell": {"type": "exec_command"},
    "shell_command": {"type": "exec_command"},
    "write_stdin": {"type": "write_stdin"},
    "apply_patch": {"type": "apply_patch"},
    "web_search": {"type": "web"},
    "web_search_preview": {"type": "web"},
    "image_generation": {"type": "image_generation"},
    "image_query": {"type": "image_generation"},
    "spawn_agent": {"type": "spawn_agent"},
    "send_message": {"type": "send_message"},
    "followup_task": {"type": "assign_agent_task"},
    "wait_agent": {"type": "wait_agent"},
    "close_agent": {"type": "close_agent"},
}


def tool_kind(tool_name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``kind`` of a ``tool_call_started`` event for this dispatch."""
    if payload is not None and payload.get("type") == "mcp":
        return {"type": "mcp", "server": payload["server"], "tool": payload["tool"]}
    return dict(TOOL_KINDS.get(tool_name, {"type": "other", "name": tool_name}))
