"""Port of ``src/reducer/tool/terminal_tests.rs``."""

from __future__ import annotations

from pathlib import Path

from tests.support import (
    as_json,
    create_started_writer,
    generic_summary,
    json_to_string,
    message,
    replay,
    start_turn,
    trace_context,
)
from tracegraph.bundle.writer import TraceWriter


def test_exec_tool_reduces_to_terminal_operation_and_session(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    _append_inference_with_tool_call(writer)
    invocation_payload = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "exec_command",
            "tool_namespace": None,
            "payload": {
                "type": "function",
                "arguments": '{"cmd":"cargo test"}',
            },
        },
    )
    invocation_payload_id = invocation_payload.raw_payload_id
    _tool_start = writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-1",
            "model_visible_call_id": "call-1",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "exec_command"},
            "summary": generic_summary("exec_command"),
            "invocation_payload": invocation_payload,
        },
        **trace_context("turn-1"),
    )
    runtime_start_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "tool-1",
            "turn_id": "turn-1",
            "command": ["cargo", "test"],
            "cwd": "/repo",
        },
    )
    runtime_start_payload_id = runtime_start_payload.raw_payload_id
    runtime_start = writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "tool-1",
            "runtime_payload": runtime_start_payload,
        },
        **trace_context("turn-1"),
    )
    runtime_end_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "tool-1",
            "process_id": "pty-1",
            "turn_id": "turn-1",
            "command": ["cargo", "test"],
            "cwd": "/repo",
            "stdout": "ok\n",
            "stderr": "",
            "exit_code": 0,
            "formatted_output": "ok\n",
            "status": "completed",
        },
    )
    runtime_end_payload_id = runtime_end_payload.raw_payload_id
    runtime_end = writer.append(
        {
            "type": "tool_call_runtime_ended",
            "tool_call_id": "tool-1",
            "status": "completed",
            "runtime_payload": runtime_end_payload,
        },
        **trace_context("turn-1"),
    )
    result_payload = writer.write_json_payload(
        "tool_result",
        {
            "type": "direct_response",
            "response_item": {
                "type": "function_call_output",
                "call_id": "call-1",
                "output": "ok\n",
            },
        },
    )
    result_payload_id = result_payload.raw_payload_id
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "tool-1",
            "status": "completed",
            "result_payload": result_payload,
        },
        **trace_context("turn-1"),
    )
    start_turn(writer, "turn-2")
    _append_followup_with_tool_output(writer)

    rollout = replay(tmp_path)
    operation_id = "terminal_operation:1"
    assert rollout.inference_calls["inference-2"].request_item_ids, "tool output item"
    output_item_id = rollout.inference_calls["inference-2"].request_item_ids[-1]

    assert rollout.tool_calls["tool-1"].terminal_operation_id == operation_id
    assert rollout.tool_calls["tool-1"].raw_invocation_payload_id == invocation_payload_id
    assert rollout.tool_calls["tool-1"].raw_result_payload_id == result_payload_id
    assert rollout.tool_calls["tool-1"].raw_runtime_payload_ids == [
        runtime_start_payload_id,
        runtime_end_payload_id,
    ]
    assert as_json(rollout.tool_calls["tool-1"].summary) == {
        "type": "terminal",
        "operation_id": operation_id,
    }
    assert as_json(rollout.terminal_operations[operation_id]) == {
        "operation_id": operation_id,
        "terminal_id": "pty-1",
        "tool_call_id": "tool-1",
        "kind": "exec_command",
        "execution": {
            "started_at_unix_ms": runtime_start.wall_time_unix_ms,
            "started_seq": runtime_start.seq,
            "ended_at_unix_ms": runtime_end.wall_time_unix_ms,
            "ended_seq": runtime_end.seq,
            "status": "completed",
        },
        "request": {
            "type": "exec_command",
            "command": ["cargo", "test"],
            "display_command": "cargo test",
            "cwd": "/repo",
            "yield_time_ms": None,
            "max_output_tokens": None,
        },
        "result": {
            "exit_code": 0,
            "stdout": "ok\n",
            "stderr": "",
            "formatted_output": "ok\n",
            "original_token_count": None,
            "chunk_id": None,
        },
        "model_observations": [
            {
                "call_item_ids": rollout.inference_calls["inference-1"].response_item_ids,
                "output_item_ids": [output_item_id],
                "source": "direct_tool_call",
            }
        ],
        "raw_payload_ids": [runtime_start_payload_id, runtime_end_payload_id],
    }
    assert as_json(rollout.terminal_sessions["pty-1"]) == {
        "terminal_id": "pty-1",
        "thread_id": "thread-root",
        "created_by_operation_id": operation_id,
        "operation_ids": [operation_id],
        "execution": {
            "started_at_unix_ms": runtime_start.wall_time_unix_ms,
            "started_seq": runtime_start.seq,
            "ended_at_unix_ms": None,
            "ended_seq": None,
            "status": "running",
        },
    }


def test_write_stdin_operation_reuses_existing_terminal_session(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    startup_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "tool-start",
            "process_id": "pty-1",
            "turn_id": "turn-1",
            "command": ["bash"],
            "cwd": "/repo",
        },
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-start",
            "model_visible_call_id": None,
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "exec_command"},
            "summary": generic_summary("exec_command"),
            "invocation_payload": None,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "tool-start",
            "runtime_payload": startup_payload,
        },
        **trace_context("turn-1"),
    )

    stdin_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "tool-stdin",
            "process_id": "pty-1",
            "turn_id": "turn-1",
            "command": ["bash"],
            "cwd": "/repo",
            "interaction_input": "echo hi\n",
        },
    )
    _stdin_start = writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-stdin",
            "model_visible_call_id": None,
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "write_stdin"},
            "summary": generic_summary("write_stdin"),
            "invocation_payload": None,
        },
        **trace_context("turn-1"),
    )
    stdin_runtime_start = writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "tool-stdin",
            "runtime_payload": stdin_payload,
        },
        **trace_context("turn-1"),
    )

    rollout = replay(tmp_path)
    startup_operation_id = "terminal_operation:1"
    stdin_operation_id = "terminal_operation:2"

    assert rollout.terminal_sessions["pty-1"].operation_ids == [
        startup_operation_id,
        stdin_operation_id,
    ]
    assert as_json(rollout.terminal_operations[stdin_operation_id]) == {
        "operation_id": stdin_operation_id,
        "terminal_id": "pty-1",
        "tool_call_id": "tool-stdin",
        "kind": "write_stdin",
        "execution": {
            "started_at_unix_ms": stdin_runtime_start.wall_time_unix_ms,
            "started_seq": stdin_runtime_start.seq,
            "ended_at_unix_ms": None,
            "ended_seq": None,
            "status": "running",
        },
        "request": {
            "type": "write_stdin",
            "stdin": "echo hi\n",
            "yield_time_ms": None,
            "max_output_tokens": None,
        },
        "result": None,
        "model_observations": [],
        "raw_payload_ids": ["raw_payload:2"],
    }


def test_dispatch_write_stdin_payload_reduces_to_terminal_operation(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request_payload = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "write_stdin",
            "tool_namespace": None,
            "payload": {
                "type": "function",
                "arguments": json_to_string(
                    {
                        "session_id": 123,
                        "chars": "echo hi\n",
                        "yield_time_ms": 250,
                        "max_output_tokens": 2000,
                    }
                ),
            },
        },
    )
    request_payload_id = request_payload.raw_payload_id
    tool_start = writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-stdin",
            "model_visible_call_id": "call-stdin",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "write_stdin"},
            "summary": generic_summary("write_stdin"),
            "invocation_payload": request_payload,
        },
        **trace_context("turn-1"),
    )
    response_payload = writer.write_json_payload(
        "tool_result",
        {
            "type": "direct_response",
            "response_item": {
                "type": "function_call_output",
                "call_id": "call-stdin",
                "output": "hi\n",
            },
        },
    )
    response_payload_id = response_payload.raw_payload_id
    tool_end = writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "tool-stdin",
            "status": "completed",
            "result_payload": response_payload,
        },
        **trace_context("turn-1"),
    )

    rollout = replay(tmp_path)
    operation_id = "terminal_operation:1"

    assert rollout.tool_calls["tool-stdin"].terminal_operation_id == operation_id
    assert as_json(rollout.tool_calls["tool-stdin"].summary) == {
        "type": "terminal",
        "operation_id": operation_id,
    }
    assert as_json(rollout.terminal_operations[operation_id]) == {
        "operation_id": operation_id,
        "terminal_id": "123",
        "tool_call_id": "tool-stdin",
        "kind": "write_stdin",
        "execution": {
            "started_at_unix_ms": tool_start.wall_time_unix_ms,
            "started_seq": tool_start.seq,
            "ended_at_unix_ms": tool_end.wall_time_unix_ms,
            "ended_seq": tool_end.seq,
            "status": "completed",
        },
        "request": {
            "type": "write_stdin",
            "stdin": "echo hi\n",
            "yield_time_ms": 250,
            "max_output_tokens": 2000,
        },
        "result": {
            "exit_code": None,
            "stdout": "hi\n",
            "stderr": "",
            "formatted_output": "hi\n",
            "original_token_count": None,
            "chunk_id": None,
        },
        "model_observations": [],
        "raw_payload_ids": [request_payload_id, response_payload_id],
    }
    assert as_json(rollout.terminal_sessions["123"]) == {
        "terminal_id": "123",
        "thread_id": "thread-root",
        "created_by_operation_id": operation_id,
        "operation_ids": [operation_id],
        "execution": {
            "started_at_unix_ms": tool_start.wall_time_unix_ms,
            "started_seq": tool_start.seq,
            "ended_at_unix_ms": None,
            "ended_seq": None,
            "status": "running",
        },
    }


def test_code_mode_write_stdin_result_projects_structured_exec_fields(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request_payload = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "write_stdin",
            "tool_namespace": None,
            "payload": {
                "type": "function",
                "arguments": json_to_string(
                    {
                        "session_id": 456,
                        "chars": "",
                        "yield_time_ms": 1000,
                        "max_output_tokens": 4000,
                    }
                ),
            },
        },
    )
    response_payload = writer.write_json_payload(
        "tool_result",
        {
            "type": "code_mode_response",
            "value": {
                "chunk_id": "abc123",
                "wall_time_seconds": 1.25,
                "exit_code": 0,
                "original_token_count": 3,
                "output": "done\n",
            },
        },
    )
    writer.append(
        {
            "type": "code_cell_started",
            "runtime_cell_id": "cell-1",
            "model_visible_call_id": "call-code",
            "source_js": "await tools.write_stdin({ chars: '' })",
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-stdin",
            "model_visible_call_id": None,
            "code_mode_runtime_tool_id": "runtime-tool-1",
            "requester": {"type": "code_cell", "runtime_cell_id": "cell-1"},
            "kind": {"type": "write_stdin"},
            "summary": generic_summary("write_stdin"),
            "invocation_payload": request_payload,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "tool-stdin",
            "status": "completed",
            "result_payload": response_payload,
        },
        **trace_context("turn-1"),
    )

    rollout = replay(tmp_path)

    assert as_json(rollout.terminal_operations["terminal_operation:1"].result) == {
        "exit_code": 0,
        "stdout": "done\n",
        "stderr": "",
        "formatted_output": "done\n",
        "original_token_count": 3,
        "chunk_id": "abc123",
    }


def _append_inference_with_tool_call(writer: TraceWriter) -> None:
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "run tests")]},
    )
    writer.append(
        {
            "type": "inference_started",
            "inference_call_id": "inference-1",
            "thread_id": "thread-root",
            "codex_turn_id": "turn-1",
            "model": "gpt-test",
            "provider_name": "test-provider",
            "request_payload": request,
        }
    )
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "function_call",
                    "name": "exec_command",
                    "arguments": '{"cmd":"cargo test"}',
                    "call_id": "call-1",
                }
            ],
        },
    )
    writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": "inference-1",
            "response_id": "resp-1",
            "response_payload": response,
        }
    )


def _append_followup_with_tool_output(writer: TraceWriter) -> None:
    request = writer.write_json_payload(
        "inference_request",
        {
            "previous_response_id": "resp-1",
            "input": [
                {
                    "type": "function_call_output",
                    "call_id": "call-1",
                    "output": "ok\n",
                }
            ],
        },
    )
    writer.append(
        {
            "type": "inference_started",
            "inference_call_id": "inference-2",
            "thread_id": "thread-root",
            "codex_turn_id": "turn-2",
            "model": "gpt-test",
            "provider_name": "test-provider",
            "request_payload": request,
        }
    )
