"""What to say on stderr about a replay (``reduce``, ``validate``, ``load`` workers).

Apart from :mod:`tracegraph.jobs` so that ``tracegraph reduce`` needs no graph code.
"""

from __future__ import annotations

from pathlib import Path

from tracegraph.errors import safe_name
from tracegraph.model.dialect import Dialect
from tracegraph.reducer.core import Replay

__all__ = ["replay_notes"]

#: Left-out events listed one by one; past that, only how many more.
LEFT_OUT_SHOWN = 10
_UNKNOWN_WORDS = {"event": "skipped unknown event type",
                  "model_item": "kept unknown model item type"}


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
        why = ("whose payload files are missing (perhaps not written yet)"
               if result.partial else "because of an event skipped before them")
        notes.append(f"{bundle}: warning: left out {len(result.left_out_events)} event(s) "
                     f"{why}:")
        notes += [f"  left out line {event.line} (seq {event.seq}): {event.event_type}: "
                  f"{event.reason}" for event in result.left_out_events[:LEFT_OUT_SHOWN]]
        if len(result.left_out_events) > LEFT_OUT_SHOWN:
            notes.append(f"  ... and {len(result.left_out_events) - LEFT_OUT_SHOWN} more")
    if result.log_grew:
        notes.append(f"{bundle}: note: trace.jsonl grew while it was read; reduced it as it "
                     "was when opened")
    if dialect == "auto" and result.dialect is not Dialect.SEED:
        notes.append(f"{bundle}: dialect {result.dialect.value} ({result.dialect_reason})")
    # Once per unknown type (lenient), with its count and where the first one was.
    for unknown in result.unknown:
        if unknown.variant is not None:
            field, tag = unknown.variant
            what = (f"skipped {safe_name(unknown.type)} events with an unknown {field} "
                    f"variant {safe_name(tag)}")
        else:
            what = f"{_UNKNOWN_WORDS[unknown.kind]} {safe_name(unknown.type)}"
        notes.append(f"{bundle}: warning: {what} x{unknown.count}"
                     + (" as opaque items" if unknown.kind == "model_item" else "")
                     + f" (first at {unknown.first_seen})")
    return notes
