"""Helpers more than one test module uses: running the CLI, reading bags and scans back as
lists, the type of conftest's `rewrite_header` fixture, and finite differences."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from click.testing import CliRunner, Result
from reference import Example

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.cli import cli
from fasttext_lite.text.scan import Scan, TokenTable

# `ftl` as a subprocess: where a real stdin, pipe, exit status, signal or terminal matters.
FTL = [sys.executable, "-m", "fasttext_lite"]

# conftest's `rewrite_header`: (source model, destination, edit of the JSON header) -> destination.
RewriteHeader = Callable[[Path, Path, Callable[[dict[str, Any]], None]], Path]


def run(*args: str | Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    """`ftl` in this process, through click's CliRunner (stdout and stderr kept apart)."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, env=env, prog_name="ftl")


def as_lists(bags: Bags) -> list[list[int]]:
    """The ids of each line."""
    return [bags.indices[a:b].tolist() for a, b in zip(bags.indptr, bags.indptr[1:], strict=False)]


def scanned(lines: Sequence[bytes], label_prefix: bytes = b"__label__") -> list[Example]:
    """Each line's words and labels as the package's `Scan` (training's reader) finds them."""
    scan = Scan(label_prefix)
    scan.add_lines(lines)
    return examples_of(scan)


def examples_of(scan: Scan) -> list[Example]:
    """Each line scanned: its words (ending with `</s>`) and its labels."""
    words, labels = _lines_of(scan.words), _lines_of(scan.labels)
    return [Example(w, x) for w, x in zip(words, labels, strict=True)]


def _lines_of(table: TokenTable) -> list[list[str]]:
    ends = table.lengths.cumsum()
    return [
        [table.decoded[t] for t in table.occurrences[end - n : end]]
        for n, end in zip(table.lengths.tolist(), ends.tolist(), strict=True)
    ]


def central_difference(
    f: Callable[[], float], array: npt.NDArray[np.floating]
) -> npt.NDArray[np.floating]:
    """d f / d array by central differences (steps of 1e-6), perturbing `array` in place and
    restoring it."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + 1e-6
        up = f()
        array[index] = original - 1e-6
        down = f()
        array[index] = original
        grad[index] = (up - down) / 2e-6
    return grad
