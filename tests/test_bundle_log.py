"""Reading the event log from a byte offset: complete lines, the torn tail, limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracegraph.bundle.limits import Limits
from tracegraph.bundle.log import EventLogShrankError, read_complete_lines
from tracegraph.errors import BundleError, LimitError, TraceError


def write_log(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(data)
    return path


def test_complete_lines_and_torn_tail(tmp_path: Path) -> None:
    log = write_log(tmp_path, b'{"a":1}\n\n  \r\n{"b":2}\r\n{"c":')
    chunk = read_complete_lines(log)
    assert chunk.lines == ((1, b'{"a":1}'), (4, b'{"b":2}'))
    assert chunk.next_offset == len(b'{"a":1}\n\n  \r\n{"b":2}\r\n')
    assert chunk.next_line == 5
    assert chunk.tail == b'{"c":'
    assert chunk.torn


def test_continue_from_offset_as_the_log_grows(tmp_path: Path) -> None:
    log = write_log(tmp_path, b'{"a":1}\n{"b":')
    first = read_complete_lines(log)
    assert [text for _, text in first.lines] == [b'{"a":1}']
    with log.open("ab") as handle:
        handle.write(b'2}\n{"c":3}\n')
    second = read_complete_lines(log, first.next_offset, first_line=first.next_line)
    assert second.lines == ((2, b'{"b":2}'), (3, b'{"c":3}'))
    assert second.tail == b"" and not second.torn
    assert second.next_offset == log.stat().st_size
    again = read_complete_lines(log, second.next_offset, first_line=second.next_line)
    assert again.lines == () and again.next_offset == second.next_offset


def test_blank_tail_is_not_torn(tmp_path: Path) -> None:
    chunk = read_complete_lines(write_log(tmp_path, b'{"a":1}\n  \t'))
    assert chunk.tail == b"  \t" and not chunk.torn


def test_truncated_log_is_reported(tmp_path: Path) -> None:
    log = write_log(tmp_path, b'{"a":1}\n')
    with pytest.raises(EventLogShrankError, match="truncated or replaced"):
        read_complete_lines(log, 100)


def test_line_limit_refuses_before_reading_the_line(tmp_path: Path) -> None:
    log = tmp_path / "trace.jsonl"
    with log.open("wb") as handle:
        handle.write(b'{"a":1}\n')
        # A sparse 3 GiB run of NUL bytes: refused after reading one limit's worth.
        handle.truncate(8 + 3 * 1024**3)
    with pytest.raises(LimitError, match=r"line 2 exceeds the limit of 1 KiB per event line"):
        list(read_complete_lines(log, limits=Limits(line_bytes=1024)).lines)
    log.write_bytes(b'{"a":1}\n' + b"x" * 2000 + b"\n")
    with pytest.raises(LimitError, match="line-bytes"):
        read_complete_lines(log, limits=Limits(line_bytes=1024))
    # Exactly at the limit is fine, with either newline.
    log.write_bytes(b"y" * 1024 + b"\r\n" + b"z" * 1024 + b"\n")
    assert len(read_complete_lines(log, limits=Limits(line_bytes=1024)).lines) == 2


def test_event_count_and_log_size_limits(tmp_path: Path) -> None:
    log = write_log(tmp_path, b"{}\n" * 5)
    assert len(read_complete_lines(log, limits=Limits(events=5)).lines) == 5
    with pytest.raises(LimitError, match=r"line 5 exceeds the limit of 4 events"):
        read_complete_lines(log, limits=Limits(events=4))
    with pytest.raises(LimitError, match="bundle-bytes"):
        read_complete_lines(log, limits=Limits(bundle_bytes=14))


def test_non_utf8_line_names_the_line(tmp_path: Path) -> None:
    log = write_log(tmp_path, b'{"a":1}\n \xff\n')
    with pytest.raises(TraceError, match="line 2: read trace event line 2: stream did not "
                                         "contain valid UTF-8"):
        read_complete_lines(log)


def test_special_files_and_escaping_symlinks_are_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    os.mkfifo(bundle / "trace.jsonl")
    with pytest.raises(BundleError, match="is a FIFO, not a regular file"):
        read_complete_lines(bundle / "trace.jsonl")
    (bundle / "trace.jsonl").unlink()
    (bundle / "trace.jsonl").symlink_to("/dev/zero")
    with pytest.raises(BundleError, match="symlink that leaves the bundle"):
        read_complete_lines(bundle / "trace.jsonl")
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_bytes(b"{}\n")
    (bundle / "trace.jsonl").unlink()
    (bundle / "trace.jsonl").symlink_to(outside)
    with pytest.raises(BundleError, match="symlink that leaves the bundle"):
        read_complete_lines(bundle / "trace.jsonl")
    # A symlink that stays inside the bundle is fine.
    (bundle / "real.jsonl").write_bytes(b"{}\n")
    (bundle / "trace.jsonl").unlink()
    (bundle / "trace.jsonl").symlink_to("real.jsonl")
    assert read_complete_lines(bundle / "trace.jsonl").lines == ((1, b"{}"),)


def test_missing_log(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot open trace event log: No such file"):
        read_complete_lines(tmp_path / "trace.jsonl")
