"""Hierarchical softmax (fastText `HierarchicalSoftmaxLoss`): a binary logistic loss at each
inner node on the gold label's path in fastText's Huffman tree (`losses.huffman`).

Training touches only the nodes on the gold labels' paths. Prediction follows fastText's pruned
search and returns its labels in its order, with the true probabilities (fastText ranks and
thresholds by sums of log(p + 1e-5) and prints their exponential). Exact exp/log, where
fastText uses lookup tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.arrays.bags import Bags, indptr_of, take_rows
from fasttext_lite.losses.base import FloatArray, OutputGradient, TopLabels, per_line
from fasttext_lite.losses.huffman import huffman_tree
from fasttext_lite.losses.ova import sigmoid

# fastText's `std_log` adds this before taking a logarithm in its search: a label is found only
# if every node on its path keeps the summed log(p + 1e-5) at or above log(threshold + 1e-5),
# so even at threshold 0 labels below about 1e-5 are left out, as fastText leaves them out.
SEARCH_LOG_OFFSET = 1e-5

# top_k searches the tree a level at a time, expanding only the nodes that can still hold one
# of the k best labels, for k up to 1/SEARCH_RATIO of the labels; for larger k, scoring every
# node with one matrix product is faster (CPU time, 1,000 lines: they break even near k = 10 of
# cooking's 735 labels and k = 150 of 9,667 generated ones).
SEARCH_RATIO = 70

# The search scores the inner nodes of the tree's first levels, up to DENSE_NODES of them, for
# all lines at once with one matrix product: the search expands many nodes there, and a
# product costs far less per score than gathering each node's row.
DENSE_NODES = 1024

# How far under the greedy leaf's score the search starts its bound for k = 1: the search sums
# the same terms again, and may round them differently in the last bit.
_BOUND_MARGIN = 1e-4


class HierarchicalSoftmax:
    """
    >>> hs = HierarchicalSoftmax([5, 3, 2])
    >>> hs.output_rows, hs.tree.paths[2].tolist(), hs.tree.codes[2].tolist()
    (2, [0, 1], [0, 0])
    >>> hs.probabilities(np.zeros((2, 4)), np.ones((1, 4))).tolist()  # B = 0: each branch 1/2
    [[0.5, 0.25, 0.25]]
    """

    multi_label = False
    # A line updates only its path's nodes: on cooking (dim 50, 3 seeds) batches of up to 256
    # lines trained in 2.1-2.2 s instead of 4.0-4.4 s (at most 62 lines, 200 steps an epoch),
    # P@1 0.540 against 0.537.
    batch_steps = 40

    def __init__(self, label_counts: Sequence[int]) -> None:
        self.tree = huffman_tree(label_counts)
        self.output_rows = len(label_counts) - 1
        # Each label's path as a CSR row: its nodes (rows of B) and codes, from its parent up.
        mask = self.tree.mask()
        self._path_starts = indptr_of(self.tree.depths)
        self._path_rows = self.tree.paths[mask]
        self._path_codes = self.tree.codes[mask]
        self._levels = self.tree.levels()
        # The levels from the root on that hold at most DENSE_NODES inner nodes in all.
        sizes = np.cumsum([rows.size for rows in self._levels])
        self._dense_levels = self._levels[: int(np.searchsorted(sizes, DENSE_NODES, "right"))]

    def gradient(
        self,
        output: FloatArray,
        hidden: FloatArray,
        gold: Bags,
        rng: np.random.Generator,
        weights: FloatArray | None = None,
    ) -> OutputGradient:
        """The summed loss of each line's gold labels (the trainer gives one per line); with
        `weights`, each line's gradients scaled by its weight (the loss unweighted)."""
        # One entry per (gold label, node on its path), grouped by gold label: no padding, so
        # the work follows the labels' path lengths (7 on average on cooking, where the
        # deepest path has 16 nodes).
        pairs = take_rows(self._path_starts, gold.indices)
        nodes = self._path_rows[pairs.positions]
        codes = self._path_codes[pairs.positions].astype(hidden.dtype)
        owners = gold.owners
        line = owners[pairs.owner]
        # np.take rather than fancy indexing: several times faster for rows of a matrix.
        node_rows = np.take(output, nodes, axis=0)
        scores = np.einsum("pd,pd->p", np.take(hidden, line, axis=0), node_rows)
        # log(1 + e^s) - code s, the binary cross-entropy of sigmoid(s), without overflow.
        loss = float(np.sum((1.0 - codes) * scores - _log_sigmoid(scores)))
        d_scores = (sigmoid(scores) - codes).astype(hidden.dtype, copy=False)
        if weights is not None:
            d_scores *= weights.astype(hidden.dtype)[line]

        # The entries as a sparse (gold labels, rows of B) matrix: its product with B sums
        # them by gold label, and its transpose (scipy sorts by row of B in C, in linear time)
        # by row of B, for the touched rows only.
        by_gold = sp.csr_array(
            (d_scores, nodes, pairs.indptr), shape=(gold.indices.size, output.shape[0])
        )
        by_row = by_gold.tocsc()
        rows = np.flatnonzero(np.diff(by_row.indptr))
        row_starts = np.append(by_row.indptr[rows], by_row.indptr[-1])
        touched = sp.csr_array(
            (by_row.data, by_row.indices, row_starts), shape=(rows.size, gold.indices.size)
        )
        gold_hidden = np.take(hidden, owners, axis=0)
        d_output = np.asarray(touched @ gold_hidden)
        size = np.abs(d_scores)
        d_gold = np.asarray(by_gold @ output)
        # A gold label's mass, as a row's (`_net_mass`): the nodes of a path point different
        # ways, so its step on the hidden vector is shorter than their steps' lengths summed.
        lengths = size * np.linalg.norm(node_rows, axis=1)
        summed = np.bincount(pairs.owner, lengths, gold.indices.size).astype(hidden.dtype)
        gold_mass = np.bincount(pairs.owner, size, gold.indices.size) * _surviving(
            np.linalg.norm(d_gold, axis=1), summed
        )
        gold_mass = gold_mass.astype(hidden.dtype)
        return OutputGradient(
            loss=loss,
            d_hidden=per_line(d_gold, owners, gold.nlines),
            rows=rows.astype(np.intp),
            d_output=d_output,
            line_mass=per_line(gold_mass, owners, gold.nlines),
            row_mass=_net_mass(touched, d_output, gold_hidden),
        )

    def probabilities(self, output: FloatArray, hidden: FloatArray) -> FloatArray:
        """Each label's probability: the product of the branch probabilities on its path."""
        n, tree = self.tree.nlabels, self.tree
        # Nodes by lines, so that a level's nodes are rows: contiguous, twice as fast.
        scores = output @ hidden.T
        log_p = np.zeros((2 * n - 1, hidden.shape[0]), scores.dtype)
        for rows in self._levels:
            s, above = scores[rows], log_p[n + rows]
            log_right = above + _log_sigmoid(s)
            log_p[tree.right[rows]] = log_right
            log_p[tree.left[rows]] = log_right - s
        result: FloatArray = np.exp(log_p[:n].T)
        return result

    def top_k(self, output: FloatArray, hidden: FloatArray, k: int, threshold: float) -> TopLabels:
        """fastText's labels for each line, in fastText's order, with true probabilities.

        fastText's depth-first search skips a node whose summed log(p + 1e-5) falls below
        log(threshold + 1e-5) or below the k-th best label found so far. Both searches here
        find the labels it finds, in its order, but for scores equal up to rounding: fastText
        sums in float32 and breaks exact ties by the state of its heap (on cooking, k = -1,
        42 of 1,000 lines order two labels within 1e-6 of each other differently).
        """
        k = min(k, self.tree.nlabels)
        if k == 0:
            empty = np.zeros((hidden.shape[0], 0))
            return TopLabels(empty.astype(np.intp), empty.astype(np.float32))
        if k * SEARCH_RATIO <= self.tree.nlabels:
            ids, log_p = self._search(output, hidden, k, threshold)
        else:
            scores, all_log_p = self._score_all(output, hidden, threshold)
            ids = _best(scores, k)
            log_p = np.take_along_axis(all_log_p, np.maximum(ids, 0).T, axis=0).T
        probs = np.where(ids >= 0, np.exp(log_p), 0.0).astype(np.float32)
        return TopLabels(ids, probs)

    def _score_all(
        self, output: FloatArray, hidden: FloatArray, threshold: float
    ) -> tuple[FloatArray, FloatArray]:
        """(labels, lines) twice: each label's search score, -inf where the search never
        reaches it whatever k (a node on its path is under the threshold); and its
        log-probability. Nodes by lines, as in `probabilities`."""
        n, tree = self.tree.nlabels, self.tree
        floor = _search_log(threshold)
        scores = output @ hidden.T
        f = sigmoid(scores)
        shape = (2 * n - 1, hidden.shape[0])
        found, lowest, log_p = (np.zeros(shape, scores.dtype) for _ in range(3))
        for rows in self._levels:
            s, above = scores[rows], n + rows
            log_right = _log_sigmoid(s)
            for child, p, log_branch in (
                (tree.left[rows], 1.0 - f[rows], log_right - s),
                (tree.right[rows], f[rows], log_right),
            ):
                found[child] = found[above] + _search_log(p)
                lowest[child] = np.minimum(lowest[above], found[child])
                log_p[child] = log_p[above] + log_branch
        leaves = found[:n]
        leaves[lowest[:n] < floor] = -np.inf
        return leaves, log_p[:n]

    def _search(
        self, output: FloatArray, hidden: FloatArray, k: int, threshold: float
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """(lines, k) twice: the k labels of highest search score, best first (-1 past those
        the search reaches), and their log-probabilities. The tree is searched a level at a
        time for all lines at once; each line expands only the nodes whose score is at or
        above the threshold's and its k-th best label found so far, as fastText's search."""
        n, tree = self.tree.nlabels, self.tree
        nlines = hidden.shape[0]
        floor = _search_log(threshold)
        line = np.arange(nlines)
        node = np.full(nlines, 2 * n - 2, dtype=np.intp)
        score = np.zeros(nlines, hidden.dtype)
        log_p = np.zeros(nlines, hidden.dtype)
        # Each line's k-th best label so far. For k = 1, the leaf that the more probable
        # branch at every node leads to is a label the search finds: starting from its score
        # prunes from the first level on, where a level-by-level search otherwise expands
        # every node until it reaches leaves (on 10,000 labels, 4x as slow).
        bound = np.full(nlines, -np.inf, hidden.dtype)
        # For k = 1 the bound prunes hard from the start, and the product would cost more than
        # it saves (on cooking, 2x); for k > 1, many nodes of the first levels are expanded.
        dense = self._dense_levels if k > 1 else []
        scores, level = _NodeScores(output, hidden, dense), 0
        if k == 1:
            bound = self._greedy_score(scores, float(floor)) - _BOUND_MARGIN
        found = _Found.none(hidden.dtype)
        while line.size:
            keep = (score >= floor) & (score >= bound[line])
            line, node, score, log_p = line[keep], node[keep], score[keep], log_p[keep]
            leaf = node < n
            if leaf.any():
                found = found.add(line[leaf], node[leaf], score[leaf], log_p[leaf], k)
                last = found.rank == k - 1
                bound[found.line[last]] = found.score[last]
                inner = ~leaf
                line, node, score, log_p = line[inner], node[inner], score[inner], log_p[inner]
            rows = node - n
            s = scores(level, line, rows)
            level += 1
            f = sigmoid(s)
            line = np.concatenate([line, line])
            node = np.concatenate([tree.left[rows], tree.right[rows]])
            score = np.concatenate([score + _search_log(1.0 - f), score + _search_log(f)])
            log_right = log_p + _log_sigmoid(s)
            log_p = np.concatenate([log_right - s, log_right])
        ids = np.full((nlines, k), -1, dtype=np.intp)
        ids[found.line, found.rank] = found.label
        found_log_p = np.zeros((nlines, k), hidden.dtype)
        found_log_p[found.line, found.rank] = found.log_p
        return ids, found_log_p

    def _greedy_score(self, scores: _NodeScores, floor: float) -> FloatArray:
        """(lines,): the lowest search score on the path that takes the more probable branch
        at every node, or -inf where a node on the way falls under `floor`. The lowest, not
        the leaf's: a step adds log(p + 1e-5), above zero where p rounds to 1, so a path's
        score can rise, and a bound above a node on the path would prune its own leaf."""
        n, tree = self.tree.nlabels, self.tree
        hidden = scores.hidden
        nlines, level = hidden.shape[0], 0
        node = np.full(nlines, 2 * n - 2, dtype=np.intp)
        score = np.zeros(nlines, hidden.dtype)
        lowest = np.zeros(nlines, hidden.dtype)
        line = np.arange(nlines) if n > 1 else np.zeros(0, np.intp)
        while line.size:
            rows = node[line] - n
            s = scores(level, line, rows)
            level += 1
            f = sigmoid(s)
            right = s >= 0.0
            score[line] += _search_log(np.where(right, f, 1.0 - f))
            lowest[line] = np.minimum(lowest[line], score[line])
            node[line] = np.where(right, tree.right[rows], tree.left[rows])
            line = line[node[line] >= n]
        result: FloatArray = np.where(lowest >= floor, lowest, -np.inf)
        return result


def _net_mass(touched: sp.csr_array, d_output: FloatArray, hidden: FloatArray) -> FloatArray:
    """Each touched row's summed |d loss / d score| (`touched`: (rows, gold labels)), times
    the share of its gold labels' steps that survives their sum: |sum of d h| / sum of |d h|.

    The trainer bounds the steps a batch sends a row by this mass. Near the root, each node
    is on the paths of most lines, which pull it towards their side of the tree: opposite
    ways, so that the summed step is far shorter than the sum of the steps' lengths. Counting
    the sizes alone slows the top of the tree most (docs/decisions.md). A row that one line
    uses, or whose lines agree, keeps the plain sum: one line's step is never bounded.
    """
    if touched.shape[0] == 0:
        return np.zeros(0, hidden.dtype)
    size = np.abs(touched.data)
    lengths = size * np.take(np.linalg.norm(hidden, axis=1), touched.indices)
    starts = touched.indptr[:-1]
    mass: FloatArray = np.add.reduceat(size, starts) * _surviving(
        np.linalg.norm(d_output, axis=1), np.add.reduceat(lengths, starts)
    )
    return mass.astype(hidden.dtype)


def _surviving(net: FloatArray, summed: FloatArray) -> FloatArray:
    """net / summed lengths, at most 1 (rounding), and 1 where nothing moves."""
    share: FloatArray = np.minimum(
        np.divide(net, summed, out=np.ones_like(summed), where=summed > 0), 1.0
    )
    return share


class _NodeScores:
    """The scores of inner nodes for lines: a matrix product for the first levels (`dense`),
    dot products of gathered rows below."""

    def __init__(
        self, output: FloatArray, hidden: FloatArray, dense: list[npt.NDArray[np.intp]]
    ) -> None:
        self.output, self.hidden = output, hidden
        self.levels = len(dense)
        rows = np.concatenate(dense) if dense else np.zeros(0, np.intp)
        self.column = np.zeros(output.shape[0], np.intp)
        self.column[rows] = np.arange(rows.size)
        self.top = hidden @ np.take(output, rows, axis=0).T  # (lines, dense rows)

    def __call__(
        self, level: int, line: npt.NDArray[np.intp], rows: npt.NDArray[np.intp]
    ) -> FloatArray:
        """The scores of inner nodes `rows` (all at `level`) for lines `line`."""
        if level < self.levels:
            dense: FloatArray = self.top[line, self.column[rows]]
            return dense
        result: FloatArray = np.einsum(
            "ij,ij->i", np.take(self.hidden, line, axis=0), np.take(self.output, rows, axis=0)
        )
        return result


def _log_sigmoid(s: FloatArray) -> FloatArray:
    """log sigmoid(s), without overflow; log sigmoid(-s) is this minus s. (log(1 + e^-|s|)
    rather than log1p: its error is below 1e-7 in float32 either way, and it is 7x as fast
    as np.logaddexp.)"""
    result: FloatArray = np.minimum(s, 0.0) - np.log(1.0 + np.exp(-np.abs(s)))
    return result


def _search_log(p: FloatArray | float) -> FloatArray:
    """fastText's `std_log`: log(p + 1e-5)."""
    result: FloatArray = np.log(np.asarray(p) + SEARCH_LOG_OFFSET)
    return result


class _Found(NamedTuple):
    """The labels a search has reached, each line's best k so far, by line and rank."""

    line: npt.NDArray[np.intp]
    label: npt.NDArray[np.intp]
    score: FloatArray  # the search's
    log_p: FloatArray
    rank: npt.NDArray[np.intp]  # 0 for a line's best

    @classmethod
    def none(cls, dtype: np.dtype[np.floating] | type[np.floating]) -> _Found:
        empty = np.zeros(0, np.intp)
        return cls(empty, empty, np.zeros(0, dtype), np.zeros(0, dtype), empty)

    def add(
        self,
        line: npt.NDArray[np.intp],
        label: npt.NDArray[np.intp],
        score: FloatArray,
        log_p: FloatArray,
        k: int,
    ) -> _Found:
        """These and the new labels, keeping each line's best k."""
        line = np.concatenate([self.line, line])
        label = np.concatenate([self.label, label])
        score = np.concatenate([self.score, score])
        log_p = np.concatenate([self.log_p, log_p])
        order = np.lexsort((-score, line))
        line, label, score, log_p = line[order], label[order], score[order], log_p[order]
        starts = np.flatnonzero(np.diff(line, prepend=-1))
        rank = np.arange(line.size) - np.repeat(starts, np.diff(np.append(starts, line.size)))
        kept = rank < k
        return _Found(line[kept], label[kept], score[kept], log_p[kept], rank[kept])


def _best(scores: FloatArray, k: int) -> npt.NDArray[np.intp]:
    """(lines, k): the k highest-scoring labels of each column of `scores` (labels, lines),
    best first; -1 for places past the labels with a finite score."""
    top = scores.argmax(axis=0)[None] if k == 1 else np.argpartition(-scores, k - 1, axis=0)[:k]
    top_scores = np.take_along_axis(scores, top, axis=0).T
    order = np.argsort(-top_scores, axis=1, kind="stable")
    top = np.take_along_axis(top.T, order, axis=1)
    top[~np.isfinite(np.take_along_axis(top_scores, order, axis=1))] = -1
    return top.astype(np.intp)
