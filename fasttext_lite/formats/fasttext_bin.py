"""fastText's own model files, `.bin` and product-quantized `.ftz`, as fastText 0.1 to 0.9.2
writes them (file format versions 11 and 12; fastText `src/fasttext.cc` `loadModel`, `args.cc`,
`dictionary.cc`, `densematrix.cc`, `quantmatrix.cc`, `productquantizer.cc`).

The file is memory-mapped: dense matrices are read-only views of the map, so opening a
2,000,000-bucket model costs only its dictionary, and only the rows that are read are paged in.
Every size field is checked against the bytes left in the file before anything is allocated,
and every count is checked against the others, so a truncated, corrupt or hostile file is refused
with one `ModelFileError` line. Leaves out: writing, and files from before fastText's magic
number (spring 2017), which fastText itself no longer reads. Writing: `formats.fasttext_write`.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ModelFileError
from fasttext_lite.files import reading
from fasttext_lite.formats.container import MAGIC as FTL_MAGIC
from fasttext_lite.model.quantized import (
    CENTROIDS_PER_SUBQUANTIZER,
    ProductQuantizer,
    QuantizedMatrix,
    split,
)
from fasttext_lite.text.tokens import DEFAULT_LABEL_PREFIX, decode

MAGIC = 793712314  # fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32
VERSIONS = (11, 12)  # 11: before supervised models had character n-grams (October 2017)
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "sup"}

_PREAMBLE = struct.Struct("<ii")  # magic, version
# dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate, then t.
_ARGS = struct.Struct("<12id")
_DICTIONARY = struct.Struct("<iiiqq")  # size, nwords, nlabels, ntokens, pruneidx_size
_ENTRY_TAIL = 9  # after a word's NUL: int64 count, int8 type (0 word, 1 label)
_ENTRY = re.compile(rb"([^\0]*)\0.{%d}" % _ENTRY_TAIL, re.DOTALL)  # the word of an entry
_FLAG = struct.Struct("<B")  # a C++ bool
_DENSE = struct.Struct("<qq")  # rows, cols
_QUANTIZED = struct.Struct("<Bqqi")  # qnorm, rows, cols, codesize
_QUANTIZER = struct.Struct("<iiii")  # dim, nsubq, dsub, lastdsub
_FLOAT32 = np.dtype("<f4")
_NEXT = "copy the file again, or save the model again with fastText"

Matrix: TypeAlias = npt.NDArray[np.float32] | QuantizedMatrix


@dataclass(frozen=True)
class Args:
    """The hyper-parameters a fastText model file stores, under fastText's names (`lr`, the
    label prefix, `minCountLabel` and the seed are not stored)."""

    dim: int
    ws: int
    epoch: int
    minCount: int
    neg: int
    wordNgrams: int
    loss: str  # "hs", "ns", "softmax" or "ova"
    model: str  # "cbow", "sg" or "sup"
    bucket: int
    minn: int
    maxn: int
    lrUpdateRate: int
    t: float


@dataclass(frozen=True, eq=False)
class PruneIndex:
    """A pruned dictionary's map (`.ftz` files quantized with a cutoff): the n-gram bucket
    (hash % bucket) -> its row among the kept n-gram rows, so input row = nwords + row. A bucket
    that is absent lost its row, and fastText drops such n-grams (`Dictionary::pushHash`)."""

    buckets: npt.NDArray[np.int64]  # sorted
    rows: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.buckets.size)

    def lookup(self, buckets: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The row of each bucket among the n-gram rows, -1 where it has none.

        >>> index = PruneIndex(np.array([3, 7]), np.array([1, 0]))
        >>> index.lookup([7, 3, 5, 9]).tolist()
        [0, 1, -1, -1]
        """
        wanted = np.asarray(buckets, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.buckets, wanted), max(len(self) - 1, 0))
        found = self.buckets[at] == wanted if len(self) else np.zeros(wanted.shape, bool)
        return np.where(found, self.rows[at] if len(self) else -1, -1)


@dataclass(frozen=True, eq=False)
class FastTextFile:
    """Everything a fastText model file holds. Dense matrices are read-only views of the
    file's memory map, float32 of shape (rows, dim); quantized ones decode on demand."""

    version: int
    args: Args
    words: list[str]  # by id; undecodable bytes as surrogate escapes
    word_counts: npt.NDArray[np.int64]
    labels: list[str]  # as stored, with the label prefix
    label_counts: npt.NDArray[np.int64]
    label_prefix: str  # not stored by fastText: guessed by `guess_label_prefix`
    label_names: list[str]  # the labels without the prefix
    ntokens: int
    pruneidx: PruneIndex | None  # None: the dictionary is not pruned
    input_matrix: Matrix  # nwords + bucket rows (nwords + len(pruneidx) when pruned)
    output_matrix: Matrix  # nlabels rows for supervised models, nwords rows otherwise

    @property
    def pruneidx_size(self) -> int:
        """fastText's `pruneidx_size`: -1 when the dictionary is not pruned."""
        return -1 if self.pruneidx is None else len(self.pruneidx)

    @property
    def quantized(self) -> bool:
        return isinstance(self.input_matrix, QuantizedMatrix)


def guess_label_prefix(labels: Sequence[str]) -> str:
    """The label prefix, which fastText does not store: `__label__` when every label starts
    with it (or there are no labels); otherwise the labels' longest common prefix, kept shorter
    than every label and cut back to just after its last character that is neither a letter nor
    a digit (labels `#sports`, `#science` give `#`), or '' when nothing is left.

    >>> guess_label_prefix(["__label__a", "__label__b"]), guess_label_prefix([])
    ('__label__', '__label__')
    >>> guess_label_prefix(["#sports", "#science"]), guess_label_prefix(["pos", "neg"])
    ('#', '')
    """
    if all(label.startswith(DEFAULT_LABEL_PREFIX) for label in labels):
        return DEFAULT_LABEL_PREFIX
    common = os.path.commonprefix(list(labels))[: min(map(len, labels)) - 1]
    while common and common[-1].isalnum():
        common = common[:-1]
    return common


def model_kind(path: str | Path) -> str | None:
    """ "cbow", "sg" or "sup" for a fastText model file, from its arguments alone; None for
    anything else (which `read` then explains)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(_PREAMBLE.size + _ARGS.size)
    except OSError:
        return None
    if len(start) < _PREAMBLE.size + _ARGS.size or _PREAMBLE.unpack_from(start)[0] != MAGIC:
        return None
    return MODELS.get(int(_ARGS.unpack_from(start, _PREAMBLE.size)[7]))


def read(path: str | Path) -> FastTextFile:
    """Read the fastText model file at `path` (`.bin` or `.ftz`)."""
    with reading(path, ModelFileError, kind="model file", missing="check the path") as handle:
        try:
            buffer: mmap.mmap | bytes = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty, or not a regular file (a pipe)
            buffer = handle.read()
    return _parse(_Cursor(path, buffer))


class _Cursor:
    """A position in the file's bytes; every read is checked against the bytes left."""

    def __init__(self, path: str | Path, buffer: mmap.mmap | bytes) -> None:
        self.path = path
        self.buffer = buffer
        self.size = len(buffer)
        self.pos = 0

    def bad(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: not a valid fastText model: {what}; {_NEXT}")

    def need(self, nbytes: int, what: str) -> None:
        left = self.size - self.pos
        if nbytes > left:
            raise self.bad(f"{what} needs {nbytes} bytes, {left} are left (truncated?)")

    def unpack(self, layout: struct.Struct, what: str) -> tuple[int | float, ...]:
        self.need(layout.size, what)
        values = layout.unpack_from(self.buffer, self.pos)
        self.pos += layout.size
        return tuple(values)

    def ints(self, layout: struct.Struct, what: str) -> tuple[int, ...]:
        return tuple(int(value) for value in self.unpack(layout, what))

    def flag(self, what: str) -> bool:
        (value,) = self.ints(_FLAG, what)
        if value not in (0, 1):
            raise self.bad(f"{what} is {value}, not a boolean")
        return value == 1

    def array(self, dtype: npt.DTypeLike, count: int, what: str) -> npt.NDArray[Any]:
        """`count` items viewed in place, read-only (never copied)."""
        kind = np.dtype(dtype)
        if count < 0:
            raise self.bad(f"{what} has a negative size {count}")
        self.need(count * kind.itemsize, what)
        view = np.frombuffer(self.buffer, dtype=kind, count=count, offset=self.pos)
        self.pos += count * kind.itemsize
        return view


def _parse(cursor: _Cursor) -> FastTextFile:
    version = _check_preamble(cursor)
    args = _read_args(cursor, version)
    dictionary = _read_dictionary(cursor)
    words, labels = dictionary.words, dictionary.labels
    pruneidx = _read_pruneidx(cursor, dictionary.pruneidx_size, args.bucket)
    input_rows = len(words) + (args.bucket if pruneidx is None else len(pruneidx))
    quantized = cursor.flag("the quantized-input flag")
    if pruneidx is not None and not quantized:
        # fastText refuses these too (its issue #332): builds of early May 2017 wrote 0 for an
        # unpruned dictionary, which reads as "pruned, every n-gram dropped".
        raise cursor.bad("its dictionary is pruned but its input matrix is not quantized")
    input_matrix = _read_matrix(cursor, "the input matrix", quantized, input_rows, args.dim)
    qout = cursor.flag("the quantized-output flag")
    output_rows = len(labels) if args.model == "sup" else len(words)
    # fastText reads the output as quantized only when the input is quantized too.
    output_matrix = _read_matrix(
        cursor, "the output matrix", quantized and qout, output_rows, args.dim
    )
    if cursor.pos != cursor.size:
        raise cursor.bad(f"{cursor.size - cursor.pos} unexpected bytes follow the output matrix")
    prefix = guess_label_prefix(labels)
    return FastTextFile(
        version=version,
        args=args,
        words=words,
        word_counts=dictionary.word_counts,
        labels=labels,
        label_counts=dictionary.label_counts,
        label_prefix=prefix,
        label_names=[label[len(prefix) :] for label in labels],
        ntokens=dictionary.ntokens,
        pruneidx=pruneidx,
        input_matrix=input_matrix,
        output_matrix=output_matrix,
    )


def _check_preamble(cursor: _Cursor) -> int:
    path = cursor.path
    if cursor.size == 0:
        raise ModelFileError(f"{path}: is empty, not a fastText model; check the path")
    if bytes(cursor.buffer[: len(FTL_MAGIC)]) == FTL_MAGIC:
        raise ModelFileError(
            f"{path}: is a fasttext_lite model, not a fastText one; load it with"
            " FastTextClassifier.load or `ftl`"
        )
    if cursor.size < _PREAMBLE.size or _PREAMBLE.unpack_from(cursor.buffer)[0] != MAGIC:
        raise ModelFileError(
            f"{path}: is not a fastText model (it does not start with fastText's magic number);"
            " give a .bin or .ftz file saved by fastText"
        )
    _, version = cursor.ints(_PREAMBLE, "the preamble")
    if version > max(VERSIONS):
        raise ModelFileError(
            f"{path}: was saved in fastText file format {version}, newer than the formats"
            f" {VERSIONS[0]} and {VERSIONS[1]} this reads; save it with fastText 0.9.2"
        )
    if version < min(VERSIONS):
        raise cursor.bad(f"file format version {version} does not exist")
    return version


def _read_args(cursor: _Cursor, version: int) -> Args:
    *numbers, t = cursor.unpack(_ARGS, "the arguments")
    dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, rate = (
        int(n) for n in numbers
    )
    if loss not in LOSSES:
        raise cursor.bad(f"loss {loss} is not one of fastText's (1 to 4)")
    if model not in MODELS:
        raise cursor.bad(f"model {model} is not one of fastText's (1 to 3)")
    if dim < 1:
        raise cursor.bad(f"dim {dim} is not positive")
    if bucket < 0:
        raise cursor.bad(f"bucket {bucket} is negative")
    return Args(
        dim=dim,
        ws=ws,
        epoch=epoch,
        minCount=min_count,
        neg=neg,
        wordNgrams=word_ngrams,
        loss=LOSSES[loss],
        model=MODELS[model],
        bucket=bucket,
        minn=minn,
        maxn=_effective_maxn(maxn, model=MODELS[model], version=version),
        lrUpdateRate=rate,
        t=float(t),
    )


def _effective_maxn(maxn: int, *, model: str, version: int) -> int:
    """Why: supervised models of format 11 were trained without character n-grams whatever
    maxn says, so fastText loads them with maxn 0."""
    return 0 if version == 11 and model == "sup" else maxn


class _Dictionary(NamedTuple):
    words: list[str]
    word_counts: npt.NDArray[np.int64]
    labels: list[str]
    label_counts: npt.NDArray[np.int64]
    ntokens: int
    pruneidx_size: int  # the prune index's pairs follow the entries


def _read_dictionary(cursor: _Cursor) -> _Dictionary:
    size, nwords, nlabels, ntokens, pruneidx_size = cursor.ints(_DICTIONARY, "the dictionary")
    if min(nwords, nlabels) < 0 or size != nwords + nlabels:
        raise cursor.bad(
            f"its dictionary has {size} entries, not {nwords} words + {nlabels} labels"
        )
    if ntokens < 0:
        raise cursor.bad(f"its token count {ntokens} is negative")
    # Each entry is at least a NUL and its tail: this bounds the lists below by the file size.
    cursor.need(size * (1 + _ENTRY_TAIL), f"a dictionary of {size} entries")
    if size == 0:  # fastText always has `</s>`; the shapes below need an entry
        empty = np.zeros(0, dtype=np.int64)
        return _Dictionary([], empty, [], empty, ntokens, pruneidx_size)
    # Two passes in C, one to find where `size` entries end and one to take their words: a
    # Python step per entry would cost seconds for a 2,000,000-word dictionary.
    buffer, start = cursor.buffer, cursor.pos
    entries = re.compile(rb"(?:[^\0]*\0.{%d}){%d}" % (_ENTRY_TAIL, size), re.DOTALL)
    whole = entries.match(buffer, start)
    if whole is None:
        raise cursor.bad(f"its dictionary does not hold {size} entries (truncated?)")
    cursor.pos = whole.end()
    raw = _ENTRY.findall(buffer, start, cursor.pos)
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=size) + 1 + _ENTRY_TAIL
    region = np.frombuffer(buffer, dtype=np.uint8, count=cursor.pos - start, offset=start)
    tails = np.lib.stride_tricks.sliding_window_view(region, _ENTRY_TAIL)
    tail_bytes = tails[np.cumsum(sizes) - _ENTRY_TAIL]  # (size, 9), no index per byte
    counts = np.ascontiguousarray(tail_bytes[:, :8]).view("<i8").reshape(size).astype(np.int64)
    types = tail_bytes[:, 8]
    if np.any(types[:nwords] != 0) or np.any(types[nwords:] != 1):
        raise cursor.bad("its dictionary entries are not its words, then its labels")
    if np.any(counts < 0):
        raise cursor.bad("its dictionary has a negative count")
    # A word never holds a NUL, so decoding the entries joined by NUL decodes each one.
    strings = decode(b"\0".join(raw)).split("\0")
    return _Dictionary(
        strings[:nwords], counts[:nwords], strings[nwords:], counts[nwords:], ntokens, pruneidx_size
    )


def _read_pruneidx(cursor: _Cursor, size: int, bucket: int) -> PruneIndex | None:
    if size == -1:
        return None
    if size < -1:
        raise cursor.bad(f"its prune index size {size} is negative")
    pairs = cursor.array("<i4", 2 * size, "the prune index").reshape(size, 2).astype(np.int64)
    order = np.argsort(pairs[:, 0], kind="stable")
    buckets, rows = pairs[order, 0], pairs[order, 1]
    if size and (buckets[0] < 0 or buckets[-1] >= bucket or np.any(np.diff(buckets) == 0)):
        raise cursor.bad(f"its prune index holds buckets outside 0..{bucket - 1} or repeats one")
    if not np.array_equal(np.sort(rows), np.arange(size)):
        raise cursor.bad(f"its prune index rows are not 0..{size - 1} each once")
    return PruneIndex(buckets, rows)


def _read_matrix(cursor: _Cursor, what: str, quantized: bool, rows: int, dim: int) -> Matrix:
    if quantized:
        return _read_quantized(cursor, what, rows, dim)
    m, n = cursor.ints(_DENSE, what)
    _check_shape(cursor, what, (m, n), (rows, dim))
    data: npt.NDArray[np.float32] = cursor.array(_FLOAT32, m * n, what)
    return data.reshape(m, n)


def _check_shape(
    cursor: _Cursor, what: str, shape: tuple[int, int], expected: tuple[int, int]
) -> None:
    if shape != expected:
        raise cursor.bad(
            f"{what} has shape {shape[0]} x {shape[1]}, its dictionary and arguments say"
            f" {expected[0]} x {expected[1]}"
        )


def _read_quantized(cursor: _Cursor, what: str, rows: int, dim: int) -> QuantizedMatrix:
    qnorm, m, n, codesize = cursor.ints(_QUANTIZED, what)
    if qnorm not in (0, 1):
        raise cursor.bad(f"the norm flag of {what} is {qnorm}, not a boolean")
    _check_shape(cursor, what, (m, n), (rows, dim))
    codes = cursor.array(np.uint8, codesize, f"the codes of {what}")
    quantizer = _read_quantizer(cursor, f"the quantizer of {what}", dim)
    if codesize != m * quantizer.nsubq:
        raise cursor.bad(f"{what} has {codesize} codes, not {m} rows x {quantizer.nsubq}")
    if not qnorm:
        return QuantizedMatrix(quantizer, codes.reshape(m, quantizer.nsubq))
    norm_codes = cursor.array(np.uint8, m, f"the norm codes of {what}")
    norm_quantizer = _read_quantizer(cursor, f"the norm quantizer of {what}", 1)
    if (norm_quantizer.nsubq, norm_quantizer.dsub) != (1, 1):
        raise cursor.bad(f"the norm quantizer of {what} does not quantize single numbers")
    return QuantizedMatrix(
        quantizer,
        codes.reshape(m, quantizer.nsubq),
        norm_quantizer,
        norm_codes,
    )


def _read_quantizer(cursor: _Cursor, what: str, dim: int) -> ProductQuantizer:
    pq_dim, nsubq, dsub, lastdsub = cursor.ints(_QUANTIZER, what)
    if pq_dim != dim or dsub < 1 or split(dim, dsub) != (nsubq, lastdsub):
        raise cursor.bad(
            f"{what} is inconsistent (dim {pq_dim} for vectors of {dim}, nsubq {nsubq},"
            f" dsub {dsub}, lastdsub {lastdsub})"
        )
    centroids = cursor.array(_FLOAT32, dim * CENTROIDS_PER_SUBQUANTIZER, f"the centroids of {what}")
    return ProductQuantizer(dim, nsubq, dsub, lastdsub, centroids)
