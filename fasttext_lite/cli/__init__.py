"""The `ftl` command line (see `cli.main`)."""

from fasttext_lite.cli.main import cli, main

__all__ = ["cli", "main"]
