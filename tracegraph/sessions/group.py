"""Grouping session files into rollouts: one per root session, sub-agents as child threads.

A child file names its parent in ``session_meta`` (``parent_thread_id``, or
``source.subagent.thread_spawn.parent_thread_id``). A child (and a fork) starts
with a copy of the parent's history; that copy is recognised and left out, so
nothing is counted twice:

- ``subagent_history_start_ordinal``: lines with a lower ``ordinal`` are copied;
- otherwise, for a child or a fork, lines stamped before the file's own
  ``session_meta.timestamp`` (copies keep their original times), and every
  further ``session_meta`` line (the parent's, copied).

A fork (``forked_from_id``) is its own rollout with that id as an attribute,
not a child.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracegraph.sessions.lines import Record, SessionFile, parse_timestamp_ms

__all__ = ["ERAS", "RolloutGroup", "ThreadSource", "group_rollouts", "thread_source"]

#: Format eras, oldest first (see docs/session-rollouts.md).
ERAS = ("envelope-2025", "legacy-2026", "paginated-2026")

_TURN_EVENTS = frozenset({"task_started", "turn_started", "task_complete", "turn_complete"})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(slots=True)
class ThreadSource:
    """One thread's file, with its own records (copied history removed)."""

    file: SessionFile
    thread_id: str
    meta: dict[str, Any]
    own: list[Record]
    copied_lines: int
    era: str
    parent_thread_id: str | None
    forked_from_id: str | None
    session_id: str | None
    spawn: dict[str, Any]

    @property
    def agent_path(self) -> str | None:
        return _text(self.meta.get("agent_path")) or _text(self.spawn.get("agent_path"))

    @property
    def nickname(self) -> str | None:
        return _text(self.meta.get("agent_nickname")) or _text(self.spawn.get("agent_nickname"))

    @property
    def agent_role(self) -> str | None:
        return (_text(self.meta.get("agent_role")) or _text(self.meta.get("agent_type"))
                or _text(self.spawn.get("agent_role")))


@dataclass(slots=True)
class RolloutGroup:
    """The threads of one root session, root first, then children in start order."""

    root: ThreadSource
    threads: list[ThreadSource] = field(default_factory=list)
    #: Files holding a thread already read from another file (resume or Desktop copies).
    duplicate_files: list[str] = field(default_factory=list)

    @property
    def era(self) -> str:
        return self.root.era


def _spawn(meta: dict[str, Any]) -> dict[str, Any]:
    source = meta.get("source")
    if isinstance(source, dict):
        subagent = source.get("subagent")
        if isinstance(subagent, dict) and isinstance(subagent.get("thread_spawn"), dict):
            spawn: dict[str, Any] = subagent["thread_spawn"]
            return spawn
    return {}


def _era(meta: dict[str, Any], records: list[Record]) -> str:
    if meta.get("history_mode") == "paginated":
        return "paginated-2026"
    events = {r.payload.get("type") for r in records if r.type == "event_msg"}
    if "item_completed" in events and any(
        r.type == "event_msg" and r.payload.get("type") == "item_completed"
        and isinstance(r.payload.get("item"), dict)
        and r.payload["item"].get("type") not in ("Plan", "Sleep")
        for r in records
    ):
        return "paginated-2026"
    if (events & _TURN_EVENTS or any(r.ordinal is not None for r in records)
            or "base_instructions" in meta or "history_mode" in meta):
        return "legacy-2026"
    return "envelope-2025"


def thread_source(file: SessionFile) -> ThreadSource:
    """The thread a file holds, and its own records."""
    first = file.records[0]
    meta = first.payload
    spawn = _spawn(meta)
    parent = _text(meta.get("parent_thread_id")) or _text(spawn.get("parent_thread_id"))
    forked = _text(meta.get("forked_from_id"))
    body = file.records[1:]
    start = meta.get("subagent_history_start_ordinal")
    own: list[Record]
    if isinstance(start, int) and not isinstance(start, bool):
        own = [r for r in body if r.ordinal is None or r.ordinal >= start]
    elif parent is not None or forked is not None:
        born = parse_timestamp_ms(meta.get("timestamp")) or first.timestamp_ms
        own = [r for r in body if born is None or r.timestamp_ms is None or r.timestamp_ms >= born]
    else:
        own = list(body)
    # A further session_meta is always the copied parent's header.
    own = [r for r in own if r.type != "session_meta"]
    thread_id = _text(meta.get("id")) or file.path.name
    return ThreadSource(
        file=file, thread_id=thread_id, meta=meta, own=own,
        copied_lines=len(body) - len(own), era=_era(meta, file.records),
        parent_thread_id=parent, forked_from_id=forked,
        session_id=_text(meta.get("session_id")), spawn=spawn,
    )


def group_rollouts(files: Iterable[SessionFile]) -> list[RolloutGroup]:
    """One group per root thread, in the order the roots' files were given."""
    by_id: dict[str, ThreadSource] = {}
    duplicates: dict[str, list[str]] = {}
    for file in files:
        source = thread_source(file)
        known = by_id.get(source.thread_id)
        if known is not None:
            # The same thread in two files (a resume or a copy): keep the one with more
            # own lines, then the shorter name (`x.jsonl` over `x (1).jsonl`).
            def rank(t: ThreadSource) -> tuple[int, int]:
                return len(t.own), -len(t.file.path.name)

            keep, drop = (source, known) if rank(source) > rank(known) else (known, source)
            by_id[source.thread_id] = keep
            duplicates.setdefault(source.thread_id, []).append(str(drop.file.path))
            continue
        by_id[source.thread_id] = source

    def root_of(source: ThreadSource) -> ThreadSource:
        seen = {source.thread_id}
        while source.parent_thread_id in by_id and source.parent_thread_id not in seen:
            source = by_id[source.parent_thread_id]
            seen.add(source.thread_id)
        return source

    groups: dict[str, RolloutGroup] = {}
    for source in by_id.values():
        root = root_of(source)
        group = groups.setdefault(root.thread_id, RolloutGroup(root=root))
        group.threads.append(source)
        group.duplicate_files.extend(duplicates.get(source.thread_id, ()))
    for group in groups.values():
        children = [t for t in group.threads if t is not group.root]
        children.sort(key=lambda t: (t.file.records[0].timestamp_ms or 0, t.thread_id))
        group.threads = [group.root, *children]
    return list(groups.values())
