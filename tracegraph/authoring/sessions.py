"""Writing Codex session rollout files (``~/.codex/sessions``), for tests and examples.

Lines are compact JSON envelopes ``{"timestamp", "ordinal"?, "type", "payload"}``
appended in order, as Codex writes them; timestamps advance by a fixed step
from ``start`` unless a line gives its own. ``.zst`` targets are compressed
with zstandard. Response items come from :mod:`tracegraph.authoring.items`;
the line shapes follow ``../shared/reference/session-rollouts.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import zstandard

from tracegraph._atomic import atomic_write_bytes
from tracegraph.authoring import items
from tracegraph.authoring.items import Json

__all__ = ["SessionWriter", "rfc3339"]


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and ``Z``, as Codex stamps lines."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


@dataclass
class SessionWriter:
    """One thread's session file, built line by line."""

    thread_id: str
    start: datetime
    #: Write an ``ordinal`` on every line (2026 files from about CLI 0.146).
    ordinals: bool = False
    step: timedelta = timedelta(seconds=1)
    lines: list[dict[str, Any]] = field(default_factory=list)
    clock: datetime | None = None

    def now(self) -> datetime:
        if self.clock is None:
            self.clock = self.start
        return self.clock

    def line(self, line_type: str, payload: dict[str, Any], *, at: datetime | None = None,
             **extra: Any) -> dict[str, Any]:
        """Append one line; ``at`` stamps it (and moves the clock there)."""
        moment = at if at is not None else (
            self.now() if not self.lines else self.now() + self.step)
        self.clock = moment
        value: dict[str, Any] = {"timestamp": rfc3339(moment)}
        if self.ordinals:
            value["ordinal"] = len(self.lines)
        value.update(type=line_type, payload=payload, **extra)
        self.lines.append(value)
        return value

    def copy_lines(self, other: SessionWriter) -> None:
        """Replay another file's lines as they are (a child's copy of its parent's history)."""
        for value in other.lines:
            copied = dict(value)
            if self.ordinals:
                copied["ordinal"] = len(self.lines)
            elif "ordinal" in copied:
                del copied["ordinal"]
            self.lines.append(copied)

    # --- common lines ------------------------------------------------------------

    def meta(self, **fields: Any) -> dict[str, Any]:
        payload = {"id": self.thread_id, "timestamp": rfc3339(self.now()), **fields}
        return self.line("session_meta", payload, at=self.now())

    def turn_context(self, model: str, **fields: Any) -> dict[str, Any]:
        return self.line("turn_context", {"model": model, **fields})

    def event(self, event_type: str, **fields: Any) -> dict[str, Any]:
        return self.line("event_msg", {"type": event_type, **fields})

    def item(self, item: Json, **fields: Any) -> dict[str, Any]:
        """A ``response_item`` line; ``fields`` (``id``, ``namespace``...) are added to it."""
        return self.line("response_item", {**item, **fields})

    def message(self, role: str, text: str, *, phase: str | None = None,
                turn_id: str | None = None, **fields: Any) -> dict[str, Any]:
        item = items.message(role, text, phase)
        if turn_id is not None:
            item["internal_chat_message_metadata_passthrough"] = {"turn_id": turn_id}
        return self.item(item, **fields)

    def function_call(self, name: str, arguments: Json, call_id: str,
                      **fields: Any) -> dict[str, Any]:
        compact = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
        return self.item(items.function_call(name, compact, call_id), **fields)

    def function_output(self, call_id: str, output: Any) -> dict[str, Any]:
        return self.item(items.function_output(call_id, output))

    def token_count(self, total: dict[str, int], last: dict[str, int]) -> dict[str, Any]:
        return self.event("token_count", info={"total_token_usage": total,
                                               "last_token_usage": last,
                                               "model_context_window": 272000},
                          rate_limits=None)

    # --- output ------------------------------------------------------------------

    def data(self) -> bytes:
        return b"".join(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
                        + b"\n" for value in self.lines)

    def write(self, path: str | Path, *, compress: bool | None = None) -> Path:
        """Write the file atomically; ``.zst`` names (or ``compress``) get zstandard."""
        path = Path(path)
        data = self.data()
        if compress or (compress is None and path.suffix == ".zst"):
            data = zstandard.ZstdCompressor(level=3).compress(data)
        return atomic_write_bytes(path, data)
