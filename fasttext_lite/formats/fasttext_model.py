"""fastText's model files as ftl models and back: what `formats.fasttext_bin` reads, as the
parts of a `FastTextClassifier` (settings, vocabulary, matrices), and an ftl model as what
`formats.fasttext_write` writes.

A dense input matrix stays a read-only view of the file's memory map, so a 2,000,000-bucket
model loads in the time its dictionary takes and pages in only the rows predictions read.
A quantized input matrix (`.ftz`) stays codes, decoded a batch's rows at a time as for ftl's
own quantized models; a quantized output matrix is decoded once (every line reads all of it).
Settings fastText does not store (lr, seed) keep ftl's defaults; the label prefix is guessed
from the labels. Settings ftl lacks (ws, lrUpdateRate, t) are written with fastText's defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite import params as schema
from fasttext_lite.errors import ModelFileError
from fasttext_lite.features.featurizer import effective_bucket
from fasttext_lite.formats import container, fasttext_bin, fasttext_write
from fasttext_lite.formats.model_file import ModelParts
from fasttext_lite.losses import make_loss
from fasttext_lite.model import Model
from fasttext_lite.model.quantized import QuantizedMatrix
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.vocab import Vocabulary

# fastText's defaults for the settings it stores and ftl has not got (`args.cc`).
_WINDOW, _LR_UPDATE_RATE, _SAMPLING = 5, 100, 1e-4
_ZERO_SCAN_BYTES = 1 << 24  # `without_zero_rows` reads the matrix in blocks of about this size
_KINDS = {"cbow": "a cbow word-vector model", "sg": "a skipgram word-vector model"}


def load(path: str | Path) -> ModelParts:
    """A fastText `.bin` / `.ftz` classifier as an ftl model; anything else raises
    `ModelFileError`."""
    found = fasttext_bin.read(path)
    args = found.args
    if args.model != "sup":
        raise ModelFileError(
            f"{path}: is {_KINDS.get(args.model, 'not a classifier')}, not a classifier; it"
            " gives word and sentence vectors (`ftl vectors`, `ftl neighbours`), not predictions"
        )
    if len(found.labels) < 2:
        raise ModelFileError(f"{path}: has fewer than two labels; it cannot classify")
    params = {
        **{name: schema.DEFAULTS[name] for name in schema.MODEL_PARAMS},
        "dim": args.dim,
        "epoch": args.epoch,
        "word_ngrams": args.wordNgrams,
        "bucket": args.bucket,
        "minn": args.minn,
        "maxn": args.maxn,
        "min_count": args.minCount,
        "neg": args.neg,
        "loss": args.loss,
        "label_prefix": found.label_prefix or schema.DEFAULTS["label_prefix"],
    }
    try:
        schema.validate({**schema.DEFAULTS, **params})
    except ValueError as error:
        raise ModelFileError(f"{path}: its settings are not ones ftl can use ({error})") from None
    vocab = Vocabulary(
        found.words, found.word_counts.tolist(), found.label_names, found.label_counts.tolist()
    )
    nwords = len(found.words)
    bucket = effective_bucket(bucket=args.bucket, word_ngrams=args.wordNgrams, maxn=args.maxn)
    rows: npt.NDArray[np.float32] | QuantizedMatrix
    if found.pruneidx is None:
        # Without n-grams fastText's rows past the words are never read.
        feature_ids = np.arange(nwords + bucket, dtype=np.int64)
        if isinstance(found.input_matrix, QuantizedMatrix):
            rows = found.input_matrix.take(feature_ids)
        else:
            rows = _dense(found.input_matrix, nwords + bucket)
    else:  # a pruned .ftz: its kept n-gram rows, in bucket order (as the reader gives them)
        index = found.pruneidx
        kept = np.concatenate([np.arange(nwords), nwords + index.rows])
        rows = (
            found.input_matrix.take(kept)
            if isinstance(found.input_matrix, QuantizedMatrix)
            else _dense(found.input_matrix, None, kept)
        )
        feature_ids = np.concatenate([np.arange(nwords), nwords + index.buckets])
    loss = make_loss(args.loss, vocab.label_counts, neg=args.neg)
    # fastText gives hs's output matrix a row per label; its tree uses one fewer.
    output_codes = None
    if isinstance(found.output_matrix, QuantizedMatrix):
        output_codes = found.output_matrix.take(np.arange(loss.output_rows))
    output = _dense(found.output_matrix, loss.output_rows)
    summary = TrainingSummary(
        lines=0, examples=0, unlabelled=0, words=nwords, labels=len(found.labels),
        tokens=found.ntokens, seconds=None,
    )  # fmt: skip
    model = Model(
        rows, output, feature_ids, pruned=found.pruneidx is not None, output_codes=output_codes
    )
    return ModelParts(params, vocab, model, summary)


def _dense(
    matrix: fasttext_bin.Matrix, count: int | None, which: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.float32]:
    """The first `count` rows (or the rows `which`) of a matrix: a view of a dense one, a
    decoded copy of a quantized one."""
    if which is None:
        which = np.arange(matrix.shape[0] if count is None else count)
        if not isinstance(matrix, QuantizedMatrix):
            view: npt.NDArray[np.float32] = matrix[: which.size]
            return view
    if isinstance(matrix, QuantizedMatrix):
        return matrix.rows(which)
    gathered: npt.NDArray[np.float32] = matrix[which]
    return gathered


class WordVectorParts(NamedTuple):
    """A fastText word-vector model (cbow, skipgram) as ftl's parts: its vocabulary, its
    matrices (a row per word and bucket, a view of the file) and what shapes its features."""

    kind: str  # "cbow" or "sg"
    vocab: Vocabulary
    model: Model
    minn: int
    maxn: int
    bucket: int


def load_word_vectors(path: str | Path) -> WordVectorParts:
    """A fastText `.bin` word-vector model; anything else raises `ModelFileError`."""
    found = fasttext_bin.read(path)
    args = found.args
    if args.model == "sup":
        raise ModelFileError(f"{path}: is a classifier, not a word-vector model")
    if found.quantized:  # fastText quantizes classifiers only
        raise ModelFileError(
            f"{path}: is a quantized word-vector model, which fastText never writes"
        )
    vocab = Vocabulary(
        found.words, found.word_counts.tolist(), found.label_names, found.label_counts.tolist()
    )
    rows = _dense(found.input_matrix, None)
    model = Model(rows, _dense(found.output_matrix, None), np.arange(rows.shape[0]))
    return WordVectorParts(args.model, vocab, model, args.minn, args.maxn, args.bucket)


def without_zero_rows(parts: ModelParts) -> ModelParts:
    """The model without the input rows that are all zeros, which predict the same in a model
    that is not pruned (a feature without a row counts as a zero row): an ftl model written as
    fastText's `.bin` gets its size back when read into `.ftl`. Rows are checked block by
    block, so that a memory-mapped matrix is never copied whole."""
    model = parts.model
    if model.pruned or isinstance(model.input, QuantizedMatrix):
        return parts
    step = max(1, _ZERO_SCAN_BYTES // max(model.input.nbytes // max(len(model.input), 1), 1))
    nonzero = np.concatenate(
        [np.zeros(0, bool)]
        + [model.input[i : i + step].any(axis=1) for i in range(0, len(model.input), step)]
    )
    if nonzero.all():
        return parts
    kept = np.flatnonzero(nonzero)
    rows = model.input[kept]  # not np.take: on a memory map it doubled the peak memory
    return parts._replace(model=Model(rows, model.output, model.feature_ids[kept]))


# The suffixes that name fastText's files (ftl writes its own format under any other).
SUFFIXES = (".bin", ".ftz")


def save(path: str | Path, parts: ModelParts) -> None:
    """Write an ftl model to `path` atomically as fastText's `.bin` (`.ftz` when quantized)."""
    container.check_writable(path)
    if parts.model.row_weights is not None:
        raise ModelFileError(
            f"{path}: the model weighs its features by idf (weighting idf), which fastText's"
            " format cannot hold; write .ftl, or train with weighting mean"
        )
    fasttext_write.write(path, to_fasttext(parts))


def size(parts: ModelParts) -> int:
    """The bytes `save` writes for `parts`."""
    return fasttext_write.size(to_fasttext(parts))


def to_fasttext(parts: ModelParts) -> fasttext_write.Contents:
    """An ftl model as the contents of a fastText model file that predicts the same: a row
    per word and bucket (the ones ftl has none for are zero, as ftl counts them), labels
    with their prefix, and the label counts ftl built its hs tree from."""
    params, vocab, model = parts.params, parts.vocab, parts.model
    bucket = effective_bucket(
        bucket=params["bucket"], word_ngrams=params["word_ngrams"], maxn=params["maxn"]
    )
    args = fasttext_bin.Args(
        dim=params["dim"], ws=_WINDOW, epoch=params["epoch"], minCount=params["min_count"],
        neg=params["neg"], wordNgrams=params["word_ngrams"], loss=params["loss"], model="sup",
        bucket=bucket, minn=params["minn"], maxn=params["maxn"],
        lrUpdateRate=_LR_UPDATE_RATE, t=_SAMPLING,
    )  # fmt: skip
    output: fasttext_bin.Matrix = model.output if model.output_codes is None else model.output_codes
    if params["loss"] == "hs":  # fastText's hs matrix has a row per label, the last unused
        output = _with_unused_row(output)
    input_: fasttext_bin.Matrix = model.input
    if not isinstance(input_, QuantizedMatrix):
        input_ = np.asarray(input_, dtype=np.float32)
    return fasttext_write.Contents(
        args=args,
        words=vocab.words,
        word_counts=np.asarray(vocab.word_counts, dtype=np.int64),
        labels=[params["label_prefix"] + name for name in vocab.labels],
        label_counts=np.asarray(vocab.label_counts, dtype=np.int64),
        ntokens=parts.summary.tokens,
        input_ids=model.feature_ids,
        input=input_,
        output=output if isinstance(output, QuantizedMatrix) else output.astype(np.float32),
        pruned=model.pruned,
    )


def _with_unused_row(matrix: fasttext_bin.Matrix) -> fasttext_bin.Matrix:
    if not isinstance(matrix, QuantizedMatrix):
        return np.concatenate([matrix, np.zeros((1, matrix.shape[1]), matrix.dtype)])
    norm_codes = matrix.norm_codes
    return QuantizedMatrix(
        matrix.quantizer,
        np.concatenate([matrix.codes, np.zeros((1, matrix.codes.shape[1]), np.uint8)]),
        matrix.norm_quantizer,
        None if norm_codes is None else np.concatenate([norm_codes, np.zeros(1, np.uint8)]),
    )
