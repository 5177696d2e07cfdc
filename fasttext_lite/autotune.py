"""Hyper-parameter search (fastText `src/autotune.cc`), over the public API.

fastText's strategy: the first trial is the settings given (`START` for the others); every
later one perturbs the best settings so far, log-normally (lr, epoch, dim, bucket) or
additively (word n-grams, char n-gram choice), with a spread that narrows as the time budget
runs out. Here trials run in
rounds of one per worker process (both cores), each round's settings drawn from the results
of the rounds before, so that a search of N trials is the same for the same seed. A trial
trains with one thread on the training part and is scored on the validation lines; without
validation lines, a seeded share of the corpus is held out per label and the best settings
are trained again on the whole corpus at the end.

With a model size (fastText's `-autotune-modelsize`), every trial's model is quantized as
fastText's autotune quantizes it (norms apart, labels too when there are 256 or more, the
most vectors the size allows, retrained on the training part) and scored quantized, and the
size of the quantized pieces (dsub) is searched too. A trial whose model cannot fit is a
failure; the search goes on from the best fitting settings, and ends with an error if none
fitted. The final model is quantized for the size with the trial history it keeps.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from fasttext_lite import parallel, size_limit
from fasttext_lite import params as schema
from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.errors import FtlError, ParameterError, TrainingError
from fasttext_lite.metrics import evaluate
from fasttext_lite.text.lines import read_batches
from fasttext_lite.text.tokens import encode_token
from fasttext_lite.training.corpus import Holdout

# What the search tunes, and the ranges it keeps to (fastText's, but dim: past 300 a trial
# costs more than it tells on a time budget).
TUNED = ("lr", "epoch", "dim", "word_ngrams", "minn", "maxn", "bucket", "weighting")
_RECORDED = (*TUNED, "dsub")  # in trial records: dsub is searched with a model size only
_MINN_CHOICES = (0, 2, 3)
# Where the search starts, for what the user did not set: fastText's tutorial settings, which
# beat its defaults (lr 0.1, epoch 5) on every corpus measured here, and the idf-weighted mean,
# which beat the plain one on cooking and two generated corpora, not on a third
# (bench/README.md).
START = {"lr": 0.5, "epoch": 25, "word_ngrams": 2, "weighting": "idf"}
# How often a trial tries the other weighting than the best so far's (fastText has none).
_SWITCH_WEIGHTING = 0.2
# With a model size, the quantized pieces' size is searched too: fastText's choices are 2 ** 1
# to 2 ** 4, starting from its default, 2.
_DSUB_EXPONENTS = (1, 4)
_START_DSUB = 2
# Share of the corpus held out when no validation file is given.
HOLDOUT = 0.1
# (start, end) spread of each perturbation, as fastText's: log2-normal or additive.
_SPREAD = {
    "epoch": (2.8, 2.5),
    "lr": (1.9, 1.0),
    "dim": (1.4, 0.3),
    "word_ngrams": (4.3, 2.4),
    "minn": (4.0, 1.4),
    "bucket": (2.0, 1.5),
    "dsub": (2.0, 1.0),
}
_RANGE = {
    "epoch": (1, 100),
    "lr": (0.01, 5.0),
    "dim": (1, 300),
    "word_ngrams": (1, 5),
    "bucket": (10_000, 2_000_000),
}


class Trial(NamedTuple):
    number: int
    settings: dict[str, Any]  # with a model size, `dsub` too
    score: float | None  # None: its training diverged, or its model could not fit the size
    seconds: float
    # With a model size: the bytes of the quantized model's file (`quantized_size`), or for a
    # model that does not fit the fewest it could take (None: too few vectors to quantize),
    # and the vectors it kept.
    size: int | None = None
    cutoff: int | None = None
    diverged: bool = False  # its training diverged (a learning rate too large for it)


@dataclass
class Search:
    """What a search found: the best trial, every trial, and the model of the best settings
    (trained on the whole corpus when a share of it was held out; quantized with a model
    size), its summary's `trials` the trials' `trial_record`s."""

    best: Trial
    trials: list[Trial] = field(default_factory=list)
    classifier: FastTextClassifier | None = None
    interrupted: bool = False  # by Ctrl-C: the classifier is the best trial's model


def autotune(
    corpus: str | Path,
    *,
    validation: str | Path | None = None,
    duration: float = 300.0,
    metric: str = "f1",
    predictions: int = 1,
    trials: int | None = None,
    workers: int = 2,
    seed: int = 0,
    model_size: int | str | None = None,
    on_trial: Callable[[Trial, Trial | None], None] | None = None,
    **fixed: Any,
) -> Search:
    """Search settings for a classifier of `corpus` for `duration` seconds (or `trials`
    trials), scoring each by `metric` on `validation` with `predictions` labels a line.
    Metrics are fastText's: f1, f1:LABEL, precisionAtRecall:R[:LABEL] and
    recallAtPrecision:P[:LABEL], R and P in percent. `fixed` settings are not tuned.
    `model_size` (bytes, or fastText's "2M", "500K"): only quantized models whose file fits
    in it count, and the classifier found is one; `ParameterError` if no trial's fitted.
    `on_trial(trial, best)` is told of each trial as it ends (`best` is None while no trial
    has fitted in the model size)."""
    score_of = _metric(metric, predictions)
    budget = None if model_size is None else size_limit.parse(model_size, "autotune_model_size")
    if duration <= 0 or not math.isfinite(duration):
        raise ParameterError("autotune_duration", f"must be a positive number, got {duration}")
    if trials is not None:
        schema.check_int("autotune_trials", trials, minimum=1)
    unknown = set(fixed) - set(schema.BY_NAME)
    if unknown:
        raise ParameterError(sorted(unknown)[0], "is not a hyper-parameter")
    base = {**schema.DEFAULTS, **START, **fixed, "thread": 1, "verbose": False, "seed": seed}
    schema.validate(base)
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ftl-tune-")))
        if validation is None:
            train_path, valid_lines = _split(corpus, base["label_prefix"], seed, directory)
        else:
            train_path = Path(corpus)
            valid_lines = [line for lines in read_batches(validation) for line in lines]
        search = _search(
            base, set(fixed), train_path, valid_lines, score_of, duration, trials, workers,
            seed, on_trial, directory, budget,
        )  # fmt: skip
        settings = {**base, **search.best.settings, "thread": fixed.get("thread", 1)}
        dsub = settings.pop("dsub", _START_DSUB)
        history = [trial_record(t) for t in search.trials]
        clf = None
        if not search.interrupted and validation is None:
            try:
                clf = FastTextClassifier(**settings).fit_file(corpus)
                clf.summary_ = replace(clf.summary_, trials=history)
                if budget is not None:
                    clf = _quantized(clf, budget, dsub, corpus)
            except KeyboardInterrupt:
                clf, search.interrupted = None, True
            except size_limit.DoesNotFit:
                clf = None  # not with the history: the best trial's model, which can lose more
        if clf is None:  # the best trial's model
            clf = FastTextClassifier.load(directory / "best.ftl")
            clf.set_params(**settings)
            clf.summary_ = replace(clf.summary_, trials=history)
            if budget is not None:
                clf = _trimmed(clf, budget)
        search.classifier = clf
        return search


def _quantized(
    clf: FastTextClassifier, budget: int, dsub: int, corpus: str | Path
) -> FastTextClassifier:
    """`clf` quantized as fastText's autotune quantizes for a size: norms apart, the labels
    too when there are enough of them, the most vectors that fit, retrained on `corpus`."""
    qout = clf.model_.output.shape[0] >= size_limit.MIN_VECTORS
    return clf.quantize(model_size=budget, retrain=corpus, qnorm=True, qout=qout, dsub=dsub)


def _trimmed(clf: FastTextClassifier, budget: int) -> FastTextClassifier:
    """The best trial's quantized model without the vectors of smallest norm that the trial
    history it now keeps needs room for (below 256 vectors if need be: its codes are made)."""
    try:
        return clf.quantize(model_size=budget)
    except size_limit.DoesNotFit as failure:
        raise ParameterError(
            "autotune_model_size",
            f"the best settings' model with the history of its {len(clf.summary_.trials)}"
            f" trials does not fit: {failure.detail}",
        ) from None


def _search(
    base: dict[str, Any],
    fixed: set[str],
    train_path: Path,
    valid_lines: list[bytes],
    score_of: Callable[[FastTextClassifier, list[bytes]], float],
    duration: float,
    trials: int | None,
    workers: int,
    seed: int,
    on_trial: Callable[[Trial, Trial | None], None] | None,
    directory: Path,
    budget: int | None,
) -> Search:
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    best_settings = {name: base[name] for name in TUNED}
    if budget is not None:
        best_settings["dsub"] = _fit_dsub(_START_DSUB, base["dim"])
    best: Trial | None = None
    best_score = -math.inf
    done: list[Trial] = []
    interrupted = False
    number = 0

    def run(item: tuple[int, dict[str, Any]]) -> Trial:
        trial_number, settings = item
        began = time.perf_counter()
        params = {name: value for name, value in settings.items() if name != "dsub"}
        try:
            clf = FastTextClassifier(**{**base, **params}).fit_file(train_path)
        except TrainingError:  # a trial like any other, as in fastText: the search goes on
            return Trial(trial_number, settings, None, time.perf_counter() - began, diverged=True)
        size = cutoff = None
        if budget is not None:
            try:
                clf = _quantized(clf, budget, settings["dsub"], train_path)
            except size_limit.DoesNotFit as failure:
                return Trial(
                    trial_number, settings, None, time.perf_counter() - began, failure.smallest
                )
            size, cutoff = clf.quantized_size(), clf.model_.input.shape[0]
        score = score_of(clf, valid_lines)
        clf.save(directory / f"trial-{trial_number}.ftl")
        return Trial(trial_number, settings, score, time.perf_counter() - began, size, cutoff)

    last_round = 0.0  # seconds
    try:
        while trials is None or number < trials:
            elapsed = time.monotonic() - started
            # A round runs to its end, so one that would not end within the budget (if it
            # takes as long as the last) is not started: the search ran 123 s for 30 before.
            if number and elapsed + last_round > duration:
                break
            t = min(1.0, elapsed / duration)
            size = workers if trials is None else min(workers, trials - number)
            round_ = []
            for _ in range(size):
                number += 1
                proposal = best_settings if number == 1 else _perturb(best_settings, fixed, t, rng)
                round_.append((number, proposal))
            for trial in parallel.ordered_map(run, round_, workers):
                if trial.score is not None and (best is None or trial.score > best_score):
                    os.replace(directory / f"trial-{trial.number}.ftl", directory / "best.ftl")
                    best, best_score = trial, trial.score
                    best_settings = dict(trial.settings)
                elif trial.score is not None:  # a trial that diverged or did not fit saved nothing
                    os.unlink(directory / f"trial-{trial.number}.ftl")
                done.append(trial)
                if on_trial is not None:
                    on_trial(trial, best)
            last_round = time.monotonic() - started - elapsed
    except KeyboardInterrupt:
        if best is None:
            raise
        interrupted = True
    if best is None:
        raise _nothing_fits(done, budget)
    return Search(best, done, interrupted=interrupted)


def _nothing_fits(trials: list[Trial], budget: int | None) -> FtlError:
    if budget is None or all(t.diverged for t in trials):
        lr = min(t.settings["lr"] for t in trials)
        return TrainingError(
            f"every one of the {len(trials)} trials diverged (learning rates from {lr:.3g});"
            " fix a smaller lr"
        )
    sizes = [t.size for t in trials if t.size is not None]
    why = (
        f"the smallest needed {min(sizes)} bytes"
        if sizes
        else f"their models have fewer than {size_limit.MIN_VECTORS} word and n-gram vectors,"
        " too few to quantize"
    )
    return ParameterError(
        "autotune_model_size",
        f"no model of the {len(trials)} trials fits in {budget} bytes ({why}); allow more, or"
        " fix a smaller dim",
    )


def _perturb(
    best: Mapping[str, Any], fixed: set[str], t: float, rng: np.random.Generator
) -> dict[str, Any]:
    """fastText's `AutotuneStrategy::ask`: each setting not given by the user moves from the
    best so far by a normal step whose spread narrows with `t` (time used, 0..1)."""

    def step(name: str) -> float:
        start, end = _SPREAD[name]
        spread = start - (start - end) / 0.5 * min(0.5, max(t - 0.25, 0.0))
        return float(rng.normal(0.0, spread))

    def scaled(name: str, value: float) -> float:
        low, high = _RANGE[name]
        return float(min(high, max(low, value * 2.0 ** step(name))))

    settings = dict(best)
    if "epoch" not in fixed:
        settings["epoch"] = int(scaled("epoch", best["epoch"]))
    if "lr" not in fixed:
        settings["lr"] = scaled("lr", best["lr"])
    if "dim" not in fixed:
        settings["dim"] = int(scaled("dim", best["dim"]))
    if "word_ngrams" not in fixed:
        low, high = _RANGE["word_ngrams"]
        settings["word_ngrams"] = int(
            min(high, max(low, best["word_ngrams"] + step("word_ngrams")))
        )
    if "dsub" in best:  # searched with a model size only, as a power of two
        low, high = _DSUB_EXPONENTS
        exponent = int(min(high, max(low, math.log2(best["dsub"]) + step("dsub"))))
        settings["dsub"] = _fit_dsub(2**exponent, settings["dim"])
    if "minn" not in fixed:
        index = _MINN_CHOICES.index(best["minn"]) if best["minn"] in _MINN_CHOICES else 0
        index = int(min(len(_MINN_CHOICES) - 1, max(0, index + step("minn"))))
        settings["minn"] = _MINN_CHOICES[index]
        if "maxn" not in fixed:
            settings["maxn"] = 0 if settings["minn"] == 0 else settings["minn"] + 3
    if "bucket" not in fixed:
        settings["bucket"] = int(scaled("bucket", max(best["bucket"], _RANGE["bucket"][0])))
    if "weighting" not in fixed and rng.random() < _SWITCH_WEIGHTING:
        settings["weighting"] = "mean" if best["weighting"] == "idf" else "idf"
    return settings


def _fit_dsub(dsub: int, dim: int) -> int:
    """`dsub`, halved until it is at most `dim` (a piece cannot be longer than a vector)."""
    while dsub > dim:
        dsub //= 2
    return dsub


def _split(corpus: str | Path, prefix: str, seed: int, directory: Path) -> tuple[Path, list[bytes]]:
    """The corpus less a held-out share (in a file), and the held-out lines."""
    holdout = Holdout(HOLDOUT, encode_token(prefix), seed)
    train_path = directory / "train.txt"
    with open(train_path, "wb") as train:
        for lines in read_batches(corpus):
            kept = holdout.keep(lines)
            if kept:
                train.write(b"\n".join(kept) + b"\n")
    if not holdout.held:
        raise ParameterError("autotune", f"{corpus} is too small to hold out validation lines")
    return train_path, holdout.held


def _metric(metric: str, predictions: int) -> Callable[[FastTextClassifier, list[bytes]], float]:
    """The score of a trained classifier on validation lines, by fastText's metric name."""
    schema.check_int("autotune_predictions", predictions, minimum=1)
    name, _, rest = metric.partition(":")
    if name == "f1":
        label = rest or None

        def f1(clf: FastTextClassifier, lines: list[bytes]) -> float:
            result = evaluate(clf, lines, k=predictions)
            if label is None:
                return result.f1
            return next((s.f1 for s in result.per_label if _named(s.label, clf) == label), 0.0)

        return f1
    if name in ("precisionAtRecall", "recallAtPrecision"):
        value, _, label = rest.partition(":")
        try:
            target = float(value) / 100.0  # a percentage, as fastText takes it
        except ValueError:
            raise ParameterError("autotune_metric", f"{metric!r} needs a number") from None
        return lambda clf, lines: _at(clf, lines, name, target, label or None)
    raise ParameterError(
        "autotune_metric",
        f"must be f1, f1:LABEL, precisionAtRecall:R[:LABEL] or recallAtPrecision:P[:LABEL],"
        f" got {metric!r}",
    )


def _named(name: str, clf: FastTextClassifier) -> str:
    return clf.label_prefix + name


def _at(
    clf: FastTextClassifier, lines: list[bytes], name: str, target: float, label: str | None
) -> float:
    """Precision at a recall of at least `target`, or recall at a precision of at least
    `target`, over every (line, label) pair ranked by probability (one label's, with LABEL)."""
    predictor = clf.predictor()
    scores, gold = [], []
    for chunk in predictor.chunks(lines):
        read = predictor.read(chunk)
        truth = predictor.gold(read).weights(len(predictor.labels)).toarray() > 0
        keep = truth.any(axis=1)
        scores.append(predictor.probabilities(read)[keep])
        gold.append(truth[keep])
    probs, truth = np.concatenate(scores), np.concatenate(gold)
    if label is not None:
        names = [_named(n, clf) for n in predictor.labels]
        if label not in names:
            raise ParameterError("autotune_metric", f"the model has no label {label!r}")
        column = names.index(label)
        probs, truth = probs[:, column], truth[:, column]
    order = np.argsort(-probs.ravel(), kind="stable")
    hits = truth.ravel()[order]
    correct = np.cumsum(hits)
    precision = correct / np.arange(1, hits.size + 1)
    recall = correct / max(int(hits.sum()), 1)
    if name == "precisionAtRecall":
        reached = precision[recall >= target]
    else:
        reached = recall[precision >= target]
    return float(reached.max()) if reached.size else 0.0


def trial_record(trial: Trial) -> dict[str, Any]:
    """A trial as the model file and `--json` keep it; with a model size, also its `cutoff`
    and `size` (see `Trial`); a null score when it did not fit or diverged (then
    `diverged: true`)."""
    record = {
        "trial": trial.number,
        "score": trial.score,
        "seconds": round(trial.seconds, 3),
        **{k: v for k, v in trial.settings.items() if k in _RECORDED},
    }
    if "dsub" in trial.settings:
        record.update(cutoff=trial.cutoff, size=trial.size)
    if trial.diverged:
        record["diverged"] = True
    return record


def describe(settings: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in settings.items()
        if k in _RECORDED
    )
