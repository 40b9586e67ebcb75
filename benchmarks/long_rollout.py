"""Write a long synthetic rollout bundle for reducer benchmarks.

Each turn: one inference (incremental, with ``previous_response_id``, except
every ``full_every``-th request, which resends the whole history), a reasoning
item, an ``exec_command`` tool call with protocol begin/end events on a reused
terminal, and the tool output carried back in the next request.

    python benchmarks/long_rollout.py /tmp/long-bundle --turns 5000
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from tracegraph.bundle.writer import TraceWriter

THREAD = "thread-root"


def message(role: str, text: str) -> dict[str, object]:
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def write_long_rollout(path: Path, turns: int, full_every: int = 50) -> int:
    clock = itertools.count(1_700_000_000_000, 7).__next__
    writer = TraceWriter.create(path, "trace-bench", "rollout-bench", THREAD, clock=clock)
    writer.append({"type": "rollout_started", "trace_id": "trace-bench", "root_thread_id": THREAD})
    writer.append({"type": "thread_started", "thread_id": THREAD, "agent_path": "/root",
                   "metadata_payload": None})
    history: list[dict[str, object]] = [message("developer", "You are a benchmark.")]
    pending_input: list[dict[str, object]] = []
    previous_response_id: str | None = None
    for turn in range(turns):
        turn_id = f"turn-{turn}"
        writer.append({"type": "codex_turn_started", "codex_turn_id": turn_id, "thread_id": THREAD})
        user = message("user", f"step {turn}: run the next command")
        pending_input.append(user)
        history.append(user)
        if previous_response_id is None or turn % full_every == 0:
            request = {"model": "gpt-bench", "input": list(history)}
        else:
            request = {"model": "gpt-bench", "input": list(pending_input),
                       "previous_response_id": previous_response_id}
        ref = writer.write_json_payload("inference_request", request)
        inference_id = f"inference:{turn}"
        context = {"thread_id": THREAD, "codex_turn_id": turn_id}
        writer.append({"type": "inference_started", "inference_call_id": inference_id,
                       "thread_id": THREAD, "codex_turn_id": turn_id, "model": "gpt-bench",
                       "provider_name": "bench", "request_payload": ref}, **context)
        call_id = f"call-{turn}"
        output = [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": f"plan {turn}"}],
             "encrypted_content": f"enc-{turn}"},
            {"type": "function_call", "name": "exec_command", "call_id": call_id,
             "arguments": json.dumps({"cmd": f"echo {turn}", "workdir": "/repo"})},
        ]
        response_id = f"resp-{turn}"
        response = writer.write_json_payload("inference_response", {
            "response_id": response_id, "output_items": output,
            "token_usage": {"input_tokens": 100 + turn, "cached_input_tokens": 50,
                            "output_tokens": 20, "reasoning_output_tokens": 5},
        })
        tool_id = f"tool-{turn}"
        invocation = writer.write_json_payload("tool_invocation", {
            "tool_name": "exec_command", "payload": {"type": "function",
                                                     "arguments": output[1]["arguments"]}})
        writer.append({"type": "tool_call_started", "tool_call_id": tool_id,
                       "model_visible_call_id": call_id, "code_mode_runtime_tool_id": None,
                       "requester": {"type": "model"}, "kind": {"type": "exec_command"},
                       "summary": {"type": "generic", "label": "exec_command",
                                   "input_preview": None, "output_preview": None},
                       "invocation_payload": invocation}, **context)
        writer.append({"type": "inference_completed", "inference_call_id": inference_id,
                       "response_id": response_id, "response_payload": response}, **context)
        begin = writer.write_json_payload("tool_runtime_event", {
            "call_id": call_id, "process_id": "pty-1", "command": ["bash", "-lc", f"echo {turn}"],
            "cwd": "/repo"})
        writer.append({"type": "tool_call_runtime_started", "tool_call_id": tool_id,
                       "runtime_payload": begin}, **context)
        end = writer.write_json_payload("tool_runtime_event", {
            "call_id": call_id, "process_id": "pty-1", "stdout": f"{turn}\n", "stderr": "",
            "exit_code": 0, "formatted_output": f"{turn}\n"})
        writer.append({"type": "tool_call_runtime_ended", "tool_call_id": tool_id,
                       "status": "completed", "runtime_payload": end}, **context)
        result = writer.write_json_payload("tool_result", {
            "type": "direct_response",
            "response_item": {"type": "function_call_output", "call_id": call_id,
                              "output": f"{turn}\n"}})
        writer.append({"type": "tool_call_ended", "tool_call_id": tool_id, "status": "completed",
                       "result_payload": result}, **context)
        writer.append({"type": "codex_turn_ended", "codex_turn_id": turn_id,
                       "status": "completed"}, **context)
        tool_output = {"type": "function_call_output", "call_id": call_id, "output": f"{turn}\n"}
        history.extend([*output, tool_output])
        pending_input = [tool_output]
        previous_response_id = response_id
    writer.append({"type": "thread_ended", "thread_id": THREAD, "status": "completed"})
    writer.append({"type": "rollout_ended", "status": "completed"})
    writer.close()
    return len(history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--full-every", type=int, default=50)
    args = parser.parse_args()
    items = write_long_rollout(args.path, args.turns, args.full_every)
    print(f"{args.path}: {args.turns} turns, {items} model-visible items")


if __name__ == "__main__":
    main()
