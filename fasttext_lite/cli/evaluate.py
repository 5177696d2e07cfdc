"""`ftl eval`: fastText's `test` (N, P@k, R@k) on labelled lines, with F1 and per-label scores,
and optionally the evaluation report as an HTML page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import (
    IN_PATH,
    PATH,
    echo,
    model_option,
    thread_option,
    top_k_options,
)
from fasttext_lite.metrics import Evaluation, evaluate
from fasttext_lite.report import evaluate_report, page


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
@click.option(
    "--report",
    "report_path",
    type=PATH,
    help="Also write the evaluation report, one self-contained HTML page, to this file.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (with --report: all of it)."
)
@thread_option
def eval_(
    test: str,
    model_path: str,
    k: int,
    threshold: float,
    per_label: bool,
    report_path: str | None,
    as_json: bool,
    thread: int,
) -> None:
    """Evaluate on labelled lines in TEST (- for stdin): N, P@k, R@k, F1 as fastText's `test`.

    Lines with no label known to the model are skipped. On single-label data P@1 equals R@1.
    --report also writes a page with macro and weighted scores, a sortable per-label table,
    the most confused labels, P@k and R@k for k = 1..5, a precision-recall curve and a
    reliability diagram.

    \b
    Example:
        ftl eval data/support.valid -m support.ftl -k 1 --per-label
        ftl eval data/support.valid -m support.ftl --report report.html
    """
    if report_path is not None:
        page.check_path(report_path, inputs=(test, model_path))
    clf = FastTextClassifier.load(model_path, mmap=thread > 1)
    record: dict[str, Any]
    if report_path is not None:
        report = evaluate_report(clf, test, k=k, threshold=threshold, threads=thread)
        page.write_html(report, report_path, model=model_path, test=test)
        click.echo(f"Wrote the report to {report_path}", err=True)
        result = report.evaluation
        record = report.as_dict()
    else:
        result = evaluate(clf, test, k=k, threshold=threshold, threads=thread)
        record = result.summary()
        if per_label:
            record["per_label"] = [vars(s) for s in result.per_label]
    if as_json:
        echo(json.dumps(record))
        return
    for line in _metrics_lines(result, per_label, clf.label_prefix):
        echo(line)
