"""fastText's Python API on ftl: `import fasttext_lite.compat as fasttext`.

Code written for the `fasttext` package runs unchanged: `train_supervised`, `load_model`,
`tokenize`, `EOS`/`BOW`/`EOW`, and a model object with the methods and return types of the
binding's (`compat.model.FastText`). Built on the public API only. Differences: probabilities
are the true ones (fastText adds 1e-5) and training never stops with "Encountered NaN".
"""

from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fasttext_lite import size_limit
from fasttext_lite.autotune import autotune
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.compat.model import FastText
from fasttext_lite.formats import fasttext_bin
from fasttext_lite.text.tokens import EOS
from fasttext_lite.text.tokens import tokenize as _tokenize
from fasttext_lite.vectors import WordVectors

BOW = "<"
EOW = ">"

# fastText's supervised defaults, by its names (the binding's `train_supervised`).
_SUPERVISED_DEFAULTS: dict[str, Any] = {
    "lr": 0.1,
    "dim": 100,
    "ws": 5,
    "epoch": 5,
    "minCount": 1,
    "minCountLabel": 0,
    "minn": 0,
    "maxn": 0,
    "neg": 5,
    "wordNgrams": 1,
    "loss": "softmax",
    "bucket": 2_000_000,
    "thread": max(1, multiprocessing.cpu_count() - 1),
    "lrUpdateRate": 100,
    "t": 1e-4,
    "label": "__label__",
    "verbose": 2,
    "pretrainedVectors": "",
    "seed": 0,
    "autotuneValidationFile": "",
    "autotuneMetric": "f1",
    "autotunePredictions": 1,
    "autotuneDuration": 300,
    "autotuneModelSize": "",
}
# The binding's snake_case spellings of some names.
_ALIASES = {
    "min_count": "minCount",
    "word_ngrams": "wordNgrams",
    "lr_update_rate": "lrUpdateRate",
    "label_prefix": "label",
    "pretrained_vectors": "pretrainedVectors",
}
# fastText's name -> ftl's, for the options ftl has.
_FTL_NAMES = {
    "lr": "lr",
    "dim": "dim",
    "epoch": "epoch",
    "minCount": "min_count",
    "minCountLabel": "min_count_label",
    "minn": "minn",
    "maxn": "maxn",
    "neg": "neg",
    "wordNgrams": "word_ngrams",
    "loss": "loss",
    "bucket": "bucket",
    "thread": "thread",
    "label": "label_prefix",
    "pretrainedVectors": "pretrained_vectors",
    "seed": "seed",
}


def tokenize(text: str) -> list[str]:
    """Split text on fastText's separators (as the binding's `fasttext.tokenize`)."""
    return _tokenize(text)


def load_model(path: str | Path) -> FastText:
    """A model from a file: ftl's `.ftl`, or fastText's `.bin` / `.ftz` (a word-vector model,
    cbow or skipgram, gives vectors and neighbours, and refuses to predict)."""
    if fasttext_bin.model_kind(path) in ("cbow", "sg"):
        return FastText(WordVectors.load(path))
    return FastText(FastTextClassifier.load(path))


def train_supervised(*args: Any, **kwargs: Any) -> FastText:
    """Train as the binding's `train_supervised(input=..., lr=..., ...)` does."""
    given = _read_args(args, kwargs)
    settings = {**_SUPERVISED_DEFAULTS, **given}
    model_size = settings["autotuneModelSize"]
    if model_size != "":
        model_size = size_limit.parse(model_size, "autotuneModelSize")
        if not settings["autotuneValidationFile"]:
            warnings.warn(
                "autotuneModelSize applies to autotune (autotuneValidationFile) only; as in"
                " fastText, the model is not quantized",
                UserWarning,
                stacklevel=2,
            )
    if settings["autotuneValidationFile"]:
        fixed = {_FTL_NAMES[name]: value for name, value in given.items() if name in _FTL_NAMES}
        search = autotune(
            settings["input"],
            validation=settings["autotuneValidationFile"],
            duration=float(settings["autotuneDuration"]),
            metric=settings["autotuneMetric"],
            predictions=int(settings["autotunePredictions"]),
            seed=int(settings["seed"]),
            model_size=model_size or None,
            # fastText's model, so that what the drop-in saves loads in fastText too.
            weighting="mean",
            **fixed,
        )
        assert search.classifier is not None
        tuned = search.classifier.get_params()
        names = {ftl: name for name, ftl in _FTL_NAMES.items()}
        settings.update({names[k]: v for k, v in tuned.items() if k in names})
        return FastText(search.classifier, settings)
    clf = FastTextClassifier(
        **{ftl: settings[name] for name, ftl in _FTL_NAMES.items()},
        verbose=int(settings["verbose"]) > 1,
    )
    clf.fit_file(settings["input"])
    return FastText(clf, settings)


def train_unsupervised(*args: Any, **kwargs: Any) -> FastText:
    raise ValueError("ftl trains supervised classifiers only; use train_supervised")


def _read_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    names = ["input", *_SUPERVISED_DEFAULTS]
    given: dict[str, Any] = {}
    for name, value in [*zip(names, args, strict=False), *kwargs.items()]:
        name = _ALIASES.get(name, name)
        if name not in names:
            raise TypeError(f"unexpected keyword argument '{name}'")
        if name in given:
            raise TypeError(f"multiple values for argument '{name}'")
        given[name] = value
    if "input" not in given:
        raise TypeError("missing the training file: train_supervised(input=...)")
    return given


__all__ = [
    "BOW",
    "EOS",
    "EOW",
    "FastText",
    "load_model",
    "tokenize",
    "train_supervised",
    "train_unsupervised",
]
