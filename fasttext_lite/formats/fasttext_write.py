"""Writing fastText's own model files: `.bin`, and pruned or unpruned quantized `.ftz`, as
fastText 0.9.2 writes them (file format version 12; fastText `src/fasttext.cc` `saveModel`,
`args.cc`, `dictionary.cc`, `densematrix.cc`, `quantmatrix.cc`, `productquantizer.cc` `save`).

The input matrix is given by the rows that exist (`Contents.input_ids`): a dense file gets a
zero row for every other word and bucket, written block by block so that a 2,000,000-bucket
file never sits in memory whole. Leaves out: mapping an ftl model to these contents
(`formats.fasttext_model`) and quantizing (a quantized matrix is written as it is given).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ModelFileError
from fasttext_lite.files import write_atomically
from fasttext_lite.formats.fasttext_bin import LOSSES, MAGIC, MODELS, Args, Matrix
from fasttext_lite.model.quantized import ProductQuantizer, QuantizedMatrix
from fasttext_lite.text.tokens import as_bytes

VERSION = 12  # fastText 0.9.2's FASTTEXT_VERSION
_CODES = {name: code for code, name in LOSSES.items()}
_MODEL_CODES = {name: code for code, name in MODELS.items()}
_ARGS = struct.Struct("<ii12id")  # magic, version, then `Args` as `fasttext_bin` reads them
_DICTIONARY = struct.Struct("<iiiqq")  # size, nwords, nlabels, ntokens, pruneidx_size
_ENTRY_TAIL = struct.Struct("<qb")  # after the word and its NUL: count, type (0 word, 1 label)
_FLAG = struct.Struct("<B")
_DENSE = struct.Struct("<qq")
_QUANTIZED = struct.Struct("<Bqqi")
_QUANTIZER = struct.Struct("<iiii")
_BLOCK_BYTES = 1 << 24  # a dense matrix is written in blocks of about this size


@dataclass(frozen=True, eq=False)
class Contents:
    """What a fastText model file will hold. Labels are as fastText stores them, with their
    prefix. `input` has one row per entry of `input_ids`, the sorted fastText rows they are
    (a word's id, or nwords + an n-gram's bucket); `pruned` writes a pruned dictionary (only
    for a quantized `input`): words without a row are left out of it and n-grams without a row
    are dropped by fastText, instead of counting as zero rows."""

    args: Args
    words: list[str]
    word_counts: npt.NDArray[np.int64]
    labels: list[str]
    label_counts: npt.NDArray[np.int64]
    ntokens: int
    input_ids: npt.NDArray[np.int64]
    input: Matrix
    output: Matrix  # a row per label (supervised) or per word
    pruned: bool = False


def write(path: str | Path, contents: Contents) -> None:
    """Write `contents` to `path` atomically as a fastText model file; contents fastText
    could not read back raise `ModelFileError` before anything is written."""
    _check(path, contents)
    write_atomically(path, lambda out: _write(out, contents), ModelFileError, kind="model")


def size(contents: Contents) -> int:
    """The bytes `write` writes for `contents`."""
    counter = _Counter()
    _write(counter, contents)
    return counter.size


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Counter:
    """A file that only counts what is written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _check(path: str | Path, contents: Contents) -> None:
    nwords, bucket = len(contents.words), contents.args.bucket
    ids, quantized = contents.input_ids, isinstance(contents.input, QuantizedMatrix)
    if contents.input.shape != (ids.size, contents.args.dim):
        raise ValueError("the input matrix needs a row per input id, dim wide")
    if ids.size and (ids[0] < 0 or ids[-1] >= nwords + bucket or np.any(np.diff(ids) <= 0)):
        raise ValueError("input ids must be increasing rows of the nwords + bucket matrix")
    if contents.pruned and not quantized:
        # fastText refuses a pruned dictionary with a dense matrix (its issue #332).
        raise ModelFileError(
            f"{path}: the model's dictionary is pruned, and fastText reads pruned models only"
            " with a quantized matrix, which these decoded rows are not; keep the .ftz it came"
            " from, or write .ftl"
        )
    if quantized and not contents.pruned and ids.size != nwords + bucket:
        raise ModelFileError(
            f"{path}: a quantized model without a row for every word and bucket can only be"
            " written as fastText's pruned .ftz; quantize it with a cutoff"
        )
    if isinstance(contents.output, QuantizedMatrix) and not quantized:
        raise ModelFileError(
            f"{path}: fastText reads a quantized output only with a quantized input"
        )


def _write(out: _Sink, contents: Contents) -> None:
    args = contents.args
    out.write(
        _ARGS.pack(
            MAGIC, VERSION, args.dim, args.ws, args.epoch, args.minCount, args.neg,
            args.wordNgrams, _CODES[args.loss], _MODEL_CODES[args.model], args.bucket,
            args.minn, args.maxn, args.lrUpdateRate, args.t,
        )
    )  # fmt: skip
    nwords = len(contents.words)
    ids = contents.input_ids
    if contents.pruned:
        kept_words = ids[ids < nwords]
        buckets = ids[ids >= nwords] - nwords
        words = [contents.words[i] for i in kept_words.tolist()]
        word_counts = contents.word_counts[kept_words]
    else:
        buckets = None
        words, word_counts = contents.words, contents.word_counts
    _write_dictionary(out, contents, words, word_counts, buckets)
    quantized = isinstance(contents.input, QuantizedMatrix)
    out.write(_FLAG.pack(quantized))
    if isinstance(contents.input, QuantizedMatrix):  # rows in id order: words, then buckets
        _write_quantized(out, contents.input)
    else:
        _write_dense(out, contents.input, ids, nwords + args.bucket)
    qout = isinstance(contents.output, QuantizedMatrix)
    out.write(_FLAG.pack(qout))
    if isinstance(contents.output, QuantizedMatrix):
        _write_quantized(out, contents.output)
    else:
        _write_dense(out, contents.output, np.arange(contents.output.shape[0]), None)


def _write_dictionary(
    out: _Sink,
    contents: Contents,
    words: list[str],
    word_counts: npt.NDArray[np.int64],
    buckets: npt.NDArray[np.int64] | None,
) -> None:
    labels = contents.labels
    size = len(words) + len(labels)
    pruneidx_size = -1 if buckets is None else buckets.size
    out.write(_DICTIONARY.pack(size, len(words), len(labels), contents.ntokens, pruneidx_size))
    entries = [
        as_bytes(name) + b"\0" + _ENTRY_TAIL.pack(int(count), kind)
        for kind, names, counts in ((0, words, word_counts), (1, labels, contents.label_counts))
        for name, count in zip(names, counts.tolist(), strict=True)
    ]
    out.write(b"".join(entries))
    if buckets is not None:  # bucket -> its row among the kept n-gram rows
        pairs = np.stack([buckets, np.arange(buckets.size)], axis=1).astype("<i4")
        out.write(pairs.tobytes())


def _write_dense(
    out: _Sink, matrix: npt.NDArray[np.floating], ids: npt.NDArray[np.int64], rows: int | None
) -> None:
    """`matrix`'s rows at `ids` of a `rows`-row matrix, zeros elsewhere (`rows` None: the
    matrix as it is)."""
    dim = matrix.shape[1]
    total = matrix.shape[0] if rows is None else rows
    out.write(_DENSE.pack(total, dim))
    step = max(1, _BLOCK_BYTES // (4 * dim))
    for start in range(0, total, step):
        stop = min(start + step, total)
        block = np.zeros((stop - start, dim), dtype="<f4")
        lo, hi = np.searchsorted(ids, [start, stop])
        block[ids[lo:hi] - start] = matrix[lo:hi]
        out.write(block.tobytes())


def _write_quantized(out: _Sink, matrix: QuantizedMatrix) -> None:
    rows, dim = matrix.shape
    qnorm = matrix.norm_quantizer is not None
    out.write(_QUANTIZED.pack(qnorm, rows, dim, matrix.codes.size))
    out.write(np.ascontiguousarray(matrix.codes, dtype=np.uint8).tobytes())
    _write_quantizer(out, matrix.quantizer)
    if matrix.norm_quantizer is not None and matrix.norm_codes is not None:
        out.write(np.ascontiguousarray(matrix.norm_codes, dtype=np.uint8).tobytes())
        _write_quantizer(out, matrix.norm_quantizer)


def _write_quantizer(out: _Sink, quantizer: ProductQuantizer) -> None:
    out.write(_QUANTIZER.pack(quantizer.dim, quantizer.nsubq, quantizer.dsub, quantizer.lastdsub))
    out.write(np.asarray(quantizer.centroids, dtype="<f4").tobytes())
