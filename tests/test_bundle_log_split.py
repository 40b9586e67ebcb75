"""A log that fits the line limit is read at once and split; as read line by line.

``EventLogReader`` reads the rest of a log in one go when it is no longer than
one line's limit, and line by line (bounded reads) otherwise. Both must yield
the same lines, leave the same offsets, line numbers and tail, and raise the
same errors, from any offset.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tracegraph.bundle.limits import Limits
from tracegraph.bundle.log import EventLogReader
from tracegraph.errors import TracegraphError

_PIECES = [b'{"a":1}', b'{"b":"\xc3\xa9"}', b"", b"  ", b"\t", b"\r", "\u2003".encode(),
           b"\x1f", b"x", b"\xff", b'{"c":"\\u0041"}', b"{" + b"z" * 40 + b"}"]


def _log(rng: random.Random) -> bytes:
    lines = [rng.choice(_PIECES) + rng.choice([b"", b"\r"]) for _ in range(rng.randint(0, 12))]
    text = b"\n".join(lines)
    return text + rng.choice([b"", b"\n", b"\r\n"]) if lines else text


def _outcome(path: Path, offset: int, first_line: int, limits: Limits) -> tuple[object, ...]:
    reader = EventLogReader(path, offset=offset, first_line=first_line, limits=limits)
    lines: list[tuple[int, bytes]] = []
    try:
        for item in reader:
            lines.append(item)
    except TracegraphError as err:
        return ("error", type(err).__name__, str(err), lines, reader.next_offset,
                reader.next_line, reader.events)
    return ("ok", lines, reader.next_offset, reader.next_line, reader.tail, reader.events,
            reader.end, reader.grew)


@pytest.mark.parametrize("seed", range(300))
def test_whole_read_matches_line_reads(seed: int, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    data = _log(rng)
    path = tmp_path / "trace.jsonl"
    path.write_bytes(data)
    newlines = [index + 1 for index, byte in enumerate(data) if byte == 10]
    offset = rng.choice([0, *newlines]) if newlines else 0
    first_line = 1 + data.count(b"\n", 0, offset)
    limits = Limits(events=rng.choice([3, 100]), line_bytes=rng.choice([len(data) + 1, 1000]))
    whole = _outcome(path, offset, first_line, limits)
    with monkeypatch.context() as patch:
        patch.setattr(EventLogReader, "_read_whole", False)
        patch.setattr(EventLogReader, "_split", _refuse)
        by_line = _outcome(path, offset, first_line, limits)
    assert whole == by_line, data


def _refuse(self: EventLogReader, data: bytes) -> object:
    raise AssertionError("the whole-read path was taken")


def test_a_log_over_the_line_limit_is_read_line_by_line(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b'{"a":1}\n' * 20)
    monkeypatch.setattr(EventLogReader, "_split", _refuse)
    reader = EventLogReader(path, limits=Limits(line_bytes=100))
    assert [line for line, _ in reader] == list(range(1, 21))
    assert reader.next_offset == 160


def test_a_log_within_the_line_limit_is_split(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b'{"a":1}\r\n\n  \n{"b":2}\n{"c"')
    reader = EventLogReader(path, limits=Limits(line_bytes=1000))
    assert list(reader) == [(1, b'{"a":1}'), (4, b'{"b":2}')]
    assert (reader.next_offset, reader.next_line, reader.tail) == (21, 5, b'{"c"')
