"""Remote compaction lifecycle: requests and checkpoint installation.

Transcript effects of a checkpoint are reduced by the conversation module,
which shares the normalization and reuse rules with inference requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracegraph.errors import TraceError
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import Compaction, CompactionRequest
from tracegraph.model.session import ExecutionStatus, running_window
from tracegraph.reducer.state import ReducerState

if TYPE_CHECKING:
    from tracegraph.reducer.conversation import ReducedCompactionCheckpoint


class CompactionReducer(ReducerState):
    if TYPE_CHECKING:

        def reduce_compaction_checkpoint(
            self, wall_time_unix_ms: int, thread_id: str, codex_turn_id: str,
            compaction_id: str, checkpoint_payload: RawPayloadRef,
        ) -> ReducedCompactionCheckpoint: ...

    def start_compaction_request(
        self,
        seq: int,
        wall_time_unix_ms: int,
        compaction_id: str,
        compaction_request_id: str,
        thread_id: str,
        codex_turn_id: str,
        model: str,
        provider_name: str,
        request_payload: RawPayloadRef,
    ) -> None:
        if compaction_request_id in self.rollout.compaction_requests:
            raise TraceError(f"duplicate compaction request start for {compaction_request_id}")
        self.thread_mut(thread_id)
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(
                f"compaction request {compaction_request_id} referenced unknown codex turn "
                f"{codex_turn_id}"
            )
        if turn.thread_id != thread_id:
            raise TraceError(
                f"compaction request {compaction_request_id} used thread {thread_id}, "
                f"but codex turn {codex_turn_id} belongs to {turn.thread_id}"
            )
        self.rollout.compaction_requests[compaction_request_id] = CompactionRequest(
            compaction_request_id=compaction_request_id,
            compaction_id=compaction_id,
            thread_id=thread_id,
            codex_turn_id=codex_turn_id,
            execution=running_window(wall_time_unix_ms, seq),
            model=model,
            provider_name=provider_name,
            raw_request_payload_id=request_payload.raw_payload_id,
        )
        self.compaction_requests_by_compaction[compaction_id].append(compaction_request_id)

    def complete_compaction_request(
        self,
        seq: int,
        wall_time_unix_ms: int,
        compaction_id: str,
        compaction_request_id: str,
        status: ExecutionStatus,
        response_payload: RawPayloadRef | None,
    ) -> None:
        """End a request attempt; history changes only when a checkpoint is installed."""
        request = self.rollout.compaction_requests.get(compaction_request_id)
        if request is None:
            raise TraceError(
                f"compaction request completion referenced unknown request {compaction_request_id}"
            )
        if request.compaction_id != compaction_id:
            raise TraceError(
                f"compaction request {compaction_request_id} completion used compaction "
                f"{compaction_id}, but start used {request.compaction_id}"
            )
        request.execution.ended_at_unix_ms = wall_time_unix_ms
        request.execution.ended_seq = seq
        request.execution.status = status
        request.raw_response_payload_id = (
            response_payload.raw_payload_id if response_payload is not None else None
        )

    def reduce_compaction_installed_event(
        self,
        wall_time_unix_ms: int,
        thread_id: str,
        codex_turn_id: str,
        compaction_id: str,
        checkpoint_payload: RawPayloadRef,
    ) -> None:
        """Install a checkpoint: replacement history becomes the live history."""
        if compaction_id in self.rollout.compactions:
            raise TraceError(f"duplicate compaction install for {compaction_id}")
        self.thread_mut(thread_id)
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(
                f"compaction install {compaction_id} referenced unknown codex turn {codex_turn_id}"
            )
        if turn.thread_id != thread_id:
            raise TraceError(
                f"compaction install {compaction_id} used thread {thread_id}, "
                f"but codex turn {codex_turn_id} belongs to {turn.thread_id}"
            )
        checkpoint = self.reduce_compaction_checkpoint(
            wall_time_unix_ms, thread_id, codex_turn_id, compaction_id, checkpoint_payload
        )
        request_ids = sorted(self.compaction_requests_by_compaction.get(compaction_id, ()))
        self.pending_compaction_replacement_item_ids[thread_id] = list(
            checkpoint.replacement_item_ids
        )
        self.rollout.compactions[compaction_id] = Compaction(
            compaction_id=compaction_id,
            thread_id=thread_id,
            codex_turn_id=codex_turn_id,
            installed_at_unix_ms=wall_time_unix_ms,
            marker_item_id=checkpoint.marker_item_id,
            request_ids=request_ids,
            input_item_ids=checkpoint.input_item_ids,
            replacement_item_ids=checkpoint.replacement_item_ids,
        )
