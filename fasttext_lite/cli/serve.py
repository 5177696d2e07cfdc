"""`ftl serve`: predictions over HTTP (the `serve` extra: Starlette and Uvicorn)."""

from __future__ import annotations

import os

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import model_option


@click.command()
@model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="Server processes (they share the memory-mapped model).",
)  # fmt: skip
def serve(model_path: str, host: str, port: int, workers: int) -> None:
    """Serve predictions over HTTP: POST /predict {"texts": [...], "k": 1, "threshold": 0.0},
    GET /health, GET /info. Needs the serve extra: pip install 'fasttext_lite[serve]'.

    \b
    Example:
        ftl serve -m support.ftl --port 8000 &
        curl -s localhost:8000/predict -d '{"texts": ["where is my parcel"]}'
    """
    try:
        import uvicorn
    except ImportError:
        raise click.ClickException(
            "ftl serve needs the serve extra: pip install 'fasttext_lite[serve]'"
        ) from None
    from fasttext_lite.integrations import serve as service

    FastTextClassifier.load(model_path)  # a bad model is one line here, not a worker's traceback
    os.environ[service.MODEL_VARIABLE] = os.path.abspath(model_path)
    uvicorn.run(
        "fasttext_lite.integrations.serve:create_app",
        factory=True,
        http="fasttext_lite.integrations.serve:NoDelayHTTP",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
