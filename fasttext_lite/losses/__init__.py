"""The losses, by name: each a module owning the output layer (see `losses.base`)."""

from __future__ import annotations

from collections.abc import Sequence

from fasttext_lite.losses.base import Loss, LossFactory, OutputGradient, TopLabels
from fasttext_lite.losses.hs import HierarchicalSoftmax
from fasttext_lite.losses.ns import NegativeSampling
from fasttext_lite.losses.ova import OneVsAll
from fasttext_lite.losses.softmax import Softmax

LOSSES: dict[str, LossFactory] = {
    "softmax": Softmax,
    "ova": OneVsAll,
    "hs": HierarchicalSoftmax,
    "ns": NegativeSampling,
}


def make_loss(
    name: str, label_counts: Sequence[int], *, neg: int = 5, fasttext_sigmoid: bool = False
) -> Loss:
    """The loss `name` for labels with these counts (hierarchical softmax builds its tree
    from them; negative sampling draws by them, `neg` a line). With `fasttext_sigmoid`, the
    sigmoid losses predict with fastText's table sigmoid, as for models fastText trained."""
    loss: Loss = (
        NegativeSampling(label_counts, neg=neg) if name == "ns" else LOSSES[name](label_counts)
    )
    if fasttext_sigmoid and isinstance(loss, (OneVsAll, NegativeSampling)):
        loss.fasttext_table = True
    return loss


__all__ = ["LOSSES", "Loss", "OutputGradient", "TopLabels", "make_loss"]
