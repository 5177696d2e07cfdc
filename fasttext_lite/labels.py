"""The labels given to `fit`, as the label names a model knows, and back.

A model's labels are tokens (fastText's `__label__` + name). `fit` takes any hashable labels:
a str is its own name (a leading label prefix is taken off once, as it is the file format's
and not part of the name); anything else is named by `str()`, and comes back from `classes_`
as itself. A model file keeps the names, and whether they were all integers.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ParameterError
from fasttext_lite.text.tokens import tokenize

# Containers that hold several labels of one text; anything else is one label.
_SEVERAL = (list, tuple, set, frozenset, np.ndarray)


def names_of(labels: Sequence[Any], prefix: str) -> tuple[list[list[str]], dict[str, Hashable]]:
    """Each text's label names, and the label each name stands for.

    >>> names_of([0, [1, "__label__x"]], "__label__")
    ([['0'], ['1', 'x']], {'0': 0, '1': 1, 'x': '__label__x'})
    """
    names: list[list[str]] = []
    given: dict[str, Hashable] = {}
    for entry in labels:
        several = isinstance(entry, _SEVERAL)
        text_names = []
        for label in entry if several else [entry]:
            name = _name(label, prefix)
            if given.setdefault(name, label) != label:
                raise ParameterError(
                    "labels", f"{given[name]!r} and {label!r} have the same name {name!r}"
                )
            text_names.append(name)
        names.append(text_names)
    return names, given


def _name(label: object, prefix: str) -> str:
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or not isinstance(label, Hashable):
        raise ParameterError("labels", f"each label must be a hashable value, got {label!r}")
    name = label.removeprefix(prefix) if isinstance(label, str) else str(label)
    if tokenize(name) != [name]:
        raise ParameterError("labels", f"each label must be one token, got {label!r}")
    return name


def classes(names: Sequence[str], given: dict[str, Hashable] | None) -> npt.NDArray[Any]:
    """The labels in model order as an array: as given to `fit` (str labels as str, ints as
    ints), or the names themselves."""
    if given is None:
        return np.array(names, dtype=str) if names else np.array([], dtype=str)
    values = [given[name] for name in names]
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=str)
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, numbers.Integral) for v in values):
        return np.array(values, dtype=np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
