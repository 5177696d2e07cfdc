"""`ftl explain`: which tokens pushed each predicted label's score up or down."""

from __future__ import annotations

import json

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import IN_PATH, model_option, stdout
from fasttext_lite.text.lines import STDIN, read_batches
from fasttext_lite.text.tokens import encode_token


@click.command()
@click.argument("input_path", metavar="[INPUT]", default=STDIN, type=IN_PATH)
@model_option
@click.option("-k", "k", default=1, show_default=True, help="Labels per line.")
@click.option("--top", default=10, show_default=True, help="Tokens shown per label.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, every token.")
def explain(input_path: str, model_path: str, k: int, top: int, as_json: bool) -> None:
    """Explain the top labels of each line of INPUT (default: stdin): each label's score is
    the sum of its tokens' shares (a token's own word, its character n-grams, the word
    n-grams it starts), shown most influential first, with their signs.

    \b
    Example:
        echo "my card was charged twice" | ftl explain -m support.ftl --top 3
    """
    out = stdout()
    clf = FastTextClassifier.load(model_path)
    prefix = clf.label_prefix
    for lines in read_batches(input_path):
        for line_explanations in clf.explain(lines, k=k):
            if as_json:
                record = [
                    {
                        "label": e.label,
                        "probability": e.probability,
                        "score": e.score,
                        "tokens": [
                            {
                                "token": t.token,
                                "value": t.value,
                                "parts": [c._asdict() for c in t.contributions],
                            }
                            for t in e.tokens
                        ],
                    }
                    for e in line_explanations
                ]
                out.write(json.dumps(record).encode() + b"\n")
                continue
            parts = []
            for e in line_explanations:
                shown = " ".join(f"{t.token}:{t.value:+.3f}" for t in e.tokens[:top])
                parts.append(f"{prefix}{e.label} {e.probability:.3g} ({e.score:+.3f} = {shown})")
            out.write(encode_token("\t".join(parts) + "\n"))
        out.flush()
