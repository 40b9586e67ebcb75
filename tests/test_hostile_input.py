"""Hostile input: limits, special files, symlinks, non-UTF-8, files changing while read.

The 10 GiB payload and the 3 GiB NUL line of the issue are sparse files (no disk
used), run under a 4 GiB address-space limit as reported.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracegraph.bundle.limits import Limits
from tracegraph.bundle.log import EventLogReader
from tracegraph.cli import app
from tracegraph.errors import BundleError, LimitError, TracegraphError
from tracegraph.reducer import replay

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundles" / "terminal-reuse"
GIB = 1024**3


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, copy)
    (copy / "state.json").unlink()
    return copy


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def read_payload_path(bundle: Path) -> Path:
    """A payload file the reducer reads (an inference request)."""
    for line in (bundle / "trace.jsonl").read_text().splitlines():
        payload = json.loads(line)["payload"]
        if payload["type"] == "inference_started":
            return bundle / payload["request_payload"]["path"]
    raise AssertionError("no inference in the example")


def run_limited(bundle: Path) -> subprocess.CompletedProcess[str]:
    """`tracegraph validate` in a process limited to 4 GiB of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 * GIB, 4 * GIB))

    return subprocess.run(
        [sys.executable, "-c", "from tracegraph.cli import app; app()", "validate", str(bundle)],
        capture_output=True, text=True, timeout=120, preexec_fn=limit, check=False,
    )


def test_sparse_10_gib_payload_is_refused_under_4_gib(bundle: Path) -> None:
    payload = read_payload_path(bundle)
    with payload.open("r+b") as handle:
        handle.truncate(10 * GIB)
    proc = run_limited(bundle)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "exceeds the limit of 256 MiB per payload file" in proc.stderr
    assert str(payload) in proc.stderr


def test_3_gib_nul_line_is_refused_under_4_gib(bundle: Path) -> None:
    log = bundle / "trace.jsonl"
    size = log.stat().st_size
    with log.open("r+b") as handle:
        handle.truncate(size + 3 * GIB)  # NUL bytes up to 3 GiB, then a newline
        handle.seek(size + 3 * GIB)
        handle.write(b"\n")
    proc = run_limited(bundle)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "line 42 exceeds the limit of 64 MiB per event line" in proc.stderr


def test_limits_from_options_and_environment(bundle: Path) -> None:
    code, err = run("validate", str(bundle), "--limit", "events=40")
    assert code == 2 and "exceeds the limit of 40 events per bundle" in err
    assert "--limit events=VALUE or TRACEGRAPH_LIMIT_EVENTS" in err
    code, err = run("validate", str(bundle), env={"TRACEGRAPH_LIMIT_PAYLOADS": "10"})
    assert code == 2 and "exceeds the limit of 10 payloads per bundle" in err
    code, err = run("validate", str(bundle), "--limit", "payload-bytes=1KiB")
    assert code == 2 and "per payload file" in err
    code, err = run("validate", str(bundle), "--limit", "bundle-bytes=40000")
    assert code == 2 and "per bundle" in err
    code, err = run("validate", str(bundle), "--limit", "line-bytes=100")
    assert code == 2 and "per event line" in err
    # The option overrides the environment; bad values are one-line errors.
    code, err = run("validate", str(bundle), "--limit", "events=41",
                    env={"TRACEGRAPH_LIMIT_EVENTS": "3"})
    assert code == 0, err
    code, err = run("validate", str(bundle), "--limit", "events=many")
    assert code == 2 and err.startswith("error: --limit")


def test_fifo_and_devices_are_refused_without_hanging(bundle: Path) -> None:
    payload = read_payload_path(bundle)
    payload.unlink()
    os.mkfifo(payload)
    code, err = run("validate", str(bundle))
    assert code == 2 and "is a FIFO, not a regular file" in err
    payload.unlink()
    payload.symlink_to("/dev/zero")
    code, err = run("validate", str(bundle))
    assert code == 2 and "escapes the bundle directory" in err
    (bundle / "manifest.json").rename(bundle / "manifest.real")
    os.mkfifo(bundle / "manifest.json")
    code, err = run("validate", str(bundle))
    assert code == 2 and "manifest is a FIFO" in err
    (bundle / "manifest.json").unlink()
    (bundle / "manifest.real").rename(bundle / "manifest.json")
    (bundle / "trace.jsonl").unlink()
    os.mkfifo(bundle / "trace.jsonl")
    code, err = run("validate", str(bundle))
    assert code == 2 and "trace event log is a FIFO" in err


def test_symlinks_out_of_the_bundle_are_refused(bundle: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.move(bundle / "trace.jsonl", outside / "trace.jsonl")
    (bundle / "trace.jsonl").symlink_to(outside / "trace.jsonl")
    code, err = run("validate", str(bundle))
    assert code == 2 and "symlink that leaves the bundle" in err
    # Inside the bundle, a symlinked payload is fine.
    (bundle / "trace.jsonl").unlink()
    shutil.move(outside / "trace.jsonl", bundle / "trace.jsonl")
    payload = read_payload_path(bundle)
    payload.rename(bundle / "moved.json")
    payload.symlink_to(bundle / "moved.json")
    code, err = run("validate", str(bundle))
    assert code == 0, err


def test_non_utf8_names_file_and_line(bundle: Path) -> None:
    manifest = bundle / "manifest.json"
    original = manifest.read_bytes()
    manifest.write_bytes(original.replace(b'"rollout_id"', b'"rollout_\xff"', 1))
    code, err = run("validate", str(bundle))
    # As serde_json reads the file: the position after the string holding the byte.
    assert code == 2 and f"read {manifest}: invalid unicode code point at line 4 column" in err
    manifest.write_bytes(original)
    payload = read_payload_path(bundle)
    data = payload.read_bytes()
    payload.write_bytes(data[:-3] + b"\xc3" + data[-3:])
    code, err = run("validate", str(bundle))
    line = data.count(b"\n", 0, len(data) - 3) + 1
    # As serde_json reads the bytes: the position after the string holding them.
    assert code == 2 and f"{payload}: parse payload " in err, err
    assert f"invalid unicode code point at line {line} column" in err, err
    payload.write_bytes(data)
    log = bundle / "trace.jsonl"
    lines = log.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b'"seq"', b'"s\xe9q"', 1)
    log.write_bytes(b"\n".join(lines))
    code, err = run("validate", str(bundle))
    assert code == 2 and "line 6" in err and "valid UTF-8" in err


def test_event_log_changing_while_read(tmp_path: Path) -> None:
    log = tmp_path / "trace.jsonl"
    log.write_bytes(b"{}\n" * 1000)
    reader = EventLogReader(log)
    lines = iter(reader)
    next(lines)
    log.write_bytes(b"{}\n")  # truncated under the reader
    with pytest.raises(BundleError, match="shrank while it was read"):
        list(lines)
    log.write_bytes(b"{}\n" * 3)
    reader = EventLogReader(log)
    lines = iter(reader)
    next(lines)
    with log.open("ab") as handle:
        handle.write(b'{"more": 1}\n')
    assert len(list(lines)) == 2  # the snapshot taken at open, not the new line
    assert reader.grew and reader.next_offset == 9


def test_every_limit_error_is_a_bundle_error() -> None:
    error = Limits().exceeded("events", "x: line 9")
    assert isinstance(error, LimitError) and isinstance(error, TracegraphError)
    assert str(error) == ("x: line 9 exceeds the limit of 10,000,000 events per bundle (raise "
                          "it with --limit events=VALUE or TRACEGRAPH_LIMIT_EVENTS)")


def test_replay_api_takes_limits(bundle: Path) -> None:
    with pytest.raises(LimitError):
        replay(bundle, limits=Limits(events=5))
    assert replay(bundle, limits=Limits(events=41)).trace.trace_id
