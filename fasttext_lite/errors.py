"""The library's error vocabulary: every failure a user can cause is one of these.

`cli.py` turns them into one-line messages for the user.
"""

from __future__ import annotations

import functools
import sys


class FtlError(Exception):
    """Base class: a failure with a message that says what to do next."""


class DataError(FtlError, ValueError):
    """Input text that cannot be used (missing file, no labelled line, ...)."""


class ModelFileError(FtlError):
    """A file that is not a readable fasttext_lite model."""


class TrainingError(FtlError):
    """Training could not produce a usable model (divergence, nothing to learn)."""


class StorageError(FtlError):
    """Temporary files could not be written (a full or read-only temporary directory)."""


class NotFittedError(FtlError, ValueError, AttributeError):
    """The classifier was used before `fit` or `load`."""


def not_fitted(message: str) -> NotFittedError:
    """A `NotFittedError`, which is also scikit-learn's when the caller uses scikit-learn
    (checked without importing it: its import takes half a second)."""
    theirs = getattr(sys.modules.get("sklearn.exceptions"), "NotFittedError", None)
    if not isinstance(theirs, type):
        return NotFittedError(message)
    return _with(theirs)(message)


@functools.cache
def _with(theirs: type) -> type[NotFittedError]:
    return type("NotFittedError", (NotFittedError, theirs), {"__module__": __name__})


class ParameterError(FtlError, ValueError):
    """A hyper-parameter or option with an invalid value; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.detail = message

    def __reduce__(self) -> tuple[type[ParameterError], tuple[str, str]]:
        return type(self), (self.parameter, self.detail)
