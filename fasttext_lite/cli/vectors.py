"""`ftl vectors` and `ftl neighbours`: the model's input space (fastText's
`print-sentence-vectors`, `print-word-vectors` and `nn`)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import click
import numpy as np
import numpy.typing as npt

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import IN_PATH, model_option, stdout
from fasttext_lite.formats import fasttext_bin
from fasttext_lite.params import check_int
from fasttext_lite.text.lines import STDIN, read_batches
from fasttext_lite.text.tokens import decode, encode_token, split_lines
from fasttext_lite.vectors import WordVectors


def load(path: str) -> FastTextClassifier | WordVectors:
    """A classifier, or a fastText word-vector model (cbow, skipgram)."""
    if fasttext_bin.model_kind(path) in ("cbow", "sg"):
        return WordVectors.load(path)
    return FastTextClassifier.load(path)


@click.command()
@click.argument("input_path", metavar="[INPUT]", default=STDIN, type=IN_PATH)
@model_option
@click.option("--words", is_flag=True, help="One vector per word instead of per line.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "npy"]), default="text",
    show_default=True, help="text: one vector per line; npy: one float32 array (numpy .npy).",
)  # fmt: skip
def vectors(input_path: str, model_path: str, words: bool, output_format: str) -> None:
    """Print the vector of each line of INPUT (default: stdin): the hidden vector the
    classifier scores (for fastText's word-vector models, cbow and skipgram: the mean of the
    line's word vectors, each scaled to length 1, as fastText's). With --words, each word of
    each line gets its own vector, printed after the word (for --format text).

    \b
    Example:
        echo "where is my parcel" | ftl vectors -m support.ftl
        ftl vectors -m support.ftl --words --format npy words.txt > words.npy
    """
    out = stdout()
    clf = load(model_path)
    blocks: list[npt.NDArray[np.float32]] = []
    for lines in read_batches(input_path):
        if words:
            tokens = [token for line in split_lines(lines) for token in line]
            block = clf.word_vectors(tokens)
        else:
            block = clf.sentence_vectors(lines)
        if output_format == "npy":
            blocks.append(block)  # the header needs the row count: written at the end
            continue
        text = io.BytesIO()
        np.savetxt(text, block, fmt="%.6g")
        rows = text.getvalue().splitlines(keepends=True)
        if words:
            rows = [token + b" " + row for token, row in zip(tokens, rows, strict=True)]
        out.write(b"".join(rows))
        out.flush()
    if output_format == "npy":
        dim = clf.dim
        np.lib.format.write_array(out, np.concatenate([np.zeros((0, dim), np.float32), *blocks]))


@click.command()
@click.argument("words", nargs=-1)
@model_option
@click.option("-k", "k", default=10, show_default=True, help="Neighbours per word.")
def neighbours(words: tuple[str, ...], model_path: str, k: int) -> None:
    """Print the K vocabulary words nearest each WORD by cosine similarity of word vectors
    (fastText's `nn`): one line per query word, `neighbour similarity` pairs, nearest first.
    Without WORD, read the query words from stdin.

    \b
    Example:
        ftl neighbours -m support.ftl refund -k 5
    """
    out = stdout()
    check_int("k", k, minimum=1)
    clf = load(model_path)
    batches = [list(words)] if words else _stdin_words()
    for batch in batches:
        lines = [
            " ".join(f"{n.word} {n.similarity:.6g}" for n in found) + "\n"
            for found in clf.neighbours(batch, k=k)
        ]
        out.write(encode_token("".join(lines)))
        out.flush()


def _stdin_words() -> Iterator[list[str]]:
    for lines in read_batches(STDIN):
        yield [decode(token) for line in split_lines(lines) for token in line]
