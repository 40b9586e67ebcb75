"""Bundle layer: manifest, raw events, payload files, and the bundle writer."""

from tracegraph.bundle.events import RawTraceEvent, RawTraceEventPayload, raw_payload_refs
from tracegraph.bundle.manifest import TraceBundleManifest
from tracegraph.bundle.reader import EventLine, SkippedEvent, TraceBundle, parse_event_line

__all__ = [
    "EventLine",
    "RawTraceEvent",
    "RawTraceEventPayload",
    "SkippedEvent",
    "TraceBundle",
    "TraceBundleManifest",
    "parse_event_line",
    "raw_payload_refs",
]
