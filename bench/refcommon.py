"""What the reference scripts (fasttext_ref.py, sklearn_ref.py) share: timing `predict`."""

from __future__ import annotations

import argparse
import json
import sys
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


def make_parser(doc: str | None, k_help: str | None = None) -> tuple[argparse.ArgumentParser, Any]:
    """The reference scripts' command line: `train CORPUS -o MODEL` (the caller adds its
    options to the returned train parser), `eval TEST -m MODEL [-k K]...`, and
    `predict FILE -m MODEL [-k K] [--out OUT]`, named as ftl names them."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    train = sub.add_parser("train")
    train.add_argument("corpus")
    train.add_argument("-o", "--output", required=True)
    ev = sub.add_parser("eval")
    ev.add_argument("test")
    ev.add_argument("-m", "--model", required=True)
    ev.add_argument("-k", type=int, action="append", help=k_help)
    pr = sub.add_parser("predict")
    pr.add_argument("file")
    pr.add_argument("-m", "--model", required=True)
    pr.add_argument("-k", type=int, default=1, help=k_help)
    pr.add_argument("--out", default="/dev/null")
    return ap, train


def run(
    args: argparse.Namespace, handlers: dict[str, Callable[[argparse.Namespace], dict[str, Any]]]
) -> int:
    """Run the chosen mode and print its result as one JSON line."""
    json.dump(handlers[args.mode](args), sys.stdout)
    sys.stdout.write("\n")
    return 0
