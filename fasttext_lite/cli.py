"""The `ftl` command: click commands over the Python API, and the only place that turns the
library's errors into one-line messages and exit codes."""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from fasttext_lite import __version__, serialization
from fasttext_lite.classifier import FastTextClassifier, Prediction, TopLabels, evaluate
from fasttext_lite.data import STDIN, display, encode_token, read_batches
from fasttext_lite.errors import FtlError, ParameterError
from fasttext_lite.losses import LOSSES
from fasttext_lite.metrics import Evaluation

DEFAULT_MODEL = "model.ftl"
EXIT_INTERRUPTED = 128 + signal.SIGINT  # what shells report for Ctrl-C
DEFAULTS = FastTextClassifier().get_params()

F = TypeVar("F", bound=Callable[..., Any])
# Paths are checked where they are opened, so that every file problem gets the same kind of
# message and exit status; click only names them in the help.
IN_PATH = click.Path(allow_dash=True, readable=False)
PATH = click.Path(readable=False)

# Library parameter names whose option is spelled differently.
_OPTION_NAMES = {"k": "-k", "lr": "--lr"}


def _option_name(parameter: str) -> str:
    return _OPTION_NAMES.get(parameter, "--" + parameter.replace("_", "-"))


class _Group(click.Group):
    """Turns library errors, usage errors, Ctrl-C and a closed stdout into one line each."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _short(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                # stderr carries errors only: numpy's overflow warnings before a divergence
                # error, say, would bury the one line that matters.
                warnings.simplefilter("ignore")
                return super().invoke(ctx)
        except click.UsageError as error:
            raise _short(error) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ParameterError as error:
            raise click.ClickException(
                f"invalid value for {_option_name(error.parameter)}: {error.detail}"
            ) from None
        except FtlError as error:
            raise click.ClickException(_one_line(str(error))) from None
        except KeyboardInterrupt:
            kept = (
                "; no model file was written or changed"
                if ctx.invoked_subcommand == "train"
                else ""
            )
            click.echo(f"Error: interrupted{kept}.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (`ftl predict | head -1`): stop quietly. Point stdout at
            # /dev/null so that Python's final flush does not complain again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except MemoryError:
            raise click.ClickException("out of memory; try a smaller --dim or --bucket") from None
        except Exception as error:  # a bug: still one line, with a way to see the traceback
            if os.environ.get("FTL_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error ({type(error).__name__}: {_one_line(str(error))}); please"
                " report it (FTL_DEBUG=1 shows the traceback)"
            ) from None


def _short(error: click.UsageError) -> click.UsageError:
    """click's usage error in one line, without the usage block (bare `ftl` still shows help)."""
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        return error
    command = error.ctx.command_path if error.ctx else "ftl"
    return click.UsageError(f"{error.format_message()} See '{command} --help'.")


def _echo(line: str) -> None:
    """Write a line of results as the bytes it came from: labels that are not valid UTF-8
    print back unchanged, whatever the terminal's encoding."""
    sys.stdout.buffer.write(encode_token(line) + b"\n")


def _one_line(message: str) -> str:
    return " ".join(message.split())


model_option = click.option(
    "-m", "--model", "model_path", default=DEFAULT_MODEL, envvar="FTL_MODEL", show_default=True,
    type=PATH, help="Model file (also settable with FTL_MODEL).",
)  # fmt: skip


def top_k_options(command: F) -> F:
    command = click.option(
        "--threshold", default=0.0, show_default=True, help="Drop labels below this probability."
    )(command)
    return click.option("-k", "k", default=1, show_default=True, help="Labels per line.")(command)


def _param(flag: str, help: str, choices: Iterable[str] = ()) -> Callable[[F], F]:  # noqa: A002
    """An option for the classifier's hyper-parameter of that name, with its default."""
    default = DEFAULTS[flag.lstrip("-").replace("-", "_")]
    kind = click.Choice(list(choices)) if choices else None
    return click.option(flag, default=default, type=kind, show_default=True, help=help)


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
@click.argument("corpus", type=IN_PATH)
@click.option(
    "-o", "--output", default=DEFAULT_MODEL, show_default=True, type=PATH,
    help="Where to write the model (atomically).",
)  # fmt: skip
@_param("--lr", "Learning rate.")
@_param("--epoch", "Passes over the data.")
@_param("--dim", "Embedding size.")
@_param("--word-ngrams", "Longest word n-gram (1 = words only).")
@_param("--bucket", "Hash slots for n-grams.")
@_param("--minn", "Shortest char n-gram.")
@_param("--maxn", "Longest char n-gram (0 = off).")
@_param("--min-count", "Drop words seen fewer times.")
@_param("--min-count-label", "Drop labels seen fewer times.")
@_param("--loss", "softmax (one label per line) or ova (one-vs-all, multi-label).", LOSSES)
@_param("--label-prefix", "Tokens starting with this are labels.")
@_param("--batch-size", "Lines per SGD step (1 = fastText's per-example SGD, 0 = automatic).")
@_param(
    "--thread", "Worker processes sharing the model (fastText's threads; >1 is not reproducible)."
)
@_param("--seed", "Random seed.")
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
    serialization.check_writable(output)  # before training, not after
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


def _format(predictions: list[Prediction], prefix: str, probs: bool, as_json: bool) -> str:
    # Probabilities rounded as fastText prints them (6 significant digits), never above 1.
    shown = [(p.label, float(f"{min(p.probability, 1.0):.6g}")) for p in predictions]
    if as_json:
        labels = [display(label) for label, _ in shown]
        return json.dumps({"labels": labels, "probabilities": [p for _, p in shown]})
    if probs:
        return " ".join(f"{prefix}{label} {p:g}" for label, p in shown)
    return " ".join(prefix + label for label, _ in shown)


@cli.command()
@click.argument("input_path", metavar="[INPUT]", default=STDIN, type=IN_PATH)
@model_option
@top_k_options
@click.option("--probs", is_flag=True, help="Print each label's probability after it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def predict(
    input_path: str, model_path: str, k: int, threshold: float, probs: bool, as_json: bool
) -> None:
    """Predict labels for each line of INPUT (default: stdin), one output line per input line.

    Empty input lines give empty output lines (with --json, an object with no labels). Each
    answer is written as soon as its line has arrived, so it works in a pipeline.

    \b
    Example:
        echo "my card was charged twice" | ftl predict -m support.ftl -k 2 --probs
    """
    clf = FastTextClassifier.load(model_path)
    clf.predict([], k=k, threshold=threshold)  # checks -k and --threshold before any input
    # Each label as printed, and b"" for the -1 of "no label".
    names = [*(encode_token(clf.label_prefix + label) for label in clf.classes_), b""]
    for top in clf.iter_top_labels(read_batches(input_path), k=k, threshold=threshold):
        sys.stdout.buffer.write(_format_block(top, clf, names, probs, as_json))
        sys.stdout.flush()


def _format_block(
    top: TopLabels, clf: FastTextClassifier, names: list[bytes], probs: bool, as_json: bool
) -> bytes:
    """The output lines for a batch of predictions, as the bytes the labels came from."""
    if probs or as_json:
        classes, prefix = clf.classes_, clf.label_prefix
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
@click.argument("test", type=IN_PATH)
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
    clf = FastTextClassifier.load(model_path)
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
            record["per_label"] = [{**vars(s), "label": display(s.label)} for s in result.per_label]
        click.echo(json.dumps(record))
        return
    for line in _metrics_lines(result, per_label, clf.label_prefix):
        _echo(line)


@cli.command()
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
    header = serialization.read_header(model_path)
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
        _echo(f"{key}\t{shown:.6g}" if isinstance(shown, float) else f"{key}\t{shown}")


def _terminated(signum: int, frame: object) -> None:
    # Unwind as for Ctrl-C, so that no temporary file outlives a `kill`.
    raise SystemExit(128 + signum)


def main() -> None:
    """The `ftl` console script."""
    signal.signal(signal.SIGTERM, _terminated)
    cli.main(prog_name="ftl")
