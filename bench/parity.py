"""Parity check: fasttext_lite's vocabulary and feature ids against the real fastText.

Run from the repository root (the bench virtualenv has the `fasttext` binding)::

    .bench-venv/bin/python bench/parity.py

It writes a tiny corpus to a temporary directory (ASCII, non-ASCII, invalid UTF-8, NUL bytes,
tabs, VT/FF/CR, labels anywhere on a line, repeated words, unlabelled and empty lines) and, for
each setting (wordNgrams 1/2/3 x minn..maxn 0..0/1..4/3..6 x bucket 1000/2000000), has fastText
read it with `train_supervised` (dim 8, minCount 1, 1 thread) and builds fasttext_lite's
vocabulary and features for the same corpus without training. Checks, per setting:

- vocab: fastText's words and labels with counts (`getVocab`/`getLabels`, what
  `get_words`/`get_labels(include_freq=True)` return) equal fasttext_lite's, in the same order.
  fastText orders equal counts with an unstable `std::sort`, so order differences among ties are
  reported (`ties reordered`), not failed; the id checks below then use fastText's word order.
- rows: fastText's input matrix has `nwords + bucket` rows, as many as fasttext_lite has ids.
- token ids: for each distinct token of the corpus and test lines, the ids from fastText's
  `getSubwords` (the word's id if known, then its char n-grams, nwords + hash % bucket) are the
  features fasttext_lite gives the token (compared as multisets).
- line vec: for a supervised model `getSentenceVector` is the mean of the input-matrix rows over
  the ids of `Dictionary::getLine` (word ids, char n-grams, word n-grams, `</s>`, repeats kept);
  the binding has no call returning those ids. With a random input matrix installed
  (`setMatrices`), every test line's sentence vector must equal the mean of that matrix over
  fasttext_lite's feature ids, weighted by their counts.
- line ids: when nwords + bucket <= 5000, the input matrix is then the identity, so the sentence
  vector is the histogram of fastText's ids over their number: the exact multiset of fastText's
  ids for each test line, compared with fasttext_lite's.

fastText is run with `epoch=0`: its dictionary is built as for training, and no check uses a
trained matrix. With epoch=1 and thread=1 this build fails at random ("Encountered NaN"): its
`DenseMatrix::uniform` fills only thread/10 of the input matrix (fastText issue #1061) and here
the rest is uninitialized memory.
The binding is called with bytes (not str) so that invalid UTF-8 and NUL bytes reach fastText
unchanged; the public `get_sentence_vector(text)` appends "\\n" to a str and does the same.
Prints one line per setting, PASS or FAIL with counts; exits 1 if any setting fails.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fasttext  # type: ignore[import-untyped]
import fasttext_pybind  # type: ignore[import-not-found]
import numpy as np
import numpy.typing as npt

import fasttext_lite
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.text.lines import read_batches
from fasttext_lite.text.scan import Scan
from fasttext_lite.text.tokens import DEFAULT_LABEL_PREFIX
from fasttext_lite.vocab import Vocabulary

PREFIX = DEFAULT_LABEL_PREFIX.encode()
# fastText's getVocab/getLabels/getSubwords decode with this: undecodable bytes come back as
# the same surrogate escapes fasttext_lite uses for its str tokens.
ERRORS = "surrogateescape"
SETTINGS = tuple(
    (word_ngrams, minn, maxn, bucket)
    for bucket in (1000, 2_000_000)
    for word_ngrams in (1, 2, 3)
    for minn, maxn in ((0, 0), (1, 4), (3, 6))
)
DIM = 8
EXACT_MAX_ROWS = 5000  # identity input matrix (rows x rows float32) only up to this size
VECTOR_TOLERANCE = 1e-5  # float32 means of a few dozen rows with entries in [-1, 1)
MAX_MESSAGES = 8

CORPUS: tuple[bytes, ...] = (
    b"__label__billing my card was charged twice",
    b"__label__billing refund my card please , my card card",
    b"__label__billing charged twice for one order , refund please",
    b"__label__shipping where is my parcel ? the parcel is late",
    b"where is my parcel __label__shipping",
    b"my order __label__shipping never arrived __label__returns",
    b"__label__shipping the parcel the parcel the parcel",
    b"__label__returns return the item , return the item please",
    b"__label__returns",
    "__label__food café naïve 日本語 crème brûlée".encode(),
    "__label__food 日本語 の テキスト café café 日本語".encode(),
    "__label__food Ünïcödé ÀÉÎÕÜ ß ﬁ emoji 🍕🍕 pizza".encode(),
    b"__label__misc invalid \xff\xfe bytes \xc3 truncated \xe6\x97 utf8 \x80 lone",
    b"__label__misc \xc3( \xa0\xa1 \xf0\x28\x8c\x28 over\xc0\xafl",
    b"__label__misc nul\x00separated\x00words and\ttabs\tand\x0bvt\x0cff",
    b"__label__misc crlf line ending\r",
    b"\t__label__billing   leading whitespace   and  double  spaces ",
    b"no label on this line but its words count",
    b"",
    b"   \t ",
    "__label__misc non\u00a0breaking space and\u3000ideographic space".encode(),
    b"__label__misc x__label__y is a word , not a label",
    b"__label__misc unit\x1cseparator and \x1fother controls \x01 are not separators",
    b"__label__billing __label__shipping card parcel order",
    b"__label__food pizza pizza pizza pasta pasta salad",
    b"__label__food the pizza was cold , the pasta was cold",
    b"__label__shipping late late late delivery , parcel not here",
    b"__label__returns item broken , return item , refund",
    b"__label__billing twice twice twice charged",
    b"words before __label__misc and after the label",
    b"__label__misc a b c d e f g h i j",
    b"__label__misc a a b b c c d d e e",
    b"__label__misc A a \xc3\x81 \xc3\xa1 case matters",
    b"__label__misc <s> and </ s> and <unk> look special",
    b"__label__misc 123 4.56 -7 1e9 0x1f numbers",
    b"__label__misc trailing tab\t",
)
# Test lines beyond the corpus: unknown words (char n-grams only), unknown labels, empties.
EXTRA_TEST_LINES: tuple[bytes, ...] = (
    b"completely unseen words zzyzx qwertyuiop",
    "unseen café variants cafés naïveté 日本 ピザ".encode(),
    b"unknown invalid \xf0\x28\x8c\xbc bytes \xfe\xff",
    b"__label__unknownlabel my card",
    b"my card __label__billing",
    b"card",
    b"",
    b"   ",
    b"the the the the the the the the",
)


def write_corpus(directory: Path) -> Path:
    path = directory / "corpus.txt"
    path.write_bytes(b"\n".join(CORPUS) + b"\n")
    return path


def scan_file(path: Path) -> Scan:
    """What `FastTextClassifier.fit_file` scans: every line's words (+ `</s>`) and labels."""
    scan = Scan(PREFIX)
    for lines in read_batches(path):
        scan.add_lines(lines)
    return scan


def compare_entries(
    what: str, theirs: Sequence[tuple[str, int]], ours: Sequence[tuple[str, int]]
) -> tuple[list[str], int]:
    """Problems (as messages) and the number of positions that differ only among equal counts."""
    if Counter(theirs) != Counter(ours):
        missing = sorted(Counter(theirs) - Counter(ours))[:3]
        extra = sorted(Counter(ours) - Counter(theirs))[:3]
        return [f"{what}: fastText has {missing}... fasttext_lite has {extra}..."], 0
    if [c for _, c in theirs] != [c for _, c in ours]:
        return [f"{what}: not in fastText's count order"], 0
    return [], sum(a != b for a, b in zip(theirs, ours, strict=True))


def own_features(featurizer: Featurizer, lines: Sequence[bytes]) -> tuple[list[bytes], Bags, Bags]:
    """fasttext_lite's features: per distinct token (each as a one-token line), and per line;
    with the distinct tokens (bytes, in first-seen order)."""
    scan = Scan(PREFIX, memory_entries=sys.maxsize)
    scan.add_lines(list(lines))
    words = scan.words
    keys = [key for key in words.keys if isinstance(key, bytes)]
    per_line = featurizer.transform_lines(
        featurizer.token_features(keys), words.occurrences, words.lengths
    )
    per_token = featurizer.transform_lines(
        featurizer.token_features(keys),
        np.arange(len(keys), dtype=np.int32),
        np.ones(len(keys), dtype=np.int64),
    )
    return keys, per_token, per_line


def row_counts(bags: Bags, row: int) -> Counter[int]:
    return Counter(bags.indices[bags.indptr[row] : bags.indptr[row + 1]].tolist())


def sentence_vector(model: Any, line: bytes, dim: int) -> npt.NDArray[np.float64]:
    """fastText's sentence vector of a line given as bytes (what get_sentence_vector does)."""
    vector = fasttext_pybind.Vector(dim)
    model.f.getSentenceVector(vector, line + b"\n")
    return np.array(vector, dtype=np.float64)


def histogram_counts(histogram: npt.NDArray[np.float64]) -> Counter[int] | None:
    """The id counts behind a histogram of ids divided by their number, or None."""
    nonzero = np.flatnonzero(histogram > 0)
    if nonzero.size == 0:
        return Counter()
    values = histogram[nonzero]
    # The smallest n for which n * histogram is integral (within float32 rounding); the least
    # frequent id occurs k times, so n = k / its share for some small k.
    for k in range(1, 1001):
        n = round(k / float(values.min()))
        scaled = values * n
        rounded = np.rint(scaled)
        if np.all(np.abs(scaled - rounded) < 1e-3) and int(rounded.sum()) == n:
            return Counter(dict(zip(nonzero.tolist(), rounded.astype(int).tolist(), strict=True)))
    return None


def check_setting(
    corpus: Path, lines: Sequence[bytes], word_ngrams: int, minn: int, maxn: int, bucket: int
) -> tuple[bool, str]:
    model = fasttext.train_supervised(
        input=str(corpus),
        epoch=0,  # dictionary only: see the module docstring
        dim=DIM,
        minCount=1,
        wordNgrams=word_ngrams,
        minn=minn,
        maxn=maxn,
        bucket=bucket,
        thread=1,
        verbose=0,
    )
    problems: list[str] = []
    parts: list[str] = []

    # Vocabulary: words and labels, counts and order.
    scan = scan_file(corpus)
    vocab, _ = Vocabulary.build(scan, min_count=1, min_count_label=0)
    ft_words, ft_word_counts = model.f.getVocab(ERRORS)
    ft_labels, ft_label_counts = model.f.getLabels(ERRORS)
    cut = len(DEFAULT_LABEL_PREFIX)
    theirs_words = list(zip(ft_words, map(int, ft_word_counts), strict=True))
    theirs_labels = [(x[cut:], int(c)) for x, c in zip(ft_labels, ft_label_counts, strict=True)]
    word_problems, word_ties = compare_entries(
        "words", theirs_words, list(zip(vocab.words, vocab.word_counts, strict=True))
    )
    label_problems, label_ties = compare_entries(
        "labels", theirs_labels, list(zip(vocab.labels, vocab.label_counts, strict=True))
    )
    problems += word_problems + label_problems
    parts.append(
        f"vocab {len(ft_words)} words + {len(ft_labels)} labels "
        + ("equal" if not word_problems + label_problems else "DIFFER")
        + f" (ties reordered: {word_ties} words, {label_ties} labels"
        + ("; ids below use fastText's order)" if word_ties else ")")
    )
    if word_problems:
        return False, "; ".join(parts + problems)
    if word_ties:  # the same words and counts: number them as fastText did
        vocab = Vocabulary(
            [w for w, _ in theirs_words],
            [c for _, c in theirs_words],
            vocab.labels,
            vocab.label_counts,
        )
    featurizer = Featurizer(vocab, word_ngrams=word_ngrams, bucket=bucket, minn=minn, maxn=maxn)

    # Input matrix size (read without copying the matrix).
    rows = int(np.asarray(model.f.getInputMatrix()).shape[0])  # a view, dropped at once
    if rows != featurizer.n_features:
        problems.append(f"input rows {rows} != n_features {featurizer.n_features}")
    parts.append(f"rows {rows}")

    tokens, per_token, per_line = own_features(featurizer, lines)

    # Token ids: getSubwords per distinct token, bytes in.
    token_ok = 0
    for row, token in enumerate(tokens):
        _, ids = model.f.getSubwords(token, ERRORS)
        if Counter(int(i) for i in ids) == row_counts(per_token, row):
            token_ok += 1
        elif len(problems) < MAX_MESSAGES:
            problems.append(f"token {token!r}: fastText ids {sorted(ids)[:6]}")
    parts.append(f"token ids {token_ok}/{len(tokens)}")

    # Line vectors: fastText's sentence vector over a random input matrix == our mean of it.
    nlabels = len(ft_labels)
    rng = np.random.default_rng(0)
    matrix = rng.random((rows, DIM), dtype=np.float32)
    matrix *= 2.0
    matrix -= 1.0
    model.f.setMatrices(matrix, np.zeros((nlabels, DIM), dtype=np.float32))
    in_range = per_line.indices.size == 0 or int(per_line.indices.max()) < rows
    vec_ok = 0
    for row, line in enumerate(lines):
        theirs = sentence_vector(model, line, DIM)
        counts = row_counts(per_line, row)
        ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if in_range and ids.size:
            ours = weights @ matrix[ids].astype(np.float64) / weights.sum()
            if np.allclose(theirs, ours, rtol=0.0, atol=VECTOR_TOLERANCE):
                vec_ok += 1
                continue
        if len(problems) < MAX_MESSAGES:
            problems.append(f"line {line!r}: sentence vector differs")
    del matrix
    parts.append(f"line vec {vec_ok}/{len(lines)}")

    # Line ids, exactly: identity input matrix, sentence vector = histogram of fastText's ids.
    if rows <= EXACT_MAX_ROWS:
        model.f.setMatrices(np.eye(rows, dtype=np.float32), np.zeros((nlabels, rows), np.float32))
        ids_ok = 0
        for row, line in enumerate(lines):
            theirs_counts = histogram_counts(sentence_vector(model, line, rows))
            if theirs_counts == row_counts(per_line, row):
                ids_ok += 1
            elif len(problems) < MAX_MESSAGES:
                problems.append(f"line {line!r}: fastText ids {theirs_counts}")
        parts.append(f"line ids {ids_ok}/{len(lines)}")
    else:
        parts.append("line ids n/a (too many rows for an identity matrix)")

    return not problems, "; ".join(parts + problems)


def main() -> int:
    lines = (*CORPUS, *EXTRA_TEST_LINES)
    print(
        f"fasttext_lite {fasttext_lite.__version__} vs fastText binding;"
        f" corpus {len(CORPUS)} lines, {len(lines)} test lines"
    )
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ftl-parity-") as tmp:
        corpus = write_corpus(Path(tmp))
        for word_ngrams, minn, maxn, bucket in SETTINGS:
            ok, detail = check_setting(corpus, lines, word_ngrams, minn, maxn, bucket)
            failed += not ok
            name = f"wordNgrams={word_ngrams} minn={minn} maxn={maxn} bucket={bucket}"
            print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    print(f"{len(SETTINGS) - failed}/{len(SETTINGS)} settings pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
