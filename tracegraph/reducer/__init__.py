"""Deterministic replay of raw trace events into a ``RolloutTrace``.

Split by domain like the reference crate. Each domain is one class in its own
module; it owns its indexes and queues (declared, with their invariants, in
its ``__init__``) and other domains reach it only through named methods, via
``self.peers.<domain>``:

- ``threads`` (``thread.py``): the rollout, threads, Codex turns;
- ``conversation`` (``conversation.py``): items, per-thread snapshots and reuse,
  mailbox deliveries;
- ``inference`` (``inference.py``): inference calls, response-id lookups;
- ``tools`` (``tool.py``): tool calls, their call-id and code-cell indexes;
- ``terminals`` (``terminal.py``): terminal operations and sessions;
- ``agents`` (``agents.py``): interaction edges, pending deliveries;
- ``code_cells`` (``code_cell.py``): code cells, the runtime-id bridge, queued starts;
- ``compaction`` (``compaction.py``): compactions and their requests.

What they share is in ``state.py`` (``ReplayContext``: the trace under
construction, payload reading, the dialect switch). ``core.TraceReducer``
dispatches each typed event to its domain in one line. To add a rule: put
its state in the owning domain's ``__init__``, its logic in a method there, and
expose what other domains need as a named method; dispatch a new event type
from ``core``. ``Replayer`` replays incrementally (apply lines, snapshot
anywhere); :func:`replay` is built on it.
"""

from tracegraph.reducer.core import Replay, Replayer, TraceReducer, replay, replay_bundle

__all__ = ["Replay", "Replayer", "TraceReducer", "replay", "replay_bundle"]
