"""Payload shapes of the live Codex recorder (``codex-core/src/rollout_trace.rs``).

Request bodies, thread metadata, exec begin/end protocol events, dispatch
results and token usage, with the field order Codex writes them in. Values
that differ per session (model, cwd, paths) are parameters.
"""

from __future__ import annotations

import json
from typing import Any

from tracegraph.authoring.items import Json, function_output

__all__ = [
    "direct_output",
    "duration",
    "exec_begin",
    "exec_end",
    "function_args",
    "responses_request",
    "thread_metadata",
    "tool_requester",
    "truncate_preview",
    "unified_exec_output",
    "usage",
]


def usage(input_tokens: int, cached: int, output: int, reasoning_tokens: int,
          *, cache_write: int | None = None) -> Json:
    """``TokenUsage``; ``cache_write`` is written only by Codex that reports cache writes."""
    value: Json = {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
    }
    if cache_write is not None:
        value["cache_write_input_tokens"] = cache_write
    value.update({
        "output_tokens": output,
        "reasoning_output_tokens": reasoning_tokens,
        "total_tokens": input_tokens + output,
    })
    return value


def duration(ms: int) -> Json:
    """A ``std::time::Duration`` as serde writes it."""
    return {"secs": ms // 1000, "nanos": (ms % 1000) * 1_000_000}


def responses_request(input_items: list[Json], *, model: str, instructions: str,
                      tools: list[Json], prompt_cache_key: str,
                      previous_response_id: str | None = None) -> Json:
    """The Responses API request body as the client sends it."""
    body: Json = {"model": model, "instructions": instructions}
    if previous_response_id is not None:
        body["previous_response_id"] = previous_response_id
    body.update({
        "input": input_items,
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": prompt_cache_key,
    })
    return body


def thread_metadata(thread_id: str, *, agent_path: str, session_source: Any, cwd: str,
                    rollout_path: str, model: str, provider_id: str, sandbox_policy: str,
                    nickname: str | None = None, agent_role: str | None = None) -> Json:
    """``ThreadStartedTraceMetadata`` as codex-core serializes it."""
    task_name = None if agent_path == "/root" else agent_path.rsplit("/", 1)[-1]
    return {
        "thread_id": thread_id,
        "agent_path": agent_path,
        "task_name": task_name,
        "nickname": nickname,
        "agent_role": agent_role,
        "session_source": session_source,
        "cwd": cwd,
        "rollout_path": rollout_path,
        "model": model,
        "provider_name": provider_id,
        "approval_policy": "on-request",
        "sandbox_policy": sandbox_policy,
    }


def exec_begin(call_id: str, turn_id: str, cmd: str, *, cwd: str, process_id: str | None,
               source: str = "unified_exec_startup") -> Json:
    """``ExecCommandBeginEvent`` of a ``bash -lc`` command."""
    return {
        "call_id": call_id,
        "process_id": process_id,
        "turn_id": turn_id,
        "command": ["/bin/bash", "-lc", cmd],
        "cwd": cwd,
        "parsed_cmd": [{"type": "unknown", "cmd": cmd}],
        "source": source,
        "interaction_input": None,
    }


def exec_end(begin: Json, *, stdout: str, stderr: str = "", exit_code: int, wall_ms: int,
             formatted_output: str | None = None) -> Json:
    """``ExecCommandEndEvent``: the begin event's fields plus the outcome."""
    end = dict(begin)
    end.update({
        "stdout": stdout,
        "stderr": stderr,
        "aggregated_output": stdout + stderr,
        "exit_code": exit_code,
        "duration": duration(wall_ms),
        "formatted_output": formatted_output if formatted_output is not None else stdout + stderr,
        "status": "completed" if exit_code == 0 else "failed",
    })
    return end


def unified_exec_output(chunk: str, wall_ms: int, output: str, *, session_id: int | None = None,
                        exit_code: int | None = None) -> str:
    """The text a unified-exec tool returns to the model."""
    lines = [f"Chunk ID: {chunk}", f"Wall time: {wall_ms / 1000:.4f} seconds"]
    if session_id is not None:
        lines.append(f"Process running with session ID {session_id}")
    if exit_code is not None:
        lines.append(f"Process exited with code {exit_code}")
    lines.append(f"Original token count: {max(1, len(output) // 4)}")
    lines.append("Output:")
    return "\n".join(lines) + "\n" + output


def truncate_preview(value: str) -> str:
    """The recorder's 160-character ``input_preview``."""
    preview = value[:160]
    return preview + "..." if len(value) > 160 else preview


def direct_output(call_id: str, output: str) -> Json:
    """A dispatch result that is one ``function_call_output`` item."""
    return {"type": "direct_response", "response_item": function_output(call_id, output)}


def function_args(arguments: Json) -> Json:
    """A ``function`` tool payload (invocation envelope)."""
    return {"type": "function", "arguments": json.dumps(arguments, ensure_ascii=False)}


def tool_requester(call_id: str, code_mode: tuple[str, str] | None) -> tuple[
    str | None, str | None, Json
]:
    """``(model_visible_call_id, code_mode_runtime_tool_id, requester)`` of a tool call.

    ``code_mode`` is ``(runtime_cell_id, runtime_tool_call_id)`` for a tool that
    model-authored JavaScript called; otherwise the model called it directly.
    """
    if code_mode is None:
        return call_id, None, {"type": "model"}
    return None, code_mode[1], {"type": "code_cell", "runtime_cell_id": code_mode[0]}
