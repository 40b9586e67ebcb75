"""What the session projection knows of Codex session records, and how it reads values.

The tables name the response item, event and turn item types a session file holds
(and how each maps onto a conversation item's role, channel and kind); the helpers
read one loosely typed value of a record (a string, a count, a message's text) and
give ``None`` or an empty text for anything else. Nothing here touches the graph.
"""

from __future__ import annotations

import json
from typing import Any

from tracegraph.sessions.lines import parse_timestamp_ms
from tracegraph.sessions.tools import output_text

__all__ = [
    "CALL_TYPES",
    "IGNORED_ITEMS",
    "INJECTED_PREFIXES",
    "ITEM_SHAPES",
    "KNOWN_EVENTS",
    "KNOWN_TURN_ITEMS",
    "MODEL_OUTPUT_TYPES",
    "OUTPUT_TYPES",
    "PHASES",
    "int_or_none",
    "is_failed_end",
    "item_text",
    "message_text",
    "meta_timestamp_ms",
    "seconds_to_ms",
    "spawned_thread_id",
    "text_or_none",
]

#: Response item types: (role, channel, kind) like the reducer's normalization.
ITEM_SHAPES: dict[str, tuple[str, str | None, str]] = {
    "function_call": ("assistant", "commentary", "function_call"),
    "function_call_output": ("tool", "commentary", "function_call_output"),
    "custom_tool_call": ("assistant", "commentary", "custom_tool_call"),
    "custom_tool_call_output": ("tool", "commentary", "custom_tool_call_output"),
    "local_shell_call": ("assistant", "commentary", "function_call"),
    "web_search_call": ("assistant", "commentary", "function_call"),
    "tool_search_call": ("assistant", "commentary", "function_call"),
    "image_generation_call": ("assistant", "commentary", "function_call"),
    "tool_search_output": ("tool", "commentary", "function_call_output"),
    "reasoning": ("assistant", "analysis", "reasoning"),
    "compaction": ("assistant", "summary", "message"),
    "compaction_summary": ("assistant", "summary", "message"),
    "context_compaction": ("assistant", "summary", "message"),
    "agent_message": ("assistant", "analysis", "message"),
}
#: A message's ``phase`` as a conversation item's channel.
PHASES = {"commentary": "commentary", "final_answer": "final"}
#: Response items that call a tool (each starts a ToolCall or CodeCell).
CALL_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call",
                        "web_search_call", "tool_search_call", "image_generation_call"})
#: Response items that answer a tool call by its ``call_id``.
OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output",
                          "tool_search_output"})
#: Items of a model response (what RESPONDED_WITH points at).
MODEL_OUTPUT_TYPES = CALL_TYPES | {"reasoning", "compaction", "compaction_summary",
                                   "context_compaction"}
#: Items written but not model-visible history.
IGNORED_ITEMS = frozenset({"ghost_snapshot"})
#: Context the harness injects as user messages; not a user's turn input.
INJECTED_PREFIXES = ("<environment_context>", "<user_instructions>", "# AGENTS.md",
                     "<permissions instructions>", "<turn_aborted>", "<subagent_notification>")

#: Event types that are read, or known copies of response items (never skipped as unknown).
KNOWN_EVENTS = frozenset({
    "task_started", "turn_started", "task_complete", "turn_complete", "turn_aborted",
    "token_count", "user_message", "agent_message", "agent_reasoning",
    "agent_reasoning_raw_content", "agent_reasoning_section_break", "exec_command_end",
    "patch_apply_end", "mcp_tool_call_end", "web_search_end", "collab_agent_spawn_end",
    "collab_agent_interaction_end", "collab_waiting_end", "collab_close_end",
    "collab_resume_end", "sub_agent_activity", "context_compacted", "thread_rolled_back",
    "thread_settings_applied", "thread_goal_updated", "thread_name_updated", "item_completed",
    "entered_review_mode", "exited_review_mode", "undo_completed", "error", "view_image",
    "image_generation_end", "dynamic_tool_call_response", "plan_update", "warning",
})
#: ``item_completed`` TurnItem types that are known (never skipped as unknown).
KNOWN_TURN_ITEMS = frozenset({
    "UserMessage", "AgentMessage", "Plan", "Reasoning", "CommandExecution", "DynamicToolCall",
    "CollabAgentToolCall", "SubAgentActivity", "WebSearch", "ImageView", "Extension",
    "ImageGeneration", "EnteredReviewMode", "ExitedReviewMode", "FileChange",
    "ContextCompaction", "NativeCodeMode", "McpToolCall", "Sleep",
})


def text_or_none(value: Any) -> str | None:
    """A non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def int_or_none(value: Any) -> int | None:
    """An int (a bool is none), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def seconds_to_ms(value: Any) -> int | None:
    """A number of seconds (a Unix time or a duration) in whole milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    return None


def message_text(content: Any) -> str:
    """A message's text: a plain string, or its text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(part["text"] for part in content
                     if isinstance(part, dict) and isinstance(part.get("text"), str))


def item_text(item_type: Any, payload: dict[str, Any]) -> str:
    """The text a response item shows (what its preview and ``body_chars`` measure)."""
    if item_type in ("message", "agent_message"):
        return message_text(payload.get("content"))
    if item_type == "reasoning":
        summary = payload.get("summary")
        return "\n".join(part["text"] for part in summary or []
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    if item_type == "function_call":
        arguments = payload.get("arguments")
        return arguments if isinstance(arguments, str) else json.dumps(arguments)
    if item_type == "custom_tool_call":
        value = payload.get("input")
        return value if isinstance(value, str) else ""
    if item_type in OUTPUT_TYPES:
        return output_text(payload.get("output"))
    if item_type == "local_shell_call":
        action = payload.get("action")
        command = action.get("command") if isinstance(action, dict) else None
        return " ".join(command) if isinstance(command, list) else ""
    return ""


def is_failed_end(kind: Any, payload: dict[str, Any]) -> bool:
    """A patch that did not apply, or an MCP call that returned an error."""
    if kind == "patch_apply_end":
        return payload.get("success") is False
    result = payload.get("result")
    return kind == "mcp_tool_call_end" and isinstance(result, dict) and "Err" in result


def meta_timestamp_ms(meta: dict[str, Any]) -> int | None:
    """A ``session_meta`` payload's own ``timestamp``, in Unix milliseconds."""
    return parse_timestamp_ms(meta.get("timestamp"))


def spawned_thread_id(output: Any) -> str | None:
    """The child thread a ``spawn_agent`` output names (``agent_id``, ``new_thread_id``...)."""
    text = output_text(output)
    try:
        value = json.loads(text) if text.startswith("{") else None
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        for name in ("agent_id", "new_thread_id", "thread_id", "id"):
            if isinstance(value.get(name), str):
                return str(value[name])
    return None
