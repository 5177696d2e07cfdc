"""`ftl train`: fit a classifier on a corpus and write the model."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import click

from fasttext_lite import autotune as tuning
from fasttext_lite import size_limit
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import (
    DEFAULT_MODEL,
    EXIT_INTERRUPTED,
    IN_PATH,
    PATH,
    echo,
    option_name,
    training_options,
)
from fasttext_lite.formats import container
from fasttext_lite.metrics import evaluate
from fasttext_lite.params import MODEL_PARAMS, notes
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
@click.option("--json", "as_json", is_flag=True, help="Print the training summary as JSON.")
@click.option(
    "--autotune", is_flag=True,
    help="Search the settings not given (a share of CORPUS held out to score them).",
)  # fmt: skip
@click.option(
    "--autotune-validation", type=IN_PATH,
    help="Search the settings not given, scoring them on these labelled lines.",
)  # fmt: skip
@click.option(
    "--autotune-duration", default=300.0, show_default=True, help="Seconds the search may take."
)
@click.option(
    "--autotune-metric", default="f1", show_default=True,
    help="f1, f1:LABEL, precisionAtRecall:R[:LABEL] or recallAtPrecision:P[:LABEL] (percent).",
)  # fmt: skip
@click.option(
    "--autotune-predictions", default=1, show_default=True, help="Labels a line, for the metric."
)
@click.option(
    "--autotune-trials", type=int, help="Stop after this many trials (the same for a seed)."
)
@click.option(
    "--autotune-model-size", metavar="SIZE",
    help="Keep only quantized models whose file fits in SIZE bytes (K, M, G: 1000s; e.g. 2M);"
    " the model written is quantized.",
)  # fmt: skip
@click.pass_context
def train(
    ctx: click.Context,
    /,
    corpus: str,
    output: str,
    quiet: bool,
    force: bool,
    as_json: bool,
    autotune: bool,
    autotune_validation: str | None,
    autotune_duration: float,
    autotune_metric: str,
    autotune_predictions: int,
    autotune_trials: int | None,
    autotune_model_size: str | None,
    **params: Any,
) -> None:
    """Train a classifier on CORPUS (fastText format; - for stdin) and write it to --output.

    Each line holds a text and its labels, tokens starting with __label__, anywhere on the
    line. Lines without a label are skipped. The model is written once, at the end, atomically:
    an interrupted or failed run writes nothing and leaves an earlier --output file as it was.

    With --autotune or --autotune-validation, the settings not given are searched for
    (fastText's autotune, both cores), and the best settings' model is written; Ctrl-C during
    the search writes the best model found so far. With --autotune-model-size, every model is
    quantized to fit the size, and so is the one written.

    \b
    Example:
        ftl train data/support.train -o support.ftl --epoch 25 --lr 0.5 --word-ngrams 2
    """
    # Before training, not after: a typo costs nothing, and data is never overwritten.
    container.check_writable(output)
    container.check_replaceable(output, inputs=(corpus,), force=force)
    verbose = not quiet and sys.stderr.isatty()
    budget = None
    if autotune_model_size is not None:
        if not (autotune or autotune_validation):
            raise click.UsageError(
                "--autotune-model-size needs --autotune or --autotune-validation (without a"
                " search, `ftl quantize --model-size` makes a model of a size)."
            )
        budget = size_limit.parse(autotune_model_size, "autotune_model_size")
    if autotune or autotune_validation:
        given = {n: v for n, v in params.items() if _given(ctx, n) and n != "seed"}
        search = tuning.autotune(
            corpus,
            validation=autotune_validation,
            duration=autotune_duration,
            metric=autotune_metric,
            predictions=autotune_predictions,
            trials=autotune_trials,
            seed=params["seed"],
            model_size=budget,
            on_trial=_trial_reporter(verbose, autotune_duration),
            **given,
        )
        clf = search.classifier
        assert clf is not None
        clf.save(output)
        record = _record(clf)
        if budget is not None:
            record["quantized"] = _quantized_record(clf, budget, output)
        if verbose or search.interrupted:
            best = search.best
            how = "interrupted; kept" if search.interrupted else "wrote"
            quantized = ""
            if budget is not None:
                q = record["quantized"]
                quantized = (
                    f"; quantized: {q['cutoff']} vectors, dsub {q['dsub']}, {q['size']} bytes"
                    f" (at most {budget})"
                )
            click.echo(
                f"Autotune: best of {len(search.trials)} trials, trial {best.number}"
                f" ({autotune_metric} {best.score:.4f}): {tuning.describe(best.settings)}"
                f"{quantized}; {how} {output}",
                err=True,
            )
        if as_json:
            echo(json.dumps(record))
        if search.interrupted:
            ctx.exit(EXIT_INTERRUPTED)
        return
    if params["init_model"]:  # the options not given are the old model's
        old = FastTextClassifier.load(params["init_model"], mmap=True).get_params()
        for name in list(params):
            if name in MODEL_PARAMS and not _given(ctx, name):
                params[name] = old[name]
    clf = FastTextClassifier(**params, verbose=verbose)
    if verbose:
        for note in notes(clf.get_params(), option_name):
            click.echo(f"Note: {note}.", err=True)
    clf.fit_file(corpus)
    clf.save(output)
    if as_json:
        echo(json.dumps(_record(clf)))
    if verbose:
        s = clf.summary_
        click.echo(
            f"Trained on {s.examples} of {s.lines} lines ({s.unlabelled} without a label skipped):"
            f" {s.words} words, {s.labels} labels, {s.tokens} tokens in {s.seconds:.1f} s;"
            f" wrote {output}",
            err=True,
        )
        if clf.init_model:
            click.echo(
                f"Fine-tuned {clf.init_model}: {s.added_words} new words and {s.added_labels}"
                " new labels",
                err=True,
            )
        if s.best_epoch is not None:
            kept = s.validation[s.best_epoch - 1]
            stopped = (
                f"; ended after {s.epochs} of {clf.epoch} epochs" if s.epochs < clf.epoch else ""
            )
            click.echo(
                f"Validation P@1 {kept['precision']:.4f} R@1 {kept['recall']:.4f}: the model of"
                f" epoch {s.best_epoch}{' (the best)' if clf.early_stop else ''}{stopped}",
                err=True,
            )
        hint = _guessing_hint(clf, corpus)
        if hint:
            click.echo(hint, err=True)


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def _record(clf: FastTextClassifier) -> dict[str, Any]:
    """The training summary and the settings, for --json."""
    settings = {name: getattr(clf, name) for name in MODEL_PARAMS}
    return {"settings": settings, **asdict(clf.summary_)}


def _quantized_record(clf: FastTextClassifier, budget: int, output: str) -> dict[str, Any]:
    """What --json says of a model quantized for --autotune-model-size: its file's size."""
    quantized = clf.model_.quantized
    assert quantized is not None
    return {
        "size": os.path.getsize(output),
        "model_size": budget,
        "cutoff": quantized.shape[0],
        "dsub": quantized.quantizer.dsub,
        "qnorm": quantized.norm_quantizer is not None,
        "qout": clf.model_.output_codes is not None,
    }


def _trial_reporter(
    verbose: bool, duration: float
) -> Callable[[tuning.Trial, tuning.Trial | None], None] | None:
    """Each trial and the best so far on stderr (on a terminal), with the time left."""
    if not verbose:
        return None
    started = time.monotonic()

    def report(trial: tuning.Trial, best: tuning.Trial | None) -> None:
        left = max(0.0, duration - (time.monotonic() - started))
        if trial.diverged:
            outcome = "diverged"
        elif trial.score is None:
            smallest = "" if trial.size is None else f": the smallest takes {trial.size} bytes"
            outcome = f"does not fit{smallest}"
        else:
            size = "" if trial.size is None else f", {trial.size} bytes"
            outcome = f"{trial.score:.4f}{size}"
        kept = "none fits yet" if best is None else f"best {best.score:.4f} (trial {best.number})"
        click.echo(
            f"trial {trial.number}: {outcome} ({tuning.describe(trial.settings)}) in"
            f" {trial.seconds:.1f} s; {kept}; {left:.0f} s left",
            err=True,
        )

    return report


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
