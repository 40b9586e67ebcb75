"""The watch command's output: one status line per bundle.

On a terminal the lines form a table redrawn in place; otherwise (a pipe, a
log file) a bundle's line is printed again whenever its events, threads,
status or message change.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from tracegraph.watch.watcher import BundleStatus

__all__ = ["StatusDisplay"]


class StatusDisplay:
    """Shows :class:`BundleStatus` updates on ``console``; a context manager."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._statuses: dict[str, BundleStatus] = {}
        self._live: Live | None = None

    def __enter__(self) -> StatusDisplay:
        if self.console.is_terminal:
            self._live = Live(self._table(), console=self.console, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)

    def update(self, status: BundleStatus) -> None:
        before = self._statuses.get(status.name)
        self._statuses[status.name] = status
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
        elif before is None or _shown(before) != _shown(status):
            self.console.print(status.line(), markup=False, highlight=False, soft_wrap=True)

    def _table(self) -> Table:
        table = Table(title="tracegraph watch")
        for column in ("bundle", "events", "threads", "status", "last update", ""):
            table.add_column(column, justify="right" if column in ("events", "threads")
                             else "left", overflow="fold")
        for status in self._statuses.values():
            note = status.detail or (f"line {status.torn_line} still being written"
                                     if status.torn_line else "")
            table.add_row(status.name, str(status.events), str(status.threads), status.status,
                          status.last_update, note)
        return table


def _shown(status: BundleStatus) -> tuple[object, ...]:
    return (status.events, status.threads, status.status, status.detail)
