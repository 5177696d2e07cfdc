"""The library's error vocabulary: every failure a user can cause is one of these.

`cli.py` turns them into one-line messages for the user.
"""

from __future__ import annotations


class FtlError(Exception):
    """Base class: a failure with a message that says what to do next."""


class DataError(FtlError):
    """Input text that cannot be used (missing file, no labelled line, ...)."""


class ModelFileError(FtlError):
    """A file that is not a readable fasttext_lite model."""


class TrainingError(FtlError):
    """Training could not produce a usable model (divergence, nothing to learn)."""


class StorageError(FtlError):
    """Temporary files could not be written (a full or read-only temporary directory)."""


class NotFittedError(FtlError, AttributeError):
    """The classifier was used before `fit` or `load`."""


class ParameterError(FtlError, ValueError):
    """A hyper-parameter or option with an invalid value; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.detail = message

    def __reduce__(self) -> tuple[type[ParameterError], tuple[str, str]]:
        return type(self), (self.parameter, self.detail)
