"""Fitting a quantized classifier into a file size: fastText's `-autotune-modelsize` (`src/args.cc`
`getAutotuneModelSize`, `src/autotune.cc` `getCutoffForFileSize`).

fastText estimates its cutoff from the matrices' sizes and never looks at the file. Here a size
is the file's, computed as the writers write it, and the larger of ftl's `.ftl` and fastText's
`.ftz`, so that the model fits whichever it is saved as. The codes' values do not change a
file's size, so the cutoff is found before quantizing, on codes of zeros.
"""

from __future__ import annotations

import numbers

import numpy as np
import numpy.typing as npt

from fasttext_lite import quantization
from fasttext_lite.errors import ParameterError
from fasttext_lite.formats import fasttext_model, model_file
from fasttext_lite.formats.model_file import ModelParts
from fasttext_lite.model import Model
from fasttext_lite.model.quantized import (
    CENTROIDS_PER_SUBQUANTIZER,
    QOUT_DSUB,
    ProductQuantizer,
    QuantizedMatrix,
    split,
)

# fastText's size units (`getAutotuneModelSize`): powers of 1000, in either case.
_UNITS = {"k": 10**3, "m": 10**6, "g": 10**9}
# fastText's `kCutoffLimit`: a quantizer needs at least as many vectors as it has centroids.
MIN_VECTORS = CENTROIDS_PER_SUBQUANTIZER


class DoesNotFit(ParameterError):
    """No quantized model of these settings fits in the size asked. `smallest` is the fewest
    bytes one takes, None when the model has too few vectors to be quantized at all."""

    def __init__(self, parameter: str, message: str, smallest: int | None = None) -> None:
        super().__init__(parameter, message)
        self.smallest = smallest

    def __reduce__(self) -> tuple[type[DoesNotFit], tuple[str, str, int | None]]:  # type: ignore[override]
        return type(self), (self.parameter, self.detail, self.smallest)


def parse(size: str | int, parameter: str = "model_size") -> int:
    """Bytes, from fastText's spelling of a size: a whole number, optionally followed by K, M
    or G (powers of 1000); `ParameterError` names `parameter` for anything else.

    >>> parse("2M"), parse("500k"), parse("1G"), parse("1234"), parse(1234)
    (2000000, 500000, 1000000000, 1234, 1234)
    """
    whole = isinstance(size, numbers.Integral) and not isinstance(size, bool)
    text = str(int(size)) if whole else size if isinstance(size, str) else ""
    multiplier = _UNITS.get(text[-1:].lower(), 1)
    digits = text[:-1] if multiplier > 1 else text
    if not (digits.isascii() and digits.isdigit()) or int(digits) == 0:
        raise ParameterError(
            parameter, f"must be a number of bytes such as 800000, 500K, 2M or 1G, got {size!r}"
        )
    return int(digits) * multiplier


def file_size(parts: ModelParts) -> int:
    """The bytes of a quantized model's file: the larger of ftl's `.ftl` and fastText's `.ftz`
    (only `.ftl` for an idf-weighted model, which fastText's format cannot hold)."""
    if parts.model.row_weights is not None:
        return model_file.size(parts)
    return max(model_file.size(parts), fasttext_model.size(parts))


def cutoff(parts: ModelParts, budget: int, settings: quantization.Settings) -> int:
    """The most vectors of the dense model `parts`, at least 256 and those `quantize` would
    keep, whose file quantized with `settings` takes at most `budget` bytes."""
    rows = parts.model.input.shape[0]
    if rows < MIN_VECTORS:
        raise DoesNotFit(
            "model_size",
            f"the model has {rows} word and n-gram vectors, and quantizing needs at least"
            f" {MIN_VECTORS}; train on more text, or with n-grams",
        )
    order = quantization.selection(parts.vocab, parts.model)
    stand_in = parts._replace(model=_zero_codes(parts.model, settings))
    return _most_vectors(stand_in, order, budget, least=MIN_VECTORS)


def trim(parts: ModelParts, budget: int) -> ModelParts:
    """The quantized model `parts` without its vectors of smallest norm (`</s>` last) that its
    file cannot hold in `budget` bytes; `parts` itself when it fits."""
    order = quantization.selection(parts.vocab, parts.model)
    kept = _most_vectors(parts, order, budget, least=0)
    if kept == order.size:
        return parts
    pruned = quantization.keep(parts.vocab, parts.model, order[:kept])
    return parts._replace(vocab=pruned.vocab, model=pruned.model)


def _most_vectors(
    parts: ModelParts, order: npt.NDArray[np.intp], budget: int, *, least: int
) -> int:
    """The largest n >= `least` such that the quantized model `parts` with only the first n
    rows of `order` fits in `budget` bytes (a file grows with its rows: a binary search)."""

    def size(n: int) -> int:
        if n == order.size:
            return file_size(parts)
        pruned = quantization.keep(parts.vocab, parts.model, order[:n])
        return file_size(parts._replace(vocab=pruned.vocab, model=pruned.model))

    smallest = size(least)
    if smallest > budget:
        quantized = parts.model.quantized
        assert quantized is not None
        raise DoesNotFit(
            "model_size",
            f"the smallest quantized model of these settings ({least} vectors of dim"
            f" {quantized.quantizer.dim}, dsub {quantized.quantizer.dsub}) takes {smallest}"
            f" bytes, more than {budget}; allow more, or use a smaller dim or a larger dsub",
            smallest,
        )
    low, high = least, order.size  # size(low) fits
    if size(high) <= budget:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if size(middle) <= budget:
            low = middle
        else:
            high = middle
    return low


def _zero_codes(model: Model, settings: quantization.Settings) -> Model:
    """`model` as `quantization.quantized` will make it, but with codes and centroids of zeros
    (a file of the same size), pruned as a cutoff makes it."""
    dim = model.output.shape[1]

    def zeros(rows: int, dsub: int) -> QuantizedMatrix:
        nsubq, lastdsub = split(dim, dsub)
        centroids = np.zeros(dim * CENTROIDS_PER_SUBQUANTIZER, dtype=np.float32)
        codes = np.zeros((rows, nsubq), dtype=np.uint8)
        quantizer = ProductQuantizer(dim, nsubq, dsub, lastdsub, centroids)
        if not settings.qnorm:
            return QuantizedMatrix(quantizer, codes)
        norms = ProductQuantizer(1, 1, 1, 1, np.zeros(CENTROIDS_PER_SUBQUANTIZER, np.float32))
        return QuantizedMatrix(quantizer, codes, norms, np.zeros(rows, dtype=np.uint8))

    input_ = zeros(model.input.shape[0], settings.dsub)
    output = zeros(model.output.shape[0], QOUT_DSUB) if settings.qout else None
    return Model(
        input_,
        model.output,
        model.feature_ids,
        pruned=True,
        output_codes=output,
        row_weights=model.row_weights,
    )
