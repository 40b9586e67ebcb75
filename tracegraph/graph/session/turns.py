"""The turns of one thread: from turn events, or split at user messages (2025 files).

:class:`ThreadTurns` keeps a thread's turns and the one running, opens and closes
them from ``task_started``/``task_complete`` events (or, in files without turn
events, at each real user message), and adds the Turn nodes once the file has been
read, then the CONTAINS edges from each turn to what happened in it, held until then
because an edge needs both of its nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.session.builder import RolloutBuilder
from tracegraph.graph.session.vocabulary import (
    INJECTED_PREFIXES,
    int_or_none,
    seconds_to_ms,
    text_or_none,
)
from tracegraph.sessions.group import ThreadSource
from tracegraph.sessions.lines import Record

__all__ = ["ThreadTurns", "Turn"]


@dataclass(slots=True)
class Turn:
    """One turn as read so far."""

    turn_id: str
    started_at: int | None
    started_seq: int
    evidence: str
    ended_at: int | None = None
    ended_seq: int | None = None
    status: str = "running"
    duration_ms: int | None = None
    error: str | None = None
    inputs: list[str] = field(default_factory=list)
    #: Whether anything but user input has happened in the turn yet.
    began: bool = False


class ThreadTurns:
    """One thread's turns, in the order they started."""

    def __init__(self, builder: RolloutBuilder, index: int, source: ThreadSource) -> None:
        self.builder = builder
        self.index = index
        self.source = source
        self.thread_id = source.thread_id
        self.turns: dict[str, Turn] = {}
        #: The turn running now, if any.
        self.turn: Turn | None = None
        self.has_turn_events = any(
            r.type == "event_msg" and r.payload.get("type") in
            ("task_started", "turn_started", "task_complete", "turn_complete")
            for r in source.own)
        #: (turn id, object) pairs; turn nodes are added once the file has been read.
        self.deferred_contains: list[tuple[str, tuple[Label, str]]] = []

    def seq(self, record: Record) -> int:
        return self.builder.seq(self.index, record.line)

    @property
    def current_id(self) -> str | None:
        """The id of the turn running now, if any."""
        return self.turn.turn_id if self.turn else None

    def status_of(self, turn_id: str | None) -> str | None:
        """The status of a turn of this thread, ``None`` for no such turn."""
        turn = self.turns.get(turn_id or "")
        return turn.status if turn is not None else None

    def last_status(self) -> str | None:
        """The status of the last turn started, ``None`` without turns."""
        turns = list(self.turns.values())
        return turns[-1].status if turns else None

    # --- opening and closing ---------------------------------------------------

    def start(self, record: Record) -> None:
        """A ``task_started``/``turn_started`` event."""
        payload = record.payload
        self.finish_split(None, None)
        turn_id = text_or_none(payload.get("turn_id")) or f"{self.thread_id}:L{record.line}"
        started = seconds_to_ms(payload.get("started_at")) or record.timestamp_ms
        self.turn = self.turns.setdefault(
            turn_id, Turn(turn_id, started, self.seq(record), "turn_events"))

    def end(self, record: Record) -> None:
        """A ``task_complete``/``turn_complete``/``turn_aborted`` event."""
        payload = record.payload
        turn = self.turns.get(text_or_none(payload.get("turn_id")) or "") or self.turn
        if turn is None:
            return
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        status = ("aborted" if payload.get("type") == "turn_aborted"
                  else "failed" if error else "completed")
        turn.error = text_or_none(message)
        turn.duration_ms = int_or_none(payload.get("duration_ms"))
        self.close(turn, status, seconds_to_ms(payload.get("completed_at"))
                   or record.timestamp_ms, self.seq(record))

    def maybe_split(self, record: Record, text: str) -> None:
        """Files without turn events: each real user message starts a turn."""
        if self.has_turn_events or text.lstrip().startswith(INJECTED_PREFIXES):
            return
        self.finish_split(record.timestamp_ms, self.seq(record) - 1 or None)
        turn_id = f"{self.thread_id}:turn:{len(self.turns) + 1}"
        self.turn = self.turns.setdefault(
            turn_id, Turn(turn_id, record.timestamp_ms, self.seq(record), "user_message_split"))

    def close(self, turn: Turn, status: str, ended_at: int | None, ended_seq: int) -> None:
        turn.status, turn.ended_at, turn.ended_seq = status, ended_at, ended_seq
        if self.turn is turn:
            self.turn = None

    def finish_split(self, ended_at: int | None, ended_seq: int | None) -> None:
        """Close a split (2025) turn when the next one starts."""
        turn = self.turn
        if turn is None or turn.evidence != "user_message_split":
            return
        self.close(turn, "completed", ended_at, ended_seq or turn.started_seq)

    def finish_file(self, last_seq: int) -> None:
        """The file has been read: a split turn ends with its last line (``last_seq``),
        unless the file is still being written."""
        turn = self.turn
        if turn is None or turn.evidence != "user_message_split" or self.source.file.torn:
            return
        last = self.source.own[-1] if self.source.own else None
        self.close(turn, "completed", last.timestamp_ms if last else None,
                   last_seq or turn.started_seq)

    # --- what happens in the running turn -----------------------------------------

    def note_user_input(self, item: str) -> None:
        """A user message: the running turn's input, until anything else has happened."""
        turn = self.turn
        if turn is not None and not turn.began:
            turn.inputs.append(item)

    def note_activity(self) -> None:
        """Any other item: later user messages are no longer the turn's input."""
        if self.turn is not None:
            self.turn.began = True

    def contain(self, target: tuple[Label, str], turn_id: str | None) -> None:
        """In the thread now, and in its turn once the turn nodes exist."""
        self.builder.edge(Rel.CONTAINS, (Label.THREAD, self.thread_id), target, "thread_file")
        if turn_id is not None:
            self.deferred_contains.append((turn_id, target))

    def contain_later(self, turn_id: str, target: tuple[Label, str]) -> None:
        """In the turn, once the turn nodes exist (not in the thread itself)."""
        self.deferred_contains.append((turn_id, target))

    # --- the graph ------------------------------------------------------------------

    def add_to_graph(self) -> None:
        """The Turn nodes, HAS_TURN and TRIGGERED, then the deferred CONTAINS edges."""
        thread = (Label.THREAD, self.thread_id)
        for turn in self.turns.values():
            duration = turn.duration_ms
            if duration is None and turn.ended_at is not None and turn.started_at is not None:
                duration = turn.ended_at - turn.started_at
            self.builder.node(Label.TURN, turn.turn_id, thread_id=self.thread_id,
                              status=turn.status, started_at_unix_ms=turn.started_at,
                              started_seq=turn.started_seq, ended_at_unix_ms=turn.ended_at,
                              ended_seq=turn.ended_seq, duration_ms=duration, error=turn.error,
                              turn_evidence=turn.evidence)
            rule = "turn_id" if turn.evidence == "turn_events" else "user_message_split"
            self.builder.edge(Rel.HAS_TURN, thread, (Label.TURN, turn.turn_id), rule)
            for position, item in enumerate(turn.inputs):
                self.builder.edge(Rel.TRIGGERED, (Label.CONVERSATION_ITEM, item),
                                  (Label.TURN, turn.turn_id), "turn_start_user_message",
                                  position=position)
        for turn_id, target in self.deferred_contains:
            self.builder.edge(Rel.CONTAINS, (Label.TURN, turn_id), target, "turn_id")
