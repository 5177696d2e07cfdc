"""`fasttext-compat`: fastText's own command line (fastText `src/main.cc`), so that scripts
written for `fasttext` run after `alias fasttext=fasttext-compat`.

Commands and single-dash options are fastText's, and so is what they print; failures are one
line on stderr and exit code 1 (fastText prints its usage). Built on `compat`'s model object.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.compat import _SUPERVISED_DEFAULTS, load_model, train_supervised
from fasttext_lite.compat.model import FastText, label_scores
from fasttext_lite.errors import FtlError
from fasttext_lite.formats import container, fasttext_bin
from fasttext_lite.metrics import evaluate
from fasttext_lite.text.lines import STDIN, read_batches
from fasttext_lite.text.tokens import decode, encode_token, split_lines

USAGE = """usage: fasttext-compat <command> <args>

The commands supported by fasttext-compat are:

  supervised              train a supervised classifier
  test                    evaluate a supervised classifier
  test-label              print labels with precision and recall scores
  predict                 predict most likely labels
  predict-prob            predict most likely labels with probabilities
  print-word-vectors      print word vectors given a trained model
  print-sentence-vectors  print sentence vectors given a trained model
  nn                      query for nearest neighbors
  quantize                quantize a model to reduce the memory usage
  dump                    dump arguments,dictionary,input/output vectors
"""

# fastText's flags that take no value.
_FLAGS = {"-saveOutput", "-qnorm", "-retrain", "-qout"}
# fastText's option -> the keyword of `train_supervised`, with its type.
_OPTIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "-input": ("input", str),
    "-output": ("output", str),
    **{
        f"-{name}": (name, type(default))
        for name, default in _SUPERVISED_DEFAULTS.items()
        if not name.startswith("autotune")
    },
    "-autotune-validation": ("autotuneValidationFile", str),
    "-autotune-metric": ("autotuneMetric", str),
    "-autotune-predictions": ("autotunePredictions", int),
    "-autotune-duration": ("autotuneDuration", int),
    "-autotune-modelsize": ("autotuneModelSize", str),
}


class UsageError(Exception):
    """A command line fastText would refuse."""


def main(argv: list[str] | None = None) -> None:
    """The `fasttext-compat` console script."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in _COMMANDS:
        sys.stderr.write(USAGE)
        sys.exit(1)
    out = sys.stdout.buffer
    try:
        _COMMANDS[args[0]](args[1:], out)
        out.flush()
    except UsageError as error:
        _fail(f"{error} (see `fasttext-compat {args[0]}`'s usage in fastText's documentation)")
    except FtlError as error:
        _fail(" ".join(str(error).split()))
    except ValueError as error:
        _fail(str(error))
    except BrokenPipeError:
        sys.exit(0)
    except OSError as error:
        _fail(f"cannot write the results ({error.strerror or error})")
    except KeyboardInterrupt:
        _fail("interrupted")


def _fail(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")
    sys.exit(1)


def _parsed(
    args: list[str],
    options: dict[str, tuple[str, Callable[[str], object]]],
    settings: dict[str, object],
    *,
    switches: frozenset[str] = frozenset(),
    missing: frozenset[str] = frozenset(),
) -> dict[str, object]:
    """fastText's single-dash command line into `settings`: `options` take a value, `switches`
    stand alone (set to True), `missing` are fastText's that ftl refuses."""
    position = 0
    while position < len(args):
        flag = args[position]
        if flag in switches:
            settings[flag[1:]] = True
            position += 1
            continue
        if flag in missing:
            raise UsageError(f"{flag} is not in ftl yet")
        if flag not in options:
            raise UsageError(f"unknown argument: {flag}")
        if position + 1 >= len(args):
            raise UsageError(f"{flag} is missing an argument")
        name, kind = options[flag]
        try:
            settings[name] = kind(args[position + 1])
        except ValueError:
            raise UsageError(
                f"{flag} needs a {kind.__name__}, got {args[position + 1]!r}"
            ) from None
        position += 2
    return settings


def supervised(args: list[str], out: BinaryIO) -> None:
    settings = _parsed(args, _OPTIONS, {}, missing=frozenset(_FLAGS))
    output = settings.pop("output", "")
    if not settings.get("input") or not output:
        raise UsageError("empty input or output path")
    if settings.get("loss") == "one-vs-all":
        settings["loss"] = "ova"
    # As fastText: a search for a model size writes the quantized MODEL.ftz, else MODEL.bin.
    quantized = bool(settings.get("autotuneValidationFile") and settings.get("autotuneModelSize"))
    path = f"{output}.ftz" if quantized else f"{output}.bin"
    container.check_writable(path)  # before training, not after
    model = train_supervised(**settings)
    model.save_model(path)  # fastText's own format, as fastText writes it
    _save_vectors(model, f"{output}.vec")


# `quantize`'s options: fastText's name -> (keyword of `FastText.quantize`, type).
_QUANTIZE_OPTIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "-input": ("input", str),
    "-output": ("output", str),
    "-cutoff": ("cutoff", int),
    "-epoch": ("epoch", int),
    "-lr": ("lr", float),
    "-thread": ("thread", int),
    "-verbose": ("verbose", int),
    "-dsub": ("dsub", int),
}
# fastText's defaults for `quantize` (its Args defaults: `supervised`'s apply only to it);
# -thread defaults to the model's, as ftl trains with one process unless asked.
_QUANTIZE_DEFAULTS = {"epoch": 5, "lr": 0.05, "verbose": 2}


def quantize(args: list[str], out: BinaryIO) -> None:
    """fastText's `quantize -output model ...`: reads model.bin, writes model.ftz."""
    switches = frozenset({"-qnorm", "-qout", "-retrain"})
    settings = _parsed(args, _QUANTIZE_OPTIONS, dict(_QUANTIZE_DEFAULTS), switches=switches)
    output = settings.pop("output", "")
    if not output:
        raise UsageError("empty output path")
    container.check_writable(f"{output}.ftz")
    model = load_model(f"{output}.bin")
    model.quantize(**settings)  # type: ignore[arg-type]
    model.save_model(f"{output}.ftz")


def _save_vectors(model: FastText, path: str) -> None:
    """fastText's `.vec` beside the model: a `count dim` line, then each word's vector."""
    words = model.words
    vectors = model.classifier.word_vectors(words)
    with open(path, "wb") as handle:
        handle.write(f"{len(words)} {model.get_dimension()}\n".encode())
        for word, row in zip(words, _formatted(vectors), strict=True):
            handle.write(encode_token(word) + b" " + row + b"\n")


def test(args: list[str], out: BinaryIO, *, per_label: bool = False) -> None:
    if not 2 <= len(args) <= 4:
        raise UsageError("test needs: <model> <test-data> [<k>] [<th>]")
    model = load_model(args[0])
    k = int(args[2]) if len(args) > 2 else 1
    threshold = float(args[3]) if len(args) > 3 else 0.0
    result = evaluate(model.classifier, args[1], k=k, threshold=threshold)
    n, precision, recall = result.examples, result.precision, result.recall
    lines = []
    if per_label:
        for label, score in label_scores(result, model.classifier.label_prefix).items():
            metrics = "".join(f"{name} : {_fixed(score[key])}  " for name, key in _LABEL_METRICS)
            lines.append(f"{metrics} {label}")
        # fastText's stream is left in fixed notation by the per-label lines.
        lines += [f"N\t{n}", f"P@{k}\t{precision:.3f}", f"R@{k}\t{recall:.3f}"]
    else:
        lines += [f"N\t{n}", f"P@{k}\t{_significant(precision)}", f"R@{k}\t{_significant(recall)}"]
    out.write(encode_token("".join(line + "\n" for line in lines)))


_LABEL_METRICS = (("F1-Score", "f1score"), ("Precision", "precision"), ("Recall", "recall"))


def _fixed(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else "--------"


def _significant(value: float) -> str:
    """What C++'s stream prints with precision 3: 3 significant digits, no trailing zeros."""
    return f"{value:.3g}"


def predict(args: list[str], out: BinaryIO, *, with_probabilities: bool = False) -> None:
    if not 2 <= len(args) <= 4:
        raise UsageError("predict needs: <model> <test-data> [<k>] [<th>]")
    model = load_model(args[0])
    k = int(args[2]) if len(args) > 2 else 1
    threshold = float(args[3]) if len(args) > 3 else 0.0
    for lines in read_batches(args[1]):
        texts = [decode(line) for line in lines]
        labels, probabilities = model.predict(texts, k=k, threshold=threshold)
        rows = []
        for names, probs in zip(labels, probabilities, strict=True):
            if with_probabilities:
                rows.append(
                    " ".join(f"{n} {p:g}" for n, p in zip(names, probs.tolist(), strict=True))
                )
            else:
                rows.append(" ".join(names))
        out.write(encode_token("".join(row + "\n" for row in rows)))
        out.flush()


def print_sentence_vectors(args: list[str], out: BinaryIO) -> None:
    if len(args) != 1:
        raise UsageError("print-sentence-vectors needs: <model> (and reads stdin)")
    model = load_model(args[0])
    for lines in read_batches(STDIN):
        vectors = model.vectors.sentence_vectors(lines)
        out.write(b"".join(row + b"\n" for row in _formatted(vectors, trailing=True)))
        out.flush()


def print_word_vectors(args: list[str], out: BinaryIO) -> None:
    if len(args) != 1:
        raise UsageError("print-word-vectors needs: <model> (and reads stdin)")
    model = load_model(args[0])
    for words in _stdin_words():
        vectors = model.vectors.word_vectors(words)
        rows = _formatted(vectors, trailing=True)
        out.write(
            b"".join(encode_token(w) + b" " + r + b"\n" for w, r in zip(words, rows, strict=True))
        )
        out.flush()


def nn(args: list[str], out: BinaryIO) -> None:
    if len(args) not in (1, 2):
        raise UsageError("nn needs: <model> [<k>]")
    model = load_model(args[0])
    k = int(args[1]) if len(args) > 1 else 10
    prompt = b"Query word? "
    out.write(prompt)
    out.flush()
    for words in _stdin_words():
        for word in words:
            found = model.get_nearest_neighbors(word, k)
            out.write(encode_token("".join(f"{w} {s:g}\n" for s, w in found)) + prompt)
            out.flush()


def dump(args: list[str], out: BinaryIO) -> None:
    if len(args) != 2 or args[1] not in ("args", "dict", "input", "output"):
        raise UsageError("dump needs: <model> <option>, option one of args, dict, input, output")
    model = load_model(args[0])
    if args[1] == "args":
        fields = _dumped_args(args[0], model)
        out.write("".join(f"{name} {value}\n" for name, value in fields.items()).encode())
    elif args[1] == "dict":
        words, word_counts = model.get_words(include_freq=True, on_unicode_error="replace")
        labels, label_counts = model.get_labels(include_freq=True, on_unicode_error="replace")
        lines = [f"{len(words) + len(labels)}"]
        lines += [f"{w} {c} word" for w, c in zip(words, word_counts.tolist(), strict=True)]
        lines += [f"{x} {c} label" for x, c in zip(labels, label_counts.tolist(), strict=True)]
        out.write("".join(line + "\n" for line in lines).encode())
    else:
        matrix = model.get_input_matrix() if args[1] == "input" else model.get_output_matrix()
        out.write(f"{matrix.shape[0]} {matrix.shape[1]}\n".encode())
        out.write(b"".join(row + b"\n" for row in _formatted(matrix)))


def _dumped_args(path: str, model: FastText) -> dict[str, object]:
    """fastText's `dump args`: its stored arguments, as the file has them for a word-vector
    model, as ftl has them (fastText's defaults where it has none) for a classifier."""
    if not isinstance(model.vectors, FastTextClassifier):
        return {
            name: _LOSS_NAMES.get(value, value) if name == "loss" else value
            for name, value in asdict(fasttext_bin.read(path).args).items()
        }
    clf = model.classifier
    return {
        "dim": clf.dim, "ws": 5, "epoch": clf.epoch, "minCount": clf.min_count,
        "neg": clf.neg, "wordNgrams": clf.word_ngrams, "loss": _LOSS_NAMES.get(clf.loss, clf.loss),
        "model": "sup", "bucket": clf.featurizer_.bucket, "minn": clf.minn,
        "maxn": clf.maxn, "lrUpdateRate": 100, "t": 0.0001,
    }  # fmt: skip


_LOSS_NAMES = {"ova": "one-vs-all"}  # fastText's name where it differs


def _stdin_words() -> Iterator[list[str]]:
    for lines in read_batches(STDIN):
        yield [decode(token) for line in split_lines(lines) for token in line]


def _formatted(matrix: npt.NDArray[np.floating], *, trailing: bool = False) -> list[bytes]:
    """Each row as C++ streams print floats: 6 significant digits, space-separated (with a
    space after the last one where fastText's Vector printing leaves it)."""
    end = " " if trailing else ""
    return [(" ".join(f"{x:g}" for x in row) + end).encode() for row in matrix.tolist()]


_COMMANDS: dict[str, Callable[[list[str], BinaryIO], None]] = {
    "supervised": supervised,
    "test": test,
    "test-label": lambda args, out: test(args, out, per_label=True),
    "predict": predict,
    "predict-prob": lambda args, out: predict(args, out, with_probabilities=True),
    "print-sentence-vectors": print_sentence_vectors,
    "print-word-vectors": print_word_vectors,
    "nn": nn,
    "quantize": quantize,
    "dump": dump,
}
