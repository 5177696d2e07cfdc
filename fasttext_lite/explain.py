"""Why a line gets its labels: each feature's share of a label's score.

A line's hidden vector is the mean of its features' rows of A, so a label's score
`s_j = B_j . h` is exactly the sum, over the line's features, of `B_j . A_f / n` (n features;
those without a row add nothing but count in n unless the model is pruned; with idf weighting
each term is weighted by its row's share of the line's weights instead). Contributions are
those terms, grouped under the token they come from (a word n-gram under its first token); they
add up to the score, not approximately but exactly, up to float rounding. Losses that score
every label (softmax, one-vs-all, negative sampling) have such scores; hierarchical softmax does
not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from fasttext_lite.errors import ParameterError
from fasttext_lite.inference import Predictor
from fasttext_lite.model.dense import weighted_shares
from fasttext_lite.text.scan import Scan
from fasttext_lite.text.tokens import as_bytes, decode


class Contribution(NamedTuple):
    kind: str  # "word", "char" (a character n-gram) or "ngram" (a word n-gram)
    text: str
    value: float


class TokenShare(NamedTuple):
    token: str
    value: float  # the sum of its contributions
    contributions: list[Contribution]


class Explanation(NamedTuple):
    label: str
    probability: float
    score: float  # B_label . hidden: the sum of every token's value
    tokens: list[TokenShare]  # most influential first (by absolute value)


def explain(
    predictor: Predictor, texts: Sequence[str | bytes], *, k: int = 1
) -> list[list[Explanation]]:
    """For each text, its top `k` labels with the contributions to each label's score."""
    if predictor.loss.output_rows != len(predictor.labels):
        raise ParameterError("loss", "explanations need per-label scores; hs has none")
    model, featurizer = predictor.model, predictor.featurizer
    scan = Scan(
        predictor.label_prefix, weight_prefix=predictor.weight_prefix, memory_entries=1 << 30
    )
    explanations = []
    for text in texts:
        scan.clear()
        scan.add_lines([as_bytes(text)])
        tokens = [as_bytes(scan.words.keys[i]) for i in scan.words.occurrences.tolist()]
        features = featurizer.provenance(tokens)
        rows = model.row_of(np.array([f.id for f in features], dtype=np.int64))
        # Features that never occurred in training have no row: they add nothing to the sum.
        present = [f for f, row in zip(features, rows.tolist(), strict=True) if row >= 0]
        row_ids = rows[rows >= 0]
        if model.row_weights is None:
            count = len(row_ids) if model.pruned else len(features)
            share = np.full(row_ids.size, 1.0 / max(count, 1))
        else:
            one_line = np.zeros(row_ids.size, dtype=np.intp)
            share = weighted_shares(model.row_weights, row_ids, one_line, 1)
        top = predictor.top_labels(predictor.read([text]), k, 0.0, drop_blank=False)
        line = []
        ranked = zip(top.ids[0].tolist(), top.probabilities[0].tolist(), strict=True)
        for label, probability in ranked:
            if label < 0:
                continue
            weights = (model.input[row_ids] @ model.output[label]) * share
            shares: dict[int, list[Contribution]] = {}
            for feature, value in zip(present, weights.tolist(), strict=True):
                shares.setdefault(feature.position, []).append(
                    Contribution(feature.kind, decode(feature.text), value)
                )
            grouped = [
                TokenShare(decode(tokens[position]), sum(c.value for c in parts), parts)
                for position, parts in shares.items()
            ]
            grouped.sort(key=lambda share: -abs(share.value))
            line.append(
                Explanation(predictor.labels[label], probability, float(weights.sum()), grouped)
            )
        explanations.append(line)
    return explanations
