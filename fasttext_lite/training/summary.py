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
    seconds: float
