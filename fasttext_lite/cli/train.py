"""`ftl train`: fit a classifier on a corpus and write the model."""

from __future__ import annotations

import itertools
import sys
from typing import Any

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import (
    DEFAULT_MODEL,
    IN_PATH,
    PATH,
    option_name,
    training_options,
)
from fasttext_lite.formats import container
from fasttext_lite.metrics import evaluate
from fasttext_lite.params import notes
from fasttext_lite.text.lines import STDIN, read_lines


@click.command()
@click.argument("corpus", type=IN_PATH)
@click.option(
    "-o", "--output", default=DEFAULT_MODEL, show_default=True, type=PATH,
    help="Where to write the model (atomically).",
)  # fmt: skip
@training_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--force", is_flag=True, help="Replace --output even if it is not a model.")
def train(corpus: str, output: str, quiet: bool, force: bool, **params: Any) -> None:
    """Train a classifier on CORPUS (fastText format; - for stdin) and write it to --output.

    Each line holds a text and its labels, tokens starting with __label__, anywhere on the
    line. Lines without a label are skipped. The model is written once, at the end, atomically:
    an interrupted or failed run writes nothing and leaves an earlier --output file as it was.

    \b
    Example:
        ftl train data/support.train -o support.ftl --epoch 25 --lr 0.5 --word-ngrams 2
    """
    # Before training, not after: a typo costs nothing, and data is never overwritten.
    container.check_writable(output)
    container.check_replaceable(output, inputs=(corpus,), force=force)
    verbose = not quiet and sys.stderr.isatty()
    clf = FastTextClassifier(**params, verbose=verbose)
    if verbose:
        for note in notes(clf.get_params(), option_name):
            click.echo(f"Note: {note}.", err=True)
    clf.fit_file(corpus)
    clf.save(output)
    if verbose:
        s = clf.summary_
        click.echo(
            f"Trained on {s.examples} of {s.lines} lines ({s.unlabelled} without a label skipped):"
            f" {s.words} words, {s.labels} labels, {s.tokens} tokens in {s.seconds:.1f} s;"
            f" wrote {output}",
            err=True,
        )
        if s.best_epoch is not None:
            best = s.validation[s.best_epoch - 1]
            stopped = (
                f"; stopped after {s.epochs} of {clf.epoch} epochs" if s.epochs < clf.epoch else ""
            )
            click.echo(
                f"Validation P@1 {best['precision']:.4f} R@1 {best['recall']:.4f}: the model of"
                f" epoch {s.best_epoch}{' (the best)' if clf.early_stop else ''}{stopped}",
                err=True,
            )
        hint = _guessing_hint(clf, corpus)
        if hint:
            click.echo(hint, err=True)


# Lines of the training file the summary checks the model on, and the margin of P@1 over
# always answering the most frequent label that counts as having learned something.
_CHECKED_LINES = 10_000
_LEARNED = 0.1


def _guessing_hint(clf: FastTextClassifier, corpus: str) -> str | None:
    """A warning when the model does little better on (the start of) its own training data
    than always answering its most frequent label: it has not learned yet."""
    if corpus == STDIN or not clf.summary_.examples:
        return None
    precision = evaluate(clf, itertools.islice(read_lines(corpus), _CHECKED_LINES)).precision
    guessing = max(clf.vocabulary_.label_counts) / clf.summary_.examples
    if precision >= guessing + _LEARNED:
        return None
    return (
        f"Warning: on its own training data the model scores P@1 {precision:.3f}, about what"
        f" always answering the most frequent label gets ({guessing:.3f}); train longer or"
        " faster, e.g. --epoch 25 --lr 0.5"
    )
