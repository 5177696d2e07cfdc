"""The README shows what the code prints: every `$ ` line in a ```console block is run, in order,
from a directory that sees the repository's `data/`, and must print exactly the lines shown
under it; every ```pycon block runs as a doctest there. Models are trained by the README's own
commands, so a change that moves any shown number fails here until the README is updated."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# The console scripts of pyproject.toml, made for this interpreter, so the commands run the
# code under test whether or not (and wherever) the package is installed.
SCRIPTS = {"ftl": "fasttext_lite.cli", "fasttext-compat": "fasttext_lite.compat.cli"}


class Block(NamedTuple):
    kind: str  # the fence's language: "console" or "pycon"
    line: int  # README line number of the block's first line
    lines: list[str]  # its lines, without the fence's indentation


class Example(NamedTuple):
    line: int  # README line number of the `$ ` line
    command: str
    shown: str  # the lines under it, up to the next `$ ` line or the block's end


def blocks(text: str, kinds: tuple[str, ...]) -> Iterator[Block]:
    """The fenced blocks of `text` in these languages (indented ones in lists included)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        indent = len(lines[i]) - len(stripped)
        if stripped.startswith("```") and stripped[3:].strip() in kinds:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            body = [line[indent:] for line in lines[i + 1 : end]]
            yield Block(stripped[3:].strip(), i + 2, body)
            i = end
        i += 1


def console_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    for block in blocks(text, ("console",)):
        assert block.lines and block.lines[0].startswith("$ "), (
            f"README.md:{block.line}: a console block starts with a `$ ` line"
        )
        for offset, line in enumerate(block.lines):
            if line.startswith("$ "):
                examples.append(Example(block.line + offset, line[2:], ""))
            else:
                last = examples[-1]
                examples[-1] = last._replace(shown=last.shown + line + "\n")
    return examples


TEXT = README.read_text(encoding="utf-8")
EXAMPLES = console_examples(TEXT)
PYCON = list(blocks(TEXT, ("pycon",)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty directory with the repository's `data/`, where the README's commands run."""
    work = tmp_path_factory.mktemp("readme")
    (work / "data").symlink_to(ROOT / "data", target_is_directory=True)
    return work


@pytest.fixture(scope="module")
def printed(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """What each README command prints (stdout, then stderr), run in README order."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for name, module in SCRIPTS.items():
        script = bin_dir / name
        script.write_text(
            f"#!{sys.executable}\nimport sys\nfrom {module} import main\nsys.exit(main())\n"
        )
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "FTL_MODEL"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    outputs = []
    for example in EXAMPLES:
        done = subprocess.run(
            ["bash", "-c", example.command],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=120,
        )
        outputs.append((done.stdout + done.stderr).decode("utf-8", "surrogateescape"))
    return outputs


def test_the_readme_shows_the_commands_it_documents() -> None:
    commands = [e.command for e in EXAMPLES]
    assert any(c.startswith("ftl train data/support.train") for c in commands)
    for command in ("ftl eval", "ftl predict", "ftl explain"):
        assert any(command in c for c in commands), command
    assert PYCON, "the Python API example is a ```pycon block"


@pytest.mark.parametrize(
    "index", range(len(EXAMPLES)), ids=[f"line {e.line}: {e.command}" for e in EXAMPLES]
)
def test_a_shown_output_is_what_the_command_prints(index: int, printed: list[str]) -> None:
    example = EXAMPLES[index]
    assert printed[index] == example.shown, f"README.md:{example.line}: $ {example.command}"


@pytest.mark.parametrize("block", PYCON, ids=[f"line {b.line}" for b in PYCON])
def test_a_python_example_prints_what_it_shows(
    block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    test = doctest.DocTestParser().get_doctest(
        "\n".join(block.lines) + "\n", {}, f"README.md:{block.line}", str(README), block.line - 1
    )
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures, tried = runner.run(test, out=report.append)
    assert tried and not failures, "".join(report)
