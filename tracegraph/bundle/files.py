"""Opening bundle files: regular files inside the bundle only, read whole or not at all.

A FIFO would hang the reader and a device (``/dev/zero``) flood it, so anything but
a regular file is refused; so is a path whose symlinks lead out of the bundle. A
file is opened without blocking (a FIFO with no writer opens at once) and checked
on the open descriptor, so the check is about the file actually read. A directory
is the ``OSError`` its read would be (``EISDIR``): the reference opens it and fails
there, and its callers word that error as the reference does.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tracegraph.errors import BundleError, LimitError

__all__ = ["decode_utf8", "is_utf8", "open_regular", "read_regular"]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: How often a file that keeps changing while it is read is read again.
_READ_ATTEMPTS = 3


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_fd(path: str | Path, *, root: Path, what: str,
             checked: bool) -> tuple[int, os.stat_result]:
    """A descriptor of ``path`` and its status, if it is a regular file whose real path
    is under ``root``."""
    if checked:
        fd = os.open(path, _OPEN_FLAGS | _NOFOLLOW)
    else:
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(root):
            raise BundleError(f"{path}: {what} is a symlink that leaves the bundle directory")
        fd = os.open(resolved, _OPEN_FLAGS)
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(status.st_mode):
            raise BundleError(
                f"{path}: {what} is {_kind(status.st_mode)}, not a regular file; refused")
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def open_regular(path: str | Path, *, root: Path, what: str, checked: bool = False) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file whose real path is under ``root``.

    Raises :class:`BundleError` for a special file or a symlink out of the bundle;
    the ``OSError`` of a failed open (missing file, permissions) or of a directory is
    left to the caller, which knows how to word it. ``checked``: the caller knows the
    directory of ``path`` is inside ``root``; the file itself must then not be a
    symlink (``OSError`` ``ELOOP`` if it is).
    """
    return os.fdopen(_open_fd(path, root=root, what=what, checked=checked)[0], "rb")


def read_regular(path: str | Path, *, root: Path, what: str, max_bytes: int,
                 too_big: Callable[[int], LimitError], checked: bool = False) -> bytes:
    """The whole content of a regular bundle file, at most ``max_bytes``.

    The size is checked before anything is read (``too_big(size)`` is raised), and
    again after: a file that changed while it was read is read again, and reported
    if it keeps changing, rather than half-read. Plain descriptor calls: a
    bundle has thousands of small payload files, so the per-file cost counts.
    """
    for _ in range(_READ_ATTEMPTS):
        fd, before = _open_fd(path, root=root, what=what, checked=checked)
        try:
            size = before.st_size
            if size > max_bytes:
                raise too_big(size)
            # One byte more than the size: a file that grew is seen to have grown.
            data = os.read(fd, size + 1)
            if 0 < len(data) < size:
                # A short read (a huge file comes in pieces): read on until the size.
                chunks = [data]
                got = len(data)
                while got <= size:
                    chunk = os.read(fd, size + 1 - got)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    got += len(chunk)
                data = b"".join(chunks)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if len(data) == size == after.st_size and before.st_mtime_ns == after.st_mtime_ns:
            return data
    raise BundleError(f"{path}: {what} kept changing size while it was read; "
                      "read it again once it is complete")


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_utf8(data: bytes, *, path: Path | str, what: str) -> str:
    """UTF-8 text, or an error naming the file and line (never the bytes themselves)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise BundleError(
            f"{path}: line {line} column {column}: {what} is not valid UTF-8"
        ) from err
