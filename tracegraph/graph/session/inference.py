"""The inference calls of one thread, from the token usage its file records.

A session file has no request/response pairs, only usage: a ``token_usage_record``
per response (newest files), else the ``token_count`` events, whose re-emitted rows
(totals that did not advance) are dropped and counted. :class:`ThreadInference`
makes each an InferenceCall that RESPONDED_WITH the model items written since the
previous one, with the model of the last ``turn_context`` unless the row names one.
"""

from __future__ import annotations

from typing import Any

from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.session.builder import RolloutBuilder
from tracegraph.graph.session.turns import ThreadTurns
from tracegraph.graph.session.vocabulary import int_or_none, text_or_none
from tracegraph.sessions.group import ThreadSource
from tracegraph.sessions.lines import Record

__all__ = ["ThreadInference"]


class ThreadInference:
    """One thread's inference calls, and the model items awaiting theirs."""

    def __init__(self, builder: RolloutBuilder, index: int, source: ThreadSource,
                 turns: ThreadTurns) -> None:
        self.builder = builder
        self.index = index
        self.thread_id = source.thread_id
        self.turns = turns
        self.model: str | None = None
        #: The first model a ``turn_context`` named (the Thread's ``default_model``).
        self.default_model: str | None = None
        self.provider = text_or_none(source.meta.get("model_provider"))
        self.last_total: int | None = None
        #: Re-emitted ``token_count`` rows left out.
        self.dropped = 0
        self.inferences = 0
        #: With usage records, the ``token_count`` rows only repeat them.
        self.has_usage_records = any(r.type == "token_usage_record" for r in source.own)
        #: Model items since the last inference call: the next one's response.
        self.pending: list[str] = []
        #: Inference call whose response held each item.
        self.responded_by: dict[str, str] = {}

    def use_model(self, model: str | None) -> None:
        """A ``turn_context``'s model: the one later inference calls ran on."""
        if model is not None:
            self.model = model
            if self.default_model is None:
                self.default_model = model

    def note_response_item(self, item: str) -> None:
        self.pending.append(item)

    def on_token_count(self, record: Record) -> None:
        """A ``token_count`` event (read only in files without usage records)."""
        if self.has_usage_records:
            return
        info = record.payload.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
            return
        totals = info["total_token_usage"]
        total = int_or_none(totals.get("total_tokens"))
        if total is None:
            total = sum(int_or_none(totals.get(name)) or 0
                        for name in ("input_tokens", "output_tokens"))
        if self.last_total is not None and total == self.last_total:
            self.dropped += 1  # re-emitted: the totals did not advance
            return
        last = info.get("last_token_usage")
        if not isinstance(last, dict):
            last = totals if self.last_total is None else {
                name: (int_or_none(totals.get(name)) or 0) for name in totals}
        self.last_total = total
        self.add(record, last, None, "token_count", None, None)

    def on_token_usage_record(self, record: Record) -> None:
        payload = record.payload
        usage = payload.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        attribution = payload.get("attribution")
        attribution = attribution if isinstance(attribution, dict) else {}
        self.add(record, usage, text_or_none(payload.get("response_id")), "token_usage_record",
                 text_or_none(payload.get("turn_id")), attribution,
                 ended_at=int_or_none(payload.get("completed_at_ms")))

    def add(self, record: Record, usage: dict[str, Any], response_id: str | None,
            source: str, turn_id: str | None, attribution: dict[str, Any] | None,
            ended_at: int | None = None) -> None:
        self.inferences += 1
        inference_id = self.builder.unique(response_id or f"{self.thread_id}:inference:"
                                           f"{self.inferences}", self.thread_id)
        turn_id = turn_id or self.turns.current_id
        seq = self.builder.seq(self.index, record.line)
        response = self.pending
        self.pending = []
        starts = [self.builder.node_data(Label.CONVERSATION_ITEM, item)["line"]
                  for item in response]
        started_seq = (self.builder.seq(self.index, min(starts)) if starts else seq)
        attribution = attribution or {}
        self.builder.node(
            Label.INFERENCE_CALL, inference_id, thread_id=self.thread_id, codex_turn_id=turn_id,
            model=text_or_none(attribution.get("model")) or self.model,
            provider_name=text_or_none(attribution.get("model_provider")) or self.provider,
            response_id=response_id,
            input_tokens=int_or_none(usage.get("input_tokens")),
            cached_input_tokens=int_or_none(usage.get("cached_input_tokens")),
            output_tokens=int_or_none(usage.get("output_tokens")),
            reasoning_output_tokens=int_or_none(usage.get("reasoning_output_tokens")),
            total_tokens=int_or_none(usage.get("total_tokens")), usage_source=source,
            status="completed", started_seq=started_seq,
            ended_at_unix_ms=ended_at or record.timestamp_ms, ended_seq=seq,
        )
        this = (Label.INFERENCE_CALL, inference_id)
        self.turns.contain(this, turn_id)
        for position, item in enumerate(response):
            self.builder.edge(Rel.RESPONDED_WITH, this, (Label.CONVERSATION_ITEM, item),
                              "usage_boundary", position=position)
            self.responded_by[item] = inference_id
