"""Replay that grows one event line at a time, with a snapshot after any of them.

A thin adapter over today's :class:`~tracegraph.reducer.TraceReducer`; the watch
loop only uses :class:`IncrementalReplay`, so it can move to the reducer's own
incremental API without other changes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from tracegraph.bundle.events import UPSTREAM_EVENT_FIELDS, UPSTREAM_EVENT_TYPES
from tracegraph.bundle.reader import SkippedEvent, TraceBundle, parse_event_line
from tracegraph.errors import BundleError, TraceError, TracegraphError
from tracegraph.model.dialect import Dialect
from tracegraph.reducer import Replay, TraceReducer

__all__ = ["DialectChange", "IncrementalReplay", "upstream_evidence"]


class DialectChange(TracegraphError):
    """``auto`` replayed as seed so far, and this line shows the upstream format."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"dialect upstream ({reason})")


def upstream_evidence(line: int, text: str) -> str | None:
    """Why this event line shows the upstream format (as ``detect_dialect`` says), or None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    if not isinstance(payload, dict):
        return None
    event_type = payload.get("type")
    if event_type in UPSTREAM_EVENT_TYPES:
        return f"line {line}: {event_type} event"
    for upstream_type, field_name, _ in UPSTREAM_EVENT_FIELDS:
        if event_type == upstream_type and field_name in payload:
            return f"line {line}: {event_type}.{field_name}"
    return None


class IncrementalReplay:
    """The replay of one bundle, fed its event lines in order as they appear.

    ``dialect`` ``auto`` replays as seed until a line shows newer-format evidence;
    then :meth:`apply` raises :class:`DialectChange` and the caller starts again
    as upstream (``dialect="upstream"``, ``reason`` from the exception), which is
    what a one-shot replay of the longer log would have chosen.
    """

    def __init__(self, path: str | Path, *, dialect: Dialect | str = "auto",
                 lenient: bool = False, reason: str | None = None) -> None:
        self.bundle = TraceBundle(path)
        self._auto = str(dialect) == "auto"
        self.dialect = Dialect.SEED if self._auto else Dialect(dialect)
        self.dialect_reason = reason or ("no newer-format evidence" if self._auto
                                         else "requested")
        self.skipped: list[SkippedEvent] | None = [] if lenient else None
        self._reducer = TraceReducer(self.bundle, self.dialect)
        self._log = str(self.bundle.event_log_path)
        #: Events applied (skipped unknown events not counted) and the last seq seen.
        self.events = 0
        self.last_seq: int | None = None

    def apply(self, line: int, text: str) -> None:
        """Reduce one event line; errors name the line and seq, as a full replay does."""
        if self._auto:
            evidence = upstream_evidence(line, text)
            if evidence is not None:
                raise DialectChange(evidence)
        event = parse_event_line(text, line=line, path=self._log, dialect=self.dialect,
                                 skipped=self.skipped)
        if event is None:
            return
        try:
            self._reducer.apply_event(event)
        except (TraceError, BundleError) as err:
            reason = err.reason if isinstance(err, TraceError) else str(err)
            raise TraceError(reason, seq=event.seq, line=line, path=self._log) from err
        self.events += 1
        self.last_seq = event.seq

    def snapshot(self) -> Replay:
        """The trace as a replay ending here would return it.

        The end-of-replay step (spawn edges that never reached a task item fall
        back to the child thread) runs on a copy of what it touches, so replay
        goes on unchanged. The trace shares objects with the live state: use it
        (project it) before the next :meth:`apply`.
        """
        reducer = self._reducer
        trace = reducer.rollout
        pending = reducer.pending_agent_interaction_edges
        if any(edge.unresolved_spawn_thread_id is not None for edge in pending):
            saved = (trace, list(pending), reducer.edge_target_items,
                     reducer.edges_by_source_tool)
            reducer.rollout = trace.model_copy(update={"interaction_edges": {
                key: edge.model_copy(deep=True) for key, edge in trace.interaction_edges.items()
            }})
            reducer.edge_target_items = set(reducer.edge_target_items)
            reducer.edges_by_source_tool = defaultdict(
                set, {key: set(ids) for key, ids in reducer.edges_by_source_tool.items()})
            try:
                reducer.resolve_pending_spawn_edge_fallbacks()
                trace = reducer.rollout
            except TraceError as err:
                raise TraceError(f"after replay: {err.reason}", path=self._log) from err
            finally:
                (reducer.rollout, reducer.pending_agent_interaction_edges,
                 reducer.edge_target_items, reducer.edges_by_source_tool) = saved
        return Replay(trace, self.dialect, self.dialect_reason, tuple(self.skipped or ()))
