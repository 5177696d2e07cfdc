"""A batch of texts predicted as the integrations hand it back: per text, its labels (bare
names) and their probabilities, as plain lists that pickle and convert anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fasttext_lite.classifier import FastTextClassifier

# How a prediction comes back: the labels (bare names) and their probabilities.
Answer = dict[str, list[Any]]


def as_text(value: Any) -> str | bytes:
    """A table's cell as a text: a null (None, or pandas' NaN) is an empty line, not "None"."""
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return ""


def answers(
    classifier: FastTextClassifier, texts: Sequence[str | bytes], k: int, threshold: float
) -> list[Answer]:
    """One answer per text, in order; one vectorised prediction for all of them."""
    if not texts:
        return []
    names = classifier.vocabulary_.labels
    top = next(iter(classifier.iter_top_labels([texts], k=k, threshold=threshold)))
    return [
        {
            "labels": [names[i] for i in ids if i >= 0],
            "probabilities": [p for i, p in zip(ids, probs, strict=True) if i >= 0],
        }
        for ids, probs in zip(top.ids.tolist(), top.probabilities.tolist(), strict=True)
    ]
