"""Deterministic replay of raw trace events into a ``RolloutTrace``.

Split by domain like the reference crate: threads and turns, conversation and
its normalizer, inference, tools, terminals, multi-agent edges, code cells and
compaction. Each module documents the invariants it keeps.
"""

from tracegraph.reducer.core import Replay, TraceReducer, replay, replay_bundle

__all__ = ["Replay", "TraceReducer", "replay", "replay_bundle"]
