"""What a training run reports of itself; saved in the model file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingSummary:
    lines: int  # lines read
    examples: int  # lines trained on
    unlabelled: int  # lines skipped for having no label
    words: int  # vocabulary size
    labels: int
    tokens: int  # tokens read, words and labels and </s>
    # Not saved in the model file, so that the same seed, data and options give the same
    # bytes: None for a loaded model (unless an older file had it).
    seconds: float | None
    epochs: int = 0  # run (fewer than asked when stopped early; 0 in older files)
    # With validation lines: the epoch whose model was kept, and every epoch's scores
    # ({"epoch", "precision", "recall", "loss"}).
    best_epoch: int | None = None
    validation: list[dict[str, Any]] = field(default_factory=list)
    # With a hyper-parameter search: every trial, with its settings and score.
    trials: list[dict[str, Any]] = field(default_factory=list)
    # Fine-tuning: the words and labels the new lines added to the old model's.
    added_words: int = 0
    added_labels: int = 0
