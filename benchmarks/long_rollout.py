"""Write a long synthetic rollout bundle for reducer benchmarks.

The rollout is written with the bundle-authoring kit (``tracegraph.authoring``)
in the live recorder's payload shapes, and is seeded, so a given ``--turns``
and ``--seed`` always give the same bytes. Each turn is a user message and
one to four inferences; all but the last request tool work:

- ``exec_command`` one-shot commands (about one in eight exits non-zero, so the
  terminal operation fails) and long-lived PTY sessions that later
  ``write_stdin`` calls reuse, until a write makes the process exit;
- ``apply_patch`` calls, a few of which fail;
- code-mode ``exec`` cells running a nested ``exec_command`` (some cells fail);
- now and then an inference fails and is retried.

Requests are incremental (``previous_response_id`` and only the new items),
except every ``--full-every``-th turn and the first request after a remote
compaction (every ``--compact-every`` turns), which resend the whole history.
At ``--turns 1500`` this is about 21.7k events, 4.1k inference calls, 11.8k
conversation items, 17k payloads, a ~100 MB bundle and 150+ failed operations.

    python benchmarks/long_rollout.py /tmp/long-bundle --turns 1500
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tracegraph.authoring import FakeClock, Ids  # noqa: E402
from tracegraph.authoring.codex import (  # noqa: E402
    direct_output,
    exec_begin,
    exec_end,
    function_args,
    responses_request,
    thread_metadata,
    unified_exec_output,
    usage,
)
from tracegraph.authoring.items import (  # noqa: E402
    Json,
    assistant,
    custom_call,
    custom_output,
    developer,
    function_call,
    function_output,
    input_texts,
    reasoning,
    replayed,
    user,
)
from tracegraph.authoring.recorder import Recorder  # noqa: E402

THREAD = "019e0000-0000-7000-8000-00000000b001"
TRACE = "b0000000-0000-4000-8000-00000000b001"


def trace_id(seed: int) -> str:
    """The trace id of the rollout of ``seed``: one per seed, so that many rollouts
    can live side by side (``TRACE`` for seed 0, whose bytes the benchmarks quote)."""
    return TRACE if seed == 0 else f"b0000000-0000-4000-8000-{0xb001 + seed:012x}"
MODEL = "gpt-bench"
CWD = "/home/dev/src/orbit"
#: Every request resends the base instructions and tool specs, as Codex does; they are
#: most of a real bundle's bytes but never reach the reduced state.
INSTRUCTIONS = "You are Codex, a coding agent running in a terminal. " + " ".join(
    f"## Rule {n}\n\nKeep changes small, run the tests that cover them, prefer `rg` over "
    "`grep`, never revert work you did not make, and report what you verified." for n in range(75)
)
TOOLS: list[Json] = [
    {"type": "function", "name": name, "description": f"{name}: " + "Runs in a PTY. " * 40,
     "strict": False,
     "parameters": {"type": "object", "properties": {
         key: {"type": "string", "description": f"The {key} to use."}
         for key in ("cmd", "workdir", "session_id", "chars", "yield_time_ms")}}}
    for name in ("exec_command", "write_stdin")
] + [{"type": "custom", "name": name, "description": "Edit files or run JavaScript. " * 30}
     for name in ("apply_patch", "exec")]

COMMANDS = ["cargo test -p orbit-core", "rg -n TODO src", "git status --short", "make -j2",
            "pytest -q tests/test_parser.py", "ls -la crates", "du -sh target", "npm run lint"]
LOREM = ("The ephemeris cache keeps one entry per epoch; invalidation follows the leap-second "
         "table. Frames are propagated with a fixed step and checked against the reference. ")


@dataclass
class Conversation:
    """What the model has seen, and what the next incremental request must carry."""

    history: list[Json] = field(default_factory=list)
    pending: list[Json] = field(default_factory=list)
    previous_response_id: str | None = None
    force_full: bool = True

    def add(self, *items: Json) -> None:
        self.history.extend(items)
        self.pending.extend(items)


class LongRollout:
    def __init__(self, path: Path, seed: int, full_every: int, compact_every: int) -> None:
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.clock = FakeClock(1_700_000_000_000)
        self.full_every = full_every
        self.compact_every = compact_every
        self.rec = Recorder(path, trace_id=trace_id(seed), root_thread_id=THREAD, clock=self.clock,
                            model=MODEL, provider_name="bench")
        self.conv = Conversation()
        self.sessions: list[tuple[int, str, Json]] = []  # (session id, exec call id, begin)
        self.next_cell = 1
        self.next_pid = 30_000
        self.compactions = 0

    def text(self, sentences: int) -> str:
        return "".join(self.rng.choice(LOREM.split(". ")) + ". " for _ in range(sentences))

    def output(self, lines: int) -> str:
        words = LOREM.split()
        return "".join(f"{' '.join(self.rng.sample(words, 5))} [{self.rng.randrange(10**6)}]\n"
                       for _ in range(lines))

    # -- inference ---------------------------------------------------------------

    def request(self) -> Json:
        conv = self.conv
        if conv.force_full or conv.previous_response_id is None:
            body = responses_request(list(conv.history), model=MODEL, instructions=INSTRUCTIONS,
                                     tools=TOOLS, prompt_cache_key=THREAD)
        else:
            body = responses_request(list(conv.pending), model=MODEL, instructions=INSTRUCTIONS,
                                     tools=TOOLS, prompt_cache_key=THREAD,
                                     previous_response_id=conv.previous_response_id)
        return body

    def sample(self, turn_id: str) -> tuple[str, str, Json]:
        """Start an inference (retrying after a rare failure); return its id and response."""
        inference_id = self.rec.inference_started(THREAD, turn_id, self.request())
        while self.rng.random() < 0.012:
            self.clock.sleep(900)
            self.rec.inference_failed(THREAD, turn_id, inference_id,
                                      "stream disconnected before completion")
            inference_id = self.rec.inference_started(THREAD, turn_id, self.request())
        self.clock.sleep(self.rng.randint(400, 4000))
        tokens = 4_000 + 30 * len(self.conv.history)
        return inference_id, self.ids.response(), usage(tokens, tokens - 600,
                                                        self.rng.randint(20, 400), 64)

    def complete(self, turn_id: str, inference: tuple[str, str, Json], output: list[Json]) -> None:
        inference_id, response_id, token_usage = inference
        self.rec.inference_completed(THREAD, turn_id, inference_id, response_id, token_usage,
                                     output)
        self.conv.pending = []
        self.conv.previous_response_id = response_id
        self.conv.force_full = False
        self.conv.history.extend(replayed(item) for item in output)

    # -- tools -------------------------------------------------------------------

    def thought(self) -> Json:
        return reasoning([f"**Next step**\n\n{self.text(1)}"], self.ids.encrypted(120))

    def exec_command(self, turn_id: str) -> None:
        call_id = self.ids.call()
        cmd = self.rng.choice(COMMANDS)
        keep_open = len(self.sessions) < 3 and self.rng.random() < 0.25
        args: Json = {"cmd": cmd, "workdir": CWD, "tty": keep_open}
        output = [self.thought(), function_call("exec_command", args, call_id)]
        inference = self.sample(turn_id)
        self.next_pid += self.rng.randint(1, 50)
        # Unified exec starts the process while the stream is still open.
        self.rec.tool_started(THREAD, turn_id, call_id, "exec_command", function_args(args))
        begin = exec_begin(call_id, turn_id, cmd, cwd=CWD, process_id=str(self.next_pid))
        self.rec.runtime_started(THREAD, turn_id, call_id, begin)
        self.complete(turn_id, inference, output)
        self.clock.sleep(self.rng.randint(50, 3000))
        stdout = self.output(self.rng.randint(3, 16))
        if keep_open:
            self.sessions.append((self.next_pid, call_id, begin))
            text = unified_exec_output(self.ids.chunk(), 1000, stdout, session_id=self.next_pid)
        else:
            exit_code = 1 if self.rng.random() < 0.125 else 0
            end = exec_end(begin, stdout=stdout, exit_code=exit_code, wall_ms=800)
            self.rec.runtime_ended(THREAD, turn_id, call_id, end,
                                   status="failed" if exit_code else "completed")
            text = unified_exec_output(self.ids.chunk(), 800, stdout, exit_code=exit_code)
        self.rec.tool_ended(THREAD, turn_id, call_id, direct_output(call_id, text))
        self.conv.add(function_output(call_id, text))

    def write_stdin(self, turn_id: str) -> None:
        session_id, exec_call_id, begin = self.rng.choice(self.sessions)
        call_id = self.ids.call()
        exits = self.rng.random() < 0.3
        args: Json = {"session_id": session_id, "chars": "exit\n" if exits else "make check\n"}
        output = [self.thought(), function_call("write_stdin", args, call_id)]
        inference = self.sample(turn_id)
        self.complete(turn_id, inference, output)
        self.rec.tool_started(THREAD, turn_id, call_id, "write_stdin", function_args(args))
        self.clock.sleep(self.rng.randint(50, 2000))
        stdout = self.output(self.rng.randint(2, 20))
        if exits:
            # The process exits: unified exec ends the *original* exec_command call.
            self.sessions.remove((session_id, exec_call_id, begin))
            exit_code = 1 if self.rng.random() < 0.2 else 0
            self.rec.runtime_ended(THREAD, turn_id, exec_call_id,
                                   exec_end(begin, stdout=stdout, exit_code=exit_code,
                                            wall_ms=5000),
                                   status="failed" if exit_code else "completed")
            text = unified_exec_output(self.ids.chunk(), 300, stdout, exit_code=exit_code)
        else:
            text = unified_exec_output(self.ids.chunk(), 300, stdout, session_id=session_id)
        self.rec.tool_ended(THREAD, turn_id, call_id, direct_output(call_id, text))
        self.conv.add(function_output(call_id, text))

    def apply_patch(self, turn_id: str) -> None:
        call_id = self.ids.call()
        patch = ("*** Begin Patch\n*** Update File: src/cache.rs\n@@\n"
                 + "".join(f"-{line}\n+{line.upper()}\n" for line in self.text(4).split(". "))
                 + "*** End Patch\n")
        output = [self.thought(), custom_call("apply_patch", patch, call_id)]
        inference = self.sample(turn_id)
        self.complete(turn_id, inference, output)
        self.rec.tool_started(THREAD, turn_id, call_id, "apply_patch",
                              {"type": "custom", "input": patch})
        failed = self.rng.random() < 0.05
        text = "error: patch does not apply" if failed else "Success. Updated src/cache.rs"
        self.rec.tool_ended(THREAD, turn_id, call_id, {
            "type": "direct_response", "response_item": custom_output(call_id, text)},
            status="failed" if failed else "completed")
        self.conv.add(custom_output(call_id, text))

    def code_cell(self, turn_id: str) -> None:
        call_id = self.ids.call()
        cell = str(self.next_cell)
        self.next_cell += 1
        cmd = self.rng.choice(COMMANDS)
        source = (f"const r = await tools.exec_command({{ cmd: {json.dumps(cmd)} }});\n"
                  "text(r.output);\n")
        output = [self.thought(), custom_call("exec", source, call_id)]
        inference = self.sample(turn_id)
        # Code mode starts the cell and its nested tool before the stream completes.
        self.rec.code_cell_started(THREAD, turn_id, cell, call_id, source)
        nested = f"code-mode-{cell}-1"
        self.rec.tool_started(THREAD, turn_id, nested, "exec_command",
                              function_args({"cmd": cmd}), code_mode=(cell, "1"))
        begin = exec_begin(nested, turn_id, cmd, cwd=CWD, process_id=None)
        self.rec.runtime_started(THREAD, turn_id, nested, begin)
        self.complete(turn_id, inference, output)
        stdout = self.output(self.rng.randint(2, 20))
        failed = self.rng.random() < 0.1
        self.rec.runtime_ended(THREAD, turn_id, nested,
                               exec_end(begin, stdout=stdout, exit_code=int(failed), wall_ms=300),
                               status="failed" if failed else "completed")
        self.rec.tool_ended(THREAD, turn_id, nested, {
            "type": "code_mode_response",
            "value": {"chunk_id": self.ids.chunk(), "exit_code": int(failed), "output": stdout}})
        error = "Error: command failed" if failed else None
        result = {"Result": {"cell_id": cell, "content_items": input_texts(stdout),
                             "stored_values": {}, "error_text": error}}
        self.rec.code_cell_response("code_cell_initial_response", THREAD, turn_id, result)
        self.rec.code_cell_response("code_cell_ended", THREAD, turn_id, result)
        self.conv.add(custom_output(call_id, input_texts(stdout)))

    # -- compaction --------------------------------------------------------------

    def compact(self, turn_id: str) -> None:
        self.compactions += 1
        compaction_id = f"compaction-{self.compactions}"
        history = self.conv.history
        request_id = self.rec.compaction_request_started(THREAD, turn_id, compaction_id, {
            "model": MODEL, "input": history, "instructions": INSTRUCTIONS, "tools": TOOLS,
            "parallel_tool_calls": False, "text": None})
        self.clock.sleep(8_000)
        users = [item for item in history if item.get("role") == "user"][-4:]
        compact_output = [*users, {"type": "compaction",
                                   "encrypted_content": self.ids.encrypted(400)}]
        ref = self.rec.payload("compaction_response", {"output_items": compact_output})
        self.rec.emit({"type": "compaction_request_completed", "compaction_id": compaction_id,
                       "compaction_request_id": request_id, "response_payload": ref},
                      THREAD, turn_id)
        ref = self.rec.payload("compaction_checkpoint", {"input_history": history,
                                                         "replacement_history": compact_output})
        self.rec.emit({"type": "compaction_installed", "compaction_id": compaction_id,
                       "checkpoint_payload": ref}, THREAD, turn_id)
        # The first request after the install is a full snapshot of the new history.
        self.conv.history = [history[0], *compact_output]
        self.conv.pending = []
        self.conv.force_full = True

    # -- the session -------------------------------------------------------------

    def turn(self, turn: int) -> None:
        turn_id = f"turn-{turn}"
        self.rec.emit({"type": "codex_turn_started", "codex_turn_id": turn_id,
                       "thread_id": THREAD}, THREAD, turn_id)
        if turn and turn % self.compact_every == 0:
            self.compact(turn_id)
        if turn % self.full_every == 0:
            self.conv.force_full = True
        self.conv.add(user(f"step {turn}: {self.text(3)}"))
        rounds = self.rng.choices((0, 1, 2, 3), weights=(15, 25, 30, 30))[0]
        for _ in range(rounds):
            options = [self.exec_command, self.apply_patch, self.code_cell]
            weights = [45, 15, 15]
            if self.sessions:
                options.append(self.write_stdin)
                weights.append(25)
            self.rng.choices(options, weights)[0](turn_id)
        answer = assistant(f"Done with step {turn}. {self.text(2)}", phase="final_answer")
        self.complete(turn_id, self.sample(turn_id), [answer])
        self.rec.turn_ended(THREAD, turn_id, "completed")

    def run(self, turns: int) -> int:
        self.rec.thread_started(thread_metadata(
            THREAD, agent_path="/root", session_source="cli", cwd=CWD,
            rollout_path=f"/home/dev/.codex/sessions/rollout-{THREAD}.jsonl", model=MODEL,
            provider_id="bench", sandbox_policy="workspace-write"))
        self.conv.add(developer(INSTRUCTIONS))
        for turn in range(turns):
            self.turn(turn)
        self.rec.thread_ended(THREAD)
        self.rec.close()
        return len(self.conv.history)


def write_long_rollout(path: Path, turns: int, full_every: int = 50, *, seed: int = 0,
                       compact_every: int = 15) -> int:
    """Write the bundle; returns the length of the final model-visible history."""
    return LongRollout(Path(path), seed, full_every, compact_every).run(turns)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--full-every", type=int, default=50)
    parser.add_argument("--compact-every", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    items = write_long_rollout(args.path, args.turns, args.full_every, seed=args.seed,
                               compact_every=args.compact_every)
    print(f"{args.path}: {args.turns} turns, {items} model-visible items")


if __name__ == "__main__":
    main()
