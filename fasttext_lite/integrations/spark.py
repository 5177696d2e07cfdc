"""Prediction on Spark (the `spark` extra): a text column of a DataFrame, batch by batch with
`mapInPandas`.

The model is broadcast: Spark copies it to each executor once, and each Python worker, which
Spark reuses from task to task, restores it once (its pickle is the model file's bytes,
restored through the file's checks) and keeps it for every later batch. A broadcast needs no
shared filesystem, and serves a classifier just fitted in the driver, which has no file. Each
Arrow batch is one vectorised prediction. pyspark is imported only when a frame is predicted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fasttext_lite import params as schema
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.errors import ParameterError
from fasttext_lite.integrations.answers import answers, as_text

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

OUTPUT_COLUMNS = ("labels", "probabilities")


def predict_frame(
    frame: DataFrame,
    column: str,
    classifier: FastTextClassifier,
    *,
    k: int = 1,
    threshold: float = 0.0,
) -> DataFrame:
    """`frame` with two more columns: `labels` (array<string>, bare names) and
    `probabilities` (array<double>) of the text in `column`, a string or binary column (bytes
    predict as `ftl predict` reads them). Rows keep their order; a null text gets no labels, as
    an empty line does. Columns already named `labels` or `probabilities` are replaced."""
    from pyspark.sql.functions import col
    from pyspark.sql.types import (
        ArrayType,
        BinaryType,
        DoubleType,
        StringType,
        StructField,
        StructType,
    )

    schema.check_top_k(k, threshold)
    if column not in frame.columns:
        raise ParameterError("column", f"no column {column!r}; the frame has {frame.columns}")
    kind = frame.schema[column].dataType
    if not isinstance(kind, StringType | BinaryType):
        raise ParameterError(
            "column", f"{column!r} holds {kind.simpleString()}; it must be string or binary"
        )
    # Python gets a string column's bytes: Spark keeps a file's bytes that are not UTF-8 in
    # its strings as they are, and pandas cannot decode those; the casts change no byte.
    text = col(column)
    if isinstance(kind, StringType):
        frame = frame.withColumn(column, text.cast("binary"))
    output = StructType(
        [field for field in frame.schema.fields if field.name not in OUTPUT_COLUMNS]
        + [
            StructField("labels", ArrayType(StringType())),
            StructField("probabilities", ArrayType(DoubleType())),
        ]
    )
    shipped = frame.sparkSession.sparkContext.broadcast(classifier)

    def predict(parts: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for part in parts:
            yield _predicted(part, column, shipped.value, k, threshold)

    predicted = frame.mapInPandas(predict, output)
    if isinstance(kind, StringType) and column not in OUTPUT_COLUMNS:
        predicted = predicted.withColumn(column, text.cast("string"))
    return predicted


def _predicted(
    part: pd.DataFrame, column: str, classifier: FastTextClassifier, k: int, threshold: float
) -> pd.DataFrame:
    import pandas as pd

    texts = [as_text(value) for value in part[column].tolist()]
    found = answers(classifier, texts, k, threshold)
    labels = [[_arrow_safe(name) for name in a["labels"]] for a in found]
    probabilities = [a["probabilities"] for a in found]
    return part.drop(columns=list(OUTPUT_COLUMNS), errors="ignore").assign(
        labels=pd.Series(labels, index=part.index, dtype=object),
        probabilities=pd.Series(probabilities, index=part.index, dtype=object),
    )


def _arrow_safe(name: str) -> str:
    """A label name Arrow can write: a byte that was not UTF-8 in training (a surrogate escape
    here) is spelled as `ftl predict --json` spells it, `\\udcXX`."""
    if name.isascii():
        return name
    return name.encode("utf-8", "backslashreplace").decode("utf-8")
