"""`ftl train`: fit a classifier on a corpus and write the model."""

from __future__ import annotations

import sys
from typing import Any

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import DEFAULT_MODEL, IN_PATH, PATH, training_options
from fasttext_lite.formats import container


@click.command()
@click.argument("corpus", type=IN_PATH)
@click.option(
    "-o", "--output", default=DEFAULT_MODEL, show_default=True, type=PATH,
    help="Where to write the model (atomically).",
)  # fmt: skip
@training_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def train(corpus: str, output: str, quiet: bool, **params: Any) -> None:
    """Train a classifier on CORPUS (fastText format; - for stdin) and write it to --output.

    Each line holds a text and its labels, tokens starting with __label__, anywhere on the
    line. Lines without a label are skipped. The model is written once, at the end, atomically:
    an interrupted or failed run writes nothing and leaves an earlier --output file as it was.

    \b
    Example:
        ftl train data/support.train -o support.ftl --epoch 25 --lr 0.5 --word-ngrams 2
    """
    container.check_writable(output)  # before training, not after
    verbose = not quiet and sys.stderr.isatty()
    clf = FastTextClassifier(**params, verbose=verbose).fit_file(corpus)
    clf.save(output)
    if verbose:
        s = clf.summary_
        click.echo(
            f"Trained on {s.examples} of {s.lines} lines ({s.unlabelled} without a label skipped):"
            f" {s.words} words, {s.labels} labels, {s.tokens} tokens in {s.seconds:.1f} s;"
            f" wrote {output}",
            err=True,
        )
