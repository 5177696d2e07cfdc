"""Tokens as fastText reads them (`src/dictionary.cc`, `readWord`), and their bytes.

Tokens are separated by the bytes space, tab, newline, CR, VT, FF and NUL only; no lowercasing,
no Unicode whitespace. Bytes that are not valid UTF-8 are kept as they are (decoded with
`surrogateescape`), so they hash exactly as fastText hashes them and print back unchanged.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from operator import methodcaller

# `</s>` is a real word: fastText counts it once per line, gives it a row of the input
# matrix, and appends it at predict time too.
EOS = "</s>"
EOS_BYTES = EOS.encode()
DEFAULT_LABEL_PREFIX = "__label__"
ENCODING_ERRORS = "surrogateescape"


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


def tokenize(line: bytes | str) -> list[str]:
    """Split a line on fastText's separator bytes.

    >>> tokenize(b"Hello\\tworld\\x00again\\r\\n")
    ['Hello', 'world', 'again']
    >>> tokenize("no\\u00a0break")  # U+00A0 is not a separator for fastText
    ['no\\xa0break']
    """
    parts = as_bytes(line).translate(_NUL_AS_SPACE).split()
    # UTF-8 never puts an ASCII byte inside a multi-byte character, so decoding the
    # re-joined tokens once is the same as decoding each one.
    return b" ".join(parts).decode("utf-8", ENCODING_ERRORS).split(" ") if parts else []


def split_lines(lines: Sequence[bytes]) -> list[list[bytes]]:
    """The tokens of each line, for many lines at once without a Python step per line.

    >>> split_lines([b"a b\\r", b"", b"c\\x00d"])
    [[b'a', b'b'], [], [b'c', b'd']]
    """
    if b"\0" in b"".join(lines):
        lines = list(map(methodcaller("translate", _NUL_AS_SPACE), lines))
    return list(map(bytes.split, lines))


def decode(token: bytes) -> str:
    """The str form of a token: undecodable bytes kept as surrogate escapes."""
    return token.decode("utf-8", ENCODING_ERRORS)


def encode_token(token: str) -> bytes:
    """The bytes fastText would have read for `token`.

    >>> encode_token("caf\\xe9 \\udcff \\ud800")  # an escaped byte; a lone surrogate
    b'caf\\xc3\\xa9 \\xff \\xef\\xbf\\xbd'
    """
    return token.encode("utf-8", _ENCODE_ERRORS)


def as_bytes(text: str | bytes) -> bytes:
    """Bytes as they are, a str as the bytes fastText would have read for it."""
    return encode_token(text) if isinstance(text, str) else text


def first_non_text(texts: Iterable[object]) -> tuple[object] | None:
    """The first item that is neither str nor bytes, as (item,); None if there is none.

    >>> first_non_text(["a", b"b", None]), first_non_text(["a"])
    ((None,), None)
    """
    for text in texts:
        if not isinstance(text, (str, bytes)):
            return (text,)
    return None
