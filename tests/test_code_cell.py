"""Port of ``src/reducer/code_cell_tests.rs``."""

from __future__ import annotations

from pathlib import Path

from tests.support import (
    as_json,
    create_started_writer,
    message,
    replay,
    start_turn,
    start_turn_for_thread,
    trace_context,
    trace_context_for_thread,
)


def test_code_cell_lifecycle_links_nested_tools_waits_and_outputs(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "count files")]},
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
                    "type": "custom_tool_call",
                    "name": "exec",
                    "call_id": "call-code",
                    "input": "text('hi')",
                }
            ],
        },
    )
    # Runtime tool dispatch starts before the stream-completion hook has
    # reduced the model response that requested `exec`.
    writer.append(
        {
            "type": "code_cell_started",
            "runtime_cell_id": "1",
            "model_visible_call_id": "call-code",
            "source_js": "text('hi')",
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": "inference-1",
            "response_id": "resp-1",
            "response_payload": response,
        }
    )
    writer.append(
        {
            "type": "code_cell_initial_response",
            "runtime_cell_id": "1",
            "status": "yielded",
            "response_payload": None,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "nested-tool-1",
            "model_visible_call_id": None,
            "code_mode_runtime_tool_id": "tool-1",
            "requester": {"type": "code_cell", "runtime_cell_id": "1"},
            "kind": {"type": "exec_command"},
            "summary": {
                "type": "generic",
                "label": "exec_command",
                "input_preview": "pwd",
                "output_preview": None,
            },
            "invocation_payload": None,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "nested-tool-1",
            "status": "completed",
            "result_payload": None,
        },
        **trace_context("turn-1"),
    )
    start_turn(writer, "turn-2")
    followup = writer.write_json_payload(
        "inference_request",
        {
            "previous_response_id": "resp-1",
            "input": [
                {
                    "type": "custom_tool_call_output",
                    "call_id": "call-code",
                    "output": "Script running with cell ID 1",
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
            "request_payload": followup,
        }
    )
    wait_request = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "wait",
            "tool_namespace": None,
            "payload": {
                "type": "function",
                "arguments": '{"cell_id":"1"}',
            },
        },
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "wait-tool-1",
            "model_visible_call_id": "wait-call",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "other", "name": "wait"},
            "summary": {
                "type": "generic",
                "label": "wait",
                "input_preview": '{"cell_id":"1"}',
                "output_preview": None,
            },
            "invocation_payload": wait_request,
        },
        **trace_context("turn-2"),
    )
    writer.append(
        {
            "type": "code_cell_ended",
            "runtime_cell_id": "1",
            "status": "completed",
            "response_payload": None,
        },
        **trace_context("turn-2"),
    )

    rollout = replay(tmp_path)
    code_cell_id = _test_reduced_code_cell_id("call-code")
    cell = rollout.code_cells[code_cell_id]
    assert rollout.inference_calls["inference-2"].request_item_ids, "exec output item"
    output_item_id = rollout.inference_calls["inference-2"].request_item_ids[-1]

    assert cell.thread_id == "thread-root"
    assert cell.runtime_status == "completed"
    assert cell.execution.status == "completed"
    assert cell.runtime_cell_id == "1"
    assert cell.nested_tool_call_ids == ["nested-tool-1"]
    assert cell.wait_tool_call_ids == ["wait-tool-1"]
    assert cell.output_item_ids == [output_item_id]
    assert as_json(rollout.conversation_items[output_item_id].produced_by) == [
        {"type": "code_cell", "code_cell_id": code_cell_id},
    ]
    assert rollout.conversation_items[cell.source_item_id].kind == "custom_tool_call"


def test_fast_code_cell_lifecycle_waits_for_source_item(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "count files")]},
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
    writer.append(
        {
            "type": "code_cell_started",
            "runtime_cell_id": "1",
            "model_visible_call_id": "call-code",
            "source_js": "not valid js",
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "code_cell_initial_response",
            "runtime_cell_id": "1",
            "status": "failed",
            "response_payload": None,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "code_cell_ended",
            "runtime_cell_id": "1",
            "status": "failed",
            "response_payload": None,
        },
        **trace_context("turn-1"),
    )
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "custom_tool_call",
                    "name": "exec",
                    "call_id": "call-code",
                    "input": "not valid js",
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

    rollout = replay(tmp_path)
    code_cell_id = _test_reduced_code_cell_id("call-code")
    cell = rollout.code_cells[code_cell_id]

    assert cell.thread_id == "thread-root"
    assert cell.runtime_status == "failed"
    assert cell.execution.status == "failed"
    assert cell.runtime_cell_id == "1"
    assert rollout.conversation_items[cell.source_item_id].kind == "custom_tool_call"


def test_cancelled_turn_terminates_unfinished_code_cell(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "count files")]},
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
                    "type": "custom_tool_call",
                    "name": "exec",
                    "call_id": "call-code",
                    "input": "await tools.exec_command({cmd: 'slow'});",
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
    writer.append(
        {
            "type": "code_cell_started",
            "runtime_cell_id": "1",
            "model_visible_call_id": "call-code",
            "source_js": "await tools.exec_command({cmd: 'slow'});",
        },
        **trace_context("turn-1"),
    )
    turn_end = writer.append(
        {
            "type": "codex_turn_ended",
            "codex_turn_id": "turn-1",
            "status": "cancelled",
        },
        **trace_context("turn-1"),
    )

    rollout = replay(tmp_path)
    code_cell_id = _test_reduced_code_cell_id("call-code")
    cell = rollout.code_cells[code_cell_id]

    assert cell.runtime_status == "terminated"
    assert cell.execution.status == "cancelled"
    assert cell.execution.ended_seq == turn_end.seq


def test_runtime_code_cell_ids_can_repeat_across_threads(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    writer.append(
        {
            "type": "thread_started",
            "thread_id": "thread-child",
            "agent_path": "/root/child",
            "metadata_payload": None,
        }
    )
    start_turn_for_thread(writer, "thread-root", "turn-root")
    start_turn_for_thread(writer, "thread-child", "turn-child")

    for thread_id, turn_id, inference_call_id, call_id in [
        ("thread-root", "turn-root", "inference-root", "call-root"),
        ("thread-child", "turn-child", "inference-child", "call-child"),
    ]:
        request = writer.write_json_payload(
            "inference_request",
            {"input": [message("user", "run code")]},
        )
        writer.append(
            {
                "type": "inference_started",
                "inference_call_id": inference_call_id,
                "thread_id": thread_id,
                "codex_turn_id": turn_id,
                "model": "gpt-test",
                "provider_name": "test-provider",
                "request_payload": request,
            }
        )
        writer.append(
            {
                "type": "code_cell_started",
                "runtime_cell_id": "1",
                "model_visible_call_id": call_id,
                "source_js": "text('hi')",
            },
            **trace_context_for_thread(thread_id, turn_id),
        )
        response = writer.write_json_payload(
            "inference_response",
            {
                "response_id": f"resp-{thread_id}",
                "output_items": [
                    {
                        "type": "custom_tool_call",
                        "name": "exec",
                        "call_id": call_id,
                        "input": "text('hi')",
                    }
                ],
            },
        )
        writer.append(
            {
                "type": "inference_completed",
                "inference_call_id": inference_call_id,
                "response_id": f"resp-{thread_id}",
                "response_payload": response,
            }
        )
        writer.append(
            {
                "type": "code_cell_ended",
                "runtime_cell_id": "1",
                "status": "completed",
                "response_payload": None,
            },
            **trace_context_for_thread(thread_id, turn_id),
        )

    rollout = replay(tmp_path)
    root_cell_id = _test_reduced_code_cell_id("call-root")
    child_cell_id = _test_reduced_code_cell_id("call-child")

    assert rollout.code_cells[root_cell_id].thread_id == "thread-root"
    assert rollout.code_cells[child_cell_id].thread_id == "thread-child"
    assert rollout.code_cells[root_cell_id].runtime_cell_id == "1"
    assert rollout.code_cells[child_cell_id].runtime_cell_id == "1"


def _test_reduced_code_cell_id(model_visible_call_id: str) -> str:
    return f"code_cell:{model_visible_call_id}"
