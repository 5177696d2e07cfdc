"""Pretrained word vectors (`--pretrained-vectors`, fastText's `-pretrainedVectors`): read from
`.vec` files, they start the vocabulary's rows, and they carry what they know to words the
labelled lines never show."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import DataError, FastTextClassifier, ParameterError, evaluate
from fasttext_lite.cli import cli
from fasttext_lite.formats import vec

TOPICS = 4
WORDS_PER_TOPIC = 30
DIM = 16


def write_vec(path: Path, words: list[str], vectors: np.ndarray) -> Path:
    lines = [f"{len(words)} {vectors.shape[1]}"]
    lines += [
        f"{w} " + " ".join(f"{x:.6f}" for x in row) for w, row in zip(words, vectors, strict=True)
    ]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.fixture(scope="module")
def topics(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Words in 4 topics; vectors that place each topic's words together (as vectors trained
    on a large unlabelled corpus would); labelled lines that use only the first 5 words of
    each topic, and test lines that use only the others."""
    rng = np.random.default_rng(0)
    directory = tmp_path_factory.mktemp("topics")
    centres = rng.normal(size=(TOPICS, DIM))
    words = [f"t{t}w{i}" for t in range(TOPICS) for i in range(WORDS_PER_TOPIC)]
    vectors = np.repeat(centres, WORDS_PER_TOPIC, axis=0) + 0.3 * rng.normal(size=(len(words), DIM))
    vectors_path = write_vec(directory / "topics.vec", words, vectors)

    def lines(count: int, first: int, last: int) -> str:
        out = []
        for _ in range(count):
            topic = int(rng.integers(TOPICS))
            chosen = rng.integers(first, last, size=3)
            out.append(f"__label__{topic} " + " ".join(f"t{topic}w{i}" for i in chosen))
        return "\n".join(out) + "\n"

    train = directory / "train.txt"
    train.write_text(lines(40, 0, 5))
    test = directory / "test.txt"
    test.write_text(lines(200, 5, WORDS_PER_TOPIC))
    return train, test, vectors_path


def test_reading_a_vec_file_plain_or_gzipped(tmp_path: Path) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    for name in ("v.vec", "v.vec.gz"):
        path = write_vec(tmp_path / name, ["a", "</s>", "été"], vectors)
        read = vec.read(path)
        assert read.words == [b"a", b"</s>", "été".encode()]
        np.testing.assert_allclose(read.vectors, vectors, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "count dim"),
        (b"2 3\na 1 2 3\n", "the header promises 2 vectors, more than the file holds"),
        (b"2 3\na 1.000 2.000 3.000\n", "has 1 vectors, its header says 2"),
        (b"1 3\na 1 2\n", "does not have 3 numbers"),
        (b"1 3\na 1 2 x\n", "does not have 3 numbers"),
        (b"1 3\nabcdefgh\n", "a word but no vector"),
        (b"99999999999 3\na 1 2 3\n", "more than the file holds"),
        (b"1 0\n", "dimension 0 is out of range"),
    ],
)
def test_a_bad_vec_file_is_a_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.vec"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        vec.read(path)


def test_a_dimension_that_disagrees_names_both(topics: tuple[Path, Path, Path]) -> None:
    train, _, vectors = topics
    with pytest.raises(ParameterError, match=f"is 10, but {vectors} holds vectors of dimension"):
        FastTextClassifier(dim=10, pretrained_vectors=vectors).fit_file(train)
    result = CliRunner().invoke(
        cli, ["train", str(train), "--dim", "10", "--pretrained-vectors", str(vectors)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid value for --dim: is 10, but ")


def test_pretrained_words_keep_their_vectors_where_training_never_moves_them(
    topics: tuple[Path, Path, Path],
) -> None:
    train, _, vectors = topics
    clf = FastTextClassifier(dim=DIM, epoch=5, lr=0.5, pretrained_vectors=vectors).fit_file(train)
    read = vec.read(vectors)
    unseen = "t2w20"  # in the vectors, never in a labelled line
    assert clf.vocabulary_.word_counts[clf.vocabulary_.word_ids[unseen]] == 0
    np.testing.assert_allclose(
        clf.word_vectors([unseen])[0], read.vectors[read.words.index(unseen.encode())], rtol=1e-6
    )


def test_pretrained_vectors_carry_labels_to_words_no_labelled_line_shows(
    topics: tuple[Path, Path, Path],
) -> None:
    """Few labelled lines: without vectors the test words are unknown (P@1 near chance,
    0.25); with them, each test word sits beside the labelled words of its topic."""
    train, test, vectors = topics
    plain = FastTextClassifier(dim=DIM, epoch=20, lr=0.5, seed=1)
    helped = FastTextClassifier(dim=DIM, epoch=20, lr=0.5, seed=1, pretrained_vectors=vectors)
    plain.fit_file(train)
    helped.fit_file(train)
    assert evaluate(plain, test).precision < 0.4
    assert evaluate(helped, test).precision > 0.9
