"""The docs stay true: every command has help with an example, and the README shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fasttext_lite.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = sorted(cli.commands)


def test_the_commands_are_the_documented_ones() -> None:
    assert COMMANDS == [
        "convert",
        "eval",
        "explain",
        "info",
        "neighbours",
        "predict",
        "quantize",
        "serve",
        "train",
        "vectors",
    ]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help_with_an_example(command: str, flag: str) -> None:
    result = CliRunner().invoke(cli, [command, flag], prog_name="ftl")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: ftl {command} ")
    example = result.stdout.split("Example:", 1)[1]
    assert f"ftl {command}" in example.split("Options:")[0]


def test_the_group_has_help_with_an_example() -> None:
    for flag in ("--help", "-h"):
        result = CliRunner().invoke(cli, [flag], prog_name="ftl")
        assert result.exit_code == 0 and "Example:" in result.stdout
        for command in COMMANDS:
            assert f"  {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_appears_in_the_readme(command: str) -> None:
    assert README.exists(), "README.md is missing"
    assert f"ftl {command}" in README.read_text(encoding="utf-8")
