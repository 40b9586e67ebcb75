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

import argparse
import json
import random
import shutil
import string
import sys
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tracegraph.bundle.writer import TraceWriter  # noqa: E402

BUNDLE_DIR = Path(__file__).resolve().parent / "bundles" / "upstream-interrupt"

Json = dict[str, Any]

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
# Deterministic ids and clock
# --------------------------------------------------------------------------


class FakeClock:
    """Unix-ms clock: every read advances 1 ms; ``sleep`` models real gaps."""

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def sleep(self, ms: int) -> None:
        self.now += ms


class Ids:
    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)

    def _pick(self, alphabet: str, n: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def call(self) -> str:
        return "call_" + self._pick(string.ascii_letters + string.digits, 24)

    def response(self) -> str:
        return "resp_" + self._pick("0123456789abcdef", 48)

    def encrypted(self, n: int = 160) -> str:
        return "gAAAAABo" + self._pick(string.ascii_letters + string.digits + "-_", n) + "=="


# --------------------------------------------------------------------------
# Responses API items and payload shapes
# --------------------------------------------------------------------------


def text_message(role: str, text: str) -> Json:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def assistant(text: str, phase: str) -> Json:
    return {"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": text}], "phase": phase}


def reasoning(summary: list[str], encrypted: str) -> Json:
    return {"type": "reasoning",
            "summary": [{"type": "summary_text", "text": text} for text in summary],
            "encrypted_content": encrypted}


def function_call(name: str, arguments: Json, call_id: str) -> Json:
    return {"type": "function_call", "name": name,
            "arguments": json.dumps(arguments, ensure_ascii=False), "call_id": call_id}


def function_output(call_id: str, output: str) -> Json:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def agent_message(author: str, recipient: str, text: str) -> Json:
    """A typed mailbox delivery (plaintext form)."""
    return {"type": "agent_message", "author": author, "recipient": recipient,
            "content": [{"type": "input_text", "text": text}]}


def usage(input_tokens: int, cached: int, output: int, reasoning_tokens: int) -> Json:
    return {"input_tokens": input_tokens, "cached_input_tokens": cached,
            "output_tokens": output, "reasoning_output_tokens": reasoning_tokens,
            "total_tokens": input_tokens + output}


def request(input_items: list[Json], *, thread_id: str,
            previous_response_id: str | None = None) -> Json:
    body: Json = {"model": MODEL, "instructions": BASE_INSTRUCTIONS}
    if previous_response_id is not None:
        body["previous_response_id"] = previous_response_id
    body.update({
        "input": input_items, "tools": TOOLS, "tool_choice": "auto",
        "parallel_tool_calls": False, "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False, "stream": True, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": thread_id,
    })
    return body


def thread_metadata(thread_id: str, *, agent_path: str, session_source: Any,
                    nickname: str | None = None, agent_role: str | None = None) -> Json:
    task_name = None if agent_path == "/root" else agent_path.rsplit("/", 1)[-1]
    return {
        "thread_id": thread_id, "agent_path": agent_path, "task_name": task_name,
        "nickname": nickname, "agent_role": agent_role, "session_source": session_source,
        "cwd": CWD,
        "rollout_path": f"/home/dev/.codex/sessions/2026/06/20/rollout-{thread_id}.jsonl",
        "model": MODEL, "provider_name": PROVIDER_ID, "approval_policy": "on-request",
        "sandbox_policy": "workspace-write",
    }


def direct_output(call_id: str, output: str) -> Json:
    return {"type": "direct_response", "response_item": function_output(call_id, output)}


# --------------------------------------------------------------------------
# Recorder: the upstream ThreadTraceContext hooks, one method each
# --------------------------------------------------------------------------


class Recorder:
    def __init__(self, bundle_dir: Path, *, trace_id: str, clock: FakeClock, ids: Ids) -> None:
        # Start from scratch, but keep a golden state.json that is already there.
        shutil.rmtree(bundle_dir / "payloads", ignore_errors=True)
        for name in ("manifest.json", "trace.jsonl"):
            (bundle_dir / name).unlink(missing_ok=True)
        self.clock = clock
        self.ids = ids
        # Bundle directory of a real producer: trace-{trace_id}-{root_thread_id}.
        self.writer = TraceWriter.create(bundle_dir, trace_id, ROOT_THREAD, ROOT_THREAD,
                                         clock=clock, dialect="upstream")
        self.emit({"type": "rollout_started", "trace_id": trace_id,
                   "root_thread_id": ROOT_THREAD})

    def payload(self, kind: str, value: Any) -> Json:
        return self.writer.write_json_payload(kind, value).model_dump(mode="json")

    def emit(self, payload: Json, thread_id: str | None = None,
             turn_id: str | None = None) -> int:
        return self.writer.append(payload, thread_id=thread_id, codex_turn_id=turn_id).seq

    def close(self) -> None:
        self.writer.close()

    def thread_started(self, metadata: Json) -> None:
        ref = self.payload("session_metadata", metadata)
        self.emit({"type": "thread_started", "thread_id": metadata["thread_id"],
                   "agent_path": metadata["agent_path"], "metadata_payload": ref})

    def thread_ended(self, thread_id: str) -> None:
        self.protocol({"type": "shutdown_complete"})
        self.emit({"type": "thread_ended", "thread_id": thread_id, "status": "completed"})
        if thread_id == ROOT_THREAD:
            self.emit({"type": "rollout_ended", "status": "completed"})

    def protocol(self, event: Json) -> None:
        ref = self.payload("protocol_event", event)
        self.emit({"type": "protocol_event_observed", "event_type": event["type"],
                   "event_payload": ref})

    def session_configured(self, thread_id: str) -> None:
        self.protocol({"type": "session_configured", "session_id": thread_id, "model": MODEL,
                       "model_provider_id": PROVIDER_ID, "approval_policy": "on-request",
                       "sandbox_policy": {"type": "workspace-write", "network_access": False},
                       "cwd": CWD, "reasoning_effort": "medium", "history_log_id": 0,
                       "history_entry_count": 0,
                       "rollout_path": f"/home/dev/.codex/sessions/2026/06/20/"
                                       f"rollout-{thread_id}.jsonl"})

    def turn_started(self, thread_id: str, turn_id: str) -> None:
        self.emit({"type": "codex_turn_started", "codex_turn_id": turn_id,
                   "thread_id": thread_id}, thread_id, turn_id)
        self.protocol({"type": "turn_started", "turn_id": turn_id,
                       "model_context_window": 272000, "collaboration_mode_kind": "default"})

    def turn_ended(self, thread_id: str, turn_id: str, status: str) -> int:
        return self.emit({"type": "codex_turn_ended", "codex_turn_id": turn_id,
                          "status": status}, thread_id, turn_id)

    def inference_started(self, thread_id: str, turn_id: str, body: Json) -> str:
        inference_id = self.ids.uuid4()
        ref = self.payload("inference_request", body)
        self.emit({"type": "inference_started", "inference_call_id": inference_id,
                   "thread_id": thread_id, "codex_turn_id": turn_id, "model": MODEL,
                   "provider_name": PROVIDER_NAME, "request_payload": ref}, thread_id, turn_id)
        return inference_id

    def inference_completed(self, thread_id: str, turn_id: str, inference_id: str,
                            response_id: str, token_usage: Json,
                            output_items: list[Json]) -> None:
        # Websocket transport: there is no x-request-id to record.
        ref = self.payload("inference_response", {
            "response_id": response_id, "upstream_request_id": None,
            "token_usage": token_usage, "output_items": output_items})
        self.emit({"type": "inference_completed", "inference_call_id": inference_id,
                   "response_id": response_id, "upstream_request_id": None,
                   "response_payload": ref}, thread_id, turn_id)

    def inference_cancelled(self, thread_id: str, turn_id: str, inference_id: str,
                            reason: str, partial_items: list[Json]) -> None:
        ref = self.payload("inference_response", {
            "response_id": None, "upstream_request_id": None, "token_usage": None,
            "output_items": partial_items})
        self.emit({"type": "inference_cancelled", "inference_call_id": inference_id,
                   "upstream_request_id": None, "reason": reason,
                   "partial_response_payload": ref}, thread_id, turn_id)

    def tool_started(self, thread_id: str, turn_id: str, call_id: str, tool_name: str,
                     namespace: str | None, arguments: Json, kind: Json, label: str) -> None:
        raw_arguments = json.dumps(arguments, ensure_ascii=False)
        ref = self.payload("tool_invocation", {
            "tool_name": tool_name, "tool_namespace": namespace,
            "payload": {"type": "function", "arguments": raw_arguments}})
        self.emit({"type": "tool_call_started", "tool_call_id": call_id,
                   "model_visible_call_id": call_id, "code_mode_runtime_tool_id": None,
                   "requester": {"type": "model"}, "kind": kind,
                   "summary": {"type": "generic", "label": label,
                               "input_preview": raw_arguments, "output_preview": None},
                   "invocation_payload": ref}, thread_id, turn_id)

    def tool_ended(self, thread_id: str, turn_id: str, call_id: str, result: Json) -> None:
        ref = self.payload("tool_result", result)
        self.emit({"type": "tool_call_ended", "tool_call_id": call_id, "status": "completed",
                   "result_payload": ref}, thread_id, turn_id)

    def runtime_started(self, thread_id: str, turn_id: str, call_id: str, event: Json) -> None:
        ref = self.payload("tool_runtime_event", event)
        self.emit({"type": "tool_call_runtime_started", "tool_call_id": call_id,
                   "runtime_payload": ref}, thread_id, turn_id)

    def runtime_ended(self, thread_id: str, turn_id: str, call_id: str, event: Json) -> None:
        ref = self.payload("tool_runtime_event", event)
        self.emit({"type": "tool_call_runtime_ended", "tool_call_id": call_id,
                   "status": "completed", "runtime_payload": ref}, thread_id, turn_id)

    def mcp_correlation(self, call_id: str) -> None:
        # start_mcp_call_trace: plain writer.append, no envelope context.
        self.emit({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": call_id,
                   "mcp_call_id": self.ids.uuid4()})

    def agent_result(self, child_turn_id: str, message: str, status: Json) -> None:
        ref = self.payload("agent_result", {"child_agent_path": CHILD_PATH, "message": message,
                                            "status": status})
        self.emit({"type": "agent_result_observed",
                   "edge_id": f"edge:agent_result:{CHILD_THREAD}:{child_turn_id}:{ROOT_THREAD}",
                   "child_thread_id": CHILD_THREAD, "child_codex_turn_id": child_turn_id,
                   "parent_thread_id": ROOT_THREAD, "message": message,
                   "carried_payload": ref}, CHILD_THREAD, child_turn_id)


# --------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------


def generate(bundle_dir: Path = BUNDLE_DIR) -> None:
    clock = FakeClock(1_781_946_000_000)  # 2026-06-20T09:00:00Z
    ids = Ids("upstream-interrupt")
    rec = Recorder(bundle_dir, trace_id=ids.uuid4(), clock=clock, ids=ids)
    root, turn1, turn2 = ROOT_THREAD, ROOT_TURN_1, ROOT_TURN_2

    rec.thread_started(thread_metadata(root, agent_path="/root", session_source="cli"))
    rec.session_configured(root)
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
    rec.tool_started(root, turn1, call_docs, "search", "mcp__docs__", docs_args,
                     {"type": "other", "name": "search"}, "mcp__docs__.search")
    rec.mcp_correlation(call_docs)
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
    rec.tool_started(root, turn1, call_spawn, "spawn_agent", None, spawn_args,
                     {"type": "spawn_agent"}, "spawn_agent")
    clock.sleep(37)
    child_source = {"subagent": {"thread_spawn": {
        "parent_thread_id": root, "depth": 1, "agent_path": CHILD_PATH,
        "agent_nickname": "Hubble", "agent_role": "reviewer"}}}
    rec.thread_started(thread_metadata(CHILD_THREAD, agent_path=CHILD_PATH,
                                       session_source=child_source, nickname="Hubble",
                                       agent_role="reviewer"))
    rec.session_configured(CHILD_THREAD)
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
    rec.agent_result(CHILD_TURN, notification, {"completed": review})

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduce", action="store_true",
                        help="also write state.json with tracegraph (dialect auto)")
    args = parser.parse_args(argv)
    generate(BUNDLE_DIR)
    print(BUNDLE_DIR)
    if args.reduce:
        from tracegraph.reducer import replay

        result = replay(BUNDLE_DIR, dialect="auto")
        print(f"dialect: {result.dialect} ({result.dialect_reason})")
        (BUNDLE_DIR / "state.json").write_text(result.trace.to_state_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
