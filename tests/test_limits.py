"""Input limits: defaults, parsing, the environment, and safe whole-file reads."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from benchmarks.long_rollout import write_long_rollout
from tracegraph.bundle.files import decode_utf8, read_regular
from tracegraph.bundle.limits import DEFAULT_LIMITS, LIMIT_NAMES, Limits
from tracegraph.errors import BundleError, LimitError, TracegraphError


def test_limit_names_values_and_environment() -> None:
    assert LIMIT_NAMES == ("line-bytes", "payload-bytes", "bundle-bytes", "events", "payloads")
    limits = Limits().with_options(["payload-bytes=2GiB", "events=1_000", "line-bytes=10MB"])
    assert limits.payload_bytes == 2 * 1024**3
    assert limits.events == 1000
    assert limits.line_bytes == 10_000_000
    env = {"TRACEGRAPH_LIMIT_BUNDLE_BYTES": "3 KiB", "TRACEGRAPH_LIMIT_PAYLOADS": "7"}
    assert Limits.from_env(env) == Limits(bundle_bytes=3072, payloads=7)
    assert Limits.from_env({}) == DEFAULT_LIMITS
    for bad in (["events=5KiB"], ["payload-bytes=lots"], ["nope=1"], ["events"], ["events=0"]):
        with pytest.raises(TracegraphError):
            Limits().with_options(bad)
    with pytest.raises(TracegraphError, match="TRACEGRAPH_LIMIT_EVENTS"):
        Limits.from_env({"TRACEGRAPH_LIMIT_EVENTS": "-3"})


def test_defaults_accept_ten_times_the_benchmark_rollout(tmp_path: Path) -> None:
    """Measure a 150-turn rollout and scale: the 1,500-turn benchmark is 10x its events
    and payloads, and the defaults must hold 10x that again with room to spare."""
    bundle = tmp_path / "bench"
    write_long_rollout(bundle, 150)
    events = sum(1 for line in (bundle / "trace.jsonl").read_bytes().splitlines() if line)
    payload_sizes = [path.stat().st_size for path in (bundle / "payloads").iterdir()]
    total = sum(payload_sizes) + (bundle / "trace.jsonl").stat().st_size
    longest_line = max(len(line) for line in (bundle / "trace.jsonl").read_bytes().splitlines())
    scale = 100  # 10x the 1,500-turn benchmark is 100x this one
    assert DEFAULT_LIMITS.events >= events * scale
    assert DEFAULT_LIMITS.payloads >= len(payload_sizes) * scale
    # Requests resend the history, so payloads and the bundle grow faster than turns
    # (compaction every few turns bounds the history: 10x margin, not quadratic).
    assert DEFAULT_LIMITS.payload_bytes >= max(payload_sizes) * scale * 10
    assert DEFAULT_LIMITS.bundle_bytes >= total * scale * 10
    assert DEFAULT_LIMITS.line_bytes >= longest_line * 10_000


def _too_big(size: int) -> LimitError:
    return Limits(payload_bytes=1024).exceeded("payload-bytes", f"payload ({size} bytes)")


def test_sparse_10_gib_payload_is_refused_without_reading(tmp_path: Path) -> None:
    payload = tmp_path / "1.json"
    with payload.open("wb") as handle:
        handle.truncate(10 * 1024**3)
    with pytest.raises(LimitError, match=r"payload \(10737418240 bytes\) exceeds the limit of "
                                         r"1 KiB per payload file"):
        read_regular(payload, root=tmp_path, what="payload", max_bytes=1024, too_big=_too_big)


def test_special_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "1.json"
    os.mkfifo(fifo)
    with pytest.raises(BundleError, match="is a FIFO"):
        read_regular(fifo, root=tmp_path, what="payload", max_bytes=1024, too_big=_too_big)
    with pytest.raises(BundleError, match="leaves the bundle"):
        read_regular(Path("/dev/zero"), root=tmp_path, what="payload", max_bytes=1024,
                     too_big=_too_big)
    with pytest.raises(BundleError, match="is a character device"):
        read_regular(Path("/dev/zero"), root=Path("/"), what="payload", max_bytes=1024,
                     too_big=_too_big)


def test_file_that_keeps_changing_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "1.json"
    target.write_bytes(b"[1]")
    stop = threading.Event()

    def rewrite() -> None:
        count = 0
        while not stop.is_set():
            count += 1
            with target.open("ab") as handle:
                handle.write(b" " * (count % 7 + 1))
            time.sleep(0)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        outcomes: set[str] = set()
        for _ in range(200):
            try:
                data = read_regular(target, root=tmp_path, what="payload", max_bytes=1 << 20,
                                    too_big=_too_big)
            except BundleError as err:
                assert "kept changing size while it was read" in str(err)
                outcomes.add("reported")
            else:
                assert data.startswith(b"[1]") and data[3:].strip() == b""
                outcomes.add("read")
    finally:
        stop.set()
        writer.join()
    # Whatever the timing, a read is whole or reported, never a torn mix.
    assert outcomes


def test_file_whose_size_never_matches_its_content_is_reported() -> None:
    # /proc files say they are empty, then have content: never a settled read.
    status = Path("/proc/self/status")
    with pytest.raises(BundleError, match="kept changing size while it was read"):
        read_regular(status, root=Path("/proc"), what="payload", max_bytes=1 << 20,
                     too_big=_too_big)


def test_decode_names_line_and_column_not_content() -> None:
    with pytest.raises(BundleError) as caught:
        decode_utf8(b'{"secret": "CANARY"}\n{"x": "\xc3("}', path="p.json", what="payload")
    assert str(caught.value) == "p.json: line 2 column 8: payload is not valid UTF-8"
    assert decode_utf8(b'"\xc3\xa9"', path="p", what="payload") == '"é"'
