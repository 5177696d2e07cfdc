"""FastTextClassifier as a scikit-learn classifier: its checks that apply to a classifier of
raw texts, and the tools people combine it with (Pipeline, cross-validation, grid search)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fasttext_lite import FastTextClassifier, NotFittedError, ParameterError

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402

WORDS = {
    "sport": "ball goal match team score",
    "food": "bread soup salt oven taste",
    "music": "song drum guitar band tune",
}


def corpus(lines_per_label: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in WORDS.items():
        vocabulary = words.split()
        for _ in range(lines_per_label):
            texts.append(" ".join(rng.choice(vocabulary, size=4)))
            labels.append(label)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]


def small() -> FastTextClassifier:
    return FastTextClassifier(lr=0.5, epoch=10, dim=8, seed=1)


# scikit-learn's own checks. Its `check_estimator` skips an estimator whose input is text
# (its checks feed numeric 2-D arrays), so the checks that do not depend on the input's
# type are run here one by one; the rest fit numeric matrices, which a text classifier does
# not take (a row of numbers is not a text).
APPLICABLE_CHECKS = [
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_unfitted",
    "check_decision_proba_consistency",
]


@pytest.mark.parametrize("name", APPLICABLE_CHECKS)
def test_passes_scikit_learns_checks_that_apply_to_text(name: str) -> None:
    check: Callable[..., Any] = getattr(estimator_checks, name)
    check("FastTextClassifier", small())


def test_is_a_classifier_with_tags_for_text_input() -> None:
    tags = sklearn.utils.get_tags(small())
    assert is_classifier(small())
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_clone_keeps_every_setting() -> None:
    clf = FastTextClassifier(lr=0.3, epoch=7, verbose=True, label_prefix="#")
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf


def test_repr_shows_the_settings_that_differ_from_the_defaults() -> None:
    assert repr(FastTextClassifier()) == "FastTextClassifier()"
    assert repr(FastTextClassifier(lr=0.5, loss="ova")) == "FastTextClassifier(lr=0.5, loss='ova')"


def test_predict_gives_an_array_of_labels_and_proba_follows_classes() -> None:
    texts, labels = corpus(20)
    clf = small().fit(texts, labels)
    assert isinstance(clf.classes_, np.ndarray)
    predicted = clf.predict(["goal match team", "soup bread"])
    assert isinstance(predicted, np.ndarray) and predicted.tolist() == ["sport", "food"]
    proba = clf.predict_proba(["goal match team", "soup bread"])
    assert clf.classes_[proba.argmax(axis=1)].tolist() == predicted.tolist()
    assert clf.score(texts, labels) == pytest.approx(np.mean(clf.predict(texts) == labels))


@pytest.mark.parametrize("kind", [int, np.int64])
def test_integer_labels_come_back_as_integers_also_after_saving(
    kind: Callable[[int], Any], tmp_path: Any
) -> None:
    texts, labels = corpus(20)
    numbers = [kind(list(WORDS).index(label)) for label in labels]
    clf = small().fit(texts, numbers)
    assert clf.classes_.dtype.kind == "i"
    assert sorted(clf.classes_.tolist()) == [0, 1, 2]
    assert clf.predict(["goal match team"]).tolist() == [0]
    clf.save(tmp_path / "m.ftl")
    loaded = FastTextClassifier.load(tmp_path / "m.ftl")
    assert loaded.classes_.tolist() == clf.classes_.tolist()
    assert loaded.predict(["soup bread"]).tolist() == [1]


def test_labels_given_with_the_prefix_are_taken_once() -> None:
    texts, labels = corpus(20)
    clf = small().fit(texts, ["__label__" + label for label in labels])
    assert clf.vocabulary_.labels and all(
        not name.startswith("__label__") for name in clf.vocabulary_.labels
    )
    assert clf.predict(["goal match"]).tolist() == ["__label__sport"]


def test_two_labels_with_the_same_name_are_refused() -> None:
    with pytest.raises(ParameterError, match="same name"):
        small().fit(["a b", "c d"], [1, "1"])


def test_unfitted_use_raises_not_fitted_error_also_as_scikit_learns() -> None:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    for method in ("predict", "predict_proba", "top_k"):
        with pytest.raises(NotFittedError) as raised:
            getattr(small(), method)(["text"])
        assert isinstance(raised.value, SklearnNotFittedError)


def test_a_text_that_is_not_a_string_is_a_parameter_error() -> None:
    texts, labels = corpus(5)
    clf = small().fit(texts, labels)
    with pytest.raises(ParameterError, match="each text must be a str or bytes, got None"):
        clf.predict([None])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="got 3"):
        small().fit(["a", 3], ["x", "y"])  # type: ignore[list-item]


def test_in_a_pipeline_with_cross_validation_and_grid_search() -> None:
    texts, labels = corpus(30)
    lowercase = FunctionTransformer(lambda texts: [text.lower() for text in texts])
    pipeline = make_pipeline(lowercase, small())
    assert is_classifier(pipeline)
    scores = cross_val_score(pipeline, texts, labels, cv=3, scoring="accuracy")
    assert scores.shape == (3,) and scores.min() > 0.8
    assert cross_val_score(small(), texts, labels, cv=3).mean() > 0.8  # `score` by default
    search = GridSearchCV(small(), {"lr": [0.01, 0.5], "epoch": [1, 10]}, cv=3)
    search.fit(texts, labels)
    assert search.best_params_ == {"lr": 0.5, "epoch": 10}
    assert search.predict(["guitar drum"]).tolist() == ["music"]
