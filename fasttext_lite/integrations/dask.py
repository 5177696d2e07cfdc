"""Prediction on a Dask cluster (the `dask` extra): over a bag of lines, or a text column of a
DataFrame, partition by partition.

The model is sent to every worker once, before the partitions (scattered, where a
distributed client is running; else it enters the graph as one task of its own), and every
partition on a worker reuses it; its pickle is the model file's bytes, restored through the
file's checks. Each partition is one vectorised prediction. Undecodable bytes kept as
surrogate escapes (`read_text(..., errors="surrogateescape")`) predict as `ftl predict`
predicts them.
"""

from __future__ import annotations

from typing import Any

import dask.bag
import dask.dataframe
import pandas as pd
from dask.delayed import delayed

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.integrations.answers import Answer, answers, as_text


def predict_bag(
    lines: dask.bag.Bag,
    classifier: FastTextClassifier,
    *,
    k: int = 1,
    threshold: float = 0.0,
) -> dask.bag.Bag:
    """A bag of `{"labels": [...], "probabilities": [...]}`, one per line, in order (a
    trailing newline on a line, as `read_text` leaves it, is ignored)."""
    model = _shipped(classifier)
    bag: Any = lines  # dask is untyped
    result: dask.bag.Bag = bag.map_partitions(_predict_partition, model, k, threshold)
    return result


def predict_frame(
    frame: dask.dataframe.DataFrame,
    column: str,
    classifier: FastTextClassifier,
    *,
    k: int = 1,
    threshold: float = 0.0,
) -> dask.dataframe.DataFrame:
    """`frame` with two more columns: `labels` and `probabilities` (lists) of `column`'s text."""
    model = _shipped(classifier)
    data: Any = frame  # dask is untyped
    meta = data._meta.assign(labels=pd.Series(dtype=object), probabilities=pd.Series(dtype=object))
    result: dask.dataframe.DataFrame = data.map_partitions(
        _predict_frame, column, model, k, threshold, meta=meta
    )
    return result


def _shipped(classifier: FastTextClassifier) -> Any:
    """The classifier on every worker once: scattered to all of them where a distributed
    client runs (a large model would otherwise ride in the task graph), else one task."""
    try:
        from distributed import get_client

        client: Any = get_client()  # distributed is untyped
        return client.scatter(classifier, broadcast=True, hash=False)
    except (ImportError, ValueError):  # no distributed, or no client running
        return delayed(classifier, pure=True, traverse=False)


def _predict_partition(
    lines: list[str], classifier: FastTextClassifier, k: int, threshold: float
) -> list[Answer]:
    texts = [line[:-1] if line.endswith("\n") else line for line in lines]
    return answers(classifier, texts, k, threshold)


def _predict_frame(
    part: pd.DataFrame, column: str, classifier: FastTextClassifier, k: int, threshold: float
) -> pd.DataFrame:
    found = answers(classifier, [as_text(v) for v in part[column].tolist()], k, threshold)
    return part.assign(
        labels=pd.Series([a["labels"] for a in found], index=part.index, dtype=object),
        probabilities=pd.Series(
            [a["probabilities"] for a in found], index=part.index, dtype=object
        ),
    )
