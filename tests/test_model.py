"""The model's mean over a line's features: features without a row (never seen in training)."""

from __future__ import annotations

import numpy as np

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.model import Model


def _model(*, pruned: bool) -> Model:
    input_ = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    output = np.zeros((2, 2), dtype=np.float32)
    return Model(input_, output, np.array([2, 5], dtype=np.int64), pruned=pruned)


def test_a_feature_without_a_row_counts_as_a_zero_row() -> None:
    model = _model(pruned=False)
    bags = Bags.of([[2, 7], [5, 5, 9, 2], [9]])
    hidden = model.hidden(model.weights(bags))
    np.testing.assert_allclose(hidden, [[0.5, 1.0], [7 / 4, 10 / 4], [0.0, 0.0]])


def test_a_pruned_model_leaves_features_without_a_row_out() -> None:
    model = _model(pruned=True)
    bags = Bags.of([[2, 7], [5, 5, 9, 2], [9]])
    hidden = model.hidden(model.weights(bags))
    np.testing.assert_allclose(hidden, [[1.0, 2.0], [7 / 3, 10 / 3], [0.0, 0.0]])
