"""`fasttext_lite.compat` is fastText's Python API: snippets written for the `fasttext` binding
run unchanged against it. Each snippet runs here against compat; where the benchmark
environment has the binding (`.bench-venv`), the same snippet runs there too and the results
are compared: exactly for what does not depend on training, within a tolerance for accuracy.
"""

from __future__ import annotations

import json
import math
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fasttext_lite.compat as fasttext
from fasttext_lite.compat import FastText

ROOT = Path(__file__).resolve().parents[2]
BINDING_PYTHON = ROOT / ".bench-venv" / "bin" / "python"

# Each snippet uses `fasttext`, `train` and `valid`, and sets `result` to something JSON can
# hold. The training settings are the README's for the sample data.
TRAIN = (
    "m = fasttext.train_supervised(input=train, epoch=25, lr=0.5, wordNgrams=2, bucket=100000,"
    " thread=1, verbose=0, seed=0)\n"
)
SNIPPETS: dict[str, str] = {
    "test": TRAIN + "n, p, r = m.test(valid)\nresult = [n, p, r]",
    "test_k2": TRAIN + "n, p, r = m.test(valid, k=2)\nresult = [n, p, r]",
    "predict_one": TRAIN
    + "labels, probs = m.predict('where is my parcel', k=2)\n"
    + "result = [type(labels).__name__, list(labels), type(probs).__name__, str(probs.dtype),"
    + " probs.shape[0], bool(abs(1 - sum(m.predict('x', k=-1)[1])) < 0.01)]",
    "predict_many": TRAIN
    + "labels, probs = m.predict(['where is my parcel', 'refund please'], k=3)\n"
    + "result = [type(labels).__name__, [len(x) for x in labels], type(probs).__name__,"
    + " [str(p.dtype) for p in probs]]",
    "predict_threshold": TRAIN
    + "labels, probs = m.predict('my card was charged twice', k=-1, threshold=0.2)\n"
    + "result = [bool(all(p >= 0.2 for p in probs)), len(labels) == len(probs)]",
    "predict_blank": TRAIN
    + "labels, probs = m.predict('')\nresult = [len(labels), probs.shape[0]]",
    "newline": TRAIN
    + "try:\n    m.predict('a\\nb')\n    result = None\n"
    + "except ValueError as e:\n    result = str(e)",
    "labels": TRAIN
    + "labels, counts = m.get_labels(include_freq=True)\n"
    + "result = [labels, counts.tolist(), m.labels == labels]",
    "words": TRAIN
    + "words, counts = m.get_words(include_freq=True)\n"
    + "result = [sorted(zip(words, counts.tolist())), len(m.words), 'parcel' in m]",
    "line": TRAIN
    + "result = [m.get_line('hello __label__billing world __label__nope'),"
    + " m.get_line(['a b', 'c'])]",
    "ids": TRAIN
    + "result = [m.get_word_id('nosuchword'), m.get_label_id('__label__billing') >= 0,"
    + " m.get_label_id('__label__nosuch'), m.get_subword_id('<pa')]",
    "dimension": TRAIN
    + "result = [m.get_dimension(), list(m.get_input_matrix().shape),"
    + " list(m.get_output_matrix().shape), list(m.get_word_vector('parcel').shape),"
    + " list(m.get_sentence_vector('where is my parcel').shape), m.is_quantized()]",
    "test_label": TRAIN
    + "scores = m.test_label(valid)\n"
    + "result = [sorted(scores), sorted(next(iter(scores.values())))]",
    "neighbours": TRAIN
    + "found = m.get_nearest_neighbors('parcel', k=3)\n"
    + "result = [len(found), [type(s).__name__ for s, _ in found],"
    + " [type(w).__name__ for _, w in found]]",
    "subwords": "m = fasttext.train_supervised(input=train, epoch=1, minn=2, maxn=3,"
    " bucket=1000, thread=1, verbose=0)\n"
    + "words, ids = m.get_subwords('zzqq')\n"
    + "result = [words, ids.tolist(), type(ids).__name__]",
    "tokenize": "result = [fasttext.tokenize('a  b\\tc\\x0bd'), fasttext.EOS, fasttext.BOW,"
    " fasttext.EOW]",
    "args": TRAIN + "result = [m.lr, m.dim, m.epoch, m.wordNgrams, m.minCount, m.label, m.loss]",
}
# What must agree with the binding exactly; the rest is compared as the functions below say.
EXACT = {
    "predict_one", "predict_many", "predict_threshold", "predict_blank", "newline", "labels",
    "words", "line", "ids", "dimension", "test_label", "neighbours", "subwords", "tokenize",
}  # fmt: skip


def run_compat(snippet: str, train: Path, valid: Path) -> Any:
    scope: dict[str, Any] = {"fasttext": fasttext, "train": str(train), "valid": str(valid)}
    exec(snippet, scope)  # noqa: S102 - the snippets above
    return json.loads(json.dumps(scope["result"], default=str))


def run_binding(snippet: str, train: Path, valid: Path) -> Any:
    program = textwrap.dedent(
        f"""
        import json, fasttext
        train, valid = {str(train)!r}, {str(valid)!r}
        """
    )
    program += snippet + "\nprint(json.dumps(result, default=str))\n"
    done = subprocess.run(
        [str(BINDING_PYTHON), "-c", program], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def binding_available() -> bool:
    if not BINDING_PYTHON.exists():
        return False
    done = subprocess.run([str(BINDING_PYTHON), "-c", "import fasttext"], capture_output=True)
    return done.returncode == 0


# What the snippets must give here, whoever runs them (None: not checked).
EXPECTED: dict[str, Any] = {
    "predict_one": ["tuple", None, "ndarray", "float64", 2, True],
    "predict_many": ["list", [3, 3], "list", ["float32", "float32"]],
    "predict_threshold": [True, True],
    "predict_blank": [1, 1],
    "newline": "predict processes one line at a time (remove '\\n')",
    "ids": [-1, True, -1, None],
    "tokenize": [["a", "b", "c", "d"], "</s>", "<", ">"],
    "args": [0.5, 100, 25, 2, 1, "__label__", "softmax"],
}


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_snippets_run_unchanged(name: str, support_train: Path, support_valid: Path) -> None:
    result = run_compat(SNIPPETS[name], support_train, support_valid)
    want = EXPECTED.get(name)
    if isinstance(want, list):
        assert len(result) == len(want)
        for got, expected in zip(result, want, strict=True):
            assert expected is None or got == expected, (name, result)
    elif want is not None:
        assert result == want


@pytest.mark.skipif(not binding_available(), reason="the fastText binding is not installed")
@pytest.mark.parametrize("name", list(SNIPPETS))
def test_snippets_give_what_the_binding_gives(
    name: str, support_train: Path, support_valid: Path
) -> None:
    ours = run_compat(SNIPPETS[name], support_train, support_valid)
    theirs = run_binding(SNIPPETS[name], support_train, support_valid)
    if name in ("test", "test_k2"):
        assert ours[0] == theirs[0]  # the same lines counted
        assert math.isclose(ours[1], theirs[1], abs_tol=0.06)  # one seed each: P@k near
    elif name == "predict_one":
        assert ours[0] == theirs[0] and ours[2:] == theirs[2:]  # types, not the labels
    elif name == "args":
        assert ours[:6] == theirs[:6]  # the binding's loss is an enum
    else:
        assert name in EXACT
        assert ours == theirs


def test_load_model_reads_an_ftl_file(model_path: Path, support_valid: Path) -> None:
    model = fasttext.load_model(model_path)
    assert isinstance(model, FastText)
    n, precision, recall = model.test(support_valid)
    assert n == 100 and 0 < recall <= precision <= 1
    labels, probs = model.predict("where is my parcel", k=2)
    assert all(label.startswith("__label__") for label in labels)
    assert np.all(np.diff(probs) <= 0)


def test_options_ftl_lacks_are_refused_by_name(support_train: Path) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nosuch'"):
        fasttext.train_supervised(input=str(support_train), nosuch=1)
    with pytest.raises(ValueError, match="supervised"):
        fasttext.train_unsupervised(input=str(support_train))


def test_never_stops_with_encountered_nan_on_tiny_corpora(tmp_path: Path) -> None:
    """The binding fails at random here (uninitialised memory with few threads)."""
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("__label__a x\n__label__b y\n")
    for seed in range(20):
        model = fasttext.train_supervised(input=str(corpus), epoch=1, seed=seed, verbose=0)
        assert np.isfinite(model.get_output_matrix()).all()


def test_autotune_through_train_supervised(support_train: Path, support_valid: Path) -> None:
    model = fasttext.train_supervised(
        input=str(support_train),
        autotuneValidationFile=str(support_valid),
        autotuneDuration=3,
        dim=10,
        epoch=5,
    )
    assert model.dim == 10 and model.epoch == 5  # what was given is not tuned
    n, precision, _ = model.test(str(support_valid))
    assert n == 100 and precision > 0.5


def test_autotune_model_size_through_train_supervised(
    support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    model = fasttext.train_supervised(
        input=str(support_train),
        autotuneValidationFile=str(support_valid),
        autotuneDuration=2,
        autotuneModelSize="30K",
        dim=10,
        epoch=5,
        verbose=0,
    )
    assert model.is_quantized()
    model.save_model(str(tmp_path / "m.ftz"))
    assert (tmp_path / "m.ftz").stat().st_size <= 30_000
    n, precision, _ = model.test(str(support_valid))
    assert n == 100 and precision > 0.5


def test_autotune_model_size_without_autotune_is_ignored_as_fasttext_does(
    support_train: Path,
) -> None:
    with pytest.warns(UserWarning, match="autotuneModelSize applies to autotune"):
        model = fasttext.train_supervised(
            input=str(support_train), autotuneModelSize=30_000, dim=10, epoch=1, verbose=0
        )
    assert not model.is_quantized()
    with pytest.raises(ValueError, match="autotuneModelSize: must be a number of bytes"):
        fasttext.train_supervised(input=str(support_train), autotuneModelSize="30 K")
