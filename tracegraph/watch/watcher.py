"""Follow a directory of trace bundles and keep a sink up to date with each of them.

The root has the layout of ``CODEX_ROLLOUT_TRACE_ROOT``: one bundle directory
per rollout (``trace-{trace_id}-{root_thread_id}``). A root that is itself a
bundle is watched alone. For every bundle the watcher keeps the replay in
memory and feeds it only the event lines appended since its last look; after
each look that added events it updates the graph and hands the sink what
changed. For Neo4j the graph is a :class:`~tracegraph.watch.live.LiveProjection`:
the replay notes which objects the new events reached and only those are
projected again, so a look costs what the new events touched, not what the
trace holds. GraphML files are written whole from a fresh projection (same
bytes as ``tracegraph export``).

- A log that was truncated, replaced or rewritten, or a manifest that
  changed, is reloaded from scratch.
- A bundle whose trace becomes invalid is reported once and left alone (what
  was written before stays: it is the graph of a valid prefix) until its log
  or manifest is replaced; the other bundles are watched on.
- A failed write is reported and retried at the next look, as a full load.
- ``strict``: a log whose end is a line still being written is not published
  until that line is complete (the reference reducer refuses such a log), so
  the graph is never marked partial.

File events come from ``watchfiles`` (inotify and friends), with its polling
backend when asked for or when native watching cannot start; every look also
runs after ``poll_interval`` seconds without events, so a missed event only
delays an update.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx

from tracegraph.bundle.limits import DEFAULT_LIMITS, Limits
from tracegraph.bundle.manifest import MANIFEST_FILE_NAME
from tracegraph.errors import BundleError, TracegraphError
from tracegraph.graph.project import project
from tracegraph.model.dialect import Dialect
from tracegraph.watch.diff import GraphDiff
from tracegraph.watch.incremental import DialectChange, IncrementalReplay
from tracegraph.watch.live import LiveProjection
from tracegraph.watch.sinks import Sink
from tracegraph.watch.tail import LogTail

__all__ = ["BundleStatus", "Watcher"]

#: Milliseconds ``watchfiles`` keeps collecting changes after the first one.
DEBOUNCE_MS = 50
#: Milliseconds without a further change after which a batch of changes is reported.
STEP_MS = 20


@dataclass(frozen=True)
class BundleStatus:
    """One bundle as the watcher last saw it (one status line)."""

    name: str
    events: int = 0
    threads: int = 0
    #: The rollout's status (``running``, ``completed``...), or ``waiting``,
    #: ``invalid`` (skipped until replaced) or ``write failed``.
    status: str = "waiting"
    #: Wall-clock time (``time.time()``) of the last change written, if any.
    updated: float | None = None
    detail: str = ""
    #: Number of a final line still being written (left for a later look), if any.
    torn_line: int | None = None

    @property
    def last_update(self) -> str:
        if self.updated is None:
            return "never"
        return time.strftime("%H:%M:%S", time.localtime(self.updated))

    def line(self) -> str:
        text = (f"{self.name}: {self.events} events, {self.threads} threads, {self.status}, "
                f"last update {self.last_update}")
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class _Bundle:
    path: Path
    status: BundleStatus
    tail: LogTail | None = None
    replay: IncrementalReplay | None = None
    manifest_stat: tuple[int, int, int] | None = None
    #: The graph the sink holds for this bundle (``None``: unknown, write in full).
    written: nx.MultiDiGraph | None = None
    #: The kept graph of the replay (incremental sinks), ``written`` once written.
    live: LiveProjection | None = None
    #: The last write failed: write again at the next look.
    write_failed: bool = False
    invalid: bool = False
    #: The dialect and reason to start with (``auto`` found upstream evidence).
    dialect: tuple[str, str | None] = ("auto", None)
    reloads: int = 0


@dataclass
class Watcher:
    """Watches ``root`` and writes every bundle's graph to ``sink``.

    ``report`` is called with a bundle's status whenever it changes;
    ``notice`` with one-line messages about the watcher itself.
    """

    root: Path
    sink: Sink
    dialect: Dialect | str = "auto"
    lenient: bool = False
    report: Callable[[BundleStatus], None] | None = None
    notice: Callable[[str], None] | None = None
    #: Refuse to publish a log that ends in a line still being written.
    strict: bool = False
    limits: Limits = DEFAULT_LIMITS
    _bundles: dict[Path, _Bundle] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise BundleError(f"{self.root}: no such directory to watch")
        if str(self.dialect) != "auto":
            self.dialect = Dialect(self.dialect)

    @property
    def statuses(self) -> list[BundleStatus]:
        return [bundle.status for bundle in self._bundles.values()]

    def bundle_paths(self) -> list[Path]:
        """The bundles under the root now: the root itself, or its bundle subdirectories.

        A subdirectory counts as soon as it holds a manifest (the writer's first file).
        """
        if (self.root / MANIFEST_FILE_NAME).exists():
            return [self.root]
        try:
            children = sorted(os.scandir(self.root), key=lambda entry: entry.name)
        except FileNotFoundError:
            return []
        return [Path(entry.path) for entry in children
                if entry.is_dir() and os.path.exists(os.path.join(entry.path,
                                                                  MANIFEST_FILE_NAME))]

    # --- one look ---------------------------------------------------------------

    def sync(self) -> int:
        """Look at every bundle once; returns the number of new events applied."""
        paths = self.bundle_paths()
        for gone in [path for path in self._bundles if path not in paths]:
            self._set(self._bundles.pop(gone), status="removed",
                      detail="bundle directory gone; its graph stays")
        applied = 0
        for path in paths:
            bundle = self._bundles.get(path)
            if bundle is None:
                bundle = self._bundles[path] = _Bundle(path, BundleStatus(path.name))
            applied += self._sync_bundle(bundle)
        return applied

    def _sync_bundle(self, bundle: _Bundle) -> int:
        manifest_stat = _stat(bundle.path / MANIFEST_FILE_NAME)
        if manifest_stat is None:
            return 0
        if bundle.manifest_stat is not None and manifest_stat != bundle.manifest_stat:
            self._restart(bundle, "manifest changed")
        elif bundle.invalid:
            reason = bundle.tail.check() if bundle.tail is not None else None
            if reason is None:
                return 0
            self._restart(bundle, reason)
        before = bundle.replay.events if bundle.replay is not None else 0
        try:
            changed = self._advance(bundle, manifest_stat)
        except DialectChange as change:
            self._restart(bundle, None)
            bundle.dialect = (Dialect.UPSTREAM.value, change.reason)
            if self.notice is not None:
                self.notice(f"{bundle.path.name}: dialect upstream ({change.reason})")
            before = 0
            try:
                changed = self._advance(bundle, manifest_stat)
            except TracegraphError as err:
                return self._invalid(bundle, err)
        except TracegraphError as err:
            return self._invalid(bundle, err)
        applied = (bundle.replay.events if bundle.replay is not None else 0) - before
        if self.strict and bundle.status.torn_line is not None:
            self._set(bundle, detail=f"line {bundle.status.torn_line} still being written "
                                     "(--strict: not shown until complete)")
        elif changed or bundle.write_failed:
            self._publish(bundle)
        return max(applied, 0)

    def _advance(self, bundle: _Bundle, manifest_stat: tuple[int, int, int]) -> bool:
        """Read and apply the new lines; True when the graph may have changed."""
        first = bundle.replay is None
        if bundle.replay is None:
            dialect, reason = bundle.dialect
            if dialect == "auto":
                dialect = str(self.dialect)
            # Recorded first: a manifest that cannot be read is retried once it changes.
            bundle.manifest_stat = manifest_stat
            bundle.replay = IncrementalReplay(
                bundle.path, dialect=dialect, lenient=self.lenient, reason=reason,
                limits=self.limits, track_changes=self.sink.incremental)
            bundle.live = None
            bundle.tail = LogTail(bundle.replay.bundle.event_log_path, limits=self.limits)
        assert bundle.tail is not None
        read = bundle.tail.read()
        if read.reset is not None:
            self._restart(bundle, read.reset)
            return self._advance(bundle, manifest_stat)
        for number, text in read.lines:
            bundle.replay.apply(number, text)
        was_torn = bundle.status.torn_line is not None
        self._set(bundle, torn_line=bundle.tail.line + 1 if read.pending_bytes else None)
        # A torn end makes the trace partial (a Rollout attribute), as a one-shot load says.
        return first or bool(read.lines) or was_torn != bool(read.pending_bytes)

    def _publish(self, bundle: _Bundle) -> None:
        """Project the replay and write what changed; a failed write is retried later."""
        assert bundle.replay is not None
        try:
            replay = bundle.replay.snapshot()
            trace = replay.trace.with_partial(bundle.status.torn_line is not None)
            changes = bundle.replay.take_changes()
            diff: GraphDiff | None = None
            if self.sink.incremental:
                if bundle.live is None:
                    bundle.live = LiveProjection(trace)
                diff = bundle.live.update(trace, changes)
                graph = bundle.live.graph
            else:
                graph = project(trace)
        except TracegraphError as err:
            bundle.live = None
            self._invalid(bundle, err)
            return
        previous = bundle.written
        try:
            if previous is not None and (previous.graph.get("trace_ids")
                                         != graph.graph.get("trace_ids")):
                # The bundle now holds another trace: the old one goes.
                self.sink.forget(bundle.path.name, previous)
                bundle.written = previous = None
            if diff is not None and previous is graph:
                # The sink holds the live graph as it was before this update.
                self.sink.write_changes(bundle.path.name, graph, diff)
            else:
                self.sink.write(bundle.path.name, graph, previous)
        except TracegraphError as err:
            bundle.written, bundle.write_failed = None, True
            self._set(bundle, events=bundle.replay.events, threads=len(trace.threads),
                      status="write failed", detail=f"{err}; retrying")
            return
        bundle.written, bundle.write_failed = graph, False
        self._set(bundle, events=bundle.replay.events, threads=len(trace.threads),
                  status=trace.status.value, updated=time.time(), detail="")

    def _invalid(self, bundle: _Bundle, err: TracegraphError) -> int:
        bundle.invalid = True
        self._set(bundle, status="invalid", detail=f"skipped until replaced: {err}")
        return 0

    def _restart(self, bundle: _Bundle, reason: str | None) -> None:
        """Forget the replay; the next look reads the bundle from its first byte.

        ``reason`` (truncated, replaced...) is announced; ``None`` restarts quietly.
        """
        bundle.replay = bundle.tail = None
        bundle.manifest_stat = None
        bundle.invalid = False
        bundle.reloads += 1
        bundle.dialect = ("auto", None)
        if reason is not None and self.notice is not None:
            self.notice(f"{bundle.path.name}: {reason}: reloading from scratch")

    def _set(self, bundle: _Bundle, **changes: object) -> None:
        status = replace(bundle.status, **changes)  # type: ignore[arg-type]
        if status != bundle.status:
            bundle.status = status
            if self.report is not None:
                self.report(status)

    # --- the loop -----------------------------------------------------------------

    def run(self, *, stop: threading.Event | None = None, idle_exit: float | None = None,
            force_polling: bool = False, poll_interval: float = 1.0) -> None:
        """Look now, then after every batch of file changes, until ``stop`` is set,
        ``idle_exit`` seconds pass without a new event, or Ctrl-C (KeyboardInterrupt)."""
        last_event = time.monotonic()
        if self.sync():
            last_event = time.monotonic()
        for _ in self._changes(stop, force_polling, poll_interval):
            if self.sync():
                last_event = time.monotonic()
            if idle_exit is not None and time.monotonic() - last_event >= idle_exit:
                return
            if stop is not None and stop.is_set():
                return

    def _changes(self, stop: threading.Event | None, force_polling: bool,
                 poll_interval: float) -> Iterator[object]:
        """Batches of file changes under the root; an empty one every ``poll_interval``."""
        from watchfiles import watch

        timeout_ms = max(int(poll_interval * 1000), 10)
        while True:
            changes = watch(self.root, watch_filter=None, debounce=DEBOUNCE_MS, step=STEP_MS,
                            rust_timeout=timeout_ms, yield_on_timeout=True, stop_event=stop,
                            force_polling=force_polling, poll_delay_ms=timeout_ms,
                            raise_interrupt=True)
            try:
                yield from changes
                return
            except OSError as err:
                if force_polling:
                    raise
                force_polling = True
                if self.notice is not None:
                    self.notice(f"native file watching failed ({err}); polling instead")


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
