"""`ftl info`: what a model file holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fasttext_lite import params
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import DEFAULT_MODEL, PATH, echo
from fasttext_lite.formats import container, fasttext_bin

# Labels and words named in the summary, most frequent first.
_SHOWN = 10


@click.command()
@click.argument(
    "model_path", metavar="[MODEL]", default=DEFAULT_MODEL, envvar="FTL_MODEL", type=PATH
)
@click.option("--labels", "list_labels", is_flag=True, help="List every label and its count.")
@click.option("--words", "list_words", is_flag=True, help="List every word and its count.")
@click.option("--top-words", "top_label", help="List the words scoring highest for this label.")
@click.option("-n", "count", default=20, show_default=True, help="Words for --top-words.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (all labels).")
def info(
    model_path: str,
    list_labels: bool,
    list_words: bool,
    top_label: str | None,
    count: int,
    as_json: bool,
) -> None:
    """Describe MODEL: file, hyper-parameters, vocabulary and labels.

    With --labels or --words, print those (one per line, tab, count) instead.

    \b
    Example:
        ftl info support.ftl
        ftl info support.ftl --labels | head
        ftl info support.ftl --top-words billing -n 5
    """
    clf = FastTextClassifier.load(model_path)
    vocab = clf.vocabulary_
    prefix = clf.label_prefix
    if top_label is not None:
        name = top_label.removeprefix(prefix)
        label = clf.classes_[vocab.label_ids[name]] if name in vocab.label_ids else top_label
        for word, score in clf.top_words(label, n=count):
            echo(f"{word}\t{score:.6g}")
        return
    if list_labels or list_words:
        if list_labels:
            for label, count in zip(vocab.labels, vocab.label_counts, strict=True):
                echo(f"{prefix}{label}\t{count}")
        if list_words:
            for word, count in zip(vocab.words, vocab.word_counts, strict=True):
                echo(f"{word}\t{count}")
        return
    if container.is_fasttext(model_path):
        found = fasttext_bin.read(model_path)
        kind = "quantized fastText .ftz" if found.quantized else "fastText .bin"
        header = {"format_version": f"{found.version} ({kind})", "ftl_version": None}
    else:
        header = container.read_header(model_path)
    stored = {name: getattr(clf, name) for name in params.MODEL_PARAMS}
    summary = {f"trained_{k}": v for k, v in vars(clf.summary_).items() if v not in (None, [])}
    if as_json:
        record: dict[str, Any] = {
            "file": model_path,
            "file_bytes": Path(model_path).stat().st_size,
            "format_version": header["format_version"],
            "ftl_version": header.get("ftl_version"),
            **stored,
            # fastText's rule: without n-grams no bucket is used (features.effective_bucket)
            "bucket_used": clf.featurizer_.bucket,
            "words": len(vocab.words),
            "input_rows": int(clf.model_.input.shape[0]),
            "quantization": header.get("quantization"),
            "labels": vocab.labels,
            "label_counts": vocab.label_counts,
            **summary,
        }
        echo(json.dumps(record))
        return
    lines = {
        "file": f"{model_path} ({Path(model_path).stat().st_size} bytes, "
        + (
            f"ftl model format {header['format_version']}, written by ftl"
            f" {header.get('ftl_version')})"
            if header.get("ftl_version")
            else f"file format {header['format_version']})"
        ),
        **{name: str(value) for name, value in stored.items()},
        "words": f"{len(vocab.words)} ({_most_frequent(vocab.words, vocab.word_counts)})",
        "labels": f"{len(vocab.labels)} ("
        + _most_frequent([prefix + x for x in vocab.labels], vocab.label_counts)
        + ")",
        "input_rows": f"{clf.model_.input.shape[0]} (words and n-grams seen in training)",
        **{key: str(value) for key, value in summary.items() if key != "trained_validation"},
    }
    quantization: Any = header.get("quantization")
    if quantization:  # an ftl model made by `ftl quantize`
        lines["quantization"] = " ".join(f"{k}={v}" for k, v in quantization.items()) + (
            " pruned" if header.get("pruned") else ""
        )
    if clf.summary_.validation:  # one "epoch:P@1" pair per epoch
        lines["trained_validation"] = " ".join(
            f"{e['epoch']}:{e['precision']:.4f}" for e in clf.summary_.validation
        )
    if clf.featurizer_.bucket != clf.bucket:
        lines["bucket"] += " (unused: no word or char n-grams, as in fastText)"
    for key, value in lines.items():
        echo(f"{key}\t{value}")


def _most_frequent(names: list[str], counts: list[int]) -> str:
    """The first names with their counts (they are ordered by count already)."""
    shown = ", ".join(f"{n} {c}" for n, c in zip(names[:_SHOWN], counts[:_SHOWN], strict=False))
    more = len(names) - _SHOWN
    return f"most frequent: {shown}" + (f", ... {more} more" if more > 0 else "")
