"""Tables on stdout that stay readable whatever the output is.

rich fits a table into the console's width, which is 80 columns when stdout is
not a terminal: piped into a file or ``less``, a wide table's cells were folded
into slivers. Here a table is printed at its natural width when stdout is not a
terminal (nothing wraps; ``less -S`` and ``cut`` work), and in a terminal too
narrow for it, query rows can be printed as records, one field per line, as
``psql``'s expanded display does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["natural_width", "print_records", "print_rows", "print_table"]


def natural_width(console: Console, table: Table) -> int:
    """The columns ``table`` takes when nothing in it has to wrap."""
    options = console.options.update(width=1_000_000)
    return Measurement.get(console, options, table).maximum


@contextmanager
def _width(console: Console, width: int) -> Iterator[None]:
    before = console.width
    console.width = width
    try:
        yield
    finally:
        console.width = before


def print_table(table: Table, console: Console) -> None:
    """``table`` on ``console``: fitted to a terminal, at its natural width elsewhere."""
    if console.is_terminal:
        console.print(table)
        return
    with _width(console, max(console.width, natural_width(console, table))):
        console.print(table)


def print_records(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
                  console: Console) -> None:
    """Each row as a block of ``column  value`` lines under a ``-[ ROW n ]-`` rule."""
    console.print(Text(title, style="bold"))
    name_width = max((len(column) for column in columns), default=0)
    for number, cells in enumerate(rows, 1):
        console.print(Text(f"-[ ROW {number} ]-", style="dim"))
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", min_width=name_width, no_wrap=True)
        block.add_column(overflow="fold")
        for column, cell in zip(columns, cells, strict=True):
            block.add_row(column, cell)
        console.print(block)


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
               console: Console) -> None:
    """Query rows: a table, or records in a terminal too narrow for the table."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for cells in rows:
        table.add_row(*cells)
    if console.is_terminal and rows and natural_width(console, table) > console.width:
        print_records(title, columns, rows, console)
        return
    print_table(table, console)
