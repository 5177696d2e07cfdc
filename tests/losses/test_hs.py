"""Hierarchical softmax against independent references: fastText's `buildTree` and `dfs`
(`src/loss.cc`) transliterated beside ours, gradients against central differences, one SGD
step against fastText's per-example update written by hand, and predictions of models the
fastText binding trained (numbers checked in, and a live run where the benchmark environment
has the binding).

All in float64 so that the tolerances can be tight, but for the binding's float32 models.
"""

from __future__ import annotations

import heapq
import json
import math
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest
from helpers import central_difference

from fasttext_lite import FastTextClassifier
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.losses import hs as hs_module
from fasttext_lite.losses import make_loss
from fasttext_lite.losses.hs import HierarchicalSoftmax
from fasttext_lite.losses.huffman import huffman_tree
from fasttext_lite.model.dense import Model
from fasttext_lite.training.sgd import Batcher, _step

FloatArray = npt.NDArray[np.floating]
ROOT = Path(__file__).resolve().parents[2]
BINDING_PYTHON = ROOT / ".bench-venv" / "bin" / "python"

# fastText's `std_log` offset, written out again rather than imported.
OFFSET = 1e-5


# -- fastText's tree, transliterated ---------------------------------------------------------


class ReferenceTree(NamedTuple):
    left: list[int]  # per inner node n + r: its children, node ids
    right: list[int]
    paths: list[list[int]]  # per label: rows of B from its parent up to the root
    codes: list[list[int]]


def fasttext_build_tree(counts: list[int]) -> ReferenceTree:
    """`HierarchicalSoftmaxLoss::buildTree`, statement by statement."""
    osz = len(counts)
    tree = [
        {"parent": -1, "left": -1, "right": -1, "count": 10**15, "binary": False}
        for _ in range(2 * osz - 1)
    ]
    for i in range(osz):
        tree[i]["count"] = counts[i]
    leaf = osz - 1
    node = osz
    for i in range(osz, 2 * osz - 1):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and tree[leaf]["count"] < tree[node]["count"]:
                mini[j] = leaf
                leaf -= 1
            else:
                mini[j] = node
                node += 1
        tree[i]["left"] = mini[0]
        tree[i]["right"] = mini[1]
        tree[i]["count"] = tree[mini[0]]["count"] + tree[mini[1]]["count"]
        tree[mini[0]]["parent"] = i
        tree[mini[1]]["parent"] = i
        tree[mini[1]]["binary"] = True
    paths, codes = [], []
    for i in range(osz):
        path, code = [], []
        j = i
        while tree[j]["parent"] != -1:
            path.append(tree[j]["parent"] - osz)
            code.append(int(tree[j]["binary"]))
            j = tree[j]["parent"]
        paths.append(path)
        codes.append(code)
    inner = tree[osz:]
    return ReferenceTree([t["left"] for t in inner], [t["right"] for t in inner], paths, codes)


def descending(counts: npt.NDArray[np.integer]) -> list[int]:
    return sorted(counts.tolist(), reverse=True)


COUNT_VECTORS = {
    "one label": [9],
    "two labels": [5, 2],
    "two tied": [7, 7],
    "all tied": [3] * 9,
    "small": [5, 3, 2],
    "ties in places": [4, 4, 4, 3, 3, 2, 1, 1],
    "powers of two": [64, 32, 16, 8, 4, 2, 1, 1],
    "one frequent": [100] + [1] * 9,
    "sums tie leaves": [6, 3, 3, 2, 1],
    "random with ties": descending(np.random.default_rng(0).integers(1, 6, size=57)),
    "cooking-like": descending((3000 / np.arange(1, 736) ** 1.1).astype(int) + 1),
}


@pytest.mark.parametrize("counts", COUNT_VECTORS.values(), ids=COUNT_VECTORS.keys())
def test_tree_is_fasttexts_node_for_node(counts: list[int]) -> None:
    ours, reference = huffman_tree(counts), fasttext_build_tree(counts)
    assert ours.left.tolist() == reference.left
    assert ours.right.tolist() == reference.right
    assert ours.depths.tolist() == [len(path) for path in reference.paths]
    for label, (path, code) in enumerate(zip(reference.paths, reference.codes, strict=True)):
        depth = len(path)
        assert ours.paths[label, :depth].tolist() == path
        assert ours.codes[label, :depth].tolist() == code
        assert not ours.codes[label, depth:].any()


@pytest.mark.parametrize("counts", COUNT_VECTORS.values(), ids=COUNT_VECTORS.keys())
def test_tree_levels_list_each_inner_node_once_parents_first(counts: list[int]) -> None:
    tree = huffman_tree(counts)
    n = len(counts)
    levels = tree.levels()
    flat = [int(row) for level in levels for row in level]
    assert sorted(flat) == list(range(n - 1))
    level_of = {row: depth for depth, level in enumerate(levels) for row in level.tolist()}
    for row in range(n - 1):
        for child in (tree.left[row], tree.right[row]):
            if child >= n:
                assert level_of[int(child) - n] == level_of[row] + 1


def test_tree_needs_a_label() -> None:
    with pytest.raises(ValueError, match="at least one label"):
        huffman_tree([])


# -- probabilities and fastText's search, by brute force --------------------------------------


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), in a form that neither overflows nor loses small values."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    return math.exp(x) / (1.0 + math.exp(x))


def brute_force_probabilities(
    reference: ReferenceTree, output: FloatArray, hidden: FloatArray
) -> FloatArray:
    """Each label's probability: sigmoid(+-score) multiplied along its path."""
    probs = np.ones((hidden.shape[0], len(reference.paths)))
    for line, h in enumerate(hidden):
        for label, (path, code) in enumerate(zip(reference.paths, reference.codes, strict=True)):
            for row, bit in zip(path, code, strict=True):
                score = float(output[row] @ h)
                probs[line, label] *= sigmoid(score) if bit else sigmoid(-score)
    return probs


def fasttext_predict(
    reference: ReferenceTree, output: FloatArray, hidden: FloatArray, k: int, threshold: float
) -> list[int]:
    """`HierarchicalSoftmaxLoss::predict` and `dfs` for one line, best first, with heapq's
    min-heap in place of std::push_heap / pop_heap."""
    osz = len(reference.paths)
    heap: list[tuple[float, int]] = []

    def std_log(x: float) -> float:
        return math.log(x + OFFSET)

    def dfs(node: int, score: float) -> None:
        if score < std_log(threshold):
            return
        if len(heap) == k and score < heap[0][0]:
            return
        if node < osz:  # fastText: left == -1 && right == -1
            heapq.heappush(heap, (score, node))
            if len(heap) > k:
                heapq.heappop(heap)
            return
        f = sigmoid(float(output[node - osz] @ hidden))
        dfs(reference.left[node - osz], score + std_log(1.0 - f))
        dfs(reference.right[node - osz], score + std_log(f))

    dfs(2 * osz - 2, 0.0)
    return [label for _, label in sorted(heap, reverse=True)]


def random_case(
    nlabels: int, seed: int, *, scale: float = 1.0, nlines: int = 6, dim: int = 4
) -> tuple[list[int], FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    counts = descending(rng.integers(1, 50, size=nlabels))
    output = rng.normal(scale=scale, size=(nlabels - 1, dim))
    return counts, output, rng.normal(size=(nlines, dim))


@pytest.mark.parametrize("nlabels", [1, 2, 5, 40])
@pytest.mark.parametrize("scale", [0.3, 1.0, 4.0])
def test_probabilities_are_the_products_along_the_paths_and_sum_to_one(
    nlabels: int, scale: float
) -> None:
    counts, output, hidden = random_case(nlabels, nlabels, scale=scale)
    probs = HierarchicalSoftmax(counts).probabilities(output, hidden)
    expected = brute_force_probabilities(fasttext_build_tree(counts), output, hidden)
    np.testing.assert_allclose(probs, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


# SEARCH_RATIO forcing the search or scoring all nodes, and DENSE_NODES: how many inner nodes
# of the first levels the search scores by one product (for k > 1), none, some or all.
STRATEGIES = {
    "search": (0, 0),
    "search, first levels by one product": (0, 3),
    "search, all levels by one product": (0, 10**9),
    "all nodes": (10**9, 0),
}


@pytest.fixture(params=list(STRATEGIES))
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with each way top_k has of finding the labels."""
    name: str = request.param
    ratio, dense = STRATEGIES[name]
    monkeypatch.setattr(hs_module, "SEARCH_RATIO", ratio)
    monkeypatch.setattr(hs_module, "DENSE_NODES", dense)
    return name


@pytest.mark.parametrize("nlabels", [1, 2, 5, 40])
@pytest.mark.parametrize("k", [1, 2, 5, 100])
@pytest.mark.parametrize("threshold", [0.0, 0.02, 0.3])
@pytest.mark.parametrize("scale", [1.0, 6.0])
def test_top_k_finds_fasttexts_labels_in_its_order_with_true_probabilities(
    strategy: str, nlabels: int, k: int, threshold: float, scale: float
) -> None:
    """At scale 6 many labels fall under fastText's floor of about 1e-5 (it never returns
    them, even at threshold 0), and the order by summed log(p + 1e-5) can differ from the
    order by probability."""
    counts, output, hidden = random_case(nlabels, 100 * nlabels + k, scale=scale, nlines=8)
    reference = fasttext_build_tree(counts)
    probs = brute_force_probabilities(reference, output, hidden)
    top = HierarchicalSoftmax(counts).top_k(output, hidden, min(k, nlabels), threshold)
    assert top.ids.shape == (8, min(k, nlabels))
    assert top.probabilities.dtype == np.float32
    for line in range(8):
        expected = fasttext_predict(reference, output, hidden[line], k, threshold)
        found = [label for label in top.ids[line].tolist() if label >= 0]
        assert found == expected
        assert (top.ids[line, len(found) :] == -1).all()
        np.testing.assert_allclose(
            top.probabilities[line, : len(found)], probs[line, found], rtol=1e-6
        )
        assert (top.probabilities[line, len(found) :] == 0.0).all()


@pytest.mark.parametrize("k", [1, 3, 12])
def test_top_k_is_the_brute_force_top_k_when_no_label_is_rare(strategy: str, k: int) -> None:
    counts, output, hidden = random_case(12, k, scale=0.5, nlines=10)
    probs = brute_force_probabilities(fasttext_build_tree(counts), output, hidden)
    assert probs.min() > 1e-4  # far above fastText's floor: the search finds every label
    top = HierarchicalSoftmax(counts).top_k(output, hidden, k, 0.0)
    np.testing.assert_array_equal(top.ids, np.argsort(-probs, axis=1)[:, :k])
    np.testing.assert_allclose(top.probabilities, np.sort(probs, axis=1)[:, ::-1][:, :k], rtol=1e-6)


def test_top_k_drops_labels_under_fasttexts_floor_and_ranks_by_its_search_score(
    strategy: str,
) -> None:
    """Counts (5, 3, 2): label 0 hangs right of the root (row 1); labels 1 and 2 right and
    left of row 0 below it. The root splits evenly, row 0 sends all but 2e-9 right. Label 2:
    log(0.5 + 1e-5) + log(2e-9 + 1e-5) < log(1e-5), so fastText drops it even at threshold 0;
    and it ranks label 1 (p = 0.5 - 1e-9, two nodes of + 1e-5) above label 0 (p = 0.5, one)."""
    loss = HierarchicalSoftmax([5, 3, 2])
    assert loss.tree.paths[2].tolist() == [0, 1] and loss.tree.codes[2].tolist() == [0, 0]
    top = loss.top_k(np.array([[20.0], [0.0]]), np.array([[1.0]]), 3, 0.0)
    assert top.ids.tolist() == [[1, 0, -1]]
    np.testing.assert_allclose(top.probabilities, [[0.5 * sigmoid(20.0), 0.5, 0.0]], rtol=1e-7)


def test_top_k_drops_a_label_whose_way_dips_under_the_threshold(strategy: str) -> None:
    """Counts (8, 4, 2, 1, 1) make a chain: label 3 goes left at the root (p = 1/2), then
    takes three branches of p = 1 - 1e-13, each adding log(1 + 1e-5) > 0 to its search score.
    A threshold between its score at the root's child and at its leaf: fastText prunes it at
    the child, though the leaf would pass. Label 0 (right at the root) stays under it too."""
    loss = HierarchicalSoftmax([8, 4, 2, 1, 1])
    assert loss.tree.paths[3].tolist() == [0, 1, 2, 3]
    assert loss.tree.codes[3].tolist() == [1, 0, 0, 0]
    output, hidden = np.array([[30.0], [-30.0], [-30.0], [0.0]]), np.array([[1.0]])
    reference = fasttext_build_tree([8, 4, 2, 1, 1])
    between = (0.5 + OFFSET) * math.exp(1.5e-5) - OFFSET
    for threshold, expected in ((between, []), (0.4999, [3, 0])):
        top = loss.top_k(output, hidden, 2, threshold)
        found = [label for label in top.ids[0].tolist() if label >= 0]
        assert found == expected == fasttext_predict(reference, output, hidden[0], 2, threshold)


def test_k_1_finds_a_deep_label_whose_certain_steps_raise_its_search_score(
    strategy: str,
) -> None:
    """Counts 1, 1, 2, 4, ... make a chain 14 deep. Along the deepest label's path every
    branch is certain (p rounds to 1), so each step adds log(1 + 1e-5) > 0: its leaf scores
    above the nodes on its way, and a bound taken from the leaf would prune the path."""
    counts = [2**i for i in range(14, 0, -1)] + [1, 1]
    loss = HierarchicalSoftmax(counts)
    deepest = int(np.argmax(loss.tree.depths))
    assert loss.tree.depths[deepest] >= 12
    output = np.zeros((loss.output_rows, 1))
    depth = loss.tree.depths[deepest]
    path, codes = loss.tree.paths[deepest][:depth], loss.tree.codes[deepest][:depth]
    for row, code in zip(path, codes, strict=True):
        output[row] = 30.0 if code else -30.0
    hidden = np.array([[1.0]], dtype=np.float32)
    top = loss.top_k(output.astype(np.float32), hidden, 1, 0.0)
    expected = fasttext_predict(fasttext_build_tree(counts), output, hidden[0], 1, 0.0)
    assert top.ids[0].tolist() == [deepest] == expected


def test_top_k_of_no_labels_and_of_no_lines() -> None:
    counts, output, hidden = random_case(5, 0)
    loss = HierarchicalSoftmax(counts)
    assert loss.top_k(output, hidden, 0, 0.0).ids.shape == (6, 0)
    none = loss.top_k(output, hidden[:0], 3, 0.0)
    assert none.ids.shape == (0, 3) and none.probabilities.shape == (0, 3)


# -- gradients --------------------------------------------------------------------------------

EPS = 1e-6
COUNTS = [40, 20, 9, 7, 5, 3, 2, 1]  # a tree three and four deep
GOLD = [[0], [5], [5], [7], [2], [3, 6]]  # shared paths; one line with two gold labels


@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_gradient_matches_finite_differences_and_names_only_path_rows(scale: float) -> None:
    loss = HierarchicalSoftmax(COUNTS)
    rng = np.random.default_rng(int(scale * 10))
    hidden = rng.normal(scale=scale, size=(len(GOLD), 3))
    output = rng.normal(size=(len(COUNTS) - 1, 3))
    gold = Bags.of(GOLD)

    def value() -> float:
        return loss.gradient(output, hidden, gold, rng).loss

    out = loss.gradient(output, hidden, gold, rng)
    reference = fasttext_build_tree(COUNTS)
    on_paths = sorted(
        {row for labels in GOLD for label in labels for row in reference.paths[label]}
    )
    assert out.rows is not None and out.rows.dtype == np.intp
    assert out.rows.tolist() == on_paths
    np.testing.assert_allclose(
        out.d_hidden, central_difference(value, hidden), rtol=1e-6, atol=1e-7
    )
    d_output = np.zeros_like(output)
    d_output[out.rows] = out.d_output
    np.testing.assert_allclose(d_output, central_difference(value, output), rtol=1e-6, atol=1e-7)


def net_share(steps: list[FloatArray]) -> float:
    """|sum of the steps| / sum of their lengths (1 for no movement)."""
    summed = sum(float(np.linalg.norm(step)) for step in steps)
    return min(1.0, float(np.linalg.norm(np.sum(steps, axis=0))) / summed) if summed else 1.0


def test_loss_and_masses_are_binary_logistic_along_the_gold_path() -> None:
    """Per line: loss -log p(gold); line mass sum |sigmoid(s) - code| over each gold label's
    path, and each row's mass the same terms summed over the lines, each times the share of
    its steps (d B_row for a label, d h for a row) that survives their sum."""
    loss = HierarchicalSoftmax(COUNTS)
    rng = np.random.default_rng(2)
    hidden, output = rng.normal(size=(len(GOLD), 3)), rng.normal(size=(len(COUNTS) - 1, 3))
    out = loss.gradient(output, hidden, Bags.of(GOLD), rng)
    reference = fasttext_build_tree(COUNTS)
    probs = brute_force_probabilities(reference, output, hidden)
    line_mass, total = np.zeros(len(GOLD)), 0.0
    row_sizes: dict[int, float] = {}
    row_steps: dict[int, list[FloatArray]] = {}
    for line, labels in enumerate(GOLD):
        for label in labels:
            total -= math.log(probs[line, label])
            sizes, steps = 0.0, []
            for row, code in zip(reference.paths[label], reference.codes[label], strict=True):
                d = sigmoid(float(output[row] @ hidden[line])) - code
                sizes += abs(d)
                steps.append(d * output[row])
                row_sizes[row] = row_sizes.get(row, 0.0) + abs(d)
                row_steps.setdefault(row, []).append(d * hidden[line])
            line_mass[line] += sizes * net_share(steps)
    assert out.loss == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(out.line_mass, line_mass, rtol=1e-12)
    assert out.rows is not None
    row_mass = [row_sizes[row] * net_share(row_steps[row]) for row in out.rows.tolist()]
    np.testing.assert_allclose(out.row_mass, row_mass, rtol=1e-12)


def test_lines_pulling_a_row_opposite_ways_count_as_their_net_step() -> None:
    """Two labels, one node: lines of either label with one hidden vector pull the root's row
    by +-h/2: the sizes sum to 1, the steps to nothing, so the trainer leaves their summed
    step (zero) unbounded; a line alone counts its own size, 1/2."""
    loss = HierarchicalSoftmax([1, 1])
    hidden, output = np.ones((2, 3)), np.zeros((1, 3))
    both = loss.gradient(output, hidden, Bags.of([[0], [1]]), np.random.default_rng())
    np.testing.assert_allclose(both.d_output, [[0.0, 0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(both.row_mass, [0.0], atol=1e-15)
    np.testing.assert_allclose(both.line_mass, [0.5, 0.5])
    alone = loss.gradient(output, hidden[:1], Bags.of([[1]]), np.random.default_rng())
    np.testing.assert_allclose(alone.row_mass, [0.5])


def test_a_single_label_has_no_path_and_no_loss() -> None:
    loss = HierarchicalSoftmax([4])
    hidden = np.ones((2, 3))
    out = loss.gradient(np.zeros((0, 3)), hidden, Bags.of([[0], [0]]), np.random.default_rng())
    assert out.loss == 0.0 and out.rows is not None and out.rows.size == 0
    np.testing.assert_array_equal(out.d_hidden, np.zeros_like(hidden))
    assert loss.probabilities(np.zeros((0, 3)), hidden).tolist() == [[1.0], [1.0]]
    top = loss.top_k(np.zeros((0, 3)), hidden, 1, 0.0)
    assert top.ids.tolist() == [[0], [0]] and top.probabilities.tolist() == [[1.0], [1.0]]


# -- one SGD step is fastText's per-example update ---------------------------------------------

NROWS_A, DIM = 8, 5
LINES = [[1, 4, 4, 6], [2, 6], [1, 5, 6], [5], [0, 3, 7]]


def fasttext_hs_step(
    a: FloatArray, b: FloatArray, ids: list[int], label: int, lr: float, tree: ReferenceTree
) -> None:
    """fastText's supervised update for one line, in place (`HierarchicalSoftmaxLoss::forward`,
    `BinaryLogisticLoss::binaryLogistic`, `Model::update`), with an exact sigmoid."""
    h = sum(a[i] for i in ids) / len(ids)
    grad = np.zeros_like(h)
    for row, code in zip(tree.paths[label], tree.codes[label], strict=True):
        alpha = lr * (code - sigmoid(float(b[row] @ h)))
        grad += alpha * b[row]  # B before its update
        b[row] += alpha * h
    for i in ids:  # a repeated feature gets the step once per occurrence
        a[i] += grad / len(ids)


@pytest.mark.parametrize("line", range(len(LINES)))
@pytest.mark.parametrize("label", [0, 4, 7])
@pytest.mark.parametrize("lr", [0.05, 1.0, 2.5])
def test_step_of_one_line_is_fasttexts_hs_update(line: int, label: int, lr: float) -> None:
    loss = make_loss("hs", COUNTS)
    rng = np.random.default_rng(10 * line + label)
    model = Model(
        rng.normal(size=(NROWS_A, DIM)),
        rng.normal(size=(len(COUNTS) - 1, DIM)),
        np.arange(NROWS_A, dtype=np.int64),
    )
    a, b = model.input.copy(), model.output.copy()
    targets = np.full(len(LINES), label)
    batcher = Batcher(Bags.of(LINES), NROWS_A, np.float64)
    value = _step(
        model, batcher, targets, np.array([line], dtype=np.intp), loss=loss, lr=lr, rng=rng
    )

    reference = fasttext_build_tree(COUNTS)
    h = a[LINES[line]].mean(axis=0)
    probs = brute_force_probabilities(reference, b, h[None, :])
    assert value == pytest.approx(-math.log(probs[0, label]), rel=1e-12)
    off_path = sorted(set(range(len(COUNTS) - 1)) - set(reference.paths[label]))
    np.testing.assert_array_equal(model.output[off_path], b[off_path])
    fasttext_hs_step(a, b, LINES[line], label, lr, reference)
    np.testing.assert_allclose(model.input, a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.output, b, rtol=1e-12, atol=1e-14)


# -- against the fastText binding ------------------------------------------------------------

LABEL_COUNTS = {"a": 120, "b": 80, "c": 50, "d": 30, "e": 20}
TEXTS = ["a0 a1 a2", "c1 d2", "w4 w5", "e0 b1", "d0 w3"]


def binding_corpus(seed: int = 0) -> str:
    """Lines of a label's own words (a0..a2 for a) and shared ones (w0..w5): 22 words."""
    rng = np.random.default_rng(seed)
    lines = []
    for label, count in LABEL_COUNTS.items():
        for _ in range(count):
            own = [f"{label}{rng.integers(3)}" for _ in range(2)]
            shared = [f"w{rng.integers(6)}" for _ in range(3)]
            lines.append(" ".join([f"__label__{label}", *own, *shared]))
    return "\n".join(lines[i] for i in rng.permutation(len(lines))) + "\n"


# Trains the binding on the corpus and prints, as JSON, what prediction needs and gives: label
# counts, B, each text's hidden vector (the mean of its words' and </s>'s rows of A: no n-grams)
# and predictions. dim 5 and 10 threads because fastText 0.9.2 initialises A in ten blocks of
# rows x dim // 10 entries, one per thread: 22 words x 5 leave no entry uninitialised.
BINDING_PROGRAM = """
import json, sys
import fasttext
corpus, texts = sys.argv[1], json.loads(sys.argv[2])
for attempt in range(10):  # fastText 0.9.2 stops some runs with "Encountered NaN"
    try:
        model = fasttext.train_supervised(
            input=corpus, loss="hs", dim=5, epoch=50, lr=0.2, thread=10, seed=1, verbose=0
        )
        break
    except RuntimeError:
        continue
labels, counts = model.get_labels(include_freq=True)
input_ = model.get_input_matrix()
hidden = []
for text in texts:
    ids = [model.get_word_id(w) for w in text.split() + ["</s>"]]
    hidden.append(input_[[i for i in ids if i >= 0]].mean(axis=0).tolist())
def predict(k, threshold):
    out = []
    for text in texts:
        names, probs = model.predict(text, k=k, threshold=threshold)
        out.append([[labels.index(x) for x in names], [float(p) for p in probs]])
    return out
print(json.dumps({
    "counts": counts.tolist(),
    "output": model.get_output_matrix().tolist(),
    "hidden": hidden,
    "all": predict(-1, 0.0),
    "two_over_a_tenth": predict(2, 0.1),
}))
"""

# One run of BINDING_PROGRAM (fastText 0.9.2) on binding_corpus() and TEXTS, rounded. B has a
# row per label in fastText; hierarchical softmax uses the first nlabels - 1, the last stays 0.
BINDING_RUN: dict[str, Any] = {
    "counts": [120, 80, 50, 30, 20],
    "output": [
        [-4.0462852, 4.4639664, -1.0808278, -0.49350914, 1.6216035],
        [-2.4192634, -2.4408052, 0.082395256, -2.6658435, 5.8162894],
        [4.3284411, 4.4549332, 1.5680166, -4.2664814, 2.0707357],
        [0.84639376, 2.0301578, -7.3960729, 2.1513028, 2.7949688],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ],
    "hidden": [
        [0.35223594, -0.34006703, 2.4960256, -0.75460309, -1.1608335],
        [0.18698849, 1.7789212, -0.96161073, -0.44917402, 0.9923107],
        [0.97339249, 0.57613152, -0.65789872, 0.0063179233, -0.011091258],
        [0.71826094, -0.34527501, -1.0890979, 0.89143258, -0.47725332],
        [0.57121593, 1.4734539, -0.83221918, 0.035342928, -0.043061193],
    ],
    # fastText's labels and printed probabilities, exp(sum of log(p + 1e-5)) along the path.
    "all": [
        [[0], [1.00001]],
        [[2, 3, 1, 0], [0.89046681, 0.10955271, 2.3709237e-05, 1.3099442e-05]],
        [[4, 3, 2, 1, 0], [0.64699888, 0.32882935, 0.01982772, 0.0033465836, 0.0010768636]],
        [[1, 4, 0, 3, 2], [0.99264169, 0.0070985686, 0.00020425148, 8.0176498e-05, 1.5588941e-05]],
        [[3, 4, 2, 1, 0], [0.98872274, 0.0061697522, 0.0045413575, 0.00056732976, 7.8664518e-05]],
    ],
    "two_over_a_tenth": [
        [[0], [1.00001]],
        [[2, 3], [0.89046681, 0.10955271]],
        [[4, 3], [0.64699888, 0.32882935]],
        [[1], [0.99264169]],
        [[3], [0.98872274]],
    ],
}


def check_against_binding(run: dict[str, Any]) -> None:
    """Our tree from the binding's label counts, on its B and hidden vectors, returns its
    labels; our probabilities are the true ones, its printed ones recomputed from the
    reference tree with its +1e-5 per node."""
    counts = run["counts"]
    output = np.array(run["output"], np.float32)[: len(counts) - 1]
    hidden = np.array(run["hidden"], np.float32)
    loss = HierarchicalSoftmax(counts)
    reference = fasttext_build_tree(counts)
    probs = brute_force_probabilities(reference, output.astype(np.float64), hidden)
    for key, k, threshold in (("all", len(counts), 0.0), ("two_over_a_tenth", 2, 0.1)):
        top = loss.top_k(output, hidden, k, threshold)
        for line, (labels, printed) in enumerate(run[key]):
            assert [i for i in top.ids[line].tolist() if i >= 0] == labels
            np.testing.assert_allclose(
                top.probabilities[line, : len(labels)], probs[line, labels], rtol=1e-5
            )
            inflated = [
                math.prod(
                    (p if code else 1.0 - p) + OFFSET
                    for row, code in zip(
                        reference.paths[label], reference.codes[label], strict=True
                    )
                    for p in [sigmoid(float(output[row] @ hidden[line]))]
                )
                for label in labels
            ]
            np.testing.assert_allclose(printed, inflated, rtol=1e-5, atol=1e-7)


def test_predictions_match_a_checked_in_binding_run() -> None:
    check_against_binding(BINDING_RUN)


def test_predictions_match_the_binding_trained_now(tmp_path: Path) -> None:
    if not BINDING_PYTHON.exists():
        pytest.skip(f"no fastText binding environment at {BINDING_PYTHON}")
    if subprocess.run([str(BINDING_PYTHON), "-c", "import fasttext"]).returncode != 0:
        pytest.skip("the fastText binding is not importable")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(binding_corpus())
    done = subprocess.run(
        [str(BINDING_PYTHON), "-c", BINDING_PROGRAM, str(corpus), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    check_against_binding(json.loads(done.stdout))


# -- end to end --------------------------------------------------------------------------------


def hs_classifier(tmp_path: Path) -> FastTextClassifier:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(binding_corpus())
    return FastTextClassifier(loss="hs", dim=10, epoch=10, lr=0.5, seed=1).fit_file(corpus)


def test_classifier_trains_and_predicts_with_hs(tmp_path: Path) -> None:
    clf = hs_classifier(tmp_path)
    assert clf.predict(["a0 a1", "c1 c2", "e0 e2"]).tolist() == ["a", "c", "e"]
    np.testing.assert_allclose(clf.predict_proba(TEXTS).sum(axis=1), 1.0, rtol=1e-5)
    assert clf.top_k(["a0 a1"], k=1)[0][0].label == "a"


def test_an_hs_model_reads_back_as_written(tmp_path: Path) -> None:
    clf = hs_classifier(tmp_path)
    clf.save(tmp_path / "hs.ftl")
    again = FastTextClassifier.load(tmp_path / "hs.ftl")
    assert again.top_k(TEXTS, k=3) == clf.top_k(TEXTS, k=3)


def test_line_weights_scale_each_lines_gradients_not_the_loss() -> None:
    loss = HierarchicalSoftmax(COUNTS)
    rng = np.random.default_rng(4)
    hidden, output = rng.normal(size=(len(GOLD), 3)), rng.normal(size=(len(COUNTS) - 1, 3))
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 1.5])
    plain = loss.gradient(output, hidden, Bags.of(GOLD), rng)
    weighted = loss.gradient(output, hidden, Bags.of(GOLD), rng, weights)
    assert weighted.loss == plain.loss
    np.testing.assert_allclose(weighted.d_hidden, plain.d_hidden * weights[:, None], rtol=1e-12)
    np.testing.assert_allclose(weighted.line_mass, plain.line_mass * weights, rtol=1e-12)
    d_output = np.zeros_like(output)
    for line, labels in enumerate(GOLD):  # each line alone, scaled, summed
        alone = loss.gradient(output, hidden[line : line + 1], Bags.of([labels]), rng)
        assert alone.rows is not None
        d_output[alone.rows] += weights[line] * alone.d_output
    assert weighted.rows is not None
    np.testing.assert_allclose(weighted.d_output, d_output[weighted.rows], rtol=1e-12)
