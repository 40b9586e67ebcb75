"""What the exporter reports: progress after each batch, a load's and a deletion's
summary, and the sources a database already holds."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DeleteSummary",
    "ExportProgress",
    "ExportSummary",
    "LoadedSource",
]


@dataclass(frozen=True)
class ExportProgress:
    """Reported to the ``progress`` callback after each committed batch.

    ``phase`` is ``schema``, ``nodes``, ``relationships`` or ``cleanup``; ``name``
    is the label or relationship type of the batch. ``batches_total`` counts the
    node and relationship batches (clean-up deletes are reported with the phase
    ``cleanup`` and do not count).
    """

    phase: str
    name: str
    batches_done: int
    batches_total: int
    rows_done: int
    rows_total: int


@dataclass
class ExportSummary:
    """What a load changed. ``unchanged`` elements were matched and already equal, or
    belong to units whose stored fingerprint equals the graph's."""

    trace_ids: tuple[str, ...] = ()
    nodes: int = 0
    relationships: int = 0
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_unchanged: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_updated: int = 0
    relationships_unchanged: int = 0
    relationships_deleted: int = 0
    batches: int = 0
    seconds: float = 0.0
    #: Seconds spent on each phase: plan, schema, upsert (nodes and relationships),
    #: cleanup, fingerprint.
    phase_seconds: dict[str, float] = field(default_factory=dict)
    #: Traces by mode: ``new`` (created), ``update`` (compared), ``unchanged`` (skipped).
    modes: dict[str, str] = field(default_factory=dict)

    def add(self, phase: str, *, rows: int, written: int, created: int) -> None:
        """Count one upserted segment of ``phase`` (``nodes`` or ``relationships``)."""
        if phase == "nodes":
            self.nodes_created += created
            self.nodes_updated += written - created
            self.nodes_unchanged += rows - written
        else:
            self.relationships_created += created
            self.relationships_updated += written - created
            self.relationships_unchanged += rows - written

    @property
    def elements_per_second(self) -> float:
        """Nodes plus relationships of the graph per second of the whole load."""
        return (self.nodes + self.relationships) / self.seconds if self.seconds else 0.0

    @property
    def written_per_second(self) -> float:
        """Nodes plus relationships written per second of the write phase (``upsert``)."""
        seconds = self.phase_seconds.get("upsert", 0.0)
        written = (self.nodes_created + self.nodes_updated + self.relationships_created
                   + self.relationships_updated)
        return written / seconds if seconds else 0.0

    @property
    def changed(self) -> bool:
        """True when the load created, updated or deleted anything."""
        return any((self.nodes_created, self.nodes_updated, self.nodes_deleted,
                    self.relationships_created, self.relationships_updated,
                    self.relationships_deleted))


@dataclass(frozen=True)
class DeleteSummary:
    trace_id: str
    nodes_deleted: int
    relationships_deleted: int


@dataclass(frozen=True)
class LoadedSource:
    """A source whose graph a completed load stored (see :func:`loaded_sources`)."""

    fingerprint: str
    trace_id: str
    nodes: int
    relationships: int
