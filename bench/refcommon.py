"""What the reference scripts (fasttext_ref.py, sklearn_ref.py) share: timing `predict`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from typing import Any


def timed_predict(
    args: argparse.Namespace,
    load: Callable[[str], Any],
    predict: Callable[[Any, list[str]], Iterable[str]],
) -> dict[str, Any]:
    """Load the model, then read `args.file`, predict every line and write one output line per
    line to `args.out`; the time to load and the time for the rest, separately."""
    t0 = time.perf_counter()
    model = load(args.model)
    t1 = time.perf_counter()
    with open(args.file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    outputs = predict(model, lines)
    with open(args.out, "w", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in outputs)
    t2 = time.perf_counter()
    return {"lines": len(lines), "load_s": t1 - t0, "predict_s": t2 - t1}
