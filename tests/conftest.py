"""Shared fixtures: the sample corpus, a small trained model, the cooking data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from fasttext_lite import FastTextClassifier

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
COOKING = ROOT.parent / "shared" / "datasets" / "cooking"


@pytest.fixture(scope="session")
def support_train() -> Path:
    return DATA / "support.train"


@pytest.fixture(scope="session")
def support_valid() -> Path:
    return DATA / "support.valid"


@pytest.fixture(scope="session")
def trained(support_train: Path) -> FastTextClassifier:
    """A small model on the sample corpus: quick to train, good enough to predict sensibly."""
    return FastTextClassifier(
        lr=0.5, epoch=10, dim=20, word_ngrams=2, bucket=10_000, seed=3
    ).fit_file(support_train)


@pytest.fixture(scope="session")
def model_path(trained: FastTextClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "support.ftl"
    trained.save(path)
    return path


@pytest.fixture(scope="session")
def cooking() -> Path:
    """The fastText tutorial data; tests using it are skipped where it is absent."""
    if not (COOKING / "cooking.train").exists():
        pytest.skip(f"cooking data not found at {COOKING}")
    return COOKING
