"""Follow a directory of Codex session rollout files (``~/.codex/sessions``) into a sink.

Session files are appended to while a session runs. Each look stats the files
under the root (a file is sniffed for a ``session_meta`` first line once per
change, never by its name); a session file that is new or changed is read
again whole (a last line still being written is left out until it is
complete), the files are regrouped into rollouts, and only the rollouts
holding a changed file are rebuilt and handed to the sink with the graph it
last wrote, so only the difference is written. A file that cannot be read is
reported and skipped until it changes; a failed write is retried at the next
look.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from tracegraph.errors import TracegraphError
from tracegraph.graph.session import project_session_rollout
from tracegraph.sessions import SessionFile, group_rollouts, is_session_file, read_session_file
from tracegraph.sessions.detect import candidate_files
from tracegraph.sessions.group import ThreadSource
from tracegraph.watch.watcher import BundleStatus, Watcher, _stat

__all__ = ["SessionWatcher"]

Stat = tuple[int, int, int]


@dataclass
class SessionWatcher(Watcher):
    """A :class:`Watcher` whose root holds session files (at any depth) instead of bundles.

    Each rollout is written to the sink under the name ``session-{root thread id}``.
    """

    #: Every file looked at, with its stat and its parsed content (``None``: not a
    #: session file, or one that could not be read).
    _files: dict[Path, tuple[Stat, SessionFile | None]] = field(default_factory=dict)
    _written: dict[str, nx.MultiDiGraph] = field(default_factory=dict)
    _retry: set[str] = field(default_factory=set)
    _status: dict[str, BundleStatus] = field(default_factory=dict)

    @property
    def statuses(self) -> list[BundleStatus]:
        return list(self._status.values())

    def sync(self) -> int:
        """Look at every file once; returns the number of session files read again."""
        changed: set[Path] = set()
        present = set()
        for path in candidate_files(self.root):
            present.add(path)
            stat = _stat(path)
            known = self._files.get(path)
            if stat is None or (known is not None and known[0] == stat):
                continue
            self._files[path] = (stat, self._read(path))
            if self._files[path][1] is not None:
                changed.add(path)
        for gone in set(self._files) - present:
            del self._files[gone]
        if not changed and not self._retry:
            return 0
        sessions = [session for _, session in self._files.values() if session is not None]
        for group in group_rollouts(sorted(sessions, key=lambda session: session.path)):
            name = f"session-{group.root.thread_id}"
            if name in self._retry or {t.file.path for t in group.threads} & changed:
                self._publish_group(name, group.threads, project_session_rollout(group))
        return len(changed)

    def _read(self, path: Path) -> SessionFile | None:
        if not is_session_file(path):
            return None
        try:
            return read_session_file(path)
        except TracegraphError as err:
            if self.notice is not None:
                self.notice(f"skipped until it changes: {err}")
            return None

    def _publish_group(self, name: str, threads: list[ThreadSource],
                       graph: nx.MultiDiGraph) -> None:
        lines = sum(len(thread.own) for thread in threads)
        rollout = next(data for _, data in graph.nodes(data=True)
                       if data.get("label") == "Rollout")
        try:
            self.sink.write(name, graph, self._written.get(name))
        except TracegraphError as err:
            self._written.pop(name, None)
            self._retry.add(name)
            self._report(BundleStatus(name, lines, len(threads), "write failed", None,
                                      f"{err}; retrying"))
            return
        self._written[name] = graph
        self._retry.discard(name)
        self._report(BundleStatus(
            name, lines, len(threads), str(rollout.get("status", "running")), time.time(),
            "last line still being written" if rollout.get("partial") else ""))

    def _report(self, status: BundleStatus) -> None:
        if self._status.get(status.name) != status:
            self._status[status.name] = status
            if self.report is not None:
                self.report(status)
