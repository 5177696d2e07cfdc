"""Quantized classifiers: pruning, predictions from codes, the file, the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import RewriteHeader, as_lists, run

from fasttext_lite import FastTextClassifier, ModelFileError, ParameterError, params
from fasttext_lite.formats import container, model_file
from fasttext_lite.model import Model
from fasttext_lite.model.quantized import QuantizedMatrix
from fasttext_lite.quantization import Settings, prune, quantized
from fasttext_lite.training.summary import TrainingSummary
from fasttext_lite.vocab import Vocabulary

TEXTS = ["how do I reset my password", "my parcel never arrived", "refund please", "zzz qqq"]


@pytest.fixture(scope="module")
def small(trained: FastTextClassifier) -> FastTextClassifier:
    return trained.quantize(qnorm=True)


def test_pruning_keeps_eos_and_the_rows_of_largest_norm(trained: FastTextClassifier) -> None:
    vocab, model = trained.vocabulary_, trained.model_
    cutoff = 700
    pruned = prune(vocab, model, cutoff)
    norms = np.linalg.norm(model.input, axis=1)
    eos_row = int(model.row_of(np.array([vocab.word_ids["</s>"]]))[0])
    others = np.delete(np.arange(norms.size), eos_row)
    expected = np.sort(np.append(others[np.argsort(-norms[others])[: cutoff - 1]], eos_row))
    np.testing.assert_array_equal(pruned.model.input, model.input[expected])
    # The kept words, in their old order, are the new vocabulary; n-grams follow it.
    nwords = len(vocab.words)
    kept = model.feature_ids[expected]
    kept_words = kept[kept < nwords]
    assert pruned.vocab.words == [vocab.words[i] for i in kept_words]
    assert pruned.vocab.labels == vocab.labels
    new_nwords = len(pruned.vocab.words)
    np.testing.assert_array_equal(
        pruned.model.feature_ids,
        np.concatenate([np.arange(new_nwords), kept[kept >= nwords] - nwords + new_nwords]),
    )
    assert pruned.model.pruned and "</s>" in pruned.vocab.words


def test_pruned_words_become_unknown_but_their_bigrams_stay(trained: FastTextClassifier) -> None:
    small = trained.quantize(cutoff=600)
    assert len(small.vocabulary_.words) < len(trained.vocabulary_.words)
    assert small.model_.input.shape[0] == 600 and small.model_.pruned
    # A dropped word is unknown: of a line's words only `</s>` (always kept) has a row left,
    # but the word's kept bigrams still count.
    vocab = small.vocabulary_
    dropped = [w for w in trained.vocabulary_.words if w not in vocab.word_ids]
    rows = np.concatenate(_rows_of(small, dropped))
    features = small.model_.feature_ids[rows[rows >= 0]]
    words = features[features < len(vocab.words)]
    assert set(words.tolist()) == {vocab.word_ids["</s>"]}
    assert (features >= len(vocab.words)).any()


def _rows_of(clf: FastTextClassifier, texts: list[str]) -> list[np.ndarray]:
    """Each text's rows of A, -1 for a feature without a row."""
    predictor = clf.predictor()
    features = predictor.read(texts).features
    ids = [np.array(line, dtype=np.int64) for line in as_lists(features)]
    return [clf.model_.row_of(line).astype(np.int64) for line in ids]


def test_predictions_equal_decoding_the_codes_by_hand(small: FastTextClassifier) -> None:
    matrix = small.model_.quantized
    assert matrix is not None and matrix.norm_quantizer is not None
    assert matrix.norm_codes is not None
    dim, dsub = matrix.quantizer.dim, matrix.quantizer.dsub
    pieces = matrix.quantizer.centroids.reshape(dim // dsub, 256, dsub)
    norms = matrix.norm_quantizer.centroids
    hidden = []
    assert small.model_.pruned
    for rows in _rows_of(small, TEXTS):
        decoded = [
            np.concatenate([pieces[m, matrix.codes[r, m]] for m in range(dim // dsub)])
            * norms[matrix.norm_codes[r]]
            for r in rows[rows >= 0]
        ]
        # Codes only for the model's rows: a feature without one is left out of the mean.
        hidden.append(np.mean(decoded, axis=0) if decoded else np.zeros(dim))
    assert any((rows < 0).any() for rows in _rows_of(small, TEXTS))
    scores = np.array(hidden) @ small.model_.output.T
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(small.predict_proba(TEXTS), expected, atol=1e-5)
    np.testing.assert_array_equal(small.predict(TEXTS), small.classes_[expected.argmax(axis=1)])


def test_prediction_decodes_only_the_rows_it_uses(
    small: FastTextClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[int] = []
    real = QuantizedMatrix.rows

    def recording(self: QuantizedMatrix, ids: Any) -> np.ndarray:
        decoded.append(len(np.asarray(ids)))
        return real(self, ids)

    monkeypatch.setattr(QuantizedMatrix, "rows", recording)
    small.top_k(TEXTS[:1])
    # 6 words, `</s>` and 6 bigrams at most, of hundreds of rows.
    assert decoded and max(decoded) <= 13 < small.model_.input.shape[0] // 10


def test_quantized_accuracy_stays_near_the_dense_model(
    trained: FastTextClassifier, small: FastTextClassifier, support_valid: Path
) -> None:
    lines = support_valid.read_text().splitlines()
    texts = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in lines]
    labels = [next(t for t in line.split() if t.startswith("__label__"))[9:] for line in lines]
    assert small.score(texts, labels) >= trained.score(texts, labels) - 0.05


def test_the_file_round_trips_as_codes(small: FastTextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "small.ftl"
    small.save(path)
    assert container.read_header(path)["format_version"] == 2
    back = FastTextClassifier.load(path)
    original, loaded = small.model_.quantized, back.model_.quantized
    assert original is not None and loaded is not None
    np.testing.assert_array_equal(loaded.codes, original.codes)
    np.testing.assert_array_equal(loaded.quantizer.centroids, original.quantizer.centroids)
    np.testing.assert_array_equal(back.predict_proba(TEXTS), small.predict_proba(TEXTS))
    assert FastTextClassifier.load(path, mmap=True).model_.quantized is not None


def test_quantized_output_and_pruned_flag_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    model = Model(
        rng.normal(size=(300, 6)).astype(np.float32),
        rng.normal(size=(260, 6)).astype(np.float32),
        np.arange(300, dtype=np.int64),
        pruned=True,
    )
    small = quantized(model, Settings(dsub=4, qnorm=True, qout=True), rng)
    assert small.output_codes is not None and small.pruned
    np.testing.assert_array_equal(small.output, small.output_codes.decode_all())
    words, labels = [f"w{i}" for i in range(300)], [f"l{i}" for i in range(260)]
    vocab = Vocabulary(words, [1] * 300, labels, [1] * 260)
    settings = {**params.DEFAULTS, "dim": 6, "bucket": 0}
    parts = model_file.ModelParts(
        settings, vocab, small, TrainingSummary(0, 0, 0, 300, 260, 0, None)
    )
    back = model_file.loads(model_file.dumps(parts)).model
    assert back.pruned and back.output_codes is not None and back.quantized is not None
    np.testing.assert_array_equal(back.output, small.output)
    np.testing.assert_array_equal(back.quantized.codes, small.quantized.codes)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h["quantization"].update(dsub=3), "contents disagree"),
        (lambda h: h["quantization"].update(qout=True), "contents disagree"),
        (lambda h: h.pop("quantization"), "contents disagree"),
        (lambda h: h["arrays"]["input_codes"].update(dtype="<i4"), "bytes do not match"),
    ],
)
def test_a_corrupt_quantized_file_is_refused_in_one_line(
    small: FastTextClassifier,
    tmp_path: Path,
    rewrite_header: RewriteHeader,
    edit: Any,
    message: str,
) -> None:
    path = tmp_path / "small.ftl"
    small.save(path)
    bad = rewrite_header(path, tmp_path / "bad.ftl", edit)
    with pytest.raises(ModelFileError, match=message):
        FastTextClassifier.load(bad)
    result = run("predict", "-m", bad, stdin=b"reset my password\n")
    assert result.exit_code != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and str(bad) in result.stderr


def test_damaged_codes_fail_their_checksum(small: FastTextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "small.ftl"
    small.save(path)
    data = bytearray(path.read_bytes())
    entry = container.read_header(path)["arrays"]["input_codes"]
    data[entry["offset"] + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="input_codes.*checksum"):
        FastTextClassifier.load(path)


def test_cli_quantizes_with_cutoff_retrain_and_qnorm(
    model_path: Path, support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.ftl"
    result = run(
        "quantize", model_path, "-o", out, "--cutoff", "600", "--retrain", "--input",
        support_train, "--qnorm", "--epoch", "3", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    clf = FastTextClassifier.load(out)
    assert clf.model_.pruned and clf.model_.input.shape[0] == 600 and clf.epoch == 3
    assert out.stat().st_size * 5 < model_path.stat().st_size
    evaluated = run("eval", "-m", out, support_valid)
    assert evaluated.exit_code == 0 and "P@1" in evaluated.stdout


def test_cli_writes_fasttexts_ftz_when_the_output_ends_in_ftz(
    model_path: Path, support_valid: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.ftz"
    assert run("quantize", model_path, "-o", out, "-q").exit_code == 0
    assert out.read_bytes()[:4] == (793712314).to_bytes(4, "little")
    texts = [line.split(" ", 1)[1] for line in support_valid.read_text().splitlines()]
    ours = FastTextClassifier.load(tmp_path / "small.ftz").predict_proba(texts)
    assert run("quantize", model_path, "-o", tmp_path / "small.ftl", "-q").exit_code == 0
    np.testing.assert_allclose(
        ours, FastTextClassifier.load(tmp_path / "small.ftl").predict_proba(texts), atol=1e-6
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retrain"], "--input"),
        (["--cutoff", "100"], "at least 256"),
        (["--qout"], "--qout"),
        (["--dsub", "500"], "--dsub"),
        (["--cutoff", "-1"], "--cutoff"),
    ],
)
def test_cli_errors_are_one_line(
    model_path: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run("quantize", model_path, "-o", tmp_path / "s.ftl", *args)
    assert result.exit_code != 0 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.ftl").exists()


def test_cli_refuses_a_quantized_model_and_a_missing_one(
    small: FastTextClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "small.ftl"
    small.save(path)
    for source, message in ((path, "quantized already"), (tmp_path / "none.ftl", "none.ftl")):
        result = run("quantize", source, "-o", tmp_path / "s2.ftl")
        assert result.exit_code != 0 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_library_checks_its_arguments(trained: FastTextClassifier) -> None:
    with pytest.raises(ParameterError, match="cutoff"):
        trained.quantize(cutoff=-5)
    with pytest.raises(ParameterError, match="dsub"):
        trained.quantize(dsub=0)


@pytest.mark.parametrize("name", ["quant_qout.ftz", "quant_cutoff.ftz", "quant_qnorm_dsub4.ftz"])
def test_a_fasttext_ftz_keeps_its_codes_and_saves_as_a_quantized_ftl(
    name: str, tmp_path: Path
) -> None:
    source = Path(__file__).resolve().parent.parent / "fixtures" / "fasttext" / name
    clf = FastTextClassifier.load(source)
    assert clf.model_.quantized is not None
    texts = [line.split(" ", 1)[-1] for line in TEXTS]
    path = tmp_path / "from_ftz.ftl"
    clf.save(path)
    back = FastTextClassifier.load(path)
    assert back.model_.quantized is not None
    assert (back.model_.output_codes is None) == (clf.model_.output_codes is None)
    np.testing.assert_array_equal(back.model_.output, clf.model_.output)
    np.testing.assert_array_equal(back.sentence_vectors(texts), clf.sentence_vectors(texts))


def test_a_pruned_model_leaves_features_without_a_row_out_of_the_mean(
    trained: FastTextClassifier,
) -> None:
    small = trained.quantize(cutoff=600, qnorm=True)
    assert small.model_.pruned and small.model_.quantized is not None
    expected = []
    for rows in _rows_of(small, TEXTS):
        kept = rows[rows >= 0]
        expected.append(
            small.model_.quantized.rows(kept).mean(axis=0) if kept.size else np.zeros(small.dim)
        )
    assert any((rows < 0).any() for rows in _rows_of(small, TEXTS))
    np.testing.assert_allclose(small.sentence_vectors(TEXTS), np.array(expected), atol=1e-6)
