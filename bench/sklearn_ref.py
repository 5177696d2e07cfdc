"""scikit-learn baseline: HashingVectorizer + SGDClassifier (one-vs-rest), top-1 only.

Run by the benchmark in a subprocess, like ``fasttext_ref.py``, with the same option names
where they apply (``--epoch`` -> ``max_iter``, ``--word-ngrams`` -> ``ngram_range``,
``--threads`` -> ``n_jobs``, ``--seed`` -> ``random_state``). Options that have no meaning
here (``--lr``, ``--dim``, ``--bucket``, ...) are accepted and ignored.

Tokens are the whitespace-separated words of a line, as in fastText (no lowercasing, no
regex). A line with several labels is trained on its first label only; evaluation counts a
hit when the predicted label is any of the line's labels (fastText's P@1 and R@1).

The model is saved with pickle after ``SGDClassifier.sparsify()`` (weights of hash slots
that never occurred are exactly zero), so the file holds only non-zero weights; peak RSS
during training still includes the dense ``n_classes x n_features`` float64 matrix.

Modes (each prints one JSON object on stdout)::

    sklearn_ref.py train CORPUS -o MODEL [--epoch N] [--word-ngrams N] [--threads N]
                   [--seed N] [--n-features N] [--alpha F] [--sk-loss hinge|log_loss]
    sklearn_ref.py eval TEST -m MODEL
    sklearn_ref.py predict FILE -m MODEL [--out PATH]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from refcommon import make_parser, run, timed_predict
from sklearn.feature_extraction.text import HashingVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import SGDClassifier  # type: ignore[import-untyped]

LABEL_PREFIX = "__label__"
BATCH_LINES = 20_000


def read_labeled(path: str) -> tuple[list[str], list[list[str]]]:
    """Texts (labels removed) and label lists of a fastText-format file."""
    texts: list[str] = []
    labels: list[list[str]] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens = line.split()
            labels.append([t for t in tokens if t.startswith(LABEL_PREFIX)])
            texts.append(" ".join(t for t in tokens if not t.startswith(LABEL_PREFIX)))
    return texts, labels


def make_vectorizer(word_ngrams: int, n_features: int) -> HashingVectorizer:
    return HashingVectorizer(
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, word_ngrams),
        n_features=n_features,
        alternate_sign=False,
        norm="l2",
    )


def batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def predict_top1(model: dict[str, Any], texts: Iterable[str]) -> list[str]:
    vectorizer: HashingVectorizer = model["vectorizer"]
    clf: SGDClassifier = model["classifier"]
    out: list[str] = []
    for batch in batches(list(texts), BATCH_LINES):
        out.extend(clf.predict(vectorizer.transform(batch)).tolist())
    return out


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    texts, labels = read_labeled(args.corpus)
    keep = [i for i, ls in enumerate(labels) if ls]
    vectorizer = make_vectorizer(args.word_ngrams, args.n_features)
    x = vectorizer.transform([texts[i] for i in keep])
    y = np.array([labels[i][0] for i in keep])
    clf = SGDClassifier(
        loss=args.sk_loss,
        alpha=args.alpha,
        max_iter=args.epoch,
        tol=None,
        n_jobs=args.threads,
        random_state=args.seed,
    )
    clf.fit(x, y)
    t1 = time.perf_counter()
    clf.sparsify()
    with open(args.output, "wb") as f:
        pickle.dump({"vectorizer": vectorizer, "classifier": clf}, f, protocol=5)
    t2 = time.perf_counter()
    return {
        "train_s": t1 - t0,
        "save_s": t2 - t1,
        "params": {
            "loss": args.sk_loss,
            "alpha": args.alpha,
            "max_iter": args.epoch,
            "ngram_range": [1, args.word_ngrams],
            "n_features": args.n_features,
            "n_jobs": args.threads,
        },
        "labels": len(clf.classes_),
    }


def load(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        model: dict[str, Any] = pickle.load(f)
    return model


def cmd_eval(args: argparse.Namespace) -> dict[str, Any]:
    model = load(args.model)
    texts, labels = read_labeled(args.test)
    keep = [i for i, ls in enumerate(labels) if ls]
    predicted = predict_top1(model, (texts[i] for i in keep))
    hits = sum(p in labels[i] for p, i in zip(predicted, keep, strict=True))
    n_gold = sum(len(labels[i]) for i in keep)
    n = len(keep)
    return {
        "results": [
            {
                "k": 1,
                "n": n,
                "precision": hits / n if n else 0.0,
                "recall": hits / n_gold if n_gold else 0.0,
            }
        ]
    }


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    return timed_predict(args, load, predict_top1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap, tr = make_parser(__doc__, "only k=1 is supported")
    tr.add_argument("--epoch", type=int, default=5)
    tr.add_argument("--word-ngrams", type=int, default=1)
    tr.add_argument("--threads", type=int, default=1)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--n-features", type=int, default=2**20)
    tr.add_argument("--alpha", type=float, default=1e-4)
    tr.add_argument("--sk-loss", choices=["hinge", "log_loss", "modified_huber"], default="hinge")
    for ignored in ("--lr", "--dim", "--bucket", "--minn", "--maxn", "--min-count", "--loss"):
        tr.add_argument(ignored, help=argparse.SUPPRESS)
    tr.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)

    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    handlers = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict}
    return run(parse_args(argv), handlers)


if __name__ == "__main__":
    sys.exit(main())
