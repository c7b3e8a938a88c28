"""Files in and out, safely: outputs written whole, inputs read within bounds.

Writing: a temporary file (or folder) beside the target, synced, then renamed over it, so a failure
part-way (a full disk, a crash) leaves any existing file as it was and no temporary file behind. A
target that is a symbolic link, a device, a FIFO, a socket or a folder is refused and never replaced,
and so is one in a folder that does not exist.

Reading: only regular files, and only up to a stated size, checked before anything is read (so
``/dev/zero`` or a FIFO cannot make a command read forever).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, OutputError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # an import or a question file (the whole casebook exported is ~2 MB)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str | None:
    return next((name for test, name in _KINDS if test(mode)), None)


def check_target(path: Path, *, may_exist: bool = True) -> Path:
    """``path`` if a file may be written there: a name given, its folder there, and no link, device, FIFO,
    socket or folder in its place (nor, with ``may_exist=False``, anything at all)."""
    if not str(path) or not path.name:
        raise OutputError("no output file name given")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise OutputError(f"{str(path)!r} is a symbolic link: forecast does not write through links; "
                              "name the file itself")
        if not may_exist:
            raise OutputError(f"{str(path)!r} exists; choose another name")
        kind = _kind(found.st_mode)
        if kind:
            raise OutputError(f"{str(path)!r} is {kind}, not a file: nothing was written")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"cannot write {str(path)!r}: {str(folder)!r} {what}")
    return path


def _mode_for(path: Path) -> int:
    """The target's permissions if it exists, else what a plain ``open`` would give it."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8), all or nothing."""
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def write(temporary: Path) -> None:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())

    write_with(path, write)


def write_with(path: Path, write: Callable[[Path], object], *, folder: bool = False, may_exist: bool = True) -> None:
    """Let ``write`` make a temporary file (or, with ``folder``, fill a temporary folder) beside ``path``, then
    rename it into place; on any failure nothing is left behind and an existing ``path`` is unchanged."""
    check_target(path, may_exist=may_exist and not folder)
    try:
        if folder:
            temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        else:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            temporary = Path(name)
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        write(temporary)
        if not folder:
            os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary) if temporary.is_dir() else os.unlink(temporary)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}; any existing file is unchanged") from None
        raise


def read_bounded(path: Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default :data:`MAX_INPUT_BYTES`); anything else is
    refused before it is read."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    try:
        found = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    kind = _kind(found.st_mode)
    if kind:
        raise InputError(f"{what} {str(path)!r} is {kind}, not a file")
    if found.st_size > limit:
        raise InputError(f"{what} {str(path)!r} is {found.st_size:,} bytes; the limit is {limit:,}")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew while being read
        raise InputError(f"{what} {str(path)!r} is over the limit of {limit:,} bytes")
    return data
