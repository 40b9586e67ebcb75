"""Inference call lifecycle: the runtime envelope around model-facing payloads.

Request/response normalization lives in the conversation module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracegraph.errors import TraceError
from tracegraph.model.conversation import InferenceCall
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.session import ExecutionStatus, running_window
from tracegraph.reducer.state import ReducerState


class InferenceReducer(ReducerState):
    if TYPE_CHECKING:

        def reduce_inference_request(
            self, wall_time_unix_ms: int, inference_call_id: str, thread_id: str,
            codex_turn_id: str, request_payload: RawPayloadRef,
        ) -> list[str]: ...

        def reduce_inference_response(
            self, wall_time_unix_ms: int, inference_call_id: str, response_payload: RawPayloadRef
        ) -> list[str]: ...

    def start_inference_call(
        self,
        seq: int,
        wall_time_unix_ms: int,
        inference_call_id: str,
        thread_id: str,
        codex_turn_id: str,
        model: str,
        provider_name: str,
        request_payload: RawPayloadRef,
    ) -> None:
        """Start a call; it is inserted only after its request snapshot is reduced."""
        if inference_call_id in self.rollout.inference_calls:
            raise TraceError(f"duplicate inference start for {inference_call_id}")
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(
                f"inference start {inference_call_id} referenced unknown codex turn {codex_turn_id}"
            )
        if turn.thread_id != thread_id:
            raise TraceError(
                f"inference start {inference_call_id} used thread {thread_id}, "
                f"but codex turn {codex_turn_id} belongs to {turn.thread_id}"
            )
        request_item_ids = self.reduce_inference_request(
            wall_time_unix_ms, inference_call_id, thread_id, codex_turn_id, request_payload
        )
        self.thread_mut(thread_id)
        self.rollout.inference_calls[inference_call_id] = InferenceCall(
            inference_call_id=inference_call_id,
            thread_id=thread_id,
            codex_turn_id=codex_turn_id,
            execution=running_window(wall_time_unix_ms, seq),
            model=model,
            provider_name=provider_name,
            request_item_ids=request_item_ids,
            raw_request_payload_id=request_payload.raw_payload_id,
        )

    def complete_inference_call(
        self,
        seq: int,
        wall_time_unix_ms: int,
        inference_call_id: str,
        status: ExecutionStatus,
        response_id: str | None,
        response_payload: RawPayloadRef | None,
    ) -> None:
        """End a call and, when a (partial) response exists, reduce its output items."""
        if inference_call_id not in self.rollout.inference_calls:
            raise TraceError(f"inference completion referenced unknown call {inference_call_id}")
        response_item_ids = (
            self.reduce_inference_response(wall_time_unix_ms, inference_call_id, response_payload)
            if response_payload is not None
            else None
        )
        inference = self.rollout.inference_calls[inference_call_id]
        inference.execution.ended_at_unix_ms = wall_time_unix_ms
        inference.execution.ended_seq = seq
        inference.execution.status = status
        self._set_upstream_request_id(inference, response_id)
        inference.raw_response_payload_id = (
            response_payload.raw_payload_id if response_payload is not None else None
        )
        if response_item_ids is not None:
            for item_id in inference.response_item_ids:
                self.inferences_by_response_item[item_id].discard(inference_call_id)
            inference.response_item_ids = response_item_ids
            for item_id in response_item_ids:
                self.inferences_by_response_item[item_id].add(inference_call_id)

    def _set_upstream_request_id(self, inference: InferenceCall, response_id: str | None) -> None:
        old = inference.upstream_request_id
        if old is not None:
            self.inferences_by_upstream_id[(inference.thread_id, old)].discard(
                inference.inference_call_id
            )
        inference.upstream_request_id = response_id
        if response_id is not None:
            self.inferences_by_upstream_id[(inference.thread_id, response_id)].add(
                inference.inference_call_id
            )

    def inference_for_previous_response(self, thread_id: str, response_id: str) -> str | None:
        """First call (key order) of the thread whose upstream id is ``response_id``."""
        candidates = self.inferences_by_upstream_id.get((thread_id, response_id))
        return min(candidates) if candidates else None
