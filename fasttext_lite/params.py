"""The hyper-parameters, in one place: names, defaults, ranges, help and fastText's spellings.

`FastTextClassifier`'s constructor, `get_params`, the model file's `params`, the CLI's options
and their help all come from `PARAMS` (fastText `src/args.cc`, supervised defaults).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

from fasttext_lite.errors import ParameterError
from fasttext_lite.losses import LOSSES
from fasttext_lite.model.weighting import WEIGHTINGS
from fasttext_lite.text.tokens import DEFAULT_LABEL_PREFIX, tokenize

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    name: str  # the Python name; the CLI's option is --name-with-dashes
    default: Any
    help: str
    fasttext: str  # fastText's option and `args` name
    low: float | None = None  # numbers: the least and greatest value
    high: float | None = None
    choices: tuple[str, ...] = ()
    # Saved in model files; a model file written before the parameter existed had `before`.
    in_model: bool = True
    before: Any = _NO_DEFAULT
    path: bool = False  # a file name ("" for none)

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: object) -> None:
        """Raise `ParameterError` naming the parameter unless `value` is one of its values."""
        if self.path:
            if not isinstance(value, (str, PathLike)):
                raise ParameterError(self.name, f"must be a file name, got {value!r}")
        elif isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise ParameterError(self.name, f"must be True or False, got {value!r}")
        elif isinstance(self.default, int):
            assert self.low is not None and self.high is not None
            check_int(self.name, value, minimum=int(self.low), maximum=int(self.high))
        elif isinstance(self.default, float):
            real = isinstance(value, numbers.Real) and math.isfinite(value)
            if self.high is not None:  # a share, low..high
                if not real or not self.low <= value <= self.high:  # type: ignore[operator]
                    raise ParameterError(
                        self.name, f"must be between {self.low} and {self.high}, got {value!r}"
                    )
            elif not real or value <= 0:  # type: ignore[operator]
                raise ParameterError(self.name, f"must be a positive number, got {value!r}")
        elif self.choices:
            if value not in self.choices:
                raise ParameterError(
                    self.name, f"must be one of {', '.join(self.choices)}, got {value!r}"
                )
        elif not isinstance(value, str) or tokenize(value) != [value]:
            raise ParameterError(self.name, f"must be one non-empty token, got {value!r}")


# The upper bounds keep a hostile model file from asking for absurd work; bucket must keep
# feature ids within fastText's int32.
PARAMS: tuple[Param, ...] = (
    Param("lr", 0.1, "Learning rate.", "lr"),
    Param("dim", 100, "Embedding size.", "dim", 1, 100_000),
    Param("epoch", 5, "Passes over the data.", "epoch", 1, 1_000_000),
    Param("word_ngrams", 1, "Longest word n-gram (1 = words only).", "wordNgrams", 1, 100),
    Param("bucket", 2_000_000, "Hash slots for n-grams.", "bucket", 0, 2**31 - 1 - 100_000_000),
    Param("minn", 0, "Shortest char n-gram.", "minn", 0, 1_000),
    Param("maxn", 0, "Longest char n-gram (0 = off).", "maxn", 0, 1_000),
    Param("min_count", 1, "Drop words seen fewer times.", "minCount", 0, 2**62),
    Param("min_count_label", 0, "Drop labels seen fewer times.", "minCountLabel", 0, 2**62),
    Param(
        "loss",
        "softmax",
        "softmax, ova (one-vs-all, multi-label), hs (hierarchical softmax) or ns (negative"
        " sampling).",
        "loss",
        choices=tuple(LOSSES),
    ),
    Param("neg", 5, "Negatives sampled per line (--loss ns).", "neg", 1, 100_000, before=5),
    Param(
        "weighting",
        "mean",
        "How a line's features are averaged: mean (fastText's) or idf (rarer in the corpus,"
        " more weight).",
        "",
        choices=WEIGHTINGS,
        before="mean",
    ),
    Param("label_prefix", DEFAULT_LABEL_PREFIX, "Tokens starting with this are labels.", "label"),
    Param(
        "weight_prefix",
        "__weight__",
        "A token of this prefix and a number (__weight__0.5) weighs its line in training.",
        "",
        before="__weight__",
    ),
    Param(
        "class_weight",
        "",
        "balanced (each label weighs inversely to its count) or a file of `label weight` lines.",
        "",
        in_model=False,
        path=True,
    ),
    Param(
        "batch_size",
        0,
        "Lines per SGD step (1 = fastText's per-example SGD, 0 = automatic).",
        "",
        0,
        1_000_000,
    ),
    Param(
        "thread",
        1,
        "Worker processes sharing the model (fastText's threads; >1 is not reproducible).",
        "thread",
        1,
        256,
        before=1,
    ),
    Param("seed", 0, "Random seed.", "seed", 0, 2**63 - 1),
    Param(
        "pretrained_vectors",
        "",
        "Word vectors (.vec, or .vec.gz) to start the vocabulary's rows from.",
        "pretrainedVectors",
        in_model=False,
        path=True,
    ),
    Param(
        "valid",
        "",
        "Labelled lines to score the model on after every epoch.",
        "",
        in_model=False,
        path=True,
    ),
    Param(
        "valid_split",
        0.0,
        "Hold out this share of the corpus (per label, seeded) to score every epoch on.",
        "",
        0,
        0.5,
        in_model=False,
    ),
    Param(
        "early_stop",
        0,
        "After this many epochs without a better validation P@1, cut the epochs left by a"
        " quarter (the learning rate falls to 0 sooner); keep the best epoch (0: off).",
        "",
        0,
        1_000_000,
        in_model=False,
    ),
    Param(
        "init_model",
        "",
        "Start from this model (fine-tuning): its rows, words and labels, then the new ones.",
        "",
        in_model=False,
        path=True,
    ),
    Param("verbose", False, "Show a progress bar on stderr.", "verbose", in_model=False),
)
BY_NAME: dict[str, Param] = {param.name: param for param in PARAMS}
DEFAULTS: dict[str, Any] = {param.name: param.default for param in PARAMS}
MODEL_PARAMS: tuple[str, ...] = tuple(param.name for param in PARAMS if param.in_model)
# The settings that shape the feature space: fine-tuning takes them from the model it starts
# from, whose rows only mean something in that space.
SHAPE_PARAMS = ("dim", "word_ngrams", "bucket", "minn", "maxn", "label_prefix", "loss", "weighting")


def validate(values: Mapping[str, Any]) -> None:
    """Check every parameter, then the rules between them (`ParameterError` names one)."""
    for param in PARAMS:
        param.check(values[param.name])
    if values["maxn"] > 0 and values["minn"] > values["maxn"]:
        raise ParameterError(
            "minn", f"must not exceed maxn ({values['maxn']}), got {values['minn']}"
        )
    if (values["word_ngrams"] > 1 or values["maxn"] > 0) and values["bucket"] == 0:
        raise ParameterError("bucket", "must be positive when n-grams are on, got 0")
    if values["valid"] and values["valid_split"]:
        raise ParameterError("valid_split", "give it or valid, not both")
    if values["init_model"] and values["pretrained_vectors"]:
        raise ParameterError("init_model", "give it or pretrained_vectors, not both")
    if values["early_stop"] and not (values["valid"] or values["valid_split"]):
        raise ParameterError("early_stop", "needs validation lines: give valid or valid_split")


def notes(values: Mapping[str, Any], spell: Callable[[str], str] = str) -> list[str]:
    """Settings that are valid but probably not what was meant, each as a sentence, naming
    parameters as `spell` gives them.

    >>> notes({**DEFAULTS, "minn": 3})
    ['minn 3 has no effect: character n-grams are on only with maxn > 0 (as in fastText)']
    """
    found = []
    if values["minn"] > 0 and values["maxn"] == 0:
        found.append(
            f"{spell('minn')} {values['minn']} has no effect: character n-grams are on only"
            f" with {spell('maxn')} > 0 (as in fastText)"
        )
    return found


def from_model(stored: object) -> dict[str, Any]:
    """The parameters stored in a model file, completed with what older files lack; raises
    ValueError if any is missing or unknown."""
    if not isinstance(stored, dict):
        raise ValueError("hyper-parameters missing")
    older = {p.name: p.before for p in PARAMS if p.in_model and p.before is not _NO_DEFAULT}
    values = {**older, **stored}
    if set(values) != set(MODEL_PARAMS):
        raise ValueError("hyper-parameters missing or unknown")
    return values


def check_int(name: str, value: object, *, minimum: int, maximum: int = 2**63 - 1) -> None:
    """Raise `ParameterError` unless `value` is an integer (not a bool) in [minimum, maximum]."""
    # numbers.Integral admits numpy integers; bool is an int but never a count.
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or not minimum <= value <= maximum:  # type: ignore[operator]
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if integral and value > maximum:  # type: ignore[operator]
            kind = f"at most {maximum}"
        raise ParameterError(name, f"must be {kind}, got {value!r}")


def check_top_k(k: object, threshold: object) -> None:
    """Raise `ParameterError` unless k >= 1 or k = -1 (fastText's "all labels"), and
    0 <= threshold <= 1."""
    if k != -1:
        try:
            check_int("k", k, minimum=1)
        except ParameterError:
            raise ParameterError(
                "k", f"must be a positive integer or -1 (all), got {k!r}"
            ) from None
    if not isinstance(threshold, numbers.Real) or not 0.0 <= float(threshold) <= 1.0:
        raise ParameterError("threshold", f"must be between 0 and 1, got {threshold!r}")
