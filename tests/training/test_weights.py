"""Class and sample weights: a line's share of the loss scaled by its weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import DataError, FastTextClassifier, ParameterError, evaluate
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.cli import cli
from fasttext_lite.losses import make_loss
from fasttext_lite.model import Model
from fasttext_lite.text.scan import Scan
from fasttext_lite.training.sgd import Batcher, _step

LINES = [[0, 1, 2], [2, 3], [1, 4]]
GOLD = Bags.of([[0], [1], [2]])


def stepped(name: str, lr: float, weights: list[float] | None, lines: list[int]) -> Model:
    rng = np.random.default_rng(0)
    model = Model(rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), np.arange(5, dtype=np.int64))
    _step(
        model,
        Batcher(Bags.of(LINES), 5, np.float64),
        GOLD,
        np.array(lines, dtype=np.intp),
        loss=make_loss(name, [1, 1, 1]),
        lr=lr,
        rng=np.random.default_rng(1),
        weights=None if weights is None else np.array(weights, dtype=np.float32),
    )
    return model


@pytest.mark.parametrize("name", ["softmax", "ova", "ns"])
def test_a_line_of_weight_two_steps_as_at_twice_the_rate(name: str) -> None:
    weighted = stepped(name, 0.05, [2.0, 1.0, 1.0], [0])
    doubled = stepped(name, 0.1, None, [0])
    np.testing.assert_allclose(weighted.input, doubled.input, rtol=1e-6)
    np.testing.assert_allclose(weighted.output, doubled.output, rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "ova", "ns"])
def test_a_line_of_weight_zero_changes_nothing(name: str) -> None:
    both = stepped(name, 0.05, [1.0, 0.0, 1.0], [0, 1])
    alone = stepped(name, 0.05, None, [0])
    np.testing.assert_allclose(both.input, alone.input, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(both.output, alone.output, rtol=1e-6, atol=1e-9)


def test_weight_tokens_weigh_their_line_and_are_no_words() -> None:
    scan = Scan(b"__label__", weight_prefix=b"__weight__")
    scan.add_lines([b"__label__a x __weight__2 __weight__1.5", b"__label__b y __weight__nope"])
    assert scan.line_weights().tolist() == [3.0, 1.0]
    assert b"__weight__nope" in scan.words.keys and b"__weight__2" not in scan.words.keys


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two labels at 50:1 whose words overlap, so the rare one is easy to swamp."""
    rng = np.random.default_rng(0)
    directory = tmp_path_factory.mktemp("imbalanced")
    common = [f"c{i}" for i in range(30)]
    rare = [f"r{i}" for i in range(10)] + common[:20]

    def lines(count: int, ratio: int) -> str:
        out = []
        for i in range(count):
            label, words = ("rare", rare) if i % ratio == 0 else ("common", common)
            out.append(f"__label__{label} " + " ".join(rng.choice(words, size=5)))
        return "\n".join(out) + "\n"

    train, test = directory / "train.txt", directory / "test.txt"
    train.write_text(lines(2550, 51))
    test.write_text(lines(400, 2))
    return train, test


def test_balanced_class_weights_raise_the_rare_labels_recall(
    imbalanced: tuple[Path, Path],
) -> None:
    train, test = imbalanced
    recalls, macro = [], []
    for setting in ("", "balanced"):
        clf = FastTextClassifier(epoch=3, lr=0.1, dim=10, seed=0, class_weight=setting)
        result = evaluate(clf.fit_file(train), test)
        rare = next(s for s in result.per_label if s.label == "rare")
        recalls.append(rare.recall)
        macro.append(np.mean([s.f1 for s in result.per_label]))
    assert recalls[1] > recalls[0] + 0.2
    assert macro[1] > macro[0]


def test_a_class_weight_file_weighs_the_labels_it_names(
    imbalanced: tuple[Path, Path], tmp_path: Path
) -> None:
    train, _ = imbalanced
    weights = tmp_path / "weights.txt"
    weights.write_text("__label__rare 50\nnosuchlabel 3\n\n")
    clf = FastTextClassifier(epoch=1, dim=5, class_weight=weights).fit_file(train)
    assert clf.summary_.examples == 2550
    weights.write_text("rare 50\ncommon\n")
    with pytest.raises(DataError, match=r"weights.txt:2: expected `label weight`"):
        FastTextClassifier(epoch=1, dim=5, class_weight=weights).fit_file(train)


def test_sample_weights_from_the_api_equal_weight_tokens(
    support_train: Path, tmp_path: Path
) -> None:
    lines = [line.split() for line in support_train.read_text().splitlines()]
    texts = [" ".join(t for t in line if not t.startswith("__label__")) for line in lines]
    labels = [[t for t in line if t.startswith("__label__")] for line in lines]
    weights = [2.0 if i % 3 == 0 else 0.5 for i in range(len(texts))]
    from_api = FastTextClassifier(epoch=3, dim=8, seed=4).fit(texts, labels, sample_weight=weights)
    weighted = tmp_path / "weighted.txt"
    weighted.write_text(
        "".join(
            " ".join([*gold, text, f"__weight__{w!r}"]) + "\n"
            for text, gold, w in zip(texts, labels, weights, strict=True)
        )
    )
    from_file = FastTextClassifier(epoch=3, dim=8, seed=4).fit_file(weighted)
    np.testing.assert_array_equal(from_api.model_.input, from_file.model_.input)
    unweighted = FastTextClassifier(epoch=3, dim=8, seed=4).fit(texts, labels)
    assert not np.array_equal(from_api.model_.input, unweighted.model_.input)
    with pytest.raises(ParameterError, match="sample_weight"):
        FastTextClassifier().fit(texts, labels, sample_weight=[1.0])


def test_cli_class_weight_and_weight_tokens(imbalanced: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = imbalanced
    weighted = tmp_path / "weighted.txt"
    weighted.write_text(
        "".join(line + " __weight__3\n" for line in train.read_text().splitlines()[:200])
    )
    for args in (
        ["train", str(train), "--class-weight", "balanced"],
        ["train", str(weighted), "--weight-prefix", "__weight__"],
    ):
        result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "m.ftl"), "--dim", "5"])
        assert result.exit_code == 0, result.output
