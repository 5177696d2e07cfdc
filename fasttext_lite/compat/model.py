"""The model object of fastText's Python API (the binding's `_FastText`), over a
`FastTextClassifier` or a fastText word-vector model (`vectors.WordVectors`, which refuses to
predict as fastText does): the same methods, arguments and return types.

Labels keep their prefix here (`__label__x`), as in fastText. Where ftl and fastText differ:
probabilities are the true ones (fastText's carry +1e-5); features that never occurred in
training are zero rows in an ftl-trained model (fastText's hold their random start values), so
`get_input_matrix` shows zeros for them; `get_label_id` of a word is -1 (fastText returns a
meaningless negative number).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.features.featurizer import char_ngrams
from fasttext_lite.features.hashing import fnv1a
from fasttext_lite.formats import fasttext_model
from fasttext_lite.formats.model_file import ModelParts
from fasttext_lite.metrics import Evaluation, evaluate
from fasttext_lite.model import Model
from fasttext_lite.text.tokens import EOS, as_bytes, decode, tokenize
from fasttext_lite.vectors import WordVectors

# The binding's `args` attributes of a trained model, by fastText's names.
_ARG_NAMES = (
    "lr", "dim", "ws", "epoch", "minCount", "minCountLabel", "minn", "maxn", "neg",
    "wordNgrams", "loss", "bucket", "thread", "lrUpdateRate", "t", "label", "verbose",
    "pretrainedVectors",
)  # fmt: skip


class FastText:
    """A trained model, as `fasttext.load_model` and `fasttext.train_supervised` return it.

    A model from `train_supervised` has its arguments as attributes, as the binding's does.
    """

    lr: float
    dim: int
    ws: int
    epoch: int
    minCount: int  # noqa: N815 - fastText's names
    minCountLabel: int  # noqa: N815
    minn: int
    maxn: int
    neg: int
    wordNgrams: int  # noqa: N815
    loss: str
    bucket: int
    thread: int
    lrUpdateRate: int  # noqa: N815
    t: float
    label: str
    verbose: int
    pretrainedVectors: str  # noqa: N815

    def __init__(
        self, classifier: FastTextClassifier | WordVectors, args: Mapping[str, Any] | None = None
    ) -> None:
        self._model = classifier
        self._words: list[str] | None = None
        self._labels: list[str] | None = None
        if args is not None:
            for name in _ARG_NAMES:
                setattr(self, name, args[name])

    @property
    def vectors(self) -> FastTextClassifier | WordVectors:
        """What gives this model's word and sentence vectors: a classifier or word vectors."""
        return self._model

    @property
    def classifier(self) -> FastTextClassifier:
        """The ftl classifier this model is; fastText's error for a word-vector model."""
        if isinstance(self._model, WordVectors):
            raise ValueError("Model needs to be supervised for prediction!")
        return self._model

    # -- prediction and evaluation ---------------------------------------------------------

    def predict(
        self,
        text: str | list[str],
        k: int = 1,
        threshold: float = 0.0,
        on_unicode_error: str = "strict",
    ) -> tuple[Any, Any]:
        """For one text: (labels, probabilities as a numpy array); for a list of texts: (a
        list of label lists, a list of float32 arrays). A blank text is predicted from `</s>`
        alone, as fastText does."""
        texts = text if isinstance(text, list) else [text]
        for entry in texts:
            _one_line(entry, "predict")
        clf = self.classifier
        predictor = clf.predictor()
        prefix = clf.label_prefix
        labels: list[list[str]] = []
        probabilities: list[npt.NDArray[np.float32]] = []
        for chunk in predictor.chunks(texts):
            top = predictor.top_labels(predictor.read(chunk), k, threshold, drop_blank=False)
            for ids, row in zip(top.ids.tolist(), top.probabilities, strict=True):
                kept = [i for i in ids if i >= 0]
                labels.append([_cast(prefix + predictor.labels[i], on_unicode_error) for i in kept])
                probabilities.append(row[: len(kept)].copy())
        if isinstance(text, list):
            return labels, probabilities
        return tuple(labels[0]), probabilities[0].astype(np.float64)

    def test(
        self, path: str | Path, k: int = 1, threshold: float = 0.0
    ) -> tuple[int, float, float]:
        """(lines, P@k, R@k) on a labelled file, as fastText's `test`."""
        result = evaluate(self.classifier, path, k=k, threshold=threshold)
        return result.examples, result.precision, result.recall

    def test_label(
        self, path: str | Path, k: int = 1, threshold: float = 0.0
    ) -> dict[str, dict[str, float]]:
        """Per label: precision, recall and F1 (`nan` precision for a label never predicted,
        as fastText)."""
        result = evaluate(self.classifier, path, k=k, threshold=threshold)
        return label_scores(result, self.classifier.label_prefix)

    # -- the dictionary --------------------------------------------------------------------

    def get_words(self, include_freq: bool = False, on_unicode_error: str = "strict") -> Any:
        vocab = self._model.vocabulary_
        words = [_cast(word, on_unicode_error) for word in vocab.words]
        return (words, np.array(vocab.word_counts, dtype=np.int64)) if include_freq else words

    def get_labels(self, include_freq: bool = False, on_unicode_error: str = "strict") -> Any:
        vocab, prefix = self._model.vocabulary_, self._model.label_prefix
        labels = [_cast(prefix + label, on_unicode_error) for label in vocab.labels]
        return (labels, np.array(vocab.label_counts, dtype=np.int64)) if include_freq else labels

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = self.get_words()
        return self._words

    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = self.get_labels()
        return self._labels

    def get_word_id(self, word: str) -> int:
        return self._model.vocabulary_.word_ids.get(word, -1)

    def get_label_id(self, label: str) -> int:
        prefix = self._model.label_prefix
        if not label.startswith(prefix):
            return -1
        return self._model.vocabulary_.label_ids.get(label[len(prefix) :], -1)

    def get_subword_id(self, subword: str) -> int:
        """The input row a character n-gram hashes to."""
        featurizer = self._model.featurizer_
        return featurizer.nwords + fnv1a(as_bytes(subword)) % max(featurizer.bucket, 1)

    def get_subwords(
        self, word: str, on_unicode_error: str = "strict"
    ) -> tuple[list[str], npt.NDArray[np.int32]]:
        """The word (if in the vocabulary) and its character n-grams, with their input rows."""
        featurizer = self._model.featurizer_
        names: list[str] = []
        ids: list[int] = []
        own = self.get_word_id(word)
        if own >= 0:
            names.append(word)
            ids.append(own)
        if word != EOS and featurizer.maxn > 0:
            for gram in char_ngrams(as_bytes(word), featurizer.minn, featurizer.maxn):
                names.append(_cast(decode(gram), on_unicode_error))
                ids.append(featurizer.nwords + fnv1a(gram) % featurizer.bucket)
        return names, np.array(ids, dtype=np.int32)

    def get_line(self, text: str | list[str], on_unicode_error: str = "strict") -> Any:
        """(words, labels) of a line: its tokens, `</s>` last, and its known labels."""
        if isinstance(text, list):
            lines = [self.get_line(entry, on_unicode_error) for entry in text]
            return [words for words, _ in lines], [labels for _, labels in lines]
        _one_line(text, "get_line")
        prefix = self._model.label_prefix
        known = self._model.vocabulary_.label_ids
        words, labels = [], []
        for token in tokenize(text):
            if token.startswith(prefix):
                if token[len(prefix) :] in known:
                    labels.append(_cast(token, on_unicode_error))
            else:
                words.append(_cast(token, on_unicode_error))
        return [*words, EOS], labels

    # -- vectors ---------------------------------------------------------------------------

    def get_dimension(self) -> int:
        return int(self._model.dim)

    def get_word_vector(self, word: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = self._model.word_vectors([word])[0]
        return vector

    def get_sentence_vector(self, text: str) -> npt.NDArray[np.float32]:
        _one_line(text, "predict")
        vector: npt.NDArray[np.float32] = self._model.sentence_vectors([text])[0]
        return vector

    def get_nearest_neighbors(
        self, word: str, k: int = 10, on_unicode_error: str = "strict"
    ) -> list[tuple[float, str]]:
        found = self._model.neighbours([word], k=k)[0]
        return [(n.similarity, _cast(n.word, on_unicode_error)) for n in found]

    def get_input_vector(self, ind: int) -> npt.NDArray[np.float32]:
        """Row `ind` of the input matrix (zeros for a feature that never occurred)."""
        model = self._model.model_
        row = np.searchsorted(model.feature_ids, ind)
        if row < model.feature_ids.size and model.feature_ids[row] == ind:
            return np.array(model.input[row], dtype=np.float32)
        return np.zeros(self.get_dimension(), dtype=np.float32)

    def get_input_matrix(self) -> npt.NDArray[np.float32]:
        """The full input matrix, a row per word and hash bucket (zeros for features that
        never occurred in training)."""
        if self.is_quantized():
            raise ValueError("Can't export quantized matrix")  # fastText's refusal
        model, featurizer = self._model.model_, self._model.featurizer_
        full = np.zeros((featurizer.n_features, self.get_dimension()), dtype=np.float32)
        full[model.feature_ids] = model.input
        return full

    def get_output_matrix(self) -> npt.NDArray[np.float32]:
        return np.array(self._model.model_.output, dtype=np.float32)

    def set_matrices(
        self, input_matrix: npt.NDArray[np.floating], output_matrix: npt.NDArray[np.floating]
    ) -> None:
        """Replace both matrices: the input one a row per word and hash bucket."""
        featurizer = self._model.featurizer_
        if input_matrix.shape[0] != featurizer.n_features:
            raise ValueError(f"the input matrix needs {featurizer.n_features} rows")
        if self._model.model_.row_weights is not None:
            raise ValueError("the model weighs its features by idf; fastText's matrices do not")
        self._model.model_ = Model(
            np.asarray(input_matrix, dtype=np.float32),
            np.asarray(output_matrix, dtype=np.float32),
            np.arange(featurizer.n_features, dtype=np.int64),
        )

    def __getitem__(self, word: str) -> npt.NDArray[np.float32]:
        return self.get_word_vector(word)

    def __contains__(self, word: str) -> bool:
        return word in self._model.vocabulary_.word_ids

    # -- the file and what ftl does not have yet -----------------------------------------

    def is_quantized(self) -> bool:
        model = self._model
        return isinstance(model, FastTextClassifier) and model.model_.quantized is not None

    def save_model(self, path: str | Path) -> None:
        """Save the model in fastText's format (`.bin`, `.ftz` when quantized), which the
        `fasttext` package loads too; a path ending in `.ftl` gets ftl's format."""
        if isinstance(self._model, WordVectors):
            raise ValueError("ftl does not write word-vector models; keep the file you loaded")
        clf = self.classifier
        if str(path).endswith(".ftl"):
            clf.save(path)
            return
        fasttext_model.save(
            path, ModelParts(clf.get_params(), clf.vocabulary_, clf.model_, clf.summary_)
        )

    def quantize(
        self,
        input: str | None = None,  # noqa: A002 - fastText's name
        qout: bool = False,
        cutoff: int = 0,
        retrain: bool = False,
        epoch: int | None = None,
        lr: float | None = None,
        thread: int | None = None,
        verbose: int | None = None,
        dsub: int = 2,
        qnorm: bool = False,
    ) -> None:
        """Quantize the model in place, as the binding does (`epoch`, `lr`, `thread`
        default to the model's; `input` is the corpus `retrain` trains on)."""
        if retrain and not input:
            raise ValueError("Need input file path if retraining")
        clf = self.classifier
        if verbose is not None:
            clf.verbose = verbose > 0
        self._model = clf.quantize(
            cutoff=cutoff,
            retrain=input if retrain else None,
            epoch=epoch or None,
            lr=lr or None,
            thread=thread or None,
            qnorm=qnorm,
            qout=qout,
            dsub=dsub,
        )
        self._words = self._labels = None  # pruning drops words

    def get_analogies(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("get_analogies is not in ftl yet")


def _one_line(text: str, what: str) -> None:
    if "\n" in text:
        raise ValueError(f"{what} processes one line at a time (remove '\\n')")


def _cast(text: str, on_unicode_error: str) -> str:
    """A token as the binding gives it: undecodable bytes raise, or are replaced or
    dropped, by `on_unicode_error`."""
    return as_bytes(text).decode("utf-8", on_unicode_error)


def label_scores(result: Evaluation, prefix: str) -> dict[str, dict[str, float]]:
    """fastText's per-label scores of an evaluation, by prefixed label."""
    return {
        prefix + label.label: {
            "precision": label.precision if label.predicted else float("nan"),
            "recall": label.recall,
            "f1score": label.f1,
        }
        for label in result.per_label
    }
