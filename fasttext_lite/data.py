"""Reading text in fastText's format: files and stdin as lines, lines as tokens.

`split_lines` tokenizes a block of lines at once (`vocab.Scan` then sorts words from labels and
appends `</s>`); `split_line` and `parse_line` do the same for one line, the plain reference.
Tokenization is fastText's (`src/dictionary.cc`, `readWord`): tokens are separated by the
bytes space, tab, newline, CR, VT, FF and NUL only; no lowercasing, no Unicode whitespace.
Bytes that are not valid UTF-8 are kept as they are (decoded with `surrogateescape`), so they
hash exactly as fastText hashes them and print back unchanged.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from operator import methodcaller
from pathlib import Path
from typing import BinaryIO, NamedTuple

from fasttext_lite.errors import DataError

# `</s>` is a real word: fastText counts it once per line, gives it a row of the input
# matrix, and appends it at predict time too.
EOS = "</s>"
EOS_BYTES = EOS.encode()
DEFAULT_LABEL_PREFIX = "__label__"
STDIN = "-"
ENCODING_ERRORS = "surrogateescape"
# Bytes per read when streaming: a pipe gives what it holds (64 KiB at most on Linux), a file
# this much: several thousand lines, enough to make the work per read large.
_READ_BYTES = 1 << 20


def _escape_or_replace(error: UnicodeError) -> tuple[bytes, int]:
    """Encoding: U+DC80..U+DCFF are the undecodable bytes `surrogateescape` kept, so they turn
    back into those bytes; any other lone surrogate (only a Python str can hold one) is U+FFFD."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    replaced = (
        bytes([ord(c) - 0xDC00]) if "\udc80" <= c <= "\udcff" else b"\xef\xbf\xbd" for c in bad
    )
    return b"".join(replaced), error.end


_ENCODE_ERRORS = "fasttext_lite.escape"
codecs.register_error(_ENCODE_ERRORS, _escape_or_replace)

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
    raw = encode_token(line) if isinstance(line, str) else line
    parts = raw.translate(_NUL_AS_SPACE).split()
    # UTF-8 never puts an ASCII byte inside a multi-byte character, so decoding the
    # re-joined tokens once is the same as decoding each one.
    return b" ".join(parts).decode("utf-8", ENCODING_ERRORS).split(" ") if parts else []


def split_line(line: bytes, label_prefix: bytes) -> tuple[list[bytes], list[bytes]]:
    """A line's words (ending with `</s>`) and label names, as bytes: the fast path for files.

    >>> split_line(b"__label__x hello  world __label__y\\n", b"__label__")
    ([b'hello', b'world', b'</s>'], [b'x', b'y'])
    """
    if label_prefix not in line:
        return words_of(line), []
    tokens = line.translate(_NUL_AS_SPACE).split()
    cut = len(label_prefix)
    # Usual layout: the labels lead the line. If every occurrence of the prefix is one of
    # those leading labels, the rest are words; otherwise test every token.
    lead = 0
    while lead < len(tokens) and tokens[lead].startswith(label_prefix):
        lead += 1
    if line.count(label_prefix) == lead:
        words = tokens[lead:]
        words.append(EOS_BYTES)
        return words, [t[cut:] for t in tokens[:lead]]
    words = [t for t in tokens if not t.startswith(label_prefix)]
    words.append(EOS_BYTES)
    return words, [t[cut:] for t in tokens if t.startswith(label_prefix)]


def split_lines(lines: Sequence[bytes]) -> list[list[bytes]]:
    """The tokens of each line, for many lines at once without a Python step per line.

    >>> split_lines([b"a b\\r", b"", b"c\\x00d"])
    [[b'a', b'b'], [], [b'c', b'd']]
    """
    if b"\0" in b"".join(lines):
        lines = list(map(methodcaller("translate", _NUL_AS_SPACE), lines))
    return list(map(bytes.split, lines))


def words_of(text: bytes) -> list[bytes]:
    """All tokens of `text` as words, then `</s>` (for texts whose labels come separately)."""
    words = text.translate(_NUL_AS_SPACE).split()
    words.append(EOS_BYTES)
    return words


def decode(token: bytes) -> str:
    """The str form of a token: undecodable bytes kept as surrogate escapes."""
    return token.decode("utf-8", ENCODING_ERRORS)


def parse_line(line: bytes | str, label_prefix: str = DEFAULT_LABEL_PREFIX) -> Example:
    """Separate labels (tokens starting with the prefix, anywhere) from words; append `</s>`.

    >>> parse_line("__label__x hello  world __label__y")
    Example(words=['hello', 'world', '</s>'], labels=['x', 'y'])
    """
    raw = encode_token(line) if isinstance(line, str) else line
    words, labels = split_line(raw, encode_token(label_prefix))
    return Example([decode(w) for w in words], [decode(x) for x in labels])


def encode_token(token: str) -> bytes:
    """The bytes fastText would have read for `token`.

    >>> encode_token("caf\\xe9 \\udcff \\ud800")  # an escaped byte; a lone surrogate
    b'caf\\xc3\\xa9 \\xff \\xef\\xbf\\xbd'
    """
    return token.encode("utf-8", _ENCODE_ERRORS)


def display(text: str) -> str:
    """`text` with undecodable bytes shown as U+FFFD, for messages and JSON."""
    return encode_token(text).decode("utf-8", "replace")


@contextlib.contextmanager
def open_binary(path: str | Path) -> Iterator[BinaryIO]:
    """Open `path` for reading bytes; `-` is stdin. Errors name the file."""
    if str(path) == STDIN:
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise DataError("-: stdin is closed; give a file name instead")
        yield sys.stdin.buffer
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, errors translated here
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; give a text file, or - for stdin") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as error:
        raise DataError(f"{path}: cannot open ({error.strerror or error})") from None
    with handle:
        yield handle


def read_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of `path` (or stdin for `-`) as bytes, line endings included."""
    with open_binary(path) as handle:
        try:
            yield from handle
        except OSError as error:
            raise DataError(f"{path}: read failed ({error.strerror or error})") from None


def read_batches(
    path: str | Path, max_lines: int = 4096, *, span: tuple[int, int] | None = None
) -> Iterator[list[bytes]]:
    """The lines of `path` (or stdin for `-`), without their newline, in batches of what has
    arrived: a batch never waits for more input than one read, so a pipeline gets the answer
    for a line as soon as the line is in, and memory stays bounded on an endless stream.
    `span` (start, end) reads only those bytes of a file (see `line_spans`).
    """
    with open_binary(path) as handle:
        start, end = span or (0, None)
        if start:
            handle.seek(start)
        # read1 returns what one read gives (for a pipe: what is there), never waiting for more.
        read = getattr(handle, "read1", handle.read)
        left = -1 if end is None else end - start
        pending = bytearray()
        while left:
            try:
                chunk = read(_READ_BYTES if left < 0 else min(_READ_BYTES, left))
            except OSError as error:
                raise DataError(f"{path}: read failed ({error.strerror or error})") from None
            if not chunk:
                break
            left -= len(chunk) if left > 0 else 0
            pending += chunk
            cut = pending.rfind(b"\n", len(pending) - len(chunk)) + 1
            if cut:
                lines = bytes(pending[: cut - 1]).split(b"\n")
                del pending[:cut]
                for first in range(0, len(lines), max_lines):
                    yield lines[first : first + max_lines]
        if pending:
            yield [bytes(pending)]


def line_spans(path: str | Path, parts: int) -> list[tuple[int, int]] | None:
    """Byte ranges cutting a regular file into `parts` runs of whole lines, about equal in
    size; None for stdin or anything but a regular file (which cannot be read in parts)."""
    if str(path) == STDIN:
        return None
    try:
        # stat before opening: opening a named pipe would wait for, then lose, its writer.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            cuts = [0]
            for part in range(1, parts):
                handle.seek(max(size * part // parts, cuts[-1]))
                handle.readline()  # to the start of the next line
                cuts.append(min(handle.tell(), size))
    except OSError:
        return None  # read_batches will say what is wrong with the file
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))
