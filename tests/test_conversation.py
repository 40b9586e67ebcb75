"""Port of ``src/reducer/conversation_tests.rs``."""

from __future__ import annotations

from pathlib import Path

from tests.support import (
    append_inference_completion,
    append_inference_start,
    as_json,
    create_started_writer,
    expect_replay_error,
    message,
    replay,
    start_turn,
    trace_context,
)


def test_request_snapshots_reuse_history_without_deduping_new_identical_items(
    tmp_path: Path,
) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    first_request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "ok")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", first_request)
    start_turn(writer, "turn-2")
    second_request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                message("user", "ok"),
                message("assistant", "ack"),
                message("user", "ok"),
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", second_request)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"].request_item_ids
    second = rollout.inference_calls["inference-2"].request_item_ids

    assert len(first) == 1
    assert len(second) == 3
    assert second[0] == first[0]
    assert second[2] != first[0]
    assert len(rollout.conversation_items) == 3
    assert rollout.threads["thread-root"].conversation_item_ids == second


def test_response_outputs_enter_thread_conversation_on_completion(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "run tests")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "tests passed"}],
                }
            ],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)

    rollout = replay(tmp_path)
    inference = rollout.inference_calls["inference-1"]
    expected_thread_items = list(inference.request_item_ids)
    expected_thread_items.extend(inference.response_item_ids)

    assert len(inference.response_item_ids) == 1
    assert rollout.threads["thread-root"].conversation_item_ids == expected_thread_items


def test_later_full_request_reuses_prior_json_tool_call_by_position(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "run tests")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"cmd":"cargo test"}',
                    "call_id": "call-1",
                }
            ],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)
    start_turn(writer, "turn-2")
    next_request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                message("user", "run tests"),
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"cmd":"cargo test"}',
                    "call_id": "call-1",
                },
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", next_request)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"]
    second = rollout.inference_calls["inference-2"]

    assert second.request_item_ids == [
        first.request_item_ids[0],
        first.response_item_ids[0],
    ]
    assert len(rollout.conversation_items) == 2


def test_incremental_request_carries_prior_request_and_response_items_forward(
    tmp_path: Path,
) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "run tests")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "token_usage": {
                "input_tokens": 10,
                "cached_input_tokens": 1,
                "output_tokens": 5,
                "reasoning_output_tokens": 2,
                "total_tokens": 15,
            },
            "output_items": [
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"cmd":"cargo test"}',
                    "call_id": "call-1",
                }
            ],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)
    start_turn(writer, "turn-2")
    incremental_request = writer.write_json_payload(
        "inference_request",
        {
            "type": "response.create",
            "previous_response_id": "resp-1",
            "input": [
                {
                    "type": "function_call_output",
                    "call_id": "call-1",
                    "output": "tests passed",
                }
            ],
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", incremental_request)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"]
    second = rollout.inference_calls["inference-2"]

    assert len(first.response_item_ids) == 1
    assert second.request_item_ids == [
        first.request_item_ids[0],
        first.response_item_ids[0],
        rollout.threads["thread-root"].conversation_item_ids[2],
    ]
    assert rollout.threads["thread-root"].conversation_item_ids == second.request_item_ids
    assert (first.usage.input_tokens if first.usage is not None else None) == 10


def test_full_request_snapshot_can_reorder_existing_items_and_insert_summary(
    tmp_path: Path,
) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                message("developer", "follow the repo rules"),
                message("user", "count files"),
            ]
        },
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    start_turn(writer, "turn-2")
    compacted_request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                message("user", "count files"),
                message("user", "summary from a compacted prior attempt"),
                message("developer", "follow the repo rules"),
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", compacted_request)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"].request_item_ids
    second = rollout.inference_calls["inference-2"].request_item_ids

    assert second[0] == first[1]
    assert second[2] == first[0]
    assert second[1] != first[0]
    assert second[1] != first[1]
    assert len(rollout.conversation_items) == 3


def test_reasoning_body_preserves_text_summary_and_encoded_content(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "think visibly")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "reasoning",
                    "content": [{"type": "reasoning_text", "text": "raw reasoning"}],
                    "summary": [{"type": "summary_text", "text": "brief summary"}],
                    "encrypted_content": "encoded-reasoning",
                }
            ],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)

    rollout = replay(tmp_path)
    reasoning_item_id = rollout.inference_calls["inference-1"].response_item_ids[0]

    assert as_json(rollout.conversation_items[reasoning_item_id].body.parts) == [
        {"type": "text", "text": "raw reasoning"},
        {"type": "summary", "text": "brief summary"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]


def test_encrypted_reasoning_reuses_response_item_in_later_request(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    user = message("user", "count files")
    function_call = {
        "type": "function_call",
        "name": "shell",
        "arguments": '{"cmd":"find . -maxdepth 1 -type f | wc -l"}',
        "call_id": "call-1",
    }
    encrypted_reasoning = {
        "type": "reasoning",
        "summary": [],
        "encrypted_content": "encoded-reasoning",
    }
    readable_reasoning = {
        "type": "reasoning",
        "content": [{"type": "text", "text": "need count"}],
        "summary": [],
        "encrypted_content": "encoded-reasoning",
    }
    request = writer.write_json_payload("inference_request", {"input": [user]})
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [readable_reasoning, function_call],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)
    start_turn(writer, "turn-2")
    followup = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                user,
                encrypted_reasoning,
                function_call,
                {
                    "type": "function_call_output",
                    "call_id": "call-1",
                    "output": "31\n",
                },
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", followup)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"]
    second = rollout.inference_calls["inference-2"]
    output_item_id = rollout.threads["thread-root"].conversation_item_ids[3]

    assert second.request_item_ids == [
        first.request_item_ids[0],
        first.response_item_ids[0],
        first.response_item_ids[1],
        output_item_id,
    ]
    assert as_json(rollout.conversation_items[first.response_item_ids[0]].body.parts) == [
        {"type": "text", "text": "need count"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]
    assert len(rollout.conversation_items) == 4
    assert rollout.threads["thread-root"].conversation_item_ids == second.request_item_ids


def test_same_encrypted_reasoning_with_different_text_is_reducer_error(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    user = message("user", "count files")
    request = writer.write_json_payload("inference_request", {"input": [user]})
    append_inference_start(writer, "inference-1", "turn-1", request)
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": "resp-1",
            "output_items": [
                {
                    "type": "reasoning",
                    "content": [{"type": "text", "text": "first text"}],
                    "summary": [],
                    "encrypted_content": "encoded-reasoning",
                }
            ],
        },
    )
    append_inference_completion(writer, "inference-1", "resp-1", response)
    start_turn(writer, "turn-2")
    conflicting_request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                user,
                {
                    "type": "reasoning",
                    "content": [{"type": "text", "text": "different text"}],
                    "summary": [],
                    "encrypted_content": "encoded-reasoning",
                },
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", conflicting_request)

    expect_replay_error(
        tmp_path,
        "reasoning encrypted_content was reused with different readable content",
    )


def test_model_visible_call_id_reuse_with_different_content_is_reducer_error(
    tmp_path: Path,
) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"cmd":"cargo test"}',
                    "call_id": "call-1",
                }
            ]
        },
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
    start_turn(writer, "turn-2")
    conflicting_request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": '{"cmd":"cargo check"}',
                    "call_id": "call-1",
                }
            ]
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", conflicting_request)

    expect_replay_error(
        tmp_path,
        "model-visible call id call-1 was reused with different content",
    )


def test_unsupported_model_item_is_reducer_error(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {
            "input": [
                {
                    "type": "new_unhandled_model_item",
                    "payload": "must not be silently skipped",
                }
            ]
        },
    )
    append_inference_start(writer, "inference-1", "turn-1", request)

    expect_replay_error(tmp_path, "unsupported model item type new_unhandled_model_item")


def test_missing_request_input_is_reducer_error(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload("inference_request", {"model": "gpt-test"})
    append_inference_start(writer, "inference-1", "turn-1", request)

    expect_replay_error(tmp_path, "did not contain input")


def test_unknown_previous_response_id_is_reducer_error(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {
            "previous_response_id": "resp-missing",
            "input": [message("user", "still here")],
        },
    )
    append_inference_start(writer, "inference-1", "turn-1", request)

    expect_replay_error(tmp_path, "unknown previous_response_id resp-missing")


def test_compaction_boundary_repeats_prefix_and_reuses_replacement_items(
    tmp_path: Path,
) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    developer = message("developer", "follow repo rules")
    user = message("user", "count files")
    request = writer.write_json_payload("inference_request", {"input": [developer, user]})
    append_inference_start(writer, "inference-1", "turn-1", request)

    summary = message("user", "summary from compacted history")
    compaction_summary = {
        "type": "compaction",
        "encrypted_content": "encrypted-summary",
    }
    checkpoint = writer.write_json_payload(
        "compaction_checkpoint",
        {
            "input_history": [developer, user],
            "replacement_history": [user, summary, compaction_summary],
        },
    )
    writer.append(
        {
            "type": "compaction_installed",
            "compaction_id": "compaction-1",
            "checkpoint_payload": checkpoint,
        },
        **trace_context("turn-1"),
    )
    start_turn(writer, "turn-2")
    post_compaction_request = writer.write_json_payload(
        "inference_request",
        {"input": [developer, user, summary, compaction_summary]},
    )
    append_inference_start(writer, "inference-2", "turn-2", post_compaction_request)

    rollout = replay(tmp_path)
    first = rollout.inference_calls["inference-1"]
    second = rollout.inference_calls["inference-2"]
    compaction = rollout.compactions["compaction-1"]

    assert compaction.input_item_ids == first.request_item_ids
    assert len(second.request_item_ids) == 4
    assert second.request_item_ids[1:] == compaction.replacement_item_ids
    marker = rollout.conversation_items[compaction.marker_item_id]
    assert marker.kind == "compaction_marker"
    assert as_json(marker.body.parts) == []
    assert as_json(marker.produced_by) == [
        {"type": "compaction", "compaction_id": "compaction-1"},
    ]
    assert second.request_item_ids[0] != first.request_item_ids[0]
    assert compaction.replacement_item_ids[0] != first.request_item_ids[1]
    assert as_json(rollout.conversation_items[compaction.replacement_item_ids[0]].produced_by) == [
        {"type": "compaction", "compaction_id": "compaction-1"},
    ]
    assert as_json(rollout.conversation_items[compaction.replacement_item_ids[1]].produced_by) == [
        {"type": "compaction", "compaction_id": "compaction-1"},
    ]
    assert rollout.conversation_items[compaction.replacement_item_ids[2]].channel == "summary"
    assert rollout.conversation_items[compaction.replacement_item_ids[2]].kind == "message"
    assert as_json(rollout.conversation_items[compaction.replacement_item_ids[2]].body.parts) == [
        {"type": "encoded", "label": "encrypted_content", "value": "encrypted-summary"},
    ]


def test_tool_call_links_model_call_and_followup_output_items(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "run tests")]},
    )
    append_inference_start(writer, "inference-1", "turn-1", request)
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
    append_inference_completion(writer, "inference-1", "resp-1", response)
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "tool-1",
            "model_visible_call_id": "call-1",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "exec_command"},
            "summary": {
                "type": "generic",
                "label": "exec_command",
                "input_preview": "cargo test",
                "output_preview": None,
            },
            "invocation_payload": None,
        },
        **trace_context("turn-1"),
    )
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "tool-1",
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
                    "type": "function_call_output",
                    "call_id": "call-1",
                    "output": "tests passed",
                }
            ],
        },
    )
    append_inference_start(writer, "inference-2", "turn-2", followup)

    rollout = replay(tmp_path)
    first_inference = rollout.inference_calls["inference-1"]
    second_inference = rollout.inference_calls["inference-2"]
    tool_call = rollout.tool_calls["tool-1"]
    assert second_inference.request_item_ids, "follow-up output item"
    output_item_id = second_inference.request_item_ids[-1]

    assert first_inference.tool_call_ids_started_by_response == ["tool-1"]
    assert tool_call.model_visible_call_item_ids == first_inference.response_item_ids
    assert tool_call.model_visible_output_item_ids == [output_item_id]
    assert as_json(rollout.conversation_items[output_item_id].produced_by) == [
        {"type": "tool", "tool_call_id": "tool-1"},
    ]


def test_inference_start_rejects_unknown_codex_turn(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    request = writer.write_json_payload(
        "inference_request",
        {"input": [message("user", "hello")]},
    )
    append_inference_start(writer, "inference-1", "turn-missing", request)

    expect_replay_error(tmp_path, "referenced unknown codex turn turn-missing")
