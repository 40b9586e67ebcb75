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


@pytest.mark.parametrize("stream", [False, True])
def test_the_data_is_on_disk_before_it_is_renamed(tmp_path: Path, stream: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is flushed to disk before the rename, the directory after."""
    target = tmp_path / "state.json"
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        steps.append("fsync directory" if stat.S_ISDIR(mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str, dst: Path) -> None:
        assert Path(src).read_bytes() == b"{}"
        steps.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    if stream:
        with atomic_write_stream(target) as handle:
            handle.write(b"{}")
    else:
        atomic_write_bytes(target, b"{}")
    assert steps == ["fsync file", "rename", "fsync directory"]
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
