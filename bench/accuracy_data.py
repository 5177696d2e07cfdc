"""Seeded corpora for the accuracy benchmark (`bench/accuracy.py`): shapes, imbalance, drift.

A smaller cousin of `generate.py` (kept apart so that the two can change independently) with
what the accuracy questions need and it lacks: a test part, labels of chosen priors (a 1:50
imbalance), topics that overlap (so that a rare label is confusable with a common one), and a
second set of topics drifted from the first (old and new parts for fine-tuning).

A line: a label drawn from the priors; a length of 1 + negative binomial (mean
`words_per_line`); a topical share drawn from a Beta law of mean `topic_fraction`; each token is
then one of the label's topical words (Zipf inside the topic) with that probability, otherwise
a background word (Zipf-Mandelbrot over the whole vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai")]
STOP_WORDS = 100  # the most frequent ranks are never topical


@dataclass(frozen=True)
class Topics:
    """Everything a corpus draws from: words, background law, priors, each label's topic."""

    words: npt.NDArray[np.str_]
    background: FloatArray  # probability of each word as background
    priors: FloatArray  # probability of each label
    topics: IntArray  # labels x topic words: word ids
    inside: FloatArray  # probability of each rank inside a topic
    names: list[str]  # label names, without the prefix


def _zipf(n: int, exponent: float, offset: float = 0.0) -> FloatArray:
    weights = 1.0 / (np.arange(1, n + 1) + offset) ** exponent
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def vocabulary(size: int, rng: np.random.Generator) -> npt.NDArray[np.str_]:
    """`size` distinct pseudo-words of 1-4 syllables, shorter ones at the frequent ranks."""
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = 1 + min(3, len(words) * 4 // size + int(rng.integers(0, 2)))
        word = "".join(rng.choice(SYLLABLES, syllables))
        while word in words:  # the short words run out first: lengthen
            word += str(rng.choice(SYLLABLES))
        words[word] = None
    return np.array(list(words))


def make_topics(
    rng: np.random.Generator,
    *,
    labels: int,
    vocab: int = 30_000,
    topic_words: int = 100,
    priors: FloatArray | None = None,
    label_skew: float = 0.8,
    overlap: float = 0.0,
    related: int | None = None,
) -> Topics:
    """Topics for `labels` labels with Zipf priors of exponent `label_skew` (or `priors`).
    With `overlap`, label l >= `related` takes that share of its topic from label
    l % `related`'s (its least probable words), so that lines with few topical words are
    ambiguous between the two."""
    words = vocabulary(vocab, rng)
    topics = np.stack(
        [
            rng.choice(np.arange(STOP_WORDS, vocab), topic_words, replace=False)
            for _ in range(labels)
        ]
    )
    if overlap and related:
        shared = int(round(overlap * topic_words))
        for label in range(related, labels):
            topics[label, -shared:] = topics[label % related, -shared:]
    return Topics(
        words=words,
        background=_zipf(vocab, 1.07, 2.7),
        priors=_zipf(labels, label_skew) if priors is None else priors / priors.sum(),
        topics=topics,
        inside=_zipf(topic_words, 1.0),
        names=[f"t{label:03d}" for label in range(labels)],
    )


def drifted(topics: Topics, share: float, new_labels: int, rng: np.random.Generator) -> Topics:
    """The topics of a later time: each label trades `share` of its topic words for other
    words of the vocabulary, and `new_labels` labels appear (priors like the old ones')."""
    vocab = len(topics.words)
    labels, k = topics.topics.shape
    moved = topics.topics.copy()
    for label in range(labels):
        swap = rng.choice(k, int(round(share * k)), replace=False)
        moved[label, swap] = rng.choice(np.arange(STOP_WORDS, vocab), swap.size, replace=False)
    fresh = np.stack(
        [rng.choice(np.arange(STOP_WORDS, vocab), k, replace=False) for _ in range(new_labels)]
    ).reshape(new_labels, k)
    priors = (
        np.concatenate([topics.priors, topics.priors[-new_labels:]])
        if new_labels
        else topics.priors
    )
    return replace(
        topics,
        topics=np.concatenate([moved, fresh]),
        priors=priors / priors.sum(),
        names=topics.names + [f"t{label:03d}" for label in range(labels, labels + new_labels)],
    )


def sample(
    topics: Topics,
    lines: int,
    rng: np.random.Generator,
    *,
    words_per_line: float,
    topic_fraction: float,
) -> list[str]:
    """`lines` lines in fastText format: `__label__NAME word word ...`."""
    labels = rng.choice(len(topics.priors), lines, p=topics.priors)
    mean_extra = max(words_per_line - 1.0, 1e-9)
    lengths = 1 + rng.negative_binomial(5, 5 / (5 + mean_extra), lines)
    shares = rng.beta(2.0, 2.0 * (1 - topic_fraction) / topic_fraction, lines)
    owner = np.repeat(np.arange(lines), lengths)
    topical = rng.random(owner.size) < shares[owner]
    ids = rng.choice(len(topics.words), owner.size, p=topics.background)
    ranks = rng.choice(topics.topics.shape[1], int(topical.sum()), p=topics.inside)
    ids[topical] = topics.topics[labels[owner[topical]], ranks]
    tokens = topics.words[ids]
    ends = np.cumsum(lengths)
    return [
        f"__label__{topics.names[label]} " + " ".join(tokens[end - length : end])
        for label, length, end in zip(labels.tolist(), lengths.tolist(), ends.tolist(), strict=True)
    ]


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)
    return path
