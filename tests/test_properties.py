"""Property-based tests: any text or bytes through tokenization, features and prediction, and
any bytes as a model file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import examples_of
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import featurize, parse_line

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.formats import container
from fasttext_lite.text.scan import Scan
from fasttext_lite.text.tokens import EOS, encode_token, tokenize

SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
# Any code point, lone surrogates included: a Python str can hold them, a file cannot.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
# Bytes biased towards what matters: separators, UTF-8 lead and continuation bytes, labels.
PIECES = st.sampled_from(
    [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\0", b"\xc3", b"\xa9", b"\xff", b"\xe6\x97"]
    + [b"__label__", b"__label__x", b"</s>", b"word", b"<", b">", "é".encode(), "日本".encode()]
)
ANY_BYTES = st.one_of(st.binary(max_size=300), st.lists(PIECES, max_size=60).map(b"".join))


@pytest.fixture(scope="module")
def rich() -> FastTextClassifier:
    """A model with every kind of feature: words, word n-grams and char n-grams."""
    texts = ["café au lait", "日本 語 text", "plain words here", "\udcff raw byte", "a b c d"]
    return FastTextClassifier(
        dim=4, epoch=2, word_ngrams=3, bucket=997, minn=1, maxn=4, seed=0
    ).fit(texts * 3, ["x", "y", "x", "y", "z"] * 3)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


@SETTINGS
@given(ANY_BYTES)
def test_tokenize_bytes_splits_on_fasttexts_separators_only(line: bytes) -> None:
    tokens = tokenize(line)
    assert all(tokens)
    assert [encode_token(t) for t in tokens] == line.replace(b"\0", b" ").split()


@SETTINGS
@given(ANY_TEXT)
def test_tokenize_text_never_raises_and_agrees_with_its_bytes(text: str) -> None:
    tokens = tokenize(text)
    assert tokens == tokenize(encode_token(text))
    assert all(t and not any(c in t for c in " \t\n\r\x0b\x0c\0") for t in tokens)


@SETTINGS
@given(st.one_of(ANY_TEXT, ANY_BYTES), st.sampled_from(["__label__", "#", "é:"]))
def test_parse_line_separates_labels_and_appends_eos(line: str | bytes, prefix: str) -> None:
    example = parse_line(line, prefix)
    tokens = tokenize(line)
    assert example.words[-1] == EOS
    assert len(example.words) - 1 + len(example.labels) == len(tokens)
    assert all(not w.startswith(prefix) for w in example.words[:-1])
    assert [prefix + label for label in example.labels] == [
        t for t in tokens if t.startswith(prefix)
    ]


@SETTINGS
@given(st.lists(st.one_of(ANY_TEXT, ANY_BYTES), min_size=1, max_size=8))
def test_features_are_always_in_range(rich: FastTextClassifier, lines: list[str | bytes]) -> None:
    featurizer = rich.featurizer_
    examples = [parse_line(line, rich.label_prefix) for line in lines]
    bags = featurize(featurizer, examples)
    assert bags.nlines == len(lines)
    if bags.indices.size:
        assert bags.indices.min() >= 0 and bags.indices.max() < featurizer.n_features
    # Every line has at least `</s>`, which is a vocabulary word.
    assert (bags.sizes > 0).all()


@SETTINGS
@given(
    st.lists(st.lists(ANY_BYTES, max_size=6), min_size=1, max_size=4),
    st.sampled_from(["__label__", "#", "</"]),
)
def test_scanning_blocks_of_lines_equals_parsing_each_line(
    blocks: list[list[bytes]], prefix: str
) -> None:
    scan = Scan(encode_token(prefix))
    for block in blocks:
        scan.add_lines([line.replace(b"\n", b" ") for line in block])
    examples = [parse_line(line.replace(b"\n", b" "), prefix) for block in blocks for line in block]
    assert scan.nlines == len(examples)
    assert examples_of(scan) == examples


@SETTINGS
@given(st.lists(st.one_of(ANY_TEXT, ANY_BYTES), max_size=8), st.integers(1, 5))
def test_prediction_never_raises(
    rich: FastTextClassifier, lines: list[str | bytes], k: int
) -> None:
    results = rich.top_k(lines, k=k)
    assert len(results) == len(lines)
    for line, predictions in zip(lines, results, strict=True):
        assert len(predictions) == (min(k, 3) if tokenize(line) else 0)
        assert all(0.0 <= p.probability <= 1.0 for p in predictions)


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=2000).map(lambda b: container.MAGIC + b),
        st.binary(max_size=100).map(lambda b: b"\xba\x16\x4f\x2f" + b),  # fastText's magic
    )
)
def test_any_bytes_as_a_model_raise_only_model_file_error(scratch: Path, data: bytes) -> None:
    path = scratch / "any.ftl"
    path.write_bytes(data)
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(path)


@settings(max_examples=80, deadline=None, database=None)
@given(st.data())
def test_mutations_of_a_real_model_raise_only_model_file_error(
    model_path: Path, scratch: Path, data: st.DataObject
) -> None:
    original = model_path.read_bytes()
    size = len(original)
    mutated = bytearray(original)
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice"]))
    if kind == "flip":
        for position in data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=5)):
            mutated[position] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del mutated[data.draw(st.integers(0, size - 1)) :]
    elif kind == "insert":
        position = data.draw(st.integers(0, size))
        mutated[position:position] = data.draw(st.binary(min_size=1, max_size=64))
    elif kind == "delete":
        start = data.draw(st.integers(0, size - 1))
        del mutated[start : start + data.draw(st.integers(1, 64))]
    else:  # a block of the file copied over another place
        start, target = data.draw(st.integers(0, size - 64)), data.draw(st.integers(0, size - 64))
        mutated[target : target + 64] = original[start : start + 64]
    assume(bytes(mutated) != original)
    path = scratch / "mutated.ftl"
    path.write_bytes(bytes(mutated))
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(path)
