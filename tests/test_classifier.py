"""The Python API's contract: argument checking, scikit-learn conventions, picklable errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from fasttext_lite import (
    DataError,
    FastTextClassifier,
    NotFittedError,
    ParameterError,
    evaluate,
    inference,
)

TEXTS = ["good tasty food", "awful cold food", "tasty warm soup", "cold bland soup"] * 5
LABELS = ["pos", "neg", "pos", "neg"] * 5


@pytest.fixture(scope="module")
def small() -> FastTextClassifier:
    return FastTextClassifier(lr=0.5, epoch=20, dim=10, seed=1).fit(TEXTS, LABELS)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "top_k", "iter_top_k"])
def test_a_single_string_is_refused_rather_than_read_as_characters(
    small: FastTextClassifier, method: str
) -> None:
    with pytest.raises(ParameterError, match="not one text"):
        getattr(small, method)("tasty food")


def test_iter_top_k_checks_its_arguments_before_the_first_item(
    small: FastTextClassifier,
) -> None:
    with pytest.raises(ParameterError, match="k"):
        small.iter_top_k(["tasty"], k=0)
    with pytest.raises(NotFittedError):
        FastTextClassifier().iter_top_k(["tasty"])


@pytest.mark.parametrize(("k", "threshold"), [(1, 0.0), (2, 0.0), (2, 0.6), (5, 0.0)])
def test_top_labels_are_the_predictions_as_arrays(
    small: FastTextClassifier, k: int, threshold: float
) -> None:
    batches: list[list[str | bytes]] = [["tasty food", "", "cold soup"], [], [b"awful \xff"]]
    tops = list(small.iter_top_labels(batches, k=k, threshold=threshold))
    assert len(tops) == len(batches)
    for batch, top in zip(batches, tops, strict=True):
        assert top.ids.shape == top.probabilities.shape == (len(batch), min(k, 2))
        got = [
            [(small.classes_[i], p) for i, p in zip(ids, row, strict=True) if i >= 0]
            for ids, row in zip(top.ids.tolist(), top.probabilities.tolist(), strict=True)
        ]
        expected = small.top_k(batch, k=k, threshold=threshold)
        assert got == [[(p.label, p.probability) for p in row] for row in expected]


def test_top_labels_pad_with_minus_one_and_zero(small: FastTextClassifier) -> None:
    (top,) = small.iter_top_labels([["tasty food", " \t", "cold soup"]], k=3, threshold=0.01)
    assert top.ids.shape == (3, 2)  # k beyond the 2 labels gives 2 places
    assert top.ids[1].tolist() == [-1, -1] and top.probabilities[1].tolist() == [0.0, 0.0]
    for ids, row in zip(top.ids[[0, 2]], top.probabilities[[0, 2]], strict=True):
        assert ids[0] >= 0 and row[0] > 0.5  # the trained model is sure of the first
        assert (ids[1] == -1) == (row[1] < 0.01) and (row[1] == 0.0 if ids[1] == -1 else True)


def test_top_labels_of_a_batch_longer_than_a_chunk(
    small: FastTextClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = TEXTS[:7]
    expected = [list(small.classes_).index(row[0].label) for row in small.top_k(batch)]
    monkeypatch.setattr(inference, "PREDICT_CELLS", 4)  # 2 lines of 2 labels per chunk
    (top,) = small.iter_top_labels([batch])
    assert top.ids[:, 0].tolist() == expected


def test_iter_top_labels_checks_its_arguments(small: FastTextClassifier) -> None:
    with pytest.raises(ParameterError, match="k"):
        small.iter_top_labels([["tasty"]], k=0)
    with pytest.raises(NotFittedError):
        FastTextClassifier().iter_top_labels([["tasty"]])
    with pytest.raises(ParameterError, match="not one text"):
        next(small.iter_top_labels(["tasty food"]))


@pytest.mark.parametrize(
    "params",
    [{"dim": np.int64(8)}, {"epoch": np.int32(2)}, {"lr": np.float32(0.5)}],
)
def test_numpy_numbers_are_accepted_as_hyper_parameters(params: dict[str, object]) -> None:
    clf = FastTextClassifier(seed=1, **params).fit(TEXTS, LABELS)  # type: ignore[arg-type]
    assert clf.top_k(["tasty food"], k=np.int64(2))[0][0].label in {"pos", "neg"}  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["not spam", "", "__label__"])
def test_label_names_must_be_one_token(bad: object) -> None:
    with pytest.raises(ParameterError, match="one token"):
        FastTextClassifier().fit(["a b", "c d"], ["x", bad])


def test_a_label_written_in_a_text_is_neither_label_nor_word() -> None:
    texts = ["__label__pos good food", "__label__neg cold food"] * 5
    clf = FastTextClassifier(lr=0.5, epoch=5, dim=5, seed=1).fit(texts, ["a", "b"] * 5)
    assert sorted(clf.classes_) == ["a", "b"]
    assert set(clf.vocabulary_.words) == {"good", "cold", "food", "</s>"}


def test_get_and_set_params_follow_scikit_learn(small: FastTextClassifier) -> None:
    params = small.get_params(deep=False)
    clone = FastTextClassifier(**params)
    assert clone.get_params() == params
    assert clone.set_params(epoch=3) is clone and clone.epoch == 3
    with pytest.raises(ParameterError, match="not a hyper-parameter"):
        clone.set_params(epochs=3)


def test_parameter_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(ParameterError("dim", "must be positive")))
    assert (error.parameter, error.detail, str(error)) == (
        "dim",
        "must be positive",
        "dim: must be positive",
    )


def test_evaluating_lines_without_a_known_label_is_an_error(small: FastTextClassifier) -> None:
    with pytest.raises(DataError, match="no line has a label the model knows"):
        evaluate(small, ["__label__other tasty food", "no label at all"])


def test_maxn_without_minn_works_as_in_fasttext(tmp_path: Path) -> None:
    clf = FastTextClassifier(maxn=3, epoch=2, dim=5, seed=1).fit(TEXTS, LABELS)
    assert clf.featurizer_.bucket > 0
    assert clf.model_.input.shape[0] > len(clf.vocabulary_.words)
