"""fastText's model files as ftl models: what `formats.fasttext_bin` reads, as the parts of a
`FastTextClassifier` (settings, vocabulary, matrices).

A dense input matrix stays a read-only view of the file's memory map, so a 2,000,000-bucket
model loads in the time its dictionary takes and pages in only the rows predictions read.
A quantized input matrix (`.ftz`) stays codes, decoded a batch's rows at a time as for ftl's
own quantized models; a quantized output matrix is decoded once (every line reads all of it).
Settings fastText does not store (lr, seed) keep ftl's defaults; the label prefix is guessed
from the labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from fasttext_lite import params as schema
from fasttext_lite.errors import ModelFileError
from fasttext_lite.features.featurizer import effective_bucket
from fasttext_lite.formats import fasttext_bin
from fasttext_lite.formats.model_file import ModelParts
from fasttext_lite.losses import make_loss
from fasttext_lite.model import Model
from fasttext_lite.model.quantized import QuantizedMatrix
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.vocab import Vocabulary

_KINDS = {"cbow": "a cbow word-vector model", "sg": "a skipgram word-vector model"}


def load(path: str | Path) -> ModelParts:
    """A fastText `.bin` / `.ftz` classifier as an ftl model; anything else raises
    `ModelFileError`."""
    found = fasttext_bin.read(path)
    args = found.args
    if args.model != "sup":
        raise ModelFileError(
            f"{path}: is {_KINDS.get(args.model, 'not a classifier')}, not a classifier;"
            " ftl loads fastText's supervised models"
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
