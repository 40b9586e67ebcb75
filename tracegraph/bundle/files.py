"""Opening bundle files: regular files inside the bundle only, read whole or not at all.

A FIFO would hang the reader and a device (``/dev/zero``) flood it, so anything but
a regular file is refused; so is a path whose symlinks lead out of the bundle. A
file is opened without blocking (a FIFO with no writer opens at once) and checked
on the open descriptor, so the check is about the file actually read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tracegraph.errors import BundleError, LimitError

__all__ = ["decode_utf8", "open_regular", "read_regular"]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
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
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def open_regular(path: Path, *, root: Path, what: str, checked: bool = False) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file whose real path is under ``root``.

    Raises :class:`BundleError` for a special file or a symlink out of the bundle;
    the ``OSError`` of a failed open (missing file, permissions) is left to the
    caller, which knows how to word it. ``checked``: the caller knows the
    directory of ``path`` is inside ``root``; the file itself must then not be a
    symlink (``OSError`` ``ELOOP`` if it is).
    """
    if checked:
        fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    else:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise BundleError(f"{path}: {what} is a symlink that leaves the bundle directory")
        fd = os.open(resolved, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise BundleError(f"{path}: {what} is {_kind(mode)}, not a regular file; refused")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, *, root: Path, what: str, max_bytes: int,
                 too_big: Callable[[int], LimitError], checked: bool = False) -> bytes:
    """The whole content of a regular bundle file, at most ``max_bytes``.

    The size is checked before anything is read (``too_big(size)`` is raised), and
    again after: a file that changed while it was read is read again, and reported
    if it keeps changing, rather than half-read.
    """
    for _ in range(_READ_ATTEMPTS):
        with open_regular(path, root=root, what=what, checked=checked) as handle:
            before = os.fstat(handle.fileno())
            if before.st_size > max_bytes:
                raise too_big(before.st_size)
            data = handle.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise too_big(len(data))
            after = os.fstat(handle.fileno())
        if len(data) == before.st_size == after.st_size and before.st_mtime_ns == after.st_mtime_ns:
            return data
    raise BundleError(f"{path}: {what} kept changing size while it was read; "
                      "read it again once it is complete")


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
