"""Opening a file for reading, with every failure as one line naming the file and what to do."""

from __future__ import annotations

import contextlib
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
