"""Arguments and options several commands share, with their defaults."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from tracegraph.bundle.limits import Limits

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BARS",
    "DEFAULT_URI",
    "DEFAULT_WRITERS",
    "NEO4J_OPTION",
    "PASSWORD_ENV",
    "BundleArg",
    "DatabaseOption",
    "DialectChoice",
    "DialectOption",
    "FullSnapshotsOption",
    "LenientOption",
    "LimitOption",
    "Neo4jUriCommand",
    "Neo4jUriOption",
    "SourceArg",
    "StrictOption",
    "TraceOption",
    "UserOption",
    "ViewSourceArg",
    "read_limits",
    "with_default_neo4j_uri",
]


#: Option defaults, as literals so that the help needs no heavy import; a test checks
#: them against tracegraph.neo4j and tracegraph.views.
DEFAULT_BATCH_SIZE = 2500


DEFAULT_WRITERS = 2


DEFAULT_URI = "bolt://localhost:7687"


DEFAULT_MAX_BARS = 2500


BundleArg = Annotated[
    Path,
    typer.Argument(help="Trace bundle directory (manifest.json, trace.jsonl, payloads/)."),
]


class DialectChoice(StrEnum):
    AUTO = "auto"
    SEED = "seed"
    UPSTREAM = "upstream"


DialectOption = Annotated[
    DialectChoice,
    typer.Option("--dialect", case_sensitive=False,
                 help="Trace format: seed (first published format, exactly the reference "
                      "reducer), upstream (current Codex), or auto: upstream when the event log "
                      "shows newer-format evidence, else seed."),
]


LenientOption = Annotated[
    bool,
    typer.Option("--lenient",
                 help="Instead of failing, skip event types the dialect does not know (and "
                      "events holding a variant it does not know, with the events that need "
                      "them) and keep unknown model item types as opaque conversation items; "
                      "each unknown type is reported once, with its count."),
]


FullSnapshotsOption = Annotated[
    bool,
    typer.Option("--full-snapshots",
                 help="Give every inference request a PROMPTED edge from every item of its "
                      "input (edges grow with the square of the turns) instead of only the "
                      "items it adds to the request it EXTENDS; see docs/graph-schema.md."),
]


StrictOption = Annotated[
    bool,
    typer.Option("--strict",
                 help="Refuse a bundle whose final line is unfinished (no newline, does not "
                      "parse), as the reference reducer does. By default such a line, a record "
                      "still being written, is left out and the complete events are reduced."),
]


LimitOption = Annotated[
    list[str] | None,
    typer.Option("--limit", metavar="NAME=VALUE",
                 help="Change an input limit (repeatable): line-bytes, payload-bytes, "
                      "bundle-bytes (e.g. 2GiB), events, payloads. Also "
                      "TRACEGRAPH_LIMIT_<NAME>; defaults in tracegraph/bundle/limits.py."),
]


def read_limits(options: Sequence[str] | None) -> Limits:
    """The input limits: defaults, then ``TRACEGRAPH_LIMIT_*``, then ``--limit`` options."""
    return Limits.from_env().with_options(options or ())


SourceArg = Annotated[
    Path,
    typer.Argument(help="Trace bundle directory, or a reduced state.json file."),
]


#: Environment variable holding the Neo4j password (never a command-line option).
PASSWORD_ENV = "NEO4J_PASSWORD"


NEO4J_OPTION = "--neo4j"


def with_default_neo4j_uri(args: Sequence[str]) -> list[str]:
    """``--neo4j`` not followed by a URI (something with ``://``) gets :data:`DEFAULT_URI`.

    Typer has no options with an optional value, so ``--neo4j [URI]`` is done here:
    ``load BUNDLE --neo4j``, ``load --neo4j BUNDLE`` and ``load BUNDLE --neo4j
    neo4j://host`` all work. ``--neo4j=URI`` and anything after ``--`` are left alone.
    """
    out: list[str] = []
    for index, arg in enumerate(args):
        out.append(arg)
        if arg == "--":
            out.extend(args[index + 1:])
            break
        if arg == NEO4J_OPTION and (index + 1 >= len(args) or "://" not in args[index + 1]):
            out.append(DEFAULT_URI)
    return out


class Neo4jUriCommand(TyperCommand):
    """A command whose ``--neo4j`` option may be given without its URI."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_default_neo4j_uri(args))


Neo4jUriOption = Annotated[
    str | None,
    typer.Option(NEO4J_OPTION, metavar="[URI]",
                 help=f"Neo4j server: bolt://host:port (one server) or neo4j://host:port "
                      f"(routing: cluster, Aura); {DEFAULT_URI} when given without a URI. "
                      f"The password comes from ${PASSWORD_ENV}, else a hidden prompt."),
]


UserOption = Annotated[str, typer.Option("--user", help="Neo4j user.")]


DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Neo4j database (default: the server's default database)."),
]


ViewSourceArg = Annotated[
    Path, typer.Argument(help="Trace bundle directory, reduced state.json or GraphML file."),
]


TraceOption = Annotated[
    str | None,
    typer.Option("--trace", help="The trace to draw, when the source holds several."),
]
