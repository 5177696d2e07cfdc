"""Prediction on a real `dask.distributed.LocalCluster` (2 worker processes) started here:
line for line what `ftl predict` gives, whatever the partitions hold."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier
from fasttext_lite.cli import cli

distributed = pytest.importorskip("distributed")
dask_bag = pytest.importorskip("dask.bag")
dask_dataframe = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

from fasttext_lite.integrations.dask import predict_bag, predict_frame  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, support_train: Path) -> list[Path]:
    """Partitions as files: ordinary text, bad bytes, and an empty one."""
    directory = tmp_path_factory.mktemp("parts")
    lines = support_train.read_bytes().splitlines()
    contents = [
        b"\n".join(lines[:150]) + b"\n",
        b"caf\xe9 \xff\xfe refund please\nmy parcel \xc3( is late\n",
        b"",
        b"\n".join(lines[150:]) + b"\n",
    ]
    paths = []
    for number, content in enumerate(contents):
        path = directory / f"part-{number}.txt"
        path.write_bytes(content)
        paths.append(path)
    return paths


def cli_predictions(model_path: Path, files: list[Path]) -> list[dict[str, Any]]:
    answers = []
    for path in files:
        result = CliRunner().invoke(
            cli, ["predict", "-m", str(model_path), "-k", "2", "--json", str(path)]
        )
        answers += [json.loads(line) for line in result.stdout.splitlines()]
    return answers


def assert_same(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """The same labels, and probabilities as `ftl predict` prints them (6 digits)."""
    assert [a["labels"] for a in ours] == [a["labels"] for a in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert a["probabilities"] == pytest.approx(b["probabilities"], rel=1e-5, abs=1e-7)


def test_a_bag_predicts_line_for_line_as_ftl_predict(
    client: object, model_path: Path, files: list[Path]
) -> None:
    clf = FastTextClassifier.load(model_path)
    bag = dask_bag.read_text([str(p) for p in files], errors="surrogateescape")
    assert bag.npartitions == len(files)
    answers: Any = predict_bag(bag, clf, k=2)
    assert_same(answers.compute(), cli_predictions(model_path, files))


def test_a_dataframe_column_gets_labels_and_probabilities(
    client: object, trained: FastTextClassifier
) -> None:
    texts = ["where is my parcel", "refund my card", "", "the app crashes", None] * 4
    frame = dask_dataframe.from_pandas(
        pd.DataFrame({"text": pd.Series(texts, dtype=object), "id": range(20)}), npartitions=3
    )
    predicted: Any = predict_frame(frame, "text", trained, k=1)
    result = predicted.compute()
    assert list(result["id"]) == list(range(20))
    as_lines = [text or "" for text in texts]  # a missing text is an empty line, not "None"
    assert list(result["labels"]) == [[p.label for p in row] for row in trained.top_k(as_lines)]
    assert list(result["labels"])[4] == []


def test_a_worker_restarted_mid_run_loses_nothing(
    client: object, model_path: Path, files: list[Path]
) -> None:
    clf = FastTextClassifier.load(model_path)
    # A warm cluster can finish a small job before the restart, and a finished result that
    # lived on the restarted worker is gone by Dask's design: so grow the job until the
    # restart lands while it runs.
    for copies in (10, 40, 160):
        many = dask_bag.read_text([str(p) for p in files] * copies, errors="surrogateescape")
        future: Any = client.compute(predict_bag(many, clf, k=2))  # type: ignore[attr-defined]
        time.sleep(0.1)
        if future.done():
            continue
        workers = list(client.scheduler_info()["workers"])  # type: ignore[attr-defined]
        client.restart_workers(workers[:1])  # type: ignore[attr-defined]
        assert_same(future.result(timeout=120), cli_predictions(model_path, files) * copies)
        return
    pytest.fail("every job finished before a worker could be restarted")
