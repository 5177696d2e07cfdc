"""From a training corpus to what SGD needs: scan, vocabulary, features, the initial model.

fastText (`src/fasttext.cc`: `train`; `src/dictionary.cc`: `readFromFile`) reads the file
once to count, then again each epoch; here one scan numbers every distinct token, and the
lines wait, as bags of rows of A, in a `SpooledBags` (on disk for a large corpus).
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays import memory
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.arrays.spool import SpooledBags, no_room
from fasttext_lite.errors import DataError, ParameterError, StorageError
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.formats import vec
from fasttext_lite.losses import Loss, make_loss
from fasttext_lite.model import Model, weighting
from fasttext_lite.text.lines import line_spans, read_all_lines, read_batches
from fasttext_lite.text.scan import Scan
from fasttext_lite.text.tokens import as_bytes, decode, encode_token, split_lines
from fasttext_lite.training import workers
from fasttext_lite.training.sgd import TrainingData
from fasttext_lite.vocab import ScanIds, Vocabulary, ids_of, label_bags

# Ids featurized at once: bounds the temporary arrays to some tens of megabytes.
_BLOCK_IDS = 1 << 18
# Lines scanned at once: enough to number their tokens in C, few enough that the block's token
# objects take a few megabytes.
_SCAN_LINES = 4096


class Prepared(NamedTuple):
    """A corpus ready for training, and what the summary reports of it."""

    vocab: Vocabulary
    featurizer: Featurizer
    loss: Loss
    model: Model  # at its initial values
    data: TrainingData
    nlines: int  # read
    unlabelled: int  # lines without a label
    ntokens: int  # read: words, labels and `</s>`


class Holdout:
    """Sets aside a share of a corpus's lines for validation, label by label: the n-th line
    whose first label is L is held out when floor((n + 1) f + u_L) > floor(n f + u_L), with
    u_L drawn once per label (seeded). So every label gives about f of its lines, and a
    stream needs no second pass."""

    def __init__(self, fraction: float, prefix: bytes, seed: int) -> None:
        self.fraction = fraction
        self.prefix = prefix
        self.rng = np.random.default_rng(seed)
        self.seen: dict[bytes, tuple[int, float]] = {}
        self.held: list[bytes] = []

    def keep(self, lines: Sequence[bytes]) -> list[bytes]:
        """The lines to train on; the others are added to `held`."""
        kept = []
        for line in lines:
            label = next((t for t in line.split() if t.startswith(self.prefix)), None)
            if label is None:
                kept.append(line)
                continue
            count, offset = self.seen.get(label) or (0, float(self.rng.random()))
            self.seen[label] = (count + 1, offset)
            f = self.fraction
            if int((count + 1) * f + offset) > int(count * f + offset):
                self.held.append(line)
            else:
                kept.append(line)
        return kept


def scan_texts(
    texts: Sequence[str | bytes],
    labels: Sequence[list[str]],
    prefixes: tuple[bytes, bytes],
    holdout: Holdout | None = None,
    weights: Sequence[float] | None = None,
) -> Scan:
    """Texts and their label names, scanned as the lines of a training file in which the
    labels lead their text. A text's own tokens that start with the label prefix are left
    out: texts and labels are given apart, and prediction ignores such tokens too."""
    prefix, weight_prefix = prefixes
    scan = Scan(prefix, weight_prefix=weight_prefix)
    for start in range(0, len(texts), _SCAN_LINES):
        block = zip(
            texts[start : start + _SCAN_LINES], labels[start : start + _SCAN_LINES], strict=True
        )
        lines = [
            b" ".join([*(prefix + encode_token(name) for name in gold), _words(text, prefixes)])
            for text, gold in block
        ]
        if weights is not None:  # as the weight tokens of a training file
            given = weights[start : start + _SCAN_LINES]
            pairs = zip(lines, given, strict=True)
            lines = [line + b" " + weight_prefix + repr(float(w)).encode() for line, w in pairs]
        scan.add_lines(lines if holdout is None else holdout.keep(lines))
    return scan


def _words(text: str | bytes, prefixes: tuple[bytes, bytes]) -> bytes:
    raw = as_bytes(text)
    if not any(prefix in raw for prefix in prefixes):
        return raw
    tokens = split_lines([raw])[0]
    return b" ".join(token for token in tokens if not token.startswith(prefixes))


def scan_file(
    path: str | Path, prefixes: tuple[bytes, bytes], threads: int, holdout: Holdout | None = None
) -> Scan:
    """A file (or stdin, `-`) in fastText's format; a regular file is read by `threads`
    processes, a part each (fastText reads with all its threads too), unless lines are held
    out (which one pass does)."""
    spans = line_spans(path, threads) if threads > 1 and holdout is None else None
    if spans is not None:
        return _scan_in_parts(path, spans, prefixes)
    scan = Scan(prefixes[0], weight_prefix=prefixes[1])
    for lines in read_batches(path, max_lines=_SCAN_LINES):
        scan.add_lines(lines if holdout is None else holdout.keep(lines))
    return scan


def _scan_in_parts(
    path: str | Path, spans: list[tuple[int, int]], prefixes: tuple[bytes, bytes]
) -> Scan:
    """Appended in file order, the parts number their tokens exactly as one pass would."""
    what, hint = f"{path}: cannot keep the parts read", "use --thread 1"
    with contextlib.ExitStack() as stack:
        try:
            parts = [stack.enter_context(tempfile.TemporaryFile()) for _ in spans]
        except OSError as error:
            raise StorageError(no_room(what, error, hint)) from None

        def scan_part(index: int) -> None:
            part = Scan(prefixes[0], weight_prefix=prefixes[1])
            for lines in read_batches(path, _SCAN_LINES, span=spans[index]):
                part.add_lines(lines)
            try:
                part.write(parts[index])
                parts[index].flush()
            except OSError as error:
                raise StorageError(no_room(what, error, hint)) from None

        workers.run(scan_part, len(spans))
        scan = Scan(prefixes[0], weight_prefix=prefixes[1])
        for part in parts:
            part.seek(0)
            scan.append(part)
        return scan


class Start(NamedTuple):
    """A trained model to start from (fine-tuning)."""

    vocab: Vocabulary
    model: Model


def prepare(
    read: Callable[[], Scan],
    params: Mapping[str, Any],
    *,
    rng: np.random.Generator,
    name: str,
    start: Start | None = None,
) -> Prepared:
    """The vocabulary, features and initial model of the corpus `read` scans, and its lines
    with a known label and at least one feature as bags of rows of A. (A callable, so that
    nothing but this function holds the scan, which it frees as soon as it can.)"""
    pretrained = _pretrained(params)  # before the scan: a bad file costs nothing
    scan = read()
    memory.release()  # what scanning freed
    vocab, scan_ids = _vocabulary(scan, params, name)
    if pretrained is not None:
        vocab, scan_ids = _with_words(vocab, scan_ids, scan, pretrained.words)
    if start is not None:  # the old words and labels keep their ids; new ones come after
        vocab, merge = start.vocab.extended(vocab)
        scan_ids = ScanIds(
            _landed(scan_ids.words, merge.words), _landed(scan_ids.labels, merge.labels)
        )
    featurizer = Featurizer(
        vocab,
        word_ngrams=params["word_ngrams"],
        bucket=params["bucket"],
        minn=params["minn"],
        maxn=params["maxn"],
    )
    loss = make_loss(params["loss"], vocab.label_counts, neg=params["neg"])
    nlines, ntokens, unlabelled = scan.nlines, scan.ntokens, scan.unlabelled_lines
    labels = label_bags(scan.labels, scan_ids.labels)
    sizes = _tokens_per_line(scan)
    line_weights = scan.line_weights()
    words = scan.words.lines
    token_features = featurizer.token_features(scan.words.keys, scan_ids.words)
    # The scan's distinct tokens and their lookup tables (tens of megabytes) can go.
    del scan
    memory.release()

    # Two passes over the lines, a block at a time: the first finds their features (and so
    # which features get a row of A), the second the rows.
    keep = labels.sizes > 0
    used = np.zeros(featurizer.n_features, dtype=bool)
    features = SpooledBags(featurizer.id_type)
    for first, last, block in words.blocks(_BLOCK_IDS):
        occurrences = block.indices.astype(np.int32, copy=False)
        bags = featurizer.transform_lines(token_features, occurrences, block.sizes, consume=True)
        keep[first:last] &= bags.sizes > 0
        bags = bags.select(keep[first:last])
        used[bags.indices] = True
        features.append(bags)
    words.close()
    del token_features
    memory.release()
    if not keep.any():
        raise DataError(f"{name}: no labelled line has a word left after pruning")
    if start is not None:
        # Every old row is kept, whether the new lines use its feature or not.
        old_features = _moved(start, len(vocab.words))
        used[old_features] = True
    if pretrained is not None:
        pretrained_ids = _word_ids(vocab, pretrained.words)
        vectors = pretrained.vectors[pretrained_ids >= 0]
        pretrained_ids = pretrained_ids[pretrained_ids >= 0]
        used[pretrained_ids] = True  # rows of their own, used in training or not
    model = Model.initial(
        np.flatnonzero(used), output_rows=loss.output_rows, dim=params["dim"], rng=rng
    )
    if pretrained is not None:
        # As fastText: a word's row starts from its vector (the last one, if repeated).
        own = model.rows_of(Bags(np.arange(pretrained_ids.size + 1), pretrained_ids.copy()))
        model.input[own.indices] = vectors
    if start is not None:
        model.input[model.row_of(old_features)] = start.model.input
        model.output[: start.model.output.shape[0]] = start.model.output
    rows = SpooledBags(np.int32)
    nrows = model.input.shape[0]
    # The idf's counts as the rows are made, not by reading them back.
    frequency = np.zeros(nrows, dtype=np.int64) if params["weighting"] == "idf" else None
    for _first, _last, bags in features.blocks(_BLOCK_IDS):
        row_bags = model.rows_of(bags)
        if frequency is not None:
            frequency += weighting.document_frequency(row_bags, nrows)
        rows.append(row_bags)
    features.close()
    memory.release()
    if frequency is not None:
        row_weights = weighting.idf_weights(frequency, rows.nlines)
        if start is not None and start.model.row_weights is not None:
            # Old rows the new lines do not use keep the weight the old corpus gave them.
            old_rows = model.row_of(old_features)
            unused = frequency[old_rows] == 0
            row_weights[old_rows[unused]] = start.model.row_weights[unused]
        model.row_weights = row_weights
    data = _training_data(rows, labels.select(keep), sizes[keep], line_weights[keep], params, vocab)
    return Prepared(vocab, featurizer, loss, model, data, nlines, unlabelled, ntokens)


def _training_data(
    rows: SpooledBags,
    labels: Bags,
    sizes: npt.NDArray[np.integer],
    line_weights: npt.NDArray[np.floating],
    params: Mapping[str, Any],
    vocab: Vocabulary,
) -> TrainingData:
    """The kept lines' rows, labels, sizes and weights (none when all are 1)."""
    weighted = not np.all(line_weights == 1.0)
    return TrainingData(
        rows,
        labels,
        sizes,
        line_weights.astype(np.float32) if weighted else None,
        _label_weights(params["class_weight"], params["label_prefix"], vocab, labels),
    )


def _label_weights(
    setting: str, prefix: str, vocab: Vocabulary, labels: Bags
) -> npt.NDArray[np.float32] | None:
    """Each label's weight: none, `balanced` (as scikit-learn's class_weight: lines / (labels
    x the label's lines)), or read from a file of `label weight` lines (others weigh 1)."""
    if not setting:
        return None
    nlabels = len(vocab.labels)
    if setting == "balanced":
        counts = np.bincount(labels.indices, minlength=nlabels).astype(np.float64)
        weights = np.divide(labels.nlines, nlabels * counts, out=np.ones(nlabels), where=counts > 0)
        return weights.astype(np.float32)
    weights = np.ones(nlabels)
    for number, line in enumerate(read_all_lines(setting), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            name, value = decode(fields[0]).removeprefix(prefix), float(fields[1])
            if len(fields) != 2 or not (math.isfinite(value) and value >= 0):
                raise ValueError
        except (ValueError, IndexError):
            raise DataError(
                f"{setting}:{number}: expected `label weight` (a number >= 0), got {decode(line)!r}"
            ) from None
        if name in vocab.label_ids:
            weights[vocab.label_ids[name]] = value
    return weights.astype(np.float32)


def _landed(ids: npt.NDArray[np.int64], merge: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    landed: npt.NDArray[np.int64] = np.where(ids >= 0, merge[np.maximum(ids, 0)], -1)
    return landed


def _moved(start: Start, nwords: int) -> npt.NDArray[np.int64]:
    """The old model's feature ids in the new feature space: words keep their ids, hashed
    n-grams move with the number of words before them."""
    ids = start.model.feature_ids
    old_nwords = len(start.vocab.words)
    moved: npt.NDArray[np.int64] = np.where(ids < old_nwords, ids, ids - old_nwords + nwords)
    return moved


def _pretrained(params: Mapping[str, Any]) -> vec.WordVectors | None:
    path = params["pretrained_vectors"]
    if not path:
        return None
    found = vec.read(path)
    if found.vectors.shape[1] != params["dim"]:
        raise ParameterError(
            "dim",
            f"is {params['dim']}, but {path} holds vectors of dimension"
            f" {found.vectors.shape[1]}; give that dimension",
        )
    return found


def _with_words(
    vocab: Vocabulary, scan_ids: ScanIds, scan: Scan, extra: list[bytes]
) -> tuple[Vocabulary, ScanIds]:
    """The vocabulary with the pretrained words it lacks (count 0, after the others; fastText
    adds them too, so that they keep their vectors at prediction), and the scan's words that
    min_count pruned but the pretrained vectors bring back."""
    known = set(vocab.words)
    new = list(dict.fromkeys(word for word in map(decode, extra) if word not in known))
    if not new:
        return vocab, scan_ids
    grown = Vocabulary(
        [*vocab.words, *new],
        [*vocab.word_counts, *([0] * len(new))],
        vocab.labels,
        vocab.label_counts,
    )
    ids = scan_ids.words.copy()
    pruned = np.flatnonzero(ids < 0)
    if pruned.size:
        tokens = scan.words.keys
        ids[pruned] = ids_of([decode(as_bytes(tokens[i])) for i in pruned], grown.word_ids)
    return grown, ScanIds(ids, scan_ids.labels)


def _word_ids(vocab: Vocabulary, words: list[bytes]) -> npt.NDArray[np.int64]:
    return ids_of([decode(word) for word in words], vocab.word_ids)


def _vocabulary(scan: Scan, params: Mapping[str, Any], name: str) -> tuple[Vocabulary, ScanIds]:
    """The vocabulary, or an error saying why the corpus cannot train a classifier."""
    if scan.nlines == 0:
        raise DataError(f"{name}: is empty; give one labelled example per line")
    if not scan.labels.keys:
        prefix = params["label_prefix"]
        raise DataError(
            f"{name}: no line has a label; labels are tokens starting with"
            f" {prefix!r}, like {prefix}spam"
        )
    vocab, scan_ids = Vocabulary.build(
        scan, min_count=params["min_count"], min_count_label=params["min_count_label"]
    )
    for option, kept, table in (
        ("min_count_label", vocab.labels, scan.labels),
        ("min_count", vocab.words, scan.words),
    ):
        if not kept:
            most = int(table.counts().max())
            what = "label" if option == "min_count_label" else "word"
            raise ParameterError(
                option,
                f"{params[option]} removes every {what} of {name} (the most frequent"
                f" occurs {most} times); lower it",
            )
    if len(vocab.labels) == 1:
        only = f"only one label ({vocab.labels[0]!r}) is left; a classifier needs at least two"
        if len(scan.labels.keys) > 1:
            raise ParameterError(
                "min_count_label", f"{params['min_count_label']} leaves in {name} {only}; lower it"
            )
        raise DataError(f"{name}: {only}")
    return vocab, scan_ids


def _tokens_per_line(scan: Scan) -> npt.NDArray[np.int32]:
    """Words, labels and `</s>` per line, without a corpus-sized int64 temporary to spare."""
    sizes = scan.words.lengths.astype(np.int32)
    sizes += scan.labels.lengths.astype(np.int32)
    return sizes


def prepare_fixed(
    read: Callable[[], Scan], params: Mapping[str, Any], start: Start, *, name: str
) -> Prepared:
    """`prepare` for retraining a model on its own features (`ftl quantize --retrain`, as
    fastText's `quantize`): the vocabulary and the rows of A stay those of `start`; words
    and labels it lacks are unknown, and a feature without a row is left out of its line."""
    scan = read()
    memory.release()
    vocab = start.vocab
    word_ids = ids_of(scan.words.decoded, vocab.word_ids)
    labels = label_bags(scan.labels, ids_of(scan.labels.decoded, vocab.label_ids))
    featurizer = Featurizer(
        vocab,
        word_ngrams=params["word_ngrams"],
        bucket=params["bucket"],
        minn=params["minn"],
        maxn=params["maxn"],
    )
    loss = make_loss(params["loss"], vocab.label_counts, neg=params["neg"])
    nlines, ntokens, unlabelled = scan.nlines, scan.ntokens, scan.unlabelled_lines
    sizes = _tokens_per_line(scan)
    line_weights = scan.line_weights()
    words = scan.words.lines
    token_features = featurizer.token_features(scan.words.keys, word_ids)
    del scan
    memory.release()
    model = start.model
    keep = labels.sizes > 0
    rows = SpooledBags(np.int32)
    for first, last, block in words.blocks(_BLOCK_IDS):
        occurrences = block.indices.astype(np.int32, copy=False)
        bags = featurizer.transform_lines(token_features, occurrences, block.sizes, consume=True)
        bags = model.rows_of(bags)
        keep[first:last] &= bags.sizes > 0
        rows.append(bags.select(keep[first:last]))
    words.close()
    if not keep.any():
        raise DataError(f"{name}: no labelled line has a feature of the model")
    data = _training_data(rows, labels.select(keep), sizes[keep], line_weights[keep], params, vocab)
    return Prepared(vocab, featurizer, loss, model, data, nlines, unlabelled, ntokens)
