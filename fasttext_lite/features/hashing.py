"""fastText's hash functions, bit for bit (fastText `src/dictionary.cc`: `hash`, `addWordNgrams`).

Feature ids computed here equal fastText's for the same vocabulary and bucket, so its n-gram
rows and ours line up. Leaves out: the vocabulary's own hash table, which Python's dict replaces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
# fastText's multiplier for chaining word hashes into word n-gram hashes (`addWordNgrams`).
NGRAM_HASH_MULTIPLIER = 116049371

# Tokens longer than this are hashed one at a time: the vectorised loop runs once per byte
# position, so one multi-megabyte token would otherwise cost a Python iteration per byte
# for every token in the batch.
_VECTOR_MAX_LEN = 64


def fnv1a(data: bytes) -> int:
    """32-bit FNV-1a of `data`, with each byte sign-extended first as fastText does.

    fastText casts bytes to `int8_t` before xoring them in; released fastText models were
    trained that way, so bytes >= 0x80 (non-ASCII UTF-8) hash differently from textbook FNV-1a.

    >>> fnv1a(b"")
    2166136261
    >>> fnv1a(b"a")  # textbook FNV-1a for ASCII
    3826002220
    >>> hex(fnv1a("é".encode()))  # 0xC3 0xA9 are xored in as 0xFFFFFFC3, 0xFFFFFFA9
    '0x3cfa68c1'
    """
    h = FNV_OFFSET_BASIS
    for byte in data:
        h ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def fnv1a_many(tokens: Sequence[bytes]) -> npt.NDArray[np.uint32]:
    """`fnv1a` of every token, vectorised over tokens (one numpy step per byte position).

    >>> tokens = [b"a", b"", "é".encode()]
    >>> fnv1a_many(tokens).tolist() == [fnv1a(t) for t in tokens]
    True
    """
    hashes = np.full(len(tokens), FNV_OFFSET_BASIS, dtype=np.uint32)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    short = np.flatnonzero(lengths <= _VECTOR_MAX_LEN)
    for i in np.flatnonzero(lengths > _VECTOR_MAX_LEN).tolist():
        hashes[i] = fnv1a(tokens[i])
    if short.size == 0:
        return hashes
    # Pad the short tokens into a matrix; the mask keeps padding bytes out of the hash.
    width = int(lengths[short].max())
    padded = b"".join(tokens[i].ljust(width, b"\0") for i in short.tolist())
    matrix = np.frombuffer(padded, dtype=np.uint8).reshape(short.size, width)
    signed = matrix.view(np.int8).astype(np.int32).view(np.uint32)
    h = hashes[short]
    prime = np.uint32(FNV_PRIME)
    for j in range(width):
        live = lengths[short] > j
        h = np.where(live, (h ^ signed[:, j]) * prime, h)
    hashes[short] = h
    return hashes


def as_signed(hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
    """fastText keeps word hashes as `int32_t`; n-gram arithmetic sign-extends them from there."""
    return hashes.view(np.int32)


def chain_ngram_hashes(
    previous: npt.NDArray[np.uint64], word_hashes: npt.NDArray[np.int32]
) -> npt.NDArray[np.uint64]:
    """One step of fastText's word n-gram hash: `h * 116049371 + hash[j]` in uint64 arithmetic.

    The int32 word hash is sign-extended to 64 bits, as C++ does when adding it to a uint64.

    >>> first = as_signed(np.array([3826002220], dtype=np.uint32)).astype(np.uint64)
    >>> int(chain_ngram_hashes(first, np.array([-1], dtype=np.int32))[0]) == (
    ...     ((3826002220 - 2**32) * 116049371 - 1) % 2**64)
    True
    """
    return previous * np.uint64(NGRAM_HASH_MULTIPLIER) + word_hashes.astype(np.int64).view(
        np.uint64
    )
