"""Port of the writer test at the bottom of ``src/writer.rs``."""

from __future__ import annotations

from pathlib import Path

from tests.support import create_writer, replay


def test_writer_records_payload_refs_and_replays_rollout_status(tmp_path: Path) -> None:
    writer = create_writer(tmp_path, "trace-1", "rollout-1", "thread-root")
    writer.append(
        {"type": "rollout_started", "trace_id": "trace-1", "root_thread_id": "thread-root"}
    )
    metadata_payload = writer.write_json_payload(
        "protocol_event",
        {"source": "test", "model": "gpt-test"},
    )
    writer.append(
        {
            "type": "thread_started",
            "thread_id": "thread-root",
            "agent_path": "/root",
            "metadata_payload": metadata_payload,
        }
    )
    writer.append(
        {"type": "codex_turn_started", "codex_turn_id": "turn-1", "thread_id": "thread-root"}
    )
    inference_request = writer.write_json_payload(
        "inference_request",
        {
            "model": "gpt-test",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hello"}],
                }
            ],
        },
    )
    writer.append(
        {
            "type": "inference_started",
            "inference_call_id": "inference-1",
            "thread_id": "thread-root",
            "codex_turn_id": "turn-1",
            "model": "gpt-test",
            "provider_name": "test-provider",
            "request_payload": inference_request,
        }
    )
    inference_response = writer.write_json_payload(
        "inference_response",
        {"response_id": "resp-1", "output_items": []},
    )
    writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": "inference-1",
            "response_id": "resp-1",
            "response_payload": inference_response,
        }
    )
    writer.append({"type": "codex_turn_ended", "codex_turn_id": "turn-1", "status": "completed"})
    writer.append({"type": "rollout_ended", "status": "completed"})

    rollout = replay(tmp_path)
    assert rollout.status == "completed"
    assert rollout.root_thread_id == "thread-root"
    assert rollout.threads["thread-root"].agent_path == "/root"
    assert rollout.codex_turns["turn-1"].thread_id == "thread-root"
    assert rollout.codex_turns["turn-1"].execution.status == "completed"
    assert (
        rollout.inference_calls["inference-1"].raw_request_payload_id
        == inference_request.raw_payload_id
    )
    assert (
        rollout.inference_calls["inference-1"].raw_response_payload_id
        == inference_response.raw_payload_id
    )
    assert rollout.raw_payloads[metadata_payload.raw_payload_id].path == "payloads/1.json"


def test_payload_files_are_written_like_serde_json_pretty(tmp_path: Path) -> None:
    from tracegraph.bundle.writer import TraceWriter

    writer = TraceWriter.create(tmp_path, "t", "r", "thread-root", clock=lambda: 1)
    ref = writer.write_json_payload(
        "tool_result", {"b": [1e16, 0.5, 1.5e-7, -0.0, 3], "a": {}, "c": [], "é": None}
    )
    writer.close()
    # serde_json::to_writer_pretty of a struct with these fields (declaration order),
    # floats printed by ryu.
    assert (tmp_path / ref.path).read_text(encoding="utf-8") == (
        '{\n  "b": [\n    1e16,\n    0.5,\n    1.5e-7,\n    -0.0,\n    3\n  ],\n'
        '  "a": {},\n  "c": [],\n  "é": null\n}'
    )
