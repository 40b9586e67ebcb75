"""Session rollout files of each format era, written with the session writer.

Every scenario is small and its numbers are chosen so that the expected graph
can be worked out by hand (see tests/test_sessions.py). Shapes follow
``../shared/reference/session-rollouts.md``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tracegraph.authoring import items
from tracegraph.authoring.codex import duration, unified_exec_output, usage
from tracegraph.authoring.sessions import SessionWriter

T2025 = "0193a1b2-0000-7000-8000-000000002025"
T2026 = "0195c3d4-0000-7000-8000-000000002026"
TPAGE = "0199e5f6-0000-7000-8000-00000000a9e5"
TCHILD = "0195c3d4-1111-7000-8000-000000002027"
TFORK = "0195c3d4-2222-7000-8000-000000002028"


class Totals:
    """Running ``total_token_usage`` of a thread."""

    def __init__(self) -> None:
        self.value: dict[str, int] = {}

    def add(self, part: dict[str, int]) -> dict[str, int]:
        self.value = {name: self.value.get(name, 0) + count for name, count in part.items()}
        return dict(self.value)


def legacy_2025(directory: Path) -> Path:
    """Envelope era, Nov 2025 (CLI 0.58): no turn events, a turn_context per request,
    shell output as a JSON string with metadata, token_count rows re-emitted."""
    w = SessionWriter(T2025, datetime(2025, 11, 20, 14, 0, 0, tzinfo=UTC))
    totals = Totals()
    w.meta(cwd="/work/app", originator="codex_cli_rs", cli_version="0.58.0",
           instructions=None, source="cli", model_provider="openai")
    w.turn_context("gpt-5-codex", cwd="/work/app", approval_policy="on-request")
    w.message("user", "<environment_context>\n  <cwd>/work/app</cwd>\n</environment_context>")
    w.message("user", "list the files")                                            # turn 1
    w.event("user_message", message="list the files", images=[])
    w.item(items.reasoning(["Listing."], "gAAAAB1"))
    w.function_call("shell", {"command": ["bash", "-lc", "ls"], "workdir": "/work/app",
                              "timeout_ms": 10000}, "call_A1")
    first = usage(1000, 0, 50, 10)
    w.token_count(totals.add(first), first)
    w.token_count(totals.value, first)                                             # re-emitted
    w.function_output("call_A1", json.dumps({"output": "README.md\nsrc\n", "metadata": {
        "exit_code": 0, "duration_seconds": 0.2}}))
    w.turn_context("gpt-5-codex", cwd="/work/app")
    w.message("assistant", "Two entries: README.md and src.")
    w.event("agent_message", message="Two entries: README.md and src.")
    second = usage(1200, 1000, 30, 0)
    w.token_count(totals.add(second), second)
    w.token_count(totals.value, second)                                            # re-emitted
    w.message("user", "now count the lines of README.md")                          # turn 2
    w.event("user_message", message="now count the lines of README.md", images=[])
    w.function_call("shell", {"command": ["wc", "-l", "README.md"]}, "call_A2")
    third = usage(1300, 1200, 20, 10)
    w.token_count(totals.add(third), third)
    w.function_output("call_A2", json.dumps({"output": "wc: README.md: Permission denied\n",
                                             "metadata": {"exit_code": 1,
                                                          "duration_seconds": 0.05}}))
    w.message("assistant", "I could not read README.md.")
    fourth = usage(1400, 1300, 15, 0)
    w.token_count(totals.add(fourth), fourth)
    w.item({"type": "ghost_snapshot", "ghost_commit": {"id": "abc"}})                         # not history
    w.item({"type": "hologram", "data": 1})                                                   # unknown item
    w.event("future_event", data=1)                                                # unknown event
    w.line("future_line", {"data": 1})                                             # unknown line
    return w.write(directory / "2025" / "11" / "20" /
                   f"rollout-2025-11-20T15-00-00-{T2025}.jsonl")


def legacy_2026(directory: Path) -> SessionWriter:
    """Early 2026 (CLI 0.110), legacy history: task_started/task_complete with turn ids,
    unified exec output text, a terminal session reused by write_stdin, an aborted
    turn, a compaction and a failed turn."""
    w = SessionWriter(T2026, datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC))
    totals = Totals()
    w.meta(cwd="/work/svc", originator="codex-tui", cli_version="0.110.0", source="cli",
           model_provider="openai", base_instructions={"text": "You are Codex."})
    w.turn_context("gpt-5.2-codex", turn_id="turn-b1", cwd="/work/svc")
    w.event("task_started", turn_id="turn-b1", started_at=1773133202,
            model_context_window=272000)
    w.message("user", "start the dev server and check it", turn_id="turn-b1")
    w.event("user_message", message="start the dev server and check it")
    w.function_call("exec_command", {"cmd": "npm run dev", "workdir": "/work/svc",
                                     "yield_time_ms": 1000}, "call_B1")
    step = usage(1500, 0, 30, 0)
    w.token_count(totals.add(step), step)
    w.function_output("call_B1", unified_exec_output("a1", 1001, "listening on :3000\n",
                                                     session_id=4242))
    w.function_call("write_stdin", {"session_id": 4242, "chars": "", "yield_time_ms": 2000},
                    "call_B2")
    step = usage(1600, 1500, 20, 0)
    w.token_count(totals.add(step), step)
    w.function_output("call_B2", unified_exec_output("a2", 2001, "GET / 200\n",
                                                     session_id=4242))
    w.function_call("write_stdin", {"session_id": 4242, "chars": "\u0003"}, "call_B3")
    step = usage(1700, 1600, 10, 0)
    w.token_count(totals.add(step), step)
    w.token_count(totals.value, step)                                              # re-emitted
    w.function_output("call_B3", unified_exec_output("a3", 100, "", exit_code=130))
    w.message("assistant", "The server starts and answers GET / with 200.",
              phase="final_answer", turn_id="turn-b1")
    w.event("agent_message", message="The server starts and answers GET / with 200.")
    step = usage(1800, 1700, 25, 5)
    w.token_count(totals.add(step), step)
    w.event("task_complete", turn_id="turn-b1", last_agent_message="The server starts.",
            duration_ms=9000)
    # Turn 2: interrupted while a command runs.
    w.turn_context("gpt-5.2-codex", turn_id="turn-b2", cwd="/work/svc")
    w.event("task_started", turn_id="turn-b2", started_at=1773133220)
    w.message("user", "run the full test suite", turn_id="turn-b2")
    w.function_call("exec_command", {"cmd": "npm test"}, "call_B4")
    step = usage(1900, 1800, 15, 0)
    w.token_count(totals.add(step), step)
    w.event("turn_aborted", turn_id="turn-b2", reason="interrupted", duration_ms=4000)
    # Turn 3: compacted, then the stream fails.
    w.event("task_started", turn_id="turn-b3", started_at=1773133240)
    w.message("user", "summarize and continue", turn_id="turn-b3")
    w.line("compacted", {"message": "Summary: the server works; the tests were interrupted.",
                         "replacement_history": [
                             {"type": "message", "role": "user", "content": [
                                 {"type": "input_text", "text": "start the dev server"}]},
                             {"type": "message", "role": "assistant", "content": [
                                 {"type": "output_text", "text": "It works."}]}]})
    w.event("context_compacted")
    w.message("assistant", "Continuing from the summary.", phase="final_answer",
              turn_id="turn-b3")
    step = usage(900, 0, 12, 0)
    w.token_count(totals.add(step), step)
    w.event("task_complete", turn_id="turn-b3", error={"message": "stream disconnected",
                                                       "codex_error_info": None},
            duration_ms=5000)
    w.write(directory / "2026" / "03" / "10" / f"rollout-2026-03-10T10-00-00-{T2026}.jsonl")
    return w


def child_without_ordinals(directory: Path, parent: SessionWriter) -> Path:
    """A mid-2026 child file with no ordinals: child meta, the parent's meta and history
    copied with their original timestamps, then its own turn."""
    spawned = datetime(2026, 3, 10, 9, 30, 0, tzinfo=UTC)
    w = SessionWriter(TCHILD, spawned)
    w.meta(session_id=T2026, cwd="/work/svc", source={"subagent": {"thread_spawn": {
        "parent_thread_id": T2026, "depth": 1, "agent_path": "/root/helper",
        "agent_nickname": "Bo", "agent_role": "explorer"}}}, thread_source="subagent")
    w.copy_lines(parent)
    w.clock = spawned
    w.turn_context("gpt-5.2-codex", turn_id="turn-c1")
    w.event("task_started", turn_id="turn-c1")
    w.message("user", "look around", turn_id="turn-c1")
    w.message("assistant", "Looked around.", phase="final_answer", turn_id="turn-c1")
    own = usage(700, 0, 9, 0)
    # The child's totals start at zero: the copied parent rows are not its own.
    w.token_count(own, own)
    w.event("task_complete", turn_id="turn-c1", duration_ms=1500)
    return w.write(directory / "2026" / "03" / "10" /
                   f"rollout-2026-03-10T10-30-00-{TCHILD}.jsonl")


def paginated_2026(directory: Path, *, compress: bool = False) -> Path:
    """Sep 2026 (CLI 0.150), paginated history with ordinals: item_completed TurnItems,
    token_usage_record per response and token_count rows repeating its numbers."""
    w = SessionWriter(TPAGE, datetime(2026, 9, 2, 8, 0, 0, tzinfo=UTC), ordinals=True)
    w.meta(session_id=TPAGE, cwd="/work/py", originator="codex_exec", cli_version="0.150.0",
           source="exec", thread_source="user", model_provider="openai",
           history_mode="paginated")
    w.turn_context("gpt-5.5", turn_id="turn-p1")
    w.event("task_started", turn_id="turn-p1", started_at=1788336002)
    w.message("user", "what is the python version?", turn_id="turn-p1", id="msg_p_user")
    w.event("item_completed", thread_id=TPAGE, turn_id="turn-p1", item={
        "type": "UserMessage", "id": "msg_p_user",
        "content": [{"type": "text", "text": "what is the python version?"}]})
    w.function_call("exec_command", {"cmd": "python3 --version"}, "call_P1", id="fc_p1")
    first = usage(5000, 4000, 40, 8)
    w.line("token_usage_record", {"thread_id": TPAGE, "turn_id": "turn-p1",
                                  "session_id": TPAGE, "response_id": "resp_p1",
                                  "usage": first, "attribution": {"model": "gpt-5.5",
                                                                  "model_provider": "openai"},
                                  "completed_at_ms": 1788336004500})
    w.token_count(first, first)                                                    # same numbers
    w.function_output("call_P1", unified_exec_output("c1", 50, "Python 3.12.3\n", exit_code=0))
    w.event("item_completed", thread_id=TPAGE, turn_id="turn-p1", item={
        "type": "CommandExecution", "id": "call_P1", "process_id": "9001",
        "command": ["/bin/bash", "-lc", "python3 --version"], "cwd": "/work/py",
        "parsed_cmd": [], "source": "agent", "status": "completed",
        "aggregated_output": "Python 3.12.3\n", "exit_code": 0,
        "duration": duration(48)})
    w.message("assistant", "Python 3.12.3.", phase="final_answer", turn_id="turn-p1",
              id="msg_p_final")
    w.event("item_completed", thread_id=TPAGE, turn_id="turn-p1", item={
        "type": "AgentMessage", "id": "msg_p_final",
        "content": [{"type": "Text", "text": "Python 3.12.3."}]})
    second = usage(5100, 5000, 12, 0)
    w.line("token_usage_record", {"thread_id": TPAGE, "turn_id": "turn-p1",
                                  "session_id": TPAGE, "response_id": "resp_p2",
                                  "usage": second, "attribution": {"model": "gpt-5.5"}})
    w.token_count({name: first[name] + second[name] for name in first}, second)
    w.event("item_completed", thread_id=TPAGE, turn_id="turn-p1",
            item={"type": "Hologram", "id": "h1"})                                 # unknown
    w.event("task_complete", turn_id="turn-p1", duration_ms=3000)
    suffix = ".jsonl.zst" if compress else ".jsonl"
    return w.write(directory / "2026" / "09" / "02" /
                   f"rollout-2026-09-02T10-00-00-{TPAGE}{suffix}")


def fork_of(directory: Path, parent: SessionWriter) -> Path:
    """A fork of ``parent`` (``forked_from_id``): the parent's history copied with its
    timestamps, then one turn of its own."""
    forked = datetime(2026, 3, 11, 8, 0, 0, tzinfo=UTC)
    w = SessionWriter(TFORK, forked)
    w.meta(forked_from_id=parent.thread_id, cwd="/work/svc", source="cli")
    w.copy_lines(parent)
    w.clock = forked
    w.event("task_started", turn_id="turn-f1")
    w.message("user", "try another approach", turn_id="turn-f1")
    own = usage(400, 0, 5, 0)
    w.token_count(own, own)
    w.event("task_complete", turn_id="turn-f1", duration_ms=800)
    return w.write(directory / "2026" / "03" / "11" /
                   f"rollout-2026-03-11T09-00-00-{TFORK}.jsonl")
