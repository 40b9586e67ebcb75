#!/usr/bin/env python3
"""Regenerate ``examples/bundles/upstream-interrupt/``: a bundle in the newer trace format.

It is written the way current upstream Codex writes traces (see
``upstream-delta.md`` in the shared reference), with ``TraceWriter(dialect="upstream")``:

- ``trace_id`` and inference call ids are UUID v4; ``manifest.rollout_id`` is the
  root thread id (§1.8);
- ``rollout_started``, ``thread_started``, ``thread_ended``, ``rollout_ended`` and
  ``mcp_tool_call_correlation_assigned`` are appended without envelope context;
- inference events always carry ``upstream_request_id`` (null here: the session
  talks to the Responses API over a websocket), response payloads carry
  ``response_id``, ``upstream_request_id`` and ``token_usage`` with ``total_tokens``;
- partial response payloads of a cancelled stream have ``response_id`` and
  ``token_usage`` null;
- MCP tools arrive with a ``function`` invocation payload and an ``other`` kind
  (the newest dispatch derives kinds from tool names only), plus a correlation id;
- spawned agents report a ``SubAgentActivity`` runtime payload, and mailbox
  deliveries are typed ``agent_message`` items.

The story: the user asks for a review of a cache layer. The root agent looks up
docs through an MCP tool, spawns a reviewer, and starts another sampling request
while the reviewer works. The user interrupts: the turn ends ``cancelled``,
which closes the still-streaming inference; only then does the stream mapper
record its cancellation with the partial output. In the next turn a full
request replays the history, including a reasoning item that was first seen
encrypted-only and now carries its summary, and the reviewer's result.

Everything is deterministic (fixed ids, seeded generators, a fake clock)::

    python examples/generate_upstream_bundle.py           # write the bundle
    python examples/generate_upstream_bundle.py --reduce  # and its state.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tracegraph.authoring import FakeClock, Ids, codex  # noqa: E402
from tracegraph.authoring.codex import direct_output, usage  # noqa: E402
from tracegraph.authoring.items import (  # noqa: E402
    Json,
    agent_message,
    assistant,
    function_call,
    function_output,
    reasoning,
)
from tracegraph.authoring.items import input_message as text_message  # noqa: E402
from tracegraph.authoring.recorder import Recorder  # noqa: E402
from tracegraph.authoring.script import example_bundle_main  # noqa: E402

BUNDLE_DIR = Path(__file__).resolve().parent / "bundles" / "upstream-interrupt"

MODEL = "gpt-5.1-codex"
PROVIDER_NAME = "OpenAI"
PROVIDER_ID = "openai"
CWD = "/home/dev/src/orbit"

ROOT_THREAD = "019e8c4a-7b10-7d2e-9f31-4a5b6c7d8e9f"
CHILD_THREAD = "019e8c4b-0c21-7e3f-8a42-5b6c7d8e9fa0"
ROOT_TURN_1 = "019e8c4a-8c21-7a03-b4d5-e6f708192a3b"
ROOT_TURN_2 = "019e8c4d-1e43-7b25-86f7-0819a2b3c4d5"
CHILD_TURN = "019e8c4b-1d32-7c14-95e6-f708192a3b4c"
CHILD_PATH = "/root/reviewer"

PERMISSIONS_TEXT = (
    "<permissions instructions>\nFilesystem sandboxing defines which files can be read or "
    "written. `sandbox_mode` is `workspace-write`.\nNetwork access is restricted.\n"
    "Approval policy is currently on-request.\n</permissions instructions>"
)
AGENTS_MD_TEXT = (
    f"# AGENTS.md instructions for {CWD}\n\n<INSTRUCTIONS>\n"
    "- Run `cargo fmt` and `cargo clippy --all-targets` before finishing.\n</INSTRUCTIONS>"
)
ENVIRONMENT_TEXT = (
    f"<environment_context>\n  <cwd>{CWD}</cwd>\n  <approval_policy>on-request</approval_policy>\n"
    "  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
    "  <shell>bash</shell>\n</environment_context>"
)
BASE_INSTRUCTIONS = (
    "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a "
    "user's computer."
)

TOOLS: list[Json] = [
    {"type": "function", "name": "exec_command", "description": "Runs a command in a PTY.",
     "strict": False,
     "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}},
                    "required": ["cmd"], "additionalProperties": False}},
    {"type": "function", "name": "mcp__docs__search",
     "description": "Search the project documentation.", "strict": False,
     "parameters": {"type": "object",
                    "properties": {"query": {"type": "string"}, "limit": {"type": "number"}},
                    "required": ["query"], "additionalProperties": False}},
    {"type": "function", "name": "spawn_agent", "description": "Spawn a sub-agent for a task.",
     "strict": False,
     "parameters": {"type": "object",
                    "properties": {"task_name": {"type": "string"},
                                   "message": {"type": "string"},
                                   "agent_role": {"type": "string"}},
                    "required": ["task_name", "message"], "additionalProperties": False}},
]


# --------------------------------------------------------------------------
# Payload shapes with this session's constants (the kit takes them as arguments)
# --------------------------------------------------------------------------


def request(input_items: list[Json], *, thread_id: str,
            previous_response_id: str | None = None) -> Json:
    return codex.responses_request(input_items, model=MODEL, instructions=BASE_INSTRUCTIONS,
                                   tools=TOOLS, prompt_cache_key=thread_id,
                                   previous_response_id=previous_response_id)


def rollout_path(thread_id: str) -> str:
    return f"/home/dev/.codex/sessions/2026/06/20/rollout-{thread_id}.jsonl"


def thread_metadata(thread_id: str, *, agent_path: str, session_source: Any,
                    nickname: str | None = None, agent_role: str | None = None) -> Json:
    return codex.thread_metadata(
        thread_id, agent_path=agent_path, session_source=session_source, cwd=CWD,
        rollout_path=rollout_path(thread_id), model=MODEL, provider_id=PROVIDER_ID,
        sandbox_policy="workspace-write", nickname=nickname, agent_role=agent_role)


def recorder(bundle_dir: Path, *, trace_id: str, clock: FakeClock, ids: Ids) -> Recorder:
    # Bundle directory of a real producer: trace-{trace_id}-{root_thread_id}.
    return Recorder(bundle_dir, trace_id=trace_id, root_thread_id=ROOT_THREAD, clock=clock,
                    model=MODEL, provider_name=PROVIDER_NAME, dialect="upstream",
                    inference_ids=ids.uuid4)


def session_configured(rec: Recorder, thread_id: str) -> None:
    rec.session_configured(thread_id, provider_id=PROVIDER_ID, cwd=CWD,
                           rollout_path=rollout_path(thread_id))


def tool_started(rec: Recorder, thread_id: str, turn_id: str, call_id: str, tool_name: str,
                 namespace: str | None, arguments: Json, kind: Json, label: str) -> None:
    """A function tool; current Codex writes the whole arguments as the preview."""
    raw_arguments = json.dumps(arguments, ensure_ascii=False)
    rec.tool_started(thread_id, turn_id, call_id, tool_name,
                     {"type": "function", "arguments": raw_arguments}, namespace=namespace,
                     kind=kind, label=label, input_preview=raw_arguments)


def agent_result(rec: Recorder, child_turn_id: str, message: str, status: Json) -> None:
    rec.agent_result(CHILD_THREAD, child_turn_id, ROOT_THREAD, CHILD_PATH, message, status)


# --------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------


def generate(bundle_dir: Path = BUNDLE_DIR) -> None:
    clock = FakeClock(1_781_946_000_000)  # 2026-06-20T09:00:00Z
    ids = Ids("upstream-interrupt")
    rec = recorder(bundle_dir, trace_id=ids.uuid4(), clock=clock, ids=ids)
    root, turn1, turn2 = ROOT_THREAD, ROOT_TURN_1, ROOT_TURN_2

    rec.thread_started(thread_metadata(root, agent_path="/root", session_source="cli"))
    session_configured(rec, root)
    clock.sleep(2_400)

    # -- turn 1: docs lookup (MCP), spawn a reviewer, then the user interrupts --------
    ask = ("Review the ephemeris cache layer for invalidation bugs. Check the docs for the "
           "invalidation contract first, and get a second opinion from a reviewer agent.")
    history = [text_message("developer", PERMISSIONS_TEXT), text_message("user", AGENTS_MD_TEXT),
               text_message("user", ENVIRONMENT_TEXT), text_message("user", ask)]
    rec.turn_started(root, turn1)
    inf_a = rec.inference_started(root, turn1, request(history, thread_id=root))
    clock.sleep(2_150)
    resp_a = ids.response()
    call_docs = ids.call()
    docs_args = {"query": "ephemeris cache invalidation contract", "limit": 3}
    blob_a = ids.encrypted()
    # The completed output item carried no summary yet: summary parts stream after
    # output_item.done. It is first seen encrypted-only.
    reasoning_a_first = reasoning([], blob_a)
    out_a = [reasoning_a_first, function_call("mcp__docs__search", docs_args, call_docs)]
    rec.inference_completed(root, turn1, inf_a, resp_a, usage(7_912, 0, 96, 64), out_a)

    clock.sleep(14)
    tool_started(rec, root, turn1, call_docs, "search", "mcp__docs__", docs_args,
                     {"type": "other", "name": "search"}, "mcp__docs__.search")
    rec.mcp_correlation(call_docs, ids.uuid4())
    invocation = {"server": "docs", "tool": "search", "arguments": docs_args}
    rec.runtime_started(root, turn1, call_docs, {"call_id": call_docs, "invocation": invocation})
    clock.sleep(412)
    docs_result = {"results": [
        {"title": "Ephemeris cache: invalidation on leap-second table updates",
         "url": "https://docs.orbit.dev/internals/ephemeris-cache", "score": 0.93},
        {"title": "Cache keys and epochs", "url": "https://docs.orbit.dev/internals/cache-keys",
         "score": 0.71},
    ]}
    docs_text = json.dumps(docs_result, ensure_ascii=False)
    rec.runtime_ended(root, turn1, call_docs, {
        "call_id": call_docs, "invocation": invocation,
        "duration": {"secs": 0, "nanos": 412_000_000},
        "result": {"Ok": {"content": [{"type": "text", "text": docs_text}], "isError": False}}})
    rec.tool_ended(root, turn1, call_docs, direct_output(call_docs, docs_text))

    clock.sleep(9)
    inf_b = rec.inference_started(root, turn1, request(
        [function_output(call_docs, docs_text)], thread_id=root, previous_response_id=resp_a))
    clock.sleep(1_870)
    resp_b = ids.response()
    call_spawn = ids.call()
    task = ("Review crates/orbit-core/src/cache.rs for invalidation bugs against the leap-second "
            "contract in the docs. Reply with findings only.")
    spawn_args = {"task_name": "reviewer", "message": task, "agent_role": "reviewer"}
    reasoning_b = reasoning(["**Delegating a review**\n\nA second reader can check cache.rs "
                             "while I read the invalidation path."], ids.encrypted(120))
    out_b = [reasoning_b, function_call("spawn_agent", spawn_args, call_spawn)]
    rec.inference_completed(root, turn1, inf_b, resp_b, usage(8_240, 7_936, 118, 48), out_b)

    clock.sleep(11)
    tool_started(rec, root, turn1, call_spawn, "spawn_agent", None, spawn_args,
                     {"type": "spawn_agent"}, "spawn_agent")
    clock.sleep(37)
    child_source = {"subagent": {"thread_spawn": {
        "parent_thread_id": root, "depth": 1, "agent_path": CHILD_PATH,
        "agent_nickname": "Hubble", "agent_role": "reviewer"}}}
    rec.thread_started(thread_metadata(CHILD_THREAD, agent_path=CHILD_PATH,
                                       session_source=child_source, nickname="Hubble",
                                       agent_role="reviewer"))
    session_configured(rec, CHILD_THREAD)
    # SubAgentActivity becomes the agent tool's runtime end (protocol_event.rs).
    rec.runtime_ended(root, turn1, call_spawn, {
        "event_id": call_spawn, "occurred_at_ms": clock.now, "agent_thread_id": CHILD_THREAD,
        "agent_path": CHILD_PATH, "kind": "started"})
    spawn_output = json.dumps({"agent_path": CHILD_PATH, "nickname": "Hubble"})
    rec.tool_ended(root, turn1, call_spawn, direct_output(call_spawn, spawn_output))

    # The reviewer's first request carries the task as a typed agent_message.
    clock.sleep(20)
    rec.turn_started(CHILD_THREAD, CHILD_TURN)
    child_history = [text_message("developer", PERMISSIONS_TEXT),
                     text_message("user", AGENTS_MD_TEXT), text_message("user", ENVIRONMENT_TEXT),
                     agent_message("/root", CHILD_PATH, task)]
    inf_child = rec.inference_started(CHILD_THREAD, CHILD_TURN,
                                      request(child_history, thread_id=CHILD_THREAD))

    # Meanwhile the root samples again; this stream is the one the user interrupts.
    clock.sleep(6)
    inf_d = rec.inference_started(root, turn1, request(
        [function_output(call_spawn, spawn_output)], thread_id=root,
        previous_response_id=resp_b))
    clock.sleep(3_120)
    review = ("Finding: `EphemerisCache::invalidate` compares table versions with `<` instead "
              "of `!=`, so a leap-second table rollback keeps stale entries (cache.rs:141).")
    out_child = [reasoning(["**Checking the version comparison**"], ids.encrypted(104)),
                 assistant(review, "final_answer")]
    rec.inference_completed(CHILD_THREAD, CHILD_TURN, inf_child, ids.response(),
                            usage(5_604, 0, 211, 130), out_child)
    clock.sleep(4)
    rec.turn_ended(CHILD_THREAD, CHILD_TURN, "completed")
    rec.protocol({"type": "turn_complete", "turn_id": CHILD_TURN, "last_agent_message": review})
    notification = json.dumps({"agent_path": CHILD_PATH, "status": {"completed": review}},
                              ensure_ascii=False)
    agent_result(rec, CHILD_TURN, notification, {"completed": review})

    # Ctrl-C: the turn ends first, closing the running stream; the mapper records
    # the cancellation (and the output items it had completed) afterwards.
    clock.sleep(850)
    rec.turn_ended(root, turn1, "cancelled")
    rec.protocol({"type": "turn_aborted", "turn_id": turn1, "reason": "interrupted"})
    clock.sleep(3)
    partial = assistant("While the reviewer works: the docs say invalidation must happen on "
                        "any leap-second table change, not only on upgrades.", "commentary")
    rec.inference_cancelled(root, turn1, inf_d, "turn interrupted", [partial])

    # -- turn 2: a full request replays the history ----------------------------------
    clock.sleep(6_400)
    follow_up = "Stop waiting and summarize what you have, including the reviewer's finding."
    reasoning_a_replayed = reasoning(
        ["**Looking up the contract**\n\nThe docs define when the ephemeris cache must be "
         "invalidated; check that before reading cache.rs."], blob_a)
    history += [reasoning_a_replayed, out_a[1], function_output(call_docs, docs_text),
                reasoning_b, out_b[1], function_output(call_spawn, spawn_output), partial,
                agent_message(CHILD_PATH, "/root", notification),
                text_message("user", follow_up)]
    rec.turn_started(root, turn2)
    inf_e = rec.inference_started(root, turn2, request(history, thread_id=root))
    clock.sleep(2_730)
    summary = ("Summary: the invalidation contract requires dropping cached ephemerides on any "
               "leap-second table change. The reviewer found that `invalidate` only reacts to "
               "newer versions (cache.rs:141), so a rollback leaves stale entries. Fix: "
               "compare with `!=`.")
    rec.inference_completed(root, turn2, inf_e, ids.response(), usage(9_877, 8_064, 142, 38),
                            [assistant(summary, "final_answer")])
    clock.sleep(5)
    rec.turn_ended(root, turn2, "completed")
    rec.protocol({"type": "turn_complete", "turn_id": turn2, "last_agent_message": summary})

    clock.sleep(20_000)
    rec.thread_ended(CHILD_THREAD)
    rec.thread_ended(root)
    rec.close()


def main(argv: list[str] | None = None) -> int:
    return example_bundle_main(__doc__, generate, BUNDLE_DIR, argv)


if __name__ == "__main__":
    raise SystemExit(main())
