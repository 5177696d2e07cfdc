"""The facade: `FastTextClassifier` (fit, predict, save, load), as fastText's `src/fasttext.cc`.

Hyper-parameters are stored verbatim by the constructor and validated by `fit` (their schema
is `params`); learned state lives in attributes ending in `_`. The work is done elsewhere:
`training` prepares the corpus and runs SGD, `inference` predicts, `formats` reads and writes.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from fasttext_lite import explain as explain_module
from fasttext_lite import labels as labels_module
from fasttext_lite import parallel, quantization, size_limit, vectors
from fasttext_lite import params as schema
from fasttext_lite.errors import ParameterError, TrainingError, not_fitted
from fasttext_lite.explain import Explanation
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.formats import container, fasttext_model, model_file
from fasttext_lite.inference import Predictor
from fasttext_lite.labels import names_of as label_names
from fasttext_lite.losses import TopLabels, make_loss
from fasttext_lite.model import Model
from fasttext_lite.text.lines import read_all_lines
from fasttext_lite.text.scan import Scan
from fasttext_lite.text.tokens import encode_token, first_non_text
from fasttext_lite.training import corpus, workers
from fasttext_lite.training.sgd import Progress, train
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.training.validation import Validator
from fasttext_lite.vocab import Vocabulary

_D = schema.DEFAULTS


class Prediction(NamedTuple):
    label: str
    probability: float


class FastTextClassifier:
    """A fastText supervised classifier.

    Hyper-parameters keep fastText's names and defaults (supervised mode; see `params` for
    each one's meaning and range). `batch_size` lines share one SGD step: 1 is fastText's
    per-example SGD; 0 (the default) grows the batch as the learning rate decays. `thread`
    worker processes share the model as fastText's threads do; the default, 1, unlike
    fastText's 12, gives the same model for the same seed every time.
    """

    def __init__(
        self,
        *,
        lr: float = _D["lr"],
        dim: int = _D["dim"],
        epoch: int = _D["epoch"],
        word_ngrams: int = _D["word_ngrams"],
        bucket: int = _D["bucket"],
        minn: int = _D["minn"],
        maxn: int = _D["maxn"],
        min_count: int = _D["min_count"],
        min_count_label: int = _D["min_count_label"],
        loss: str = _D["loss"],
        neg: int = _D["neg"],
        weighting: str = _D["weighting"],
        label_prefix: str = _D["label_prefix"],
        weight_prefix: str = _D["weight_prefix"],
        class_weight: str | os.PathLike[str] = _D["class_weight"],
        batch_size: int = _D["batch_size"],
        thread: int = _D["thread"],
        seed: int = _D["seed"],
        pretrained_vectors: str | os.PathLike[str] = _D["pretrained_vectors"],
        valid: str | os.PathLike[str] = _D["valid"],
        valid_split: float = _D["valid_split"],
        early_stop: int = _D["early_stop"],
        init_model: str | os.PathLike[str] = _D["init_model"],
        verbose: bool = _D["verbose"],
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
        self.neg = neg
        self.weighting = weighting
        self.label_prefix = label_prefix
        self.weight_prefix = weight_prefix
        self.class_weight = class_weight
        self.batch_size = batch_size
        self.thread = thread
        self.seed = seed
        self.pretrained_vectors = pretrained_vectors
        self.valid = valid
        self.valid_split = valid_split
        self.early_stop = early_stop
        self.init_model = init_model
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as scikit-learn's estimators give them (`deep` is moot)."""
        return {param.name: getattr(self, param.name) for param in schema.PARAMS}

    def set_params(self, **params: Any) -> FastTextClassifier:
        unknown = set(params) - set(schema.BY_NAME)
        if unknown:
            raise ParameterError(sorted(unknown)[0], "is not a hyper-parameter")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    # -- training -----------------------------------------------------------------------

    def fit(
        self,
        texts: Iterable[str | bytes],
        labels: Iterable[Any],
        sample_weight: Iterable[float] | None = None,
    ) -> FastTextClassifier:
        """Train on texts and their labels: one label per text, or a list of labels (any
        hashable values; `classes_` gives them back as they were given). `sample_weight`
        weighs each text's share of the loss.

        Texts and labels are separate: a token of a text that starts with the label prefix is
        neither a label nor a word, as at prediction.
        """
        texts, labels = _paired(texts, labels)
        if sample_weight is not None:
            sample_weight = [float(w) for w in sample_weight]
            if len(sample_weight) != len(texts) or not all(
                math.isfinite(w) and w >= 0 for w in sample_weight
            ):
                raise ParameterError("sample_weight", "give one finite number >= 0 per text")
        bad = first_non_text(texts)
        if bad is not None:
            raise ParameterError("texts", f"each text must be a str or bytes, got {bad[0]!r}")
        names, given = label_names(labels, self.label_prefix)
        self._fit(
            lambda holdout: corpus.scan_texts(
                texts, names, self._prefixes(), holdout, sample_weight
            ),
            "the training texts",
        )
        self.classes_ = labels_module.classes(self.vocabulary_.labels, given)
        return self

    def fit_file(self, path: str | Path) -> FastTextClassifier:
        """Train on a file in fastText's format; `-` reads stdin."""
        return self._fit(
            lambda holdout: corpus.scan_file(path, self._prefixes(), self.thread, holdout),
            str(path),
        )

    def _fit(self, read: Callable[[corpus.Holdout | None], Scan], name: str) -> FastTextClassifier:
        start = self._start()  # first: it sets the feature-space settings
        params = self.get_params()
        schema.validate(params)
        for advice in schema.notes(params):
            warnings.warn(advice, UserWarning, stacklevel=3)
        # Checked for training only: a model trained with threads loads anywhere.
        if self.thread > 1 and not workers.available():
            raise ParameterError(
                "thread", f"must be 1 on this platform (no fork), got {self.thread}"
            )
        started = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        prefix = encode_token(self.label_prefix)
        # The validation file is read before the long part, so that a typo costs nothing.
        valid_lines = read_all_lines(os.fspath(self.valid)) if self.valid else None
        holdout = corpus.Holdout(self.valid_split, prefix, self.seed) if self.valid_split else None
        ready = corpus.prepare(lambda: read(holdout), params, rng=rng, name=name, start=start)
        model, data = ready.model, ready.data
        if holdout is not None:
            if not holdout.held:
                raise ParameterError(
                    "valid_split", f"{self.valid_split} holds out no line of {name}; raise it"
                )
            valid_lines = holdout.held
        with self._progress_bar(int(data.tokens_per_line.sum()) * self.epoch) as (report, note):
            validator = None
            if valid_lines is not None:
                predictor = Predictor(ready.featurizer, model, ready.loss, *self._prefixes())
                validator = Validator(predictor, valid_lines, patience=self.early_stop, note=note)
            epochs = train(
                model,
                data,
                loss=ready.loss,
                lr=self.lr,
                epoch=self.epoch,
                batch_size=self.batch_size,
                threads=self.thread,
                rng=rng,
                progress=report,
                after_epoch=validator,
            )
        if validator is not None:
            validator.restore_best(model)
        if not (np.isfinite(model.input).all() and np.isfinite(model.output).all()):
            raise TrainingError(f"training diverged; try a smaller learning rate than {self.lr}")
        summary = TrainingSummary(
            lines=ready.nlines,
            examples=data.rows.nlines,
            unlabelled=ready.unlabelled,
            words=len(ready.vocab.words),
            labels=len(ready.vocab.labels),
            tokens=ready.ntokens,
            seconds=time.perf_counter() - started,
            epochs=epochs,
            best_epoch=None if validator is None or not validator.best else validator.best.epoch,
            validation=[] if validator is None else [s._asdict() for s in validator.curve],
            added_words=len(ready.vocab.words) - (len(start.vocab.words) if start else 0),
            added_labels=len(ready.vocab.labels) - (len(start.vocab.labels) if start else 0),
        )
        self._set_fitted(ready.vocab, model, summary)
        return self

    def _prefixes(self) -> tuple[bytes, bytes]:
        """The label prefix and the weight prefix, as the bytes read."""
        return encode_token(self.label_prefix), encode_token(self.weight_prefix)

    def _start(self) -> corpus.Start | None:
        """The model to fine-tune, whose feature-space settings this one takes."""
        if not self.init_model:
            return None
        old = FastTextClassifier.load(os.fspath(self.init_model))
        if old.loss == "hs":
            raise ParameterError("init_model", "fine-tuning an hs model is not in ftl yet")
        self.set_params(**{name: getattr(old, name) for name in schema.SHAPE_PARAMS})
        return corpus.Start(old.vocabulary_, old.model_)

    def _set_fitted(self, vocab: Vocabulary, model: Model, summary: TrainingSummary) -> None:
        self.vocabulary_ = vocab
        self.featurizer_ = Featurizer(
            vocab, word_ngrams=self.word_ngrams, bucket=self.bucket, minn=self.minn, maxn=self.maxn
        )
        self.model_ = model
        self._neighbour_index: vectors.NeighbourIndex | None = None
        self._from_fasttext = False
        self.classes_ = labels_module.classes(vocab.labels, None)
        self.summary_ = summary

    @contextlib.contextmanager
    def _progress_bar(
        self, total: int
    ) -> Iterator[tuple[Progress | None, Callable[[str], None] | None]]:
        """A progress report for the trainer, and a way to print a line above the bar."""
        if not self.verbose:
            yield None, None
            return
        # disable=None: no bar where stderr is not a terminal, whoever asked for one.
        with _Bar(
            total=total, unit="word", unit_scale=True, file=sys.stderr, leave=False, disable=None
        ) as bar:

            def report(seen: int, loss: float, lr: float) -> None:
                bar.update(seen - bar.n)
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.4f}", refresh=False)

            yield report, lambda line: bar.write(line, file=sys.stderr)

    # -- prediction ---------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise not_fitted("this FastTextClassifier is not fitted yet; call fit or load")

    def predictor(self) -> Predictor:
        """A `Predictor` for this model: reads chunks of lines and gives their labels."""
        self._check_fitted()
        loss = make_loss(
            self.loss,
            self.vocabulary_.label_counts,
            neg=self.neg,
            fasttext_sigmoid=self._from_fasttext,
        )
        return Predictor(self.featurizer_, self.model_, loss, *self._prefixes())

    def predict(self, texts: Iterable[str | bytes]) -> npt.NDArray[Any]:
        """The most probable label of each text, as an array of `classes_` values (a blank
        text gets the label of `</s>` alone; `top_k` gives it none)."""
        ids = self._most_probable(texts)
        return self.classes_[ids]

    def _most_probable(self, texts: Iterable[str | bytes]) -> npt.NDArray[np.intp]:
        _check_texts(texts)
        predictor = self.predictor()
        chosen = []
        for chunk in predictor.chunks(texts):
            read = predictor.read(chunk)
            ids = predictor.top_labels(read, 1, 0.0, drop_blank=False).ids[:, 0]
            missing = np.flatnonzero(ids < 0)  # hs's search can prune every label away
            if missing.size:
                ids[missing] = predictor.probabilities(read)[missing].argmax(axis=1)
            chosen.append(ids)
        return np.concatenate([np.zeros(0, np.intp), *chosen])

    def predict_proba(self, texts: Iterable[str | bytes]) -> npt.NDArray[np.float32]:
        """Probabilities per text, columns in `classes_` order (a blank text gets those of
        `</s>` alone)."""
        _check_texts(texts)
        predictor = self.predictor()
        chunks = [predictor.probabilities(predictor.read(c)) for c in predictor.chunks(texts)]
        return np.concatenate([np.zeros((0, len(self.classes_)), np.float32), *chunks])

    def score(self, texts: Iterable[str | bytes], labels: Iterable[Any]) -> float:
        """Accuracy: the share of texts whose most probable label is (one of) theirs."""
        texts, labels = _paired(texts, labels)
        gold, _ = label_names(labels, self.label_prefix)
        names = self.vocabulary_.labels
        hits = [
            names[i] in text_gold
            for i, text_gold in zip(self._most_probable(texts).tolist(), gold, strict=True)
        ]
        return float(np.mean(hits)) if hits else 0.0

    def top_k(
        self, texts: Iterable[str | bytes], *, k: int = 1, threshold: float = 0.0
    ) -> list[list[Prediction]]:
        """fastText's prediction: the top `k` labels of each text with probability >=
        `threshold`, most likely first, with their probabilities (`k=-1`: all labels)."""
        return list(self.iter_top_k(texts, k=k, threshold=threshold))

    def iter_top_k(
        self, texts: Iterable[str | bytes], *, k: int = 1, threshold: float = 0.0
    ) -> Iterator[list[Prediction]]:
        """`top_k`, streaming: reads `texts` lazily, yields one result per text in order.

        A blank text (nothing but separators) gets no predictions.
        """
        _check_texts(texts)
        schema.check_top_k(k, threshold)
        predictor = self.predictor()
        return self._iter_top_k(predictor, texts, k, threshold)

    def _iter_top_k(
        self, predictor: Predictor, texts: Iterable[str | bytes], k: int, threshold: float
    ) -> Iterator[list[Prediction]]:
        classes = self.classes_.tolist()
        for chunk in predictor.chunks(texts):
            top = predictor.top_labels(predictor.read(chunk), k, threshold)
            for ids, row in zip(top.ids.tolist(), top.probabilities.tolist(), strict=True):
                yield [Prediction(classes[i], p) for i, p in zip(ids, row, strict=True) if i >= 0]

    def iter_top_labels(
        self,
        batches: Iterable[Sequence[str | bytes]],
        *,
        k: int = 1,
        threshold: float = 0.0,
        threads: int = 1,
    ) -> Iterator[TopLabels]:
        """The top `k` labels of each batch of texts, as arrays: the fast way through large
        inputs (`ftl predict` uses it). Reads `batches` lazily and yields one `TopLabels` per
        batch, in order (ids index `classes_`); the distinct tokens of all batches are
        featurized once (per worker). `threads` > 1 forks that many worker processes."""
        schema.check_top_k(k, threshold)
        schema.check_int("threads", threads, minimum=1, maximum=256)
        predictor = self.predictor()

        def top_labels(batch: Sequence[str | bytes]) -> TopLabels:
            _check_texts(batch)
            return predictor.top_labels_of(batch, k, threshold)

        return parallel.ordered_map(top_labels, batches, threads)

    # -- vectors ------------------------------------------------------------------------

    def sentence_vectors(self, texts: Iterable[str | bytes]) -> npt.NDArray[np.float32]:
        """(texts, dim): the hidden vector the classifier scores, for each text (fastText's
        `print-sentence-vectors`, `get_sentence_vector`)."""
        _check_texts(texts)
        predictor = self.predictor()
        blocks = [predictor.sentence_vectors(predictor.read(c)) for c in predictor.chunks(texts)]
        return np.concatenate([np.zeros((0, self.dim), np.float32), *blocks])

    def word_vectors(self, words: Sequence[str | bytes]) -> npt.NDArray[np.float32]:
        """(words, dim): each word's vector, the mean of its own row and its character
        n-grams' (fastText's `print-word-vectors`, `get_word_vector`)."""
        _check_texts(words)
        self._check_fitted()
        return vectors.word_vectors(self.featurizer_, self.model_, words)

    def neighbours(self, words: Sequence[str], *, k: int = 10) -> list[list[vectors.Neighbour]]:
        """The `k` vocabulary words nearest each word by cosine similarity (fastText's `nn`)."""
        _check_texts(words)
        schema.check_int("k", k, minimum=1)
        self._check_fitted()
        if self._neighbour_index is None:
            self._neighbour_index = vectors.NeighbourIndex(self.featurizer_, self.model_)
        return self._neighbour_index.query(words, k)

    def explain(self, texts: Sequence[str | bytes], *, k: int = 1) -> list[list[Explanation]]:
        """For each text, its top `k` labels, each with every token's (and word or character
        n-gram's) share of the label's score; the shares add up to the score."""
        _check_texts(texts)
        schema.check_top_k(k, 0.0)
        return explain_module.explain(self.predictor(), texts, k=k)

    def top_words(self, label: Any, *, n: int = 20) -> list[tuple[str, float]]:
        """The `n` vocabulary words whose vectors score highest for `label` (a value of
        `classes_`), with their scores."""
        schema.check_int("n", n, minimum=1)
        self._check_fitted()
        matches = np.flatnonzero(self.classes_ == label)
        if not matches.size:
            raise ParameterError("label", f"the model has no label {label!r}")
        if self.model_.output.shape[0] != len(self.classes_):
            raise ParameterError("loss", "top words need per-label scores; hs has none")
        return vectors.top_words(self.featurizer_, self.model_, int(matches[0]), n)

    # -- quantization ---------------------------------------------------------------------

    def quantize(
        self,
        *,
        cutoff: int = 0,
        retrain: str | os.PathLike[str] | None = None,
        epoch: int | None = None,
        lr: float | None = None,
        thread: int | None = None,
        qnorm: bool = False,
        qout: bool = False,
        dsub: int = 2,
        model_size: int | str | None = None,
    ) -> FastTextClassifier:
        """A smaller copy of this classifier (fastText's `quantize`): the `cutoff` word and
        n-gram vectors with the largest norms (0: all), retrained on the corpus file
        `retrain` when given (for `epoch` passes at `lr`, by default this model's), then
        product-quantized with pieces of `dsub` numbers; `qnorm` quantizes each vector's
        norm apart, `qout` the label vectors too. The copy predicts from the codes.

        `model_size` (bytes, or fastText's "2M", "500K") instead of `cutoff`: the most vectors,
        at least 256, whose file fits in it, ftl's or fastText's, whichever is larger
        (`quantized_size`); retrained only when vectors are dropped. A model quantized already
        just loses its vectors of smallest norm until it fits. `size_limit.DoesNotFit` (a
        `ParameterError`) when not even that fits."""
        self._check_fitted()
        schema.check_int("cutoff", cutoff, minimum=0)
        schema.check_int("dsub", dsub, minimum=1)
        budget = None if model_size is None else size_limit.parse(model_size)
        if budget is not None and cutoff:
            raise ParameterError("cutoff", "give a cutoff or a model_size, not both")
        epoch = self.epoch if epoch is None else epoch
        lr = self.lr if lr is None else lr
        thread = self.thread if thread is None else thread
        settings = quantization.Settings(cutoff, dsub, qnorm, qout)
        clf = FastTextClassifier(**self.get_params())
        clf.set_params(thread=thread, init_model="", pretrained_vectors="", valid="")
        if budget is not None and self.model_.quantized is not None:
            if retrain is not None or qnorm or qout or dsub != quantization.Settings().dsub:
                raise ParameterError(
                    "model", "is quantized already: it can only lose vectors to fit model_size"
                )
            return clf._fitted_from(self, size_limit.trim(self._parts(), budget))
        if budget is not None:
            if dsub > self.dim:  # before sizing codes that could not be made
                raise ParameterError("dsub", f"must be between 1 and dim ({self.dim}), got {dsub}")
            parts = self._parts()._replace(params=clf.get_params())
            cutoff = size_limit.cutoff(parts, budget, settings)
            settings = settings._replace(cutoff=cutoff)
            if cutoff == self.model_.input.shape[0]:
                retrain = None  # nothing dropped, nothing to learn again
        if retrain is not None:  # as fastText, the model keeps the retraining's settings
            clf.set_params(epoch=epoch, lr=lr)
            schema.validate(clf.get_params())
        rng = np.random.default_rng(self.seed)

        def retrained(pruned: quantization.Pruned) -> Model:
            assert retrain is not None
            return clf._retrained(pruned, os.fspath(retrain), rng)

        vocab, model = quantization.quantize(
            self.vocabulary_,
            self.model_,
            self.get_params(),
            settings,
            rng,
            None if retrain is None else retrained,
        )
        small = model_file.ModelParts(
            clf.get_params(), vocab, model, self.summary_, self._parts().integer_labels
        )
        if budget is not None:  # sized on codes of zeros; the real file is checked
            small = size_limit.trim(small, budget)
        return clf._fitted_from(self, small)

    def _fitted_from(
        self, source: FastTextClassifier, parts: model_file.ModelParts
    ) -> FastTextClassifier:
        """This classifier fitted with `parts`, a smaller model of `source`'s."""
        self._set_fitted(parts.vocab, parts.model, parts.summary)
        self.classes_ = source.classes_
        self._from_fasttext = source._from_fasttext
        return self

    def quantized_size(self) -> int:
        """The bytes of this quantized model's file: the larger of ftl's `.ftl` and fastText's
        `.ftz` (what `quantize(model_size=...)` keeps within)."""
        self._check_fitted()
        if self.model_.quantized is None:
            raise ParameterError("model", "is not quantized; quantize it first")
        return size_limit.file_size(self._parts())

    def _retrained(self, pruned: quantization.Pruned, path: str, rng: np.random.Generator) -> Model:
        """The pruned model trained on `path` with this classifier's settings."""
        ready = corpus.prepare_fixed(
            lambda: corpus.scan_file(path, self._prefixes(), self.thread, None),
            self.get_params(),
            corpus.Start(pruned.vocab, pruned.model),
            name=path,
        )
        with self._progress_bar(int(ready.data.tokens_per_line.sum()) * self.epoch) as (report, _):
            train(
                ready.model,
                ready.data,
                loss=ready.loss,
                lr=self.lr,
                epoch=self.epoch,
                batch_size=self.batch_size,
                threads=self.thread,
                rng=rng,
                progress=report,
            )
        model = ready.model
        if not (np.isfinite(model.input).all() and np.isfinite(model.output).all()):
            raise TrainingError(f"retraining diverged; try a smaller learning rate than {self.lr}")
        return model

    # -- scikit-learn's estimator protocol ----------------------------------------------

    def __sklearn_tags__(self) -> Any:
        """A classifier of raw texts (scikit-learn is imported only when it asks)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
            input_tags=InputTags(one_d_array=True, two_d_array=False, string=True),
        )

    def __repr__(self) -> str:
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, schema.DEFAULTS[name])
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the model to `path` atomically: fastText's format for a path ending in
        `.bin` or `.ftz` (`formats.fasttext_write`), ftl's otherwise (`formats.container`)."""
        self._check_fitted()
        if Path(path).suffix.lower() in fasttext_model.SUFFIXES:
            fasttext_model.save(path, self._parts())
        else:
            model_file.save(path, self._parts())

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = False) -> FastTextClassifier:
        """Read a model written by `save`, or fastText's `.bin` / `.ftz`; anything else raises
        `ModelFileError`. With `mmap`, its matrices are read-only memory maps of the file, so
        that processes predicting with one model file share one copy of it in memory (a
        fastText file's dense matrices always are)."""
        if container.is_fasttext(path):
            clf = cls._from_parts(fasttext_model.load(path))
            clf._from_fasttext = True  # it predicts as fastText computes (its sigmoid table)
            return clf
        return cls._from_parts(model_file.load(path, mmap=mmap))

    @classmethod
    def _from_parts(cls, parts: model_file.ModelParts) -> FastTextClassifier:
        clf = cls(**parts.params)
        clf._restore(parts)
        return clf

    def _restore(self, parts: model_file.ModelParts) -> None:
        self._set_fitted(parts.vocab, parts.model, parts.summary)
        if parts.integer_labels:
            self.classes_ = np.array([int(name) for name in parts.vocab.labels], dtype=np.int64)

    def _parts(self) -> model_file.ModelParts:
        integers = self.classes_.dtype.kind in "iu"
        return model_file.ModelParts(
            self.get_params(), self.vocabulary_, self.model_, self.summary_, integers
        )

    # A pickle (how Dask, Spark, Ray and multiprocessing ship objects) holds the settings and
    # the model file's bytes, restored through the file's checks: no arbitrary objects.

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {"params": self.get_params()}
        if hasattr(self, "model_"):
            state["model"] = model_file.dumps(self._parts())
            classes = self.classes_.tolist()
            if all(type(c) in (str, int) for c in classes):  # plain values travel as they are
                state["classes"] = classes
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["params"])  # type: ignore[misc]
        if "model" in state:
            self._restore(model_file.loads(state["model"]))
            classes = state.get("classes")
            if isinstance(classes, list) and len(classes) == len(self.classes_):
                self.classes_ = labels_module.classes(
                    self.vocabulary_.labels,
                    dict(zip(self.vocabulary_.labels, classes, strict=True)),
                )


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm without its monitor thread: training may fork workers, and forking a process
    that has threads is unsafe."""

    monitor_interval = 0


def _paired(
    texts: Iterable[str | bytes], labels: Iterable[Any]
) -> tuple[Sequence[str | bytes], Sequence[Any]]:
    """Texts and labels as sequences of one length (a generator, say, is read once)."""
    _check_texts(texts)
    texts = texts if isinstance(texts, Sequence) else list(texts)
    labels = labels if isinstance(labels, Sequence) else list(labels)
    if len(texts) != len(labels):
        raise ParameterError(
            "labels", f"has {len(labels)} entries for {len(texts)} texts; give one per text"
        )
    return texts, labels


def _check_texts(texts: object) -> None:
    if isinstance(texts, (str, bytes)):
        raise ParameterError("texts", "must be a list of texts, not one text; wrap it in a list")


def _same(value: object, default: object) -> bool:
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):  # an array, say
        return False
