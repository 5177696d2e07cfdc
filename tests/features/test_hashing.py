"""fastText's hashes, checked against the naive reference in `tests/reference.py` (a Python
loop with the sign extension spelled out, to read against fastText's `Dictionary::hash`) and
against pinned values."""

from __future__ import annotations

import numpy as np
import pytest
from reference import NGRAM_MULTIPLIER as MULTIPLIER
from reference import U32, U64, chain
from reference import fnv1a as reference_fnv1a

from fasttext_lite.features.hashing import as_signed, chain_ngram_hashes, fnv1a, fnv1a_many

WORDS: list[bytes] = [
    b"",
    b"a",
    b"foobar",
    b"__label__x",
    b"</s>",
    "é".encode(),
    "日本".encode(),
    "naïve".encode(),
    "😀".encode(),
    b"caf\xe9",  # Latin-1 bytes: invalid UTF-8
    b"\xff",
    b"\x80\x80",  # lone continuation bytes
    b"\x7f",  # the largest byte that is not sign-extended
    b"x" * 64,
    b"y" * 65,
    "長い".encode() * 30,
]


# Published FNV-1a 32 test vectors for ASCII; values for bytes >= 0x80 follow fastText's
# sign extension and differ from textbook FNV-1a (see the test after the next).
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0x811C9DC5),
        (b"a", 0xE40C292C),
        (b"foobar", 0xBF9CF968),
        ("é".encode(), 0x3CFA68C1),
        ("日本".encode(), 0xF8378251),
        (b"caf\xe9", 0xF4F5ED7C),
        (b"\xff", 0xF9F3A14E),
    ],
)
def test_fnv1a_matches_pinned_values(data: bytes, expected: int) -> None:
    assert reference_fnv1a(data) == expected  # the reference itself is pinned
    assert fnv1a(data) == expected


@pytest.mark.parametrize("data", WORDS)
def test_fnv1a_matches_reference(data: bytes) -> None:
    assert fnv1a(data) == reference_fnv1a(data)


@pytest.mark.parametrize("data", WORDS)
def test_only_bytes_from_0x80_hash_unlike_textbook_fnv1a(data: bytes) -> None:
    """fastText xors a byte >= 0x80 in as 0xFFFFFFxx; textbook FNV-1a as 0xxx. The two agree
    exactly on the words without such a byte."""
    textbook = reference_fnv1a(data, sign_extend=False)
    assert (fnv1a(data) == textbook) == all(b < 0x80 for b in data)
    assert (fnv1a_many([data])[0] == textbook) == all(b < 0x80 for b in data)


@pytest.mark.parametrize(
    "tokens",
    [
        WORDS,
        [],
        [b""],
        [b"", b"", b""],
        [b"z" * 200],
        [b"short", b"q" * 65, b"", "日本".encode() * 12, b"ab"],
        [b"a", b"a\x00", b"a\x00\x00"],  # trailing NULs must not look like padding
    ],
    ids=["words", "none", "empty", "empties", "one-long", "mixed-lengths", "nul-bytes"],
)
def test_fnv1a_many_equals_fnv1a_per_token(tokens: list[bytes]) -> None:
    hashes = fnv1a_many(tokens)
    assert hashes.dtype == np.uint32
    assert hashes.shape == (len(tokens),)
    assert hashes.tolist() == [reference_fnv1a(t) for t in tokens]


def test_nul_bytes_change_the_hash() -> None:
    # A NUL is a real byte: xor with 0 still multiplies by the prime.
    assert fnv1a(b"a\x00") != fnv1a(b"a")
    assert len(set(fnv1a_many([b"a", b"a\x00", b"a\x00\x00"]).tolist())) == 3


def test_as_signed_reinterprets_the_bits() -> None:
    hashes = np.array([0, 1, 2**31 - 1, 2**31, U32 - 1], dtype=np.uint32)
    assert as_signed(hashes).dtype == np.int32
    assert as_signed(hashes).tolist() == [0, 1, 2**31 - 1, -(2**31), -1]


@pytest.mark.parametrize(
    "words",
    [
        [b"a", b"b"],
        [b"foobar", "é".encode()],  # second hash >= 2**31: negative as int32
        ["日本".encode(), b"\xff", b"caf\xe9"],  # all negative as int32
        [b"the", b"quick", b"brown", b"fox"],
        [b"</s>", b"</s>"],
    ],
)
def test_chain_ngram_hashes_matches_uint64_formula(words: list[bytes]) -> None:
    raw = [reference_fnv1a(w) for w in words]
    signed = as_signed(np.array(raw, dtype=np.uint32))
    h = signed[:1].astype(np.int64).view(np.uint64)
    for j in range(1, len(words)):
        h = chain_ngram_hashes(h, signed[j : j + 1])
        assert h.dtype == np.uint64
        assert int(h[0]) == chain(raw[: j + 1])


def test_chain_sign_extends_negative_word_hashes() -> None:
    # With zero-extension instead, adding the hash 0xFFFFFFFF would add 2**32 - 1, not -1.
    start = np.array([5], dtype=np.uint64)
    chained = chain_ngram_hashes(start, np.array([-1], dtype=np.int32))
    assert int(chained[0]) == 5 * MULTIPLIER - 1
    wrapped = chain_ngram_hashes(np.array([0], dtype=np.uint64), np.array([-1], dtype=np.int32))
    assert int(wrapped[0]) == U64 - 1


def test_chain_wraps_modulo_2_64() -> None:
    start = np.array([U64 - 1, 2**63], dtype=np.uint64)
    nxt = np.array([7, -(2**31)], dtype=np.int32)
    got = chain_ngram_hashes(start, nxt).tolist()
    assert got == [
        ((U64 - 1) * MULTIPLIER + 7) % U64,
        (2**63 * MULTIPLIER - 2**31) % U64,
    ]
