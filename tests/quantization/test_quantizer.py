"""Product quantizers: k-means, codes, and decoding them."""

from __future__ import annotations

import numpy as np
import pytest

from fasttext_lite.model import quantizer
from fasttext_lite.model.quantized import ProductQuantizer, assign


def _clustered(rng: np.random.Generator, n: int = 3000, dim: int = 4) -> np.ndarray:
    centres = rng.normal(scale=5.0, size=(300, dim))
    return (centres[rng.integers(0, 300, n)] + rng.normal(scale=0.1, size=(n, dim))).astype(
        np.float32
    )


def _distortion(x: np.ndarray, centroids: np.ndarray, codes: np.ndarray) -> float:
    return float(((x - centroids[codes]) ** 2).sum())


def test_kmeans_reduces_distortion_with_each_iteration_count() -> None:
    x = _clustered(np.random.default_rng(0), dim=2)
    distortions = []
    for niter in (1, 5, 25):
        found = quantizer.kmeans(x, np.random.default_rng(1), niter=niter)
        distortions.append(_distortion(x, found.centroids, assign(x, found.centroids)))
    spread = float(((x - x.mean(axis=0)) ** 2).sum())
    assert distortions[0] < spread / 10
    assert distortions[2] <= distortions[1] <= distortions[0]
    assert distortions[2] < distortions[0]


def test_kmeans_starts_from_distinct_points_and_fills_empty_clusters() -> None:
    # 300 points on only 260 distinct places: some first centroids coincide, so some
    # clusters start empty and must be refilled by splitting others.
    rng = np.random.default_rng(2)
    places = rng.normal(size=(260, 2)).astype(np.float32)
    x = places[np.concatenate([np.arange(260), rng.integers(0, 260, 40)])]
    found = quantizer.kmeans(x, np.random.default_rng(3))
    assert np.isfinite(found.centroids).all()
    assert np.unique(found.centroids, axis=0).shape[0] == quantizer.KSUB


def test_kmeans_refuses_fewer_rows_than_centroids() -> None:
    with pytest.raises(quantizer.TooFewRows, match="at least 256"):
        quantizer.kmeans(np.zeros((255, 2), np.float32), np.random.default_rng(0))


def test_assign_and_encode_pick_the_nearest_centroid() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, 5)).astype(np.float32)
    pq = quantizer.train(np.repeat(x, 1, axis=0), 2, rng)  # pieces of 2, 2 and 1
    codes = pq.encode(x)
    for m, (start, stop) in enumerate([(0, 2), (2, 4), (4, 5)]):
        table = pq.decode(np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1))
        distances = ((x[:, None, start:stop] - table[None, :, start:stop]) ** 2).sum(axis=2)
        np.testing.assert_array_equal(codes[:, m], distances.argmin(axis=1))


def test_quantize_decodes_close_to_the_matrix_and_scales_by_quantized_norms() -> None:
    rng = np.random.default_rng(5)
    x = _clustered(rng, n=2000, dim=6) * rng.uniform(0.5, 2.0, size=(2000, 1)).astype(np.float32)
    plain = quantizer.quantize(x, 2, np.random.default_rng(6))
    normed = quantizer.quantize(x, 2, np.random.default_rng(6), qnorm=True)
    for matrix in (plain, normed):
        error = np.linalg.norm(matrix.decode_all() - x) / np.linalg.norm(x)
        assert error < 0.1
    assert normed.norm_quantizer is not None and normed.norm_codes is not None
    # By hand: each piece's centroid, times the row's norm centroid.
    pq, norms = normed.quantizer, normed.norm_quantizer
    table = pq.centroids.reshape(3, 256, 2)
    row = 17
    by_hand = np.concatenate([table[m, normed.codes[row, m]] for m in range(3)])
    by_hand *= norms.centroids[normed.norm_codes[row]]
    np.testing.assert_allclose(normed.rows([row])[0], by_hand, rtol=1e-6)


def test_training_samples_at_most_65536_points_per_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = quantizer.kmeans

    def recording(x: np.ndarray, rng: np.random.Generator, **kw: int) -> quantizer.KMeans:
        seen.append(x.shape)
        return real(x, rng, niter=1)

    monkeypatch.setattr(quantizer, "kmeans", recording)
    x = np.random.default_rng(7).normal(size=(70_000, 3)).astype(np.float32)
    pq = quantizer.train(x, 2, np.random.default_rng(8))
    assert isinstance(pq, ProductQuantizer)
    assert seen == [(65536, 2), (65536, 1)]


def test_stopping_at_convergence_gives_what_all_iterations_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = _clustered(np.random.default_rng(9), n=1000, dim=2)
    early = quantizer.kmeans(x, np.random.default_rng(10), niter=60)
    calls = []
    real = assign

    def counting(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
        calls.append(1)
        return real(points, centroids)

    monkeypatch.setattr(quantizer, "assign", counting)
    quantizer.kmeans(x, np.random.default_rng(10), niter=60)
    assert len(calls) < 60  # it stopped early
    monkeypatch.setattr(quantizer, "np", _NoEarlyStop(np))
    full = quantizer.kmeans(x, np.random.default_rng(10), niter=60)
    np.testing.assert_array_equal(early.centroids, full.centroids)
    np.testing.assert_array_equal(early.codes, full.codes)


class _NoEarlyStop:
    """numpy, but `array_equal` never sees two equal assignments: every iteration runs."""

    def __init__(self, real: object) -> None:
        self._real = real

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    @staticmethod
    def array_equal(a: object, b: object) -> bool:
        return False
