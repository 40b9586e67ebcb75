"""The event dispatcher and the replay entry points.

:class:`TraceReducer` sends each typed event to the domain that owns it (one
line per event type); :class:`Replayer` feeds it one event line at a time and
can say at any point what the trace would be if the log ended there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracegraph.bundle import events as ev
from tracegraph.bundle.reader import EventLine, SkippedEvent, TraceBundle
from tracegraph.errors import BundleError, TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.model.rollout import RolloutTrace
from tracegraph.reducer.agents import AgentsReducer
from tracegraph.reducer.code_cell import CodeCellReducer
from tracegraph.reducer.compaction import CompactionReducer
from tracegraph.reducer.conversation import ConversationReducer
from tracegraph.reducer.inference import InferenceReducer
from tracegraph.reducer.state import Peers, ReplayContext
from tracegraph.reducer.terminal import TerminalReducer
from tracegraph.reducer.thread import ThreadReducer
from tracegraph.reducer.tool import ToolReducer

__all__ = ["Replay", "Replayer", "TraceReducer", "replay", "replay_bundle"]


class TraceReducer(Peers):
    """Deterministic replay of one bundle into a :class:`RolloutTrace`."""

    def __init__(self, bundle: TraceBundle, dialect: Dialect = Dialect.SEED) -> None:
        self.context = ReplayContext(bundle, dialect)
        self.threads = ThreadReducer(self.context, self)
        self.conversation = ConversationReducer(self.context, self)
        self.inference = InferenceReducer(self.context, self)
        self.tools = ToolReducer(self.context, self)
        self.terminals = TerminalReducer(self.context, self)
        self.agents = AgentsReducer(self.context, self)
        self.code_cells = CodeCellReducer(self.context, self)
        self.compaction = CompactionReducer(self.context, self)

    @property
    def rollout(self) -> RolloutTrace:
        return self.context.rollout

    def apply_event(self, event: ev.RawTraceEvent) -> None:
        self.context.forget_payloads()
        # Payload refs are reducer-wide evidence, recorded before typed reduction.
        for payload in ev.raw_payload_refs(event.payload):
            self.context.insert_raw_payload(payload)
        match event.payload:
            case ev.RolloutStarted() as p:
                self.threads.start_rollout(event, p)
            case ev.RolloutEnded() as p:
                self.threads.end_rollout(event, p)
            case ev.ThreadStarted() as p:
                self.threads.start_thread(event, p)
            case ev.ThreadEnded() as p:
                self.threads.end_thread(event, p)
            case ev.CodexTurnStarted() as p:
                self.threads.start_codex_turn(event, p)
            case ev.CodexTurnEnded() as p:
                self.threads.end_codex_turn(event, p)
            case ev.InferenceStarted() as p:
                self.inference.start_inference_call(event, p)
            case ev.InferenceCompleted() | ev.InferenceFailed() | ev.InferenceCancelled() as p:
                self.inference.complete_inference_call(event, p)
            case ev.McpToolCallCorrelationAssigned() as p:
                self.tools.correlate_mcp_call(event, p)
            case ev.ProtocolEventObserved():
                pass  # protocol wrappers are debug breadcrumbs: payload refs only
            case ev.ToolCallStarted() as p:
                self.tools.start_tool_call(event, p)
            case ev.ToolCallRuntimeStarted() as p:
                self.tools.start_tool_runtime_observation(event, p)
            case ev.ToolCallRuntimeEnded() as p:
                self.tools.end_tool_runtime_observation(event, p)
            case ev.ToolCallEnded() as p:
                self.tools.end_tool_call(event, p)
            case ev.CodeCellStarted() as p:
                self.code_cells.start_code_cell(event, p)
            case ev.CodeCellInitialResponse() as p:
                self.code_cells.record_code_cell_initial_response(event, p)
            case ev.CodeCellEnded() as p:
                self.code_cells.end_code_cell(event, p)
            case ev.CompactionRequestStarted() as p:
                self.compaction.start_compaction_request(event, p)
            case ev.CompactionRequestCompleted() | ev.CompactionRequestFailed() as p:
                self.compaction.complete_compaction_request(event, p)
            case ev.CompactionInstalled() as p:
                self.compaction.reduce_compaction_installed_event(event, p)
            case ev.AgentResultObserved() as p:
                self.agents.queue_agent_result_interaction_edge(event, p)
            case ev.Other():
                raise TraceError("raw trace event has no reducer implementation")
            case _:  # pragma: no cover - the payload union is closed
                raise TraceError(f"unhandled raw event {type(event.payload).__name__}")


@dataclass(frozen=True, slots=True)
class Replay:
    """A replayed bundle: the trace, the dialect used and why, skipped events."""

    trace: RolloutTrace
    dialect: Dialect
    dialect_reason: str
    skipped_events: tuple[SkippedEvent, ...] = ()


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
    ) -> None:
        self.bundle = bundle
        self.dialect = Dialect(dialect)
        self.dialect_reason = dialect_reason
        self.lenient = lenient
        #: Events skipped as unknown to the dialect (lenient mode; the reader fills it).
        self.skipped: list[SkippedEvent] = []
        self._reducer = TraceReducer(bundle, self.dialect)
        self._log = str(bundle.event_log_path)

    def skip_sink(self) -> list[SkippedEvent] | None:
        """The ``skipped`` argument for ``TraceBundle.iter_events`` in this mode."""
        return self.skipped if self.lenient else None

    def apply(self, event_line: EventLine) -> None:
        """Reduce one event; errors are :class:`TraceError` naming its line and seq."""
        try:
            self._reducer.apply_event(event_line.event)
        except (TraceError, BundleError) as err:
            reason = err.reason if isinstance(err, TraceError) else str(err)
            raise TraceError(
                reason, seq=event_line.event.seq, line=event_line.line, path=self._log
            ) from err

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
        return Replay(trace, self.dialect, self.dialect_reason, tuple(self.skipped))


def replay(
    path: str | Path,
    *,
    dialect: Dialect | str = "auto",
    lenient: bool = False,
) -> Replay:
    """Replay a bundle directory, choosing the dialect when asked to (``auto``).

    ``auto`` picks ``upstream`` when the event log shows newer-format evidence
    and ``seed`` otherwise. Event types the dialect does not know are an error,
    unless ``lenient``: then they are skipped and reported in the result.
    """
    bundle = TraceBundle(path)
    if str(dialect) == "auto":
        chosen, reason = bundle.detect_dialect()
    else:
        chosen, reason = Dialect(dialect), "requested"
    replayer = Replayer(bundle, chosen, lenient, dialect_reason=reason)
    for event_line in bundle.iter_events(chosen, skipped=replayer.skip_sink()):
        replayer.apply(event_line)
    return replayer.snapshot(isolated=False)


def replay_bundle(
    path: str | Path, *, dialect: Dialect | str = "auto", lenient: bool = False
) -> RolloutTrace:
    """Replay a trace bundle directory into its reduced :class:`RolloutTrace`.

    Raises :class:`~tracegraph.errors.BundleError` when the bundle cannot be
    read and :class:`~tracegraph.errors.TraceError` (naming the event line and
    ``seq``) when the evidence is inconsistent.
    """
    return replay(path, dialect=dialect, lenient=lenient).trace
