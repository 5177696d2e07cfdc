"""Opening a file for reading, and replacing one atomically, with every failure as one line
naming the file and what to do."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from fasttext_lite.errors import FtlError


@contextlib.contextmanager
def reading(
    path: str | Path, error: type[FtlError], *, kind: str, missing: str
) -> Iterator[BinaryIO]:
    """Open `path` for reading bytes; a failure to open or read raises `error`. `kind` names
    what the file should be ("file", "model file") and `missing` what to do when it is absent.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, errors translated here
    except FileNotFoundError:
        raise error(f"{path}: no such {kind}; {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory; give the path of a {kind}") from None
    except PermissionError:
        raise error(f"{path}: permission denied; check the file's permissions") from None
    except OSError as failure:
        raise error(f"{path}: cannot open ({failure.strerror or failure})") from None
    with handle:
        try:
            yield handle
        except OSError as failure:
            raise error(f"{path}: read failed ({failure.strerror or failure})") from None


def write_atomically(
    path: str | Path, write: Callable[[IO[bytes]], None], error: type[FtlError]
) -> None:
    """Call `write` on a temporary file beside `path`, then rename it over `path`: an existing
    file is replaced whole or not at all, and no temporary file outlives a failure or Ctrl-C.
    A failure to write raises `error`."""
    path = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as failure:
        raise _unwritable(path, failure, error) from None
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException as failure:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(failure, OSError):
            raise _unwritable(path, failure, error) from None
        raise


def _unwritable(path: Path, failure: OSError, error: type[FtlError]) -> FtlError:
    return error(
        f"{path}: cannot write it ({failure.strerror or failure}); any earlier file there is"
        " unchanged"
    )


def _umask() -> int:
    """The process's umask (only readable by setting it): a temporary file is created 0600,
    and the file should get the permissions any new file would."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
