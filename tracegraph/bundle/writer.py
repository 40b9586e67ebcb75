"""Append-only bundle writer, byte-compatible with the reference ``TraceWriter``.

Payload files are written (pretty JSON) before the event that references them,
so a bundle cut off mid-write never points at a payload that is not there.
Events get ``seq`` from 1 and are written as compact JSON, one per line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from tracegraph.bundle import serde_json
from tracegraph.bundle.events import (
    RAW_TRACE_EVENT_SCHEMA_VERSION,
    UPSTREAM_EVENT_FIELDS,
    RawTraceEvent,
    RawTraceEventPayload,
)
from tracegraph.bundle.manifest import (
    MANIFEST_FILE_NAME,
    PAYLOADS_DIR_NAME,
    RAW_EVENT_LOG_FILE_NAME,
    TRACE_MANIFEST_SCHEMA_VERSION,
    TraceBundleManifest,
)
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadKind, RawPayloadKindName, RawPayloadRef

__all__ = [
    "TraceWriter",
    "event_json",
    "unix_time_ms",
]

_PAYLOAD_ADAPTER: TypeAdapter[Any] = TypeAdapter(RawTraceEventPayload)


def unix_time_ms() -> int:
    return time.time_ns() // 1_000_000


def _pretty(value: Any) -> str:
    # serde_json::to_writer_pretty: two-space indent, ryu floats, no trailing newline.
    return serde_json.dumps_pretty(value)


def event_json(event: RawTraceEvent, dialect: Dialect = Dialect.SEED) -> dict[str, Any]:
    """An event as its era's writer serializes it.

    The seed writer has no upstream fields at all; the upstream writer omits
    ``request_input_mode`` when absent but always writes ``upstream_request_id``.
    """
    value = event.model_dump(mode="json")
    payload = value["payload"]
    for event_type, field_name, omit_when_null in UPSTREAM_EVENT_FIELDS:
        if payload["type"] != event_type:
            continue
        if dialect is Dialect.SEED:
            if payload[field_name] is None:
                del payload[field_name]
        elif omit_when_null and payload[field_name] is None:
            del payload[field_name]
    return value


class TraceWriter:
    """Writes one trace bundle. Not thread-safe; one writer per bundle.

    ``dialect`` picks the event shape: ``seed`` (default) writes exactly what the
    reference ``writer.rs`` writes; ``upstream`` writes current Codex's fields.
    """

    def __init__(
        self,
        bundle_dir: Path,
        manifest: TraceBundleManifest,
        clock: Callable[[], int],
        dialect: Dialect = Dialect.SEED,
    ) -> None:
        self.bundle_dir = bundle_dir
        self.manifest = manifest
        self.dialect = Dialect(dialect)
        self._clock = clock
        self._payloads_dir = bundle_dir / PAYLOADS_DIR_NAME
        self._event_log = (bundle_dir / RAW_EVENT_LOG_FILE_NAME).open("a", encoding="utf-8")
        self._next_seq = 1
        self._next_payload_ordinal = 1

    @classmethod
    def create(
        cls,
        bundle_dir: str | Path,
        trace_id: str,
        rollout_id: str,
        root_thread_id: str,
        *,
        clock: Callable[[], int] = unix_time_ms,
        dialect: Dialect | str = Dialect.SEED,
    ) -> TraceWriter:
        """Create the bundle directory and write its manifest.

        ``clock`` returns Unix milliseconds; pass a fake one for reproducible
        bundles.
        """
        bundle_dir = Path(bundle_dir)
        (bundle_dir / PAYLOADS_DIR_NAME).mkdir(parents=True, exist_ok=True)
        manifest = TraceBundleManifest(
            schema_version=TRACE_MANIFEST_SCHEMA_VERSION,
            trace_id=trace_id,
            rollout_id=rollout_id,
            root_thread_id=root_thread_id,
            started_at_unix_ms=clock(),
            raw_event_log=RAW_EVENT_LOG_FILE_NAME,
            payloads_dir=PAYLOADS_DIR_NAME,
        )
        (bundle_dir / MANIFEST_FILE_NAME).write_text(
            _pretty(manifest.model_dump(mode="json")), encoding="utf-8"
        )
        return cls(bundle_dir, manifest, clock, Dialect(dialect))

    def write_json_payload(
        self, kind: RawPayloadKind | RawPayloadKindName | str, value: Any
    ) -> RawPayloadRef:
        """Write ``payloads/N.json`` and return the reference events should carry."""
        if not isinstance(kind, RawPayloadKind):
            kind = RawPayloadKind(type=RawPayloadKindName(kind))
        ordinal = self._next_payload_ordinal
        self._next_payload_ordinal += 1
        (self._payloads_dir / f"{ordinal}.json").write_text(_pretty(value), encoding="utf-8")
        return RawPayloadRef(
            raw_payload_id=f"raw_payload:{ordinal}",
            kind=kind,
            path=f"{PAYLOADS_DIR_NAME}/{ordinal}.json",
        )

    def append(
        self,
        payload: Any,
        *,
        thread_id: str | None = None,
        codex_turn_id: str | None = None,
    ) -> RawTraceEvent:
        """Append one event (a payload model or its JSON-shaped mapping)."""
        if isinstance(payload, Mapping):
            payload = _PAYLOAD_ADAPTER.validate_python(dict(payload))
        event = RawTraceEvent(
            schema_version=RAW_TRACE_EVENT_SCHEMA_VERSION,
            seq=self._next_seq,
            wall_time_unix_ms=self._clock(),
            rollout_id=self.manifest.rollout_id,
            thread_id=thread_id,
            codex_turn_id=codex_turn_id,
            payload=payload,
        )
        self._next_seq += 1
        line = json.dumps(
            event_json(event, self.dialect), ensure_ascii=False, separators=(",", ":")
        )
        self._event_log.write(line + "\n")
        self._event_log.flush()
        return event

    def close(self) -> None:
        self._event_log.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
