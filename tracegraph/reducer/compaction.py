"""Remote compaction lifecycle: requests and checkpoint installation.

Transcript effects of a checkpoint are reduced by the conversation module,
which shares the normalization and reuse rules with inference requests.
"""

from __future__ import annotations

from collections import defaultdict

from tracegraph.bundle import events as ev
from tracegraph.errors import TraceError
from tracegraph.model.runtime import Compaction, CompactionRequest
from tracegraph.model.session import ExecutionStatus, running_window
from tracegraph.reducer.state import Domain, Peers, ReplayContext

__all__ = ["CompactionReducer"]


class CompactionReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Compaction -> its request attempts in start order (an install lists them sorted).
        self._requests_by_compaction: defaultdict[str, list[str]] = defaultdict(list)

    def start_compaction_request(
        self, event: ev.RawTraceEvent, started: ev.CompactionRequestStarted
    ) -> None:
        compaction_request_id, thread_id = started.compaction_request_id, started.thread_id
        codex_turn_id = started.codex_turn_id
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
            compaction_id=started.compaction_id,
            thread_id=thread_id,
            codex_turn_id=codex_turn_id,
            execution=running_window(event.wall_time_unix_ms, event.seq),
            model=started.model,
            provider_name=started.provider_name,
            raw_request_payload_id=started.request_payload.raw_payload_id,
        )
        self._requests_by_compaction[started.compaction_id].append(compaction_request_id)

    def complete_compaction_request(
        self,
        event: ev.RawTraceEvent,
        ended: ev.CompactionRequestCompleted | ev.CompactionRequestFailed,
    ) -> None:
        """End a request attempt; history changes only when a checkpoint is installed."""
        compaction_id, compaction_request_id = ended.compaction_id, ended.compaction_request_id
        if isinstance(ended, ev.CompactionRequestCompleted):
            status, response_payload = ExecutionStatus.COMPLETED, ended.response_payload
        else:
            status, response_payload = ExecutionStatus.FAILED, None
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
        request.execution.end(event.wall_time_unix_ms, event.seq, status)
        request.raw_response_payload_id = (
            response_payload.raw_payload_id if response_payload is not None else None
        )

    def reduce_compaction_installed_event(
        self, event: ev.RawTraceEvent, installed: ev.CompactionInstalled
    ) -> None:
        """Install a checkpoint: replacement history becomes the live history."""
        compaction_id = installed.compaction_id
        thread_id, codex_turn_id = event.thread_id, event.codex_turn_id
        if thread_id is None:
            raise TraceError(
                f"compaction installed event {compaction_id} did not include a thread id"
            )
        if codex_turn_id is None:
            raise TraceError(
                f"compaction installed event {compaction_id} did not include a codex turn id"
            )
        wall_time_unix_ms = event.wall_time_unix_ms
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
        checkpoint = self.peers.conversation.reduce_compaction_checkpoint(
            wall_time_unix_ms, thread_id, codex_turn_id, compaction_id,
            installed.checkpoint_payload,
        )
        request_ids = sorted(self._requests_by_compaction.get(compaction_id, ()))
        self.peers.conversation.install_replacement_history(
            thread_id, checkpoint.replacement_item_ids
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
