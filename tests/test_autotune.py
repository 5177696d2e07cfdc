"""The hyper-parameter search: reproducible for a seed, respecting what the user fixed, and
keeping the best model when interrupted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError, TrainingError, evaluate
from fasttext_lite import autotune as tuning
from fasttext_lite.autotune import START, Trial, autotune, trial_record
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


def test_a_trial_that_diverges_does_not_end_the_search(
    support_train: Path, support_valid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fit_file = FastTextClassifier.fit_file

    def diverging(self: FastTextClassifier, path: str | Path) -> FastTextClassifier:
        if self.lr != START["lr"]:  # every trial but the first
            raise TrainingError("training diverged (the loss is not finite)")
        return fit_file(self, path)

    monkeypatch.setattr(FastTextClassifier, "fit_file", diverging)
    search = autotune(support_train, validation=support_valid, trials=4, dim=10, epoch=2)
    assert [t.diverged for t in search.trials] == [False, True, True, True]
    assert search.best.number == 1 and search.classifier is not None
    assert trial_record(search.trials[1])["diverged"] is True
    assert trial_record(search.trials[1])["score"] is None
    monkeypatch.setattr(FastTextClassifier, "fit_file", lambda self, path: diverging(self, ""))
    with pytest.raises(TrainingError, match="every one of the 2 trials diverged"):
        autotune(support_train, validation=support_valid, trials=2, dim=10, lr=0.3)


def test_a_round_that_would_overrun_the_budget_is_not_started(
    support_train: Path, support_valid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(0, 10_000, 10))  # a clock that moves 10 s each time it is read
    clock = SimpleNamespace(monotonic=lambda: float(next(ticks)), perf_counter=time.perf_counter)
    monkeypatch.setattr(tuning, "time", clock)
    # Started at 0; the first round starts at 10 and ends at 20; at 30, another 10 s round
    # would end at 40, past the 35 s budget.
    search = autotune(support_train, validation=support_valid, duration=35, dim=10, epoch=2)
    assert len(search.trials) == 2  # one round: a trial per worker


def test_the_search_starts_idf_weighted_and_tries_the_plain_mean(
    support_train: Path, support_valid: Path
) -> None:
    search = autotune(support_train, validation=support_valid, trials=8, dim=10, epoch=5, seed=1)
    weightings = [t.settings["weighting"] for t in search.trials]
    assert weightings[0] == "idf" and "mean" in weightings
    fixed = autotune(
        support_train, validation=support_valid, trials=4, dim=10, epoch=5, weighting="mean"
    )
    assert {t.settings["weighting"] for t in fixed.trials} == {"mean"}


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


# -- with a model size (fastText's -autotune-modelsize) -----------------------------------


def test_with_a_model_size_every_trial_and_the_result_are_quantized_to_fit(
    support_train: Path, support_valid: Path
) -> None:
    # The plain mean: an idf model's row weights take 4 bytes a vector more.
    search = autotune(
        support_train, validation=support_valid, trials=4, dim=10, epoch=5, model_size="20K",
        weighting="mean",
    )  # fmt: skip
    assert search.trials and all(t.score is not None for t in search.trials)
    assert all(t.size is not None and t.size <= 20_000 for t in search.trials)
    assert {t.settings["dsub"] for t in search.trials} <= {2, 4, 8, 16}
    assert len({t.settings["dsub"] for t in search.trials}) > 1
    clf = search.classifier
    assert clf is not None and clf.model_.quantized is not None
    assert clf.model_.quantized.quantizer.dsub == search.best.settings["dsub"]
    assert clf.quantized_size() <= 20_000
    # The file keeps the trial history: the best trial's model lost vectors to make room.
    assert [t["trial"] for t in clf.summary_.trials] == [1, 2, 3, 4]
    assert search.best.cutoff is not None and clf.model_.input.shape[0] < search.best.cutoff
    assert evaluate(clf, support_valid).f1 == pytest.approx(_score(search.best), abs=0.05)


def test_trials_that_cannot_fit_score_as_failures(support_train: Path, support_valid: Path) -> None:
    # dsub 2 (the first trial's) needs about 17.5 KB at dim 10; a larger dsub fits in 17 KB.
    search = autotune(
        support_train, validation=support_valid, trials=4, dim=10, epoch=5, model_size=17_000,
        weighting="mean",
    )  # fmt: skip
    first = search.trials[0]
    assert first.settings["dsub"] == 2 and first.score is None and first.cutoff is None
    assert first.size is not None and first.size > 17_000
    assert trial_record(first)["score"] is None and trial_record(first)["size"] == first.size
    assert search.best.score is not None and search.best.size is not None
    assert search.best.size <= 17_000


def test_when_no_trial_fits_the_search_fails_naming_the_smallest_size(
    support_train: Path, support_valid: Path
) -> None:
    with pytest.raises(ParameterError, match="^autotune_model_size: no model of the 2 trials"):
        autotune(support_train, validation=support_valid, trials=2, dim=10, model_size="5K")
    with pytest.raises(ParameterError, match="autotune_model_size: must be a number"):
        autotune(support_train, trials=2, model_size="5 KB")


def test_a_small_dim_takes_a_dsub_it_can_be_cut_into(
    support_train: Path, support_valid: Path
) -> None:
    search = autotune(
        support_train, validation=support_valid, trials=4, dim=3, epoch=5, model_size="50K"
    )
    assert {t.settings["dsub"] for t in search.trials} == {2}


def test_ctrl_c_with_a_model_size_keeps_the_best_quantized_model_within_it(
    support_train: Path,
) -> None:
    def interrupt(trial: Trial, best: Trial | None) -> None:
        if trial.number == 2:
            raise KeyboardInterrupt

    search = autotune(
        support_train, trials=5, on_trial=interrupt, epoch=5, dim=10, model_size="20K"
    )
    assert search.interrupted and search.classifier is not None
    assert search.classifier.quantized_size() <= 20_000
    assert len(search.classifier.summary_.trials) == 2


def test_cli_writes_a_quantized_model_within_the_size(support_train: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.ftl"
    result = CliRunner().invoke(
        cli,
        ["train", str(support_train), "-o", str(model), "--dim", "10", "--epoch", "5", "--json"]
        + ["--autotune", "--autotune-trials", "2", "--autotune-model-size", "20K"],
    )
    assert result.exit_code == 0, result.output
    size = model.stat().st_size
    record = json.loads(result.stdout)
    assert record["quantized"]["size"] == size <= 20_000
    assert record["quantized"]["model_size"] == 20_000 and record["quantized"]["qnorm"]
    loaded = FastTextClassifier.load(model)
    assert loaded.model_.quantized is not None
    assert loaded.model_.input.shape[0] == record["quantized"]["cutoff"]
    assert all(t["size"] <= 20_000 and t["dsub"] in (2, 4, 8, 16) for t in record["trials"])
    assert loaded.summary_.trials == record["trials"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--autotune", "--autotune-model-size", "1K"], "no model of the 2 trials fits"),
        (["--autotune", "--autotune-model-size", "2X"], "must be a number of bytes"),
        (["--autotune-model-size", "2M"], "needs --autotune or --autotune-validation"),
    ],
)
def test_cli_model_size_errors_are_one_line_and_write_nothing(
    support_train: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    model = tmp_path / "m.ftl"
    result = CliRunner().invoke(
        cli,
        ["train", str(support_train), "-o", str(model), "--dim", "10", "--epoch", "5"]
        + ["--autotune-trials", "2", *args],
    )
    assert result.exit_code in (1, 2) and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not model.exists()


def test_when_the_whole_corpus_model_cannot_fit_the_best_trials_model_is_kept(
    support_train: Path,
) -> None:
    """Seed 0: the model of all 400 lines, with the history of 3 trials, needs more than
    18,000 bytes even at 256 vectors; the best trial's (360 lines) loses vectors instead."""
    search = autotune(support_train, trials=3, dim=10, epoch=5, model_size=18_000)
    clf = search.classifier
    assert clf is not None and clf.quantized_size() <= 18_000
    assert clf.summary_.examples == 360 and len(clf.summary_.trials) == 3
    assert clf.model_.input.shape[0] < 256 and not search.interrupted
