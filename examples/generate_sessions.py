#!/usr/bin/env python3
"""Regenerate ``examples/sessions/``: a Codex session directory like ``~/.codex/sessions``.

Two session rollout files of the paginated 2026 format (CLI 0.150, September
2026), written with the authoring kit's :class:`tracegraph.authoring.sessions.SessionWriter` from the
shapes in ``../shared/reference/session-rollouts.md``:

- the root thread: the user asks for the TODO lines in ``src/`` to be counted
  by a helper agent. The root spawns ``/root/todo_counter`` (``spawn_agent``,
  whose output names the child's thread id, and a ``CollabAgentToolCall``
  item), waits for it, receives its result as an ``inter_agent_communication``
  line, closes it and answers. Every response has a ``token_usage_record``;
  the ``token_count`` events repeat those numbers and must not be counted.
- the child thread: its ``session_meta`` names the parent and
  ``subagent_history_start_ordinal``; the parent's header and the parent's
  history up to the spawn (with the parent's first ``token_usage_record``) are
  copied in before the child's own turn, which runs one ``exec_command``
  (exit code and duration from its ``CommandExecution`` item).

Fixed ids and a fake clock: regenerating gives identical bytes::

    python examples/generate_sessions.py
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracegraph.authoring import codex
from tracegraph.authoring.sessions import SessionWriter

ROOT = "0199563c-7a10-7c3e-9a51-3f0d2b8e4c11"
CHILD = "0199563c-9b22-7f04-8e13-6a2c9d0f1e27"
CWD = "/work/shop"
MODEL = "gpt-5.5"
START = datetime(2026, 9, 17, 10, 0, 0, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "sessions"
DAY = Path("2026") / "09" / "17"


def usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, int]:
    return codex.usage(input_tokens, cached, output, reasoning, cache_write=0)


def add(total: dict[str, int], part: dict[str, int]) -> dict[str, int]:
    return {name: total.get(name, 0) + value for name, value in part.items()}


class Thread(SessionWriter):
    """A writer that also keeps the thread's running token totals."""

    totals: dict[str, int]

    def record(self, turn_id: str, response_id: str, used: dict[str, int],
               model: str = MODEL) -> None:
        self.totals = add(getattr(self, "totals", {}), used)
        self.line("token_usage_record", {
            "thread_id": self.thread_id, "turn_id": turn_id, "session_id": ROOT,
            "root_turn_id": "turn-root-1", "response_id": response_id, "usage": used,
            "turn_token_usage": self.totals, "thread_token_usage": self.totals,
            "attribution": {"model": model, "model_provider": "openai",
                            "service_tier": None, "context_length": 272000},
            "completed_at_ms": int((self.now() + timedelta(seconds=1)).timestamp() * 1000) - 500,
        })
        # The UI's token_count repeats the same numbers.
        self.token_count(self.totals, used)


def root_thread() -> Thread:
    root = Thread(ROOT, START, ordinals=True)
    root.meta(session_id=ROOT, cwd=CWD, originator="codex-tui", cli_version="0.150.0",
              source="cli", thread_source="user", model_provider="openai",
              base_instructions={"text": "You are Codex."}, history_mode="paginated",
              multi_agent_version="v2")
    root.turn_context(MODEL, turn_id="turn-root-1", cwd=CWD, approval_policy="on-request")
    root.event("task_started", turn_id="turn-root-1", started_at=int(root.now().timestamp()) + 1,
               model_context_window=272000)
    root.message("user", "Count the TODO lines in src/ with a helper agent, then summarize.",
                 turn_id="turn-root-1", id="msg_root_user")
    root.function_call("spawn_agent", {"task_name": "todo_counter", "agent_type": "worker",
                                       "message": "Count the TODO lines under src/."},
                       "call_spawn_1", namespace="collaboration", id="fc_spawn_1")
    root.record("turn-root-1", "resp_root_1", usage(6000, 0, 60, 20))
    return root


def child_thread(root: Thread) -> Thread:
    spawned = root.now() + timedelta(seconds=1)
    child = Thread(CHILD, spawned, ordinals=True)
    spawn = {"parent_thread_id": ROOT, "depth": 1, "agent_path": "/root/todo_counter",
             "agent_nickname": "Ada", "agent_role": "worker"}
    child.meta(session_id=ROOT, parent_thread_id=ROOT, cwd=CWD, originator="codex-tui",
               cli_version="0.150.0", source={"subagent": {"thread_spawn": spawn}},
               thread_source="subagent", agent_path="/root/todo_counter",
               agent_nickname="Ada", agent_role="worker", model_provider="openai",
               history_mode="paginated", subagent_history_start_ordinal=len(root.lines) + 1)
    # The parent's header and history so far, copied as they are.
    child.copy_lines(root)
    child.clock = spawned
    child.turn_context("gpt-5.5-mini", turn_id="turn-child-1", cwd=CWD)
    child.event("task_started", turn_id="turn-child-1",
                started_at=int(child.now().timestamp()) + 1)
    child.message("user", "Count the TODO lines under src/.", turn_id="turn-child-1",
                  id="msg_child_task")
    child.function_call("exec_command", {"cmd": "grep -rn TODO src/ | wc -l", "workdir": CWD,
                                         "yield_time_ms": 10000}, "call_grep_1", id="fc_grep_1")
    child.record("turn-child-1", "resp_child_1", usage(3000, 0, 40, 10), "gpt-5.5-mini")
    child.function_output("call_grep_1", codex.unified_exec_output("5e1f0a", 20, "3\n",
                                                                   exit_code=0))
    child.event("item_completed", thread_id=CHILD, turn_id="turn-child-1", item={
        "type": "CommandExecution", "id": "call_grep_1", "process_id": "7001",
        "command": ["/bin/bash", "-lc", "grep -rn TODO src/ | wc -l"], "cwd": CWD,
        "parsed_cmd": [], "source": "agent", "status": "completed", "stdout": "3\n",
        "stderr": "", "aggregated_output": "3\n", "exit_code": 0,
        "duration": codex.duration(21), "formatted_output": "3\n",
    }, completed_at_ms=int(child.now().timestamp() * 1000))
    child.message("assistant", "Found 3 TODO lines in src/.", phase="final_answer",
                  turn_id="turn-child-1", id="msg_child_final")
    child.event("item_completed", thread_id=CHILD, turn_id="turn-child-1", item={
        "type": "AgentMessage", "id": "msg_child_final",
        "content": [{"type": "Text", "text": "Found 3 TODO lines in src/."}],
        "phase": "final_answer"})
    child.record("turn-child-1", "resp_child_2", usage(3100, 3000, 15, 0), "gpt-5.5-mini")
    child.event("task_complete", turn_id="turn-child-1", last_agent_message="Found 3 TODO "
                "lines in src/.", started_at=int(spawned.timestamp()) + 1,
                completed_at=int(child.now().timestamp()) + 1, duration_ms=7000,
                time_to_first_token_ms=400)
    return child


def finish_root(root: Thread, child: Thread) -> None:
    root.function_output("call_spawn_1", json.dumps({"agent_id": CHILD, "nickname": "Ada"}))
    root.event("item_completed", thread_id=ROOT, turn_id="turn-root-1", item={
        "type": "CollabAgentToolCall", "id": "call_spawn_1", "tool": "spawn_agent",
        "status": "completed", "sender_thread_id": ROOT, "receiver_thread_ids": [CHILD],
        "prompt": "Count the TODO lines under src/.", "model": "gpt-5.5-mini",
        "agents_states": {}})
    root.function_call("wait_agent", {"targets": [CHILD], "timeout_ms": 60000}, "call_wait_1",
                       namespace="collaboration", id="fc_wait_1")
    root.record("turn-root-1", "resp_root_2", usage(6100, 6000, 25, 0))
    root.clock = child.now()
    root.line("inter_agent_communication", {
        "author": "/root/todo_counter", "recipient": "/root",
        "content": [{"type": "input_text", "text": "Found 3 TODO lines in src/."}],
        "trigger_turn": False})
    root.function_output("call_wait_1", json.dumps(
        {"status": {CHILD: {"completed": "Found 3 TODO lines in src/."}}, "timed_out": False}))
    root.function_call("close_agent", {"target": CHILD}, "call_close_1",
                       namespace="collaboration", id="fc_close_1")
    root.record("turn-root-1", "resp_root_3", usage(6200, 6100, 18, 0))
    root.function_output("call_close_1", '{"status":"closed"}')
    root.message("assistant", "There are 3 TODO lines in src/.", phase="final_answer",
                 turn_id="turn-root-1", id="msg_root_final")
    root.event("item_completed", thread_id=ROOT, turn_id="turn-root-1", item={
        "type": "AgentMessage", "id": "msg_root_final",
        "content": [{"type": "Text", "text": "There are 3 TODO lines in src/."}],
        "phase": "final_answer"})
    root.record("turn-root-1", "resp_root_4", usage(6300, 6200, 30, 5))
    root.event("task_complete", turn_id="turn-root-1",
               last_agent_message="There are 3 TODO lines in src/.",
               started_at=int(START.timestamp()) + 2, completed_at=int(root.now().timestamp()) + 1,
               duration_ms=16000, time_to_first_token_ms=900)


def file_name(thread_id: str, moment: datetime) -> str:
    return f"rollout-{moment.strftime('%Y-%m-%dT%H-%M-%S')}-{thread_id}.jsonl"


def write_example(out: Path = OUT) -> list[Path]:
    """Write the two files under ``out/2026/09/17/``; returns their paths (root first)."""
    root = root_thread()
    child = child_thread(root)
    finish_root(root, child)
    return [root.write(out / DAY / file_name(ROOT, root.start)),
            child.write(out / DAY / file_name(CHILD, child.start))]


if __name__ == "__main__":
    for path in write_example(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
