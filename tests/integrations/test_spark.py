"""Prediction on a real local Spark (`local[2]`, started here; the tests skip where Java or
Spark cannot start): row for row what `ftl predict` gives, the README's recipe included."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier
from fasttext_lite.cli import cli
from fasttext_lite.errors import ParameterError

pytest.importorskip("pyspark")
pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from fasttext_lite.integrations.spark import predict_frame  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

ROOT = Path(__file__).resolve().parents[2]
TEXTS: list[str | None] = [
    "where is my parcel",
    "",
    None,
    "café crème: ma carte a été débitée deux fois 💳",
    "返品したい the kettle leaks",
    "   ",
    "I forgot my password and the reset email never came",
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs Java, and there is none here")
    with pytest.MonkeyPatch.context() as patch:
        # Spark's Python workers run `python3` from PATH unless told: this one has ftl.
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        try:
            session = (
                SparkSession.builder.master("local[2]")
                .appName("ftl-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.memory", "512m")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                # Small Arrow batches: several per partition, so their order is tested too.
                .config("spark.sql.execution.arrow.maxRecordsPerBatch", "16")
                .getOrCreate()
            )
        except Exception as error:  # no usable Java, no free port, ...
            pytest.skip(f"a local Spark could not start: {error}")
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


def ftl_predict(model: Path, lines: list[bytes], tmp_path: Path, k: int) -> list[Any]:
    """What `ftl predict --json` answers for these lines, one answer per line."""
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    result = CliRunner().invoke(
        cli, ["predict", "-m", str(model), "-k", str(k), "--json", str(path)]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_same(rows: list[Any], answers: list[Any]) -> None:
    """The same labels, and probabilities as `ftl predict` prints them (6 digits)."""
    assert [row["labels"] for row in rows] == [a["labels"] for a in answers]
    for row, answer in zip(rows, answers, strict=True):
        assert row["probabilities"] == pytest.approx(answer["probabilities"], rel=1e-5, abs=1e-7)


def test_a_text_column_predicts_row_for_row_as_ftl_predict(
    spark: SparkSession, model_path: Path, tmp_path: Path
) -> None:
    valid = [line.decode() for line in (ROOT / "data" / "support.valid").read_bytes().splitlines()]
    texts = (TEXTS + valid)[:100]
    rows = [(number, text) for number, text in enumerate(texts)]
    # Four partitions of 25 rows; the filter leaves the last one empty.
    frame = spark.sparkContext.parallelize(rows, 4).toDF("id long, text string").filter("id < 75")
    predicted = predict_frame(frame, "text", FastTextClassifier.load(model_path), k=2)
    assert predicted.columns == ["id", "text", "labels", "probabilities"]
    out = predicted.collect()
    assert [(row["id"], row["text"]) for row in out] == rows[:75]
    lines = [(text or "").encode() for text in texts[:75]]
    assert_same(out, ftl_predict(model_path, lines, tmp_path, k=2))


def test_a_classifier_fitted_in_the_driver_predicts_as_it_does_there(
    spark: SparkSession, trained: FastTextClassifier
) -> None:
    frame = spark.createDataFrame([(text,) for text in TEXTS], "text string")
    out = predict_frame(frame, "text", trained, k=1, threshold=0.3).collect()
    expected = trained.top_k([text or "" for text in TEXTS], k=1, threshold=0.3)
    assert [row["labels"] for row in out] == [[p.label for p in row] for row in expected]
    assert [row["probabilities"] for row in out] == [[p.probability for p in r] for r in expected]


def test_bytes_that_are_not_utf8_predict_as_ftl_predict_reads_them(
    spark: SparkSession, model_path: Path, tmp_path: Path
) -> None:
    lines = [b"caf\xe9 \xff\xfe refund please", b"my parcel \xc3( is late", b"", b"\x80"]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    strings = spark.read.text(str(path))  # Spark keeps the bytes in its strings as they are
    binary = spark.createDataFrame([(line,) for line in lines], "raw binary")
    expected = ftl_predict(model_path, lines, tmp_path, k=2)
    clf = FastTextClassifier.load(model_path)
    for frame, column in ((strings, "value"), (binary, "raw")):
        out = predict_frame(frame, column, clf, k=2)
        assert [
            bytes(row[0]) for row in out.selectExpr(f"cast({column} as binary)").collect()
        ] == lines
        assert_same(out.collect(), expected)


def test_a_label_that_was_not_utf8_is_spelled_as_ftl_predict_json_spells_it(
    spark: SparkSession, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(b"__label__caf\xe9 coffee beans\n__label__tea green leaves\n" * 20)
    model = tmp_path / "bytes.ftl"
    FastTextClassifier(epoch=5, lr=0.5, seed=1).fit_file(corpus).save(model)
    frame = spark.createDataFrame([("coffee beans",)], "text string")
    out = predict_frame(frame, "text", FastTextClassifier.load(model)).collect()
    assert out[0]["labels"] == ["caf\\udce9"]
    assert (
        '"labels": ["caf\\udce9"]'
        in CliRunner()
        .invoke(cli, ["predict", "-m", str(model), "--json", "-"], input="coffee beans\n")
        .stdout
    )


def test_columns_named_like_the_answers_are_replaced(
    spark: SparkSession, trained: FastTextClassifier
) -> None:
    frame = spark.createDataFrame(
        [("where is my parcel", "old", 1)], "text string, labels string, probabilities int"
    )
    out = predict_frame(frame, "text", trained)
    assert out.columns == ["text", "labels", "probabilities"]
    assert out.collect()[0]["labels"] == [trained.top_k(["where is my parcel"])[0][0].label]


@pytest.mark.parametrize(
    ("column", "options", "parameter"),
    [
        ("missing", {}, "column"),
        ("id", {}, "column"),
        ("text", {"k": 0}, "k"),
        ("text", {"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_arguments_are_refused_before_any_job(
    spark: SparkSession,
    trained: FastTextClassifier,
    column: str,
    options: dict[str, Any],
    parameter: str,
) -> None:
    frame: DataFrame = spark.createDataFrame([(1, "text")], "id long, text string")
    with pytest.raises(ParameterError) as raised:
        predict_frame(frame, column, trained, **options)
    assert raised.value.parameter == parameter


def test_the_readmes_recipe_writes_what_ftl_predict_prints(
    spark: SparkSession, model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("- **Spark**") :]
    code = section[section.index("```python\n") + len("```python\n") : section.index("  ```\n", 1)]
    recipe = "\n".join(line.removeprefix("  ") for line in code.splitlines())
    # Spark resolves relative paths against the directory its JVM started in, not Python's.
    output = tmp_path / "predictions"
    for path, absolute in (
        ("data/predict.txt", ROOT / "data" / "predict.txt"),
        ("predictions", output),
    ):
        assert f'"{path}"' in recipe, path
        recipe = recipe.replace(f'"{path}"', repr(str(absolute)))
    shutil.copy(model_path, tmp_path / "support.ftl")
    monkeypatch.chdir(tmp_path)
    exec(compile(recipe, "README.md (Spark)", "exec"), {})
    written = [
        json.loads(line)
        for part in sorted(output.glob("part-*.json"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    lines = (ROOT / "data" / "predict.txt").read_bytes().splitlines()
    assert [row["value"].encode() for row in written] == lines
    assert_same(written, ftl_predict(model_path, lines, tmp_path, k=2))
