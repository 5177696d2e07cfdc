"""`ftl info`: what a model file holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import DEFAULT_MODEL, PATH, echo
from fasttext_lite.formats import container
from fasttext_lite.text.tokens import display


@click.command()
@click.argument(
    "model_path", metavar="[MODEL]", default=DEFAULT_MODEL, envvar="FTL_MODEL", type=PATH
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model_path: str, as_json: bool) -> None:
    """Describe MODEL: format, hyper-parameters, vocabulary and labels.

    \b
    Example:
        ftl info support.ftl
    """
    clf = FastTextClassifier.load(model_path)
    header = container.read_header(model_path)
    record: dict[str, Any] = {
        "file": model_path,
        "file_bytes": Path(model_path).stat().st_size,
        "format_version": header["format_version"],
        "ftl_version": header.get("ftl_version"),
        **clf.get_params(),
        # fastText's rule: no n-grams, no bucket (see features.effective_bucket)
        "effective_bucket": clf.featurizer_.bucket,
        "words": len(clf.vocabulary_.words),
        "input_rows": int(clf.model_.input.shape[0]),
        "labels": [display(x) for x in clf.classes_],
        **{f"trained_{key}": value for key, value in vars(clf.summary_).items()},
    }
    if as_json:
        click.echo(json.dumps(record))
        return
    for key, value in record.items():
        shown = " ".join(clf.classes_) if key == "labels" else value
        echo(f"{key}\t{shown:.6g}" if isinstance(shown, float) else f"{key}\t{shown}")
