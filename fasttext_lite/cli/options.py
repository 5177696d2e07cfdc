"""What the commands share: option decorators built from the parameter schema, and output."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import click

from fasttext_lite import params
from fasttext_lite.text.tokens import encode_token

EXIT_INTERRUPTED = 128 + signal.SIGINT  # what shells report for Ctrl-C

DEFAULT_MODEL = "model.ftl"
F = TypeVar("F", bound=Callable[..., Any])
# Paths are checked where they are opened, so that every file problem gets the same kind of
# message and exit status; click only names them in the help.
IN_PATH = click.Path(allow_dash=True, readable=False)
PATH = click.Path(readable=False)

# Parameters that are not `ftl train` options: verbose is the absence of --quiet.
_NOT_OPTIONS = {"verbose"}


def option_name(parameter: str) -> str:
    """The option a library parameter name is given with (`k` is `-k`)."""
    return "-k" if parameter == "k" else "--" + parameter.replace("_", "-")


def training_options(command: F) -> F:
    """An option for each hyper-parameter, with its default and help from `params`."""
    for param in reversed(params.PARAMS):
        if param.name in _NOT_OPTIONS:
            continue
        kind: Any = click.Choice(list(param.choices)) if param.choices else None
        if param.path:
            kind = click.Path(dir_okay=False)
        command = click.option(
            param.option,
            default=param.default,
            type=kind,
            show_default=not param.path,
            help=param.help,
        )(command)
    return command


model_option = click.option(
    "-m", "--model", "model_path", default=DEFAULT_MODEL, envvar="FTL_MODEL", show_default=True,
    type=PATH, help="Model file (also settable with FTL_MODEL).",
)  # fmt: skip


def top_k_options(command: F) -> F:
    command = click.option(
        "--threshold", default=0.0, show_default=True, help="Drop labels below this probability."
    )(command)
    return click.option("-k", "k", default=1, show_default=True, help="Labels per line.")(command)


def stdout() -> BinaryIO:
    """Where results go; a one-line error if the process was started with stdout closed."""
    if sys.stdout is None:
        raise click.ClickException("stdout is closed; send the results to a file instead")
    return sys.stdout.buffer


thread_option = click.option(
    "--thread", default=1, show_default=True, type=click.IntRange(1, 256),
    help="Worker processes sharing the model (output order is kept).",
)  # fmt: skip


def echo(line: str) -> None:
    """Write a line of results as the bytes it came from: labels that are not valid UTF-8
    print back unchanged, whatever the terminal's encoding."""
    stdout().write(encode_token(line) + b"\n")
