#!/usr/bin/env python3
"""Regenerate ``examples/bundles/upstream-agents/``: multi-agent work as current Codex traces it.

It follows ``upstream-delta-2.md`` (the format after mid-2026), written with the
authoring kit in the ``upstream`` dialect:

- requests in the Responses "lite" form: no top-level ``instructions`` or
  ``tools``; an ``additional_tools`` input item carries the tool specs instead;
- multi-agent v2 deliveries are typed ``agent_message`` items with two parts,
  a plaintext envelope and the ``encrypted_content`` of the message (#26210);
- agent tools end with ``SubAgentActivity`` runtime payloads that carry
  ``operation`` and ``outcome``: a spawn, a ``send_message``, a child's
  ``parent_reply`` and a ``followup_task`` that failed (runtime status
  ``failed``, as the producer writes it);
- token usage reports ``cache_write_input_tokens``;
- a later full request replays an assistant message with
  ``internal_chat_message_metadata_passthrough`` attached;
- a ``context_anchor_saved`` protocol breadcrumb.

The story: the user asks for the flaky cache tests to be fixed. The root agent
spawns a tester, nudges it with a hint, tries to hand it a follow-up while it is
still busy (that fails), and gets the tester's report back; the tester runs the
tests, replies to its parent and finishes. A second turn asks for a summary.

Everything is deterministic (fixed ids, seeded generators, a fake clock)::

    python examples/generate_current_bundle.py           # write the bundle
    python examples/generate_current_bundle.py --reduce  # and its state.json
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
from tracegraph.authoring.codex import (  # noqa: E402
    direct_output,
    exec_begin,
    exec_end,
    function_args,
    unified_exec_output,
    usage,
)
from tracegraph.authoring.items import (  # noqa: E402
    Json,
    agent_message,
    assistant,
    function_call,
    function_output,
    input_message,
    reasoning,
    replayed,
)
from tracegraph.authoring.recorder import Recorder  # noqa: E402
from tracegraph.authoring.script import example_bundle_main  # noqa: E402

BUNDLE_DIR = Path(__file__).resolve().parent / "bundles" / "upstream-agents"

MODEL = "gpt-5.2-codex"
PROVIDER_NAME = "OpenAI"
PROVIDER_ID = "openai"
CWD = "/home/dev/src/orbit"

ROOT_THREAD = "019f3b10-2c4d-7e5f-8a6b-7c8d9e0f1a2b"
CHILD_THREAD = "019f3b11-3d5e-7f60-9b7c-8d9e0f1a2b3c"
ROOT_TURN_1 = "019f3b10-4e6f-7081-a2b3-c4d5e6f70819"
ROOT_TURN_2 = "019f3b14-5f70-7192-b3c4-d5e6f7081920"
CHILD_TURN = "019f3b11-6071-72a3-84d5-e6f708192a3b"
CHILD_PATH = "/root/tester"

PERMISSIONS_TEXT = (
    "<permissions instructions>\nFilesystem sandboxing defines which files can be read or "
    "written. `sandbox_mode` is `workspace-write`.\nNetwork access is restricted.\n"
    "Approval policy is currently on-request.\n</permissions instructions>"
)
ENVIRONMENT_TEXT = (
    f"<environment_context>\n  <cwd>{CWD}</cwd>\n  <shell>bash</shell>\n</environment_context>"
)


def tool_spec(name: str, description: str, *properties: str) -> Json:
    return {"type": "function", "name": name, "description": description, "strict": False,
            "parameters": {"type": "object",
                           "properties": {key: {"type": "string"} for key in properties},
                           "additionalProperties": False}}


#: "Responses lite": the tool specs travel as an input item, not as top-level ``tools``.
ADDITIONAL_TOOLS: Json = {
    "type": "additional_tools",
    "role": "developer",
    "tools": [
        tool_spec("exec_command", "Runs a command in a PTY.", "cmd", "workdir"),
        {"type": "namespace", "name": "collaboration",
         "description": "Work with other agents.",
         "tools": [tool_spec("spawn_agent", "Spawn a sub-agent.", "task_name", "message"),
                   tool_spec("send_message", "Message an agent.", "target", "message"),
                   tool_spec("followup_task", "Give an agent a new task.", "target", "message")]},
    ],
}

TASK = ("Run tests/test_cache.py ten times with -p no:randomly and tell me which tests fail "
        "intermittently, with the assertion each one fails on.")
HINT = "The failures started after the TTL change in cache.rs; start with test_expiry."
FOLLOWUP = "Once that is done, also check tests/test_eviction.py."
REPLY = "test_expiry fails 3/10 runs: the TTL comparison uses `<` so entries live one tick long."
REPORT = ("`test_expiry` is flaky (3 of 10 runs): `Entry::expired` compares `now < deadline`, "
          "so an entry survives the tick it expires on. The other cache tests pass 10/10.")


def rollout_path(thread_id: str) -> str:
    return f"/home/dev/.codex/sessions/2026/10/14/rollout-{thread_id}.jsonl"


def request(input_items: list[Json], *, thread_id: str,
            previous_response_id: str | None = None) -> Json:
    body: Json = {"model": MODEL}
    if previous_response_id is not None:
        body["previous_response_id"] = previous_response_id
    body.update({
        "input": input_items, "tool_choice": "auto", "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto", "context": "all_turns"},
        "store": False, "stream": True, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": thread_id,
    })
    return body


def thread_metadata(thread_id: str, *, agent_path: str, session_source: Any,
                    nickname: str | None = None, agent_role: str | None = None) -> Json:
    return codex.thread_metadata(
        thread_id, agent_path=agent_path, session_source=session_source, cwd=CWD,
        rollout_path=rollout_path(thread_id), model=MODEL, provider_id=PROVIDER_ID,
        sandbox_policy="workspace-write", nickname=nickname, agent_role=agent_role)


def task_envelope(kind: str, sender: str) -> str:
    """The plaintext part of an encrypted delivery: who sent what, not the message."""
    return f"Message Type: {kind}\nTask name: {CHILD_PATH}\nSender: {sender}\nPayload:\n"


class Session:
    def __init__(self, bundle_dir: Path) -> None:
        self.clock = FakeClock(1_792_058_400_000)  # 2026-10-14T08:00:00Z
        self.ids = Ids("upstream-agents")
        self.rec = Recorder(bundle_dir, trace_id=self.ids.uuid4(), root_thread_id=ROOT_THREAD,
                            clock=self.clock, model=MODEL, provider_name=PROVIDER_NAME,
                            dialect="upstream", inference_ids=self.ids.uuid4)

    def session_configured(self, thread_id: str) -> None:
        self.rec.session_configured(thread_id, provider_id=PROVIDER_ID, cwd=CWD,
                                    rollout_path=rollout_path(thread_id))

    def agent_tool(self, thread_id: str, turn_id: str, call_id: str, tool_name: str,
                   arguments: Json) -> None:
        raw = json.dumps(arguments, ensure_ascii=False)
        self.rec.tool_started(thread_id, turn_id, call_id, tool_name, function_args(arguments),
                              namespace="collaboration", label=f"collaboration.{tool_name}",
                              input_preview=raw)

    def activity(self, thread_id: str, turn_id: str, call_id: str, *, agent_thread_id: str,
                 agent_path: str, kind: str, operation: str | None, outcome: str) -> None:
        """``SubAgentActivity`` as the agent tool's runtime end (protocol_event.rs)."""
        event: Json = {"event_id": call_id, "occurred_at_ms": self.clock.now,
                       "agent_thread_id": agent_thread_id, "agent_path": agent_path,
                       "kind": kind}
        if operation is not None:
            event["operation"] = operation
        event["outcome"] = outcome
        self.rec.runtime_ended(thread_id, turn_id, call_id, event,
                               status="failed" if outcome == "failed" else "completed")


def generate(bundle_dir: Path = BUNDLE_DIR) -> None:
    s = Session(bundle_dir)
    rec, clock, ids = s.rec, s.clock, s.ids
    root, child = ROOT_THREAD, CHILD_THREAD

    rec.thread_started(thread_metadata(root, agent_path="/root", session_source="cli"))
    s.session_configured(root)
    clock.sleep(3_100)

    # -- root turn 1: spawn a tester -------------------------------------------------
    ask = input_message("user", "The cache tests are flaky. Find out which ones and why; use a "
                                "tester agent so you can keep reading the code.")
    prefix = [ADDITIONAL_TOOLS, input_message("developer", PERMISSIONS_TEXT),
              input_message("user", ENVIRONMENT_TEXT)]
    history = [*prefix, ask]
    rec.turn_started(root, ROOT_TURN_1)
    inf_a = rec.inference_started(root, ROOT_TURN_1, request(history, thread_id=root))
    clock.sleep(2_640)
    call_spawn = ids.call()
    resp_a = ids.response()
    out_a = [reasoning(["**Delegating the test runs**\n\nA tester can loop the suite while I "
                        "read cache.rs."], ids.encrypted()),
             function_call("spawn_agent", {"task_name": "tester", "message": TASK}, call_spawn)]
    rec.inference_completed(root, ROOT_TURN_1, inf_a, resp_a,
                            usage(6_930, 0, 142, 64, cache_write=6_656), out_a)
    history += [replayed(item) for item in out_a]

    clock.sleep(12)
    s.agent_tool(root, ROOT_TURN_1, call_spawn, "spawn_agent",
                 {"task_name": "tester", "message": TASK})
    clock.sleep(41)
    child_source = {"subagent": {"thread_spawn": {
        "parent_thread_id": root, "depth": 1, "agent_path": CHILD_PATH,
        "agent_nickname": "Noether", "agent_role": "worker"}}}
    rec.thread_started(thread_metadata(child, agent_path=CHILD_PATH, session_source=child_source,
                                       nickname="Noether", agent_role="worker"))
    s.session_configured(child)
    s.activity(root, ROOT_TURN_1, call_spawn, agent_thread_id=child, agent_path=CHILD_PATH,
               kind="started", operation=None, outcome="succeeded")
    spawn_text = json.dumps({"agent_path": CHILD_PATH, "nickname": "Noether"})
    rec.tool_ended(root, ROOT_TURN_1, call_spawn, direct_output(call_spawn, spawn_text))
    history.append(function_output(call_spawn, spawn_text))

    # The tester's first request: the task arrives encrypted behind a plaintext envelope.
    clock.sleep(25)
    rec.turn_started(child, CHILD_TURN)
    task_delivery = agent_message("/root", CHILD_PATH, task_envelope("NEW_TASK", "/root"),
                                  encrypted_content=ids.encrypted(200))
    child_history = [*prefix, task_delivery]
    inf_c1 = rec.inference_started(child, CHILD_TURN, request(child_history, thread_id=child))

    # Root, meanwhile: a hint for the tester.
    clock.sleep(7)
    inf_b = rec.inference_started(root, ROOT_TURN_1, request(
        [function_output(call_spawn, spawn_text)], thread_id=root, previous_response_id=resp_a))
    clock.sleep(1_980)
    call_hint = ids.call()
    resp_b = ids.response()
    out_b = [function_call("send_message", {"target": CHILD_PATH, "message": HINT}, call_hint)]
    rec.inference_completed(root, ROOT_TURN_1, inf_b, resp_b,
                            usage(7_210, 6_656, 61, 0, cache_write=0), out_b)
    history += out_b
    clock.sleep(9)
    s.agent_tool(root, ROOT_TURN_1, call_hint, "send_message",
                 {"target": CHILD_PATH, "message": HINT})
    s.activity(root, ROOT_TURN_1, call_hint, agent_thread_id=child, agent_path=CHILD_PATH,
               kind="interacted", operation="send_message", outcome="succeeded")
    hint_text = json.dumps({"submission_id": ids.uuid4()})
    rec.tool_ended(root, ROOT_TURN_1, call_hint, direct_output(call_hint, hint_text))
    history.append(function_output(call_hint, hint_text))

    # The tester runs the tests.
    clock.sleep(1_160)
    call_loop = ids.call()
    resp_c1 = ids.response()
    loop_cmd = "for i in $(seq 10); do pytest -q -p no:randomly tests/test_cache.py; done"
    out_c1 = [reasoning(["**Looping the cache tests**"], ids.encrypted(96)),
              function_call("exec_command", {"cmd": loop_cmd, "workdir": CWD}, call_loop)]
    rec.inference_completed(child, CHILD_TURN, inf_c1, resp_c1,
                            usage(5_480, 0, 77, 32, cache_write=5_376), out_c1)
    child_history += [replayed(item) for item in out_c1]
    clock.sleep(10)
    rec.tool_started(child, CHILD_TURN, call_loop, "exec_command",
                     function_args({"cmd": loop_cmd, "workdir": CWD}))
    begin = exec_begin(call_loop, CHILD_TURN, loop_cmd, cwd=CWD, process_id="48213")
    rec.runtime_started(child, CHILD_TURN, call_loop, begin)
    clock.sleep(21_400)
    loop_out = ("......F...\nFAILED tests/test_cache.py::test_expiry - assert entry is None\n"
                * 3 + "..........\n" * 7)
    rec.runtime_ended(child, CHILD_TURN, call_loop,
                      exec_end(begin, stdout=loop_out, exit_code=1, wall_ms=21_400),
                      status="failed")
    loop_text = unified_exec_output(ids.chunk(), 21_400, loop_out, exit_code=1)
    rec.tool_ended(child, CHILD_TURN, call_loop, direct_output(call_loop, loop_text))

    # The root tries to queue a follow-up while the tester is busy: the activity fails.
    clock.sleep(300)
    inf_b2 = rec.inference_started(root, ROOT_TURN_1, request(
        [function_output(call_hint, hint_text)], thread_id=root, previous_response_id=resp_b))
    clock.sleep(1_410)
    call_follow = ids.call()
    resp_b2 = ids.response()
    out_b2 = [function_call("followup_task", {"target": CHILD_PATH, "message": FOLLOWUP},
                            call_follow)]
    rec.inference_completed(root, ROOT_TURN_1, inf_b2, resp_b2,
                            usage(7_402, 7_168, 58, 0, cache_write=0), out_b2)
    history += out_b2
    clock.sleep(8)
    s.agent_tool(root, ROOT_TURN_1, call_follow, "followup_task",
                 {"target": CHILD_PATH, "message": FOLLOWUP})
    s.activity(root, ROOT_TURN_1, call_follow, agent_thread_id=child, agent_path=CHILD_PATH,
               kind="interacted", operation="followup_task", outcome="failed")
    busy = f"agent {CHILD_PATH} is busy with a task; wait for it before assigning another"
    rec.tool_ended(root, ROOT_TURN_1, call_follow,
                   {"type": "error", "error": busy}, status="failed")
    history.append(function_output(call_follow, busy))

    # The tester sees the hint (encrypted) with its tool output, and replies to its parent.
    clock.sleep(40)
    hint_delivery = agent_message("/root", CHILD_PATH, task_envelope("MESSAGE", "/root"),
                                  encrypted_content=ids.encrypted(120))
    new_child = [function_output(call_loop, loop_text), hint_delivery]
    child_history += new_child
    inf_c2 = rec.inference_started(child, CHILD_TURN, request(
        new_child, thread_id=child, previous_response_id=resp_c1))
    clock.sleep(2_210)
    call_reply = ids.call()
    resp_c2 = ids.response()
    out_c2 = [function_call("send_message", {"target": "/root", "message": REPLY}, call_reply)]
    rec.inference_completed(child, CHILD_TURN, inf_c2, resp_c2,
                            usage(6_140, 5_376, 70, 0, cache_write=512), out_c2)
    child_history += out_c2
    clock.sleep(6)
    s.agent_tool(child, CHILD_TURN, call_reply, "send_message",
                 {"target": "/root", "message": REPLY})
    s.activity(child, CHILD_TURN, call_reply, agent_thread_id=root, agent_path="/root",
               kind="interacted", operation="parent_reply", outcome="succeeded")
    reply_text = json.dumps({"submission_id": ids.uuid4()})
    rec.tool_ended(child, CHILD_TURN, call_reply, direct_output(call_reply, reply_text))
    child_history.append(function_output(call_reply, reply_text))

    # The tester finishes; its result is delivered to the root as a plaintext notification.
    clock.sleep(15)
    inf_c3 = rec.inference_started(child, CHILD_TURN, request(
        [function_output(call_reply, reply_text)], thread_id=child,
        previous_response_id=resp_c2))
    clock.sleep(2_870)
    out_c3 = [assistant(REPORT, "final_answer")]
    rec.inference_completed(child, CHILD_TURN, inf_c3, ids.response(),
                            usage(6_390, 6_144, 96, 0, cache_write=0), out_c3)
    clock.sleep(4)
    rec.turn_ended(child, CHILD_TURN, "completed")
    rec.protocol({"type": "turn_complete", "turn_id": CHILD_TURN, "last_agent_message": REPORT})
    notification = json.dumps({"agent_path": CHILD_PATH, "status": {"completed": REPORT}},
                              ensure_ascii=False)
    rec.agent_result(child, CHILD_TURN, root, CHILD_PATH, notification, {"completed": REPORT})

    clock.sleep(600)
    result_delivery = agent_message(CHILD_PATH, "/root", notification)
    new_root = [function_output(call_follow, busy), result_delivery]
    history += [result_delivery]
    inf_d = rec.inference_started(root, ROOT_TURN_1, request(
        new_root, thread_id=root, previous_response_id=resp_b2))
    clock.sleep(3_020)
    answer = ("The flaky test is `test_expiry`: `Entry::expired` uses `now < deadline`, so an "
              "entry outlives its last tick. Changing it to `<=` fixes the race.")
    out_d = [assistant(answer, "final_answer")]
    rec.inference_completed(root, ROOT_TURN_1, inf_d, ids.response(),
                            usage(7_655, 7_424, 88, 0, cache_write=128), out_d)
    history += out_d
    clock.sleep(5)
    rec.turn_ended(root, ROOT_TURN_1, "completed")
    rec.protocol({"type": "turn_complete", "turn_id": ROOT_TURN_1, "last_agent_message": answer})
    rec.protocol({"type": "context_anchor_saved", "turn_id": ROOT_TURN_1,
                  "anchor_id": ids.uuid4()})

    # -- root turn 2: a full request; the answer comes back with passthrough metadata --
    clock.sleep(48_000)
    follow_up = input_message("user", "Summarize that in one sentence for the changelog.")
    history = [item if item is not out_d[0] else
               {**item, "internal_chat_message_metadata_passthrough": {"turn_index": 1}}
               for item in history]
    history.append(follow_up)
    rec.turn_started(root, ROOT_TURN_2)
    inf_e = rec.inference_started(root, ROOT_TURN_2, request(history, thread_id=root))
    clock.sleep(1_730)
    summary = "Fix an off-by-one-tick expiry in the cache (`now <= deadline`)."
    rec.inference_completed(root, ROOT_TURN_2, inf_e, ids.response(),
                            usage(7_930, 7_680, 31, 0, cache_write=0),
                            [assistant(summary, "final_answer")])
    clock.sleep(4)
    rec.turn_ended(root, ROOT_TURN_2, "completed")
    rec.protocol({"type": "turn_complete", "turn_id": ROOT_TURN_2, "last_agent_message": summary})

    clock.sleep(20_000)
    rec.thread_ended(child)
    rec.thread_ended(root)
    rec.close()


def main(argv: list[str] | None = None) -> int:
    return example_bundle_main(__doc__, generate, BUNDLE_DIR, argv)


if __name__ == "__main__":
    raise SystemExit(main())
