"""The event dispatcher and the replay entry points.

:class:`TraceReducer` sends each typed event to the domain that owns it (one
line per event type); :class:`Replayer` feeds it one event line at a time and
can say at any point what the trace would be if the log ended there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracegraph._gc import collector_paused
from tracegraph.bundle import events as ev
from tracegraph.bundle.limits import Limits
from tracegraph.bundle.reader import EventLine, SkippedEvent, TornLine, TraceBundle
from tracegraph.errors import BundleError, MissingPayloadError, TraceError, withhold_content
from tracegraph.model.dialect import Dialect
from tracegraph.model.rollout import RolloutTrace
from tracegraph.reducer.agents import AgentsReducer
from tracegraph.reducer.changes import ChangeLog
from tracegraph.reducer.code_cell import CodeCellReducer
from tracegraph.reducer.compaction import CompactionReducer
from tracegraph.reducer.conversation import ConversationReducer
from tracegraph.reducer.inference import InferenceReducer
from tracegraph.reducer.state import Peers, ReplayContext
from tracegraph.reducer.terminal import TerminalReducer
from tracegraph.reducer.thread import ThreadReducer
from tracegraph.reducer.tool import ToolReducer
from tracegraph.reducer.unknown import OpaqueItem, UnknownType, summarize_unknown

__all__ = ["Replay", "Replayer", "TraceReducer", "replay", "replay_bundle"]


class TraceReducer(Peers):
    """Deterministic replay of one bundle into a :class:`RolloutTrace`."""

    def __init__(
        self, bundle: TraceBundle, dialect: Dialect = Dialect.SEED, lenient: bool = False
    ) -> None:
        #: What every domain shares: the bundle, the dialect's rules and the output trace.
        self.context = ReplayContext(bundle, dialect, lenient)
        # One domain each (the ``Peers`` each domain reaches the others through): each
        # owns its state, and asks the others through their methods.
        self.threads = ThreadReducer(self.context, self)
        self.conversation = ConversationReducer(self.context, self)
        self.inference = InferenceReducer(self.context, self)
        self.tools = ToolReducer(self.context, self)
        self.terminals = TerminalReducer(self.context, self)
        self.agents = AgentsReducer(self.context, self)
        self.code_cells = CodeCellReducer(self.context, self)
        self.compaction = CompactionReducer(self.context, self)
        # One handler per event type (looked up by type: a long ``match`` of
        # class patterns costs a check per case, for every event).
        self._handlers: dict[type, Callable[[ev.RawTraceEvent, Any], None]] = {
            ev.RolloutStarted: self.threads.start_rollout,
            ev.RolloutEnded: self.threads.end_rollout,
            ev.ThreadStarted: self.threads.start_thread,
            ev.ThreadEnded: self.threads.end_thread,
            ev.CodexTurnStarted: self.threads.start_codex_turn,
            ev.CodexTurnEnded: self.threads.end_codex_turn,
            ev.InferenceStarted: self.inference.start_inference_call,
            ev.InferenceCompleted: self.inference.complete_inference_call,
            ev.InferenceFailed: self.inference.complete_inference_call,
            ev.InferenceCancelled: self.inference.complete_inference_call,
            ev.McpToolCallCorrelationAssigned: self.tools.correlate_mcp_call,
            # Protocol wrappers are debug breadcrumbs: payload refs only.
            ev.ProtocolEventObserved: _ignore,
            ev.ToolCallStarted: self.tools.start_tool_call,
            ev.ToolCallRuntimeStarted: self.tools.start_tool_runtime_observation,
            ev.ToolCallRuntimeEnded: self.tools.end_tool_runtime_observation,
            ev.ToolCallEnded: self.tools.end_tool_call,
            ev.CodeCellStarted: self.code_cells.start_code_cell,
            ev.CodeCellInitialResponse: self.code_cells.record_code_cell_initial_response,
            ev.CodeCellEnded: self.code_cells.end_code_cell,
            ev.CompactionRequestStarted: self.compaction.start_compaction_request,
            ev.CompactionRequestCompleted: self.compaction.complete_compaction_request,
            ev.CompactionRequestFailed: self.compaction.complete_compaction_request,
            ev.CompactionInstalled: self.compaction.reduce_compaction_installed_event,
            ev.AgentResultObserved: self.agents.queue_agent_result_interaction_edge,
            ev.Other: _no_reducer,
        }

    @property
    def rollout(self) -> RolloutTrace:
        return self.context.rollout

    def release(self) -> None:
        """Unlink the domains, which hold this reducer as their peers, once replay is done.

        That cycle keeps the whole trace alive (even after the caller drops it) until
        the cyclic collector walks it: 0.3 s CPU on the 1,500-turn benchmark, at exit
        in ``tracegraph reduce``. Unlinked, reference counting frees it at once.
        """
        self._handlers.clear()
        for name in Peers.__annotations__:
            delattr(self, name)

    def apply_event(self, event: ev.RawTraceEvent) -> None:
        # Payload refs are reducer-wide evidence, recorded before typed reduction.
        self.context.begin_event(ev.raw_payload_refs(event.payload))
        handler = self._handlers.get(type(event.payload))
        if handler is None:  # pragma: no cover - the payload union is closed
            raise TraceError(f"unhandled raw event {type(event.payload).__name__}")
        handler(event, event.payload)


def _ignore(event: ev.RawTraceEvent, payload: Any) -> None:
    return None


def _no_reducer(event: ev.RawTraceEvent, payload: Any) -> None:
    raise TraceError("raw trace event has no reducer implementation")


@dataclass(frozen=True, slots=True)
class LeftOutEvent:
    """An event a lenient replay left out: it needs a payload file that is missing
    (caught mid-write), an event that was left out before it, or an event skipped
    before it for a variant the dialect does not know."""

    line: int
    seq: int
    event_type: str
    #: ``missing payload N``, :data:`NEEDS_LEFT_OUT` or :data:`NEEDS_SKIPPED`.
    reason: str


NEEDS_LEFT_OUT = "needs an event left out before it"
NEEDS_SKIPPED = "needs an event skipped before it"


def _needs_reason(caught_mid_write: bool) -> str:
    """Why an event that needs one left out or skipped before it is left out too."""
    # Without a missing payload before it, only a skipped event can be needed.
    return NEEDS_LEFT_OUT if caught_mid_write else NEEDS_SKIPPED


def _caught_mid_write(left_out: Sequence[LeftOutEvent]) -> bool:
    """Whether a payload file was missing (the bundle still being written), not only
    events needing one that a lenient replay skipped."""
    return any(event.reason.startswith("missing payload") for event in left_out)


@dataclass(frozen=True, slots=True)
class Replay:
    """A replayed bundle: the trace, the dialect used and why, what was left out or not
    understood."""

    trace: RolloutTrace
    dialect: Dialect
    dialect_reason: str
    skipped_events: tuple[SkippedEvent, ...] = ()
    #: The unfinished final line that was left out (not under ``strict``).
    torn_line: TornLine | None = None
    #: Events left out under ``lenient`` because their payload files are missing.
    left_out_events: tuple[LeftOutEvent, ...] = ()
    #: The event log grew while it was read; the new bytes were left for later.
    log_grew: bool = False

    @property
    def partial(self) -> bool:
        """Whether the bundle was caught mid-write and its unfinished end left out."""
        return self.torn_line is not None or _caught_mid_write(self.left_out_events)
    #: Unknown model items kept as opaque conversation items (lenient mode).
    opaque_items: tuple[OpaqueItem, ...] = ()

    @property
    def unknown(self) -> tuple[UnknownType, ...]:
        """Each unknown event or model item type once, with its count and first place."""
        return summarize_unknown(self.skipped_events, self.opaque_items)


class Replayer:
    """Incremental replay: apply event lines one at a time, snapshot at any point.

    ``apply`` takes :class:`~tracegraph.bundle.reader.EventLine` values as
    ``TraceBundle.iter_events`` yields them; its errors name the line and seq.
    ``snapshot`` gives what :func:`replay` would return if the log ended after
    the last applied line, and leaves the replay free to go on.
    """

    def __init__(
        self,
        bundle: TraceBundle,
        dialect: Dialect | str,
        lenient: bool = False,
        *,
        dialect_reason: str = "requested",
        left_out_ids: dict[str, set[str]] | None = None,
    ) -> None:
        self.bundle = bundle
        self.dialect = Dialect(dialect)
        self.dialect_reason = dialect_reason
        self.lenient = lenient
        #: Events skipped as unknown to the dialect (lenient mode; the reader fills it).
        self.skipped: list[SkippedEvent] = []
        #: Ids of events skipped for their variant, by field; ``skipped`` indexed so far.
        self._skipped_ids: dict[str, set[str]] = {}
        #: How many of ``skipped`` are in ``_skipped_ids`` (the reader appends as it reads).
        self._skipped_indexed = 0
        #: What starting events left out of a lenient replay would have started, by
        #: field (see :meth:`leave_out`); shared by the passes of one replay.
        self._left_out_ids: dict[str, set[str]] = {} if left_out_ids is None else left_out_ids
        #: Unknown model items kept opaque so far (lenient mode), with their event.
        self.opaque: list[OpaqueItem] = []
        #: The domains' live state; released by :meth:`close`.
        self._reducer = TraceReducer(bundle, self.dialect, lenient)
        #: The event log's path, as errors name it.
        self._log = str(bundle.event_log_path)
        #: Which objects applied events reach (``None`` until :meth:`track_changes`).
        self._changes: ChangeLog | None = None

    def track_changes(self) -> None:
        """From now on note which objects applied events reach (see :meth:`take_changes`)."""
        if self._changes is None:
            self._changes = ChangeLog()
            self._changes.watch(self._reducer.rollout)

    def take_changes(self) -> dict[str, set[str]] | None:
        """The keys, per map of the trace (``threads``, ``conversation_items``...), of
        the objects the events applied since the last call may have created, changed or
        removed; ``None`` unless :meth:`track_changes` was called. Interaction edges a
        snapshot adds at the end of the log are not among them (they are rebuilt at
        every snapshot)."""
        return self._changes.take() if self._changes is not None else None

    def skipped_a_variant(self) -> bool:
        """Whether an event was skipped for a variant unknown inside it (lenient mode):
        later events that needed it are then left out, not an error."""
        return any(event.unknown_variant is not None for event in self.skipped)

    def needs_skipped(self, event_line: EventLine) -> bool:
        """Whether the event names an id that only an event skipped for its variant,
        or left out (see :meth:`leave_out`), had: a tool call's end after its start
        was skipped, every event of a thread whose start was. It is left out too, as
        it would fail without it, and found at once instead of by another pass."""
        if len(self.skipped) != self._skipped_indexed:
            for skipped in self.skipped[self._skipped_indexed:]:
                if skipped.unknown_variant is not None:
                    for name, value in skipped.ids:
                        self._skipped_ids.setdefault(name, set()).add(value)
            self._skipped_indexed = len(self.skipped)
        if not self._skipped_ids and not self._left_out_ids:
            return False
        event = event_line.event
        payload = event.payload
        for ids in (self._skipped_ids, self._left_out_ids):
            for name, values in ids.items():
                # A thread's or turn's id also stands in the envelope of everything inside it.
                if getattr(payload, name, None) in values or getattr(event, name, None) in values:
                    return True
        return False

    def leave_out(self, event_line: EventLine) -> None:
        """Note that the event is left out of the replay: if it starts something (see
        ``STARTED_ID_FIELD``), later events naming that are left out with it."""
        payload = event_line.event.payload
        name = ev.STARTED_ID_FIELD.get(payload.type)
        if name is None:
            return
        value = getattr(payload, name, None)
        if isinstance(value, str):
            self._left_out_ids.setdefault(name, set()).add(value)

    def skip_sink(self) -> list[SkippedEvent] | None:
        """The ``skipped`` argument for ``TraceBundle.iter_events`` in this mode."""
        return self.skipped if self.lenient else None

    def apply(self, event_line: EventLine) -> None:
        """Reduce one event; errors are :class:`TraceError` naming its line and seq."""
        changes = self._changes
        if changes is not None:
            changes.active = True
        try:
            self._reducer.apply_event(event_line.event)
        except (TraceError, BundleError) as err:
            reason = err.reason if isinstance(err, TraceError) else str(err)
            raise TraceError(
                withhold_content(reason, self._evidence(event_line)),
                seq=event_line.event.seq, line=event_line.line, path=self._log,
            ) from err
        finally:
            if changes is not None:
                changes.active = False
        limits = self.bundle.limits
        if len(self._reducer.context.rollout.raw_payloads) > limits.payloads:
            raise limits.exceeded("payloads", f"{self._log}: line {event_line.line}")
        opaque_types = self._reducer.context.opaque_item_types
        if opaque_types and len(opaque_types) > len(self.opaque):
            # Only request, response and checkpoint payloads hold model items.
            payload_id = _model_items_payload(event_line.event.payload)
            self.opaque.extend(
                OpaqueItem(event_line.line, event_line.event.seq, item_type, payload_id)
                for item_type in opaque_types[len(self.opaque):]
            )

    def _evidence(self, event_line: EventLine) -> list[Any]:
        """The event and the payloads it names, as JSON values (for an error message)."""
        evidence: list[Any] = [event_line.event.model_dump(mode="json")]
        for ref in ev.raw_payload_refs(event_line.event.payload):
            try:
                evidence.append(self.bundle.read_payload(ref))
            except (BundleError, TraceError):
                continue  # (unreadable: then it is what the message is about, by id)
        return evidence

    def snapshot(self, *, isolated: bool = True) -> Replay:
        """The replay as if the log ended here.

        Only at the end of a log do spawns that never reached a task item fall
        back to the child thread; that is computed here without changing the
        live state. ``isolated`` (the default) deep-copies the trace so later
        ``apply`` calls cannot change it; without it the trace shares objects
        with the live replay (cheap, for a final snapshot).
        """
        try:
            edges = self._reducer.agents.finished_interaction_edges()
        except TraceError as err:
            raise TraceError(f"after replay: {err.reason}", path=self._log) from err
        trace = self._reducer.rollout.model_copy(update={"interaction_edges": edges})
        if isolated:
            trace = trace.model_copy(deep=True)
        trace.with_dialect(self.dialect)
        result = Replay(trace, self.dialect, self.dialect_reason, tuple(self.skipped),
                        opaque_items=tuple(self.opaque))
        trace.with_unknown_types(tuple(unknown.entry for unknown in result.unknown))
        return result

    def close(self) -> None:
        """Done with this replay: no more ``apply`` or ``snapshot`` (see
        :meth:`TraceReducer.release`). A snapshot taken before stays valid."""
        self._reducer.release()


def _model_items_payload(payload: ev.RawTraceEventPayload) -> str:
    """The payload whose model items an event reduces (for locating opaque items)."""
    for name in ("request_payload", "response_payload", "partial_response_payload",
                 "checkpoint_payload"):
        ref = getattr(payload, name, None)
        if ref is not None:
            return str(ref.raw_payload_id)
    return "?"


#: A lenient replay leaves out at most this many failing events one by one (each costs
#: a replay from the start; what they start goes along, see ``Replayer.leave_out``);
#: past it, the log is cut before the next failure.
MAX_LEFT_OUT_PASSES = 16


def _missing_payload(err: BaseException) -> MissingPayloadError | None:
    """The missing payload file behind an error, however often it was re-raised."""
    current: BaseException | None = err
    while current is not None:
        if isinstance(current, MissingPayloadError):
            return current
        current = current.__cause__
    return None


def replay(
    path: str | Path,
    *,
    dialect: Dialect | str = "auto",
    lenient: bool = False,
    strict: bool = False,
    limits: Limits | None = None,
) -> Replay:
    """Replay a bundle directory, choosing the dialect when asked to (``auto``).

    ``auto`` picks ``upstream`` when the event log shows newer-format evidence
    and ``seed`` otherwise. Event types the dialect does not know are an error,
    unless ``lenient``: then they are skipped and reported in the result.

    A bundle caught mid-write is reduced up to what is complete: a final line
    with no newline that stops mid-record is left out (``torn_line``) unless
    ``strict``, which keeps the reference's error. Under ``lenient``, events
    whose payload files are missing are left out too (``left_out_events``), with
    any later event that needed them. ``limits`` (default: the environment's,
    see :mod:`tracegraph.bundle.limits`) bound what is read.
    """
    # A replay builds hundreds of thousands of objects and no reference cycles.
    with collector_paused():
        return _replay(path, dialect=dialect, lenient=lenient, strict=strict, limits=limits)


def _replay(
    path: str | Path, *, dialect: Dialect | str, lenient: bool, strict: bool,
    limits: Limits | None,
) -> Replay:
    limits = Limits.from_env() if limits is None else limits
    bundle = TraceBundle(path, limits=limits)
    if str(dialect) == "auto":
        chosen, reason = bundle.detect_dialect()
    else:
        chosen, reason = Dialect(dialect), "requested"
    leave_out: dict[int, LeftOutEvent] = {}
    left_out_ids: dict[str, set[str]] = {}
    missing_seen = False  # a payload file was missing: the bundle is being written
    passes = 0
    stop_after: int | None = None
    while True:
        # Deterministic passes: each one leaves out what the previous ones found.
        replayer = Replayer(bundle, chosen, lenient, dialect_reason=reason,
                            left_out_ids=left_out_ids)
        torn: list[TornLine] | None = None if strict else []
        failure: tuple[EventLine, TraceError] | None = None
        for event_line in bundle.iter_events(chosen, skipped=replayer.skip_sink(), torn=torn):
            if stop_after is not None and event_line.line > stop_after:
                break
            if event_line.line in leave_out:
                continue
            if lenient and replayer.needs_skipped(event_line):
                leave_out[event_line.line] = LeftOutEvent(
                    event_line.line, event_line.event.seq, event_line.event.payload.type,
                    _needs_reason(missing_seen))
                replayer.leave_out(event_line)
                continue
            try:
                replayer.apply(event_line)
            except TraceError as err:
                if not (lenient and (leave_out or _missing_payload(err) is not None
                                     or replayer.skipped_a_variant())):
                    raise
                failure = (event_line, err)
                break
        if failure is None:
            break
        replayer.close()
        event_line, error = failure
        missing = _missing_payload(error)
        leave_out[event_line.line] = LeftOutEvent(
            event_line.line, event_line.event.seq, event_line.event.payload.type,
            f"missing payload {missing.raw_payload_id}" if missing is not None
            else _needs_reason(missing_seen),
        )
        missing_seen = missing_seen or missing is not None
        # What it starts takes its later events along in the next pass, not one by one.
        replayer.leave_out(event_line)
        passes += 1
        if passes >= MAX_LEFT_OUT_PASSES:
            stop_after = event_line.line - 1
    result = replayer.snapshot(isolated=False)
    replayer.close()
    if stop_after is not None:
        for event_line in bundle.iter_events(chosen, skipped=[], torn=[]):
            if event_line.line > stop_after and event_line.line not in leave_out:
                leave_out[event_line.line] = LeftOutEvent(
                    event_line.line, event_line.event.seq, event_line.event.payload.type,
                    "after too many left-out events")
    torn_line = torn[0] if torn else None
    left_out = tuple(sorted(leave_out.values(), key=lambda item: item.line))
    result.trace.with_partial(torn_line is not None or _caught_mid_write(left_out))
    return dataclasses.replace(result, torn_line=torn_line, left_out_events=left_out,
                               log_grew=bundle.log_grew)


def replay_bundle(
    path: str | Path, *, dialect: Dialect | str = "auto", lenient: bool = False,
    strict: bool = False, limits: Limits | None = None,
) -> RolloutTrace:
    """Replay a trace bundle directory into its reduced :class:`RolloutTrace`.

    Raises :class:`~tracegraph.errors.BundleError` when the bundle cannot be
    read and :class:`~tracegraph.errors.TraceError` (naming the event line and
    ``seq``) when the evidence is inconsistent.
    """
    return replay(path, dialect=dialect, lenient=lenient, strict=strict, limits=limits).trace
