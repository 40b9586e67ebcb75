"""Randomized rollout-trace bundles for differential testing against the reference reducer.

``generate_bundle(path, seed)`` writes one bundle. The same seed always gives
the same bytes. Most seeds (about 80%) produce a **valid** rollout: it follows
the live recorder's payload shapes, and its raw evidence is consistent, so the
reference reducer accepts it. The rest get one **corruption** that the
reference rejects: an unknown thread, a duplicated id, a call id reused with
different content, a bad payload shape, a missing payload file, and so on.

A valid rollout is simulated, not templated. Each thread (the root thread, and
the multi-agent children it spawns) runs as a coroutine. A seeded scheduler
interleaves them, so the event orders are ones real Codex can produce:

- tool calls and code cells that start before the inference response that
  requested them completes;
- parallel tool calls, and nested code-mode tools that run in parallel;
- inferences that fail (with or without a partial response) and are retried;
  turns that are cancelled mid-inference;
- incremental (`previous_response_id`) requests mixed with full snapshots;
- reasoning items with or without readable text (summary/content), and
  readable text that first appears in a later replay;
- terminal sessions created by `exec_command` and reused by `write_stdin`; a
  process that exits during a write;
- code cells that complete, fail, yield and are waited on or terminated;
- remote compaction (with failed attempts) followed by full requests;
- multi-agent v2: spawn, send_message, followup_task, wait_agent and
  close_agent with UUID thread ids (in several accepted spellings),
  InterAgentCommunication mailbox messages, and agent results;
- unicode, control characters, floats and nested JSON in function arguments;
  token-usage oddities; CRLF or blank lines in the event log; payload files
  that the reducer never reads going missing.

Run ``python tests/generator.py --seeds 300`` to check the generator against
``../shared/tools/reference-reduce``. It prints the acceptance rate of valid
seeds and a histogram of the reference's error messages for corrupted ones.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import string
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tracegraph.authoring import (  # noqa: E402
    REFERENCE_REDUCE,
    Ids,
    reference_reducer,
    run_reference,
    tool_kind,
)
from tracegraph.authoring.codex import duration, tool_requester  # noqa: E402
from tracegraph.authoring.items import (  # noqa: E402
    Json,
    custom_call,
    function_call,
    input_texts,
)
from tracegraph.authoring.items import custom_output as custom_output  # noqa: E402
from tracegraph.authoring.items import function_output as fn_output  # noqa: E402
from tracegraph.authoring.items import message as msg  # noqa: E402
from tracegraph.bundle.writer import TraceWriter  # noqa: E402

Step = Generator[Any, None, Any]

#: Share of seeds that get a corruption.
INVALID_RATE = 0.2

#: Yielded by a coroutine that is waiting on another thread.
BLOCKED = object()


@dataclass
class BundleInfo:
    """What `generate_bundle_info` produced, for statistics and debugging."""

    seed: int
    valid: bool
    corruption: str | None = None
    features: set[str] = field(default_factory=set)


def generate_bundle(path: str | Path, seed: int) -> None:
    """Write one randomized bundle (valid or corrupted) to ``path``."""
    generate_bundle_info(path, seed)


def generate_bundle_info(path: str | Path, seed: int) -> BundleInfo:
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    rng = random.Random(seed)
    invalid = rng.random() < INVALID_RATE
    sim = Simulation(path, random.Random(rng.getrandbits(64)))
    sim.run()
    info = BundleInfo(seed=seed, valid=not invalid, features=set(sim.features))
    post = random.Random(rng.getrandbits(64))
    if invalid:
        info.corruption = corrupt(path, post, sim)
    else:
        harmless_variations(path, post, sim, info.features)
    return info


# ---------------------------------------------------------------------------
# Content pools
# ---------------------------------------------------------------------------

ASCII_WORDS = ["parser", "cache", "index", "frames", "epoch", "kepler", "orbit", "flaky",
               "retry", "build", "bench", "ledger", "shard", "vector", "matrix", "tokenizer",
               "config", "migrate", "schema", "widget", "render", "socket", "buffer"]
UNICODE_BITS = ["héllo", "naïve", "Grüße", "日本語", "Ελληνικά", "emoji 🚀✨", "ümlaut",
                "κόσμε", "привет", "→ ∑ ≠", "ﬁle", "tab\there", "quote\"d", "back\\slash",
                "ctrl\u0001\u001f", "line\nbreak", "zwj 👩‍💻", "\u2028sep", "nel\x85x",
                "del\x7f"]
TASK_NAMES = ["loc_counter", "ci_checker", "doc_writer", "flake_hunter", "bench_runner",
              "dep_audit", "schema_diff", "log_triage2", "api_mapper", "test_gardener"]
NICKNAMES = ["Kepler", "Hubble", "Noether", "Lovelace", "Turing", "Hopper", "Curie", "Euler"]
ROLES = ["explorer", "worker", "reviewer", None]
MODELS = ["gpt-5-codex", "gpt-5.1-codex", "gpt-5-codex-mini"]
COMMANDS = ["cargo test -p orbit-core", "rg -n TODO src", "ls -la", "git status --short",
            "pytest -q tests/test_parser.py", "npm run lint", "make -j8", "python3 -V",
            "cat Cargo.toml", "du -sh target", "echo 'ünïcødé ✓'", "wc -l src/*.rs"]
REPLS = ["python3 -q", "bash --noprofile --norc", "node", "sqlite3 :memory:", "irb"]


def words(rng: random.Random, n: int, unicode_rate: float = 0.15) -> str:
    out = []
    for _ in range(n):
        if rng.random() < unicode_rate:
            out.append(rng.choice(UNICODE_BITS))
        else:
            out.append(rng.choice(ASCII_WORDS))
    return " ".join(out)


def asciify(value: Any) -> Any:
    """Drop non-ASCII characters from every string in a JSON value."""
    if isinstance(value, str):
        return value.encode("ascii", "ignore").decode("ascii")
    if isinstance(value, list):
        return [asciify(item) for item in value]
    if isinstance(value, dict):
        return {asciify(key): asciify(item) for key, item in value.items()}
    return value


def serde_compact_len_guard(value: Any) -> bool:
    """True when the reference's 240-byte JSON summary cannot split a UTF-8 char.

    The reference truncates `serde_json::to_string(value)` at byte 240 with
    `String::truncate`, which panics inside a multi-byte character. Python's
    compact sorted-key dump matches serde's layout except for float spelling,
    so keep every non-ASCII byte well away from the cut.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    offset = 0
    for char in text:
        size = len(char.encode("utf-8"))
        if size > 1 and offset + size > 180 and offset < 300:
            return False
        offset += size
    return True


# ---------------------------------------------------------------------------
# Item builders
# ---------------------------------------------------------------------------


def has_payload_ref_parts(item: Json) -> bool:
    """True if the reducer turns part of this item into a payload-local `payload_ref`.

    Such parts name the payload they were read from, so the same item seen in two
    payloads never compares equal.
    """
    content = item.get("content") if item.get("type") == "message" else item.get("output")
    if item.get("type") == "message" and not isinstance(content, list):
        return True
    if not isinstance(content, list):
        return False
    if not content and item.get("type") == "message":
        return True
    return any(part.get("type") not in ("input_text", "output_text", "text")
               for part in content if isinstance(part, dict))


def direct(item: Json) -> Json:
    return {"type": "direct_response", "response_item": item}


# ---------------------------------------------------------------------------
# Simulation state
# ---------------------------------------------------------------------------


@dataclass
class Session:
    """A live unified-exec process that write_stdin can reuse."""

    session_id: int
    exec_call_id: str
    begin: Json


@dataclass
class Cell:
    runtime_id: str
    call_id: str
    turn_id: str
    nested: int = 0


@dataclass
class ThreadState:
    thread_id: str
    agent_path: str
    parent: ThreadState | None = None
    depth: int = 0
    prefix: list[Json] = field(default_factory=list)
    history: list[Json] = field(default_factory=list)
    sent_len: int = 0
    last_response_id: str | None = None
    last_inference_ok: bool = False
    force_full: bool = True
    mailbox: list[Json] = field(default_factory=list)
    trigger: bool = False
    closed: bool = False
    busy: bool = False
    sessions: dict[int, Session] = field(default_factory=dict)
    next_cell: int = 1
    live_cells: dict[str, Cell] = field(default_factory=dict)
    children: list[ThreadState] = field(default_factory=list)
    reports: int = 0
    current_turn: str = ""
    nickname: str | None = None
    role: str | None = None


class Clock:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = 1_776_000_000_000 + rng.randrange(10**9)

    def __call__(self) -> int:
        self.now += self.rng.choice((0, 1, 1, 2, 3))
        return self.now

    def sleep(self, low: int, high: int) -> None:
        self.now += self.rng.randint(low, high)


class Simulation:
    def __init__(self, path: Path, rng: random.Random) -> None:
        self.path = path
        self.rng = rng
        # One generator for ids and every other choice, so a seed fixes the bytes.
        self.ids = Ids(rng)
        self.clock = Clock(rng)
        self.features: set[str] = set()
        self.multi_agent = rng.random() < 0.4
        self.code_mode = rng.random() < 0.5
        self.compaction_rate = rng.choice((0.0, 0.0, 0.15, 0.35))
        self.fail_rate = rng.choice((0.0, 0.05, 0.12))
        self.cancel_rate = rng.choice((0.0, 0.0, 0.04))
        self.incremental_rate = rng.choice((0.0, 0.5, 0.85))
        self.early_tool_rate = rng.choice((0.2, 0.5))
        self.unicode_rate = rng.choice((0.0, 0.1, 0.3))
        self.context_drop_rate = rng.choice((0.0, 0.0, 0.1))
        self.model = rng.choice(MODELS)
        self.next_inference = 1
        self.next_compaction_request = 1
        self.next_pid = rng.randrange(1000, 60000)
        self.used_task_names: set[str] = set()
        self.actors: list[Iterator[Any]] = []
        self.root_finished = False
        self.trace_id = self.uuid()
        if self.multi_agent or rng.random() < 0.6:
            root_id = self.uuid()
        else:
            root_id = rng.choice(["thread-root", "root", "thread-é-1", "t" + str(rng.getrandbits(32))])
        self.root = ThreadState(root_id, "/root")
        self.writer = TraceWriter.create(path, self.trace_id, root_id, root_id, clock=self.clock)

    # -- ids ---------------------------------------------------------------------

    def uuid(self) -> str:
        return self.ids.uuid()

    def pick(self, alphabet: str, n: int) -> str:
        return self.ids.pick(alphabet, n)

    def call_id(self) -> str:
        return self.ids.call()

    def response_id(self) -> str:
        return self.ids.response(40)

    def encrypted(self) -> str:
        return "gAAAAAB" + self.pick(string.ascii_letters + string.digits + "-_", self.rng.randint(24, 90))

    def pid(self) -> int:
        self.next_pid += self.rng.randint(1, 97)
        return self.next_pid

    def text(self, n: int) -> str:
        return words(self.rng, n, self.unicode_rate)

    # -- writing -----------------------------------------------------------------

    def payload(self, kind: str, value: Any) -> Json:
        return self.writer.write_json_payload(kind, value).model_dump(mode="json")

    def emit(self, payload: Json, thread: ThreadState | None = None,
             turn_id: str | None = None, *, droppable: bool = False) -> None:
        thread_id = thread.thread_id if thread is not None else None
        if droppable and turn_id is not None and self.rng.random() < self.context_drop_rate:
            # Tool and code-cell events may omit the thread; the reducer falls back to the turn.
            thread_id = None
            self.features.add("context_without_thread")
        self.writer.append(payload, thread_id=thread_id, codex_turn_id=turn_id)

    def protocol(self, event: Json) -> None:
        ref = self.payload("protocol_event", event)
        self.emit({"type": "protocol_event_observed", "event_type": event["type"],
                   "event_payload": ref})

    # -- scheduler ---------------------------------------------------------------

    def run(self) -> None:
        self.emit({"type": "rollout_started", "trace_id": self.trace_id,
                   "root_thread_id": self.root.thread_id})
        self.actors = [self.root_actor()]
        while self.actors:
            actor = self.rng.choice(self.actors)
            try:
                next(actor)
            except StopIteration:
                self.actors.remove(actor)
        self.writer.close()

    def wait_until(self, condition: Callable[[], bool], spins: int) -> Step:
        for _ in range(spins):
            if condition():
                return True
            yield BLOCKED
        return condition()

    def parallel(self, steps: list[Step], completion: Callable[[], None] | None = None,
                 early: bool = False) -> Step:
        """Interleave several step generators; run `completion` once, early or first."""
        results: list[Any] = [None] * len(steps)
        active = list(range(len(steps)))
        if completion is not None and not early:
            completion()
            completion = None
            yield None
        while active or completion is not None:
            options: list[int | None] = list(active)
            if completion is not None:
                options.append(None)
            choice = self.rng.choice(options)
            if choice is None:
                assert completion is not None
                completion()
                completion = None
                yield None
                continue
            try:
                yield next(steps[choice])
            except StopIteration as stop:
                results[choice] = stop.value
                active.remove(choice)
        return results

    # -- threads -------------------------------------------------------------------

    def metadata(self, th: ThreadState, source: Any) -> Json:
        rng = self.rng
        meta: Json = {
            "thread_id": th.thread_id,
            "agent_path": th.agent_path,
            "task_name": None if th.parent is None else th.agent_path.rsplit("/", 1)[-1],
            "nickname": th.nickname,
            "agent_role": th.role,
            "session_source": source,
            "cwd": "/home/dev/src/orbit",
            "rollout_path": f"/home/dev/.codex/sessions/2026/04/24/rollout-{th.thread_id}.jsonl",
            "model": self.model,
            "provider_name": "openai",
            "approval_policy": rng.choice(["on-request", "never", "untrusted"]),
            "sandbox_policy": "WorkspaceWrite { writable_roots: [], network_access: false }",
        }
        if rng.random() < 0.1:
            # Older/partial metadata: optional keys may be absent.
            for key in ("task_name", "nickname", "agent_role", "model"):
                if rng.random() < 0.5:
                    meta.pop(key)
            self.features.add("sparse_metadata")
        return meta

    def start_thread(self, th: ThreadState, source: Any) -> None:
        if self.rng.random() < 0.05:
            ref = None  # best-effort metadata write failed
            self.features.add("thread_without_metadata")
        else:
            ref = self.payload("session_metadata", self.metadata(th, source))
        self.emit({"type": "thread_started", "thread_id": th.thread_id,
                   "agent_path": th.agent_path, "metadata_payload": ref})
        if self.rng.random() < 0.7:
            self.protocol({"type": "session_configured", "session_id": th.thread_id,
                           "model": self.model, "reasoning_effort": "medium",
                           "history_log_id": 0, "history_entry_count": 0})
        th.prefix = [msg("developer", "<permissions instructions>\nsandbox_mode is "
                         "workspace-write. Approval policy is on-request.\n"
                         "</permissions instructions>")]
        if self.rng.random() < 0.05:
            th.prefix.insert(0, msg("system", "You are a careful engineer."))
            self.features.add("system_message")
        if self.rng.random() < 0.6:
            th.prefix.append(msg("user", "# AGENTS.md instructions for /home/dev/src/orbit\n\n"
                                 "<INSTRUCTIONS>\n- run the tests\n</INSTRUCTIONS>"))
        th.prefix.append(msg("user", "<environment_context>\n  <cwd>/home/dev/src/orbit</cwd>\n"
                             "  <shell>bash</shell>\n</environment_context>"))
        th.history = list(th.prefix)

    def end_thread(self, th: ThreadState, status: str = "completed") -> None:
        if self.rng.random() < 0.5:
            self.protocol({"type": "shutdown_complete"})
        self.emit({"type": "thread_ended", "thread_id": th.thread_id, "status": status})
        if th is self.root:
            self.emit({"type": "rollout_ended", "status": status})

    def root_actor(self) -> Step:
        root = self.root
        self.start_thread(root, self.rng.choice(["cli", "exec", "vscode", "mcp"]))
        yield None
        for _ in range(self.rng.randint(1, 3)):
            self.clock.sleep(2_000, 90_000)
            root.mailbox.append(self.user_message())
            yield from self.run_turn(root)
            # Let children settle between user turns.
            yield from self.wait_until(lambda: not any(c.busy for c in root.children), 60)
        yield from self.wait_until(lambda: not any(c.busy for c in self.all_children()), 200)
        self.root_finished = True
        if self.rng.random() < 0.75:
            self.clock.sleep(1_000, 30_000)
            self.end_thread(root, self.rng.choice(["completed", "completed", "failed", "aborted"]))

    def all_children(self) -> list[ThreadState]:
        out: list[ThreadState] = []
        stack = list(self.root.children)
        while stack:
            th = stack.pop()
            out.append(th)
            stack.extend(th.children)
        return out

    def user_message(self) -> Json:
        """A user turn; a few carry non-text parts, which reduce to payload refs."""
        item = msg("user", self.user_ask())
        roll = self.rng.random()
        if roll < 0.05:
            item["content"].append({"type": "input_image",
                                    "image_url": "data:image/png;base64,iVBORw0KGgo="})
            self.features.add("user_message_with_image")
        elif roll < 0.07:
            item["content"].append({"type": "input_file", "file_id": "file-" + self.pick(
                string.ascii_letters, 12)})
            self.features.add("user_message_with_file")
        elif roll < 0.08:
            item["content"] = []
            self.features.add("user_message_empty_content")
        return item

    def user_ask(self) -> str:
        return self.rng.choice(["Please ", "Can you ", "Now ", ""]) + self.text(self.rng.randint(4, 14))

    def child_actor(self, th: ThreadState) -> Step:
        while True:
            ready = yield from self.wait_until(
                lambda: th.trigger or th.closed or self.root_finished, 400)
            if th.closed or self.root_finished or not ready:
                return
            th.trigger = False
            status = yield from self.run_turn(th)
            if th.closed:
                return
            self.report_to_parent(th, status)

    def report_to_parent(self, th: ThreadState, status: str) -> None:
        assert th.parent is not None
        parent = th.parent
        last = self.last_assistant_text(th)
        if status == "completed":
            agent_status: Any = {"completed": last}
        elif status == "failed":
            agent_status = {"errored": "model stream failed: " + self.text(3)}
        else:
            agent_status = "interrupted"
        message = json.dumps({"agent_path": th.agent_path, "status": agent_status},
                             ensure_ascii=False)
        carried = None
        if self.rng.random() < 0.92:
            carried = self.payload("agent_result", {"child_agent_path": th.agent_path,
                                                    "message": message, "status": agent_status})
        turn_id = th.current_turn
        self.emit({
            "type": "agent_result_observed",
            "edge_id": f"edge:agent_result:{th.thread_id}:{turn_id}:{parent.thread_id}",
            "child_thread_id": th.thread_id,
            "child_codex_turn_id": turn_id,
            "parent_thread_id": parent.thread_id,
            "message": message,
            "carried_payload": carried,
        }, th, turn_id)
        parent.mailbox.append(self.inter_agent(th.agent_path, parent.agent_path, message, False))
        th.reports += 1
        self.features.add("agent_result")

    def last_assistant_text(self, th: ThreadState) -> str | None:
        for item in reversed(th.history):
            if item.get("type") == "message" and item.get("role") == "assistant":
                return item["content"][0].get("text")
        return None

    def inter_agent(self, author: str, recipient: str, content: str, trigger: bool) -> Json:
        rng = self.rng
        comm: Any = {"author": author, "recipient": recipient, "other_recipients": [],
                     "content": content, "trigger_turn": trigger}
        roll = rng.random()
        if roll < 0.08:
            del comm["other_recipients"]
            self.features.add("inter_agent_default_recipients")
        elif roll < 0.13:
            comm["extra_field"] = {"ignored": True}
            self.features.add("inter_agent_extra_key")
        elif roll < 0.17:
            comm = [author, recipient, [], content, trigger]
            self.features.add("inter_agent_array_form")
        elif roll < 0.20:
            del comm["trigger_turn"]  # not an InterAgentCommunication any more
            self.features.add("inter_agent_unparseable")
        separators = (",", ":") if rng.random() < 0.8 else (", ", ": ")
        return msg("assistant", json.dumps(comm, ensure_ascii=False, separators=separators),
                   phase="commentary")

    # -- turns ---------------------------------------------------------------------

    def run_turn(self, th: ThreadState) -> Step:
        th.busy = True
        turn_id = self.uuid()
        th.current_turn = turn_id
        self.emit({"type": "codex_turn_started", "codex_turn_id": turn_id,
                   "thread_id": th.thread_id}, th, turn_id)
        if self.rng.random() < 0.6:
            self.protocol({"type": "turn_started", "turn_id": turn_id,
                           "model_context_window": 272000})
        if self.rng.random() < 0.1:
            self.protocol(self.rng.choice([
                {"type": "warning", "message": "Heads up: " + self.text(4)},
                {"type": "thread_name_updated", "thread_id": th.thread_id,
                 "thread_name": self.text(3)},
            ]))
        status = "completed"
        if th.parent is not None and self.rng.random() < 0.06:
            # The child dies before its first sampling request: its task message is never
            # model-visible, so the spawn edge falls back to the thread.
            status = "failed"
            self.features.add("child_failed_before_sampling")
        else:
            if self.rng.random() < self.compaction_rate:
                yield from self.compaction(th, turn_id)
            rounds = self.rng.randint(1, 5)
            for index in range(rounds + 2):
                # Past the planned rounds, keep going while a yielded cell is worth a wait.
                final = index >= rounds - 1 and (not th.live_cells or index == rounds + 1)
                outcome = yield from self.sample(th, turn_id, final=final)
                if outcome in ("failed", "cancelled"):
                    status = outcome
                    break
                if outcome == "final":
                    break
                if self.rng.random() < self.compaction_rate / 2:
                    yield from self.compaction(th, turn_id)
        self.clock.sleep(1, 40)
        self.emit({"type": "codex_turn_ended", "codex_turn_id": turn_id, "status": status},
                  th, turn_id)
        if status == "completed":
            if self.rng.random() < 0.6:
                self.protocol({"type": "turn_complete", "turn_id": turn_id,
                               "last_agent_message": self.last_assistant_text(th)})
        else:
            th.live_cells = {k: c for k, c in th.live_cells.items() if c.turn_id != turn_id}
            th.last_inference_ok = False
            if self.rng.random() < 0.7:
                self.protocol({"type": "turn_aborted", "turn_id": turn_id,
                               "reason": "interrupted"})
            self.features.add(f"turn_{status}")
        th.busy = False
        return status

    # -- sampling ------------------------------------------------------------------

    def request_body(self, th: ThreadState, input_items: list[Json],
                     previous_response_id: str | None) -> Json:
        body: Json = {"model": self.model, "instructions": "You are Codex, a coding agent."}
        if previous_response_id is not None:
            body["previous_response_id"] = previous_response_id
        elif self.rng.random() < 0.15:
            body["previous_response_id"] = None
            self.features.add("null_previous_response_id")
        body["input"] = input_items
        body["tools"] = [{"type": "function", "name": "exec_command"},
                         {"type": "function", "name": "write_stdin"}]
        body["tool_choice"] = "auto"
        body["parallel_tool_calls"] = True
        body["reasoning"] = {"effort": "medium", "summary": "auto"}
        body["store"] = False
        body["stream"] = True
        body["include"] = ["reasoning.encrypted_content"]
        body["prompt_cache_key"] = th.thread_id
        return body

    def start_inference(self, th: ThreadState, turn_id: str, body: Json) -> str:
        inference_id = f"inference:{self.next_inference}"
        self.next_inference += 1
        ref = self.payload("inference_request", body)
        provider = self.rng.choice(["OpenAI", "OpenAI", "azure"])
        self.emit({"type": "inference_started", "inference_call_id": inference_id,
                   "thread_id": th.thread_id, "codex_turn_id": turn_id, "model": self.model,
                   "provider_name": provider, "request_payload": ref}, th, turn_id)
        return inference_id

    def token_usage(self) -> Any:
        rng = self.rng
        roll = rng.random()
        inp, out = rng.randint(500, 90_000), rng.randint(5, 4_000)
        usage = {"input_tokens": inp, "cached_input_tokens": rng.randint(0, inp),
                 "output_tokens": out, "reasoning_output_tokens": rng.randint(0, out),
                 "total_tokens": inp + out}
        if roll < 0.1:
            return None
        if roll < 0.13:
            usage.pop(rng.choice(list(usage)[:4]))
            self.features.add("token_usage_missing_field")
        elif roll < 0.15:
            usage["output_tokens"] = -usage["output_tokens"]
            self.features.add("token_usage_negative")
        elif roll < 0.17:
            usage["input_tokens"] = float(usage["input_tokens"])
            self.features.add("token_usage_float")
        elif roll < 0.18:
            usage["cached_input_tokens"] = 2**63 + rng.randint(1, 1000)
            self.features.add("token_usage_u64")
        return usage

    def reasoning_pair(self) -> tuple[Json, Json]:
        """A reasoning output item and the form later requests replay."""
        rng = self.rng
        summary = [{"type": "summary_text", "text": "**" + self.text(3) + "**\n\n" + self.text(8)}
                   for _ in range(rng.choice((0, 1, 1, 2)))]
        enc = self.encrypted()
        roll = rng.random()
        if roll < 0.5:
            item = {"type": "reasoning", "summary": summary, "encrypted_content": enc}
            return item, dict(item)
        if roll < 0.62:
            content = [{"type": rng.choice(["reasoning_text", "text"]), "text": self.text(10)}]
            item = {"type": "reasoning", "summary": summary, "content": content,
                    "encrypted_content": enc}
            self.features.add("reasoning_with_content")
            if rng.random() < 0.5:
                return item, {"type": "reasoning", "summary": [], "encrypted_content": enc}
            return item, dict(item)
        if roll < 0.74:
            item = {"type": "reasoning", "summary": summary, "encrypted_content": enc}
            self.features.add("reasoning_replayed_without_text")
            return item, {"type": "reasoning", "summary": [], "encrypted_content": enc}
        if roll < 0.84:
            item = {"type": "reasoning", "summary": [], "encrypted_content": enc}
            replay = {"type": "reasoning",
                      "summary": summary or [{"type": "summary_text", "text": self.text(5)}],
                      "encrypted_content": enc}
            self.features.add("reasoning_text_arrives_later")
            return item, replay
        if roll < 0.92:
            item = {"type": "reasoning",
                    "summary": summary or [{"type": "summary_text", "text": self.text(4)}],
                    "content": None, "encrypted_content": None}
            self.features.add("reasoning_without_encrypted_content")
            return item, dict(item)
        item = {"type": "reasoning",
                "summary": summary or [{"type": "summary_text", "text": self.text(4)}]}
        self.features.add("reasoning_without_encrypted_content")
        return item, dict(item)

    def sample(self, th: ThreadState, turn_id: str, final: bool) -> Step:
        rng = self.rng
        th.history.extend(th.mailbox)
        th.mailbox.clear()
        incremental = (not th.force_full and th.last_inference_ok
                       and th.last_response_id is not None and len(th.history) > th.sent_len
                       and rng.random() < self.incremental_rate)
        if incremental:
            body = self.request_body(th, th.history[th.sent_len:], th.last_response_id)
            self.features.add("incremental_request")
        else:
            body = self.request_body(th, list(th.history), None)
        th.force_full = False
        attempts = 0
        while True:
            attempts += 1
            inference_id = self.start_inference(th, turn_id, body)
            th.last_inference_ok = False
            self.clock.sleep(300, 9_000)
            roll = rng.random()
            if roll < self.cancel_rate and th is self.root:
                self.features.add("inference_left_running")
                return "cancelled"
            if roll < self.cancel_rate + self.fail_rate:
                yield from self.fail_inference(th, turn_id, inference_id)
                if attempts < 3 and rng.random() < 0.75:
                    self.features.add("inference_retried")
                    if body.get("previous_response_id") and any(
                            has_payload_ref_parts(item) for item in body["input"]):
                        # An identical incremental retry would re-reduce the delta against
                        # the failed attempt's items, and payload refs never match across
                        # payloads: the reference rejects that, so retry with a full request.
                        body = self.request_body(th, list(th.history), None)
                    yield None
                    continue
                return "failed"
            break
        outputs, replays, calls = self.response_items(th, final)
        response_id = self.response_id()

        def complete() -> None:
            usage = self.token_usage()
            ref = self.payload("inference_response", {"response_id": response_id,
                                                      "token_usage": usage,
                                                      "output_items": outputs})
            event_response_id: str | None = response_id
            if rng.random() < 0.03:
                event_response_id = None
                self.features.add("completion_without_response_id")
            self.emit({"type": "inference_completed", "inference_call_id": inference_id,
                       "response_id": event_response_id, "response_payload": ref},
                      th, turn_id)
            th.history.extend(replays)
            th.sent_len = len(th.history)
            th.last_response_id = event_response_id
            th.last_inference_ok = event_response_id is not None

        early = bool(calls) and rng.random() < self.early_tool_rate
        if early:
            self.features.add("tool_started_before_response_completed")
        steps = [make(turn_id) for make in calls]
        results = yield from self.parallel(steps, complete, early=early)
        for result in results:
            if result is not None:
                th.history.append(result)
        return "tools" if calls else "final"

    def fail_inference(self, th: ThreadState, turn_id: str, inference_id: str) -> Step:
        rng = self.rng
        partial = None
        if rng.random() < 0.3:
            items: list[Json] = [self.reasoning_pair()[0]]
            if rng.random() < 0.5:
                items.append(msg("assistant", self.text(6), phase="commentary"))
            partial = self.payload("inference_response", {"response_id": self.response_id(),
                                                          "token_usage": None,
                                                          "output_items": items})
            self.features.add("partial_response_payload")
        if rng.random() < 0.3:
            # A tool had already started from the stream before it broke.
            call_id = self.call_id()
            args = json.dumps({"cmd": rng.choice(COMMANDS)})
            self.tool_started(th, turn_id, call_id, "exec_command",
                              {"type": "function", "arguments": args})
            yield None
            self.emit({"type": "tool_call_ended", "tool_call_id": call_id,
                       "status": rng.choice(["cancelled", "failed"]),
                       "result_payload": self.payload("tool_result", {
                           "type": "error", "error": "aborted: stream disconnected"})},
                      th, turn_id, droppable=True)
            self.features.add("tool_from_failed_stream")
        self.emit({"type": "inference_failed", "inference_call_id": inference_id,
                   "error": "stream disconnected before completion: " + self.text(3),
                   "partial_response_payload": partial}, th, turn_id)
        if rng.random() < 0.4:
            self.protocol({"type": "error", "message": "Reconnecting... 1/5"})
        self.features.add("inference_failed")

    # -- response content ----------------------------------------------------------

    def response_items(self, th: ThreadState, final: bool
                       ) -> tuple[list[Json], list[Json], list[Callable[[str], Step]]]:
        rng = self.rng
        outputs: list[Json] = []
        replays: list[Json] = []
        calls: list[Callable[[str], Step]] = []
        if rng.random() < 0.7:
            out, replay = self.reasoning_pair()
            outputs.append(out)
            replays.append(replay)
        if rng.random() < 0.05:
            item = {"type": "web_search_call", "status": "completed",
                    "action": {"type": "search", "query": self.text(4)}}
            if serde_compact_len_guard(item):
                outputs.append(item)
                replays.append(dict(item))
                self.features.add("web_search_call")
        if rng.random() < 0.03:
            item = {"type": "image_generation_call", "id": "ig_" + self.pick("0123456789abcdef", 16),
                    "status": "completed", "revised_prompt": self.text(3),
                    "result": self.pick(string.ascii_letters, 60)}
            if serde_compact_len_guard(item):
                outputs.append(item)
                replays.append(dict(item))
                self.features.add("image_generation_call")
        if rng.random() < 0.25:
            phase = rng.choice(["commentary"] * 8 + ["summary", "analysis_unknown"])
            item = msg("assistant", self.text(8), phase=phase)
            outputs.append(item)
            replays.append(item)
        if final or rng.random() < 0.15:
            phase = rng.choice(["final_answer", "final_answer", None])
            item = msg("assistant", self.text(rng.randint(6, 30)), phase=phase)
            outputs.append(item)
            replays.append(item)
            return outputs, replays, calls
        if th.live_cells and rng.random() < 0.6:
            # A yielded cell's output usually makes the model wait on it next.
            waited = self.tool_wait(th)
            if waited is not None:
                outputs.append(waited[0])
                replays.append(waited[0])
                calls.append(waited[1])
        for _ in range(rng.choice((1, 1, 1, 2, 3)) - len(calls)):
            made = self.choose_tool(th)
            if made is None:
                continue
            item, make = made
            outputs.append(item)
            replays.append(item)
            calls.append(make)
        if not calls:
            item = msg("assistant", self.text(10), phase="final_answer")
            outputs.append(item)
            replays.append(item)
        return outputs, replays, calls

    def json_args(self, value: Json) -> str:
        """Model-written JSON arguments: random key order, spacing and escaping."""
        rng = self.rng
        if not serde_compact_len_guard(value):
            value = asciify(value)
            self.features.add("unicode_dropped_near_summary_cut")
        items = list(value.items())
        if rng.random() < 0.3:
            rng.shuffle(items)
        separators = rng.choice([(",", ":"), (", ", ": ")])
        return json.dumps(dict(items), ensure_ascii=rng.random() < 0.2, separators=separators)

    def fancy_args(self) -> Json:
        """Nested JSON with floats, unicode and odd numbers."""
        rng = self.rng
        value: Json = {
            "query": self.text(rng.randint(1, 5)),
            "threshold": rng.choice([0.75, 1e-05, 2.5e-7, 1.0, 100000000000000000000.0,
                                     1e16, -0.0, 3.141592653589793, 12.5]),
            "limit": rng.randint(1, 50),
            "filters": {"tags": [self.text(1) for _ in range(rng.randint(0, 3))],
                        "range": [rng.random(), rng.uniform(-1e6, 1e6)],
                        "nested": {"deep": {"flag": rng.random() < 0.5, "none": None}}},
        }
        if rng.random() < 0.3:
            value["big"] = rng.choice([2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1])
            self.features.add("big_integers_in_arguments")
        self.features.add("nested_json_arguments")
        return value

    def choose_tool(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        options: list[tuple[float, str]] = [(3, "exec_short"), (1.5, "exec_session"),
                                            (1, "apply_patch"), (1, "mcp"), (0.5, "plan"),
                                            (0.3, "local_shell")]
        if th.sessions:
            options.append((3, "write_stdin"))
        if self.code_mode:
            options.append((2.5, "code"))
            if th.live_cells:
                options.append((6, "wait"))
            if rng.random() < 0.05:
                options.append((1, "wait_missing"))
        if self.multi_agent and th.depth < 2:
            live = [c for c in th.children if not c.closed]
            if len(th.children) < 3:
                weight = 0.4 if th is not self.root else (6 if not th.children else 2)
                options.append((weight, "spawn"))
            if live:
                options += [(3, "send_message"), (2, "followup_task"), (1.5, "wait_agent")]
                if any(not c.busy for c in live):
                    options.append((2, "close_agent"))
        total = sum(weight for weight, _ in options)
        roll = rng.uniform(0, total)
        name = options[-1][1]
        for weight, option in options:
            roll -= weight
            if roll <= 0:
                name = option
                break
        return getattr(self, f"tool_{name}")(th)

    # -- tool plumbing -------------------------------------------------------------

    def tool_started(self, th: ThreadState, turn_id: str, call_id: str, tool_name: str,
                     tool_payload: Json, *, namespace: str | None = None,
                     code_cell: tuple[str, str] | None = None,
                     kind: Json | None = None, with_invocation: bool = True) -> None:
        ref = None
        if with_invocation:
            ref = self.payload("tool_invocation", {"tool_name": tool_name,
                                                   "tool_namespace": namespace,
                                                   "payload": tool_payload})
        visible, runtime_tool_id, requester = tool_requester(call_id, code_cell)
        if kind is None:
            kind = tool_kind(tool_name)
        preview = str(tool_payload.get("arguments") or tool_payload.get("input")
                      or tool_payload.get("raw_arguments") or "")
        if len(preview) > 160:
            preview = preview[:160] + "..."
        summary: Json = {"type": "generic",
                         "label": tool_name if namespace is None else namespace + tool_name,
                         "input_preview": preview, "output_preview": None}
        if self.rng.random() < 0.05 and kind["type"] in ("spawn_agent", "send_message",
                                                          "assign_agent_task", "wait_agent"):
            self.features.add("non_generic_tool_summary")
            if kind["type"] == "wait_agent":
                summary = {"type": "wait_agent", "target_agent_path": None,
                           "timeout_ms": self.rng.choice([None, 30000])}
            else:
                summary = {"type": "agent", "target_agent_path": "/root/x",
                           "task_name": self.rng.choice([None, "x"]),
                           "message_preview": preview[:40]}
        self.emit({
            "type": "tool_call_started",
            "tool_call_id": call_id,
            "model_visible_call_id": visible,
            "code_mode_runtime_tool_id": runtime_tool_id,
            "requester": requester,
            "kind": kind,
            "summary": summary,
            "invocation_payload": ref,
        }, th, turn_id, droppable=True)

    def tool_ended(self, th: ThreadState, turn_id: str, call_id: str, response: Json | None,
                   status: str = "completed") -> None:
        ref = self.payload("tool_result", response) if response is not None else None
        self.emit({"type": "tool_call_ended", "tool_call_id": call_id, "status": status,
                   "result_payload": ref}, th, turn_id, droppable=True)

    def runtime(self, th: ThreadState, turn_id: str, call_id: str, event: Json,
                status: str | None = None) -> None:
        ref = self.payload("tool_runtime_event", event)
        if status is None:
            self.emit({"type": "tool_call_runtime_started", "tool_call_id": call_id,
                       "runtime_payload": ref}, th, turn_id, droppable=True)
        else:
            self.emit({"type": "tool_call_runtime_ended", "tool_call_id": call_id,
                       "status": status, "runtime_payload": ref}, th, turn_id, droppable=True)

    def exec_begin(self, call_id: str, turn_id: str, cmd: str, pid: int | None,
                   source: str = "unified_exec_startup") -> Json:
        begin: Json = {"call_id": call_id, "turn_id": turn_id,
                       "command": ["/bin/bash", "-lc", cmd], "cwd": "/home/dev/src/orbit",
                       "parsed_cmd": [{"type": "unknown", "cmd": cmd}], "source": source,
                       "interaction_input": None}
        if pid is not None:
            begin["process_id"] = str(pid)
        elif self.rng.random() < 0.5:
            begin["process_id"] = None
        return begin

    def exec_end(self, begin: Json, pid: int | None, exit_code: int) -> Json:
        stdout = self.text(self.rng.randint(0, 12)) + "\n"
        stderr = "" if exit_code == 0 else "error: " + self.text(4) + "\n"
        end = dict(begin)
        if pid is not None:
            end["process_id"] = str(pid)
        end.update({"stdout": stdout, "stderr": stderr, "aggregated_output": stdout + stderr,
                    "exit_code": exit_code, "duration": duration(self.rng.randint(3, 9000)),
                    "formatted_output": stdout + stderr,
                    "status": "completed" if exit_code == 0 else "failed"})
        return end

    def exec_text(self, output: str, *, session: int | None = None,
                  exit_code: int | None = None) -> str:
        lines = [f"Chunk ID: {self.pick('0123456789abcdef', 6)}",
                 f"Wall time: {self.rng.uniform(0, 20):.4f} seconds"]
        if session is not None:
            lines.append(f"Process running with session ID {session}")
        if exit_code is not None:
            lines.append(f"Process exited with code {exit_code}")
        lines.append("Output:")
        return "\n".join(lines) + "\n" + output

    def code_mode_value(self, output: str, exit_code: int | None, session: int | None) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.75:
            value: Json = {"chunk_id": self.pick("0123456789abcdef", 6),
                           "wall_time_seconds": round(rng.uniform(0, 30), 3),
                           "output": output}
            if exit_code is not None:
                value["exit_code"] = exit_code
            if session is not None:
                value["session_id"] = session
            if rng.random() < 0.6:
                value["original_token_count"] = rng.randint(1, 5000)
            return value
        self.features.add("code_mode_unstructured_value")
        if roll < 0.85:
            return output
        if roll < 0.95:
            return [{"type": "input_text", "text": output}, {"type": "input_text", "text": "…"}]
        return None

    # -- direct tools --------------------------------------------------------------

    def tool_exec_short(self, th: ThreadState, nested: tuple[str, str] | None = None,
                        call_id: str | None = None) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = call_id or self.call_id()
        cmd = rng.choice(COMMANDS)
        if rng.random() < self.unicode_rate:
            cmd = f"echo {json.dumps(self.text(3), ensure_ascii=False)}"
        args = {"cmd": cmd}
        if rng.random() < 0.4:
            args["yield_time_ms"] = rng.choice([1000, 10000, 30000])
        if rng.random() < 0.2:
            args["workdir"] = "/home/dev/src/orbit/" + rng.choice(ASCII_WORDS)
        arguments = self.json_args(args)
        item = function_call("exec_command", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "exec_command",
                              {"type": "function", "arguments": arguments}, code_cell=nested)
            yield None
            mode = rng.random()
            pid = self.pid()
            exit_code = rng.choice([0, 0, 0, 1, 2, 101, 130, -1])
            if mode < 0.08:
                # Declined or rejected before running: no begin, an optional end.
                if rng.random() < 0.5:
                    end = self.exec_end(self.exec_begin(call_id, turn_id, cmd, None), None, 1)
                    end["status"] = "declined"
                    self.runtime(th, turn_id, call_id, end, "cancelled")
                self.tool_ended(th, turn_id, call_id, {"type": "error",
                                                       "error": "exec command rejected by user"},
                                "failed")
                self.features.add("exec_declined")
                return None if nested else fn_output(call_id, "exec command rejected by user")
            begin_pid = pid if rng.random() < 0.5 else None
            begin = self.exec_begin(call_id, turn_id, cmd, begin_pid)
            self.runtime(th, turn_id, call_id, begin)
            yield None
            self.clock.sleep(5, 4000)
            end = self.exec_end(begin, pid, exit_code)
            self.runtime(th, turn_id, call_id, end, "completed" if exit_code == 0 else "failed")
            yield None
            text = self.exec_text(end["formatted_output"], exit_code=exit_code)
            if nested:
                self.tool_ended(th, turn_id, call_id, {
                    "type": "code_mode_response",
                    "value": self.code_mode_value(end["formatted_output"], exit_code, None)})
                return None
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, text)))
            return fn_output(call_id, text)

        return item, run

    def tool_exec_session(self, th: ThreadState, nested: tuple[str, str] | None = None,
                          call_id: str | None = None) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = call_id or self.call_id()
        cmd = rng.choice(REPLS)
        args = {"cmd": cmd, "tty": True, "yield_time_ms": rng.choice([250, 500, 1000])}
        arguments = self.json_args(args)
        item = function_call("exec_command", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "exec_command",
                              {"type": "function", "arguments": arguments}, code_cell=nested)
            yield None
            pid = self.pid()
            begin = self.exec_begin(call_id, turn_id, cmd, pid)
            self.runtime(th, turn_id, call_id, begin)
            yield None
            self.clock.sleep(200, 1200)
            th.sessions[pid] = Session(pid, call_id, begin)
            self.features.add("terminal_session")
            prompt = rng.choice([">>> ", "$ ", "> ", "sqlite> "])
            if nested:
                self.tool_ended(th, turn_id, call_id, {
                    "type": "code_mode_response",
                    "value": self.code_mode_value(prompt, None, pid)})
                return None
            text = self.exec_text(prompt, session=pid)
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, text)))
            return fn_output(call_id, text)

        return item, run

    def tool_write_stdin(self, th: ThreadState, nested: tuple[str, str] | None = None,
                         call_id: str | None = None) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        if not th.sessions:
            return None
        session = th.sessions[rng.choice(sorted(th.sessions))]
        call_id = call_id or self.call_id()
        exits = rng.random() < 0.3
        if exits:
            # Claim the session now so no parallel write targets a dead process.
            del th.sessions[session.session_id]
        chars = "exit\n" if exits else self.text(rng.randint(1, 6)) + "\n"
        sid: Any = session.session_id
        canonical = True
        roll = rng.random()
        if roll < 0.1:
            sid = str(sid)
            self.features.add("write_stdin_string_session_id")
        elif roll < 0.13:
            sid = float(sid)  # serde prints "N.0": a different terminal id
            canonical = False
            self.features.add("write_stdin_float_session_id")
        args: Json = {"session_id": sid, "chars": chars}
        if rng.random() < 0.7:
            args["yield_time_ms"] = rng.choice([250, 800, 5000])
        if rng.random() < 0.3:
            args["max_output_tokens"] = rng.choice([1000, 4000])
        arguments = self.json_args(args)
        item = function_call("write_stdin", arguments, call_id)

        def run(turn_id: str) -> Step:
            with_invocation = not (canonical and rng.random() < 0.05)
            self.tool_started(th, turn_id, call_id, "write_stdin",
                              {"type": "function", "arguments": arguments}, code_cell=nested,
                              with_invocation=with_invocation)
            self.features.add("write_stdin")
            end_via_runtime = False
            if not with_invocation:
                # The invocation payload write failed; the interaction begin carries the join key.
                begin = dict(session.begin, call_id=call_id, source="unified_exec_interaction",
                             interaction_input=chars)
                self.runtime(th, turn_id, call_id, begin)
                self.features.add("write_stdin_from_runtime_begin")
            yield None
            self.clock.sleep(50, 3000)
            if exits:
                if canonical and rng.random() < 0.4:
                    self.runtime(th, turn_id, call_id,
                                 self.exec_end(dict(session.begin, call_id=call_id),
                                               session.session_id, 0), "completed")
                    end_via_runtime = True
                    self.features.add("process_exit_reported_on_write")
                else:
                    self.runtime(th, turn_id, session.exec_call_id,
                                 self.exec_end(session.begin, session.session_id, 0),
                                 "completed")
                    self.features.add("process_exit_reported_on_exec")
                yield None
            output = self.text(rng.randint(0, 8)) + "\n"
            if end_via_runtime:
                output = ""
            if nested:
                self.tool_ended(th, turn_id, call_id, {
                    "type": "code_mode_response",
                    "value": self.code_mode_value(output, 0 if exits else None,
                                                  None if exits else session.session_id)})
                return None
            text = self.exec_text(output, session=None if exits else session.session_id,
                                  exit_code=0 if exits else None)
            if rng.random() < 0.06:
                self.tool_ended(th, turn_id, call_id, {"type": "error",
                                                       "error": "write_stdin timed out"},
                                "failed")
                self.features.add("write_stdin_error")
                return fn_output(call_id, "write_stdin timed out")
            out: Any = text
            if rng.random() < 0.15:
                out = input_texts(text, "(truncated)")
                self.features.add("array_tool_output")
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, out)))
            return fn_output(call_id, out)

        return item, run

    def tool_apply_patch(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = self.call_id()
        path = f"src/{rng.choice(ASCII_WORDS)}.rs"
        patch = (f"*** Begin Patch\n*** Update File: {path}\n@@\n-{self.text(3)}\n"
                 f"+{self.text(3)}\n*** End Patch\n")
        item = custom_call("apply_patch", patch, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "apply_patch",
                              {"type": "custom", "input": patch})
            yield None
            changes = {f"/home/dev/src/orbit/{path}": {"update": {"unified_diff": patch,
                                                                  "move_path": None}}}
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "turn_id": turn_id,
                                                "auto_approved": True, "changes": changes})
            ok = rng.random() < 0.85
            self.runtime(th, turn_id, call_id, {
                "call_id": call_id, "turn_id": turn_id, "stdout": "Success." if ok else "",
                "stderr": "" if ok else "patch did not apply", "success": ok,
                "changes": changes, "status": "completed" if ok else "failed"},
                "completed" if ok else "failed")
            text = ("Exit code: 0\nOutput:\nSuccess. Updated the following files:\nM " + path
                    if ok else "Exit code: 1\nOutput:\npatch did not apply")
            self.tool_ended(th, turn_id, call_id, direct(custom_output(call_id, text)),
                            "completed" if ok else "failed")
            return custom_output(call_id, text)

        return item, run

    def tool_mcp(self, th: ThreadState, nested: tuple[str, str] | None = None,
                 call_id: str | None = None) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = call_id or self.call_id()
        server, tool = rng.choice([("docs", "search"), ("github", "list_issues"),
                                   ("figma", "get_node"), ("linear", "create_issue")])
        arguments = self.json_args(self.fancy_args())
        item = function_call(f"mcp__{server}__{tool}", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, tool,
                              {"type": "mcp", "server": server, "tool": tool,
                               "raw_arguments": arguments},
                              namespace=f"mcp__{server}__", code_cell=nested,
                              kind={"type": "mcp", "server": server, "tool": tool})
            invocation = {"server": server, "tool": tool, "arguments": json.loads(arguments)}
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "invocation": invocation})
            yield None
            self.clock.sleep(20, 2500)
            ok = rng.random() < 0.85
            result = ({"Ok": {"content": [{"type": "text", "text": self.text(6)}],
                              "isError": False}} if ok else {"Err": "connection refused"})
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "invocation": invocation,
                                                "duration": duration(rng.randint(5, 3000)),
                                                "result": result},
                         "completed" if ok else "failed")
            text = self.text(8) if ok else "tool call error: connection refused"
            if nested:
                self.tool_ended(th, turn_id, call_id,
                                {"type": "code_mode_response", "value": {"content": text}},
                                "completed" if ok else "failed")
                return None
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, text)),
                            "completed" if ok else "failed")
            return fn_output(call_id, text)

        return item, run

    def tool_plan(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = self.call_id()
        plan = {"explanation": self.text(4),
                "plan": [{"step": self.text(3), "status": rng.choice(
                    ["pending", "in_progress", "completed"])} for _ in range(rng.randint(1, 4))]}
        broken = rng.random() < 0.15
        if broken:
            arguments = "{\"plan\": [" + self.text(2)  # the model emitted broken JSON
            self.features.add("unparseable_function_arguments")
        elif rng.random() < 0.1:
            arguments = rng.choice(["[1, 2.5, \"x\"]", "42", "\"just a string\"", "null",
                                    "true", "  {\"plan\": []}  "])
            self.features.add("non_object_json_arguments")
        else:
            arguments = self.json_args(plan)
        item = function_call("update_plan", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "update_plan",
                              {"type": "function", "arguments": arguments})
            yield None
            if not broken:
                self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, "Plan updated")))
                return fn_output(call_id, "Plan updated")
            error = "failed to parse function arguments: EOF while parsing a list"
            self.tool_ended(th, turn_id, call_id, {"type": "error", "error": error}, "failed")
            return fn_output(call_id, error)

        return item, run

    def tool_local_shell(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        call_id = self.call_id()
        command = ["bash", "-lc", rng.choice(COMMANDS)]
        item = {"type": "local_shell_call", "call_id": call_id, "status": "completed",
                "action": {"type": "exec", "command": command, "timeout_ms": 10000,
                           "working_directory": "/home/dev/src/orbit", "env": None,
                           "user": None}}
        if not serde_compact_len_guard(item):
            return None
        self.features.add("local_shell_call")

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "local_shell",
                              {"type": "local_shell", "command": command,
                               "workdir": "/home/dev/src/orbit", "timeout_ms": 10000})
            yield None
            begin = self.exec_begin(call_id, turn_id, command[-1], None, source="agent")
            begin["command"] = command
            self.runtime(th, turn_id, call_id, begin)
            exit_code = rng.choice([0, 1])
            end = self.exec_end(begin, None, exit_code)
            self.runtime(th, turn_id, call_id, end, "completed" if exit_code == 0 else "failed")
            self.tool_ended(th, turn_id, call_id,
                            direct(fn_output(call_id, end["formatted_output"])))
            return fn_output(call_id, end["formatted_output"])

        return item, run

    # -- code mode -----------------------------------------------------------------

    def nested_tool(self, th: ThreadState, cell: Cell, turn_id: str) -> Step:
        cell.nested += 1
        runtime_tool_id = str(cell.nested)
        call_id = f"cm-{cell.call_id[-6:]}-{cell.runtime_id}-{runtime_tool_id}"
        nested = (cell.runtime_id, runtime_tool_id)
        choices = ["exec_short", "exec_short", "mcp", "exec_session"]
        if th.sessions:
            choices.append("write_stdin")
        name = self.rng.choice(choices)
        made = getattr(self, f"tool_{name}")(th, nested=nested, call_id=call_id)
        if made is None:
            return None
        self.features.add("nested_tool_call")
        return (yield from made[1](turn_id))

    def tool_code(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]]:
        rng = self.rng
        call_id = self.call_id()
        lines = [f"const r{i} = await tools.exec_command({{ cmd: {json.dumps(rng.choice(COMMANDS))} }});"
                 for i in range(rng.randint(1, 3))]
        lines.append(f"text({json.dumps(self.text(3), ensure_ascii=False)});")
        source = "\n".join(lines) + "\n"
        item = custom_call("exec", source, call_id)

        def run(turn_id: str) -> Step:
            runtime_id = str(th.next_cell)
            th.next_cell += 1
            cell = Cell(runtime_id, call_id, turn_id)
            self.emit({"type": "code_cell_started", "runtime_cell_id": runtime_id,
                       "model_visible_call_id": call_id, "source_js": source},
                      th, turn_id, droppable=True)
            self.features.add("code_cell")
            yield None
            nested = [self.nested_tool(th, cell, turn_id) for _ in range(rng.randint(0, 3))]
            yield from self.parallel(nested)
            roll = rng.random()
            text = self.text(6)
            if roll < 0.4:
                variant, status, body = "Yielded", "yielded", {}
                th.live_cells[runtime_id] = cell
                self.features.add("code_cell_yielded")
                text = f"Script running with cell ID {runtime_id}\n" + text
            elif roll < 0.8:
                variant, status, body = "Result", "completed", {"stored_values": {},
                                                                "error_text": None}
            elif roll < 0.95:
                variant, status, body = "Result", "failed", {
                    "stored_values": {}, "error_text": "TypeError: " + self.text(3)}
                self.features.add("code_cell_failed")
            else:
                variant, status, body = "Terminated", "terminated", {}
            content = input_texts(text)
            response = {variant: {"cell_id": runtime_id, "content_items": content, **body}}
            ref = self.payload("tool_result", {"response": response})
            self.emit({"type": "code_cell_initial_response", "runtime_cell_id": runtime_id,
                       "status": status, "response_payload": ref}, th, turn_id, droppable=True)
            if status != "yielded":
                yield None
                ref = self.payload("tool_result", {"response": response})
                self.emit({"type": "code_cell_ended", "runtime_cell_id": runtime_id,
                           "status": status, "response_payload": ref},
                          th, turn_id, droppable=True)
            output: Any = content if rng.random() < 0.7 else text
            return custom_output(call_id, output)

        return item, run

    def tool_wait(self, th: ThreadState, missing: bool = False
                  ) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        if missing:
            runtime_id, cell = str(rng.randint(50, 99)), None
            self.features.add("wait_missing_cell")
        else:
            if not th.live_cells:
                return None
            runtime_id = rng.choice(sorted(th.live_cells))
            cell = th.live_cells.pop(runtime_id)  # claimed by this wait
        call_id = self.call_id()
        terminate = rng.random() < 0.2
        args: Json = {"cell_id": runtime_id, "yield_time_ms": rng.choice([1000, 30000])}
        if terminate:
            args["terminate"] = True
        arguments = self.json_args(args)
        item = function_call("wait", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "wait",
                              {"type": "function", "arguments": arguments})
            self.features.add("wait_tool")
            yield None
            text = f"exec cell {runtime_id} not found"
            if cell is not None:
                nested = [self.nested_tool(th, cell, turn_id) for _ in range(rng.randint(0, 2))]
                yield from self.parallel(nested)
                text = self.text(5)
                if not terminate and rng.random() < 0.25:
                    th.live_cells[runtime_id] = cell  # still running after this wait
                    text = f"Script running with cell ID {runtime_id}\n" + text
                else:
                    if terminate:
                        response: Json = {"Terminated": {"cell_id": runtime_id,
                                                         "content_items": input_texts(text)}}
                        status = "terminated"
                    else:
                        failed = rng.random() < 0.15
                        response = {"Result": {
                            "cell_id": runtime_id, "content_items": input_texts(text),
                            "stored_values": {},
                            "error_text": "Error: " + self.text(2) if failed else None}}
                        status = "failed" if failed else "completed"
                    ref = self.payload("tool_result", {"response": response})
                    self.emit({"type": "code_cell_ended", "runtime_cell_id": runtime_id,
                               "status": status, "response_payload": ref},
                              th, turn_id, droppable=True)
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, text)))
            return fn_output(call_id, text)

        return item, run

    def tool_wait_missing(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        return self.tool_wait(th, missing=True)

    # -- multi-agent -----------------------------------------------------------------

    def thread_id_spelling(self, thread_id: str) -> str:
        """ThreadId accepts several spellings and normalizes them."""
        roll = self.rng.random()
        if roll < 0.85:
            return thread_id
        self.features.add("thread_id_alternate_spelling")
        if roll < 0.9:
            return thread_id.upper()
        if roll < 0.94:
            return thread_id.replace("-", "")
        if roll < 0.97:
            return "{" + thread_id + "}"
        return "urn:uuid:" + thread_id

    def agent_status(self) -> Any:
        return self.rng.choice(["pending_init", "running", "running", {"running": None},
                                {"completed": None}, {"completed": self.text(3)}, "shutdown",
                                "interrupted", {"errored": "boom"}])

    def tool_spawn(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        names = [n for n in TASK_NAMES if n not in self.used_task_names]
        if not names:
            return None
        name = rng.choice(names)
        self.used_task_names.add(name)
        call_id = self.call_id()
        task = self.text(rng.randint(5, 16))
        role = rng.choice(ROLES)
        args: Json = {"task_name": name, "message": task}
        if role:
            args["agent_role"] = role
        arguments = self.json_args(args)
        item = function_call("spawn_agent", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "spawn_agent",
                              {"type": "function", "arguments": arguments})
            effort = rng.choice(["none", "minimal", "low", "medium", "high", "xhigh",
                                 {"medium": None}])
            begin = {"call_id": call_id, "sender_thread_id": self.thread_id_spelling(th.thread_id),
                     "prompt": task, "model": self.model, "reasoning_effort": effort}
            self.runtime(th, turn_id, call_id, begin)
            yield None
            self.features.add("spawn_agent")
            if rng.random() < 0.07:
                end = dict(begin, new_thread_id=None, status={"errored": "agent limit reached"})
                self.runtime(th, turn_id, call_id, end, "failed")
                self.tool_ended(th, turn_id, call_id,
                                direct(fn_output(call_id, "agent limit reached")))
                self.features.add("spawn_failed")
                return fn_output(call_id, "agent limit reached")
            child = ThreadState(self.uuid(), f"{th.agent_path}/{name}", parent=th,
                                depth=th.depth + 1, nickname=rng.choice(NICKNAMES), role=role)
            th.children.append(child)
            spawn: Json = {"parent_thread_id": th.thread_id, "depth": child.depth,
                           "agent_path": child.agent_path, "agent_nickname": child.nickname,
                           "agent_role": role}
            roll = rng.random()
            if roll < 0.1:
                del spawn["agent_path"]
                self.features.add("thread_spawn_without_agent_path")
            elif roll < 0.15:
                spawn.pop("agent_role")
            self.start_thread(child, {"subagent": {"thread_spawn": spawn}})
            content = task
            if rng.random() < 0.05:
                content = "Task: " + task  # delivered text differs: edge falls back to thread
                self.features.add("spawn_task_text_differs")
            child.mailbox.append(self.inter_agent(th.agent_path, child.agent_path, content,
                                                  True))
            child.trigger = True
            self.actors.append(self.child_actor(child))
            yield None
            end = dict(begin, new_thread_id=self.thread_id_spelling(child.thread_id),
                       new_agent_nickname=child.nickname, status=self.agent_status())
            if role:
                end["new_agent_role"] = role
            self.runtime(th, turn_id, call_id, end, "completed")
            output = json.dumps({"agent_path": child.agent_path, "nickname": child.nickname})
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, output)))
            return fn_output(call_id, output)

        return item, run

    def message_tool(self, th: ThreadState, tool: str) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        live = [c for c in th.children if not c.closed]
        if not live:
            return None
        child = rng.choice(live)
        call_id = self.call_id()
        message = self.text(rng.randint(3, 12))
        arguments = self.json_args({"target": child.agent_path, "message": message})
        item = function_call(tool, arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, tool,
                              {"type": "function", "arguments": arguments})
            sender = self.thread_id_spelling(th.thread_id)
            receiver = self.thread_id_spelling(child.thread_id)
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "sender_thread_id": sender,
                                                "receiver_thread_id": receiver,
                                                "prompt": message})
            self.features.add(tool)
            delivered = not child.closed
            if delivered:
                child.mailbox.append(self.inter_agent(th.agent_path, child.agent_path, message,
                                                      tool == "followup_task"))
                if tool == "followup_task":
                    child.trigger = True
            yield None
            end: Json = {"call_id": call_id, "sender_thread_id": sender,
                         "receiver_thread_id": receiver, "prompt": message,
                         "status": self.agent_status()}
            if child.nickname and rng.random() < 0.7:
                end["receiver_agent_nickname"] = child.nickname
            self.runtime(th, turn_id, call_id, end, "completed")
            output = json.dumps({"delivered": delivered})
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, output)))
            return fn_output(call_id, output)

        return item, run

    def tool_send_message(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        return self.message_tool(th, "send_message")

    def tool_followup_task(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        return self.message_tool(th, "followup_task")

    def tool_wait_agent(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        live = [c for c in th.children if not c.closed]
        if not live:
            return None
        targets = rng.sample(live, rng.randint(1, len(live)))
        call_id = self.call_id()
        timeout = rng.choice([30000, 120000, 600000])
        arguments = self.json_args({"targets": [c.agent_path for c in targets],
                                    "timeout_ms": timeout})
        item = function_call("wait_agent", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "wait_agent",
                              {"type": "function", "arguments": arguments})
            self.runtime(th, turn_id, call_id, {
                "sender_thread_id": th.thread_id,
                "receiver_thread_ids": [c.thread_id for c in targets], "call_id": call_id})
            before = sum(c.reports for c in targets)
            done = yield from self.wait_until(
                lambda: sum(c.reports for c in targets) > before, rng.randint(20, 300))
            self.features.add("wait_agent")
            statuses = {c.thread_id: self.agent_status() for c in targets}
            self.runtime(th, turn_id, call_id, {"sender_thread_id": th.thread_id,
                                                "call_id": call_id, "statuses": statuses},
                         "completed")
            output = json.dumps({"status": {c.agent_path: statuses[c.thread_id]
                                            for c in targets}, "timed_out": not done})
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, output)))
            return fn_output(call_id, output)

        return item, run

    def tool_close_agent(self, th: ThreadState) -> tuple[Json, Callable[[str], Step]] | None:
        rng = self.rng
        idle = [c for c in th.children if not c.closed and not c.busy]
        if not idle:
            return None
        child = rng.choice(idle)
        child.closed = True  # claimed: no other tool may message or close it
        call_id = self.call_id()
        arguments = self.json_args({"target": child.agent_path})
        item = function_call("close_agent", arguments, call_id)

        def run(turn_id: str) -> Step:
            self.tool_started(th, turn_id, call_id, "close_agent",
                              {"type": "function", "arguments": arguments})
            sender = self.thread_id_spelling(th.thread_id)
            receiver = self.thread_id_spelling(child.thread_id)
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "sender_thread_id": sender,
                                                "receiver_thread_id": receiver})
            yield None
            self.end_thread(child)
            status = self.agent_status()
            self.runtime(th, turn_id, call_id, {"call_id": call_id, "sender_thread_id": sender,
                                                "receiver_thread_id": receiver,
                                                "status": status}, "completed")
            self.features.add("close_agent")
            output = json.dumps({"status": status})
            self.tool_ended(th, turn_id, call_id, direct(fn_output(call_id, output)))
            return fn_output(call_id, output)

        return item, run

    # -- compaction ------------------------------------------------------------------

    def compaction(self, th: ThreadState, turn_id: str) -> Step:
        rng = self.rng
        compaction_id = self.uuid()
        body = {"model": self.model, "input": list(th.history), "instructions": "Compact.",
                "tools": [], "parallel_tool_calls": False,
                "reasoning": {"effort": "medium", "summary": "auto"}, "text": None}
        succeeded = False
        for attempt in range(rng.choice((1, 1, 2, 3))):
            request_id = f"compaction_request:{self.next_compaction_request}"
            self.next_compaction_request += 1
            ref = self.payload("compaction_request", body)
            self.emit({"type": "compaction_request_started", "compaction_id": compaction_id,
                       "compaction_request_id": request_id, "thread_id": th.thread_id,
                       "codex_turn_id": turn_id, "model": self.model,
                       "provider_name": "OpenAI", "request_payload": ref}, th, turn_id)
            yield None
            self.clock.sleep(500, 30_000)
            if attempt < 2 and rng.random() < 0.3:
                self.emit({"type": "compaction_request_failed", "compaction_id": compaction_id,
                           "compaction_request_id": request_id,
                           "error": "stream disconnected before completion"}, th, turn_id)
                self.features.add("compaction_request_failed")
                continue
            users = [item for item in th.history[len(th.prefix):]
                     if item.get("type") == "message" and item.get("role") == "user"]
            summary_type = rng.choice(["compaction", "compaction", "compaction_summary"])
            output = [*users, {"type": summary_type, "encrypted_content": self.encrypted()}]
            ref = self.payload("compaction_response", {"output_items": output})
            self.emit({"type": "compaction_request_completed", "compaction_id": compaction_id,
                       "compaction_request_id": request_id, "response_payload": ref},
                      th, turn_id)
            succeeded = True
            replacement = output
            break
        if not succeeded or rng.random() < 0.08:
            self.features.add("compaction_not_installed")
            return
        yield None
        ref = self.payload("compaction_checkpoint", {"input_history": list(th.history),
                                                     "replacement_history": replacement})
        self.emit({"type": "compaction_installed", "compaction_id": compaction_id,
                   "checkpoint_payload": ref}, th, turn_id)
        th.history = [*th.prefix, *replacement]
        th.force_full = True
        th.last_inference_ok = False
        self.features.add("compaction_installed")



# ---------------------------------------------------------------------------
# Post-processing: harmless variations and corruptions
# ---------------------------------------------------------------------------


class BundleFiles:
    """The written bundle as editable lines and payload files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Split on "\n" only: str.splitlines() would also split on U+2028, NEL, ...
        text = (path / "trace.jsonl").read_text(encoding="utf-8")
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.events = [json.loads(line) for line in self.lines]

    def payload_path(self, ref: Json) -> Path:
        return self.path / ref["path"]

    def read(self, ref: Json) -> Any:
        return json.loads(self.payload_path(ref).read_text(encoding="utf-8"))

    def write(self, ref: Json, value: Any) -> None:
        self.payload_path(ref).write_text(json.dumps(value, indent=2, ensure_ascii=False),
                                          encoding="utf-8")

    def set_event(self, index: int, event: Json) -> None:
        self.events[index] = event
        self.lines[index] = json.dumps(event, ensure_ascii=False, separators=(",", ":"))

    def insert_line(self, index: int, line: str) -> None:
        self.lines.insert(index, line)
        self.events.insert(index, {})

    def save(self, newline: str = "\n") -> None:
        (self.path / "trace.jsonl").write_bytes(
            "".join(line + newline for line in self.lines).encode("utf-8"))

    def indices(self, *types: str) -> list[int]:
        return [i for i, event in enumerate(self.events)
                if event.get("payload", {}).get("type") in types]


def harmless_variations(path: Path, rng: random.Random, sim: Simulation,
                        features: set[str]) -> None:
    """Valid-but-unusual bundle edits the reference tolerates."""
    files = BundleFiles(path)
    changed = False
    newline = "\n"
    if rng.random() < 0.05:
        # Payloads the reducer never opens may be missing (best-effort writes).
        unread = [files.events[i]["payload"]["event_payload"]
                  for i in files.indices("protocol_event_observed")]
        unread += [files.events[i]["payload"]["response_payload"]
                   for i in files.indices("code_cell_initial_response", "code_cell_ended")
                   if files.events[i]["payload"]["response_payload"]]
        if unread:
            files.payload_path(rng.choice(unread)).unlink()
            features.add("unread_payload_missing")
    if rng.random() < 0.04:
        index = rng.randrange(1, len(files.lines) + 1)
        files.insert_line(index, rng.choice(["", "   ", "\t"]))
        changed = True
        features.add("blank_line_in_event_log")
    if rng.random() < 0.04:
        newline = "\r\n"
        changed = True
        features.add("crlf_event_log")
    if rng.random() < 0.05:
        index = rng.randrange(len(files.events))
        if files.events[index]:
            event = dict(files.events[index])
            event["producer_note"] = {"ignored": [1, 2.5, "x"]}
            files.set_event(index, event)
            changed = True
            features.add("unknown_event_field")
    if rng.random() < 0.03:
        starts = files.indices("rollout_started")
        if starts:
            event = json.loads(files.lines[starts[0]])
            event["payload"]["trace_id"] = "trace-from-event-" + str(rng.randrange(100))
            files.set_event(starts[0], event)
            changed = True
            features.add("rollout_started_overrides_manifest")
    if changed:
        files.save(newline)


def corrupt(path: Path, rng: random.Random, sim: Simulation) -> str:
    """Apply one corruption that the reference reducer rejects; return its name."""
    files = BundleFiles(path)
    candidates: list[tuple[str, Callable[[], bool]]] = [
        ("unknown_thread", lambda: corrupt_unknown_thread(files, rng)),
        ("duplicate_id", lambda: corrupt_duplicate(files, rng)),
        ("call_content_mismatch", lambda: corrupt_call_content(files, rng)),
        ("bad_payload_shape", lambda: corrupt_payload_shape(files, rng)),
        ("missing_payload_file", lambda: corrupt_missing_payload(files, rng)),
        ("unknown_reference", lambda: corrupt_unknown_reference(files, rng)),
        ("unknown_previous_response_id", lambda: corrupt_previous_response(files, rng)),
        ("malformed_event_line", lambda: corrupt_event_line(files, rng)),
        ("turn_thread_mismatch", lambda: corrupt_turn_thread(files, rng)),
        ("terminal_process_changed", lambda: corrupt_process_id(files, rng)),
        ("reasoning_text_conflict", lambda: corrupt_reasoning(files, rng)),
        ("bad_collab_payload", lambda: corrupt_collab(files, rng)),
        ("bad_tool_arguments", lambda: corrupt_tool_arguments(files, rng)),
        ("bad_manifest", lambda: corrupt_manifest(files, rng)),
        ("compaction_without_context", lambda: corrupt_compaction_context(files, rng)),
        ("unparseable_payload", lambda: corrupt_payload_bytes(files, rng)),
    ]
    rng.shuffle(candidates)
    for name, apply in candidates:
        if apply():
            files.save()
            return name
    raise AssertionError("no corruption applied")  # unknown_thread always applies


def ref_of(event: Json, key: str) -> Json | None:
    return event.get("payload", {}).get(key)


def corrupt_unknown_thread(files: BundleFiles, rng: random.Random) -> bool:
    index = rng.choice(files.indices("codex_turn_started"))
    event = json.loads(files.lines[index])
    event["payload"]["thread_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
    files.set_event(index, event)
    return True


def corrupt_duplicate(files: BundleFiles, rng: random.Random) -> bool:
    indices = files.indices("thread_started", "codex_turn_started", "inference_started",
                            "tool_call_started", "compaction_installed")
    index = rng.choice(indices)
    later = rng.randint(index + 1, len(files.lines))
    files.insert_line(later, files.lines[index])
    return True


def corrupt_call_content(files: BundleFiles, rng: random.Random) -> bool:
    seen: dict[tuple[str, str, str], int] = {}
    options: list[tuple[int, Json, int]] = []
    thread_of: dict[str, str] = {}
    for index, event in enumerate(files.events):
        payload = event.get("payload", {})
        kind = payload.get("type")
        if kind == "inference_started":
            thread_of[payload["inference_call_id"]] = payload["thread_id"]
            body = files.read(payload["request_payload"])
            thread = payload["thread_id"]
            for position, item in enumerate(body.get("input", [])):
                key = (thread, item.get("type", ""), str(item.get("call_id")))
                if item.get("call_id") and key in seen:
                    options.append((index, payload["request_payload"], position))
                if item.get("call_id"):
                    seen.setdefault(key, index)
        elif kind == "inference_completed":
            body = files.read(payload["response_payload"])
            thread = thread_of.get(payload["inference_call_id"], "")
            for item in body.get("output_items", []):
                if item.get("call_id"):
                    seen.setdefault((thread, item["type"], item["call_id"]), index)
    if not options:
        return False
    _, ref, position = rng.choice(options)
    body = files.read(ref)
    item = body["input"][position]
    if item["type"] == "function_call":
        try:
            arguments = json.loads(item["arguments"])
        except ValueError:
            arguments = None
        if isinstance(arguments, dict):
            arguments["tampered"] = True
            item["arguments"] = json.dumps(arguments)
        else:
            item["arguments"] = str(item["arguments"]) + " tampered"
    elif item["type"] == "custom_tool_call":
        item["input"] += "\n// tampered"
    elif item["type"] == "local_shell_call":
        item["status"] = "incomplete"
    else:
        item["output"] = "tampered output"
    files.write(ref, body)
    return True


def corrupt_payload_shape(files: BundleFiles, rng: random.Random) -> bool:
    choices: list[Callable[[], bool]] = []

    def request(mutate: Callable[[Json], None]) -> Callable[[], bool]:
        def apply() -> bool:
            index = rng.choice(files.indices("inference_started"))
            ref = ref_of(files.events[index], "request_payload")
            assert ref is not None
            body = files.read(ref)
            mutate(body)
            files.write(ref, body)
            return True
        return apply

    def first_item(body: Json) -> Json:
        return body["input"][rng.randrange(len(body["input"]))]

    choices.append(request(lambda body: body.pop("input")))
    choices.append(request(lambda body: body.update(input={"items": body["input"]})))
    choices.append(request(lambda body: first_item(body).update(type="banana_item")))
    choices.append(request(lambda body: first_item(body).pop("type")))
    choices.append(request(lambda body: body["input"].append(
        {"type": "message", "role": "narrator", "content": []})))
    choices.append(request(lambda body: body["input"].append(
        {"type": "reasoning", "summary": [], "encrypted_content": None})))
    choices.append(request(lambda body: body["input"].append(
        {"type": "reasoning", "summary": "not a list", "encrypted_content": "x"})))
    choices.append(request(lambda body: body["input"].append(
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": 5}]})))
    choices.append(request(lambda body: body["input"].append(
        {"type": "reasoning", "encrypted_content": 42})))
    choices.append(request(lambda body: body["input"].append(
        {"type": "compaction", "summary": "no encrypted content"})))

    def response_shape() -> bool:
        index = rng.choice(files.indices("inference_completed"))
        ref = ref_of(files.events[index], "response_payload")
        assert ref is not None
        body = files.read(ref)
        body.pop("output_items")
        files.write(ref, body)
        return True

    if files.indices("inference_completed"):
        choices.append(response_shape)

    def exec_begin_shape() -> bool:
        options = []
        for index in files.indices("tool_call_runtime_started"):
            ref = ref_of(files.events[index], "runtime_payload")
            assert ref is not None
            body = files.read(ref)
            if "command" in body and "cwd" in body:
                options.append((ref, body))
        if not options:
            return False
        ref, body = rng.choice(options)
        rng.choice([lambda: body.pop("cwd"), lambda: body.update(command="ls -la")])()
        files.write(ref, body)
        return True

    choices.append(exec_begin_shape)

    def checkpoint_shape() -> bool:
        indices = files.indices("compaction_installed")
        if not indices:
            return False
        ref = ref_of(files.events[rng.choice(indices)], "checkpoint_payload")
        assert ref is not None
        body = files.read(ref)
        body.pop(rng.choice(["input_history", "replacement_history"]))
        files.write(ref, body)
        return True

    choices.append(checkpoint_shape)

    def metadata_shape() -> bool:
        refs = [ref_of(files.events[i], "metadata_payload") for i in files.indices("thread_started")]
        refs = [ref for ref in refs if ref]
        if not refs:
            return False
        ref = rng.choice(refs)
        body = files.read(ref)
        body[rng.choice(["nickname", "agent_path", "model"])] = rng.choice([5, ["x"], {"a": 1}])
        files.write(ref, body)
        return True

    choices.append(metadata_shape)
    rng.shuffle(choices)
    return any(choice() for choice in choices)


def corrupt_missing_payload(files: BundleFiles, rng: random.Random) -> bool:
    read_refs = []
    for event in files.events:
        payload = event.get("payload", {})
        for key in ("metadata_payload", "request_payload", "response_payload",
                    "invocation_payload", "checkpoint_payload"):
            ref = payload.get(key)
            if ref and payload["type"] not in ("compaction_request_started",
                                               "compaction_request_completed",
                                               "code_cell_initial_response", "code_cell_ended"):
                read_refs.append(ref)
    files.payload_path(rng.choice(read_refs)).unlink()
    return True


def corrupt_unknown_reference(files: BundleFiles, rng: random.Random) -> bool:
    options: list[tuple[str, str]] = [
        ("inference_completed", "inference_call_id"), ("inference_failed", "inference_call_id"),
        ("tool_call_ended", "tool_call_id"), ("tool_call_runtime_started", "tool_call_id"),
        ("tool_call_runtime_ended", "tool_call_id"), ("codex_turn_ended", "codex_turn_id"),
        ("code_cell_initial_response", "runtime_cell_id"), ("code_cell_ended", "runtime_cell_id"),
        ("compaction_request_completed", "compaction_request_id"),
        ("compaction_request_failed", "compaction_request_id"), ("thread_ended", "thread_id"),
        ("inference_started", "codex_turn_id"), ("compaction_installed", "codex_turn_id"),
    ]
    rng.shuffle(options)
    for kind, key in options:
        indices = files.indices(kind)
        if not indices:
            continue
        index = rng.choice(indices)
        event = json.loads(files.lines[index])
        if kind == "compaction_installed":
            event["codex_turn_id"] = "turn-that-never-started"
        else:
            event["payload"][key] = f"{key}-unknown-{rng.randrange(1000)}"
        files.set_event(index, event)
        return True
    return False


def corrupt_previous_response(files: BundleFiles, rng: random.Random) -> bool:
    options = []
    for index in files.indices("inference_started"):
        ref = ref_of(files.events[index], "request_payload")
        assert ref is not None
        body = files.read(ref)
        if body.get("previous_response_id"):
            options.append((ref, body))
    if not options:
        return False
    ref, body = rng.choice(options)
    body["previous_response_id"] = "resp_" + "0" * 40
    files.write(ref, body)
    return True


def corrupt_event_line(files: BundleFiles, rng: random.Random) -> bool:
    index = rng.randrange(len(files.lines))
    line = files.lines[index]
    roll = rng.random()
    if roll < 0.25:
        files.lines[index] = line[: len(line) // 2]
    elif roll < 0.45:
        event = json.loads(line)
        event["payload"]["type"] = "mystery_event"
        files.set_event(index, event)
    elif roll < 0.6:
        event = json.loads(line)
        event["payload"] = {"type": "other", "kind": "experimental", "summary": "x",
                            "payloads": [], "metadata": {"k": 1}}
        files.set_event(index, event)
    elif roll < 0.75:
        event = json.loads(line)
        event["seq"] = str(event["seq"])
        files.set_event(index, event)
    elif roll < 0.9:
        event = json.loads(line)
        del event["rollout_id"]
        files.set_event(index, event)
    else:
        event = json.loads(line)
        event["wall_time_unix_ms"] = float(event["wall_time_unix_ms"]) + 0.5
        files.set_event(index, event)
    return True


def corrupt_turn_thread(files: BundleFiles, rng: random.Random) -> bool:
    threads = [files.events[i]["payload"]["thread_id"] for i in files.indices("thread_started")]
    if len(set(threads)) < 2:
        return False
    index = rng.choice(files.indices("codex_turn_ended", "inference_started"))
    event = json.loads(files.lines[index])
    if event["payload"]["type"] == "codex_turn_ended":
        event["thread_id"] = next(t for t in threads if t != event.get("thread_id"))
    else:
        event["payload"]["thread_id"] = next(
            t for t in threads if t != event["payload"]["thread_id"])
    files.set_event(index, event)
    return True


def corrupt_process_id(files: BundleFiles, rng: random.Random) -> bool:
    options = []
    for index in files.indices("tool_call_runtime_started"):
        ref = ref_of(files.events[index], "runtime_payload")
        assert ref is not None
        begin = files.read(ref)
        if begin.get("process_id") and "command" in begin:
            call = files.events[index]["payload"]["tool_call_id"]
            for later in files.indices("tool_call_runtime_ended"):
                if later > index and files.events[later]["payload"]["tool_call_id"] == call:
                    end_ref = ref_of(files.events[later], "runtime_payload")
                    assert end_ref is not None
                    options.append(end_ref)
    if not options:
        return False
    ref = rng.choice(options)
    body = files.read(ref)
    body["process_id"] = "999999999"
    files.write(ref, body)
    return True


def corrupt_reasoning(files: BundleFiles, rng: random.Random) -> bool:
    seen: set[str] = set()
    options = []
    for event in files.events:
        payload = event.get("payload", {})
        if payload.get("type") == "inference_completed":
            for item in files.read(payload["response_payload"]).get("output_items", []):
                # Only readable reasoning conflicts: text may always be added to a bare blob.
                if (item.get("type") == "reasoning" and item.get("encrypted_content")
                        and (item.get("summary") or item.get("content"))):
                    seen.add(item["encrypted_content"])
        if payload.get("type") == "inference_started":
            body = files.read(payload["request_payload"])
            for position, item in enumerate(body.get("input", [])):
                if item.get("type") == "reasoning" and item.get("encrypted_content") in seen:
                    options.append((payload["request_payload"], position))
    if not options:
        return False
    ref, position = rng.choice(options)
    body = files.read(ref)
    body["input"][position]["summary"] = [{"type": "summary_text", "text": "rewritten"}]
    files.write(ref, body)
    return True


def corrupt_collab(files: BundleFiles, rng: random.Random) -> bool:
    options = []
    for key in ("tool_call_runtime_started", "tool_call_runtime_ended"):
        for index in files.indices(key):
            ref = ref_of(files.events[index], "runtime_payload")
            assert ref is not None
            body = files.read(ref)
            if "receiver_thread_id" in body or "new_thread_id" in body:
                options.append((ref, body))
    if not options:
        return False
    ref, body = rng.choice(options)
    roll = rng.random()
    if "new_thread_id" in body and roll < 0.3:
        body["reasoning_effort"] = rng.choice(["max", "Medium", "x_high", None])
    elif "status" in body and roll < 0.6:
        body["status"] = rng.choice(["Running", {"errored": None}, "completed", {"running": 1}])
    elif "new_thread_id" in body:
        body["new_thread_id"] = rng.choice(["thread-1", "019d0000-0000-7000-8000-00000000000",
                                            " " + str(uuid.UUID(int=rng.getrandbits(128)))])
    else:
        body["receiver_thread_id"] = rng.choice(["thread-child", 12345, None,
                                                 "URN:UUID:" + str(uuid.UUID(int=1))])
    files.write(ref, body)
    return True


def corrupt_tool_arguments(files: BundleFiles, rng: random.Random) -> bool:
    options = []
    for index in files.indices("tool_call_started"):
        ref = ref_of(files.events[index], "invocation_payload")
        if not ref:
            continue
        body = files.read(ref)
        if body.get("tool_name") in ("write_stdin", "wait"):
            options.append((ref, body))
    if not options:
        return False
    ref, body = rng.choice(options)
    roll = rng.random()
    if roll < 0.4:
        body["payload"]["arguments"] = "{\"cell_id\": \"1\"" if body["tool_name"] == "wait" \
            else "{\"session_id\": 1,"
    elif roll < 0.7:
        args = json.loads(body["payload"]["arguments"])
        args.pop("cell_id" if body["tool_name"] == "wait" else "session_id")
        body["payload"]["arguments"] = json.dumps(args)
    elif body["tool_name"] == "write_stdin":
        args = json.loads(body["payload"]["arguments"])
        args["session_id"] = rng.choice(["", None, [1], True])
        body["payload"]["arguments"] = json.dumps(args)
    else:
        body["payload"].pop("arguments")
    files.write(ref, body)
    return True


def corrupt_manifest(files: BundleFiles, rng: random.Random) -> bool:
    manifest_path = files.path / "manifest.json"
    roll = rng.random()
    if roll < 0.3:
        manifest_path.unlink()
        return True
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if roll < 0.6:
        manifest.pop(rng.choice(["root_thread_id", "trace_id", "rollout_id",
                                 "started_at_unix_ms"]))
    else:
        manifest["started_at_unix_ms"] = "yesterday"
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return True


def corrupt_compaction_context(files: BundleFiles, rng: random.Random) -> bool:
    indices = files.indices("compaction_installed")
    if not indices:
        return False
    index = rng.choice(indices)
    event = json.loads(files.lines[index])
    event[rng.choice(["thread_id", "codex_turn_id"])] = None
    files.set_event(index, event)
    return True


def corrupt_payload_bytes(files: BundleFiles, rng: random.Random) -> bool:
    refs = [ref_of(files.events[i], "request_payload") for i in files.indices("inference_started")]
    ref = rng.choice([r for r in refs if r])
    target = files.payload_path(ref)
    data = target.read_text(encoding="utf-8")
    roll = rng.random()
    if roll < 0.3:
        data = data[: len(data) // 2]
    elif roll < 0.5:
        data += "\n}"
    elif roll < 0.7:
        data = "\ufeff" + data  # a UTF-8 BOM is not JSON
    else:
        # A lone surrogate escape: JSON text Python accepts but serde rejects.
        data = data.replace('"text": "', '"text": "\\ud800', 1)
        if "\\ud800" not in data:
            data = data[: len(data) // 2]
    target.write_text(data, encoding="utf-8")
    return True


# ---------------------------------------------------------------------------
# Checking the generator against the reference
# ---------------------------------------------------------------------------


def run_reference_code(bundle: Path, out: Path) -> tuple[int, str]:
    run = run_reference(bundle, out, timeout=60)
    assert run is not None
    return run.returncode, run.stderr


def error_shape(message: str) -> str:
    """Collapse ids and numbers so similar reference errors group together."""
    message = message.removeprefix("ERROR: ").splitlines()[0] if message else "<empty>"
    message = re.sub(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}", "<uuid>", message)
    message = re.sub(r"(call|resp|cm)[-_][\w-]+", r"\1_<id>", message)
    message = re.sub(r"(raw_payload|inference|conversation_item|terminal_operation|"
                     r"compaction_request):\d+", r"\1:N", message)
    message = re.sub(r"\d+", "N", message)
    return message[:150]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the generator against the reference.")
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write bundles here instead of a temp dir")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if reference_reducer() is None:
        print(f"reference reducer not found at {REFERENCE_REDUCE}", file=sys.stderr)
        return 2
    root = args.keep or Path(tempfile.mkdtemp(prefix="tracegraph-gen-"))
    valid_ok = valid_bad = invalid_rejected = invalid_accepted = crashes = 0
    errors: Counter[str] = Counter()
    corruptions: Counter[str] = Counter()
    features: Counter[str] = Counter()
    problems: list[str] = []
    for seed in range(args.start, args.start + args.seeds):
        bundle = root / f"seed-{seed}"
        info = generate_bundle_info(bundle, seed)
        features.update(info.features)
        code, stderr = run_reference_code(bundle, root / f"seed-{seed}.state.json")
        if code not in (0, 2):
            crashes += 1
            problems.append(f"seed {seed}: reference crashed ({code}): {stderr[:200]}")
        elif info.valid:
            if code == 0:
                valid_ok += 1
            else:
                valid_bad += 1
                problems.append(f"seed {seed}: valid bundle rejected: {stderr[:300]}")
        else:
            corruptions[info.corruption or "?"] += 1
            if code == 2:
                invalid_rejected += 1
                errors[error_shape(stderr)] += 1
            else:
                invalid_accepted += 1
                problems.append(f"seed {seed}: corruption {info.corruption} accepted")
        if args.verbose:
            print(seed, info.valid, info.corruption, code, stderr[:120])
    total = args.seeds
    valid = valid_ok + valid_bad
    invalid = invalid_rejected + invalid_accepted
    print(f"seeds {args.start}..{args.start + total - 1}: {valid} valid "
          f"({100 * valid / total:.0f}%), {invalid} corrupted, {crashes} reference crashes")
    print(f"valid accepted by the reference: {valid_ok}/{valid}"
          f" ({100 * valid_ok / max(valid, 1):.1f}%)")
    print(f"corrupted rejected by the reference: {invalid_rejected}/{invalid}")
    print("\ncorruptions:")
    for name, count in corruptions.most_common():
        print(f"  {count:4d}  {name}")
    print("\nreference error messages (corrupted bundles):")
    for message, count in errors.most_common():
        print(f"  {count:4d}  {message}")
    print("\nfeatures exercised (bundles):")
    for name, count in sorted(features.items()):
        print(f"  {count:4d}  {name}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
