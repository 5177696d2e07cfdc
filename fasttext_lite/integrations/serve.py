"""`ftl serve`: an HTTP service for predictions, on Starlette and Uvicorn (the `serve` extra).

    POST /predict   {"texts": ["...", ...], "k": 1, "threshold": 0.0}
                    -> {"predictions": [{"labels": [...], "probabilities": [...]}, ...]}
    GET  /health    -> {"status": "ok"}
    GET  /info      -> the model's labels, settings and the service's counters

Requests that arrive together are answered by one vectorised prediction: a batcher task takes
every request waiting (up to MAX_BATCH_TEXTS texts) and predicts them at once, in a thread,
so the event loop keeps accepting. Bad requests get a JSON error with a 4xx status, never a
500: a body that is not JSON (400), the wrong fields or types (422), too many texts or too
large a body (413). Each worker process maps the model file read-only, so N workers share one
copy of it in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from fasttext_lite import params
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.errors import FtlError

# The environment variable the workers find the model in (Uvicorn starts them from a name).
MODEL_VARIABLE = "FTL_SERVE_MODEL"
MAX_BODY_BYTES = 1 << 20
MAX_TEXTS = 1000
MAX_BATCH_TEXTS = 4096


class NoDelayHTTP(H11Protocol):
    """Uvicorn's HTTP protocol with Nagle's algorithm off on every connection. With
    `--workers` > 1 the listening socket reaches the workers without its protocol number, so
    asyncio no longer sets TCP_NODELAY, and every keep-alive answer waited about 42 ms for the
    client's delayed ACK (178 requests/s against 1,149 with one worker)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Job:
    texts: list[str]
    k: int
    threshold: float
    done: asyncio.Future[list[dict[str, Any]]]


@dataclass
class Service:
    """The model and the queue of requests waiting for it."""

    classifier: FastTextClassifier
    queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue)
    requests: int = 0
    batches: int = 0

    async def predict(self, texts: list[str], k: int, threshold: float) -> list[dict[str, Any]]:
        done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        await self.queue.put(_Job(texts, k, threshold, done))
        self.requests += 1
        return await done

    async def run(self) -> None:
        """Answer the waiting requests, all of them at once, for as long as the app runs."""
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self.queue.get()]
            size = len(jobs[0].texts)
            while not self.queue.empty() and size < MAX_BATCH_TEXTS:
                jobs.append(self.queue.get_nowait())
                size += len(jobs[-1].texts)
            self.batches += 1
            try:
                answers = await loop.run_in_executor(None, self._answer, jobs)
            except Exception as error:  # noqa: BLE001 - each waiting request gets it
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(error)
                continue
            for job, answer in zip(jobs, answers, strict=True):
                if not job.done.done():
                    job.done.set_result(answer)

    def _answer(self, jobs: list[_Job]) -> list[list[dict[str, Any]]]:
        """One prediction for all jobs that share k and threshold (usually all of them)."""
        answers: list[list[dict[str, Any]]] = [[] for _ in jobs]
        groups: dict[tuple[int, float], list[int]] = {}
        for index, job in enumerate(jobs):
            groups.setdefault((job.k, job.threshold), []).append(index)
        labels = self.classifier.vocabulary_.labels
        for (k, threshold), members in groups.items():
            texts = [text for i in members for text in jobs[i].texts]
            top = next(iter(self.classifier.iter_top_labels([texts], k=k, threshold=threshold)))
            rows = iter(zip(top.ids.tolist(), top.probabilities.tolist(), strict=True))
            for i in members:
                for _ in jobs[i].texts:
                    ids, probs = next(rows)
                    pairs = zip(ids, probs, strict=True)
                    kept = [(labels[j], float(f"{p:.6g}")) for j, p in pairs if j >= 0]
                    answers[i].append(
                        {"labels": [n for n, _ in kept], "probabilities": [p for _, p in kept]}
                    )
        return answers


def create_app(model_path: str | None = None) -> Starlette:
    """The application for the model at `model_path` (or in $FTL_SERVE_MODEL)."""
    path = model_path or os.environ.get(MODEL_VARIABLE)
    if not path:
        raise FtlError(f"no model to serve: give one, or set {MODEL_VARIABLE}")
    service = Service(FastTextClassifier.load(path, mmap=True))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        batcher = asyncio.create_task(service.run())
        try:
            yield
        finally:
            batcher.cancel()

    async def predict(request: Request) -> JSONResponse:
        try:
            texts, k, threshold = _parse(await _body(request))
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        predictions = await service.predict(texts, k, threshold)
        return JSONResponse({"predictions": predictions})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def info(request: Request) -> JSONResponse:
        clf = service.classifier
        return JSONResponse(
            {
                "labels": clf.vocabulary_.labels,
                "label_counts": clf.vocabulary_.label_counts,
                "words": len(clf.vocabulary_.words),
                "settings": {name: getattr(clf, name) for name in params.MODEL_PARAMS},
                "requests": service.requests,
                "batches": service.batches,
                "limits": {"texts": MAX_TEXTS, "body_bytes": MAX_BODY_BYTES},
            }
        )

    routes = [
        Route("/predict", predict, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/info", info, methods=["GET"]),
    ]
    return Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own 4xx (unknown path, wrong method) as JSON too."""
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else "internal error"
    return JSONResponse({"error": detail}, status_code=status)


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadRequest(413, f"the body is over {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(413, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "the body is not JSON") from None


def _parse(body: Any) -> tuple[list[str], int, float]:
    if not isinstance(body, dict):
        raise BadRequest(422, 'give a JSON object: {"texts": ["..."], "k": 1, "threshold": 0.0}')
    unknown = set(body) - {"texts", "k", "threshold"}
    if unknown:
        raise BadRequest(422, f"unknown field {sorted(unknown)[0]!r}")
    texts = body.get("texts")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise BadRequest(422, '"texts" must be a list of strings')
    if len(texts) > MAX_TEXTS:
        raise BadRequest(413, f"at most {MAX_TEXTS} texts a request, got {len(texts)}")
    if any("\n" in t for t in texts):
        raise BadRequest(422, "a text must be one line (no newline)")
    k, threshold = body.get("k", 1), body.get("threshold", 0.0)
    if isinstance(k, bool) or not isinstance(k, int) or not (k >= 1 or k == -1):
        raise BadRequest(422, '"k" must be a positive integer or -1')
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or not 0.0 <= threshold <= 1.0
    ):
        raise BadRequest(422, '"threshold" must be a number between 0 and 1')
    return texts, k, float(threshold)
