"""Port of the replay test in ``src/inference.rs``.

tracegraph has no live inference recorder (that is Codex's job), so
``_InferenceTraceAttempt`` below writes exactly what the reference
``InferenceTraceContext::enabled(..).start_attempt()`` writes: a request payload
and ``inference_started`` on ``record_started``, then a
``{response_id, token_usage, output_items}`` payload and
``inference_completed`` on ``record_completed``, every event carrying the
thread/turn context. The test checks that such a bundle replays.

The other test there (``traced_response_item_preserves_reasoning_content_omitted_by_normal_serializer``)
checks the Rust ``ResponseItem`` serializer only and does not replay anything.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from tests.support import create_writer, replay
from tracegraph.bundle.writer import TraceWriter

_NEXT_INFERENCE_ATTEMPT = itertools.count(1)


class _InferenceTraceAttempt:
    def __init__(
        self,
        writer: TraceWriter,
        thread_id: str,
        codex_turn_id: str,
        model: str,
        provider_name: str,
    ) -> None:
        self.writer = writer
        self.thread_id = thread_id
        self.codex_turn_id = codex_turn_id
        self.model = model
        self.provider_name = provider_name
        self.inference_call_id = f"inference:{next(_NEXT_INFERENCE_ATTEMPT)}"

    def record_started(self, request: Any) -> None:
        request_payload = self.writer.write_json_payload("inference_request", request)
        self.writer.append(
            {
                "type": "inference_started",
                "inference_call_id": self.inference_call_id,
                "thread_id": self.thread_id,
                "codex_turn_id": self.codex_turn_id,
                "model": self.model,
                "provider_name": self.provider_name,
                "request_payload": request_payload,
            },
            thread_id=self.thread_id,
            codex_turn_id=self.codex_turn_id,
        )

    def record_completed(
        self, response_id: str, token_usage: dict[str, int] | None, output_items: list[Any]
    ) -> None:
        response_payload = self.writer.write_json_payload(
            "inference_response",
            {
                "response_id": response_id,
                "token_usage": token_usage,
                "output_items": output_items,
            },
        )
        self.writer.append(
            {
                "type": "inference_completed",
                "inference_call_id": self.inference_call_id,
                "response_id": response_id,
                "response_payload": response_payload,
            },
            thread_id=self.thread_id,
            codex_turn_id=self.codex_turn_id,
        )


def test_enabled_context_records_replayable_inference_attempt(tmp_path: Path) -> None:
    writer = create_writer(tmp_path, "trace-1", "rollout-1", "thread-root")
    writer.append(
        {
            "type": "thread_started",
            "thread_id": "thread-root",
            "agent_path": "/root",
            "metadata_payload": None,
        }
    )
    writer.append(
        {"type": "codex_turn_started", "codex_turn_id": "turn-1", "thread_id": "thread-root"}
    )
    attempt = _InferenceTraceAttempt(writer, "thread-root", "turn-1", "gpt-test", "test-provider")
    attempt.record_started(
        {
            "model": "gpt-test",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hello"}],
                }
            ],
        }
    )
    attempt.record_completed("resp-1", None, [])

    rollout = replay(tmp_path)
    assert rollout.inference_calls, "recorded inference call"
    inference = next(iter(rollout.inference_calls.values()))

    assert len(rollout.inference_calls) == 1
    assert inference.thread_id == "thread-root"
    assert inference.codex_turn_id == "turn-1"
    assert inference.execution.status == "completed"
    assert inference.upstream_request_id == "resp-1"
    assert len(rollout.raw_payloads) == 2
