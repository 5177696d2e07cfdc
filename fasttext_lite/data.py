"""Reading text in fastText's format: a line becomes words + `</s>` and labels.

Tokenization is fastText's (`src/dictionary.cc`, `readWord`): tokens are separated by the
bytes space, tab, newline, CR, VT, FF and NUL only; no lowercasing, no Unicode whitespace.
Bytes that are not valid UTF-8 are kept as they are (decoded with `surrogateescape`), so they
hash exactly as fastText hashes them and print back unchanged.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from fasttext_lite.errors import DataError

# `</s>` is a real word: fastText counts it once per line, gives it a row of the input
# matrix, and appends it at predict time too.
EOS = "</s>"
DEFAULT_LABEL_PREFIX = "__label__"
STDIN = "-"
ENCODING_ERRORS = "surrogateescape"

# readWord's separators other than those bytes.split() already knows (space \t \n \r \v \f).
_NUL_AS_SPACE = bytes.maketrans(b"\0", b" ")


class Example(NamedTuple):
    """One line: its words (ending with `</s>`) and its label names (prefix removed)."""

    words: list[str]
    labels: list[str]


def tokenize(line: bytes | str) -> list[str]:
    """Split a line on fastText's separator bytes.

    >>> tokenize(b"Hello\\tworld\\x00again\\r\\n")
    ['Hello', 'world', 'again']
    >>> tokenize("no\\u00a0break")  # U+00A0 is not a separator for fastText
    ['no\\xa0break']
    """
    raw = line.encode("utf-8", ENCODING_ERRORS) if isinstance(line, str) else line
    parts = raw.translate(_NUL_AS_SPACE).split()
    # UTF-8 never puts an ASCII byte inside a multi-byte character, so decoding the
    # re-joined tokens once is the same as decoding each one.
    return b" ".join(parts).decode("utf-8", ENCODING_ERRORS).split(" ") if parts else []


def parse_line(line: bytes | str, label_prefix: str = DEFAULT_LABEL_PREFIX) -> Example:
    """Separate labels (tokens starting with the prefix, anywhere) from words; append `</s>`.

    >>> parse_line("__label__x hello  world __label__y")
    Example(words=['hello', 'world', '</s>'], labels=['x', 'y'])
    """
    words: list[str] = []
    labels: list[str] = []
    cut = len(label_prefix)
    for token in tokenize(line):
        if token.startswith(label_prefix):
            labels.append(token[cut:])
        else:
            words.append(token)
    words.append(EOS)
    return Example(words, labels)


def encode_token(token: str) -> bytes:
    """The bytes fastText would have read for `token`."""
    return token.encode("utf-8", ENCODING_ERRORS)


def display(text: str) -> str:
    """`text` with undecodable bytes shown as U+FFFD, for messages and JSON."""
    return encode_token(text).decode("utf-8", "replace")


@contextlib.contextmanager
def open_binary(path: str | Path) -> Iterator[BinaryIO]:
    """Open `path` for reading bytes; `-` is stdin. Errors name the file."""
    if str(path) == STDIN:
        yield sys.stdin.buffer
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, errors translated here
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a text file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except OSError as error:
        raise DataError(f"{path}: cannot open ({error.strerror})") from None
    with handle:
        yield handle


def read_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of `path` (or stdin for `-`) as bytes, line endings included."""
    with open_binary(path) as handle:
        try:
            yield from handle
        except OSError as error:
            raise DataError(f"{path}: read failed ({error.strerror})") from None


def parse_lines(lines: Iterable[bytes | str], label_prefix: str) -> Iterator[Example]:
    """`parse_line` over an iterable of lines."""
    for line in lines:
        yield parse_line(line, label_prefix)
