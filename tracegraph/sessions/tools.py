"""Tool calls in session files: kind from the tool name, terminal requests and results.

Exit codes and durations come from whichever evidence the era has, best first:
a paginated ``CommandExecution`` item, an ``exec_command_end`` event, the
unified-exec output text (``Process exited with code N``, ``Wall time: N
seconds``), or the 2025 JSON output's ``metadata{exit_code,duration_seconds}``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXEC_TOOLS",
    "TerminalEvidence",
    "TerminalRequest",
    "duration_ms",
    "output_text",
    "parse_output",
    "terminal_request",
    "tool_kind",
]

#: Tool names that run one command (a terminal operation of kind exec_command).
EXEC_TOOLS = frozenset({"exec_command", "shell", "shell_command", "local_shell_call",
                        "container.exec", "local_shell"})

_AGENT_KINDS = {
    "spawn_agent": "spawn_agent",
    "send_input": "send_message",
    "send_message": "send_message",
    "followup_task": "assign_agent_task",
    "assign_task": "assign_agent_task",
    "resume_agent": "assign_agent_task",
    "wait": "wait_agent",
    "wait_agent": "wait_agent",
    "close_agent": "close_agent",
}


def tool_kind(name: str, namespace: str | None = None) -> tuple[str, str, str | None, str | None]:
    """(kind, display name, mcp server, mcp tool) for a tool name as the model called it."""
    if name in EXEC_TOOLS:
        return "exec_command", "exec_command", None, None
    if name == "write_stdin":
        return "write_stdin", "write_stdin", None, None
    if name == "apply_patch":
        return "apply_patch", "apply_patch", None, None
    if name in ("web_search", "web_search_call", "tool_search_call"):
        return "web", "web", None, None
    if name in ("image_generation", "image_generation_call", "image_gen"):
        return "image_generation", "image_generation", None, None
    if name in _AGENT_KINDS and namespace in (None, "", "collaboration", "multi_agent_v1",
                                              "functions"):
        kind = _AGENT_KINDS[name]
        return kind, kind, None, None
    if namespace and namespace not in ("functions", "collaboration", "multi_agent_v1"):
        return "mcp", f"{namespace}/{name}", namespace, name
    if name.startswith("mcp__") and name.count("__") >= 2:
        _, server, tool = name.split("__", 2)
        return "mcp", f"{server}/{tool}", server, tool
    return "other", name, None, None


def arguments(value: Any) -> dict[str, Any]:
    """A function call's ``arguments`` (a JSON *string*) as a dict; ``{}`` if not one."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


@dataclass(frozen=True, slots=True)
class TerminalRequest:
    kind: str
    command: list[str] | None = None
    display_command: str | None = None
    cwd: str | None = None
    stdin: str | None = None
    terminal_id: str | None = None
    yield_time_ms: int | None = None
    max_output_tokens: int | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value):
        return str(value)
    return None


def terminal_request(kind: str, name: str, args: dict[str, Any]) -> TerminalRequest:
    """The terminal request of an exec or write_stdin call from its arguments."""
    if kind == "write_stdin":
        chars = args.get("chars")
        return TerminalRequest(
            kind, stdin=chars if isinstance(chars, str) else "",
            terminal_id=_str_id(args.get("session_id")),
            yield_time_ms=_int(args.get("yield_time_ms")),
            max_output_tokens=_int(args.get("max_output_tokens")),
        )
    raw = args.get("cmd", args.get("command"))
    if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        command = list(raw)
        # `bash -lc SCRIPT` shows as its script.
        display = (command[2] if len(command) == 3 and command[1] in ("-lc", "-c")
                   else shlex.join(command))
    elif isinstance(raw, str):
        command, display = [raw], raw
    else:
        command, display = [], ""
    cwd = args.get("workdir", args.get("working_directory", args.get("cwd")))
    return TerminalRequest(
        kind, command=command, display_command=display,
        cwd=cwd if isinstance(cwd, str) else None,
        yield_time_ms=_int(args.get("yield_time_ms", args.get("timeout_ms"))),
        max_output_tokens=_int(args.get("max_output_tokens")),
    )


@dataclass(frozen=True, slots=True)
class TerminalEvidence:
    """What a result says about the operation; ``None`` where it says nothing."""

    source: str
    output: str = ""
    exit_code: int | None = None
    duration_ms: int | None = None
    terminal_id: str | None = None
    chunk_id: str | None = None
    original_token_count: int | None = None
    status: str | None = None


_EXITED = re.compile(r"^(?:Process exited with code|Exit code:) (-?\d+)\s*$", re.M)
_RUNNING = re.compile(r"^Process running with session ID (\d+)\s*$", re.M)
_WALL = re.compile(r"^Wall time: ([0-9]+(?:\.[0-9]+)?) seconds?\s*$", re.M)
_CHUNK = re.compile(r"^Chunk ID: (\S+)\s*$", re.M)
_TOKENS = re.compile(r"^Original token count: (\d+)\s*$", re.M)


def output_text(output: Any) -> str:
    """An output's text: a string, or the text of its content items."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "\n".join(part.get("text", "") for part in output
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    if isinstance(output, dict) and isinstance(output.get("content"), str):
        return str(output["content"])
    return ""


def duration_ms(value: Any) -> int | None:
    """serde's ``Duration`` (``{secs, nanos}``), or seconds as a number."""
    if isinstance(value, dict):
        secs, nanos = _int(value.get("secs")), _int(value.get("nanos"))
        if secs is not None:
            return secs * 1000 + (nanos or 0) // 1_000_000
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    return None


def parse_output(output: Any) -> TerminalEvidence:
    """Evidence in a ``function_call_output`` of an exec or write_stdin call."""
    text = output_text(output)
    # 2025: the output is a JSON string {"output", "metadata": {exit_code, duration_seconds}}.
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("metadata"), dict):
            meta = value["metadata"]
            body = value.get("output")
            return TerminalEvidence(
                "output_metadata", output=body if isinstance(body, str) else "",
                exit_code=_int(meta.get("exit_code")),
                duration_ms=duration_ms(meta.get("duration_seconds")),
            )
    exited, running = _EXITED.search(text), _RUNNING.search(text)
    wall, chunk, tokens = _WALL.search(text), _CHUNK.search(text), _TOKENS.search(text)
    if not (exited or running or wall):
        return TerminalEvidence("output_text", output=text)
    _, _, body = text.partition("Output:\n")
    return TerminalEvidence(
        "output_text", output=body or text,
        exit_code=int(exited.group(1)) if exited else None,
        duration_ms=round(float(wall.group(1)) * 1000) if wall else None,
        terminal_id=running.group(1) if running else None,
        chunk_id=chunk.group(1) if chunk else None,
        original_token_count=int(tokens.group(1)) if tokens else None,
    )


def end_evidence(source: str, payload: dict[str, Any]) -> TerminalEvidence:
    """A ``CommandExecution`` item or an ``exec_command_end`` event."""
    output = payload.get("aggregated_output", payload.get("stdout"))
    output = output if isinstance(output, str) else ""
    status = payload.get("status")
    return TerminalEvidence(
        source, output=output, exit_code=_int(payload.get("exit_code")),
        duration_ms=duration_ms(payload.get("duration")),
        terminal_id=_str_id(payload.get("process_id")),
        status=status if isinstance(status, str) else None,
    )
