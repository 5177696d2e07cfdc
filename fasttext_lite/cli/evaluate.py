"""`ftl eval`: fastText's `test` (N, P@k, R@k) on labelled lines, with F1 and per-label scores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import IN_PATH, echo, model_option, thread_option, top_k_options
from fasttext_lite.metrics import Evaluation, evaluate


def _metrics_lines(result: Evaluation, per_label: bool, prefix: str) -> Iterator[str]:
    k = result.k
    yield f"N\t{result.examples}"
    yield f"P@{k}\t{result.precision:.3f}"
    yield f"R@{k}\t{result.recall:.3f}"
    yield f"F1@{k}\t{result.f1:.3f}"
    if per_label:
        yield ""
        yield "label\tprecision\trecall\tf1\tsupport"
        for s in result.per_label:
            yield f"{prefix}{s.label}\t{s.precision:.3f}\t{s.recall:.3f}\t{s.f1:.3f}\t{s.support}"


@click.command(name="eval")
@click.argument("test", type=IN_PATH)
@model_option
@top_k_options
@click.option("--per-label", is_flag=True, help="Also precision, recall, F1, support per label.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@thread_option
def eval_(
    test: str,
    model_path: str,
    k: int,
    threshold: float,
    per_label: bool,
    as_json: bool,
    thread: int,
) -> None:
    """Evaluate on labelled lines in TEST (- for stdin): N, P@k, R@k, F1 as fastText's `test`.

    Lines with no label known to the model are skipped. On single-label data P@1 equals R@1.

    \b
    Example:
        ftl eval data/support.valid -m support.ftl -k 1 --per-label
    """
    clf = FastTextClassifier.load(model_path, mmap=thread > 1)
    result = evaluate(clf, test, k=k, threshold=threshold, threads=thread)
    if as_json:
        record: dict[str, Any] = {
            "n": result.examples,
            "k": result.k,
            "threshold": result.threshold,
            "precision": result.precision,
            "recall": result.recall,
            "f1": result.f1,
        }
        if per_label:
            record["per_label"] = [vars(s) for s in result.per_label]
        echo(json.dumps(record))
        return
    for line in _metrics_lines(result, per_label, clf.label_prefix):
        echo(line)
