"""The `ftl` command group, and the only place that turns the library's errors into one-line
messages and exit codes. Each command lives in its own module."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from typing import Any

import click

from fasttext_lite import __version__
from fasttext_lite.cli import habits
from fasttext_lite.cli.convert import convert
from fasttext_lite.cli.evaluate import eval_
from fasttext_lite.cli.explain import explain
from fasttext_lite.cli.info import info
from fasttext_lite.cli.options import EXIT_INTERRUPTED, option_name
from fasttext_lite.cli.predict import predict
from fasttext_lite.cli.quantize import quantize
from fasttext_lite.cli.serve import serve
from fasttext_lite.cli.train import train
from fasttext_lite.cli.vectors import neighbours, vectors
from fasttext_lite.errors import FtlError, ParameterError


class _Group(click.Group):
    """Turns library errors, usage errors, Ctrl-C and a closed stdout into one line each."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            if args and args[0] not in self.commands and args[0] in habits.COMMANDS:
                raise click.UsageError(habits.COMMANDS[args[0]], ctx)
            habits.check(args)
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _short(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                # stderr carries errors only: numpy's overflow warnings before a divergence
                # error, say, would bury the one line that matters.
                warnings.simplefilter("ignore")
                result = super().invoke(ctx)
                if sys.stdout is not None:
                    sys.stdout.flush()  # a full disk shows here, not at exit
                return result
        except click.UsageError as error:
            raise _short(error) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ParameterError as error:
            raise click.ClickException(
                f"invalid value for {option_name(error.parameter)}: {error.detail}"
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
        except OSError as error:
            if error.filename is not None:  # a file the library failed to map: a bug
                raise _internal(error) from None
            # Writing the results failed: a full disk, a closed or broken stdout. Nothing
            # more can be written there, and Python's own flush at exit must not try.
            with contextlib.suppress(OSError, AttributeError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.ClickException(
                f"cannot write the results ({error.strerror or error}); check where stdout goes"
            ) from None
        except MemoryError:
            raise click.ClickException("out of memory; try a smaller --dim or --bucket") from None
        except Exception as error:  # a bug: still one line, with a way to see the traceback
            raise _internal(error) from None


def _internal(error: Exception) -> click.ClickException:
    if os.environ.get("FTL_DEBUG"):
        raise error
    return click.ClickException(
        f"internal error ({type(error).__name__}: {_one_line(str(error))}); please"
        " report it (FTL_DEBUG=1 shows the traceback)"
    )


def _short(error: click.UsageError) -> click.UsageError:
    """click's usage error in one line, without the usage block (bare `ftl` still shows help)."""
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        return error
    command = error.ctx.command_path if error.ctx else "ftl"
    return click.UsageError(f"{error.format_message()} See '{command} --help'.")


def _one_line(message: str) -> str:
    return " ".join(message.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ftl")
def cli() -> None:
    """fastText-style text classification: train, predict, evaluate; vectors.

    \b
    Example:
        ftl train data/support.train -o model.ftl --epoch 25 --lr 0.5 --word-ngrams 2
        echo "where is my parcel" | ftl predict -m model.ftl
    """


for command in (
    train,
    predict,
    eval_,
    info,
    explain,
    vectors,
    neighbours,
    quantize,
    convert,
    serve,
):
    cli.add_command(command)


def _terminated(signum: int, frame: object) -> None:
    # Unwind as for Ctrl-C, so that no temporary file outlives a `kill`.
    raise SystemExit(128 + signum)


def main() -> None:
    """The `ftl` console script."""
    signal.signal(signal.SIGTERM, _terminated)
    cli.main(prog_name="ftl")
