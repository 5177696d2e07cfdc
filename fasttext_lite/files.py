"""Opening a file for reading and writing one atomically, with every failure as one line naming
the file and what to do."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

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


def write_atomically(path: str | Path, data: bytes, error: type[FtlError], *, kind: str) -> None:
    """Write `data` to `path` through a temporary file in its directory and a rename, so that a
    reader never sees half a file and a failure leaves any earlier file as it was; a failure
    raises `error`. `kind` names what is written ("report")."""
    path = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as failure:
        raise _unwritable(path, kind, failure, error) from None
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(handle.name, 0o666 & ~mask)  # as any new file: temporary files are 0600
        os.replace(handle.name, path)
    except BaseException as failure:  # Ctrl-C included: never leave a temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(failure, OSError):
            raise _unwritable(path, kind, failure, error) from None
        raise


def _unwritable(path: Path, kind: str, failure: OSError, error: type[FtlError]) -> FtlError:
    return error(
        f"{path}: cannot write the {kind} ({failure.strerror or failure}); any earlier file"
        " there is unchanged"
    )
