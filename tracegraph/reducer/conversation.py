"""Conversation reduction from model-facing payload snapshots.

Inference request inputs and response outputs are both conversation: they are
what was exchanged with the model. Runtime observations (local tool output)
stay outside the transcript until a later model-facing payload carries them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tracegraph.bundle import events as ev
from tracegraph.errors import TraceError
from tracegraph.model.conversation import (
    CompactionProducer,
    ConversationItem,
    InferenceProducer,
)
from tracegraph.model.payload import RawPayloadRef
from tracegraph.reducer import normalize
from tracegraph.reducer.normalize import MISSING, NormalizedItem, get
from tracegraph.reducer.parts import (
    BodyKey,
    Part,
    body_fields,
    body_key,
    body_model,
    encoded_part,
    merge_upstream_reasoning,
    readable_parts,
    reasoning_body_matches,
)
from tracegraph.reducer.protocol import parse_inter_agent_communication
from tracegraph.reducer.state import Domain, Peers, ReplayContext

__all__ = ["ConversationReducer", "ItemFacts", "ReconcileMode", "ReducedCompactionCheckpoint"]


@dataclass(slots=True)
class ItemFacts:
    """Matching facts of one conversation item, kept beside the public model."""

    thread_id: str
    role: str
    channel: str | None
    kind: str
    call_id: str | None
    parts: tuple[Part, ...]
    body_key: BodyKey
    #: ``(author, recipient)`` of a typed ``agent_message`` item (upstream).
    agent_message: tuple[str, str] | None = None
    #: Mailbox delivery this item carries: (author, recipient agent path, matched content).
    delivery: tuple[str, str, str] | None = None


#: ``ConversationItem.model_validate`` without its keyword-forwarding wrapper (a tenth
#: of the cost of building an item; the validator is the same).
_validate_item = ConversationItem.__pydantic_validator__.validate_python


class ReconcileMode(Enum):
    #: Full requests are authoritative snapshots: the prompt builder may reorder
    #: or replace history, so identity is "same content, reused at most once".
    FULL_SNAPSHOT = "full_snapshot"
    #: Incremental deltas and response outputs append to a known prefix; a
    #: mismatch at an occupied position means the prefix is wrong.
    APPEND_ONLY = "append_only"


@dataclass(slots=True)
class ReducedCompactionCheckpoint:
    """Marker records the boundary; replacement items are the new live history."""

    input_item_ids: list[str]
    marker_item_id: str
    replacement_item_ids: list[str]


def _facts_match(
    facts: ItemFacts, item: NormalizedItem, item_key: Any, *, upstream: bool = False
) -> bool:
    if facts.role != item.role or facts.channel != item.channel or facts.kind != item.kind:
        return False
    # Upstream identity also covers agent_message metadata (always None in the seed).
    if facts.call_id != item.call_id or facts.agent_message != item.agent_message:
        return False
    if facts.kind == "reasoning":
        return reasoning_body_matches(facts.parts, item.parts, loose=upstream)
    return facts.body_key == item_key


def _candidate_key(kind: str, parts: tuple[Any, ...], key: Any) -> Any:
    """Bucket for snapshot search: reasoning with a blob matches on the blob."""
    if kind == "reasoning":
        blob = encoded_part(parts)
        if blob is not None:
            return ("blob", blob)
    return ("body", key)


class ConversationReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Ordinal of the next ``conversation_item:N``: ids follow creation order, never reused.
        self._next_item_ordinal = 1
        #: Last model-visible conversation snapshot per thread.
        #:
        #: Requests and responses both advance this sequence because both are
        #: model-facing payloads. Repeated request snapshots reuse item IDs only
        #: when the same normalized item appears at the same position; identical
        #: content at a new position must remain a distinct conversation item.
        self._thread_snapshots: dict[str, list[str]] = {}
        #: Replacement snapshot installed by compaction but not yet seen in a
        #: sampling request.
        #:
        #: The first full request after compaction compares against the installed
        #: replacement history, not against the pre-compaction request. That keeps
        #: repeated prefix/context messages as fresh post-compaction items while
        #: still reusing the summary/replacement items that became live history.
        self._pending_replacements: dict[str, list[str]] = {}
        #: Matching facts of every item, by item id (the public model lacks them).
        self._facts: dict[str, ItemFacts] = {}
        #: (thread, model-visible call id) -> items carrying it, creation order.
        self._by_call_id: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        #: (thread, blob kind, blob) -> reasoning items carrying that encrypted blob.
        self._reasoning_by_blob: defaultdict[tuple[str, str, str], list[str]] = (
            defaultdict(list)
        )
        #: (thread, turn) -> assistant messages created in it (a child's result source).
        self._assistant_messages_by_turn: defaultdict[tuple[str, str], list[str]] = (
            defaultdict(list)
        )
        #: Items already in each thread's ``conversation_item_ids``.
        self._thread_item_sets: defaultdict[str, set[str]] = defaultdict(set)
        #: (thread, delivered content) -> thread items that carry that mailbox message.
        self._deliveries: defaultdict[tuple[str, str], list[str]] = defaultdict(list)

    # -- what other domains ask -------------------------------------------------

    def items_with_call_id(self, thread_id: str, call_id: str, kinds: tuple[str, ...]) -> list[str]:
        """The thread's items with this model-visible call id and one of ``kinds``, key order."""
        return sorted(
            item_id
            for item_id in self._by_call_id.get((thread_id, call_id), ())
            if self._facts[item_id].kind in kinds
        )

    def add_producer(self, item_id: str, producer: Any, during: str) -> None:
        """Record that ``producer`` (a tool, code cell, ...) produced the item, once."""
        item = self.rollout.conversation_items.get(item_id)
        if item is None:
            raise TraceError(f"conversation item {item_id} disappeared during {during}")
        if producer not in item.produced_by:
            item.produced_by.append(producer)

    def install_replacement_history(self, thread_id: str, item_ids: list[str]) -> None:
        """Compaction installed ``item_ids``; the next full request compares against them."""
        self._pending_replacements[thread_id] = list(item_ids)

    def delivery_to_own_thread(self, item_id: str) -> tuple[str, str, str] | None:
        """(thread, author, content) when the item is a mailbox delivery to its own thread."""
        facts = self._facts.get(item_id)
        if facts is None or facts.delivery is None:
            return None
        author, recipient, content = facts.delivery
        thread = self.rollout.threads.get(facts.thread_id)
        if thread is None or recipient != thread.agent_path:
            return None
        return facts.thread_id, author, content

    def delivery_items(self, thread_id: str, content: str, author: str | None = None) -> list[str]:
        """The thread's items that delivered mailbox message ``content``, in thread order.

        ``author`` (upstream) keeps only deliveries written by that agent path.
        """
        items = self._deliveries.get((thread_id, content), [])
        if author is None:
            return items
        return [item_id for item_id in items if self._delivery_author(item_id) == author]

    def _delivery_author(self, item_id: str) -> str:
        delivery = self._facts[item_id].delivery
        assert delivery is not None
        return delivery[0]

    def assistant_messages_in_turn(self, thread_id: str, codex_turn_id: str) -> list[str]:
        """Assistant message items created in the turn (not typed agent messages)."""
        return self._assistant_messages_by_turn.get((thread_id, codex_turn_id), [])

    # -- inference payloads ---------------------------------------------------

    def reduce_inference_request(
        self, wall_time_unix_ms: int, started: ev.InferenceStarted
    ) -> list[str]:
        """Reduce a request's input snapshot, reconciled against the thread's last one."""
        inference_call_id, thread_id = started.inference_call_id, started.thread_id
        codex_turn_id, request_payload = started.codex_turn_id, started.request_payload
        request_input_mode = started.request_input_mode
        payload = self.read_payload_json(request_payload)
        items = self._request_input_items(payload, request_payload)
        previous_response_id = get(payload, "previous_response_id")
        if not isinstance(previous_response_id, str):
            previous_response_id = None
        mode = request_input_mode.type if request_input_mode is not None else None
        if request_input_mode is not None and not isinstance(
            request_input_mode, ev.FullSnapshotInput
        ):
            recorded = request_input_mode.previous_response_id
            if previous_response_id != recorded:
                shown = previous_response_id if previous_response_id is not None else "null"
                raise TraceError(
                    f"incremental inference request {inference_call_id} recorded "
                    f"previous_response_id {recorded}, but payload previous_response_id was {shown}"
                )
        full_snapshot = mode == "full_snapshot" or (mode is None and previous_response_id is None)
        # The first full request after compaction compares against the installed
        # replacement history, so a reinjected prefix becomes fresh items.
        post_compaction_snapshot = (
            self._pending_replacements.get(thread_id) if full_snapshot else None
        )
        reconcile: tuple[Any, ...] = (items, thread_id, codex_turn_id, wall_time_unix_ms, [])
        if full_snapshot:
            request_item_ids = self._reconcile_items(
                *reconcile, start_index=0, mode=ReconcileMode.FULL_SNAPSHOT,
                snapshot_override=post_compaction_snapshot,
            )
        elif isinstance(request_input_mode, ev.IncrementalWithUntracedPrefixInput):
            assert previous_response_id is not None
            if self.peers.inference.inference_for_previous_response(
                thread_id, previous_response_id
            ) is not None:
                raise TraceError(
                    f"incremental inference request {inference_call_id} recorded untraced prefix "
                    f"for traced previous_response_id {previous_response_id}"
                )
            prefix_payload = request_input_mode.prefix_payload
            prefix_items = self._request_input_items(
                self.read_payload_json(prefix_payload), prefix_payload
            )
            prefix_ids = self._reconcile_items(
                prefix_items, thread_id, codex_turn_id, wall_time_unix_ms, [],
                start_index=0, mode=ReconcileMode.FULL_SNAPSHOT, snapshot_override=None,
            )
            # Compared against the prefix itself, every delta item is new.
            request_item_ids = [*prefix_ids, *self._reconcile_items(
                *reconcile, start_index=len(prefix_ids), mode=ReconcileMode.APPEND_ONLY,
                snapshot_override=prefix_ids,
            )]
        else:
            assert previous_response_id is not None
            # Follow-up requests may send only new input; rebuild the omitted
            # prefix from the previous request and response.
            previous = self.peers.inference.inference_for_previous_response(
                thread_id, previous_response_id
            )
            if previous is None:
                raise TraceError(
                    f"incremental inference request {inference_call_id} referenced unknown "
                    f"previous_response_id {previous_response_id}"
                )
            previous_call = self.rollout.inference_calls[previous]
            request_item_ids = [*previous_call.request_item_ids, *previous_call.response_item_ids]
            request_item_ids.extend(
                self._reconcile_items(
                    *reconcile, start_index=len(request_item_ids),
                    mode=ReconcileMode.APPEND_ONLY, snapshot_override=None,
                )
            )
        self.append_thread_conversation_items(thread_id, request_item_ids)
        if post_compaction_snapshot is not None:
            self._pending_replacements.pop(thread_id, None)
        self._thread_snapshots[thread_id] = list(request_item_ids)
        return request_item_ids

    def _request_input_items(self, payload: Any, request_payload: RawPayloadRef) -> list[NormalizedItem]:
        request_items = get(payload, "input")
        if request_items is MISSING:
            raise TraceError(
                f"inference request payload {request_payload.raw_payload_id} did not contain input"
            )
        if not isinstance(request_items, list):
            raise TraceError(
                f"inference request payload {request_payload.raw_payload_id} had non-array input"
            )
        return normalize.normalize_model_items(
            request_items, request_payload.raw_payload_id, upstream=self.upstream,
            opaque=self.context.opaque_item_types,
        )

    def reduce_inference_response(
        self,
        wall_time_unix_ms: int,
        inference_call_id: str,
        response_payload: RawPayloadRef,
    ) -> list[str]:
        """Response output is conversation at once: the model produced it."""
        payload = self.read_payload_json(response_payload)
        output_items = get(payload, "output_items")
        if not isinstance(output_items, list):
            raise TraceError(
                f"inference response payload {response_payload.raw_payload_id} did not contain "
                "output_items"
            )
        inference = self.rollout.inference_calls.get(inference_call_id)
        if inference is None:
            raise TraceError(f"inference response referenced unknown call {inference_call_id}")
        thread_id, codex_turn_id = inference.thread_id, inference.codex_turn_id
        items = normalize.normalize_model_items(
            output_items, response_payload.raw_payload_id, upstream=self.upstream,
            opaque=self.context.opaque_item_types,
        )
        append_at = len(self._thread_snapshots.get(thread_id, ()))
        response_item_ids = self._reconcile_items(
            items, thread_id, codex_turn_id, wall_time_unix_ms,
            [InferenceProducer(inference_call_id=inference_call_id)],
            start_index=append_at, mode=ReconcileMode.APPEND_ONLY, snapshot_override=None,
        )
        self.append_thread_conversation_items(thread_id, response_item_ids)
        self._thread_snapshots.setdefault(thread_id, []).extend(response_item_ids)
        token_usage = get(payload, "token_usage")
        usage = (
            normalize.token_usage_from_value(token_usage, upstream=self.upstream)
            if token_usage is not MISSING else None
        )
        if usage is not None:
            inference.usage = usage
        return response_item_ids

    def _reconcile_items(
        self,
        items: list[NormalizedItem],
        thread_id: str,
        codex_turn_id: str,
        wall_time_unix_ms: int,
        produced_by: list[Any],
        *,
        start_index: int,
        mode: ReconcileMode,
        snapshot_override: list[str] | None,
    ) -> list[str]:
        previous_snapshot = (
            snapshot_override
            if snapshot_override is not None
            else self._thread_snapshots.get(thread_id, [])
        )
        previous_snapshot = list(previous_snapshot)
        search = _SnapshotSearch(self, previous_snapshot)
        facts_by_id, upstream = self._facts, self.upstream
        full_snapshot = mode is ReconcileMode.FULL_SNAPSHOT
        item_ids: list[str] = []
        used: set[str] = set()
        for index, item in enumerate(items, start_index):
            item_key = body_key(item.parts)
            # The consistency checks only apply to call items and (seed) reasoning.
            if item.call_id is not None:
                self._ensure_call_id_consistency(thread_id, item, item_key)
            if item.kind == "reasoning" and not upstream:
                self._ensure_reasoning_consistency(thread_id, item)
            if index < len(previous_snapshot):
                previous_item_id = previous_snapshot[index]
                if _facts_match(facts_by_id[previous_item_id], item, item_key, upstream=upstream):
                    item_id = previous_item_id
                elif full_snapshot:
                    item_id = search.find(item, item_key, used) or self._create_conversation_item(
                        thread_id, codex_turn_id, wall_time_unix_ms, item, produced_by, item_key
                    )
                else:
                    raise TraceError(
                        f"model conversation mismatch while reducing turn {codex_turn_id} for "
                        f"thread {thread_id} at item index {index}: existing item "
                        f"{previous_item_id} does not match the current model payload item"
                    )
            elif full_snapshot:
                item_id = search.find(item, item_key, used) or self._create_conversation_item(
                    thread_id, codex_turn_id, wall_time_unix_ms, item, produced_by, item_key
                )
            else:
                item_id = self._create_conversation_item(
                    thread_id, codex_turn_id, wall_time_unix_ms, item, produced_by, item_key
                )
            self._link_sighting(item_id, item, produced_by)
            item_ids.append(item_id)
            used.add(item_id)
        self.peers.code_cells.flush_pending_code_cell_starts()
        return item_ids

    # -- compaction checkpoints -----------------------------------------------

    def reduce_compaction_checkpoint(
        self,
        wall_time_unix_ms: int,
        thread_id: str,
        codex_turn_id: str,
        compaction_id: str,
        checkpoint_payload: RawPayloadRef,
    ) -> ReducedCompactionCheckpoint:
        """Record input history, the boundary marker, then replacement history."""
        payload = self.read_payload_json(checkpoint_payload)
        input_history = self._required_array(payload, "input_history", checkpoint_payload)
        replacement_history = self._required_array(
            payload, "replacement_history", checkpoint_payload
        )
        payload_id = checkpoint_payload.raw_payload_id
        input_items = normalize.normalize_model_items(
            input_history, payload_id, upstream=self.upstream,
            opaque=self.context.opaque_item_types,
        )
        replacement_items = normalize.normalize_model_items(
            replacement_history, payload_id, upstream=self.upstream,
            opaque=self.context.opaque_item_types,
        )
        input_candidates = list(self._thread_snapshots.get(thread_id, []))
        input_item_ids = self._reconcile_detached_items(
            input_items, thread_id, codex_turn_id, wall_time_unix_ms, [], input_candidates
        )
        producer = CompactionProducer(compaction_id=compaction_id)
        # The marker body stays empty: the summary is its own (replacement) item,
        # and renderers must not mistake the boundary for prompt content.
        marker_item_id = self._create_conversation_item(
            thread_id, codex_turn_id, wall_time_unix_ms,
            NormalizedItem("assistant", None, "compaction_marker", (), None),
            [producer],
        )
        # Replacement history is a rewrite boundary: never reuse pre-compaction ids.
        replacement_item_ids = self._reconcile_detached_items(
            replacement_items, thread_id, codex_turn_id, wall_time_unix_ms, [producer], []
        )
        self.append_thread_conversation_items(thread_id, input_item_ids)
        self.append_thread_conversation_items(thread_id, [marker_item_id])
        self.append_thread_conversation_items(thread_id, replacement_item_ids)
        return ReducedCompactionCheckpoint(input_item_ids, marker_item_id, replacement_item_ids)

    @staticmethod
    def _required_array(payload: Any, key: str, raw_payload: RawPayloadRef) -> list[Any]:
        value = get(payload, key)
        if not isinstance(value, list):
            raise TraceError(
                f"compaction checkpoint payload {raw_payload.raw_payload_id} did not contain "
                f"array {key}"
            )
        return value

    def _reconcile_detached_items(
        self,
        items: list[NormalizedItem],
        thread_id: str,
        codex_turn_id: str,
        wall_time_unix_ms: int,
        produced_by: list[Any],
        candidates: list[str],
    ) -> list[str]:
        search = _SnapshotSearch(self, candidates)
        item_ids: list[str] = []
        used: set[str] = set()
        upstream = self.upstream
        for item in items:
            item_key = body_key(item.parts)
            if item.call_id is not None:
                self._ensure_call_id_consistency(thread_id, item, item_key)
            if item.kind == "reasoning" and not upstream:
                self._ensure_reasoning_consistency(thread_id, item)
            item_id = search.find(item, item_key, used) or self._create_conversation_item(
                thread_id, codex_turn_id, wall_time_unix_ms, item, produced_by, item_key
            )
            self._link_sighting(item_id, item, produced_by)
            item_ids.append(item_id)
            used.add(item_id)
        self.peers.code_cells.flush_pending_code_cell_starts()
        return item_ids

    # -- items ----------------------------------------------------------------

    def _link_sighting(self, item_id: str, item: NormalizedItem, produced_by: list[Any]) -> None:
        """Every sighting refreshes provenance and runtime links of the item."""
        self._update_item_from_sighting(item_id, item, produced_by)
        if item.call_id is not None:  # only call items link to tools and code cells
            self.peers.tools.attach_model_visible_tool_item(item_id, item.call_id, item.kind)
            self.peers.code_cells.attach_model_visible_code_cell_item(
                item_id, item.call_id, item.kind)
        self.peers.agents.resolve_pending_agent_edges_for_item(item_id)

    def _create_conversation_item(
        self,
        thread_id: str,
        codex_turn_id: str | None,
        first_seen_at_unix_ms: int,
        item: NormalizedItem,
        produced_by: list[Any],
        item_key: BodyKey | None = None,
    ) -> str:
        """Create the item; ``item_key`` is ``body_key(item.parts)`` when the caller has it."""
        item_id = f"conversation_item:{self._next_item_ordinal}"
        self._next_item_ordinal += 1
        agent_message = item.agent_message
        # One validation builds the item with its body, parts and metadata.
        self.rollout.conversation_items[item_id] = _validate_item({
            "item_id": item_id,
            "thread_id": thread_id,
            "codex_turn_id": codex_turn_id,
            "first_seen_at_unix_ms": first_seen_at_unix_ms,
            "role": item.role,
            "channel": item.channel,
            "kind": item.kind,
            "agent_message": (
                {"author": agent_message[0], "recipient": agent_message[1]}
                if agent_message is not None
                else None
            ),
            "body": body_fields(item.parts),
            "call_id": item.call_id,
            "produced_by": list(produced_by),
        })
        facts = ItemFacts(
            thread_id=thread_id,
            role=item.role,
            channel=item.channel,
            kind=item.kind,
            call_id=item.call_id,
            parts=item.parts,
            body_key=item_key if item_key is not None else body_key(item.parts),
            agent_message=item.agent_message,
        )
        self._facts[item_id] = facts
        if item.call_id is not None:
            self._by_call_id[(thread_id, item.call_id)].append(item_id)
        if item.kind == "reasoning":
            blob = encoded_part(item.parts)
            if blob is not None:
                self._reasoning_by_blob[(thread_id, *blob)].append(item_id)
        if item.role == "assistant" and item.kind == "message":
            # Inbound typed agent messages are deliveries, never a child's result.
            if codex_turn_id is not None and item.agent_message is None:
                self._assistant_messages_by_turn[(thread_id, codex_turn_id)].append(item_id)
            facts.delivery = self._mailbox_delivery(item)
        return item_id

    def _mailbox_delivery(self, item: NormalizedItem) -> tuple[str, str, str] | None:
        """(recipient path, content) when the item delivers a multi-agent message.

        Multi-agent v2 injects mailbox messages as assistant messages whose only
        text is a serialized InterAgentCommunication. Upstream also has typed
        ``agent_message`` items, and matches encrypted deliveries on the blob.
        """
        if item.agent_message is not None:
            author, recipient = item.agent_message
            if len(item.parts) == 1 and item.parts[0][0] in ("text", "encoded"):
                return author, recipient, item.parts[0][-1]
            # Plaintext envelope and encrypted delivery of the same message
            # (after #26210 and #27830): the encrypted value is what matches.
            if [part[0] for part in item.parts] == ["text", "encoded"]:
                return author, recipient, item.parts[1][-1]
            return None
        if len(item.parts) != 1 or item.parts[0][0] != "text":
            return None
        communication = parse_inter_agent_communication(
            item.parts[0][1], upstream=self.upstream
        )
        if communication is None:
            return None
        content = communication.content
        if self.upstream and communication.encrypted_content is not None:
            content = communication.encrypted_content
        return communication.author, communication.recipient, content

    def _update_item_from_sighting(
        self, item_id: str, item: NormalizedItem, produced_by: list[Any]
    ) -> None:
        conversation_item = self.rollout.conversation_items.get(item_id)
        if conversation_item is None:
            raise TraceError(f"conversation item {item_id} was referenced before it was created")
        facts = self._facts[item_id]
        if facts.kind == "reasoning":
            self._merge_reasoning_body(item_id, facts, item)
        if produced_by:
            existing = conversation_item.produced_by
            for producer in produced_by:
                if producer not in existing:
                    existing.append(producer)

    def _merge_reasoning_body(self, item_id: str, facts: ItemFacts, item: NormalizedItem) -> None:
        if facts.body_key == body_key(item.parts):
            return
        if self.upstream:
            if encoded_part(facts.parts) != encoded_part(item.parts):
                raise TraceError(
                    "reasoning item merge attempted with different encrypted_content identity"
                )
            merged = merge_upstream_reasoning(facts.parts, item.parts)
            if merged != facts.parts:
                facts.parts = merged
                facts.body_key = body_key(merged)
                self.rollout.conversation_items[item_id].body = body_model(merged)
            return
        if not reasoning_body_matches(facts.parts, item.parts):
            raise TraceError("reasoning encrypted_content was reused with different readable content")
        # Keep the readable form once any sighting provides it.
        if not readable_parts(facts.parts) and readable_parts(item.parts):
            facts.parts = item.parts
            facts.body_key = body_key(item.parts)
            self.rollout.conversation_items[item_id].body = body_model(item.parts)

    def append_thread_conversation_items(self, thread_id: str, item_ids: list[str]) -> None:
        thread = self.thread_mut(thread_id)
        seen = self._thread_item_sets[thread_id]
        if seen.issuperset(item_ids):  # a follow-up request resends the whole known history
            return
        for item_id in item_ids:
            if item_id in seen:
                continue
            seen.add(item_id)
            thread.conversation_item_ids.append(item_id)
            facts = self._facts[item_id]
            if facts.delivery is not None:
                _, recipient, content = facts.delivery
                owner = self.rollout.threads.get(facts.thread_id)
                if owner is not None and recipient == owner.agent_path:
                    self._deliveries[(thread_id, content)].append(item_id)

    def _ensure_call_id_consistency(self, thread_id: str, item: NormalizedItem, item_key: Any) -> None:
        if item.call_id is None:
            return
        for existing_id in self._by_call_id.get((thread_id, item.call_id), ()):
            facts = self._facts[existing_id]
            if facts.kind == item.kind and not _facts_match(
                facts, item, item_key, upstream=self.upstream
            ):
                raise TraceError(
                    f"model-visible call id {item.call_id} was reused with different content"
                )

    def _ensure_reasoning_consistency(self, thread_id: str, item: NormalizedItem) -> None:
        # Upstream dropped this check: one blob may carry different readable text.
        if item.kind != "reasoning" or self.upstream:
            return
        blob = encoded_part(item.parts)
        if blob is None:
            return
        for existing_id in self._reasoning_by_blob.get((thread_id, *blob), ()):
            facts = self._facts[existing_id]
            if facts.channel == item.channel and not reasoning_body_matches(
                facts.parts, item.parts
            ):
                raise TraceError(
                    "reasoning encrypted_content was reused with different readable content"
                )


class _SnapshotSearch:
    """First unused snapshot item matching an incoming item, in snapshot order."""

    def __init__(self, reducer: ConversationReducer, snapshot: list[str]) -> None:
        self._reducer = reducer
        self._snapshot = snapshot
        self._buckets: dict[Any, list[str]] | None = None

    def find(self, item: NormalizedItem, item_key: Any, used: set[str]) -> str | None:
        if not self._snapshot:
            return None
        if self._buckets is None:
            self._buckets = {}
            for snapshot_id in self._snapshot:
                facts = self._reducer._facts[snapshot_id]
                key = _candidate_key(facts.kind, facts.parts, facts.body_key)
                self._buckets.setdefault(key, []).append(snapshot_id)
        facts_by_id = self._reducer._facts
        for candidate in self._buckets.get(_candidate_key(item.kind, item.parts, item_key), ()):
            if candidate not in used and _facts_match(
                facts_by_id[candidate], item, item_key, upstream=self._reducer.upstream
            ):
                return candidate
        return None
