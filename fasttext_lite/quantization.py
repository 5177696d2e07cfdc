"""Quantizing a trained classifier, as fastText's `quantize` (`src/fasttext.cc`: `quantize`,
`selectEmbeddings`; `src/dictionary.cc`: `prune`): keep the `cutoff` rows of A with the
largest norms, optionally retrain on them, then product-quantize A (and B with `qout`).

The k-means is `model.quantizer`'s. Leaves out fastText's quantization of unsupervised models
(it has none either).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ParameterError
from fasttext_lite.features.featurizer import effective_bucket
from fasttext_lite.model import Model
from fasttext_lite.model import quantizer as pq
from fasttext_lite.model.quantized import QOUT_DSUB
from fasttext_lite.text.tokens import EOS
from fasttext_lite.vocab import Vocabulary


class Settings(NamedTuple):
    """fastText's `quantize` options (`retrain` needs a corpus, read by the caller)."""

    cutoff: int = 0  # rows of A to keep, by norm; 0: all
    dsub: int = 2  # numbers per piece of a row
    qnorm: bool = False  # quantize each row's norm apart
    qout: bool = False  # quantize B too


class Pruned(NamedTuple):
    vocab: Vocabulary
    model: Model  # pruned: a feature without a row is left out of its line's mean


def prunes(vocab: Vocabulary, params: dict[str, Any], cutoff: int) -> bool:
    """Whether `cutoff` prunes: fastText prunes when it is below its input matrix's rows
    (every word and hash bucket; ftl stores only the rows training used)."""
    return 0 < cutoff < _features(vocab, params)


def _features(vocab: Vocabulary, params: dict[str, Any]) -> int:
    """fastText's input rows: every word and hash bucket."""
    bucket = effective_bucket(
        bucket=params["bucket"], word_ngrams=params["word_ngrams"], maxn=params["maxn"]
    )
    return len(vocab.words) + bucket


def prune(vocab: Vocabulary, model: Model, cutoff: int) -> Pruned:
    """The model with the first `cutoff` rows of `selection` (the largest), as `keep` keeps
    them."""
    if model.quantized is not None:
        raise ParameterError("model", "is quantized already; quantize the model it came from")
    return keep(vocab, model, selection(vocab, model)[:cutoff])


def selection(vocab: Vocabulary, model: Model) -> npt.NDArray[np.intp]:
    """Every row of A in the order a cutoff keeps them: `</s>`'s first, then by decreasing
    L2 norm (fastText's `selectEmbeddings`; a quantized A's rows as decoded)."""
    norms = np.linalg.norm(np.asarray(model.input, dtype=np.float32), axis=1)
    order = np.argsort(-norms, kind="stable")
    eos = vocab.word_ids.get(EOS)
    if eos is not None:
        eos_row = model.row_of(np.array([eos]))[0]
        if eos_row >= 0:  # fastText keeps `</s>` whatever its norm
            order = np.concatenate([[eos_row], order[order != eos_row]])
    return order


def keep(vocab: Vocabulary, model: Model, rows: npt.NDArray[np.integer]) -> Pruned:
    """The model with only the rows `rows` of A (a quantized A keeps its codes), and the
    vocabulary of the words among them, renumbered in their order (fastText's
    `Dictionary::prune`): the other words become unknown words."""
    nwords = len(vocab.words)
    rows = np.sort(rows)  # in feature id order, as A's rows are
    features = model.feature_ids[rows]
    is_word = features < nwords
    kept_words = features[is_word]
    new_ids = np.concatenate([np.arange(kept_words.size), features[~is_word] - nwords])
    new_ids[kept_words.size :] += kept_words.size
    words = kept_words.tolist()
    pruned_vocab = Vocabulary(
        [vocab.words[i] for i in words],
        [vocab.word_counts[i] for i in words],
        vocab.labels,
        vocab.label_counts,
    )
    codes = model.quantized
    input_ = codes.take(rows) if codes is not None else np.array(np.take(model.input, rows, axis=0))
    row_weights = None if model.row_weights is None else model.row_weights[rows]
    pruned_model = Model(
        input_,
        np.array(model.output),
        new_ids.astype(np.int64),
        pruned=True,
        output_codes=model.output_codes,
        row_weights=row_weights,
    )
    return Pruned(pruned_vocab, pruned_model)


def quantized(
    model: Model, settings: Settings, rng: np.random.Generator, *, complete: bool = False
) -> Model:
    """`model` with A (and with `qout` B) as product-quantizer codes (fastText's
    `QuantMatrix`): A keeps its codes, B is decoded once (it is small and every label's row
    is read for every line). Unless A is `complete` (a row for every word and bucket), the
    result is pruned: codes only for the rows the model has, the other features left out of
    the mean, as in fastText's pruned .ftz, so that it can be written as one."""
    dim = model.output.shape[1]
    if not 1 <= settings.dsub <= dim:
        raise ParameterError("dsub", f"must be between 1 and dim ({dim}), got {settings.dsub}")
    rows = model.input.shape[0]
    if rows < pq.KSUB:
        raise ParameterError(
            "cutoff",
            f"the model has {rows} rows of word and n-gram vectors to quantize; quantizing needs"
            f" at least {pq.KSUB} (keep more rows, or train on more text)",
        )
    if settings.qout and model.output.shape[0] < pq.KSUB:
        raise ParameterError(
            "qout",
            f"the output matrix has {model.output.shape[0]} rows; quantizing it needs at least"
            f" {pq.KSUB} (labels); leave out qout",
        )
    source: npt.NDArray[Any] = np.asarray(model.input)
    input_ = pq.quantize(source, settings.dsub, rng, qnorm=settings.qnorm)
    output, output_codes = model.output, None
    if settings.qout:
        output_codes = pq.quantize(model.output, QOUT_DSUB, rng, qnorm=settings.qnorm)
        output = output_codes.decode_all()
    pruned = model.pruned or not complete
    return Model(
        input_,
        output,
        model.feature_ids,
        pruned=pruned,
        output_codes=output_codes,
        row_weights=model.row_weights,
    )


Retrain = Callable[[Pruned], Model]


def quantize(
    vocab: Vocabulary,
    model: Model,
    params: dict[str, Any],
    settings: Settings,
    rng: np.random.Generator,
    retrain: Retrain | None = None,
) -> tuple[Vocabulary, Model]:
    """fastText's `quantize`: prune to `cutoff` rows (then `retrain` the pruned model, when
    given), and quantize. Retraining happens only when the cutoff prunes, as in fastText."""
    if prunes(vocab, params, settings.cutoff):
        vocab, model = prune(vocab, model, settings.cutoff)
        if retrain is not None:
            model = retrain(Pruned(vocab, model))
    elif model.quantized is not None:
        raise ParameterError("model", "is quantized already; quantize the model it came from")
    complete = model.feature_ids.size == _features(vocab, params)
    return vocab, quantized(model, settings, rng, complete=complete)
