"""What a ``--lenient`` replay did not understand, counted once per type.

Unknown event types are skipped by the reader; unknown model item types become
opaque conversation items (see ``normalize``). Both are listed here by type,
with how many there were and where the first one was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracegraph.bundle.reader import SkippedEvent

__all__ = ["OpaqueItem", "UnknownType", "summarize_unknown"]


@dataclass(frozen=True, slots=True)
class OpaqueItem:
    """A model item of an unknown type, kept as an opaque conversation item."""

    line: int
    seq: int
    item_type: str
    raw_payload_id: str


@dataclass(frozen=True, slots=True)
class UnknownType:
    #: ``event`` (skipped) or ``model_item`` (kept opaque).
    kind: str
    type: str
    count: int
    first_line: int
    first_seq: int | None
    #: Payload of the first opaque item (model items only).
    first_payload: str | None = None

    @property
    def entry(self) -> str:
        """``KIND TYPE xCOUNT``, as the Rollout node's ``unknown_types`` lists it."""
        return f"{self.kind} {self.type} x{self.count}"

    @property
    def first_seen(self) -> str:
        seq = f", seq {self.first_seq}" if self.first_seq is not None else ""
        payload = f", payload {self.first_payload}" if self.first_payload else ""
        return f"line {self.first_line}{seq}{payload}"


def summarize_unknown(
    skipped_events: Iterable[SkippedEvent], opaque_items: Iterable[OpaqueItem]
) -> tuple[UnknownType, ...]:
    """One entry per (kind, type): events first, then model items, each by type name."""
    found: dict[tuple[str, str], UnknownType] = {}
    for event in skipped_events:
        key = ("event", event.event_type)
        seen = found.get(key)
        found[key] = (
            UnknownType("event", event.event_type, 1, event.line, event.seq)
            if seen is None else _counted(seen)
        )
    for item in opaque_items:
        key = ("model_item", item.item_type)
        seen = found.get(key)
        found[key] = (
            UnknownType("model_item", item.item_type, 1, item.line, item.seq, item.raw_payload_id)
            if seen is None else _counted(seen)
        )
    return tuple(found[key] for key in sorted(found))


def _counted(seen: UnknownType) -> UnknownType:
    return UnknownType(seen.kind, seen.type, seen.count + 1, seen.first_line, seen.first_seq,
                       seen.first_payload)
