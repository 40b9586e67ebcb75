"""Reducer state shared by the domain modules, and the indexes over it.

The reference answers most lookups by scanning every conversation item, tool
call or inference call in key order. tracegraph keeps indexes instead so replay
stays near-linear on long rollouts; every index lookup that feeds an ordered
result is sorted by key, which reproduces the ``BTreeMap`` iteration order the
reference sees (byte order: ``conversation_item:10`` before ``conversation_item:2``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tracegraph.bundle.reader import TraceBundle
from tracegraph.errors import BundleError, TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.rollout import REDUCED_TRACE_SCHEMA_VERSION, RolloutTrace
from tracegraph.model.session import AgentThread
from tracegraph.reducer.parts import BodyKey, Part


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
    #: Mailbox delivery this item carries: (recipient agent path, matched content).
    delivery: tuple[str, str] | None = None


@dataclass(slots=True)
class PendingCodeCellStart:
    seq: int
    wall_time_unix_ms: int
    thread_id: str
    codex_turn_id: str | None
    code_cell_id: str
    runtime_cell_id: str
    model_visible_call_id: str
    source_js: str


@dataclass(slots=True)
class PendingCodeCellLifecycleEvent:
    seq: int
    wall_time_unix_ms: int
    #: ``"initial_response"`` or ``"ended"``.
    kind: str
    status: str
    runtime_cell_id: str | None = None


@dataclass(slots=True)
class PendingAgentInteractionEdge:
    """Agent delivery waiting for the recipient-side conversation item."""

    edge_id: str
    kind: str
    source: Any
    target_thread_id: str
    message_content: str
    #: Spawn-only fallback for children that fail before their task is model-visible.
    unresolved_spawn_thread_id: str | None
    started_at_unix_ms: int
    ended_at_unix_ms: int | None
    carried_raw_payload_ids: list[str] = field(default_factory=list)


def sorted_ids(ids: Any) -> list[str]:
    return sorted(ids)


class ReducerState:
    """Everything one replay accumulates; the domain mixins operate on it."""

    def __init__(self, bundle: TraceBundle, dialect: Dialect = Dialect.SEED) -> None:
        manifest = bundle.manifest
        self.bundle = bundle
        self.dialect = dialect
        #: Upstream rules (see ``upstream-delta.md``) instead of the seed's.
        self.upstream = dialect is Dialect.UPSTREAM
        self.rollout = RolloutTrace(
            schema_version=REDUCED_TRACE_SCHEMA_VERSION,
            trace_id=manifest.trace_id,
            rollout_id=manifest.rollout_id,
            root_thread_id=manifest.root_thread_id,
            started_at_unix_ms=manifest.started_at_unix_ms,
        ).with_dialect(dialect)
        self.next_conversation_item_ordinal = 1
        self.next_terminal_operation_ordinal = 1
        #: Last model-visible snapshot per thread (requests and responses advance it).
        self.thread_conversation_snapshots: dict[str, list[str]] = {}
        #: Replacement history installed by compaction, not yet seen in a full request.
        self.pending_compaction_replacement_item_ids: dict[str, list[str]] = {}
        #: (thread, runtime cell id) -> reduced code cell id; runtime ids repeat across threads.
        self.code_cell_ids_by_runtime: dict[tuple[str, str], str] = {}
        #: Code-cell starts waiting for their model-visible ``custom_tool_call`` item.
        self.pending_code_cell_starts: dict[str, PendingCodeCellStart] = {}
        self.pending_code_cell_lifecycle_events: dict[str, list[PendingCodeCellLifecycleEvent]] = {}
        self.pending_agent_interaction_edges: list[PendingAgentInteractionEdge] = []

        # Indexes (see module docstring).
        self.item_facts: dict[str, ItemFacts] = {}
        self.items_by_call_id: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        self.reasoning_items_by_blob: defaultdict[tuple[str, str, str], list[str]] = (
            defaultdict(list)
        )
        self.assistant_messages_by_turn: defaultdict[tuple[str, str], list[str]] = (
            defaultdict(list)
        )
        self.thread_item_sets: defaultdict[str, set[str]] = defaultdict(set)
        #: (thread, delivered content) -> thread items that carry that mailbox message.
        self.inter_agent_items: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        self.tools_by_model_visible_call_id: defaultdict[str, list[str]] = defaultdict(list)
        self.tools_by_requester_cell: defaultdict[str, list[str]] = defaultdict(list)
        self.inferences_by_response_item: defaultdict[str, set[str]] = defaultdict(set)
        #: (thread, id) -> calls; the seed resolves previous_response_id through
        #: upstream_request_id, upstream through response_id.
        self.inferences_by_upstream_id: defaultdict[tuple[str, str], set[str]] = (
            defaultdict(set)
        )
        self.inferences_by_response_id: defaultdict[tuple[str, str], set[str]] = (
            defaultdict(set)
        )
        self.inferences_by_turn: defaultdict[str, list[str]] = defaultdict(list)
        self.code_cells_by_turn: defaultdict[str, list[str]] = defaultdict(list)
        self.compaction_requests_by_compaction: defaultdict[str, list[str]] = defaultdict(list)
        self.edge_target_items: set[str] = set()
        self.edges_by_source_tool: defaultdict[str, set[str]] = defaultdict(set)
        self._last_payload: tuple[tuple[str, str], Any] | None = None

    # -- evidence -------------------------------------------------------------

    def read_payload_json(self, payload: RawPayloadRef) -> Any:
        """Parse a payload file; typed replay needs a few of its fields.

        One event may read the same payload twice (a ``write_stdin`` invocation is
        both a terminal request and a possible ``wait``), so the last read is
        kept until the next event. Callers only read the parsed value.
        """
        key = (payload.raw_payload_id, payload.path)
        if self._last_payload is not None and self._last_payload[0] == key:
            return self._last_payload[1]
        try:
            value = self.bundle.read_payload(payload)
        except BundleError as err:
            raise TraceError(str(err)) from err
        self._last_payload = (key, value)
        return value

    def forget_payloads(self) -> None:
        """Drop the payload kept by :meth:`read_payload_json` (called per event)."""
        self._last_payload = None

    def insert_raw_payload(self, payload: RawPayloadRef) -> None:
        self.rollout.raw_payloads[payload.raw_payload_id] = payload

    # -- shared lookups -------------------------------------------------------

    def items_with_call_id(self, thread_id: str, call_id: str, kinds: tuple[str, ...]) -> list[str]:
        """The thread's items with this model-visible call id and one of ``kinds``, key order."""
        return sorted(
            item_id
            for item_id in self.items_by_call_id.get((thread_id, call_id), ())
            if self.item_facts[item_id].kind in kinds
        )

    def check_turn(self, subject: str, thread_id: str, codex_turn_id: str | None) -> None:
        """The thread exists and, when given, the turn exists and belongs to it."""
        if thread_id not in self.rollout.threads:
            raise TraceError(f"{subject} referenced unknown thread {thread_id}")
        if codex_turn_id is None:
            return
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if turn is None:
            raise TraceError(f"{subject} referenced unknown Codex turn {codex_turn_id}")
        if turn.thread_id != thread_id:
            raise TraceError(
                f"{subject} used thread {thread_id}, but Codex turn {codex_turn_id} "
                f"belongs to {turn.thread_id}"
            )

    def thread_mut(self, thread_id: str) -> AgentThread:
        thread = self.rollout.threads.get(thread_id)
        if thread is None:
            raise TraceError(f"trace event referenced unknown thread {thread_id}")
        return thread


def push_unique(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def extend_unique(items: list[str], new_items: list[str]) -> None:
    for item in new_items:
        if item not in items:
            items.append(item)
