"""What a training run reports of itself; saved in the model file."""

from __future__ import annotations

from dataclasses import dataclass


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
