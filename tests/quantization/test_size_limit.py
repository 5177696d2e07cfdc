"""Quantizing to a file size: fastText's size spelling, sizes computed as the writers write,
the most vectors that fit, and trimming a quantized model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import run

from fasttext_lite import FastTextClassifier, ParameterError
from fasttext_lite.formats import fasttext_model, model_file
from fasttext_lite.size_limit import DoesNotFit, parse


@pytest.mark.parametrize(
    ("size", "expected"),
    [("2M", 2_000_000), ("500K", 500_000), ("500k", 500_000), ("1G", 10**9), ("1234", 1234)]
    + [("3m", 3_000_000), (1234, 1234)],
)
def test_sizes_are_spelled_as_fasttext_spells_them(size: str | int, expected: int) -> None:
    assert parse(size) == expected


@pytest.mark.parametrize("size", ["", "2X", "0", "0K", "-5", "1.5M", "M", " 2M", "2 M", "２M"])
def test_other_sizes_are_refused_naming_the_parameter(size: str) -> None:
    with pytest.raises(ParameterError, match=r"^autotune_model_size: must be a number of bytes"):
        parse(size, "autotune_model_size")


@pytest.mark.parametrize("size", [True, 2.5, None])
def test_sizes_of_other_types_are_refused(size: object) -> None:
    with pytest.raises(ParameterError, match="model_size"):
        parse(size)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def small(trained: FastTextClassifier) -> FastTextClassifier:
    return trained.quantize(model_size="30K", qnorm=True)


def test_computed_sizes_are_the_written_files(
    trained: FastTextClassifier, small: FastTextClassifier, tmp_path: Path
) -> None:
    for clf in (trained, small):
        clf.save(tmp_path / "m.ftl")
        assert model_file.size(clf._parts()) == (tmp_path / "m.ftl").stat().st_size
    small.save(tmp_path / "m.ftz")
    assert fasttext_model.size(small._parts()) == (tmp_path / "m.ftz").stat().st_size
    assert small.quantized_size() == max(
        (tmp_path / name).stat().st_size for name in ("m.ftl", "m.ftz")
    )


def test_a_model_size_keeps_the_most_vectors_whose_file_fits(
    trained: FastTextClassifier, small: FastTextClassifier
) -> None:
    rows = small.model_.input.shape[0]
    assert 256 < rows < trained.model_.input.shape[0]
    assert small.quantized_size() <= 30_000
    # The size does not depend on the codes' values: one vector more would not fit.
    assert trained.quantize(cutoff=rows + 1, qnorm=True).quantized_size() > 30_000
    # Sized on zeros exactly: the vectors kept are the cutoff's, none trimmed afterwards.
    same = trained.quantize(cutoff=rows, qnorm=True)
    assert same.vocabulary_.words == small.vocabulary_.words
    np.testing.assert_array_equal(same.model_.feature_ids, small.model_.feature_ids)


def test_an_idf_models_size_counts_its_row_weights(support_train: Path) -> None:
    weighted = FastTextClassifier(
        weighting="idf", lr=0.5, epoch=5, dim=20, word_ngrams=2, bucket=10_000, seed=3
    ).fit_file(support_train)
    small = weighted.quantize(model_size="40K", qnorm=True)
    rows = small.model_.input.shape[0]
    assert small.model_.row_weights is not None and small.quantized_size() <= 40_000
    # Sized exactly, weights included: one vector more would not fit, and none was trimmed.
    assert weighted.quantize(cutoff=rows + 1, qnorm=True).quantized_size() > 40_000
    same = weighted.quantize(cutoff=rows, qnorm=True)
    np.testing.assert_array_equal(same.model_.feature_ids, small.model_.feature_ids)


def test_it_retrains_only_when_vectors_are_dropped(
    trained: FastTextClassifier, support_train: Path
) -> None:
    everything = trained.quantize(model_size="10M", retrain=support_train, qnorm=True)
    plain = trained.quantize(qnorm=True)
    assert everything.model_.input.shape == trained.model_.input.shape
    np.testing.assert_array_equal(everything.model_.quantized.codes, plain.model_.quantized.codes)  # type: ignore[union-attr]
    dropped = trained.quantize(model_size="30K", retrain=support_train, qnorm=True, epoch=2)
    assert dropped.epoch == 2 and dropped.quantized_size() <= 30_000


def test_qout_and_dsub_are_sized_too(trained: FastTextClassifier) -> None:
    coarse = trained.quantize(model_size="30K", qnorm=True, dsub=5)
    assert coarse.quantized_size() <= 30_000
    assert coarse.model_.input.shape[0] > trained.quantize(model_size="30K").model_.input.shape[0]


def test_a_quantized_model_only_loses_its_smallest_vectors(small: FastTextClassifier) -> None:
    smaller = small.quantize(model_size=25_000)
    assert smaller.quantized_size() <= 25_000 < small.quantized_size()
    matrix, kept = small.model_.quantized, smaller.model_.quantized
    assert matrix is not None and kept is not None
    # The codes stay; the rows kept are those of largest (decoded) norm, `</s>` among them.
    assert "</s>" in smaller.vocabulary_.words
    rows = small.model_.row_of(_features_in(small, smaller))
    assert (rows >= 0).all()
    np.testing.assert_array_equal(kept.codes, matrix.codes[rows])
    norms = np.linalg.norm(matrix.decode_all(), axis=1)
    dropped = np.setdiff1d(np.arange(norms.size), rows)
    assert dropped.size and norms[dropped].max() <= np.sort(norms)[-(rows.size - 1)]
    same = small.quantize(model_size=10**6)  # it fits already: unchanged
    np.testing.assert_array_equal(same.model_.quantized.codes, matrix.codes)  # type: ignore[union-attr]
    with pytest.raises(ParameterError, match="quantized already"):
        small.quantize(model_size=25_000, qnorm=True)


def _features_in(model: FastTextClassifier, part: FastTextClassifier) -> np.ndarray:
    """The feature ids in `model` of the rows of `part`, a pruned copy of it."""
    ids = part.model_.feature_ids
    nwords = len(part.vocabulary_.words)
    words = [model.vocabulary_.word_ids[w] for w in part.vocabulary_.words]
    ngrams = ids[ids >= nwords] - nwords + len(model.vocabulary_.words)
    return np.concatenate([np.array(words, dtype=np.int64), ngrams])


def test_too_small_a_size_names_the_smallest_model(trained: FastTextClassifier) -> None:
    with pytest.raises(DoesNotFit, match=r"^model_size: the smallest quantized model") as caught:
        trained.quantize(model_size="5K", qnorm=True)
    assert caught.value.smallest is not None and caught.value.smallest > 5000
    assert "\n" not in str(caught.value)
    with pytest.raises(ParameterError, match="not both"):
        trained.quantize(model_size="30K", cutoff=300)
    with pytest.raises(ParameterError, match="dsub"):
        trained.quantize(model_size="30K", dsub=21)


def test_cli_quantizes_to_a_size(model_path: Path, tmp_path: Path) -> None:
    for name in ("s.ftl", "s.ftz"):
        result = run("quantize", model_path, "-o", tmp_path / name, "--model-size", "30K")
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size <= 30_000
        assert f"({(tmp_path / name).stat().st_size} bytes)" in result.stderr
    result = run("quantize", model_path, "-o", tmp_path / "t.ftl", "--model-size", "3K")
    assert result.exit_code == 1 and not (tmp_path / "t.ftl").exists()
    assert result.stderr.startswith("Error: invalid value for --model-size: the smallest")
    assert len(result.stderr.strip().splitlines()) == 1
