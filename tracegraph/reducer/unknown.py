"""What a ``--lenient`` replay did not understand, counted once per type.

Unknown event types are skipped by the reader, and so are events of a known type
holding a variant the dialect does not know (a fork's requester, say); unknown model
item types become opaque conversation items (see ``normalize``). All are listed here
by type, with how many there were and where the first one was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from tracegraph.bundle.reader import SkippedEvent
from tracegraph.errors import safe_name

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
    #: ``event`` (skipped), ``variant`` (its event skipped) or ``model_item`` (kept opaque).
    kind: str
    #: The event type, or the model item type.
    type: str
    count: int
    first_line: int
    first_seq: int | None
    #: Payload of the first opaque item (model items only).
    first_payload: str | None = None
    #: ``(field, tag)`` of a ``variant``: the payload field and the tag nothing knows.
    variant: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        """The type, and for a variant where it was: ``tool_call_started.requester:TAG``."""
        if self.variant is None:
            return self.type
        return f"{self.type}.{self.variant[0]}:{self.variant[1]}"

    @property
    def shown_name(self) -> str:
        """:attr:`name` for stderr: each part from the trace as :func:`safe_name` shows it."""
        if self.variant is None:
            return safe_name(self.type)
        return f"{safe_name(self.type)}.{self.variant[0]}:{safe_name(self.variant[1])}"

    @property
    def entry(self) -> str:
        """``KIND NAME xCOUNT``, as the Rollout node's ``unknown_types`` lists it."""
        return f"{self.kind} {self.name} x{self.count}"

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
        variant = event.unknown_variant
        kind = "event" if variant is None else "variant"
        key = (kind, event.event_type if variant is None else f"{event.event_type}.{variant}")
        seen = found.get(key)
        found[key] = (
            UnknownType(kind, event.event_type, 1, event.line, event.seq, variant=variant)
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
    return dataclasses.replace(seen, count=seen.count + 1)
