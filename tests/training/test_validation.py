"""Validation after every epoch, held-out splits, and early stopping."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError, evaluate
from fasttext_lite.cli import cli
from fasttext_lite.training.corpus import Holdout
from fasttext_lite.training.validation import EpochScore, Validator


def test_every_epoch_is_scored_on_the_validation_file(
    support_train: Path, support_valid: Path
) -> None:
    clf = FastTextClassifier(lr=0.5, epoch=6, seed=2, valid=support_valid).fit_file(support_train)
    curve = clf.summary_.validation
    assert [e["epoch"] for e in curve] == [1, 2, 3, 4, 5, 6]
    assert clf.summary_.epochs == 6
    # The last epoch's score is the final model's.
    final = evaluate(clf, support_valid)
    assert curve[-1]["precision"] == pytest.approx(final.precision)
    assert curve[-1]["recall"] == pytest.approx(final.recall)
    assert curve[0]["loss"] > curve[-1]["loss"] > 0


def test_validation_does_not_change_the_model(support_train: Path, support_valid: Path) -> None:
    plain = FastTextClassifier(lr=0.5, epoch=4, seed=2).fit_file(support_train)
    scored = FastTextClassifier(lr=0.5, epoch=4, seed=2, valid=support_valid).fit_file(
        support_train
    )
    np.testing.assert_array_equal(plain.model_.input, scored.model_.input)
    np.testing.assert_array_equal(plain.model_.output, scored.model_.output)


def test_early_stopping_keeps_the_best_epochs_model(
    support_train: Path, support_valid: Path
) -> None:
    clf = FastTextClassifier(lr=1.0, epoch=40, seed=2, valid=support_valid, early_stop=2).fit_file(
        support_train
    )
    summary = clf.summary_
    precisions = [e["precision"] for e in summary.validation]
    assert summary.epochs < 40 and summary.epochs == len(precisions)
    best = summary.best_epoch
    assert best is not None and precisions[best - 1] == max(precisions)
    assert evaluate(clf, support_valid).precision == pytest.approx(max(precisions))


def test_a_plateau_cuts_the_epochs_left_by_a_quarter() -> None:
    scores = [0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3]
    model = SimpleNamespace(input=np.zeros((1, 1)), output=np.zeros((1, 1)))
    validator = Validator(SimpleNamespace(model=model), [], patience=2)  # type: ignore[arg-type]
    validator._score = lambda epoch: EpochScore(epoch, scores[epoch - 1], 0.0, 0.0)  # type: ignore[method-assign]
    planned, plans = 40, []
    for epoch in range(1, len(scores) + 1):
        planned = validator(epoch, planned)
        plans.append(planned)
        if epoch >= planned:
            break
    # Two epochs without a better P@1 after epoch 2 (epochs 3, 4): 36 left become 27; a new
    # best at 5; two more plateaus (7, then 9): 24 left become 18, then 16 become 12.
    assert plans == [40, 40, 40, 31, 31, 31, 25, 25, 21]
    assert validator.best is not None and validator.best.epoch == 5


def test_a_holdout_takes_about_the_share_of_every_label() -> None:
    lines = [f"__label__{label} text {i}".encode() for label in "ab" for i in range(200)]
    lines += [b"__label__c rare"] * 10 + [b"no label"] * 5
    holdout = Holdout(0.1, b"__label__", seed=3)
    kept = holdout.keep(lines[:150]) + holdout.keep(lines[150:])  # in two blocks, one stream
    assert len(kept) + len(holdout.held) == len(lines)
    held_labels = [line.split()[0] for line in holdout.held]
    assert held_labels.count(b"__label__a") == 20 and held_labels.count(b"__label__b") == 20
    assert held_labels.count(b"__label__c") == 1
    assert b"no label" in kept and b"no label" not in holdout.held
    again = Holdout(0.1, b"__label__", seed=3)
    again.keep(lines)
    assert again.held == holdout.held  # seeded


def test_valid_split_trains_on_the_rest(support_train: Path) -> None:
    clf = FastTextClassifier(lr=0.5, epoch=3, valid_split=0.1).fit_file(support_train)
    assert clf.summary_.examples == 360 and len(clf.summary_.validation) == 3
    lines = [line.split() for line in support_train.read_text().splitlines()]
    texts = [" ".join(t for t in line if not t.startswith("__label__")) for line in lines]
    labels = [[t for t in line if t.startswith("__label__")] for line in lines]
    api = FastTextClassifier(lr=0.5, epoch=3, valid_split=0.1).fit(texts, labels)
    assert api.summary_.examples == 360


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"early_stop": 3}, "early_stop: needs validation lines"),
        ({"valid": "v.txt", "valid_split": 0.1}, "valid_split: give it or valid, not both"),
        ({"valid_split": 0.9}, "valid_split: must be between 0 and 0.5"),
    ],
)
def test_validation_settings_are_checked(
    settings: dict[str, object], message: str, support_train: Path
) -> None:
    with pytest.raises(ParameterError, match=message):
        FastTextClassifier(**settings).fit_file(support_train)  # type: ignore[arg-type]


def test_the_curve_is_saved_with_the_model(
    support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    model = tmp_path / "m.ftl"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            str(support_train),
            "-o",
            str(model),
            "--epoch",
            "3",
            "--valid",
            str(support_valid),
        ],
    )
    assert result.exit_code == 0, result.output
    loaded = FastTextClassifier.load(model)
    assert [e["epoch"] for e in loaded.summary_.validation] == [1, 2, 3]
    info = CliRunner().invoke(cli, ["info", str(model)]).stdout
    assert "trained_validation\t1:" in info
