"""Plain, one-line-at-a-time references for what the package does in blocks: parsing a line
into words and labels, and featurizing parsed lines. Tests compare the fast paths with these."""

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
    return featurize_table(featurizer, table.tokens, table.occurrences, table.lengths)


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
