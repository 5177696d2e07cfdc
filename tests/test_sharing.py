"""Models that travel and share: pickled through the model file's checks, and loaded as
memory maps that processes share."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from fasttext_lite import FastTextClassifier, ModelFileError

TEXTS = ["where is my parcel", "refund my card please", "", "the app crashes"]


def test_a_pickled_model_predicts_identically(trained: FastTextClassifier) -> None:
    copy = pickle.loads(pickle.dumps(trained))
    assert copy is not trained and copy.get_params() == trained.get_params()
    np.testing.assert_array_equal(copy.predict_proba(TEXTS), trained.predict_proba(TEXTS))
    assert copy.predict(TEXTS).tolist() == trained.predict(TEXTS).tolist()


def test_a_pickle_holds_only_settings_and_the_model_files_bytes(
    trained: FastTextClassifier,
) -> None:
    state = trained.__getstate__()
    assert set(state) == {"params", "model", "classes"}
    assert isinstance(state["model"], bytes) and state["model"].startswith(b"FTLITE")
    assert all(isinstance(c, str) for c in state["classes"])


def test_a_pickle_keeps_the_labels_as_given() -> None:
    clf = FastTextClassifier(epoch=5, lr=0.5, dim=5).fit(["a b", "c d"] * 5, [7, 9] * 5)
    copy = pickle.loads(pickle.dumps(clf))
    assert copy.classes_.tolist() == clf.classes_.tolist() == [7, 9]
    prefixed = FastTextClassifier(epoch=5, dim=5).fit(["a", "b"], ["__label__x", "__label__y"])
    assert pickle.loads(pickle.dumps(prefixed)).classes_.tolist() == ["__label__x", "__label__y"]


def test_an_unfitted_classifier_pickles_its_settings() -> None:
    copy = pickle.loads(pickle.dumps(FastTextClassifier(lr=0.3, verbose=True)))
    assert copy.lr == 0.3 and copy.verbose and not hasattr(copy, "model_")


def test_a_damaged_pickle_is_refused_by_the_model_checks(trained: FastTextClassifier) -> None:
    state = trained.__getstate__()
    model = bytearray(state["model"])
    model[-1] ^= 0xFF
    clone = FastTextClassifier.__new__(FastTextClassifier)
    with pytest.raises(ModelFileError, match="the pickled model: .*checksum"):
        clone.__setstate__({**state, "model": bytes(model)})


def test_a_memory_mapped_model_predicts_as_a_loaded_one(model_path: Path) -> None:
    mapped = FastTextClassifier.load(model_path, mmap=True)
    loaded = FastTextClassifier.load(model_path)
    assert isinstance(mapped.model_.input, np.memmap) and not mapped.model_.input.flags.writeable
    np.testing.assert_array_equal(mapped.predict_proba(TEXTS), loaded.predict_proba(TEXTS))


def test_a_memory_mapped_model_still_checks_every_byte(model_path: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.ftl"
    data = bytearray(model_path.read_bytes())
    data[-3] ^= 0x01
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        FastTextClassifier.load(damaged, mmap=True)
