"""The `ftl` command: click commands over the Python API, and the only place that turns the
library's errors into one-line messages and exit codes."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from fasttext_lite import __version__
from fasttext_lite.classifier import FastTextClassifier, Prediction, evaluate
from fasttext_lite.data import STDIN, display, encode_token, read_lines
from fasttext_lite.errors import FtlError, ParameterError
from fasttext_lite.losses import LOSSES
from fasttext_lite.metrics import Evaluation

DEFAULT_MODEL = "model.ftl"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
DEFAULTS = FastTextClassifier().get_params()

F = TypeVar("F", bound=Callable[..., Any])

# Library parameter names whose option is spelled differently.
_OPTION_NAMES = {"k": "-k", "lr": "--lr"}


def _option_name(parameter: str) -> str:
    return _OPTION_NAMES.get(parameter, "--" + parameter.replace("_", "-"))


class _Group(click.Group):
    """Translates library errors, Ctrl-C and a closed stdout for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ParameterError as error:
            raise click.ClickException(
                f"invalid value for {_option_name(error.parameter)}: {error.detail}"
            ) from None
        except FtlError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing was written.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (`ftl predict | head -1`): stop quietly. Point stdout at
            # /dev/null so that Python's final flush does not complain again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def model_option(command: F) -> F:
    return click.option(
        "-m",
        "--model",
        "model_path",
        default=DEFAULT_MODEL,
        envvar="FTL_MODEL",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="Model file (also settable with FTL_MODEL).",
    )(command)


def top_k_options(command: F) -> F:
    command = click.option(
        "--threshold", default=0.0, show_default=True, help="Drop labels below this probability."
    )(command)
    return click.option("-k", "k", default=1, show_default=True, help="Labels per line.")(command)


def _load(model_path: str) -> FastTextClassifier:
    return FastTextClassifier.load(model_path)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ftl")
def cli() -> None:
    """fastText-style text classification: train, predict, evaluate.

    \b
    Example:
        ftl train data/support.train -o model.ftl
        echo "where is my parcel" | ftl predict -m model.ftl
    """


@cli.command()
@click.argument("corpus", type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "-o", "--output", default=DEFAULT_MODEL, show_default=True, type=click.Path(dir_okay=False),
    help="Where to write the model (atomically).",
)  # fmt: skip
@click.option("--lr", default=DEFAULTS["lr"], show_default=True, help="Learning rate.")
@click.option("--epoch", default=DEFAULTS["epoch"], show_default=True, help="Passes over the data.")
@click.option("--dim", default=DEFAULTS["dim"], show_default=True, help="Embedding size.")
@click.option(
    "--word-ngrams", default=DEFAULTS["word_ngrams"], show_default=True,
    help="Longest word n-gram (1 = words only).",
)  # fmt: skip
@click.option(
    "--bucket", default=DEFAULTS["bucket"], show_default=True, help="Hash slots for n-grams."
)
@click.option("--minn", default=DEFAULTS["minn"], show_default=True, help="Shortest char n-gram.")
@click.option(
    "--maxn", default=DEFAULTS["maxn"], show_default=True, help="Longest char n-gram (0 = off)."
)
@click.option(
    "--min-count", default=DEFAULTS["min_count"], show_default=True,
    help="Drop words seen fewer times.",
)  # fmt: skip
@click.option(
    "--min-count-label", default=DEFAULTS["min_count_label"], show_default=True,
    help="Drop labels seen fewer times.",
)  # fmt: skip
@click.option(
    "--loss", type=click.Choice(list(LOSSES)), default=DEFAULTS["loss"], show_default=True,
    help="softmax (one label per line) or ova (one-vs-all, multi-label).",
)  # fmt: skip
@click.option(
    "--label-prefix", default=DEFAULTS["label_prefix"], show_default=True,
    help="Tokens starting with this are labels.",
)  # fmt: skip
@click.option(
    "--batch-size", default=DEFAULTS["batch_size"], show_default=True,
    help="Lines per SGD step (1 = fastText's per-example SGD).",
)  # fmt: skip
@click.option("--seed", default=DEFAULTS["seed"], show_default=True, help="Random seed.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def train(corpus: str, output: str, quiet: bool, **params: Any) -> None:
    """Train a classifier on CORPUS (fastText format; - for stdin) and write it to --output.

    Each line holds a text and its labels, tokens starting with __label__, anywhere on the
    line. Lines without a label are skipped.

    \b
    Example:
        ftl train data/support.train -o support.ftl --epoch 25 --lr 0.5 --word-ngrams 2
    """
    verbose = _show_progress(quiet)
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


def _format(predictions: list[Prediction], prefix: str, probs: bool, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {
                "labels": [display(p.label) for p in predictions],
                "probabilities": [p.probability for p in predictions],
            }
        )
    if probs:
        return " ".join(f"{prefix}{p.label} {p.probability:.6g}" for p in predictions)
    return " ".join(prefix + p.label for p in predictions)


@cli.command()
@click.argument("input_path", metavar="[INPUT]", default=STDIN, type=click.Path(allow_dash=True))
@model_option
@top_k_options
@click.option("--probs", is_flag=True, help="Print each label's probability after it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def predict(
    input_path: str, model_path: str, k: int, threshold: float, probs: bool, as_json: bool
) -> None:
    """Predict labels for each line of INPUT (default: stdin), one output line per input line.

    Empty input lines give empty output lines.

    \b
    Example:
        echo "my card was charged twice" | ftl predict -m support.ftl -k 2 --probs
    """
    clf = _load(model_path)
    interactive = input_path == STDIN and sys.stdin.isatty()
    out = sys.stdout.buffer
    for predictions in clf.iter_predict(read_lines(input_path), k=k, threshold=threshold):
        out.write(encode_token(_format(predictions, clf.label_prefix, probs, as_json)) + b"\n")
        if interactive:
            out.flush()
    out.flush()


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


@cli.command(name="eval")
@click.argument("test", type=click.Path(allow_dash=True))
@model_option
@top_k_options
@click.option("--per-label", is_flag=True, help="Also precision, recall, F1, support per label.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_(
    test: str, model_path: str, k: int, threshold: float, per_label: bool, as_json: bool
) -> None:
    """Evaluate on labelled lines in TEST (- for stdin): N, P@k, R@k, F1 as fastText's `test`.

    Lines with no label known to the model are skipped. On single-label data P@1 equals R@1.

    \b
    Example:
        ftl eval data/support.valid -m support.ftl -k 1 --per-label
    """
    clf = _load(model_path)
    result = evaluate(clf, test, k=k, threshold=threshold)
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
            record["per_label"] = [
                {**vars(s), "label": display(s.label)} for s in result.per_label
            ]
        click.echo(json.dumps(record))
        return
    for line in _metrics_lines(result, per_label, clf.label_prefix):
        click.echo(line)


@cli.command()
@click.argument("model_path", metavar="[MODEL]", default=DEFAULT_MODEL, envvar="FTL_MODEL")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model_path: str, as_json: bool) -> None:
    """Describe MODEL: format, hyper-parameters, vocabulary and labels.

    \b
    Example:
        ftl info support.ftl
    """
    from fasttext_lite.serialization import FORMAT_VERSION

    clf = _load(model_path)
    record: dict[str, Any] = {
        "file": model_path,
        "format_version": FORMAT_VERSION,
        "ftl_version": __version__,
        **clf.get_params(),
        "words": len(clf.vocabulary_.words),
        "input_rows": int(clf.model_.input.shape[0]),
        "labels": [display(x) for x in clf.classes_],
        "trained_on": vars(clf.summary_),
        "file_bytes": Path(model_path).stat().st_size,
    }
    if as_json:
        click.echo(json.dumps(record))
        return
    for key, value in record.items():
        shown = " ".join(value) if key == "labels" else value
        click.echo(f"{key}\t{shown}")


main = functools.partial(cli.main, prog_name="ftl")
