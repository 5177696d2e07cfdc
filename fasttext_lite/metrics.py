"""Evaluation counts and scores (fastText `src/meter.cc`): P@k, R@k, micro F1, per label.

P@k is correct predictions / predictions made and R@k is correct predictions / gold labels,
both summed over the file before dividing (micro-averaged). On single-label data at k=1 every
line has one gold label and at most one prediction, so P@1 and R@1 are equal unless a
threshold suppresses predictions. Labels are ids here, named only in the result.
Macro and weighted averages are scikit-learn's (`average="macro"`, `"weighted"`): the plain
mean of the per-label scores over the labels that occur (gold or predicted), and their mean
weighted by support. `evaluate` scores a classifier on labelled lines through its public
`predictor`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from fasttext_lite import parallel, params
from fasttext_lite.errors import DataError
from fasttext_lite.text.lines import read_lines

if TYPE_CHECKING:
    from fasttext_lite.classifier import FastTextClassifier
    from fasttext_lite.inference import Predictor


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # gold occurrences
    predicted: int  # times predicted


@dataclass(frozen=True)
class Average:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Evaluation:
    examples: int
    k: int
    threshold: float
    precision: float
    recall: float
    f1: float
    per_label: list[LabelScore]

    @property
    def macro(self) -> Average:
        """The unweighted mean over the labels that are gold or predicted on some line."""
        seen = [s for s in self.per_label if s.support or s.predicted]
        return _mean(seen, np.ones(len(seen)))

    @property
    def weighted(self) -> Average:
        """The mean over the labels weighted by their support (gold occurrences)."""
        return _mean(self.per_label, np.array([s.support for s in self.per_label], float))

    def summary(self) -> dict[str, Any]:
        """The scores without the per-label table, as JSON-ready values (`ftl eval --json`)."""
        return {
            "n": self.examples,
            "k": self.k,
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "macro": asdict(self.macro),
            "weighted": asdict(self.weighted),
        }


def _mean(scores: Sequence[LabelScore], weights: npt.NDArray[np.float64]) -> Average:
    """Each score's weighted mean (0 for no weight at all)."""
    if not weights.sum():
        return Average(0.0, 0.0, 0.0)
    values = np.array([(s.precision, s.recall, s.f1) for s in scores], float).reshape(-1, 3)
    p, r, f = (float(x) for x in np.average(values, axis=0, weights=weights))
    return Average(p, r, f)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _f1(precision: float, recall: float) -> float:
    """Harmonic mean, 0 when both are 0.

    >>> _f1(0.5, 1.0)
    0.6666666666666666
    """
    return _ratio(2 * precision * recall, precision + recall)


class Meter:
    """Accumulates gold and predicted label sets, one boolean row per example."""

    def __init__(self, nlabels: int) -> None:
        self.examples = 0
        self.gold = np.zeros(nlabels, dtype=np.int64)
        self.predicted = np.zeros(nlabels, dtype=np.int64)
        self.correct = np.zeros(nlabels, dtype=np.int64)

    def merge(self, other: Meter) -> None:
        """Add the counts of another meter (of a share of the same lines)."""
        self.examples += other.examples
        self.gold += other.gold
        self.predicted += other.predicted
        self.correct += other.correct

    def add(self, gold: npt.NDArray[np.bool_], predicted: npt.NDArray[np.bool_]) -> None:
        """Add a chunk of examples: (examples, labels) boolean matrices.

        >>> meter = Meter(3)
        >>> meter.add(np.array([[1, 1, 0]], bool), np.array([[1, 0, 1]], bool))
        >>> meter.result(["a", "b", "c"], k=2, threshold=0.0).precision
        0.5
        """
        self.examples += gold.shape[0]
        self.gold += gold.sum(axis=0)
        self.predicted += predicted.sum(axis=0)
        self.correct += (gold & predicted).sum(axis=0)

    def result(self, labels: Sequence[str], *, k: int, threshold: float) -> Evaluation:
        precision = _ratio(self.correct.sum(), self.predicted.sum())
        recall = _ratio(self.correct.sum(), self.gold.sum())
        per_label = []
        for i, label in enumerate(labels):
            p = _ratio(self.correct[i], self.predicted[i])
            r = _ratio(self.correct[i], self.gold[i])
            per_label.append(
                LabelScore(label, p, r, _f1(p, r), int(self.gold[i]), int(self.predicted[i]))
            )
        return Evaluation(
            examples=self.examples,
            k=k,
            threshold=threshold,
            precision=precision,
            recall=recall,
            f1=_f1(precision, recall),
            per_label=per_label,
        )


def evaluate(
    classifier: FastTextClassifier,
    lines: str | Path | Iterable[str | bytes],
    *,
    k: int = 1,
    threshold: float = 0.0,
    threads: int = 1,
) -> Evaluation:
    """P@k, R@k, F1 and per-label scores on labelled lines (a path, `-`, or an iterable),
    read by `threads` processes.

    As fastText's `test`: lines with no label known to the model are skipped; labels the model
    does not know are ignored.
    """
    params.check_top_k(k, threshold)
    params.check_int("threads", threads, minimum=1, maximum=256)
    source = read_lines(lines) if isinstance(lines, (str, Path)) else lines
    meter = evaluate_with(classifier.predictor(), source, k=k, threshold=threshold, threads=threads)
    if meter.examples == 0:
        raise no_labelled_lines(classifier, lines)
    return meter.result(classifier.vocabulary_.labels, k=k, threshold=threshold)


def no_labelled_lines(
    classifier: FastTextClassifier, lines: str | Path | Iterable[str | bytes]
) -> DataError:
    """The error for evaluation lines none of which has a label the model knows."""
    name = lines if isinstance(lines, (str, Path)) else "the evaluation lines"
    labels = classifier.vocabulary_.labels
    return DataError(
        f"{name}: no line has a label the model knows (labels start with"
        f" {classifier.label_prefix!r}; the model knows {', '.join(labels[:3])}, ...)"
    )


def evaluate_with(
    predictor: Predictor,
    lines: Iterable[str | bytes],
    *,
    k: int = 1,
    threshold: float = 0.0,
    threads: int = 1,
) -> Meter:
    """The counts behind `evaluate`, for a predictor (also one over a model in training)."""
    labels = predictor.labels

    def counted(chunk: list[str | bytes]) -> Meter:
        read = predictor.read(chunk)
        gold = predictor.gold(read).weights(len(labels)).toarray() > 0
        top = predictor.top_labels(read, k, threshold)
        predicted = np.zeros_like(gold)
        rows, columns = np.nonzero(top.ids >= 0)
        predicted[rows, top.ids[rows, columns]] = True
        # As fastText's test: a line with no label the model knows is not counted.
        keep = gold.any(axis=1)
        part = Meter(len(labels))
        part.add(gold[keep], predicted[keep])
        return part

    meter = Meter(len(labels))
    for part in parallel.ordered_map(counted, predictor.chunks(lines), threads):
        meter.merge(part)
    return meter
