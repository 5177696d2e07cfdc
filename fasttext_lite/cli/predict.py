"""`ftl predict`: the top labels of each input line, one output line per input line."""

from __future__ import annotations

import json

import click

from fasttext_lite import parallel
from fasttext_lite.classifier import FastTextClassifier, Prediction
from fasttext_lite.cli.options import (
    IN_PATH,
    model_option,
    stdout,
    thread_option,
    top_k_options,
)
from fasttext_lite.losses import TopLabels
from fasttext_lite.text.lines import STDIN, line_spans, read_blocks, split_block
from fasttext_lite.text.tokens import encode_token

# A worker reads a file in spans of about this many bytes: enough to pay for the round trip,
# few enough output lines to hold at once.
_SPAN_BYTES = 2 << 20


def _format(predictions: list[Prediction], prefix: str, probs: bool, as_json: bool) -> str:
    # Probabilities rounded as fastText prints them (6 significant digits), never above 1.
    shown = [(p.label, float(f"{min(p.probability, 1.0):.6g}")) for p in predictions]
    if as_json:
        labels = [label for label, _ in shown]
        return json.dumps({"labels": labels, "probabilities": [p for _, p in shown]})
    if probs:
        return " ".join(f"{prefix}{label} {p:g}" for label, p in shown)
    return " ".join(prefix + label for label, _ in shown)


@click.command()
@click.argument("input_path", metavar="[INPUT]", default=STDIN, type=IN_PATH)
@model_option
@top_k_options
@click.option("--probs", is_flag=True, help="Print each label's probability after it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@thread_option
def predict(
    input_path: str,
    model_path: str,
    k: int,
    threshold: float,
    probs: bool,
    as_json: bool,
    thread: int,
) -> None:
    """Predict labels for each line of INPUT (default: stdin), one output line per input line.

    Empty input lines give empty output lines (with --json, an object with no labels). Each
    answer is written as soon as its line has arrived, so it works in a pipeline. --thread N
    predicts in N processes sharing the model; the output keeps the input's order.

    \b
    Example:
        echo "my card was charged twice" | ftl predict -m support.ftl -k 2 --probs
    """
    out = stdout()
    clf = FastTextClassifier.load(model_path, mmap=thread > 1)
    clf.top_k([], k=k, threshold=threshold)  # checks -k and --threshold before any input
    # Each label as printed, and b"" for the -1 of "no label".
    names = [*(encode_token(clf.label_prefix + label) for label in clf.vocabulary_.labels), b""]
    predictor = clf.predictor()

    def answers(block: bytes) -> bytes:
        # Split, predicted and formatted in the workers: the parent only reads and writes.
        top = predictor.top_labels_of(split_block(block), k, threshold)
        return _format_block(top, clf, names, probs, as_json)

    def span_answers(span: tuple[int, int]) -> bytes:
        return b"".join(answers(block) for block in read_blocks(input_path, span=span))

    # A file is read by the workers themselves, a span each: the parent, which shares the
    # cores with them, then only writes (reading and passing on 10^6 lines kept 2 workers
    # at 1.66x of one). stdin or a pipe is read by the parent, a block at a time.
    spans = line_spans(input_path, 4 * thread, most_bytes=_SPAN_BYTES) if thread > 1 else None
    blocks = (
        parallel.ordered_map(answers, read_blocks(input_path), thread)
        if spans is None
        else parallel.ordered_map(span_answers, spans, thread)
    )
    for block in blocks:
        out.write(block)
        out.flush()


def _format_block(
    top: TopLabels, clf: FastTextClassifier, names: list[bytes], probs: bool, as_json: bool
) -> bytes:
    """The output lines for a batch of predictions, as the bytes the labels came from."""
    if probs or as_json:
        classes, prefix = clf.vocabulary_.labels, clf.label_prefix
        lines = [
            _format(
                [Prediction(classes[i], p) for i, p in zip(ids, row, strict=True) if i >= 0],
                prefix,
                probs,
                as_json,
            )
            + "\n"
            for ids, row in zip(top.ids.tolist(), top.probabilities.tolist(), strict=True)
        ]
        return encode_token("".join(lines))
    # Labels only, the common case: no Python step per label, only per line.
    if top.ids.shape[1] == 1:
        picked = list(map(names.__getitem__, top.ids[:, 0].tolist()))
        return b"\n".join(picked) + b"\n" if picked else b""
    return b"".join(
        b" ".join([names[i] for i in ids if i >= 0]) + b"\n" for ids in top.ids.tolist()
    )
