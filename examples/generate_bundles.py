#!/usr/bin/env python3
"""Regenerate the example trace bundles under ``examples/bundles/``.

Each bundle is written with tracegraph's own ``TraceWriter`` and uses the raw
payload shapes of the live Codex recorder (``codex-core/src/rollout_trace.rs``):
thread metadata with a ``session_source``, dispatch invocation/result envelopes,
``ExecCommandBegin``/``ExecCommandEnd`` protocol events, code-mode runtime
responses, collab (multi-agent v2) events and agent-result notifications.

Everything is deterministic: fixed ids, a fake clock with realistic gaps and
seeded pseudo-random call ids, so two runs produce identical bytes::

    python examples/generate_bundles.py
    for b in examples/bundles/*/; do ../shared/tools/reference-reduce $b; done

``--reduce`` runs the reference reducer too, when it is present.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tracegraph.authoring import FakeClock, Ids, codex, run_reference  # noqa: E402
from tracegraph.authoring.codex import (  # noqa: E402
    direct_output,
    duration,
    exec_end,
    function_args,
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
    inter_agent,
    reasoning,
    replayed,
    user,
)
from tracegraph.authoring.recorder import Recorder  # noqa: E402

BUNDLES_DIR = Path(__file__).resolve().parent / "bundles"

MODEL = "gpt-5-codex"
#: `turn_context.provider.name` (inference events) vs `config.model_provider_id` (metadata).
PROVIDER_NAME = "OpenAI"
PROVIDER_ID = "openai"
CWD = "/home/dev/src/orbit"

BASE_INSTRUCTIONS = (
    "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI "
    "on a user's computer.\n\n## General\n\n- When searching for text or files, prefer "
    "using `rg` or `rg --files` respectively because `rg` is much faster than "
    "alternatives like `grep`.\n- Default to ASCII when editing or creating files.\n"
)

PERMISSIONS_TEXT = (
    "<permissions instructions>\nFilesystem sandboxing defines which files can be read or "
    "written. `sandbox_mode` is `workspace-write`: The sandbox permits reading files, and "
    "editing files in `cwd` and `writable_roots`.\nNetwork access is restricted.\n"
    "Approval policy is currently on-request.\n</permissions instructions>"
)

AGENTS_MD_TEXT = (
    f"# AGENTS.md instructions for {CWD}\n\n<INSTRUCTIONS>\n"
    "- Run `cargo fmt` and `cargo clippy --all-targets` before finishing.\n"
    "- Tests live next to the code in `*_tests.rs` files.\n</INSTRUCTIONS>"
)


def environment_context(shell: str = "bash") -> str:
    return (
        "<environment_context>\n"
        f"  <cwd>{CWD}</cwd>\n"
        "  <approval_policy>on-request</approval_policy>\n"
        "  <sandbox_mode>workspace-write</sandbox_mode>\n"
        "  <network_access>restricted</network_access>\n"
        f"  <shell>{shell}</shell>\n"
        "</environment_context>"
    )


# --------------------------------------------------------------------------
# Payload shapes with this session's constants (the kit takes them as arguments)
# --------------------------------------------------------------------------


def thread_metadata(thread_id: str, rollout_name: str, *, agent_path: str = "/root",
                    session_source: Any = "cli", nickname: str | None = None,
                    agent_role: str | None = None) -> Json:
    return codex.thread_metadata(
        thread_id, agent_path=agent_path, session_source=session_source, cwd=CWD,
        rollout_path=rollout_path(rollout_name), model=MODEL, provider_id=PROVIDER_ID,
        sandbox_policy="WorkspaceWrite { writable_roots: [], network_access: false, "
        "exclude_tmpdir_env_var: false, exclude_slash_tmp: false }",
        nickname=nickname, agent_role=agent_role)


def rollout_path(rollout_name: str) -> str:
    return f"/home/dev/.codex/sessions/2026/04/24/{rollout_name}.jsonl"


def request(input_items: list[Json], *, thread_id: str, tools: list[Json],
            previous_response_id: str | None = None) -> Json:
    return codex.responses_request(input_items, model=MODEL, instructions=BASE_INSTRUCTIONS,
                                   tools=tools, prompt_cache_key=thread_id,
                                   previous_response_id=previous_response_id)


def exec_begin(call_id: str, turn_id: str, cmd: str, *, process_id: str | None,
               source: str = "unified_exec_startup") -> Json:
    return codex.exec_begin(call_id, turn_id, cmd, cwd=CWD, process_id=process_id,
                            source=source)


def recorder(bundle_dir: Path, *, trace_id: str, root_thread_id: str,
             clock: FakeClock) -> Recorder:
    return Recorder(bundle_dir, trace_id=trace_id, root_thread_id=root_thread_id, clock=clock,
                    model=MODEL, provider_name=PROVIDER_NAME)


def session_configured(rec: Recorder, thread_id: str, rollout_name: str) -> None:
    rec.session_configured(thread_id, provider_id=PROVIDER_ID, cwd=CWD,
                           rollout_path=rollout_path(rollout_name))


# --------------------------------------------------------------------------
# Tool specs sent with every request
# --------------------------------------------------------------------------

TOOL_SPECS: list[Json] = [
    {
        "type": "function",
        "name": "exec_command",
        "description": "Runs a command in a PTY, returning output or a session ID for "
        "ongoing interaction.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "cmd": {"type": "string", "description": "Shell command to execute."},
                "workdir": {"type": "string"},
                "tty": {"type": "boolean"},
                "yield_time_ms": {"type": "number"},
                "max_output_tokens": {"type": "number"},
            },
            "required": ["cmd"],
            "additionalProperties": False,
        },
    },
    {
        "type": "function",
        "name": "write_stdin",
        "description": "Writes characters to an existing unified exec session and returns "
        "recent output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "session_id": {"type": "number"},
                "chars": {"type": "string"},
                "yield_time_ms": {"type": "number"},
                "max_output_tokens": {"type": "number"},
            },
            "required": ["session_id"],
            "additionalProperties": False,
        },
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "description": "Use the `apply_patch` tool to edit files.",
        "format": {"type": "grammar", "syntax": "lark", "definition": 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\n'},
    },
]

CODE_MODE_TOOL_SPECS: list[Json] = [
    {
        "type": "custom",
        "name": "exec",
        "description": "Run JavaScript in the code-mode runtime. Nested tools are available "
        "as `await tools.<name>(args)`; call `text(value)` to return output.",
        "format": {"type": "text"},
    },
    {
        "type": "function",
        "name": "wait",
        "description": "Wait for a yielded exec cell to produce more output or finish.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "cell_id": {"type": "string"},
                "yield_time_ms": {"type": "number"},
                "terminate": {"type": "boolean"},
            },
            "required": ["cell_id"],
            "additionalProperties": False,
        },
    },
]

MULTI_AGENT_TOOL_SPECS: list[Json] = [
    {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {"type": "object", "properties": properties, "additionalProperties": False},
    }
    for name, description, properties in [
        (
            "spawn_agent",
            "Spawn a sub-agent with its own thread to work on a task in parallel.",
            {
                "task_name": {"type": "string"},
                "message": {"type": "string"},
                "agent_role": {"type": "string"},
            },
        ),
        (
            "send_message",
            "Send a message to a running agent without starting a new turn.",
            {"target": {"type": "string"}, "message": {"type": "string"}},
        ),
        (
            "followup_task",
            "Assign a follow-up task to an agent; starts a new turn for it.",
            {"target": {"type": "string"}, "message": {"type": "string"}},
        ),
        (
            "wait_agent",
            "Wait until one of the given agents reports back.",
            {"targets": {"type": "array", "items": {"type": "string"}},
             "timeout_ms": {"type": "number"}},
        ),
        ("close_agent", "Shut down an agent.", {"target": {"type": "string"}}),
    ]
]


# --------------------------------------------------------------------------
# (a) terminal-reuse: exec_command + write_stdin on one reused PTY session
# --------------------------------------------------------------------------


def terminal_reuse(bundle_dir: Path) -> None:
    clock = FakeClock(1_777_024_800_000)  # 2026-04-24T10:00:00Z
    ids = Ids("terminal-reuse")
    thread = "019dbf3a-5c2e-7d41-b8a6-0f3e9c1d2a47"
    turn1 = "019dbf3a-6a10-7c02-9e55-41b7d0a3c9e1"
    turn2 = "019dbf3c-0b7d-7f19-8d2c-6e0a5b4f3d18"
    rec = recorder(bundle_dir, trace_id="4e8b2f71-3c6d-4a9e-b1f0-7d5c2a8e6b93",
                   root_thread_id=thread, clock=clock)
    rec.thread_started(thread_metadata(thread, f"rollout-2026-04-24T10-00-00-{thread}"))
    session_configured(rec, thread, f"rollout-2026-04-24T10-00-00-{thread}")

    prefix = [developer(PERMISSIONS_TEXT), user(AGENTS_MD_TEXT), user(environment_context())]
    ask = user("The flaky `orbit_sim` parser test only fails with the interactive "
               "interpreter. Start a Python REPL, check the interpreter version and whether "
               "`orbit_sim` imports, then exit cleanly.")
    clock.sleep(4_210)
    rec.turn_started(thread, turn1)
    history = [*prefix, ask]

    # inference:1 -- full request; the exec_command starts while the stream is still open.
    call_exec = ids.call()
    resp1 = ids.response()
    inf1 = rec.inference_started(thread, turn1,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(2_380)
    out1 = [
        reasoning(["**Starting an interactive Python session**\n\nI'll open a PTY running "
                   "`python3 -q` so I can send statements to it one at a time."],
                  ids.encrypted()),
        function_call("exec_command", {"cmd": "python3 -q", "tty": True,
                                       "yield_time_ms": 1000}, call_exec),
    ]
    rec.tool_started(thread, turn1, call_exec, "exec_command",
                     function_args({"cmd": "python3 -q", "tty": True, "yield_time_ms": 1000}))
    begin = exec_begin(call_exec, turn1, "python3 -q", process_id="37451")
    rec.runtime_started(thread, turn1, call_exec, begin)
    clock.sleep(212)
    rec.inference_completed(thread, turn1, inf1, resp1, usage(6_412, 0, 118, 64), out1)
    clock.sleep(1_004)
    exec_text = unified_exec_output(ids.chunk(), 1_002, ">>> ", session_id=37451)
    rec.tool_ended(thread, turn1, call_exec, direct_output(call_exec, exec_text))
    history += [replayed(item) for item in out1]
    history.append(function_output(call_exec, exec_text))

    # inference:2 -- websocket follow-up: only the new tool output + previous_response_id.
    call_stdin1 = ids.call()
    resp2 = ids.response()
    stdin1 = {"session_id": 37451,
              "chars": "import sys, platform\nprint(sys.version.split()[0], "
                       "platform.machine())\nimport orbit_sim\n",
              "yield_time_ms": 800}
    inf2 = rec.inference_started(thread, turn1, request(
        [function_output(call_exec, exec_text)], thread_id=thread, tools=TOOL_SPECS,
        previous_response_id=resp1))
    clock.sleep(1_930)
    out2 = [
        reasoning(["**Probing the interpreter**\n\nThe REPL is up (session 37451). I'll print "
                   "the version and try the import in the same session."], ids.encrypted()),
        function_call("write_stdin", stdin1, call_stdin1),
    ]
    rec.inference_completed(thread, turn1, inf2, resp2, usage(6_655, 6_272, 97, 38), out2)
    clock.sleep(35)
    rec.tool_started(thread, turn1, call_stdin1, "write_stdin", function_args(stdin1))
    clock.sleep(803)
    stdin1_text = unified_exec_output(
        ids.chunk(), 801,
        "3.12.3 x86_64\nTraceback (most recent call last):\n  File \"<stdin>\", line 1, in "
        "<module>\nModuleNotFoundError: No module named 'orbit_sim'\n>>> ",
        session_id=37451)
    rec.tool_ended(thread, turn1, call_stdin1, direct_output(call_stdin1, stdin1_text))
    history += [replayed(item) for item in out2]
    history.append(function_output(call_stdin1, stdin1_text))

    # inference:3 -- incremental again; exits the REPL through the same session.
    call_stdin2 = ids.call()
    resp3 = ids.response()
    stdin2 = {"session_id": 37451, "chars": "exit()\n", "yield_time_ms": 1000}
    inf3 = rec.inference_started(thread, turn1, request(
        [function_output(call_stdin1, stdin1_text)], thread_id=thread, tools=TOOL_SPECS,
        previous_response_id=resp2))
    clock.sleep(2_470)
    out3 = [
        reasoning(["**Wrapping up the REPL**\n\n`orbit_sim` is not importable from the "
                   "interactive interpreter, which explains the flaky failure. Exiting."],
                  ids.encrypted()),
        assistant("The interpreter is Python 3.12.3 on x86_64 and `orbit_sim` is not on its "
                  "path. Closing the session.", phase="commentary"),
        function_call("write_stdin", stdin2, call_stdin2),
    ]
    rec.inference_completed(thread, turn1, inf3, resp3, usage(7_032, 6_528, 141, 52), out3)
    clock.sleep(28)
    rec.tool_started(thread, turn1, call_stdin2, "write_stdin", function_args(stdin2))
    clock.sleep(96)
    # The process exits: unified exec reports ExecCommandEnd for the *original*
    # exec_command call, while the write_stdin dispatch is still in flight.
    rec.runtime_ended(thread, turn1, call_exec, exec_end(
        begin,
        stdout=">>> 3.12.3 x86_64\nTraceback (most recent call last):\n  File \"<stdin>\", "
               "line 1, in <module>\nModuleNotFoundError: No module named 'orbit_sim'\n>>> ",
        exit_code=0, wall_ms=4_620))
    clock.sleep(3)
    stdin2_text = unified_exec_output(ids.chunk(), 99, "", exit_code=0)
    rec.tool_ended(thread, turn1, call_stdin2, direct_output(call_stdin2, stdin2_text))
    history += [replayed(item) for item in out3]
    history.append(function_output(call_stdin2, stdin2_text))

    resp4 = ids.response()
    final1 = ("Python 3.12.3 (x86_64) starts fine, but `import orbit_sim` raises "
              "`ModuleNotFoundError` in the interactive interpreter: the package is only "
              "installed into the test virtualenv. The REPL session exited with code 0.")
    inf4 = rec.inference_started(thread, turn1, request(
        [function_output(call_stdin2, stdin2_text)], thread_id=thread, tools=TOOL_SPECS,
        previous_response_id=resp3))
    clock.sleep(3_105)
    out4 = [assistant(final1, phase="final_answer")]
    rec.inference_completed(thread, turn1, inf4, resp4, usage(7_210, 7_040, 88, 0), out4)
    history += out4
    clock.sleep(12)
    rec.turn_complete(thread, turn1, final1)

    # Turn 2 -- a new user message; HTTP transport, so every request is a full snapshot.
    clock.sleep(41_870)
    rec.turn_started(thread, turn2)
    history.append(user("Run the parser tests inside the virtualenv and keep the shell open "
                        "so we can poke at it."))
    call_venv = ids.call()
    resp5 = ids.response()
    venv_args = {"cmd": "bash --noprofile --norc", "tty": True, "yield_time_ms": 500,
                 "workdir": CWD}
    inf5 = rec.inference_started(thread, turn2,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(2_940)
    out5 = [
        reasoning(["**Opening a shell in the repo**\n\nI'll start a bash PTY and activate "
                   ".venv there so later commands reuse it."], ids.encrypted()),
        function_call("exec_command", venv_args, call_venv),
    ]
    rec.inference_completed(thread, turn2, inf5, resp5, usage(7_602, 0, 103, 45), out5)
    clock.sleep(20)
    rec.tool_started(thread, turn2, call_venv, "exec_command", function_args(venv_args))
    begin_venv = exec_begin(call_venv, turn2, "bash --noprofile --norc", process_id="52310")
    rec.runtime_started(thread, turn2, call_venv, begin_venv)
    clock.sleep(507)
    venv_text = unified_exec_output(ids.chunk(), 505, "bash-5.2$ ", session_id=52310)
    rec.tool_ended(thread, turn2, call_venv, direct_output(call_venv, venv_text))
    history += [replayed(item) for item in out5]
    history.append(function_output(call_venv, venv_text))

    call_pytest = ids.call()
    resp6 = ids.response()
    pytest_args = {"session_id": 52310,
                   "chars": "source .venv/bin/activate && pytest -q tests/test_parser.py\n",
                   "yield_time_ms": 15000, "max_output_tokens": 4000}
    inf6 = rec.inference_started(thread, turn2,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(1_720)
    out6 = [function_call("write_stdin", pytest_args, call_pytest)]
    rec.inference_completed(thread, turn2, inf6, resp6, usage(7_881, 7_552, 64, 0), out6)
    clock.sleep(18)
    rec.tool_started(thread, turn2, call_pytest, "write_stdin", function_args(pytest_args))
    clock.sleep(6_344)
    pytest_text = unified_exec_output(
        ids.chunk(), 6_341,
        "......F..\n=================================== FAILURES ===================================\n"
        "___________________________ test_parse_epoch_offset ___________________________\n"
        "E       AssertionError: assert 86399.99 == 86400.0\n"
        "1 failed, 8 passed in 5.87s\n(.venv) bash-5.2$ ",
        session_id=52310)
    rec.tool_ended(thread, turn2, call_pytest, direct_output(call_pytest, pytest_text))
    history += out6
    history.append(function_output(call_pytest, pytest_text))

    resp7 = ids.response()
    final2 = ("In the virtualenv 8/9 parser tests pass; `test_parse_epoch_offset` fails with "
              "a float rounding error (86399.99 vs 86400.0). The shell (session 52310) is "
              "still open with .venv activated.")
    inf7 = rec.inference_started(thread, turn2,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(4_410)
    out7 = [
        reasoning(["**Reporting the failure**"], ids.encrypted(96)),
        assistant(final2, phase="final_answer"),
    ]
    rec.inference_completed(thread, turn2, inf7, resp7, usage(8_340, 7_808, 156, 40), out7)
    clock.sleep(9)
    rec.turn_complete(thread, turn2, final2)
    clock.sleep(18_000)
    rec.thread_ended(thread)
    rec.close()


# --------------------------------------------------------------------------
# (b) code-mode: exec cells with nested tools, a yield, a wait, a live yielded cell
# --------------------------------------------------------------------------

CELL1_JS = """const files = await tools.exec_command({ cmd: "rg --files -g '*.rs' crates/orbit-core" });
const count = files.output.trim().split("\\n").length;
text(`scanning ${count} files`);
const docs = await tools.mcp__docs__search({ query: "ephemeris cache invalidation", limit: 3 });
text(docs.results.map((r) => r.title).join("\\n"));
const build = await tools.exec_command({ cmd: "cargo build -p orbit-core --release", yield_time_ms: 60000 });
text(build.output.split("\\n").slice(-3).join("\\n"));
"""

CELL2_JS = """const server = await tools.exec_command({ cmd: "cargo run -p orbit-web -- --port 8080", tty: true, yield_time_ms: 120000 });
text(server.output);
"""


def code_mode(bundle_dir: Path) -> None:
    clock = FakeClock(1_777_032_000_000)  # 2026-04-24T12:00:00Z
    ids = Ids("code-mode")
    thread = "019dbfa1-2d4c-7b86-a1f3-5e9c0d7b2c64"
    turn1 = "019dbfa1-3e05-7a9d-8c41-b2f6e1a0d953"
    turn2 = "019dbfa4-71c8-7e22-b5d0-9a3c4f1e8b06"
    tools = [*CODE_MODE_TOOL_SPECS, *TOOL_SPECS[2:]]
    rec = recorder(bundle_dir, trace_id="b7d14c09-2e6a-4f38-9c51-0a8e3f6d2b75",
                   root_thread_id=thread, clock=clock)
    name = f"rollout-2026-04-24T12-00-00-{thread}"
    rec.thread_started(thread_metadata(thread, name, session_source="exec"))
    session_configured(rec, thread, name)

    history = [developer(PERMISSIONS_TEXT), user(AGENTS_MD_TEXT), user(environment_context()),
               user("How many Rust files does orbit-core have, is there anything in the docs "
                    "about ephemeris cache invalidation, and does the release build pass?")]
    clock.sleep(2_600)
    rec.turn_started(thread, turn1)

    # inference:1 -- the model writes an `exec` cell. Code mode starts the cell and its
    # nested tools before the stream completes, so the CodeCellStarted event precedes the
    # response payload that contains the custom_tool_call item.
    call_cell1 = ids.call()
    resp1 = ids.response()
    inf1 = rec.inference_started(thread, turn1, request(history, thread_id=thread, tools=tools))
    clock.sleep(3_870)
    rec.code_cell_started(thread, turn1, "1", call_cell1, CELL1_JS)
    clock.sleep(4)

    nested_rg = "code-mode-1-1"
    rg_cmd = "rg --files -g '*.rs' crates/orbit-core"
    rec.tool_started(thread, turn1, nested_rg, "exec_command",
                     function_args({"cmd": rg_cmd}), code_mode=("1", "1"))
    begin_rg = exec_begin(nested_rg, turn1, rg_cmd, process_id=None)
    rec.runtime_started(thread, turn1, nested_rg, begin_rg)
    out1 = [
        reasoning(["**Batching the lookups in one exec cell**\n\nA single JavaScript cell can "
                   "list the files, query the docs server and kick off the release build."],
                  ids.encrypted()),
        custom_call("exec", CELL1_JS, call_cell1),
    ]
    clock.sleep(61)
    rec.inference_completed(thread, turn1, inf1, resp1, usage(9_118, 0, 402, 211), out1)
    clock.sleep(83)
    rg_out = "".join(f"crates/orbit-core/src/{name}.rs\n" for name in
                     ["lib", "ephemeris", "cache", "frames", "time", "kepler", "propagate"])
    rec.runtime_ended(thread, turn1, nested_rg, exec_end(
        {**begin_rg, "process_id": "40217"}, stdout=rg_out, exit_code=0, wall_ms=141))
    rec.tool_ended(thread, turn1, nested_rg, {
        "type": "code_mode_response",
        "value": {"chunk_id": ids.chunk(), "wall_time_seconds": 0.141, "exit_code": 0,
                  "original_token_count": 61, "output": rg_out},
    })

    nested_docs = "code-mode-1-2"
    docs_args = json.dumps({"query": "ephemeris cache invalidation", "limit": 3})
    clock.sleep(7)
    rec.tool_started(thread, turn1, nested_docs, "search",
                     {"type": "mcp", "server": "docs", "tool": "search",
                      "raw_arguments": docs_args},
                     namespace="mcp__docs__", code_mode=("1", "2"))
    invocation = {"server": "docs", "tool": "search",
                  "arguments": {"query": "ephemeris cache invalidation", "limit": 3}}
    rec.runtime_started(thread, turn1, nested_docs, {"call_id": nested_docs,
                                                     "invocation": invocation})
    clock.sleep(388)
    docs_result = {"results": [
        {"title": "Ephemeris cache: invalidation on leap-second table updates",
         "url": "https://docs.orbit.dev/internals/ephemeris-cache", "score": 0.91},
        {"title": "Frames and epochs", "url": "https://docs.orbit.dev/guide/frames",
         "score": 0.64},
    ]}
    rec.runtime_ended(thread, turn1, nested_docs, {
        "call_id": nested_docs, "invocation": invocation, "duration": duration(388),
        "result": {"Ok": {"content": [{"type": "text", "text": json.dumps(docs_result)}],
                          "isError": False}},
    })
    rec.tool_ended(thread, turn1, nested_docs, {"type": "code_mode_response",
                                                "value": docs_result})

    nested_build = "code-mode-1-3"
    build_cmd = "cargo build -p orbit-core --release"
    clock.sleep(5)
    rec.tool_started(thread, turn1, nested_build, "exec_command",
                     function_args({"cmd": build_cmd, "yield_time_ms": 60000}),
                     code_mode=("1", "3"))
    begin_build = exec_begin(nested_build, turn1, build_cmd, process_id="40288")
    rec.runtime_started(thread, turn1, nested_build, begin_build)
    # The cell exceeds its yield time: code mode returns control to the model.
    clock.sleep(10_000)
    yielded_text = ("Script running with cell ID 1\nWall time 10.5 seconds\nOutput:\n"
                    "scanning 7 files\nEphemeris cache: invalidation on leap-second table "
                    "updates\nFrames and epochs\n")
    rec.code_cell_response("code_cell_initial_response", thread, turn1, {
        "Yielded": {"cell_id": "1", "content_items": input_texts(yielded_text)}})
    history += [replayed(item) for item in out1]
    history.append(custom_output(call_cell1, input_texts(yielded_text)))

    # inference:2 -- incremental; the model waits on the running cell.
    call_wait = ids.call()
    resp2 = ids.response()
    wait_args = {"cell_id": "1", "yield_time_ms": 90000}
    inf2 = rec.inference_started(thread, turn1, request(
        [custom_output(call_cell1, input_texts(yielded_text))], thread_id=thread, tools=tools,
        previous_response_id=resp1))
    clock.sleep(2_215)
    out2 = [
        reasoning(["**Waiting for the release build**\n\nThe docs hit answers the cache "
                   "question; the build is still running in cell 1."], ids.encrypted()),
        function_call("wait", wait_args, call_wait),
    ]
    rec.inference_completed(thread, turn1, inf2, resp2, usage(9_802, 9_088, 77, 30), out2)
    clock.sleep(14)
    rec.tool_started(thread, turn1, call_wait, "wait", function_args(wait_args))
    clock.sleep(47_912)
    build_out = ("   Compiling orbit-core v0.8.2 (/home/dev/src/orbit/crates/orbit-core)\n"
                 "    Finished `release` profile [optimized] target(s) in 58.31s\n")
    rec.runtime_ended(thread, turn1, nested_build, exec_end(
        begin_build, stdout="", stderr=build_out, exit_code=0, wall_ms=58_310))
    rec.tool_ended(thread, turn1, nested_build, {
        "type": "code_mode_response",
        "value": {"chunk_id": ids.chunk(), "wall_time_seconds": 58.31, "exit_code": 0,
                  "original_token_count": 38, "output": build_out},
    })
    clock.sleep(6)
    done_text = ("Script completed\nWall time 58.9 seconds\nOutput:\n"
                 "Compiling orbit-core v0.8.2 (/home/dev/src/orbit/crates/orbit-core)\n"
                 "Finished `release` profile [optimized] target(s) in 58.31s\n")
    rec.code_cell_response("code_cell_ended", thread, turn1, {
        "Result": {"cell_id": "1", "content_items": input_texts(done_text),
                   "stored_values": {}, "error_text": None}})
    rec.tool_ended(thread, turn1, call_wait, direct_output(call_wait, done_text))
    history += [replayed(item) for item in out2]
    history.append(function_output(call_wait, done_text))

    resp3 = ids.response()
    final1 = ("orbit-core has 7 Rust files. The docs page \"Ephemeris cache: invalidation on "
              "leap-second table updates\" covers invalidation, and `cargo build -p orbit-core "
              "--release` succeeds (58.3 s).")
    inf3 = rec.inference_started(thread, turn1, request(
        [function_output(call_wait, done_text)], thread_id=thread, tools=tools,
        previous_response_id=resp2))
    clock.sleep(3_340)
    out3 = [assistant(final1, phase="final_answer")]
    rec.inference_completed(thread, turn1, inf3, resp3, usage(10_120, 9_728, 95, 0), out3)
    history += out3
    clock.sleep(8)
    rec.turn_complete(thread, turn1, final1)

    # Turn 2 -- a long-running server inside a cell: it yields and outlives the turn.
    clock.sleep(63_400)
    rec.turn_started(thread, turn2)
    history.append(user("Start the web UI on port 8080 and leave it running."))
    call_cell2 = ids.call()
    resp4 = ids.response()
    inf4 = rec.inference_started(thread, turn2, request(history, thread_id=thread, tools=tools))
    clock.sleep(2_105)
    out4 = [
        reasoning(["**Starting the dev server in a cell**"], ids.encrypted(120)),
        custom_call("exec", CELL2_JS, call_cell2),
    ]
    rec.inference_completed(thread, turn2, inf4, resp4, usage(10_642, 10_112, 118, 22), out4)
    clock.sleep(11)
    rec.code_cell_started(thread, turn2, "2", call_cell2, CELL2_JS)
    nested_server = "code-mode-2-1"
    server_cmd = "cargo run -p orbit-web -- --port 8080"
    rec.tool_started(thread, turn2, nested_server, "exec_command",
                     function_args({"cmd": server_cmd, "tty": True, "yield_time_ms": 120000}),
                     code_mode=("2", "1"))
    rec.runtime_started(thread, turn2, nested_server,
                        exec_begin(nested_server, turn2, server_cmd, process_id="40391"))
    clock.sleep(10_000)
    server_text = ("Script running with cell ID 2\nWall time 10.0 seconds\nOutput:\n"
                   "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 4.12s\n"
                   "     Running `target/debug/orbit-web --port 8080`\n"
                   "orbit-web listening on http://127.0.0.1:8080\n")
    rec.code_cell_response("code_cell_initial_response", thread, turn2, {
        "Yielded": {"cell_id": "2", "content_items": input_texts(server_text)}})
    history += [replayed(item) for item in out4]
    history.append(custom_output(call_cell2, input_texts(server_text)))

    resp5 = ids.response()
    final2 = ("The web UI is running at http://127.0.0.1:8080 (exec cell 2 keeps the server "
              "alive; ask me to stop it when you're done).")
    inf5 = rec.inference_started(thread, turn2, request(
        [custom_output(call_cell2, input_texts(server_text))], thread_id=thread, tools=tools,
        previous_response_id=resp4))
    clock.sleep(2_760)
    out5 = [assistant(final2, phase="final_answer")]
    rec.inference_completed(thread, turn2, inf5, resp5, usage(10_930, 10_624, 61, 0), out5)
    clock.sleep(7)
    rec.turn_complete(thread, turn2, final2)
    # No shutdown: the rollout is still live with cell 2 yielded.
    rec.close()


# --------------------------------------------------------------------------
# (c) multi-agent: spawn, send_message, agent result, follow-up task, close
# --------------------------------------------------------------------------


def multi_agent(bundle_dir: Path) -> None:
    clock = FakeClock(1_777_039_200_000)  # 2026-04-24T14:00:00Z
    ids = Ids("multi-agent")
    root = "019dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0f"
    child = "019dc003-1f2e-7d3c-8b4a-596877a6b5c4"
    root_turn = "019dc002-9b20-7411-a3c6-d8e9f0a1b2c3"
    child_turn1 = "019dc003-2a31-7522-b4d7-e9f0a1b2c3d4"
    child_turn2 = "019dc005-3b42-7633-85e8-fa01b2c3d4e5"
    child_path = "/root/loc_counter"
    tools = [*TOOL_SPECS, *MULTI_AGENT_TOOL_SPECS]
    rec = recorder(bundle_dir, trace_id="2c9e5a13-7b4f-4d82-a6e0-91f3c8b5d247",
                   root_thread_id=root, clock=clock)
    rec.thread_started(thread_metadata(root, f"rollout-2026-04-24T14-00-00-{root}"))
    session_configured(rec, root, f"rollout-2026-04-24T14-00-00-{root}")

    root_history = [developer(PERMISSIONS_TEXT), user(AGENTS_MD_TEXT),
                    user(environment_context()),
                    user("Prepare the release checklist: have a helper agent count lines of "
                         "Rust per crate while you check the CI workflow for the MSRV.")]
    clock.sleep(3_050)
    rec.turn_started(root, root_turn)

    # Root inference:1 -> spawn_agent.
    call_spawn = ids.call()
    task = ("Count lines of Rust code per crate under crates/ (exclude target/). Reply with a "
            "table: crate, files, code lines.")
    spawn_args = {"task_name": "loc_counter", "message": task, "agent_role": "explorer"}
    resp1 = ids.response()
    inf1 = rec.inference_started(root, root_turn,
                                 request(root_history, thread_id=root, tools=tools))
    clock.sleep(2_880)
    out1 = [
        reasoning(["**Delegating the line count**\n\nCounting lines is independent of the CI "
                   "check, so a helper can do it in parallel."], ids.encrypted()),
        function_call("spawn_agent", spawn_args, call_spawn),
    ]
    rec.inference_completed(root, root_turn, inf1, resp1, usage(8_204, 0, 131, 70), out1)
    clock.sleep(16)
    rec.tool_started(root, root_turn, call_spawn, "spawn_agent", function_args(spawn_args))
    rec.runtime_started(root, root_turn, call_spawn, {
        "call_id": call_spawn, "sender_thread_id": root, "prompt": task, "model": MODEL,
        "reasoning_effort": "medium"})
    clock.sleep(41)
    child_source = {"subagent": {"thread_spawn": {
        "parent_thread_id": root, "depth": 1, "agent_path": child_path,
        "agent_nickname": "Kepler", "agent_role": "explorer"}}}
    child_rollout = f"rollout-2026-04-24T14-00-06-{child}"
    rec.thread_started(thread_metadata(child, child_rollout, agent_path=child_path,
                                       session_source=child_source, nickname="Kepler",
                                       agent_role="explorer"))
    session_configured(rec, child, child_rollout)
    rec.runtime_ended(root, root_turn, call_spawn, {
        "call_id": call_spawn, "sender_thread_id": root, "new_thread_id": child,
        "new_agent_nickname": "Kepler", "new_agent_role": "explorer", "prompt": task,
        "model": MODEL, "reasoning_effort": "medium", "status": "pending_init"})
    spawn_output = json.dumps({"agent_path": child_path, "nickname": "Kepler"})
    rec.tool_ended(root, root_turn, call_spawn, direct_output(call_spawn, spawn_output))
    root_history += [replayed(item) for item in out1]
    root_history.append(function_output(call_spawn, spawn_output))

    # Child turn 1 starts; its first request carries the mailbox task message.
    clock.sleep(22)
    rec.turn_started(child, child_turn1)
    child_history = [developer(PERMISSIONS_TEXT), user(AGENTS_MD_TEXT),
                     user(environment_context()),
                     inter_agent("/root", child_path, task, trigger_turn=True)]
    resp_c1 = ids.response()
    inf_c1 = rec.inference_started(child, child_turn1,
                                   request(child_history, thread_id=child, tools=TOOL_SPECS))

    # Meanwhile the root keeps going: inference:2 (incremental) -> send_message to the child.
    resp2 = ids.response()
    call_send = ids.call()
    note = "Also report test files (tests/ and *_tests.rs) as a separate column."
    send_args = {"target": child_path, "message": note}
    inf2 = rec.inference_started(root, root_turn, request(
        [function_output(call_spawn, spawn_output)], thread_id=root, tools=tools,
        previous_response_id=resp1))
    clock.sleep(1_610)
    call_tokei = ids.call()
    tokei_args = {"cmd": "tokei crates --exclude target --output json | jq -c "
                         "'.Rust.children | map_values(length)'"}
    out_c1 = [
        reasoning(["**Choosing a counter**\n\n`tokei` is installed; JSON output keeps the "
                   "per-crate breakdown easy to read."], ids.encrypted()),
        function_call("exec_command", tokei_args, call_tokei),
    ]
    rec.inference_completed(child, child_turn1, inf_c1, resp_c1, usage(5_980, 0, 144, 83),
                            out_c1)
    clock.sleep(310)
    out2 = [
        reasoning(["**Refining the helper's task**"], ids.encrypted(96)),
        function_call("send_message", send_args, call_send),
    ]
    rec.inference_completed(root, root_turn, inf2, resp2, usage(8_390, 8_192, 66, 24), out2)
    clock.sleep(9)
    rec.tool_started(root, root_turn, call_send, "send_message", function_args(send_args))
    rec.runtime_started(root, root_turn, call_send, {
        "call_id": call_send, "sender_thread_id": root, "receiver_thread_id": child,
        "prompt": note})
    clock.sleep(3)
    rec.runtime_ended(root, root_turn, call_send, {
        "call_id": call_send, "sender_thread_id": root, "receiver_thread_id": child,
        "receiver_agent_nickname": "Kepler", "receiver_agent_role": "explorer",
        "prompt": note, "status": "running"})
    rec.tool_ended(root, root_turn, call_send, direct_output(call_send, "{\"delivered\":true}"))
    root_history += [replayed(item) for item in out2]
    root_history.append(function_output(call_send, "{\"delivered\":true}"))

    # Child runs tokei.
    clock.sleep(12)
    rec.tool_started(child, child_turn1, call_tokei, "exec_command", function_args(tokei_args))
    begin_tokei = exec_begin(call_tokei, child_turn1, tokei_args["cmd"], process_id=None)
    rec.runtime_started(child, child_turn1, call_tokei, begin_tokei)

    # Root inference:3 -> wait_agent, while the child works.
    resp3 = ids.response()
    call_wait = ids.call()
    wait_args = {"targets": [child_path], "timeout_ms": 300000}
    inf3 = rec.inference_started(root, root_turn, request(
        [function_output(call_send, "{\"delivered\":true}")], thread_id=root, tools=tools,
        previous_response_id=resp2))
    clock.sleep(890)
    tokei_out = ('{"orbit-core":41,"orbit-web":17,"orbit-cli":9,"orbit-sim":23}\n')
    rec.runtime_ended(child, child_turn1, call_tokei, exec_end(
        {**begin_tokei, "process_id": "61002"}, stdout=tokei_out, exit_code=0, wall_ms=902))
    tokei_text = unified_exec_output(ids.chunk(), 902, tokei_out, exit_code=0)
    rec.tool_ended(child, child_turn1, call_tokei, direct_output(call_tokei, tokei_text))
    child_history += [replayed(item) for item in out_c1]
    child_history.append(function_output(call_tokei, tokei_text))
    clock.sleep(620)
    out3 = [function_call("wait_agent", wait_args, call_wait)]
    rec.inference_completed(root, root_turn, inf3, resp3, usage(8_471, 8_448, 41, 0), out3)
    clock.sleep(6)
    rec.tool_started(root, root_turn, call_wait, "wait_agent", function_args(wait_args))
    rec.runtime_started(root, root_turn, call_wait, {
        "sender_thread_id": root, "receiver_thread_ids": [child],
        "receiver_agents": [{"thread_id": child, "agent_nickname": "Kepler",
                             "agent_role": "explorer"}],
        "call_id": call_wait})

    # Child inference (incremental): its tool output plus the send_message mailbox item.
    delivered_note = inter_agent("/root", child_path, note, trigger_turn=False)
    resp_c2 = ids.response()
    call_tokei2 = ids.call()
    tokei2_args = {"cmd": "for c in crates/*; do printf '%s %s\\n' \"$(basename $c)\" "
                          "\"$(rg --files -g '*_tests.rs' -g 'tests/**' $c | xargs cat | "
                          "wc -l)\"; done"}
    inf_c2 = rec.inference_started(child, child_turn1, request(
        [function_output(call_tokei, tokei_text), delivered_note], thread_id=child,
        tools=TOOL_SPECS, previous_response_id=resp_c1))
    clock.sleep(2_230)
    out_c2 = [
        reasoning(["**Adding the test-line column**\n\nThe parent asked for test files "
                   "separately; counting them with rg + wc."], ids.encrypted()),
        function_call("exec_command", tokei2_args, call_tokei2),
    ]
    rec.inference_completed(child, child_turn1, inf_c2, resp_c2, usage(6_402, 6_016, 120, 61),
                            out_c2)
    child_history += [delivered_note, *[replayed(item) for item in out_c2]]
    clock.sleep(10)
    rec.tool_started(child, child_turn1, call_tokei2, "exec_command",
                     function_args(tokei2_args))
    begin_tokei2 = exec_begin(call_tokei2, child_turn1, tokei2_args["cmd"], process_id=None)
    rec.runtime_started(child, child_turn1, call_tokei2, begin_tokei2)
    clock.sleep(433)
    tests_out = "orbit-cli 214\norbit-core 5120\norbit-sim 2877\norbit-web 940\n"
    rec.runtime_ended(child, child_turn1, call_tokei2, exec_end(
        {**begin_tokei2, "process_id": "61019"}, stdout=tests_out, exit_code=0, wall_ms=431))
    tests_text = unified_exec_output(ids.chunk(), 431, tests_out, exit_code=0)
    rec.tool_ended(child, child_turn1, call_tokei2, direct_output(call_tokei2, tests_text))
    child_history.append(function_output(call_tokei2, tests_text))

    resp_c3 = ids.response()
    child_final = ("| crate | files | code lines | test lines |\n|---|---|---|---|\n"
                   "| orbit-core | 41 | 18 204 | 5 120 |\n| orbit-sim | 23 | 9 871 | 2 877 |\n"
                   "| orbit-web | 17 | 6 032 | 940 |\n| orbit-cli | 9 | 2 118 | 214 |")
    inf_c3 = rec.inference_started(child, child_turn1, request(
        [function_output(call_tokei2, tests_text)], thread_id=child, tools=TOOL_SPECS,
        previous_response_id=resp_c2))
    clock.sleep(3_912)
    out_c3 = [assistant(child_final, phase="final_answer")]
    rec.inference_completed(child, child_turn1, inf_c3, resp_c3, usage(6_733, 6_400, 210, 0),
                            out_c3)
    child_history += out_c3
    clock.sleep(5)
    rec.turn_complete(child, child_turn1, child_final)
    # forward_child_completion_to_parent: the mailbox notification + the trace edge.
    result_message = json.dumps({"agent_path": child_path,
                                 "status": {"completed": child_final}}, ensure_ascii=False)
    rec.agent_result(child, child_turn1, root, child_path, result_message,
                     {"completed": child_final})
    clock.sleep(4)
    rec.runtime_ended(root, root_turn, call_wait, {
        "sender_thread_id": root, "call_id": call_wait,
        "agent_statuses": [{"thread_id": child, "agent_nickname": "Kepler",
                            "agent_role": "explorer", "status": {"completed": child_final}}],
        "statuses": {child: {"completed": child_final}}})
    wait_output = json.dumps({"status": {child_path: {"completed": child_final}},
                              "timed_out": False}, ensure_ascii=False)
    rec.tool_ended(root, root_turn, call_wait, direct_output(call_wait, wait_output))
    root_history += [replayed(item) for item in out3]
    root_history.append(function_output(call_wait, wait_output))

    # Root inference:4 (incremental) carries the child's result from the mailbox.
    delivered_result = inter_agent(child_path, "/root", result_message, trigger_turn=False)
    root_history.append(delivered_result)
    resp4 = ids.response()
    call_follow = ids.call()
    follow = "Break orbit-core down by module (src/*.rs) with code lines only."
    follow_args = {"target": child_path, "message": follow}
    inf4 = rec.inference_started(root, root_turn, request(
        [function_output(call_wait, wait_output), delivered_result], thread_id=root,
        tools=tools, previous_response_id=resp3))
    clock.sleep(2_544)
    out4 = [
        reasoning(["**Asking for a module breakdown**\n\norbit-core dominates; a per-module "
                   "view helps the checklist."], ids.encrypted()),
        function_call("followup_task", follow_args, call_follow),
    ]
    rec.inference_completed(root, root_turn, inf4, resp4, usage(8_960, 8_448, 98, 42), out4)
    clock.sleep(8)
    rec.tool_started(root, root_turn, call_follow, "followup_task", function_args(follow_args))
    rec.runtime_started(root, root_turn, call_follow, {
        "call_id": call_follow, "sender_thread_id": root, "receiver_thread_id": child,
        "prompt": follow})
    clock.sleep(2)
    rec.runtime_ended(root, root_turn, call_follow, {
        "call_id": call_follow, "sender_thread_id": root, "receiver_thread_id": child,
        "receiver_agent_nickname": "Kepler", "receiver_agent_role": "explorer",
        "prompt": follow, "status": "running"})
    rec.tool_ended(root, root_turn, call_follow,
                   direct_output(call_follow, "{\"submitted\":true}"))
    root_history += [replayed(item) for item in out4]
    root_history.append(function_output(call_follow, "{\"submitted\":true}"))

    # Child turn 2: triggered by the follow-up; full request with the whole history.
    clock.sleep(15)
    rec.turn_started(child, child_turn2)
    child_history.append(inter_agent("/root", child_path, follow, trigger_turn=True))
    resp_c4 = ids.response()
    inf_c4 = rec.inference_started(child, child_turn2,
                                   request(child_history, thread_id=child, tools=TOOL_SPECS))
    clock.sleep(4_877)
    child_final2 = ("orbit-core by module (code lines): ephemeris 6 410, propagate 4 022, "
                    "frames 3 115, kepler 2 380, cache 1 204, time 873, lib 200.")
    out_c4 = [
        reasoning(["**Reusing the earlier tokei run**"], ids.encrypted(104)),
        assistant("Splitting the earlier orbit-core numbers by file.", phase="commentary"),
        assistant(child_final2, phase="final_answer"),
    ]
    rec.inference_completed(child, child_turn2, inf_c4, resp_c4, usage(7_104, 6_656, 152, 35),
                            out_c4)
    clock.sleep(4)
    rec.turn_complete(child, child_turn2, child_final2)
    result_message2 = json.dumps({"agent_path": child_path,
                                  "status": {"completed": child_final2}}, ensure_ascii=False)
    rec.agent_result(child, child_turn2, root, child_path, result_message2,
                     {"completed": child_final2})

    # Root inference:5 (full request this time: the websocket was reconnected).
    delivered_result2 = inter_agent(child_path, "/root", result_message2, trigger_turn=False)
    root_history.append(delivered_result2)
    resp5 = ids.response()
    call_close = ids.call()
    close_args = {"target": child_path}
    inf5 = rec.inference_started(root, root_turn,
                                 request(root_history, thread_id=root, tools=tools))
    clock.sleep(1_902)
    out5 = [function_call("close_agent", close_args, call_close)]
    rec.inference_completed(root, root_turn, inf5, resp5, usage(9_388, 0, 37, 0), out5)
    clock.sleep(7)
    rec.tool_started(root, root_turn, call_close, "close_agent", function_args(close_args))
    rec.runtime_started(root, root_turn, call_close, {
        "call_id": call_close, "sender_thread_id": root, "receiver_thread_id": child})
    clock.sleep(25)
    rec.thread_ended(child)
    rec.runtime_ended(root, root_turn, call_close, {
        "call_id": call_close, "sender_thread_id": root, "receiver_thread_id": child,
        "receiver_agent_nickname": "Kepler", "receiver_agent_role": "explorer",
        "status": {"completed": child_final2}})
    close_output = json.dumps({"status": {"completed": child_final2}}, ensure_ascii=False)
    rec.tool_ended(root, root_turn, call_close, direct_output(call_close, close_output))
    root_history += [*out5, function_output(call_close, close_output)]

    resp6 = ids.response()
    root_final = ("Release checklist notes:\n- MSRV in `.github/workflows/ci.yml` is 1.78 and "
                  "matches `rust-version` in Cargo.toml.\n- Code size: orbit-core 18 204 lines "
                  "(ephemeris 6 410), orbit-sim 9 871, orbit-web 6 032, orbit-cli 2 118; test "
                  "code 9 151 lines in total.")
    inf6 = rec.inference_started(root, root_turn, request(
        [function_output(call_close, close_output)], thread_id=root, tools=tools,
        previous_response_id=resp5))
    clock.sleep(5_230)
    out6 = [
        reasoning(["**Summarizing**"], ids.encrypted(88)),
        assistant(root_final, phase="final_answer"),
    ]
    rec.inference_completed(root, root_turn, inf6, resp6, usage(9_610, 9_344, 188, 27), out6)
    clock.sleep(6)
    rec.turn_complete(root, root_turn, root_final)
    clock.sleep(30_000)
    rec.thread_ended(root)
    rec.close()


# --------------------------------------------------------------------------
# (d) compaction: remote compaction (one failed attempt), install, new full request
# --------------------------------------------------------------------------


def compaction(bundle_dir: Path) -> None:
    clock = FakeClock(1_777_046_400_000)  # 2026-04-24T16:00:00Z
    ids = Ids("compaction")
    thread = "019dc06b-4c3d-7e2f-a1b0-c9d8e7f6a5b4"
    turn1 = "019dc06b-5d4e-7f30-b2c1-dae9f8a7b6c5"
    turn2 = "019dc06e-6e5f-7041-83d2-ebfa09b8c7d6"
    turn3 = "019dc075-7f60-7152-94e3-fc0b1ac9d8e7"
    compaction_id = "7c1e9a52-3f4b-4d6e-8a0c-5b2d9e1f7a36"
    rec = recorder(bundle_dir, trace_id="e5a3c8f1-9b2d-4e70-a614-3d8f0c2b7e59",
                   root_thread_id=thread, clock=clock)
    name = f"rollout-2026-04-24T16-00-00-{thread}"
    rec.thread_started(thread_metadata(thread, name))
    session_configured(rec, thread, name)

    prefix = [developer(PERMISSIONS_TEXT), user(AGENTS_MD_TEXT), user(environment_context())]
    ask1 = user("Why does `orbit propagate --steps 1e6` get slower over time?")
    history = [*prefix, ask1]
    clock.sleep(5_400)
    rec.turn_started(thread, turn1)

    call_rg = ids.call()
    rg_args = {"cmd": "rg -n 'fn propagate|Vec::with_capacity|push\\(' crates/orbit-core/src/"
                      "propagate.rs"}
    resp1 = ids.response()
    inf1 = rec.inference_started(thread, turn1,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(2_330)
    out1 = [
        reasoning(["**Looking at the propagation loop**"], ids.encrypted()),
        function_call("exec_command", rg_args, call_rg),
    ]
    rec.inference_completed(thread, turn1, inf1, resp1, usage(6_020, 0, 90, 41), out1)
    clock.sleep(15)
    rec.tool_started(thread, turn1, call_rg, "exec_command", function_args(rg_args))
    begin_rg = exec_begin(call_rg, turn1, rg_args["cmd"], process_id=None)
    rec.runtime_started(thread, turn1, call_rg, begin_rg)
    clock.sleep(74)
    rg_out = ("12:pub fn propagate(state: &State, steps: usize) -> Vec<State> {\n"
              "13:    let mut out = Vec::new();\n"
              "19:        out.push(next.clone());\n"
              "21:        history.push(out.clone());\n")
    rec.runtime_ended(thread, turn1, call_rg, exec_end(
        {**begin_rg, "process_id": "70112"}, stdout=rg_out, exit_code=0, wall_ms=72))
    rg_text = unified_exec_output(ids.chunk(), 72, rg_out, exit_code=0)
    rec.tool_ended(thread, turn1, call_rg, direct_output(call_rg, rg_text))
    history += [*[replayed(item) for item in out1], function_output(call_rg, rg_text)]

    resp2 = ids.response()
    final1 = ("`propagate` clones the whole output vector into `history` on every step "
              "(line 21), so each step costs O(n) and the run is O(n²). Push only `next` "
              "instead, or keep an index.")
    inf2 = rec.inference_started(thread, turn1, request(
        [function_output(call_rg, rg_text)], thread_id=thread, tools=TOOL_SPECS,
        previous_response_id=resp1))
    clock.sleep(4_870)
    out2 = [
        reasoning(["**Quadratic clone**\n\n`history.push(out.clone())` copies a growing "
                   "vector each step."], ids.encrypted()),
        assistant(final1, phase="final_answer"),
    ]
    rec.inference_completed(thread, turn1, inf2, resp2, usage(6_388, 5_888, 172, 64), out2)
    history += [replayed(item) for item in out2]
    clock.sleep(10)
    rec.turn_complete(thread, turn1, final1)

    clock.sleep(95_000)
    rec.turn_started(thread, turn2)
    ask2 = user("Fix it with apply_patch.")
    history.append(ask2)
    call_patch = ids.call()
    patch = ("*** Begin Patch\n*** Update File: crates/orbit-core/src/propagate.rs\n@@\n"
             "-        history.push(out.clone());\n+        history.push(next.clone());\n"
             "*** End Patch\n")
    resp3 = ids.response()
    inf3 = rec.inference_started(thread, turn2,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(3_310)
    out3 = [
        reasoning(["**Patching the loop**"], ids.encrypted(112)),
        custom_call("apply_patch", patch, call_patch),
    ]
    rec.inference_completed(thread, turn2, inf3, resp3, usage(6_850, 0, 140, 38), out3)
    clock.sleep(12)
    rec.tool_started(thread, turn2, call_patch, "apply_patch",
                     {"type": "custom", "input": patch})
    changes = {f"{CWD}/crates/orbit-core/src/propagate.rs": {
        "update": {"unified_diff": "@@ -21 +21 @@\n-        history.push(out.clone());\n"
                                   "+        history.push(next.clone());\n",
                   "move_path": None}}}
    rec.runtime_started(thread, turn2, call_patch, {
        "call_id": call_patch, "turn_id": turn2, "auto_approved": True, "changes": changes})
    clock.sleep(31)
    rec.runtime_ended(thread, turn2, call_patch, {
        "call_id": call_patch, "turn_id": turn2,
        "stdout": "Success. Updated the following files:\nM crates/orbit-core/src/"
                  "propagate.rs\n",
        "stderr": "", "success": True, "changes": changes, "status": "completed"})
    patch_text = ("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following "
                  "files:\nM crates/orbit-core/src/propagate.rs\n")
    rec.tool_ended(thread, turn2, call_patch, {
        "type": "direct_response",
        "response_item": {"type": "custom_tool_call_output", "call_id": call_patch,
                          "output": patch_text}})
    history += [*[replayed(item) for item in out3], custom_output(call_patch, patch_text)]

    resp4 = ids.response()
    final2 = "Patched `propagate.rs`: the loop now pushes only the new state."
    inf4 = rec.inference_started(thread, turn2,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(2_004)
    out4 = [assistant(final2, phase="final_answer")]
    rec.inference_completed(thread, turn2, inf4, resp4, usage(7_012, 6_784, 45, 0), out4)
    history += out4
    clock.sleep(7)
    rec.turn_complete(thread, turn2, final2)

    # Turn 3: the context is near the window limit, so Codex compacts before sampling.
    clock.sleep(140_000)
    rec.turn_started(thread, turn3)
    ask3 = user("Now add a regression benchmark for 1e6 steps.")
    history.append(ask3)
    compact_request = {
        "model": MODEL,
        "input": history,
        "instructions": BASE_INSTRUCTIONS,
        "tools": TOOL_SPECS,
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "text": None,
    }
    failed_id = rec.compaction_request_started(thread, turn3, compaction_id, compact_request)
    clock.sleep(30_012)
    rec.emit({"type": "compaction_request_failed", "compaction_id": compaction_id,
              "compaction_request_id": failed_id,
              "error": "stream disconnected before completion: error sending request for url "
                       "(https://api.openai.com/v1/responses/compact)"}, thread, turn3)
    clock.sleep(1_200)
    retry_id = rec.compaction_request_started(thread, turn3, compaction_id, compact_request)
    clock.sleep(8_640)
    summary = ids.encrypted(320)
    compact_output = [*prefix[1:], ask1, ask2, ask3,
                      {"type": "compaction", "encrypted_content": summary}]
    ref = rec.payload("compaction_response", {"output_items": compact_output})
    rec.emit({"type": "compaction_request_completed", "compaction_id": compaction_id,
              "compaction_request_id": retry_id, "response_payload": ref}, thread, turn3)
    clock.sleep(3)
    # Codex filters its own injected context (AGENTS.md, environment context) out of the
    # compact output before installing it; the next prompt reinjects a fresh prefix.
    replacement = compact_output[2:]
    ref = rec.payload("compaction_checkpoint", {"input_history": history,
                                                "replacement_history": replacement})
    rec.emit({"type": "compaction_installed", "compaction_id": compaction_id,
              "checkpoint_payload": ref}, thread, turn3)

    # The first request after the install is a full snapshot: the reinjected context
    # prefix becomes new items while the replacement items are reused.
    history = [*prefix, *replacement]
    call_bench = ids.call()
    bench_patch = ("*** Begin Patch\n*** Add File: crates/orbit-core/benches/propagate.rs\n"
                   "+use criterion::{criterion_group, criterion_main, Criterion};\n"
                   "+use orbit_core::propagate::{propagate, State};\n+\n"
                   "+fn bench(c: &mut Criterion) {\n"
                   "+    c.bench_function(\"propagate_1e6\", |b| b.iter(|| "
                   "propagate(&State::leo(), 1_000_000)));\n+}\n+\n"
                   "+criterion_group!(benches, bench);\n+criterion_main!(benches);\n"
                   "*** End Patch\n")
    resp5 = ids.response()
    inf5 = rec.inference_started(thread, turn3,
                                 request(history, thread_id=thread, tools=TOOL_SPECS))
    clock.sleep(5_120)
    out5 = [
        reasoning(["**Adding a criterion benchmark**\n\nThe compacted summary says the "
                   "quadratic clone was fixed; a 1e6-step bench guards it."], ids.encrypted()),
        custom_call("apply_patch", bench_patch, call_bench),
    ]
    rec.inference_completed(thread, turn3, inf5, resp5, usage(2_904, 0, 388, 120), out5)
    clock.sleep(9)
    rec.tool_started(thread, turn3, call_bench, "apply_patch",
                     {"type": "custom", "input": bench_patch})
    bench_changes = {f"{CWD}/crates/orbit-core/benches/propagate.rs": {
        "add": {"content": "use criterion::{criterion_group, criterion_main, Criterion};\n"}}}
    rec.runtime_started(thread, turn3, call_bench, {
        "call_id": call_bench, "turn_id": turn3, "auto_approved": True,
        "changes": bench_changes})
    clock.sleep(22)
    rec.runtime_ended(thread, turn3, call_bench, {
        "call_id": call_bench, "turn_id": turn3,
        "stdout": "Success. Updated the following files:\nA crates/orbit-core/benches/"
                  "propagate.rs\n",
        "stderr": "", "success": True, "changes": bench_changes, "status": "completed"})
    bench_text = ("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following "
                  "files:\nA crates/orbit-core/benches/propagate.rs\n")
    rec.tool_ended(thread, turn3, call_bench, {
        "type": "direct_response",
        "response_item": {"type": "custom_tool_call_output", "call_id": call_bench,
                          "output": bench_text}})
    history += [*[replayed(item) for item in out5], custom_output(call_bench, bench_text)]

    resp6 = ids.response()
    final3 = ("Added `crates/orbit-core/benches/propagate.rs` with a criterion benchmark "
              "`propagate_1e6`; run it with `cargo bench -p orbit-core`.")
    inf6 = rec.inference_started(thread, turn3, request(
        [custom_output(call_bench, bench_text)], thread_id=thread, tools=TOOL_SPECS,
        previous_response_id=resp5))
    clock.sleep(2_640)
    out6 = [assistant(final3, phase="final_answer")]
    rec.inference_completed(thread, turn3, inf6, resp6, usage(3_402, 2_816, 61, 0), out6)
    clock.sleep(8)
    rec.turn_complete(thread, turn3, final3)
    clock.sleep(12_000)
    rec.thread_ended(thread)
    rec.close()


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "terminal-reuse": terminal_reuse,
    "code-mode": code_mode,
    "multi-agent": multi_agent,
    "compaction": compaction,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BUNDLES_DIR,
                        help="directory that receives one sub-directory per bundle")
    parser.add_argument("--reduce", action="store_true",
                        help="also write state.json with ../shared/tools/reference-reduce")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"bundles to generate (default: all of {', '.join(SCENARIOS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown bundle name(s): {', '.join(unknown)}")
    for name in args.names or SCENARIOS:
        bundle_dir = args.out / name
        SCENARIOS[name](bundle_dir)
        print(f"wrote {bundle_dir}")
        if args.reduce:
            run = run_reference(bundle_dir, bundle_dir / "state.json")
            if run is None:
                print("skipping reduce: the reference reducer is not here", file=sys.stderr)
                continue
            if not run.ok:
                print(f"reference reducer failed on {name}: {run.stderr}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
