"""fasttext_lite: fastText's supervised classifier in pure Python on numpy.

>>> from fasttext_lite import FastTextClassifier
>>> clf = FastTextClassifier(epoch=20, lr=0.5, seed=1)
>>> clf = clf.fit(["good tasty food", "awful cold food"] * 5, ["pos", "neg"] * 5)
>>> clf.predict(["tasty food", "cold food"]).tolist()
['pos', 'neg']
>>> clf.top_k(["tasty food"], k=2)[0][0].label
'pos'
"""

from __future__ import annotations

from fasttext_lite.classifier import FastTextClassifier, Prediction
from fasttext_lite.errors import (
    DataError,
    FtlError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    StorageError,
    TrainingError,
)
from fasttext_lite.losses import TopLabels
from fasttext_lite.metrics import Evaluation, LabelScore, evaluate
from fasttext_lite.report import Report, evaluate_report
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.version import __version__

__all__ = [
    "DataError",
    "Evaluation",
    "FastTextClassifier",
    "FtlError",
    "LabelScore",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "Prediction",
    "Report",
    "StorageError",
    "TopLabels",
    "TrainingError",
    "TrainingSummary",
    "__version__",
    "evaluate",
    "evaluate_report",
]
