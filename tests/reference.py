"""Plain, one-line-at-a-time references for what the package does in blocks: fastText's hashes
(`Dictionary::hash`, `addWordNgrams`) in Python integers, parsing a line into words and labels,
and featurizing parsed lines. Tests compare the fast paths with these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.text.scan import TokenTable
from fasttext_lite.text.tokens import DEFAULT_LABEL_PREFIX, EOS_BYTES, as_bytes, decode

_NUL_AS_SPACE = bytes.maketrans(b"\0", b" ")

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
NGRAM_MULTIPLIER = 116049371
U32 = 2**32
U64 = 2**64


def fnv1a(data: bytes, *, sign_extend: bool = True) -> int:
    """FNV-1a 32-bit, each byte sign-extended as a signed char before the xor, as fastText's

        uint32_t h = 2166136261;
        for (char c : str) { h = h ^ uint32_t(int8_t(c)); h = h * 16777619; }

    With `sign_extend=False`, textbook FNV-1a.

    >>> hex(fnv1a(b"\\xff")), hex(fnv1a(b"\\xff", sign_extend=False))
    ('0xf9f3a14e', '0x7a0b824e')
    """
    h = FNV_OFFSET
    for b in data:
        if sign_extend and b >= 0x80:
            b |= 0xFFFFFF00  # int8 -> uint32 sign extension
        h = ((h ^ b) * FNV_PRIME) % U32
    return h


def to_int32(h: int) -> int:
    """The uint32 hash as fastText stores it: an int32_t."""
    return h - U32 if h >= 2**31 else h


def chain(hashes: Sequence[int]) -> int:
    """`uint64_t h = hashes[0]; h = h * 116049371 + hashes[j]`, each uint32 hash taken as an
    int32 and sign-extended to 64 bits."""
    h = to_int32(hashes[0]) % U64
    for following in hashes[1:]:
        h = (h * NGRAM_MULTIPLIER + to_int32(following)) % U64
    return h


def word_ngram_hash(words: Sequence[bytes]) -> int:
    """The uint64 hash of a word n-gram (`addWordNgrams`, before `% bucket`)."""
    return chain([fnv1a(word) for word in words])


class Example(NamedTuple):
    """One line: its words (ending with `</s>`) and its label names (prefix removed)."""

    words: list[str]
    labels: list[str]


def parse_line(line: bytes | str, label_prefix: str = DEFAULT_LABEL_PREFIX) -> Example:
    """Separate labels (tokens starting with the prefix, anywhere) from words; append `</s>`.

    >>> parse_line("__label__x hello  world __label__y")
    Example(words=['hello', 'world', '</s>'], labels=['x', 'y'])
    """
    prefix = as_bytes(label_prefix)
    tokens = as_bytes(line).translate(_NUL_AS_SPACE).split()
    words = [t for t in tokens if not t.startswith(prefix)] + [EOS_BYTES]
    labels = [t[len(prefix) :] for t in tokens if t.startswith(prefix)]
    return Example([decode(w) for w in words], [decode(x) for x in labels])


def featurize(featurizer: Featurizer, examples: Sequence[Example]) -> Bags:
    """The feature ids of each parsed line, a repeated feature once per occurrence."""
    table = TokenTable.of(example.words for example in examples)
    return featurize_table(featurizer, table.decoded, table.occurrences, table.lengths)


def featurize_table(
    featurizer: Featurizer,
    tokens: Sequence[str | bytes],
    occurrences: npt.NDArray[np.int32],
    lengths: npt.NDArray[np.integer],
    *,
    consume: bool = False,
) -> Bags:
    """The feature ids of lines given as indices into distinct `tokens`."""
    features = featurizer.token_features(tokens)
    return featurizer.transform_lines(features, occurrences, lengths, consume=consume)
