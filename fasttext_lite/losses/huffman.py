"""fastText's Huffman tree over the labels (`HierarchicalSoftmaxLoss::buildTree` in
`src/loss.cc`), node for node, so that a model file written by fastText reads back with the same
paths. Only the tree: scoring and training on it are `losses.hs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

# fastText's count of an inner node not built yet: larger than any label count, so that the
# merge takes a leaf whenever one is left with a smaller count than the next inner node. (Here
# it is raised above the total count if need be: fastText's tree breaks beyond 10^15.)
_UNBUILT = 10**15


class HuffmanTree(NamedTuple):
    """fastText's tree over n labels. Nodes 0..n-1 are the labels; node n + r is inner node r,
    scored with row r of B (so B has n - 1 rows); the root is node 2n - 2. An inner node's right
    child is the branch of code 1, taken with probability sigmoid(score).

    >>> tree = huffman_tree([5, 3, 2])
    >>> tree.left.tolist(), tree.right.tolist()  # node 3 joins labels 2 and 1, node 4 the rest
    ([2, 3], [1, 0])
    >>> tree.paths.tolist(), tree.codes.tolist(), tree.depths.tolist()
    ([[1, 0], [0, 1], [0, 1]], [[1, 0], [1, 0], [0, 0]], [1, 2, 2])
    """

    left: npt.NDArray[np.intp]  # (n - 1,): inner node r's code-0 child, a node id
    right: npt.NDArray[np.intp]  # (n - 1,): its code-1 child
    # (n, depth): each label's inner nodes (rows of B) from its parent up to the root, as
    # fastText lists them, padded after the root with row 0 (see `depths`).
    paths: npt.NDArray[np.intp]
    codes: npt.NDArray[np.int8]  # (n, depth): the branch taken at each path node; padding 0
    depths: npt.NDArray[np.intp]  # (n,): the length of each label's path

    @property
    def nlabels(self) -> int:
        return int(self.depths.size)

    def mask(self) -> npt.NDArray[np.bool_]:
        """(n, depth): True where `paths` holds a node of the path, False on padding."""
        return np.arange(self.paths.shape[1]) < self.depths[:, None]

    def levels(self) -> list[npt.NDArray[np.intp]]:
        """The inner nodes (rows of B) by their distance from the root: [[root], its inner
        children, ...]; a parent always comes a level before its children."""
        n = self.nlabels
        if n < 2:
            return []
        found = [np.array([n - 2], dtype=np.intp)]
        while True:
            children = np.concatenate([self.left[found[-1]], self.right[found[-1]]])
            inner = np.sort(children[children >= n]) - n
            if inner.size == 0:
                return found
            found.append(inner)


def huffman_tree(counts: Sequence[int]) -> HuffmanTree:
    """fastText's tree for labels with these counts, given in fastText's label order (by count,
    descending; the order decides the tree where counts tie).

    fastText merges the two smallest of (the leaves not yet merged, taken from the last label
    back, and the inner nodes built so far, in the order built), preferring the inner node when
    counts tie; the first taken becomes the left (code 0) child.
    """
    n = len(counts)
    if n == 0:
        raise ValueError("a Huffman tree needs at least one label")
    count = [int(c) for c in counts]
    count += [max(_UNBUILT, sum(count) + 1)] * (n - 1)
    parent = [-1] * (2 * n - 1)
    is_right = [0] * (2 * n - 1)
    left, right = [0] * (n - 1), [0] * (n - 1)
    leaf, node = n - 1, n
    for new in range(n, 2 * n - 1):
        pair = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                pair[j], leaf = leaf, leaf - 1
            else:
                pair[j], node = node, node + 1
        left[new - n], right[new - n] = pair
        count[new] = count[pair[0]] + count[pair[1]]
        parent[pair[0]] = parent[pair[1]] = new
        is_right[pair[1]] = 1
    return _with_paths(np.array(left, np.intp), np.array(right, np.intp), parent, is_right)


def _with_paths(
    left: npt.NDArray[np.intp], right: npt.NDArray[np.intp], parent: list[int], is_right: list[int]
) -> HuffmanTree:
    """The tree with each label's path up to the root, climbing from all leaves at once."""
    n = left.size + 1
    parents, rights = np.array(parent, np.intp), np.array(is_right, np.int8)
    at = np.arange(n, dtype=np.intp)
    depths = np.zeros(n, dtype=np.intp)
    paths, codes = [np.zeros((n, 0), np.intp)], [np.zeros((n, 0), np.int8)]
    while True:
        up = parents[at]
        climbing = up >= 0
        if not climbing.any():
            break
        paths.append(np.where(climbing, up - n, 0)[:, None])
        codes.append(np.where(climbing, rights[at], 0).astype(np.int8)[:, None])
        depths += climbing
        at = np.where(climbing, up, at)
    return HuffmanTree(left, right, np.hstack(paths), np.hstack(codes), depths)
