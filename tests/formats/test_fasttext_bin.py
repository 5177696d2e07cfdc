"""Reading fastText's `.bin` and `.ftz` files: the checked-in models (made by fastText itself with
`bench/make_fixtures.py`) read as the fastText binding reported them, and damaged, truncated or
hostile files are refused with one line, without allocating what their size fields claim."""

from __future__ import annotations

import hashlib
import json
import mmap
import struct
import time
import tracemalloc
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from fasttext_lite.errors import ModelFileError
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.formats import container, fasttext_bin
from fasttext_lite.formats.fasttext_bin import FastTextFile, Matrix
from fasttext_lite.model.quantized import QuantizedMatrix
from fasttext_lite.text.tokens import EOS_BYTES, encode_token, tokenize
from fasttext_lite.vocab import Vocabulary

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fasttext"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
SMALLEST = "hs_words"  # dense, no n-grams: the one swept byte by byte
DICTIONARY_AT = 8 + 56  # preamble, then the arguments


@cache
def _facts(name: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return facts


@cache
def _read(name: str) -> FastTextFile:
    return fasttext_bin.read(FIXTURES / _facts(name)["file"])


def _bytes(name: str) -> bytes:
    return (FIXTURES / str(_facts(name)["file"])).read_bytes()


def _rows(matrix: Matrix, ids: list[int]) -> npt.NDArray[np.float32]:
    return matrix.rows(ids) if isinstance(matrix, QuantizedMatrix) else matrix[ids]


def _input_rows(model: FastTextFile, tokens: list[bytes]) -> list[int]:
    """The input rows fastText averages for `tokens`: ftl's feature ids (word ids, then
    `nwords + hash % bucket`), n-grams taken through a pruned dictionary's index."""
    vocab = Vocabulary(model.words, [0] * len(model.words), model.labels, [0] * len(model.labels))
    a = model.args
    featurizer = Featurizer(
        vocab, word_ngrams=a.wordNgrams, bucket=a.bucket, minn=a.minn, maxn=a.maxn
    )
    ids = np.array([feature.id for feature in featurizer.provenance(tokens)], dtype=np.int64)
    if model.pruneidx is None:
        return [int(i) for i in ids]
    nwords = len(model.words)
    ngrams = ids >= nwords
    kept = model.pruneidx.lookup(ids[ngrams] - nwords)
    ids[np.flatnonzero(ngrams)] = np.where(kept >= 0, nwords + kept, -1)
    return [int(i) for i in ids if i >= 0]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_reads_as_fasttext_reports_it(name: str) -> None:
    facts, model = _facts(name), _read(name)
    args = vars(model.args)
    assert args.pop("t") == pytest.approx(facts["args"].pop("t"), rel=1e-12)
    assert args == facts["args"]
    assert model.words == facts["words"]
    assert model.word_counts.tolist() == facts["word_counts"]
    assert model.labels == facts["labels"]
    assert model.label_counts.tolist() == facts["label_counts"]
    assert model.version == 12
    assert model.quantized == facts["quantized"]
    assert isinstance(model.output_matrix, QuantizedMatrix) == facts["qout"]
    if not facts["quantized"]:
        for matrix, side in ((model.input_matrix, "input"), (model.output_matrix, "output")):
            assert isinstance(matrix, np.ndarray) and matrix.dtype == np.float32
            assert list(matrix.shape) == facts[f"{side}_shape"]
            assert _sha256(matrix) == facts[f"{side}_sha256"]


def _sha256(matrix: npt.NDArray[np.float32]) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, dtype="<f4").tobytes()).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_input_rows_decode_to_the_vectors_fasttext_gives(name: str) -> None:
    facts, model = _facts(name), _read(name)
    ids = [int(i) for i in facts["input_rows"]]
    expected = np.array(list(facts["input_rows"].values()), dtype=np.float32)
    np.testing.assert_allclose(_rows(model.input_matrix, ids), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_word_vectors_average_the_rows_fasttext_finds_for_the_word(name: str) -> None:
    facts, model = _facts(name), _read(name)
    for case in facts["word_vectors"]:
        ids = _input_rows(model, [encode_token(case["word"])])
        assert ids == case["subword_ids"], case["word"]
        vector = _rows(model.input_matrix, ids).mean(axis=0) if ids else np.zeros(model.args.dim)
        np.testing.assert_allclose(vector, case["vector"], rtol=0, atol=1e-5)


def _supervised() -> list[str]:
    return [name for name in NAMES if _facts(name)["args"]["model"] == "sup"]


@pytest.mark.parametrize("name", _supervised())
def test_sentence_vectors_and_probabilities_match_fasttext(name: str) -> None:
    """The hidden vector averages the rows of the line's words, n-grams and `</s>`; the
    probabilities come from the (decoded) output matrix. The binding reports each probability
    plus 1e-5 (it returns exp(log(p + 1e-5)))."""
    facts, model = _facts(name), _read(name)
    output = _rows(model.output_matrix, list(range(len(model.labels))))
    for case in facts["sentences"]:
        ids = _input_rows(model, [*map(encode_token, tokenize(case["text"])), EOS_BYTES])
        hidden = _rows(model.input_matrix, ids).mean(axis=0)
        np.testing.assert_allclose(hidden, case["vector"], rtol=0, atol=1e-5)
        if model.args.loss == "hs":
            continue  # a Huffman tree's probabilities: the hs loss's own tests
        scores = output @ hidden
        if model.args.loss == "softmax":
            probabilities = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        else:  # ova and ns score each label with its own sigmoid
            probabilities = _fasttext_sigmoid(scores)
        for label, reported in case["top"]:
            got = probabilities[model.labels.index(label)]
            assert got + 1e-5 == pytest.approx(reported, abs=1e-5), label


def _fasttext_sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """fastText's sigmoid (`Loss::sigmoid`): a table of 513 values over [-8, 8], 0 and 1 beyond."""
    table = 1 / (1 + np.exp(-(np.arange(513) * 16 / 512 - 8)))
    index = ((np.clip(x, -8, 8).astype(np.float64) + 8) * 512 / 8 / 2).astype(np.int64)
    return np.where(x < -8, 0.0, np.where(x > 8, 1.0, table[index]))


def test_labels_keep_their_prefix_and_are_also_given_without_it() -> None:
    model = _read("softmax_ngrams")
    assert model.label_prefix == "__label__"
    assert model.labels[0].startswith("__label__")
    assert model.label_names == [label.removeprefix("__label__") for label in model.labels]
    assert sorted(model.label_names) == ["baking", "coffee", "knives", "sauce", "storage"]


def test_undecodable_bytes_in_words_survive_as_surrogate_escapes() -> None:
    words = _read("softmax_ngrams").words
    assert b"caf\xe9" in [encode_token(word) for word in words]
    assert "café" in words and "über" in words


def test_dense_matrices_are_read_only_views_of_the_mapped_file() -> None:
    model = _read("softmax_ngrams")
    for matrix in (model.input_matrix, model.output_matrix):
        assert isinstance(matrix, np.ndarray)
        assert not matrix.flags.writeable and not matrix.flags.owndata
        assert isinstance(_buffer_of(matrix), mmap.mmap)


def _buffer_of(array: npt.NDArray[Any]) -> object:
    base: object = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base.obj if isinstance(base, memoryview) else base


def test_a_pruned_dictionary_maps_buckets_to_the_rows_kept_after_the_words() -> None:
    model = _read("quant_cutoff")
    assert model.pruneidx is not None
    assert (
        model.pruneidx_size == len(model.pruneidx) == model.input_matrix.shape[0] - len(model.words)
    )
    assert sorted(model.pruneidx.rows.tolist()) == list(range(model.pruneidx_size))
    assert all(_read(name).pruneidx_size == -1 for name in NAMES if name != "quant_cutoff")


def test_quantized_matrices_decode_whole_as_row_by_row() -> None:
    model = _read("quant_qout")
    for matrix in (model.input_matrix, model.output_matrix):
        assert isinstance(matrix, QuantizedMatrix)
        whole = matrix.decode_all()
        assert whole.shape == matrix.shape and whole.dtype == np.float32
        np.testing.assert_array_equal(whole[[5, 0, 7]], matrix.rows([5, 0, 7]))


def test_quantizers_with_a_shorter_last_piece_and_norms_decode() -> None:
    matrix = _read("quant_qnorm_dsub4").input_matrix
    assert isinstance(matrix, QuantizedMatrix) and matrix.norm_codes is not None
    assert (matrix.quantizer.dim, matrix.quantizer.dsub, matrix.quantizer.lastdsub) == (6, 4, 2)


def _with(data: bytes, offset: int, layout: str, *values: int) -> bytes:
    packed = struct.pack(layout, *values)
    return data[:offset] + packed + data[offset + len(packed) :]


def test_version_11_supervised_models_load_without_character_ngrams(tmp_path: Path) -> None:
    """fastText's own rule: format 11 predates character n-grams in supervised models."""
    for name, maxn in (("ova_subwords", 0), ("cbow_subwords", 3)):
        path = tmp_path / f"{name}.bin"
        path.write_bytes(_with(_bytes(name), 4, "<i", 11))
        model = fasttext_bin.read(path)
        assert (model.version, model.args.maxn) == (11, maxn)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty, not a fastText model"),
        (b"not a model at all", "is not a fastText model"),
        (container.MAGIC + b"\0" * 40, "is a fasttext_lite model, not a fastText one"),
        (_with(_bytes(SMALLEST), 4, "<i", 13), "saved in fastText file format 13, newer"),
        (_with(_bytes(SMALLEST), 4, "<i", 10), "file format version 10 does not exist"),
        (_bytes(SMALLEST) + b"\0", "1 unexpected bytes follow the output matrix"),
        # fastText refuses dense models with a pruned dictionary (its issue #332).
        (_with(_bytes(SMALLEST), DICTIONARY_AT + 20, "<q", 0), "pruned but its input matrix"),
        (_with(_bytes(SMALLEST), 8 + 24, "<i", 7), "loss 7 is not one of fastText's"),
        # An empty dictionary: its first entry, `</s>`, is then read as the next field.
        (_with(_bytes(SMALLEST), DICTIONARY_AT, "<iii", 0, 0, 0), "input flag is 60, not a"),
    ],
)
def test_files_that_are_not_fasttext_models_are_refused_in_one_line(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as refused:
        fasttext_bin.read(path)
    text = str(refused.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_a_missing_file_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        fasttext_bin.read(tmp_path / "absent.bin")


def test_a_file_that_cannot_be_mapped_is_read_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> mmap.mmap:
        raise OSError("not mappable")

    monkeypatch.setattr(mmap, "mmap", refuse)
    model = fasttext_bin.read(FIXTURES / "softmax_ngrams.bin")
    np.testing.assert_array_equal(model.input_matrix, _read("softmax_ngrams").input_matrix)


def _refused_or_read(path: Path) -> None:
    """Reading `path` either works or raises ModelFileError with one line naming it."""
    try:
        fasttext_bin.read(path)
    except ModelFileError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)


def test_every_truncation_is_refused(tmp_path: Path) -> None:
    data = _bytes(SMALLEST)
    path = tmp_path / "cut.bin"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError) as refused:
            fasttext_bin.read(path)
        assert str(refused.value).startswith(f"{path}: "), cut


def test_every_flipped_byte_is_read_or_refused_in_one_line(tmp_path: Path) -> None:
    data = bytearray(_bytes(SMALLEST))
    path = tmp_path / "flipped.bin"
    for at in range(len(data)):
        data[at] ^= 0xFF
        path.write_bytes(data)
        _refused_or_read(path)
        data[at] ^= 0xFF


def _dictionary_end(model: FastTextFile) -> int:
    entries = sum(len(encode_token(s)) + 1 + 9 for s in model.words + model.labels)
    return DICTIONARY_AT + 4 * 3 + 8 * 2 + entries + 8 * max(model.pruneidx_size, 0)


def test_flags_other_than_0_and_1_are_refused(tmp_path: Path) -> None:
    """A C++ bool is one byte, 0 or 1: anything else is damage, not "true"."""
    data = _bytes(SMALLEST)
    at = _dictionary_end(_read(SMALLEST))
    output_at = len(data) - 5 * 6 * 4 - 16 - 1
    for offset, what in ((at, "quantized-input flag"), (output_at, "quantized-output flag")):
        assert data[offset] == 0
        path = tmp_path / "flag.bin"
        path.write_bytes(_with(data, offset, "<B", 2))
        with pytest.raises(ModelFileError, match=f"the {what} is 2, not a boolean"):
            fasttext_bin.read(path)


def _size_fields(name: str) -> Iterator[tuple[str, int, str]]:
    """(field, offset, struct layout) of every size in the file (dense output assumed)."""
    model = _read(name)
    dim = model.args.dim
    yield "dim", 8, "<i"
    if model.pruneidx is None:  # a pruned model's rows do not depend on its bucket
        yield "bucket", 8 + 32, "<i"
    for i, field in enumerate(("size", "nwords", "nlabels")):
        yield field, DICTIONARY_AT + 4 * i, "<i"
    yield "pruneidx_size", DICTIONARY_AT + 20, "<q"
    output_at = len(_bytes(name)) - model.output_matrix.shape[0] * dim * 4 - 16
    yield from [("output rows", output_at, "<q"), ("output cols", output_at + 8, "<q")]
    at = _dictionary_end(model) + 1
    matrix = model.input_matrix
    if not isinstance(matrix, QuantizedMatrix):
        yield from [("input rows", at, "<q"), ("input cols", at + 8, "<q")]
        return
    yield from [("qnorm", at, "<B"), ("rows", at + 1, "<q"), ("cols", at + 9, "<q")]
    yield "codesize", at + 17, "<i"
    at += 21 + matrix.codes.size
    for i, field in enumerate(("pq dim", "nsubq", "dsub", "lastdsub")):
        yield field, at + 4 * i, "<i"
    if matrix.norm_codes is not None:
        at += 16 + dim * 256 * 4 + matrix.codes.shape[0]
        yield from [("norm pq dim", at, "<i"), ("norm nsubq", at + 4, "<i")]


@pytest.mark.parametrize("name", ["ns_trigrams", "quant_qnorm_dsub4", "quant_cutoff"])
def test_hostile_sizes_are_refused_before_allocating(tmp_path: Path, name: str) -> None:
    data = _bytes(name)
    path = tmp_path / "hostile.bin"
    fields = list(_size_fields(name))
    assert len(fields) >= 10
    for field, offset, layout in fields:
        (value,) = struct.unpack_from(layout, data, offset)
        bits = struct.calcsize(layout) * 8 - (layout != "<B")
        for hostile in {value + 1, value - 1, -1, 2**bits - 1, -(2**bits)} - {value}:
            if layout == "<B" and not 0 <= hostile < 256:
                continue
            path.write_bytes(_with(data, offset, layout, hostile))
            tracemalloc.start()
            try:
                with pytest.raises(ModelFileError, match=f"^{path}: "):
                    fasttext_bin.read(path)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < 2**20, (field, hostile, peak)


def _fasttext_file(path: Path, *, bucket: int, dim: int, last_row: list[float]) -> None:
    """A dense supervised model file written field by field (fastText's layout), with a sparse
    input matrix: only its last row is written, the rest is a hole in the file."""
    words = [(b"</s>", 3), (b"hello", 2)]
    labels = [(b"__label__a", 2), (b"__label__b", 1)]
    head = struct.pack("<ii", fasttext_bin.MAGIC, 12)
    head += struct.pack("<12id", dim, 5, 5, 1, 5, 2, 3, 3, bucket, 0, 0, 100, 1e-4)
    head += struct.pack("<iiiqq", 4, 2, 2, 6, -1)
    for kind, entries in enumerate((words, labels)):
        head += b"".join(word + b"\0" + struct.pack("<qb", count, kind) for word, count in entries)
    rows = len(words) + bucket
    head += struct.pack("<Bqq", 0, rows, dim)
    with open(path, "wb") as handle:
        handle.write(head)
        handle.seek(len(head) + (rows - 1) * dim * 4)
        handle.write(np.array(last_row, dtype="<f4").tobytes())
        handle.write(struct.pack("<Bqq", 0, len(labels), dim))
        handle.write(np.ones((len(labels), dim), dtype="<f4").tobytes())


def test_a_two_million_bucket_model_opens_at_once_without_reading_its_matrix(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.bin"
    last = [float(i) for i in range(100)]
    _fasttext_file(path, bucket=2_000_000, dim=100, last_row=last)
    assert path.stat().st_size > 800_000_000
    tracemalloc.start()
    try:
        started = time.perf_counter()
        model = fasttext_bin.read(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5 and peak < 2**20, (elapsed, peak)
    matrix = model.input_matrix
    assert isinstance(matrix, np.ndarray) and matrix.shape == (2_000_002, 100)
    assert isinstance(_buffer_of(matrix), mmap.mmap)
    assert matrix[-1].tolist() == last and not matrix[1_000_000].any()
    assert model.labels == ["__label__a", "__label__b"] and model.words == ["</s>", "hello"]
