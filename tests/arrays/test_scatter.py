"""The in-place update of A's rows: the same numbers as gathering, subtracting and scattering."""

from __future__ import annotations

import numpy as np
import pytest

from fasttext_lite.arrays import scatter
from fasttext_lite.arrays.bags import Bags


def expected_after(
    target: np.ndarray, bags: Bags, values: np.ndarray, vectors: np.ndarray
) -> np.ndarray:
    """One entry at a time, as fastText adds a line's gradient to each of its rows."""
    result = target.copy()
    for line in range(bags.nlines):
        for e in range(int(bags.indptr[line]), int(bags.indptr[line + 1])):
            result[bags.indices[e]] -= values[e] * vectors[line]
    return result


def random_case(
    seed: int, dtype: type[np.floating], index: type[np.integer]
) -> tuple[np.ndarray, Bags, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    nrows, dim, nlines = 40, 7, 9
    # Few rows for many entries: rows repeat within lines and across them.
    lines = [rng.integers(0, nrows, size=rng.integers(0, 12)).tolist() for _ in range(nlines)]
    bags = Bags.of(lines)
    bags = Bags(bags.indptr.astype(index), bags.indices.astype(index))
    target = rng.normal(size=(nrows, dim)).astype(dtype)
    values = rng.random(bags.indices.size).astype(dtype)
    vectors = rng.normal(size=(nlines, dim)).astype(dtype)
    return target, bags, values, vectors


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_subtracting_rows_in_place_sums_every_entry_of_every_line(
    seed: int, dtype: type[np.floating], index: type[np.integer]
) -> None:
    target, bags, values, vectors = random_case(seed, dtype, index)
    expected = expected_after(target, bags, values, vectors)
    buffer = target  # the same array object must hold the result
    scatter.subtract_rows(target, bags.indptr, bags.indices, values, vectors)
    assert target is buffer
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(target, expected, rtol=tolerance, atol=tolerance)


def test_a_target_the_kernel_cannot_write_in_place_is_updated_all_the_same() -> None:
    """A column slice of a larger array is not contiguous: flattening it would copy it, and
    the kernel would update the copy; the numpy fallback updates the slice itself."""
    target, bags, values, vectors = random_case(7, np.float64, np.int64)
    wide = np.zeros((target.shape[0], 2 * target.shape[1]))
    wide[:, ::2] = target
    view = wide[:, ::2]
    expected = expected_after(target, bags, values, vectors)
    scatter.subtract_rows(view, bags.indptr, bags.indices, values, vectors)
    np.testing.assert_allclose(wide[:, ::2], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(wide[:, 1::2], 0.0)


def test_without_scipys_kernel_the_numpy_path_gives_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target, bags, values, vectors = random_case(3, np.float64, np.int32)
    expected = expected_after(target, bags, values, vectors)
    monkeypatch.setattr(scatter, "_KERNEL", None)
    scatter.subtract_rows(target, bags.indptr, bags.indices, values, vectors)
    np.testing.assert_allclose(target, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_summing_rows_gives_each_lines_weighted_sum_of_its_rows(
    kernel: bool, dtype: type[np.floating], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, bags, values, _ = random_case(5, dtype, np.int32)
    if not kernel:
        monkeypatch.setattr(scatter, "_SUM_KERNEL", None)
    summed = scatter.sum_rows(source, bags.indptr, bags.indices, values)
    assert summed.dtype == dtype
    for line in range(bags.nlines):
        entries = slice(int(bags.indptr[line]), int(bags.indptr[line + 1]))
        expected = values[entries] @ source[bags.indices[entries]]
        np.testing.assert_allclose(summed[line], expected, rtol=1e-5, atol=1e-6)
