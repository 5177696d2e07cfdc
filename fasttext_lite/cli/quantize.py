"""`ftl quantize`: a smaller model from a trained one (fastText's `quantize`)."""

from __future__ import annotations

import os
import sys

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import IN_PATH, PATH
from fasttext_lite.errors import ParameterError
from fasttext_lite.formats import container


@click.command()
@click.argument("model_path", metavar="MODEL", type=IN_PATH)
@click.option("-o", "--output", required=True, type=PATH, help="Where to write the small model.")
@click.option(
    "--cutoff", default=0, show_default=True, type=click.IntRange(min=0),
    help="Keep this many word and n-gram vectors, those of largest norm (0: all).",
)  # fmt: skip
@click.option("--retrain", is_flag=True, help="Retrain the kept vectors on --input.")
@click.option("--input", "corpus", type=IN_PATH, help="The training corpus, for --retrain.")
@click.option("--epoch", type=click.IntRange(min=1), help="Retraining passes [the model's].")
@click.option("--lr", type=float, help="Retraining learning rate [the model's].")
@click.option("--thread", type=click.IntRange(1, 256), help="Retraining worker processes.")
@click.option("--qnorm", is_flag=True, help="Quantize each vector's norm apart.")
@click.option("--qout", is_flag=True, help="Quantize the label vectors too (256+ labels).")
@click.option(
    "--dsub", default=2, show_default=True, type=click.IntRange(min=1),
    help="Numbers per quantized piece of a vector.",
)  # fmt: skip
@click.option(
    "--model-size", metavar="SIZE",
    help="Instead of --cutoff: the most vectors whose file fits in SIZE bytes (K, M, G: 1000s;"
    " e.g. 2M); a quantized MODEL only loses vectors.",
)  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--force", is_flag=True, help="Replace --output even if it is not a model.")
def quantize(
    model_path: str,
    output: str,
    cutoff: int,
    retrain: bool,
    corpus: str | None,
    epoch: int | None,
    lr: float | None,
    thread: int | None,
    qnorm: bool,
    qout: bool,
    dsub: int,
    model_size: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Write a smaller copy of MODEL: its vectors product-quantized (one byte per --dsub
    numbers), optionally only the --cutoff largest, or as many as fit in --model-size,
    retrained on --input.

    \b
    Example:
        ftl quantize model.ftl -o small.ftl --cutoff 100000 --retrain \\
            --input data.train --qnorm
    """
    if retrain and corpus is None:
        raise ParameterError("input", "--retrain needs the training corpus: give --input FILE")
    container.check_replaceable(
        output, inputs=(model_path, *([corpus] if corpus else [])), force=force
    )
    container.check_writable(output)
    clf = FastTextClassifier.load(model_path)
    clf.verbose = not quiet
    small = clf.quantize(
        cutoff=cutoff,
        retrain=corpus if retrain else None,
        epoch=epoch,
        lr=lr,
        thread=thread,
        qnorm=qnorm,
        qout=qout,
        dsub=dsub,
        model_size=model_size,
    )
    small.save(output)
    if not quiet:
        rows = small.model_.input.shape[0]
        size = f" ({os.path.getsize(output)} bytes)" if model_size is not None else ""
        print(f"wrote {output}: {rows} quantized vectors{size}", file=sys.stderr)
