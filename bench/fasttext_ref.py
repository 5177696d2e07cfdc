"""Reference runs of fastText through its Python binding, one mode per process.

The benchmark runs this script in a subprocess so that its wall time and peak RSS are
measured alone. Its options mirror ``ftl``'s, so the same argument list drives both.

Modes (each prints one JSON object on stdout)::

    fasttext_ref.py train CORPUS -o MODEL [--lr F] [--epoch N] [--dim N] [--word-ngrams N]
                    [--bucket N] [--minn N] [--maxn N] [--min-count N] [--loss softmax|ova]
                    [--seed N] [--threads N] [--shuffle-lines] [--one-core]
    fasttext_ref.py eval TEST -m MODEL [-k K ...]
    fasttext_ref.py predict FILE -m MODEL [-k K] [--out PATH]

``train --shuffle-lines`` trains on a copy of CORPUS with its lines in a random order drawn
from ``--seed`` (written beside MODEL and removed afterwards). fastText reads its input in file
order every epoch, each thread starting from its own point in the file; on a copy, every seed
also draws a new order, which shows how much of a result comes from the file's order.

``train --one-core`` pins the process, and so all of fastText's threads, to one CPU: the
threads then take turns instead of updating the shared weights at the same moment, which
shows how much of a multi-thread result comes from truly concurrent (Hogwild) updates.

``predict`` reads FILE, calls ``model.predict(list_of_lines, k)`` once and writes one line of
labels per input line to ``--out`` (default /dev/null). It reports the time of that loop
(read + predict + write) apart from the time of loading the model.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from typing import Any

import fasttext  # type: ignore[import-untyped]
from refcommon import make_parser, run, timed_predict


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {
        "input": args.corpus,
        "thread": args.threads,
        "seed": args.seed,
        "verbose": 0,
    }
    optional = {
        "lr": args.lr,
        "epoch": args.epoch,
        "dim": args.dim,
        "wordNgrams": args.word_ngrams,
        "bucket": args.bucket,
        "minn": args.minn,
        "maxn": args.maxn,
        "minCount": args.min_count,
        "loss": args.loss,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    shuffled = f"{args.output}.shuffled.txt"
    if args.shuffle_lines:
        with open(args.corpus, encoding="utf-8") as f:
            lines = f.readlines()
        random.Random(args.seed).shuffle(lines)
        with open(shuffled, "w", encoding="utf-8") as f:
            f.writelines(lines)
        params["input"] = shuffled
    if args.one_core:
        # Threads inherit the affinity of the thread that starts them.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        t0 = time.perf_counter()
        model = fasttext.train_supervised(**params)
        t1 = time.perf_counter()
    finally:
        if args.shuffle_lines:
            os.remove(shuffled)
    model.save_model(args.output)
    t2 = time.perf_counter()
    return {
        "train_s": t1 - t0,
        "save_s": t2 - t1,
        "params": {k: v for k, v in params.items() if k != "input"},
        "words": len(model.words),
        "labels": len(model.labels),
    }


def cmd_eval(args: argparse.Namespace) -> dict[str, Any]:
    model = fasttext.load_model(args.model)
    results = []
    for k in args.k or [1]:
        n, precision, recall = model.test(args.test, k=k)
        results.append({"k": k, "n": n, "precision": precision, "recall": recall})
    return {"results": results}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    def predict(model: Any, lines: list[str]) -> list[str]:
        labels, _ = model.predict(lines, k=args.k)
        return [" ".join(row) for row in labels]

    return timed_predict(args, fasttext.load_model, predict)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap, tr = make_parser(__doc__)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--epoch", type=int)
    tr.add_argument("--dim", type=int)
    tr.add_argument("--word-ngrams", type=int)
    tr.add_argument("--bucket", type=int)
    tr.add_argument("--minn", type=int)
    tr.add_argument("--maxn", type=int)
    tr.add_argument("--min-count", type=int)
    tr.add_argument("--loss", choices=["softmax", "ova", "hs", "ns"])
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--threads", type=int, default=1)
    tr.add_argument("--shuffle-lines", action="store_true", help="train on a shuffled copy")
    tr.add_argument("--one-core", action="store_true", help="run all threads on one CPU")
    tr.add_argument("--quiet", action="store_true", help="accepted for ftl compatibility")

    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    handlers = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict}
    return run(parse_args(argv), handlers)


if __name__ == "__main__":
    sys.exit(main())
