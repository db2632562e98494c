"""The one way regulab writes a file: atomically and durably.

Write to a temporary file in the target's directory, flush and ``fsync`` it, rename it over the
target (atomic on POSIX and Windows), then ``fsync`` the directory so the rename itself survives a
crash. An interrupted or failing write leaves the old file untouched and no temporary behind.
Files get the usual permissions (``0o666`` minus the umask), not ``mkstemp``'s 0600.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import BinaryIO, Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_path(path: str) -> tuple[int, str]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    stem, ext = os.path.splitext(os.path.basename(path))
    # the extension is kept last in case a saver picks a format from it
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=directory)
    os.chmod(tmp, 0o666 & ~_umask())
    return fd, tmp


def _fsync_dir(path: str) -> None:
    if os.name != "posix":
        return
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(path, fill: Callable[[int, str], None]) -> None:
    """``fill(fd, tmp)`` writes a temporary file next to ``path`` (and closes ``fd``); the file is
    then made durable and moved onto ``path``, or removed if anything failed."""
    path = os.fspath(path)
    try:
        fd, tmp = _temp_path(path)
    except OSError as e:
        raise _write_error(path, e) from e
    try:
        fill(fd, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(e, OSError):  # a full disk, a read-only or vanished directory: say which file
            raise _write_error(path, e) from e
        raise


def _write_error(path: str, err: OSError) -> OSError:
    """The same kind of error, naming the file and that its previous version is intact."""
    kept = "the previous file is unchanged" if os.path.exists(path) else "nothing was written"
    return type(err)(err.errno, f"Cannot write {path!r}: {err.strerror or err} ({kept})")


def atomic_write(path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically."""

    def fill(fd, tmp):
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
                f.write(data)
            else:
                data(f)

    _commit(path, fill)


def atomic_save(path, save: Callable[[str], None]) -> None:
    """Call ``save(tmp)`` (a saver that takes a path) on a temporary path next to ``path``, then
    make the result durable and move it onto ``path``."""

    def fill(fd, tmp):
        os.close(fd)
        save(tmp)

    _commit(path, fill)
