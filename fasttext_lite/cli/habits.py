"""fastText's command-line habits, answered with ftl's spelling.

fastText spells long options with one dash (`-lr 0.5`, `-output model`), which click would read
as a cluster of short options (`-output` as `-o utput`). Such tokens are caught before click
parses them; so are fastText's command names.
"""

from __future__ import annotations

import click

from fasttext_lite import params

# fastText's option -> what ftl says instead.
OPTIONS: dict[str, str] = {
    **{f"-{p.fasttext}": p.option for p in params.PARAMS if p.fasttext and p.fasttext != "verbose"},
    "-input": "the CORPUS argument (ftl train CORPUS)",
    "-output": "-o/--output (ftl writes exactly that file, no .bin added)",
    "-verbose": "--quiet to silence the progress bar",
    "-label": "--label-prefix",
    **{
        f"-autotune-{name}": f"--autotune-{name}"
        for name in ("validation", "duration", "metric", "predictions")
    },
    "-autotune-modelsize": "--autotune-model-size",
    **{
        f"-{name}": f"--{name} (ftl quantize)"
        for name in ("cutoff", "retrain", "qnorm", "qout", "dsub")
    },
}
_NOT_YET = "not in ftl yet"
for _name in ("ws", "lrUpdateRate", "t", "saveOutput"):
    OPTIONS.setdefault(f"-{_name}", _NOT_YET)

COMMANDS: dict[str, str] = {
    "supervised": "No such command 'supervised': fastText's supervised is `ftl train CORPUS -o"
    " MODEL` (options with two dashes: --lr, --epoch, --word-ngrams).",
    "test": "No such command 'test': fastText's test is `ftl eval TEST -m MODEL [-k K]`.",
    "test-label": "No such command 'test-label': use `ftl eval TEST -m MODEL --per-label`.",
    "predict-prob": "No such command 'predict-prob': use `ftl predict -m MODEL --probs`.",
    "print-sentence-vectors": "No such command 'print-sentence-vectors': use `ftl vectors MODEL"
    " [INPUT]`.",
    "print-word-vectors": "No such command 'print-word-vectors': use `ftl vectors MODEL --words"
    " [INPUT]`.",
    "nn": "No such command 'nn': fastText's nn is `ftl neighbours MODEL [WORD] [-k 10]`.",
}
COMMANDS["dump"] = (
    "No such command 'dump': fastText's dump is `fasttext-compat dump`, fastText's own command"
    " line."
)
for _command in ("skipgram", "cbow"):
    COMMANDS[_command] = (
        f"No such command '{_command}': word vectors are trained in Python, with"
        f" fasttext_lite.compat.train_unsupervised(input=..., model='{_command}')."
    )
for _command in ("analogies", "print-ngrams"):
    COMMANDS[_command] = f"No such command '{_command}': fastText's {_command} is not in ftl yet."


def check(args: list[str]) -> None:
    """Raise a usage error for the first fastText-style option among `args`."""
    for arg in args:
        if arg == "--":
            return
        if arg in OPTIONS:
            answer = OPTIONS[arg]
            if answer == _NOT_YET:
                raise click.UsageError(f"{arg} is a fastText option that is {_NOT_YET}.")
            raise click.UsageError(f"{arg} is fastText's spelling; ftl's is {answer}.")
