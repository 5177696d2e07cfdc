"""The ftl model file: a trained model's parameters, vocabulary, matrices and training
summary in the checked container format (`formats.container`).

Loading checks that the parts agree with each other (shapes, ids, counts), so a file that
passes the container's checksums but was written wrongly is still refused.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite import params as schema
from fasttext_lite.errors import ModelFileError, ParameterError
from fasttext_lite.features.featurizer import effective_bucket
from fasttext_lite.formats import container
from fasttext_lite.losses import make_loss
from fasttext_lite.model import Model
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.version import __version__
from fasttext_lite.vocab import Vocabulary

_ARRAYS = {"input", "output", "feature_ids"}


class ModelParts(NamedTuple):
    params: dict[str, Any]  # the stored hyper-parameters (`params.MODEL_PARAMS`)
    vocab: Vocabulary
    model: Model
    summary: TrainingSummary
    integer_labels: bool = False  # the labels given to `fit` were ints: `classes_` gives ints


def save(path: str | Path, parts: ModelParts) -> None:
    """Write the model to `path` atomically."""
    container.save(path, *_encoded(parts))


def dumps(parts: ModelParts) -> bytes:
    """The bytes of the model file (`loads` reads them back through every check)."""
    return container.dumps(*_encoded(parts))


def _encoded(parts: ModelParts) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    vocab, model = parts.vocab, parts.model
    header = {
        "ftl_version": __version__,
        "params": {name: parts.params[name] for name in schema.MODEL_PARAMS},
        "words": vocab.words,
        "word_counts": vocab.word_counts,
        "labels": vocab.labels,
        "label_counts": vocab.label_counts,
        "summary": {k: v for k, v in asdict(parts.summary).items() if k != "seconds"},
        "integer_labels": parts.integer_labels,
        "pruned": model.pruned,
    }
    arrays = {"input": model.input, "output": model.output, "feature_ids": model.feature_ids}
    return header, arrays


def load(path: str | Path, *, mmap: bool = False) -> ModelParts:
    """Read a model written by `save`; anything else raises `ModelFileError`. With `mmap`,
    the matrices stay read-only memory maps of the file (see `container.load`)."""
    header, arrays = container.load(path, mmap=mmap)
    return _checked(path, header, arrays, copy=not mmap)


def loads(data: bytes) -> ModelParts:
    """`load` from the bytes `dumps` gives."""
    header, arrays = container.loads(data, "the pickled model")
    return _checked("the pickled model", header, arrays, copy=True)


def _checked(
    path: str | Path, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], copy: bool
) -> ModelParts:
    try:
        return _parts(header, arrays, copy)
    except (KeyError, TypeError, ValueError, ArithmeticError, ParameterError) as error:
        raise ModelFileError(
            f"{path}: not a valid fasttext_lite model: its contents disagree ({error})"
        ) from None


def _parts(header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], copy: bool) -> ModelParts:
    if set(arrays) != _ARRAYS:
        raise ValueError(f"arrays {sorted(arrays)}")
    params = schema.from_model(header["params"])
    schema.validate({**schema.DEFAULTS, **params})
    words, labels = header["words"], header["labels"]
    word_counts, label_counts = header["word_counts"], header["label_counts"]
    for strings, counts in ((words, word_counts), (labels, label_counts)):
        if not all(isinstance(s, str) for s in strings) or len(strings) != len(counts):
            raise ValueError("vocabulary")
        if not all(isinstance(n, int) for n in counts):
            raise ValueError("vocabulary counts")
    n_features = len(words) + effective_bucket(
        bucket=params["bucket"], word_ngrams=params["word_ngrams"], maxn=params["maxn"]
    )
    a, b, ids = arrays["input"], arrays["output"], arrays["feature_ids"]
    dim = params["dim"]
    output_rows = make_loss(params["loss"], label_counts).output_rows  # hs: one per inner node
    if a.ndim != 2 or b.shape != (output_rows, dim) or a.shape[1] != dim:
        raise ValueError("matrix shapes")
    if ids.shape != (a.shape[0],) or ids.dtype.kind != "i":
        raise ValueError("feature ids")
    if len(labels) < 2 or a.dtype.kind != "f" or b.dtype.kind != "f":
        raise ValueError("labels or weights")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("weights are not finite")
    if ids.size and (np.any(np.diff(ids) <= 0) or ids[0] < 0 or ids[-1] >= n_features):
        raise ValueError("feature ids out of order or range")
    if not isinstance(header["summary"], dict):
        raise ValueError("summary")
    summary = TrainingSummary(**{"seconds": None, **header["summary"]})
    if not isinstance(summary.validation, list) or not all(
        isinstance(e, dict) and set(e) == {"epoch", "precision", "recall", "loss"}
        for e in summary.validation
    ):
        raise ValueError("validation scores")
    if not isinstance(summary.trials, list) or not all(isinstance(t, dict) for t in summary.trials):
        raise ValueError("search trials")
    if copy:  # writable arrays of their own, not views of the bytes read
        a, b = np.array(a), np.array(b)
    pruned = header.get("pruned", False)
    if not isinstance(pruned, bool):
        raise ValueError("pruned")
    model = Model(a, b, np.array(ids, dtype=np.int64), pruned=pruned)
    vocab = Vocabulary(words, word_counts, labels, label_counts)
    integer_labels = header.get("integer_labels", False)
    if not isinstance(integer_labels, bool) or (
        integer_labels and not all(_is_int(label) for label in labels)
    ):
        raise ValueError("integer labels")
    return ModelParts(params, vocab, model, summary, integer_labels)


def _is_int(name: str) -> bool:
    return name.lstrip("-").isdigit() and str(int(name)) == name
