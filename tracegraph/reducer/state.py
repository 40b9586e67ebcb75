"""What every reducer domain shares: the trace being built, evidence, peers.

Each domain (threads, conversation, inference, tools, terminals, agents, code
cells, compaction) is a :class:`Domain`: it owns its own indexes and queues and
answers other domains only through named methods. What they share is here:
the ``RolloutTrace`` under construction (the output, as the reference's
``TraceReducer.rollout`` is), payload reading, the dialect switch and the
thread/turn checks every domain makes.

The reference answers most lookups by scanning every conversation item, tool
call or inference call in key order. tracegraph keeps indexes instead so replay
stays near-linear on long rollouts; every index lookup that feeds an ordered
result is sorted by key, which reproduces the ``BTreeMap`` iteration order the
reference sees (byte order: ``conversation_item:10`` before ``conversation_item:2``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracegraph.bundle.reader import TraceBundle
from tracegraph.errors import BundleError, TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.rollout import REDUCED_TRACE_SCHEMA_VERSION, RolloutTrace
from tracegraph.model.session import AgentThread

if TYPE_CHECKING:
    from tracegraph.reducer.agents import AgentsReducer
    from tracegraph.reducer.code_cell import CodeCellReducer
    from tracegraph.reducer.compaction import CompactionReducer
    from tracegraph.reducer.conversation import ConversationReducer
    from tracegraph.reducer.inference import InferenceReducer
    from tracegraph.reducer.terminal import TerminalReducer
    from tracegraph.reducer.thread import ThreadReducer
    from tracegraph.reducer.tool import ToolReducer

__all__ = ["Domain", "Peers", "ReplayContext", "extend_unique", "push_unique"]


class ReplayContext:
    """The trace under construction and the bundle evidence behind it."""

    def __init__(
        self, bundle: TraceBundle, dialect: Dialect = Dialect.SEED, lenient: bool = False
    ) -> None:
        manifest = bundle.manifest
        self.bundle = bundle
        #: Upstream rules (see ``upstream-delta.md``) instead of the seed's.
        self.upstream = dialect is Dialect.UPSTREAM
        #: Lenient mode: types of the unknown model items kept as opaque items, in
        #: the order met (``None``: unknown items are an error).
        self.opaque_item_types: list[str] | None = [] if lenient else None
        self.rollout = RolloutTrace(
            schema_version=REDUCED_TRACE_SCHEMA_VERSION,
            trace_id=manifest.trace_id,
            rollout_id=manifest.rollout_id,
            root_thread_id=manifest.root_thread_id,
            started_at_unix_ms=manifest.started_at_unix_ms,
        ).with_dialect(dialect)
        #: The payload last read during the current event (see read_payload_json).
        self._last_payload: tuple[tuple[str, str], Any] | None = None

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

    def begin_event(self, payloads: list[RawPayloadRef]) -> None:
        """Start reducing an event: forget the last payload read, record its payload refs."""
        self._last_payload = None
        raw_payloads = self.rollout.raw_payloads
        for payload in payloads:
            raw_payloads[payload.raw_payload_id] = payload


class Peers:
    """The domains of one replay, by name; each domain reaches the others here."""

    threads: ThreadReducer
    conversation: ConversationReducer
    inference: InferenceReducer
    tools: ToolReducer
    terminals: TerminalReducer
    agents: AgentsReducer
    code_cells: CodeCellReducer
    compaction: CompactionReducer


class Domain:
    """One reducer domain. Its own state lives in its ``__init__``, nowhere else."""

    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        self.context = context
        self.peers = peers
        #: The shared output; every domain writes its own maps of it.
        self.rollout = context.rollout
        self.upstream = context.upstream

    def read_payload_json(self, payload: RawPayloadRef) -> Any:
        return self.context.read_payload_json(payload)

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
