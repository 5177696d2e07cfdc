"""The facade: `FastTextClassifier` (fit, predict, save, load) and `evaluate`.

Wires the pipeline text -> tokens -> feature ids -> sparse rows -> model -> loss -> update, and
owns the hyper-parameters: stored verbatim by the constructor, validated by `fit`, learned
state in attributes ending in `_`. Corresponds to fastText's `src/fasttext.cc`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from fasttext_lite import heap, processes, serialization
from fasttext_lite.data import (
    DEFAULT_LABEL_PREFIX,
    encode_token,
    line_spans,
    read_batches,
    read_lines,
    tokenize,
)
from fasttext_lite.errors import (
    DataError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    StorageError,
    TrainingError,
)
from fasttext_lite.features import Featurizer, TokenFeatureCache, TokenFeatures
from fasttext_lite.losses import LOSSES
from fasttext_lite.metrics import Evaluation, Meter
from fasttext_lite.model import Model
from fasttext_lite.sparse import Bags, take_rows
from fasttext_lite.spool import SpooledBags
from fasttext_lite.train import Progress, TrainingData, single_blas_thread, train
from fasttext_lite.version import __version__
from fasttext_lite.vocab import Scan, TokenTable, Vocabulary, ids_of, numbered

# Score matrices in prediction hold at most this many floats (lines x labels).
_PREDICT_CELLS = 1 << 21
# Distinct tokens a prediction stream remembers before it starts afresh: bounds its memory on
# an endless stream of new words.
_READER_TOKENS = 1 << 20
# Ids featurized at once in training: bounds the temporary arrays to some tens of megabytes.
_BLOCK_IDS = 1 << 18
# Lines scanned at once in training: enough to number their tokens in C, few enough that the
# block's token objects take a few megabytes.
_SCAN_LINES = 4096


# Integer hyper-parameters: (least, greatest). The upper bounds keep a hostile model file from
# asking for absurd work; bucket must keep feature ids within fastText's int32.
_INT_RANGES = {
    "dim": (1, 100_000),
    "epoch": (1, 1_000_000),
    "word_ngrams": (1, 100),
    "bucket": (0, 2**31 - 1 - 100_000_000),
    "minn": (0, 1_000),
    "maxn": (0, 1_000),
    "min_count": (0, 2**62),
    "min_count_label": (0, 2**62),
    "batch_size": (0, 1_000_000),
    "thread": (1, 256),
    "seed": (0, 2**63 - 1),
}


class Prediction(NamedTuple):
    label: str
    probability: float


class TopLabels(NamedTuple):
    """The top labels of a batch of texts: row i holds text i's label ids (indices into
    `classes_`), most probable first, and their probabilities. Places past the labels that
    pass the threshold (all places, for a blank text) hold id -1 and probability 0."""

    ids: npt.NDArray[np.intp]
    probabilities: npt.NDArray[np.float32]


class _Scanned(NamedTuple):
    """What training needs of a scan: its lines, what their tokens stand for, their gold
    labels and how many tokens each had."""

    words: SpooledBags  # each line's words (and `</s>`), as indices into `tokens`
    tokens: TokenFeatures
    labels: Bags
    sizes: npt.NDArray[np.int32]  # tokens per line, words, labels and `</s>`


@dataclass(frozen=True)
class TrainingSummary:
    lines: int  # lines read
    examples: int  # lines trained on
    unlabelled: int  # lines skipped for having no label
    words: int  # vocabulary size
    labels: int
    tokens: int  # tokens read, words and labels and </s>
    seconds: float


class FastTextClassifier:
    """A fastText supervised classifier.

    Hyper-parameters keep fastText's names and defaults (supervised mode). `batch_size` lines
    share one SGD step: 1 is fastText's per-example SGD; 0 (the default) grows the batch as the
    learning rate decays, up to 256 lines while keeping at least 200 steps per epoch; `train`
    explains why batches keep the meaning of `lr`. `thread` worker processes share the model
    as fastText's threads do; the default, 1, unlike fastText's 12, gives the same model for
    the same seed every time. `verbose` shows a progress bar on stderr.
    """

    def __init__(
        self,
        *,
        lr: float = 0.1,
        dim: int = 100,
        epoch: int = 5,
        word_ngrams: int = 1,
        bucket: int = 2_000_000,
        minn: int = 0,
        maxn: int = 0,
        min_count: int = 1,
        min_count_label: int = 0,
        loss: str = "softmax",
        label_prefix: str = DEFAULT_LABEL_PREFIX,
        batch_size: int = 0,
        thread: int = 1,
        seed: int = 0,
        verbose: bool = False,
    ) -> None:
        self.lr = lr
        self.dim = dim
        self.epoch = epoch
        self.word_ngrams = word_ngrams
        self.bucket = bucket
        self.minn = minn
        self.maxn = maxn
        self.min_count = min_count
        self.min_count_label = min_count_label
        self.loss = loss
        self.label_prefix = label_prefix
        self.batch_size = batch_size
        self.thread = thread
        self.seed = seed
        self.verbose = verbose

    # -- hyper-parameters ---------------------------------------------------------------

    _PARAMS = (
        "lr", "dim", "epoch", "word_ngrams", "bucket", "minn", "maxn", "min_count",
        "min_count_label", "loss", "label_prefix", "batch_size", "thread", "seed",
    )  # fmt: skip
    # Hyper-parameters that model files written before them lack, with the value they had.
    _ADDED_PARAMS = {"thread": 1}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as scikit-learn's estimators give them (`deep` is moot)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> FastTextClassifier:
        unknown = set(params) - {*self._PARAMS, "verbose"}
        if unknown:
            raise ParameterError(sorted(unknown)[0], "is not a hyper-parameter")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _validate(self) -> None:
        for name, (minimum, maximum) in _INT_RANGES.items():
            _check_int(name, getattr(self, name), minimum=minimum, maximum=maximum)
        lr = self.lr
        if not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ParameterError("lr", f"must be a positive number, got {self.lr!r}")
        if self.maxn > 0 and self.minn > self.maxn:
            raise ParameterError("minn", f"must not exceed maxn ({self.maxn}), got {self.minn}")
        if (self.word_ngrams > 1 or self.maxn > 0) and self.bucket == 0:
            raise ParameterError("bucket", "must be positive when n-grams are on, got 0")
        if self.loss not in LOSSES:
            raise ParameterError("loss", f"must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if not isinstance(self.label_prefix, str) or not tokenize(self.label_prefix) == [
            self.label_prefix
        ]:
            raise ParameterError(
                "label_prefix", f"must be one non-empty token, got {self.label_prefix!r}"
            )

    # -- training -----------------------------------------------------------------------

    def fit(
        self, texts: Sequence[str], labels: Sequence[str | Sequence[str]]
    ) -> FastTextClassifier:
        """Train on texts and their labels (a label name, or a list of names, per text).

        As in a training file, tokens of a text that start with the label prefix are labels too.
        """
        _check_texts(texts)
        if len(texts) != len(labels):
            raise ParameterError(
                "labels", f"has {len(labels)} entries for {len(texts)} texts; give one per text"
            )
        golds = [[gold] if isinstance(gold, (str, bytes, int)) else list(gold) for gold in labels]
        for name in (name for gold in golds for name in gold):
            if not isinstance(name, str) or tokenize(name) != [name]:
                raise ParameterError(
                    "labels", f"each label must be a str of one token, got {name!r}"
                )
        prefix = encode_token(self.label_prefix)

        def scan() -> Scan:
            # Given labels become label tokens leading their text, as in a training file.
            result = Scan(prefix)
            for start in range(0, len(texts), _SCAN_LINES):
                result.add_lines(
                    [
                        b" ".join(
                            [*(prefix + encode_token(name) for name in gold), _as_bytes(text)]
                        )
                        for text, gold in zip(
                            texts[start : start + _SCAN_LINES],
                            golds[start : start + _SCAN_LINES],
                            strict=True,
                        )
                    ]
                )
            return result

        return self._fit(scan, "the training texts")

    def fit_file(self, path: str | Path) -> FastTextClassifier:
        """Train on a file in fastText's format; `-` reads stdin."""
        prefix = encode_token(self.label_prefix)

        def scan() -> Scan:
            spans = line_spans(path, self.thread) if self.thread > 1 else None
            if spans is not None:
                return _scan_in_parts(path, spans, prefix)
            result = Scan(prefix)
            for lines in read_batches(path, max_lines=_SCAN_LINES):
                result.add_lines(lines)
            return result

        return self._fit(scan, str(path))

    def _fit(self, read: Callable[[], Scan], name: str) -> FastTextClassifier:
        self._validate()
        # Checked for training only: a model trained with threads loads anywhere.
        if self.thread > 1 and not processes.available():
            raise ParameterError(
                "thread", f"must be 1 on this platform (no fork), got {self.thread}"
            )
        started = time.perf_counter()
        scan = read()
        heap.release()  # what scanning freed
        vocab = self._vocabulary(scan, name)
        featurizer = Featurizer(
            vocab, word_ngrams=self.word_ngrams, bucket=self.bucket, minn=self.minn, maxn=self.maxn
        )
        rng = np.random.default_rng(self.seed)
        lines, tokens_read, unlabelled = scan.lines, scan.tokens, scan.unlabelled_lines
        scanned = _Scanned(
            words=scan.words.lines,
            tokens=featurizer.token_features(scan.words.keys, numbered(scan.words, self.min_count)),
            labels=_gold_labels(scan.labels, vocab),
            sizes=_tokens_per_line(scan),
        )
        # The scan's distinct tokens and their lookup tables (tens of megabytes) can go.
        del scan
        heap.release()
        model, data = self._prepare(scanned, featurizer, rng=rng, name=name)
        del scanned
        heap.release()  # what preparing freed
        with self._progress_bar(int(data.tokens.sum()) * self.epoch) as report:
            train(
                model,
                data,
                loss=LOSSES[self.loss],
                lr=self.lr,
                epoch=self.epoch,
                batch_size=self.batch_size,
                threads=self.thread,
                rng=rng,
                progress=report,
            )
        if not (np.isfinite(model.input).all() and np.isfinite(model.output).all()):
            raise TrainingError(f"training diverged; try a smaller learning rate than {self.lr}")
        self.vocabulary_ = vocab
        self.featurizer_ = featurizer
        self.model_ = model
        self.classes_ = list(vocab.labels)
        self.summary_ = TrainingSummary(
            lines=lines,
            examples=data.rows.nlines,
            unlabelled=unlabelled,
            words=len(vocab.words),
            labels=len(vocab.labels),
            tokens=tokens_read,
            seconds=time.perf_counter() - started,
        )
        return self

    def _prepare(
        self, scanned: _Scanned, featurizer: Featurizer, *, rng: np.random.Generator, name: str
    ) -> tuple[Model, TrainingData]:
        """The initial model and the lines it trains on: those with a known label and at
        least one feature, as bags of rows of A.

        Two passes over the scanned lines (closed here), a block at a time: the first finds
        their features (and so which features get a row of A), the second the rows."""
        labels, words, token_features = scanned.labels, scanned.words, scanned.tokens
        keep = labels.sizes > 0
        used = np.zeros(featurizer.n_features, dtype=bool)
        features = SpooledBags(featurizer.id_type)
        for first, last, block in words.blocks(_BLOCK_IDS):
            occurrences = block.indices.astype(np.int32, copy=False)
            bags = featurizer.transform_lines(
                token_features, occurrences, block.sizes, consume=True
            )
            keep[first:last] &= bags.sizes > 0
            bags = bags.select(keep[first:last])
            used[bags.indices] = True
            features.append(bags)
        words.close()
        heap.release()
        if not keep.any():
            raise DataError(f"{name}: no labelled line has a word left after pruning")
        model = Model.initial(
            np.flatnonzero(used), nlabels=len(featurizer.vocab.labels), dim=self.dim, rng=rng
        )
        rows = SpooledBags(np.int32)
        for _first, _last, bags in features.blocks(_BLOCK_IDS):
            rows.append(model.rows_of(bags))
        features.close()
        return model, TrainingData(rows, labels.select(keep), scanned.sizes[keep])

    def _vocabulary(self, scan: Scan, name: str) -> Vocabulary:
        if scan.lines == 0:
            raise DataError(f"{name}: is empty; give one labelled example per line")
        if not scan.labels.keys:
            raise DataError(
                f"{name}: no line has a label; labels are tokens starting with"
                f" {self.label_prefix!r}, like {self.label_prefix}spam"
            )
        vocab = Vocabulary.build(
            scan, min_count=self.min_count, min_count_label=self.min_count_label
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
                    f"{getattr(self, option)} removes every {what} of {name} (the most frequent"
                    f" occurs {most} times); lower it",
                )
        if len(vocab.labels) == 1:
            only = f"only one label ({vocab.labels[0]!r}) is left; a classifier needs at least two"
            if len(scan.labels.keys) > 1:
                raise ParameterError(
                    "min_count_label", f"{self.min_count_label} leaves in {name} {only}; lower it"
                )
            raise DataError(f"{name}: {only}")
        return vocab

    @contextlib.contextmanager
    def _progress_bar(self, total: int) -> Iterator[Progress | None]:
        if not self.verbose:
            yield None
            return
        with _Bar(total=total, unit="word", unit_scale=True, file=sys.stderr, leave=False) as bar:

            def report(seen: int, loss: float, lr: float) -> None:
                bar.update(seen - bar.n)
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.4f}", refresh=False)

            yield report

    # -- prediction ---------------------------------------------------------------------

    def predict_proba(self, texts: Iterable[str | bytes]) -> npt.NDArray[np.float32]:
        """Probabilities per text, columns in `classes_` order (a blank text gets those of
        `</s>` alone, where `predict` gives it no labels)."""
        _check_texts(texts)
        chunks = [probs for probs, _ in self._probabilities(self._chunks(texts))]
        if not chunks:
            return np.zeros((0, len(self._fitted().labels)), dtype=np.float32)
        return np.concatenate(chunks)

    def predict(
        self, texts: Iterable[str | bytes], *, k: int = 1, threshold: float = 0.0
    ) -> list[list[Prediction]]:
        """The top `k` labels of each text with probability >= `threshold`, most likely first."""
        return list(self.iter_predict(texts, k=k, threshold=threshold))

    def iter_predict(
        self, texts: Iterable[str | bytes], *, k: int = 1, threshold: float = 0.0
    ) -> Iterator[list[Prediction]]:
        """`predict`, streaming: reads `texts` lazily, yields one result per text in order.

        A blank text (nothing but separators) gets no predictions.
        """
        _check_texts(texts)
        _check_top_k(k, threshold)
        return self._iter_predict(texts, k, threshold, self._fitted().labels)

    def _iter_predict(
        self, texts: Iterable[str | bytes], k: int, threshold: float, classes: Sequence[str]
    ) -> Iterator[list[Prediction]]:
        for probs, blank in self._probabilities(self._chunks(texts)):
            top = _top_k(probs, k, threshold, blank)
            for ids, row in zip(top.ids.tolist(), top.probabilities.tolist(), strict=True):
                yield [Prediction(classes[i], p) for i, p in zip(ids, row, strict=True) if i >= 0]

    def iter_top_labels(
        self, batches: Iterable[Sequence[str | bytes]], *, k: int = 1, threshold: float = 0.0
    ) -> Iterator[TopLabels]:
        """The top `k` labels of each batch of texts, as arrays: the fast way through large
        inputs (`ftl predict` uses it). Reads `batches` lazily and yields one `TopLabels` per
        batch, in order; the distinct tokens of all batches are featurized once."""
        _check_top_k(k, threshold)
        return self._iter_top_labels(batches, k, threshold, min(k, len(self._fitted().labels)))

    def _iter_top_labels(
        self, batches: Iterable[Sequence[str | bytes]], k: int, threshold: float, width: int
    ) -> Iterator[TopLabels]:
        reader = _Reader(self)
        for batch in batches:
            _check_texts(batch)
            tops = [
                _top_k(probs, k, threshold, blank)
                for probs, blank in self._probabilities(self._chunks(batch), reader)
            ]
            if len(tops) == 1:
                yield tops[0]
            else:
                yield TopLabels(
                    np.concatenate([np.empty((0, width), np.intp), *(top.ids for top in tops)]),
                    np.concatenate(
                        [np.empty((0, width), np.float32), *(top.probabilities for top in tops)]
                    ),
                )

    def _probabilities(
        self, chunks: Iterable[Sequence[str | bytes]], reader: _Reader | None = None
    ) -> Iterator[tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]]:
        """(probabilities, blank-line mask) for each chunk of texts."""
        reader = reader or _Reader(self)
        for chunk in chunks:
            features, _, blank = reader.read(chunk)
            yield self._probabilities_of(features), blank

    def _probabilities_of(self, features: Bags) -> npt.NDArray[np.float32]:
        model = self.model_
        weights = model.rows_of(features).weights(model.input.shape[0], model.input.dtype.type)
        with single_blas_thread():
            scores = model.scores(model.hidden(weights))
        return LOSSES[self.loss].probabilities(scores).astype(np.float32, copy=False)

    def _chunks(self, lines: Iterable[str | bytes]) -> Iterator[list[str | bytes]]:
        """Chunks of lines; from a lazy iterable they grow (1, 2, 4, ... lines) so that the
        first results come out at once."""
        limit = max(1, _PREDICT_CELLS // max(len(self._fitted().labels), 1))
        size = limit if isinstance(lines, Sequence) else 1
        chunk: list[str | bytes] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk
                chunk = []
                size = min(size * 2, limit)
        if chunk:
            yield chunk

    def _fitted(self) -> Vocabulary:
        if not hasattr(self, "model_"):
            raise NotFittedError("this FastTextClassifier is not fitted yet; call fit or load")
        return self.vocabulary_

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the model to `path` atomically (see `serialization`)."""
        vocab = self._fitted()
        header = {
            "ftl_version": __version__,
            "params": self.get_params(),
            "words": vocab.words,
            "word_counts": vocab.word_counts,
            "labels": vocab.labels,
            "label_counts": vocab.label_counts,
            "summary": asdict(self.summary_),
        }
        arrays = {
            "input": self.model_.input,
            "output": self.model_.output,
            "feature_ids": self.model_.feature_ids,
        }
        serialization.save(path, header, arrays)

    @classmethod
    def load(cls, path: str | Path) -> FastTextClassifier:
        """Read a model written by `save`; anything else raises `ModelFileError`."""
        header, arrays = serialization.load(path)
        try:
            return cls._from_parts(header, arrays)
        except (KeyError, TypeError, ValueError, ArithmeticError, ParameterError) as error:
            raise ModelFileError(
                f"{path}: not a valid fasttext_lite model: its contents disagree ({error})"
            ) from None

    @classmethod
    def _from_parts(
        cls, header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> FastTextClassifier:
        if set(arrays) != {"input", "output", "feature_ids"}:
            raise ValueError(f"arrays {sorted(arrays)}")
        params = header["params"]
        if isinstance(params, dict):
            params = {**cls._ADDED_PARAMS, **params}
        if not isinstance(params, dict) or set(params) != set(cls._PARAMS):
            raise ValueError("hyper-parameters missing or unknown")
        clf = cls(**params)
        clf._validate()
        words, labels = header["words"], header["labels"]
        word_counts, label_counts = header["word_counts"], header["label_counts"]
        for strings, counts in ((words, word_counts), (labels, label_counts)):
            if not all(isinstance(s, str) for s in strings) or len(strings) != len(counts):
                raise ValueError("vocabulary")
            if not all(isinstance(n, int) for n in counts):
                raise ValueError("vocabulary counts")
        vocab = Vocabulary(words, word_counts, labels, label_counts)
        featurizer = Featurizer(
            vocab, word_ngrams=clf.word_ngrams, bucket=clf.bucket, minn=clf.minn, maxn=clf.maxn
        )
        a, b, ids = arrays["input"], arrays["output"], arrays["feature_ids"]
        if a.ndim != 2 or b.shape != (len(labels), clf.dim) or a.shape[1] != clf.dim:
            raise ValueError("matrix shapes")
        if ids.shape != (a.shape[0],) or ids.dtype.kind != "i":
            raise ValueError("feature ids")
        if len(labels) < 2 or a.dtype.kind != "f" or b.dtype.kind != "f":
            raise ValueError("labels or weights")
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ValueError("weights are not finite")
        if ids.size and (
            np.any(np.diff(ids) <= 0) or ids[0] < 0 or ids[-1] >= featurizer.n_features
        ):
            raise ValueError("feature ids out of order or range")
        clf.vocabulary_ = vocab
        clf.featurizer_ = featurizer
        clf.model_ = Model(np.array(a), np.array(b), np.array(ids, dtype=np.int64))
        clf.classes_ = list(labels)
        clf.summary_ = TrainingSummary(**header["summary"])
        return clf


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm without its monitor thread: training may fork workers, and forking a process
    that has threads is unsafe."""

    monitor_interval = 0


# -- evaluation --------------------------------------------------------------------------


def evaluate(
    classifier: FastTextClassifier,
    lines: str | Path | Iterable[str | bytes],
    *,
    k: int = 1,
    threshold: float = 0.0,
) -> Evaluation:
    """P@k, R@k, F1 and per-label scores on labelled lines (a path, `-`, or an iterable).

    As fastText's `test`: lines with no label known to the model are skipped; labels the model
    does not know are ignored.
    """
    _check_top_k(k, threshold)
    vocab = classifier._fitted()
    source = read_lines(lines) if isinstance(lines, (str, Path)) else lines
    meter = Meter(len(vocab.labels))
    reader = _Reader(classifier)
    for chunk in classifier._chunks(source):
        features, labels, blank = reader.read(chunk)
        gold = _gold_labels(labels, vocab).weights(len(vocab.labels)).toarray() > 0
        top = _top_k(classifier._probabilities_of(features), k, threshold, blank)
        predicted = np.zeros_like(gold)
        rows, columns = np.nonzero(top.ids >= 0)
        predicted[rows, top.ids[rows, columns]] = True
        # As fastText's test: a line with no label the model knows is not counted.
        keep = gold.any(axis=1)
        meter.add(gold[keep], predicted[keep])
    if meter.examples == 0:
        name = lines if isinstance(lines, (str, Path)) else "the evaluation lines"
        raise DataError(
            f"{name}: no line has a label the model knows (labels start with"
            f" {classifier.label_prefix!r}; the model knows {', '.join(vocab.labels[:3])}, ...)"
        )
    return meter.result(vocab.labels, k=k, threshold=threshold)


# -- helpers -----------------------------------------------------------------------------


class _Reader:
    """Chunks of lines -> their feature bags, labels and blank-line mask, for prediction and
    evaluation. Remembers the distinct tokens it has read (up to _READER_TOKENS), so that a
    stream classifies and featurizes each distinct token once, not once per chunk."""

    def __init__(self, classifier: FastTextClassifier) -> None:
        self.featurizer = classifier.featurizer_
        self.label_prefix = encode_token(classifier.label_prefix)
        self._forget()

    def _forget(self) -> None:
        # Chunks are bounded already (_PREDICT_CELLS): they never need a temporary file.
        self.scan = Scan(self.label_prefix, memory_entries=sys.maxsize)
        self.cache = TokenFeatureCache(self.featurizer)

    def read(self, chunk: Sequence[str | bytes]) -> tuple[Bags, TokenTable, npt.NDArray[np.bool_]]:
        """The chunk's feature bags, its labels (valid until the next read) and which of its
        lines are blank (nothing but separators)."""
        if len(self.scan.words.keys) > _READER_TOKENS:
            self._forget()
        scan = self.scan
        scan.clear()
        scan.add_lines([_as_bytes(text) for text in chunk])
        words = scan.words
        if len(words.keys) > self.cache.size:
            self.cache.add(words.keys[self.cache.size :])
        features = self.featurizer.transform_lines(
            self.cache.tokens, words.occurrences, words.lengths
        )
        blank = (words.lengths == 1) & (scan.labels.lengths == 0)
        return features, scan.labels, blank


def _scan_in_parts(path: str | Path, spans: list[tuple[int, int]], prefix: bytes) -> Scan:
    """Scan each part of a file in its own process (fastText reads with all its threads too).
    Appended in file order, the parts number their tokens exactly as one pass would."""
    with contextlib.ExitStack() as stack:
        try:
            parts = [stack.enter_context(tempfile.TemporaryFile()) for _ in spans]
        except OSError as error:
            raise StorageError(_no_room(path, error)) from None

        def scan_part(index: int) -> None:
            part = Scan(prefix)
            for lines in read_batches(path, _SCAN_LINES, span=spans[index]):
                part.add_lines(lines)
            try:
                part.write(parts[index])
                parts[index].flush()
            except OSError as error:
                raise StorageError(_no_room(path, error)) from None

        processes.run(scan_part, len(spans))
        scan = Scan(prefix)
        for part in parts:
            part.seek(0)
            scan.append(part)
        return scan


def _no_room(path: str | Path, error: OSError) -> str:
    return (
        f"{path}: cannot keep the parts read in {tempfile.gettempdir()}"
        f" ({error.strerror or error}); free space there, set TMPDIR, or use --thread 1"
    )


def _as_bytes(text: str | bytes) -> bytes:
    return encode_token(text) if isinstance(text, str) else text


def _check_texts(texts: object) -> None:
    if isinstance(texts, (str, bytes)):
        raise ParameterError("texts", "must be a list of texts, not one text; wrap it in a list")


def _tokens_per_line(scan: Scan) -> npt.NDArray[np.int32]:
    """Words, labels and `</s>` per line, without a corpus-sized int64 temporary to spare."""
    sizes = scan.words.lengths.astype(np.int32)
    sizes += scan.labels.lengths.astype(np.int32)
    return sizes


def _gold_labels(table: TokenTable, vocab: Vocabulary) -> Bags:
    """Each line's labels that the vocabulary kept (a label written twice on a line is still
    one gold label)."""
    known = ids_of(table.tokens, vocab.label_ids).astype(np.int32)
    gold = Bags(table.lines.indptr, table.occurrences).map(lambda occurrences: known[occurrences])
    # Only a line with several labels can repeat one: look for repeats among those alone
    # (most lines have one label), and mark them -1 for `map` to drop.
    got = take_rows(gold.indptr, np.flatnonzero(gold.sizes > 1))
    pairs = got.owner * len(vocab.labels) + gold.indices[got.positions]
    repeated = np.ones(pairs.size, dtype=bool)
    repeated[np.unique(pairs, return_index=True)[1]] = False
    if not repeated.any():
        return gold
    gold.indices[got.positions[repeated]] = -1
    return gold.map(lambda ids: ids)


def _top_k(
    probs: npt.NDArray[np.float32], k: int, threshold: float, blank: npt.NDArray[np.bool_]
) -> TopLabels:
    """Per row, the k most probable labels at or above `threshold`, best first; none for a
    blank line."""
    k = min(k, probs.shape[1])
    # k = 1 is the common case, and argmax is several times cheaper than a partition.
    top = probs.argmax(axis=1)[:, None] if k == 1 else np.argpartition(-probs, k - 1, axis=1)[:, :k]
    top_p = np.take_along_axis(probs, top, axis=1)
    order = np.argsort(-top_p, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_p = np.take_along_axis(top_p, order, axis=1)
    dropped = (top_p < threshold) | blank[:, None]
    top[dropped] = -1
    top_p[dropped] = 0.0
    return TopLabels(top, top_p)


def _check_top_k(k: int, threshold: float) -> None:
    _check_int("k", k, minimum=1)
    if not isinstance(threshold, numbers.Real) or not 0.0 <= threshold <= 1.0:
        raise ParameterError("threshold", f"must be between 0 and 1, got {threshold!r}")


def _check_int(name: str, value: object, *, minimum: int, maximum: int = 2**63 - 1) -> None:
    # numbers.Integral admits numpy integers; bool is an int but never a count.
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or not minimum <= value <= maximum:  # type: ignore[operator]
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if integral and value > maximum:  # type: ignore[operator]
            kind = f"at most {maximum}"
        raise ParameterError(name, f"must be {kind}, got {value!r}")
