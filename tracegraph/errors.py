"""Explicit exceptions raised by tracegraph.

Every message is one line that names the file, line or event ``seq`` at fault,
so the CLI can print it as is.
"""

from __future__ import annotations

__all__ = [
    "BundleError",
    "GraphError",
    "LimitError",
    "StateFileError",
    "TraceError",
    "TracegraphError",
]


class TracegraphError(Exception):
    """Base class of every error tracegraph raises on bad input."""


class BundleError(TracegraphError):
    """The bundle itself is unreadable: manifest, event log or payload files."""


class TraceError(TracegraphError):
    """Replay failed: an event contradicts the evidence reduced so far.

    ``seq`` and ``line`` locate the raw event; ``reason`` is the reducer's own
    message (the same wording as the reference reducer where it has one).
    """

    def __init__(self, reason: str, *, seq: int | None = None, line: int | None = None,
                 path: str | None = None) -> None:
        self.reason = reason
        self.seq = seq
        self.line = line
        self.path = path
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        return f"{' '.join(where)}: {self.reason}" if where else self.reason


class StateFileError(TracegraphError):
    """A ``state.json`` file could not be loaded."""


class GraphError(TracegraphError, ValueError):
    """A graph cannot be composed or exported: it breaks the schema or contradicts another.

    Also a ``ValueError``, which callers caught before it existed.
    """


class LimitError(BundleError):
    """The bundle exceeds one of the configured input limits (see ``tracegraph.bundle.limits``)."""

    def __init__(self, what: str, name: str, limit: str) -> None:
        self.limit_name = name
        super().__init__(
            f"{what} exceeds the limit of {limit} (raise it with --limit {name}=VALUE or "
            f"TRACEGRAPH_LIMIT_{name.replace('-', '_').upper()})"
        )


#: What :func:`quote_name` echoes as is: short identifier-like names (event types,
#: variants, roles). Anything else might be trace content and is described instead.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/")
_NAME_MAX = 48


def is_name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _NAME_MAX and set(value) <= _NAME_CHARS


def withheld_string(value: str) -> str:
    """A string from the trace shown by its size alone: ``<string of 12 characters>``."""
    return f"<string of {len(value)} character{'' if len(value) == 1 else 's'}>"


def safe_name(value: object) -> str:
    """A value from the trace, for an error message, as is only if it looks like a name.

    Error messages name types, fields and variants but never echo content (message
    text, commands, tool output), so a value that is long, or not identifier-like, or
    not a string at all is shown by its kind and size alone.
    """
    if is_name(value):
        return str(value)
    if isinstance(value, str):
        return withheld_string(value)
    if value is None:
        return "null"
    return f"<{type(value).__name__}>"


def withhold_content(message: str, evidence: object) -> str:
    """``message`` with every string of ``evidence`` (JSON values: the event and the
    payloads it names) that is not an id shown as :func:`safe_name` shows it.

    Reducer messages quote ids as the reference does; in a damaged trace an id may
    hold content (a command, a line of code), which no message may echo. Short
    strings are left (they would match the message's own words); control characters
    are escaped, so the message stays one line.
    """
    strings: set[str] = set()
    pending = [evidence]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not _is_id(value) and len(value) >= _WITHHELD_MIN:
                strings.add(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    for text in sorted(strings, key=len, reverse=True):
        if text in message:
            message = message.replace(text, safe_name(text))
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in message)


#: Strings shorter than this are not looked for (they match ordinary words).
_WITHHELD_MIN = 6
#: Ids are longer than names can be (``resp_`` and 48 hex digits, UUIDs in braces).
_ID_MAX = 128


def _is_id(value: str) -> bool:
    """An id as traces may write them: one printable word (any script) of up to
    ``_ID_MAX`` characters. Content (code, commands, prose) has spaces or is longer."""
    return len(value) <= _ID_MAX and value.isprintable() and not any(
        char.isspace() for char in value)


def quote_name(value: object) -> str:
    """:func:`safe_name`, quoted like ``repr`` when it is a name."""
    return repr(value) if is_name(value) else safe_name(value)


class MissingPayloadError(BundleError):
    """A payload file an event refers to does not exist (perhaps not written yet)."""

    def __init__(self, message: str, raw_payload_id: str) -> None:
        self.raw_payload_id = raw_payload_id
        super().__init__(message)
