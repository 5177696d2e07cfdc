"""fastText's model files written by ftl (`formats.fasttext_write`, `ftl convert`,
compat `save_model`): fastText loads them and predicts what ftl predicts.

Without the binding: rewriting the binding's own `.bin` fixtures gives their bytes, and ftl's
checked-in `ftl_written_*` models give the checked-in `.bin` files, on which the binding's
predictions are recorded (bench/make_written_fixtures.py). With the binding (`.bench-venv`),
fastText itself loads files ftl writes for every loss and for word and char n-grams.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.cli import cli
from fasttext_lite.compat import load_model
from fasttext_lite.compat.model import FastText
from fasttext_lite.formats import fasttext_bin, fasttext_model, fasttext_write
from fasttext_lite.formats.model_file import ModelParts
from fasttext_lite.model.quantized import ProductQuantizer, QuantizedMatrix

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "fasttext"
WRITTEN_FIXTURES = ROOT / "tests" / "fixtures" / "written"
BINDING_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
DENSE = ["softmax_ngrams.bin", "ova_subwords.bin", "hs_words.bin", "ns_trigrams.bin"]
WRITTEN = ["ftl_written_softmax", "ftl_written_hs"]


def binding_available() -> bool:
    if not BINDING_PYTHON.exists():
        return False
    done = subprocess.run([str(BINDING_PYTHON), "-c", "import fasttext"], capture_output=True)
    return done.returncode == 0


needs_binding = pytest.mark.skipif(
    not binding_available(), reason="the fastText binding is not installed"
)


def binding_predicts(path: Path, texts: list[str], k: int) -> list[list[Any]]:
    """What fastText itself predicts with the model file at `path`: [[label, p], ...] a text."""
    program = textwrap.dedent(
        """
        import json, sys, fasttext
        path, k, texts = json.load(sys.stdin)
        model = fasttext.load_model(path)
        labels, probs = model.predict(texts, k=k)
        print(json.dumps([[[l, float(p)] for l, p in zip(*x)] for x in zip(labels, probs)]))
        """
    )
    done = subprocess.run(
        [str(BINDING_PYTHON), "-c", program],
        input=json.dumps([str(path), k, texts]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found: list[list[Any]] = json.loads(done.stdout)
    return found


def assert_predicts_like(
    clf: FastTextClassifier, texts: list[str], top: list[list[Any]], tolerance: float = 1e-4
) -> None:
    """ftl gives fastText's `top` labels of each text, in fastText's order but for labels of
    equal probability, with fastText's probabilities less its +1e-5 within `tolerance`."""
    labels, probabilities = FastText(clf).predict(texts, k=-1)
    for text, ours, ps, theirs in zip(texts, labels, probabilities, top, strict=True):
        ours_p = dict(zip(ours, ps.tolist(), strict=True))
        for position, (label, p) in enumerate(theirs):
            assert ours_p[label] == pytest.approx(p - 1e-5, abs=tolerance), (text, label)
            # fastText's heap orders labels of equal probability its own way.
            mine = ours[position]
            tie = 1e-7 if tolerance <= 1e-4 else 2 * tolerance
            assert mine == label or abs(ours_p[mine] - ours_p[label]) <= tie, (text, position)


def parts_of(clf: FastTextClassifier) -> ModelParts:
    return ModelParts(clf.get_params(), clf.vocabulary_, clf.model_, clf.summary_)


# -- without the binding ---------------------------------------------------------------------


@pytest.mark.parametrize("name", DENSE)
def test_rewriting_a_fasttext_bin_gives_its_bytes(name: str, tmp_path: Path) -> None:
    FastText(FastTextClassifier.load(FIXTURES / name)).save_model(tmp_path / name)
    assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", WRITTEN)
def test_convert_writes_the_bytes_fasttext_was_checked_on(name: str, tmp_path: Path) -> None:
    out = tmp_path / "model.bin"
    done = CliRunner().invoke(cli, ["convert", str(WRITTEN_FIXTURES / f"{name}.ftl"), str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == (WRITTEN_FIXTURES / f"{name}.bin").read_bytes()


@pytest.mark.parametrize("name", WRITTEN)
def test_fasttext_predicted_what_ftl_predicts_on_the_written_file(name: str) -> None:
    facts = json.loads((WRITTEN_FIXTURES / f"{name}.json").read_text())
    texts = [sentence["text"] for sentence in facts["sentences"]]
    for source in (WRITTEN_FIXTURES / f"{name}.ftl", WRITTEN_FIXTURES / f"{name}.bin"):
        clf = FastTextClassifier.load(source)
        assert_predicts_like(clf, texts, [sentence["top"] for sentence in facts["sentences"]])
        np.testing.assert_allclose(
            clf.sentence_vectors(texts),
            [sentence["vector"] for sentence in facts["sentences"]],
            rtol=1e-4,
            atol=1e-6,
        )


def test_a_dense_matrix_is_streamed_in_blocks_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fasttext_write, "_BLOCK_BYTES", 100)  # a few rows a block
    clf = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_softmax.ftl")
    fasttext_model.save(tmp_path / "m.bin", parts_of(clf))
    assert (tmp_path / "m.bin").read_bytes() == (
        WRITTEN_FIXTURES / "ftl_written_softmax.bin"
    ).read_bytes()


def test_features_without_a_row_are_zero_rows_of_the_written_file(tmp_path: Path) -> None:
    clf = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_softmax.ftl")
    fasttext_model.save(tmp_path / "m.bin", parts_of(clf))
    found = fasttext_bin.read(tmp_path / "m.bin")
    matrix = np.asarray(found.input_matrix)
    ids = clf.model_.feature_ids
    assert matrix.shape == (len(clf.vocabulary_.words) + clf.bucket, clf.dim)
    np.testing.assert_array_equal(matrix[ids], clf.model_.input)
    others = np.setdiff1d(np.arange(matrix.shape[0]), ids)
    assert others.size and not matrix[others].any()
    assert found.labels == ["__label__" + name for name in clf.vocabulary_.labels]
    assert (found.args.ws, found.args.lrUpdateRate, found.args.t) == (5, 100, 1e-4)


def test_without_ngrams_the_file_has_no_bucket_rows_as_fasttext_writes_it(tmp_path: Path) -> None:
    clf = FastTextClassifier(dim=4, epoch=1, word_ngrams=1).fit(["a b", "c d"], ["x", "y"])
    fasttext_model.save(tmp_path / "m.bin", parts_of(clf))
    found = fasttext_bin.read(tmp_path / "m.bin")
    assert found.args.bucket == 0 and found.input_matrix.shape == (len(found.words), 4)


def quantized(rows: int, dim: int, rng: np.random.Generator, *, qnorm: bool) -> QuantizedMatrix:
    quantizer = ProductQuantizer(dim, *_split(dim, 2), rng.normal(size=dim * 256).astype("f4"))
    codes = rng.integers(0, 256, size=(rows, quantizer.nsubq), dtype=np.uint8)
    if not qnorm:
        return QuantizedMatrix(quantizer, codes)
    norms = ProductQuantizer(1, 1, 1, 1, rng.uniform(0.5, 2, size=256).astype("f4"))
    return QuantizedMatrix(quantizer, codes, norms, rng.integers(0, 256, rows, dtype=np.uint8))


def _split(dim: int, dsub: int) -> tuple[int, int, int]:
    whole, rest = divmod(dim, dsub)
    return (whole + 1, dsub, rest) if rest else (whole, dsub, dsub)


def pruned_ftz(path: Path, *, qnorm: bool, qout: bool) -> tuple[FastTextClassifier, Any]:
    """A pruned, quantized `.ftz` from the softmax fixture's vocabulary: every other word
    and a third of the n-gram rows kept, random codes."""
    clf = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_softmax.ftl")
    contents = fasttext_model.to_fasttext(parts_of(clf))
    rng = np.random.default_rng(7)
    nwords = len(contents.words)
    ids = contents.input_ids
    kept = np.concatenate([np.arange(0, nwords, 2), ids[ids >= nwords][::3]])
    output: fasttext_bin.Matrix = contents.output
    if qout:
        output = quantized(output.shape[0], contents.args.dim, rng, qnorm=qnorm)
    contents = fasttext_write.Contents(
        **{
            **vars(contents),
            "input_ids": kept,
            "input": quantized(kept.size, contents.args.dim, rng, qnorm=qnorm),
            "output": output,
            "pruned": True,
        }
    )
    fasttext_write.write(path, contents)
    return clf, contents


@pytest.mark.parametrize(("qnorm", "qout"), [(False, False), (True, True)])
def test_a_quantized_pruned_model_is_written_as_fasttexts_pruned_ftz(
    tmp_path: Path, qnorm: bool, qout: bool
) -> None:
    path = tmp_path / "m.ftz"
    _, contents = pruned_ftz(path, qnorm=qnorm, qout=qout)
    found = fasttext_bin.read(path)
    nwords = len(contents.words)
    ids = contents.input_ids
    assert found.words == [contents.words[i] for i in ids[ids < nwords]]
    assert found.pruneidx is not None
    np.testing.assert_array_equal(found.pruneidx.buckets, ids[ids >= nwords] - nwords)
    assert isinstance(found.input_matrix, QuantizedMatrix)
    np.testing.assert_array_equal(found.input_matrix.codes, contents.input.codes)
    np.testing.assert_array_equal(found.input_matrix.decode_all(), contents.input.decode_all())
    assert isinstance(found.output_matrix, QuantizedMatrix) == qout
    assert FastTextClassifier.load(path).predict(["where is my parcel"]).shape == (1,)


def test_what_fasttext_could_not_read_is_refused_before_writing(tmp_path: Path) -> None:
    clf = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_softmax.ftl")
    contents = fasttext_model.to_fasttext(parts_of(clf))
    dense_pruned = fasttext_write.Contents(**{**vars(contents), "pruned": True})
    with pytest.raises(
        ModelFileError, match="pruned, and fastText reads pruned models only with a quantized"
    ):
        fasttext_write.write(tmp_path / "a.bin", dense_pruned)
    rng = np.random.default_rng(0)
    partial = fasttext_write.Contents(
        **{**vars(contents), "input": quantized(contents.input_ids.size, 8, rng, qnorm=False)}
    )
    with pytest.raises(ModelFileError, match="pruned .ftz"):
        fasttext_write.write(tmp_path / "b.ftz", partial)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_earlier_file_and_no_temporary_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(b"earlier")

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fasttext_write, "_write_dense", full_disk)
    clf = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_hs.ftl")
    with pytest.raises(ModelFileError, match="No space left on device.*unchanged"):
        fasttext_model.save(path, parts_of(clf))
    assert path.read_bytes() == b"earlier" and [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_convert_round_trips_between_the_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    first, back, again = tmp_path / "a.bin", tmp_path / "b.ftl", tmp_path / "c.bin"
    for source, target in (
        (WRITTEN_FIXTURES / "ftl_written_hs.ftl", first),
        (first, back),
        (back, again),
    ):
        done = runner.invoke(cli, ["convert", str(source), str(target)])
        assert done.exit_code == 0, done.output
    assert again.read_bytes() == first.read_bytes()
    assert back.read_bytes()[:4] != first.read_bytes()[:4]  # ftl's format, not fastText's
    # The zero rows the .bin holds for features ftl had no row for take no room in .ftl.
    original = FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_hs.ftl").model_
    np.testing.assert_array_equal(FastTextClassifier.load(back).model_.feature_ids,
                                  original.feature_ids)  # fmt: skip
    texts = ["where is my parcel", "refund please", ""]
    np.testing.assert_array_equal(
        FastTextClassifier.load(back).predict(texts),
        FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_hs.ftl").predict(texts),
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["m.ftl", "out.txt"], "end it in .ftl (ftl's) or .bin / .ftz"),
        (["m.ftl", "m.ftl"], "is the input"),
        (["nothere.bin", "out.bin"], "no such model file"),
        (["m.ftl", "nodir/out.bin"], "does not exist; create it first"),
        (["notes.txt", "out.bin"], "not a"),
        (["m.ftl", "notes.bin"], "exists and is not a model"),
        (["cbow.bin", "out.ftl"], "not a classifier"),
    ],
)
def test_convert_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.ftl").write_bytes((WRITTEN_FIXTURES / "ftl_written_hs.ftl").read_bytes())
    (tmp_path / "cbow.bin").write_bytes((FIXTURES / "cbow_subwords.bin").read_bytes())
    (tmp_path / "notes.txt").write_text("some notes\n")
    (tmp_path / "notes.bin").write_text("some notes\n")
    done = CliRunner().invoke(cli, ["convert", *args])
    assert done.exit_code != 0
    assert message in done.output and done.output.count("\n") == 1, done.output
    assert (tmp_path / "notes.bin").read_text() == "some notes\n"


def test_info_describes_a_written_file(tmp_path: Path) -> None:
    out = tmp_path / "m.bin"
    FastText(FastTextClassifier.load(WRITTEN_FIXTURES / "ftl_written_hs.ftl")).save_model(out)
    done = CliRunner().invoke(cli, ["info", str(out)])
    assert done.exit_code == 0, done.output
    assert "file format 12 (fastText .bin)" in done.output and "loss\ths" in done.output


def test_compat_save_model_writes_fasttexts_format_unless_the_path_ends_in_ftl(
    tmp_path: Path,
) -> None:
    model = load_model(WRITTEN_FIXTURES / "ftl_written_hs.ftl")
    model.save_model(tmp_path / "m.bin")
    model.save_model(tmp_path / "m.ftl")
    assert (tmp_path / "m.bin").read_bytes() == (
        WRITTEN_FIXTURES / "ftl_written_hs.bin"
    ).read_bytes()
    assert (tmp_path / "m.ftl").read_bytes()[:4] != (tmp_path / "m.bin").read_bytes()[:4]
    assert (
        load_model(tmp_path / "m.bin").predict("refund please", k=2)[0]
        == model.predict("refund please", k=2)[0]
    )


# -- with the binding ------------------------------------------------------------------------

SETTINGS: dict[str, dict[str, Any]] = {
    "softmax": dict(loss="softmax"),
    "ova_word_ngrams": dict(loss="ova", word_ngrams=2, bucket=20_000),
    "hs_char_ngrams": dict(loss="hs", minn=2, maxn=4, bucket=20_000),
    "ns_both": dict(loss="ns", neg=3, word_ngrams=2, minn=3, maxn=3, bucket=20_000),
    "softmax_both": dict(loss="softmax", word_ngrams=3, minn=3, maxn=5, bucket=50_000),
}


@pytest.fixture(scope="module")
def cooking_texts(
    cooking: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str]]:
    """A fifth of the cooking data to train on, and 400 validation lines without labels."""
    train = tmp_path_factory.mktemp("cooking") / "train.txt"
    lines = (cooking / "cooking.train").read_text(encoding="utf-8").splitlines(keepends=True)
    train.write_text("".join(lines[:3000]), encoding="utf-8")
    valid = (cooking / "cooking.valid").read_text(encoding="utf-8").splitlines()[:400]
    texts = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in valid]
    return train, texts


# fastText computes one-vs-all and negative-sampling probabilities with its sigmoid table, off
# by up to about 0.008 from the true ones ftl's own models give (ftl uses the table too for a
# fastText file it loads).
TABLE_ERROR = 0.01


@needs_binding
@pytest.mark.parametrize("name", list(SETTINGS))
def test_fasttext_loads_what_ftl_writes_and_predicts_the_same(
    name: str, cooking_texts: tuple[Path, list[str]], tmp_path: Path
) -> None:
    train, texts = cooking_texts
    clf = FastTextClassifier(dim=16, epoch=5, lr=0.5, seed=2, **SETTINGS[name]).fit_file(train)
    path = tmp_path / "model.bin"
    FastText(clf).save_model(path)
    theirs = binding_predicts(path, texts, k=3)
    assert_predicts_like(FastTextClassifier.load(path), texts, theirs)
    tolerance = TABLE_ERROR if clf.loss in ("ova", "ns") else 1e-4
    assert_predicts_like(clf, texts, theirs, tolerance)


@needs_binding
@pytest.mark.parametrize(("qnorm", "qout"), [(False, False), (True, True)])
def test_fasttext_loads_a_pruned_ftz_ftl_writes(tmp_path: Path, qnorm: bool, qout: bool) -> None:
    path = tmp_path / "m.ftz"
    pruned_ftz(path, qnorm=qnorm, qout=qout)
    texts = [line.split(" ", 1)[1] for line in (ROOT / "data" / "support.valid").open()][:50]
    texts = [text.rstrip("\n") for text in texts]
    assert_predicts_like(FastTextClassifier.load(path), texts, binding_predicts(path, texts, 3))


@needs_binding
@pytest.mark.parametrize("settings", [dict(qnorm=True), dict(cutoff=2_000, qout=True)])
def test_fasttext_predicts_what_an_ftl_quantized_model_predicts(
    settings: dict[str, Any], cooking_texts: tuple[Path, list[str]], tmp_path: Path
) -> None:
    train, texts = cooking_texts
    clf = FastTextClassifier(dim=16, epoch=5, lr=0.5, seed=2, word_ngrams=2, bucket=20_000)
    small = clf.fit_file(train).quantize(**settings)
    path = tmp_path / "small.ftz"
    FastText(small).save_model(path)
    assert_predicts_like(small, texts, binding_predicts(path, texts, k=3))
