"""What to say on stderr about a replay (``reduce``, ``validate``, ``load`` workers).

Apart from :mod:`tracegraph.jobs` so that ``tracegraph reduce`` needs no graph code.
"""

from __future__ import annotations

from pathlib import Path

from tracegraph.errors import safe_name
from tracegraph.model.dialect import Dialect
from tracegraph.reducer.core import Replay

__all__ = ["replay_notes"]


def replay_notes(bundle: Path, result: Replay, dialect: str) -> list[str]:
    """What to say on stderr about a replay: what was left out of a bundle caught
    mid-write, the dialect ``auto`` chose when it is not the seed (the silent
    default), and each type ``lenient`` did not understand."""
    notes = []
    if result.torn_line is not None:
        notes.append(f"{bundle}: warning: line {result.torn_line.line} of trace.jsonl is "
                     f"incomplete ({result.torn_line.size} bytes, no newline: a record still "
                     "being written) and was left out; --strict refuses it")
    if result.left_out_events:
        notes.append(f"{bundle}: warning: left out {len(result.left_out_events)} event(s) "
                     "whose payload files are missing (perhaps not written yet):")
        notes += [f"  left out line {event.line} (seq {event.seq}): {event.event_type}: "
                  f"{event.reason}" for event in result.left_out_events]
    if result.log_grew:
        notes.append(f"{bundle}: note: trace.jsonl grew while it was read; reduced it as it "
                     "was when opened")
    if dialect == "auto" and result.dialect is not Dialect.SEED:
        notes.append(f"{bundle}: dialect {result.dialect.value} ({result.dialect_reason})")
    # Once per unknown type (lenient), with its count and where the first one was.
    for unknown in result.unknown:
        what = ("skipped unknown event type" if unknown.kind == "event"
                else "kept unknown model item type")
        notes.append(f"{bundle}: warning: {what} {safe_name(unknown.type)} x{unknown.count}"
                     + (" as opaque items" if unknown.kind == "model_item" else "")
                     + f" (first at {unknown.first_seen})")
    return notes
