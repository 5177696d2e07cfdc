"""`ftl serve`, started for real on a loopback port and called with a real HTTP client."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fasttext_lite import FastTextClassifier

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from fasttext_lite.integrations import serve  # noqa: E402

TEXTS = ["where is my parcel", "refund my card please", "", "the app crashes"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def server(request: pytest.FixtureRequest, model_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fasttext_lite", "serve", "-m", str(model_path)]
        + ["--port", str(port), "--workers", str(request.param)],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_predictions_are_the_models(server: str, trained: FastTextClassifier) -> None:
    response = httpx.post(f"{server}/predict", json={"texts": TEXTS, "k": 2})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    expected = trained.top_k(TEXTS, k=2)
    assert len(predictions) == len(TEXTS)
    for got, want in zip(predictions, expected, strict=True):
        assert got["labels"] == [p.label for p in want]
        assert got["probabilities"] == pytest.approx([p.probability for p in want], rel=1e-5)


def test_threshold_and_all_labels(server: str, trained: FastTextClassifier) -> None:
    every = httpx.post(f"{server}/predict", json={"texts": ["parcel"], "k": -1}).json()
    assert len(every["predictions"][0]["labels"]) == len(trained.classes_)
    some = httpx.post(
        f"{server}/predict", json={"texts": ["parcel"], "k": -1, "threshold": 0.2}
    ).json()
    assert all(p >= 0.2 for p in some["predictions"][0]["probabilities"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"texts": "one"}', 422, "list of strings"),
        (b'{"texts": [1]}', 422, "list of strings"),
        (b'{"texts": ["a"], "k": 0}', 422, '"k"'),
        (b'{"texts": ["a"], "k": true}', 422, '"k"'),
        (b'{"texts": ["a"], "threshold": 2}', 422, '"threshold"'),
        (b'{"texts": ["a"], "extra": 1}', 422, "unknown field"),
        (b'{"texts": ["a\\nb"]}', 422, "one line"),
        (json.dumps({"texts": ["x"] * 1001}).encode(), 413, "at most 1000 texts"),
        (b'{"texts": ["' + b"x" * (1 << 20) + b'"]}', 413, "over"),
    ],
)
def test_bad_requests_get_json_errors_with_4xx(
    server: str, body: bytes, status: int, message: str
) -> None:
    response = httpx.post(f"{server}/predict", content=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_paths_and_methods_are_json_too(server: str) -> None:
    assert httpx.get(f"{server}/nope").json() == {"error": "Not Found"}
    wrong = httpx.get(f"{server}/predict")
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_concurrent_requests_all_get_their_own_answers(
    server: str, trained: FastTextClassifier
) -> None:
    texts = [f"where is my parcel number {i}" if i % 2 else "refund my card" for i in range(40)]

    def ask(text: str) -> str:
        answer = httpx.post(f"{server}/predict", json={"texts": [text]}, timeout=30)
        return str(answer.json()["predictions"][0]["labels"][0])

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(ask, texts))
    assert got == [p[0].label for p in trained.top_k(texts)]


def test_info_and_health(server: str, trained: FastTextClassifier) -> None:
    info = httpx.get(f"{server}/info").json()
    assert info["labels"] == trained.vocabulary_.labels and info["settings"]["dim"] == 20
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}


def test_requests_waiting_together_are_one_prediction(model_path: Path) -> None:
    service = serve.Service(FastTextClassifier.load(model_path))

    async def scenario() -> list[list[dict[str, object]]]:
        asks = [asyncio.create_task(service.predict([text], 1, 0.0)) for text in TEXTS]
        await asyncio.sleep(0)  # all four are queued before the batcher starts
        batcher = asyncio.create_task(service.run())
        answers = await asyncio.gather(*asks)
        batcher.cancel()
        return answers

    answers = asyncio.run(scenario())
    assert service.requests == 4 and service.batches == 1
    assert [a[0]["labels"] for a in answers] == [
        [p.label for p in row] for row in FastTextClassifier.load(model_path).top_k(TEXTS)
    ]
