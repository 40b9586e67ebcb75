"""``tracegraph`` command line.

Bad input never prints a traceback: one line on stderr naming the file, line or
event ``seq``, exit code 2, and no partially written output file.

One module per group of commands (``cmd_*``), over the shared pieces: the
consoles (:mod:`.console`), options (:mod:`.options`), what the commands read
(:mod:`.sources`), the summaries they print (:mod:`.summary`) and the Neo4j load
(:mod:`.neo4j_load`). `reduce` and `validate` import only the bundle, reducer and
model modules: the graph, Neo4j, query and view packages (networkx, the driver)
are imported by the commands that use them, so those two start fast.
"""

from __future__ import annotations

import sys

# Importing a command module adds its commands to `app`, in import order, which is the
# order `tracegraph --help` lists them in (the names sort that way).
from tracegraph.cli import cmd_bundle, cmd_graph, cmd_query, cmd_view, cmd_watch
from tracegraph.cli.app import app
from tracegraph.cli.neo4j_load import quiet_neo4j_driver
from tracegraph.cli.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BARS,
    DEFAULT_URI,
    DEFAULT_WRITERS,
    with_default_neo4j_uri,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BARS",
    "DEFAULT_URI",
    "DEFAULT_WRITERS",
    "app",
    "main",
    "quiet_neo4j_driver",
    "with_default_neo4j_uri",
]

_COMMAND_MODULES = (cmd_bundle, cmd_graph, cmd_query, cmd_view, cmd_watch)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
