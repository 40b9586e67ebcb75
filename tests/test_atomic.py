"""Outputs are written atomically, with the permissions an ordinary write would give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tracegraph._atomic import atomic_write_bytes, atomic_write_stream


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_written_files_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    whole = atomic_write_bytes(tmp_path / "state.json", b"{}")
    with atomic_write_stream(tmp_path / "graph.graphml") as handle:
        handle.write(b"<graphml/>")
    for path in (whole, tmp_path / "graph.graphml"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_stream_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "graph.graphml"
    with pytest.raises(RuntimeError), atomic_write_stream(target) as handle:
        handle.write(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
