"""The hyper-parameter search: reproducible for a seed, respecting what the user fixed, and
keeping the best model when interrupted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError, evaluate
from fasttext_lite.autotune import START, Trial, autotune
from fasttext_lite.cli import cli


def _score(trial: Trial) -> float:
    """A trial's score (every trial has one without a model size)."""
    assert trial.score is not None
    return trial.score


def test_a_search_of_n_trials_is_the_same_for_the_same_seed(
    support_train: Path, support_valid: Path
) -> None:
    runs = [
        autotune(support_train, validation=support_valid, trials=4, seed=5, dim=10, epoch=5)
        for _ in range(2)
    ]
    first, second = ([(t.settings, t.score) for t in run.trials] for run in runs)
    assert first == second and len(first) == 4
    assert first[0][0]["lr"] == START["lr"]  # the first trial is the starting point
    assert len({t[0]["lr"] for t in first}) == 4


def test_the_best_trials_settings_and_model_are_kept(
    support_train: Path, support_valid: Path
) -> None:
    search = autotune(support_train, validation=support_valid, trials=4, dim=10, epoch=5)
    assert all(t.settings["dim"] == 10 and t.settings["epoch"] == 5 for t in search.trials)
    best = max(search.trials, key=_score)
    assert search.best == best
    clf = search.classifier
    assert clf is not None and clf.lr == best.settings["lr"]
    assert evaluate(clf, support_valid).f1 == pytest.approx(best.score)


def test_without_validation_the_best_settings_retrain_on_the_whole_corpus(
    support_train: Path,
) -> None:
    search = autotune(support_train, trials=2, dim=10, epoch=5)
    assert search.classifier is not None and search.classifier.summary_.examples == 400


def test_ctrl_c_keeps_the_best_model_so_far(support_train: Path, support_valid: Path) -> None:
    seen: list[Trial] = []

    def interrupt(trial: Trial, best: Trial | None) -> None:
        seen.append(trial)
        if len(seen) == 3:
            raise KeyboardInterrupt

    search = autotune(
        support_train, validation=support_valid, trials=10, on_trial=interrupt, epoch=5, dim=10
    )
    assert search.interrupted and len(search.trials) == 3
    assert search.classifier is not None
    assert search.best.score == max(_score(t) for t in search.trials)


@pytest.mark.parametrize(
    ("metric", "message"),
    [("auc", "must be f1, f1:LABEL"), ("precisionAtRecall:x", "needs a number")],
)
def test_unknown_metrics_are_refused(support_train: Path, metric: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        autotune(support_train, metric=metric, trials=1)


@pytest.mark.parametrize(
    "metric", ["f1:__label__billing", "precisionAtRecall:30", "recallAtPrecision:80"]
)
def test_label_and_curve_metrics_score_between_zero_and_one(
    support_train: Path, support_valid: Path, metric: str
) -> None:
    search = autotune(
        support_train, validation=support_valid, metric=metric, trials=2, dim=10, epoch=5
    )
    assert all(0.0 <= _score(t) <= 1.0 for t in search.trials)
    assert _score(search.best) > 0


def test_cli_writes_the_best_model_with_its_trials(
    support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    model = tmp_path / "m.ftl"
    result = CliRunner().invoke(
        cli,
        ["train", str(support_train), "-o", str(model), "--dim", "10", "--epoch", "5", "--json"]
        + ["--autotune-validation", str(support_valid), "--autotune-trials", "2", "--seed", "3"],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert len(record["trials"]) == 2 and record["settings"]["dim"] == 10
    loaded = FastTextClassifier.load(model)
    assert [t["trial"] for t in loaded.summary_.trials] == [1, 2]
    best = max(record["trials"], key=lambda t: t["score"])
    assert np.isclose(loaded.lr, best["lr"])
