"""The ftl model file: a trained model's parameters, vocabulary, matrices and training
summary in the checked container format (`formats.container`).

Loading checks that the parts agree with each other (shapes, ids, counts), so a file that
passes the container's checksums but was written wrongly is still refused. A quantized model
(`ftl quantize`) stores its matrices as product-quantizer codes and centroids (format 2);
its input matrix stays codes in memory too.
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
from fasttext_lite.model.quantized import (
    CENTROIDS_PER_SUBQUANTIZER,
    QOUT_DSUB,
    ProductQuantizer,
    QuantizedMatrix,
    split,
)
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.version import __version__
from fasttext_lite.vocab import Vocabulary

_ARRAYS = {"input", "output", "feature_ids"}
# A quantized matrix's arrays, after its name: codes and centroids, and with qnorm the norms'.
_CODES = ("codes", "centroids")
_NORMS = ("norm_codes", "norm_centroids")


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


def size(parts: ModelParts) -> int:
    """The bytes `save` writes for `parts`."""
    return container.encoded_size(*_encoded(parts))


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
    arrays: dict[str, npt.NDArray[Any]] = {"feature_ids": model.feature_ids}
    if model.row_weights is not None:
        arrays["row_weights"] = model.row_weights
    quantized = _quantization(model)
    if quantized is not None:
        header["quantization"] = quantized
        # Ids of rows that exist only for features seen in training fit in 32 bits.
        arrays["feature_ids"] = model.feature_ids.astype(np.int32)
    for name, matrix in (
        ("input", model.quantized or model.input),
        ("output", model.output_codes or model.output),
    ):
        if isinstance(matrix, QuantizedMatrix):
            arrays.update(_quantized_arrays(name, matrix))
        else:
            arrays[name] = matrix
    return header, arrays


def _quantization(model: Model) -> dict[str, Any] | None:
    """The header's note of how a quantized model's matrices are cut (None: dense)."""
    matrix = model.quantized
    if matrix is None:
        return None
    return {
        "dsub": matrix.quantizer.dsub,
        "qnorm": matrix.norm_quantizer is not None,
        "qout": model.output_codes is not None,
    }


def _quantized_arrays(name: str, matrix: QuantizedMatrix) -> dict[str, npt.NDArray[Any]]:
    arrays: dict[str, npt.NDArray[Any]] = {
        f"{name}_codes": matrix.codes,
        f"{name}_centroids": matrix.quantizer.centroids,
    }
    if matrix.norm_quantizer is not None and matrix.norm_codes is not None:
        arrays[f"{name}_norm_codes"] = matrix.norm_codes
        arrays[f"{name}_norm_centroids"] = matrix.norm_quantizer.centroids
    return arrays


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
    quantization = header.get("quantization")
    params = schema.from_model(header["params"])
    schema.validate({**schema.DEFAULTS, **params})
    expected = _ARRAYS if quantization is None else _quantized_names(quantization)
    if params["weighting"] != "mean":
        expected = expected | {"row_weights"}
    if set(arrays) != expected:
        raise ValueError(f"arrays {sorted(arrays)}")
    pruned = header.get("pruned", False)
    if not isinstance(pruned, bool):
        raise ValueError("pruned")
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
    ids = arrays["feature_ids"]
    dim = params["dim"]
    output_rows = make_loss(params["loss"], label_counts).output_rows  # hs: one per inner node
    a: npt.NDArray[Any] | QuantizedMatrix
    b: npt.NDArray[Any] | QuantizedMatrix
    if quantization is None:
        a, b = arrays["input"], arrays["output"]
    else:
        a = _quantized(arrays, "input", quantization["dsub"], quantization["qnorm"], dim, copy)
        b = (
            _quantized(arrays, "output", QOUT_DSUB, quantization["qnorm"], dim, copy)
            if quantization["qout"]
            else arrays["output"]
        )
    if len(a.shape) != 2 or b.shape != (output_rows, dim) or a.shape[1] != dim:
        raise ValueError("matrix shapes")
    if ids.shape != (a.shape[0],) or ids.dtype.kind != "i":
        raise ValueError("feature ids")
    if len(labels) < 2 or a.dtype.kind != "f" or b.dtype.kind != "f":
        raise ValueError("labels or weights")
    if not all(isinstance(m, QuantizedMatrix) or np.isfinite(m).all() for m in (a, b)):
        raise ValueError("weights are not finite")
    if ids.size and (np.any(np.diff(ids) <= 0) or ids[0] < 0 or ids[-1] >= n_features):
        raise ValueError("feature ids out of order or range")
    row_weights = arrays.get("row_weights")
    if row_weights is not None:
        if row_weights.dtype != np.float32 or row_weights.shape != ids.shape:
            raise ValueError("row weights")
        if not (np.isfinite(row_weights).all() and (row_weights > 0).all()):
            raise ValueError("row weights are not finite and positive")
        if copy:
            row_weights = np.array(row_weights)
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
    if copy and not isinstance(a, QuantizedMatrix):  # writable arrays, not views of the bytes
        a = np.array(a)
    output_codes = b if isinstance(b, QuantizedMatrix) else None
    b = b.decode_all() if isinstance(b, QuantizedMatrix) else np.array(b) if copy else b
    model = Model(
        a,
        b,
        np.array(ids, dtype=np.int64),
        pruned=pruned,
        output_codes=output_codes,
        row_weights=row_weights,
    )
    vocab = Vocabulary(words, word_counts, labels, label_counts)
    integer_labels = header.get("integer_labels", False)
    if not isinstance(integer_labels, bool) or (
        integer_labels and not all(_is_int(label) for label in labels)
    ):
        raise ValueError("integer labels")
    return ModelParts(params, vocab, model, summary, integer_labels)


def _is_int(name: str) -> bool:
    return name.lstrip("-").isdigit() and str(int(name)) == name


def _quantized_names(quantization: Any) -> set[str]:
    """The arrays a quantized model's file holds, after the header's `quantization`."""
    if not isinstance(quantization, dict) or set(quantization) != {"dsub", "qnorm", "qout"}:
        raise ValueError("quantization")
    dsub, qnorm, qout = quantization["dsub"], quantization["qnorm"], quantization["qout"]
    if (
        type(dsub) is not int
        or dsub < 1
        or not isinstance(qnorm, bool)
        or not isinstance(qout, bool)
    ):
        raise ValueError("quantization settings")
    names = {"feature_ids"}
    for matrix, quantized in (("input", True), ("output", qout)):
        if not quantized:
            names.add(matrix)
            continue
        names.update(f"{matrix}_{part}" for part in _CODES + (_NORMS if qnorm else ()))
    return names


def _quantized(
    arrays: dict[str, npt.NDArray[Any]], name: str, dsub: int, qnorm: bool, dim: int, copy: bool
) -> QuantizedMatrix:
    """A quantized matrix from its arrays, every shape and dtype checked (the constructors
    check that the parts agree)."""
    codes, centroids = arrays[f"{name}_codes"], arrays[f"{name}_centroids"]
    nsubq, lastdsub = split(dim, dsub)
    if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] != nsubq:
        raise ValueError(f"{name} codes")
    if centroids.dtype != np.float32 or not np.isfinite(centroids).all():
        raise ValueError(f"{name} centroids")
    if copy:
        codes, centroids = np.array(codes), np.array(centroids)
    quantizer = ProductQuantizer(dim, nsubq, dsub, lastdsub, centroids)
    if not qnorm:
        return QuantizedMatrix(quantizer, codes)
    norm_codes, norm_centroids = arrays[f"{name}_norm_codes"], arrays[f"{name}_norm_centroids"]
    if norm_codes.dtype != np.uint8 or norm_centroids.dtype != np.float32:
        raise ValueError(f"{name} norms")
    if (
        norm_centroids.shape != (CENTROIDS_PER_SUBQUANTIZER,)
        or not np.isfinite(norm_centroids).all()
    ):
        raise ValueError(f"{name} norm centroids")
    if copy:
        norm_codes, norm_centroids = np.array(norm_codes), np.array(norm_centroids)
    norms = ProductQuantizer(1, 1, 1, 1, norm_centroids)
    return QuantizedMatrix(quantizer, codes, norms, norm_codes)
