"""Explicit, one-line errors of the Neo4j exporter.

The driver's own exceptions carry multi-line, GQL-status-laden messages; the
exporter turns the ones a user can act on (server not reachable, credentials
refused, unknown database, connection lost half-way) into
:class:`Neo4jExportError`, a :class:`tracegraph.errors.TracegraphError`, whose
message is one line. The CLI prints it and exits with code 2.
"""

from __future__ import annotations

from typing import Any

from tracegraph.errors import TracegraphError

__all__ = [
    "SUPPORTED_SCHEMES",
    "Neo4jExportError",
    "describe_driver_error",
    "one_line",
    "translate",
]

#: URI schemes the exporter accepts (Bolt direct and Neo4j routing, plain or TLS).
SUPPORTED_SCHEMES: tuple[str, ...] = (
    "bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc",
)


class Neo4jExportError(TracegraphError):
    """Talking to Neo4j failed: not reachable, credentials refused, unknown database, ...

    ``batches_written`` counts the batches committed before the failure (for an
    error during a load); the database then holds a partial load that running
    the same load again completes.
    """

    def __init__(self, message: str, *, batches_written: int | None = None,
                 batches_total: int | None = None) -> None:
        self.batches_written = batches_written
        self.batches_total = batches_total
        super().__init__(message)


#: Longest driver message kept in an error line.
MAX_DETAIL_CHARS = 300


def one_line(text: str) -> str:
    """``text`` with its lines joined by spaces, cut at :data:`MAX_DETAIL_CHARS`."""
    joined = " ".join(str(text).split())
    return joined if len(joined) <= MAX_DETAIL_CHARS else joined[: MAX_DETAIL_CHARS - 1] + "…"


def describe_driver_error(err: BaseException) -> str:
    """A short, one-line description of a ``neo4j`` driver exception."""
    message: Any = getattr(err, "message", None)
    code: Any = getattr(err, "code", None)
    text = one_line(message) if isinstance(message, str) and message else one_line(str(err))
    if not text:
        text = type(err).__name__
    if isinstance(code, str) and code and code not in text:
        return f"{code}: {text}"
    return text


def translate(err: Exception, *, uri: str | None = None, database: str | None = None,
              user: str | None = None, batches_written: int | None = None,
              batches_total: int | None = None) -> Neo4jExportError | None:
    """The :class:`Neo4jExportError` for a driver exception, or ``None`` when it is not one.

    Only exceptions of the ``neo4j`` package are translated; anything else (a bug,
    a ``KeyboardInterrupt``, an error raised by a progress callback) propagates as is.
    """
    from neo4j.exceptions import (
        AuthError,
        ConfigurationError,
        DriverError,
        Neo4jError,
        ServiceUnavailable,
        SessionExpired,
    )

    where = f" at {uri}" if uri else ""
    progress = ""
    if batches_written is not None:
        of = f" of {batches_total}" if batches_total is not None else ""
        progress = (f" after {batches_written}{of} batches were written"
                    "; run the same load again to complete it")
    detail = describe_driver_error(err)

    def error(message: str) -> Neo4jExportError:
        return Neo4jExportError(message, batches_written=batches_written,
                                batches_total=batches_total)

    if isinstance(err, AuthError) or (
        isinstance(err, Neo4jError) and (err.code or "").startswith("Neo.ClientError.Security.")
    ):
        who = f" for user {user!r}" if user else ""
        return error(f"Neo4j{where} refused the credentials{who} ({detail}){progress}")
    if isinstance(err, Neo4jError) and err.code == "Neo.ClientError.Database.DatabaseNotFound":
        name = f" {database!r}" if database else ""
        return error(f"Neo4j{where} has no database{name} ({detail}){progress}")
    if isinstance(err, ServiceUnavailable | SessionExpired):
        if batches_written:
            return error(f"lost the connection to Neo4j{where} ({detail}){progress}")
        return error(f"cannot connect to Neo4j{where}: {detail}{progress}")
    if isinstance(err, ConfigurationError):
        return error(f"bad Neo4j connection settings{where}: {detail}")
    if isinstance(err, Neo4jError | DriverError):
        return error(f"Neo4j{where} failed: {detail}{progress}")
    return None
