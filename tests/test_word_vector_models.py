"""fastText's word-vector models (cbow, skipgram `.bin`) give the word vectors, sentence vectors
and nearest neighbours fastText gives, from the command line and compat, and refuse to predict
in one line. Fixtures: bench/make_fixtures.py, bench/make_vector_fixtures.py; with the binding
(`.bench-venv`), also models it trains here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import fasttext_lite.compat as fasttext
from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.cli import cli
from fasttext_lite.vectors import WordVectors

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "fasttext"
BINDING_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
MODELS = ["cbow_subwords", "skipgram_hs"]


def facts(name: str, suffix: str = "") -> dict[str, Any]:
    """The fixture's facts; with suffix "_vectors", its sentence vectors and neighbours."""
    path = FIXTURES / "vectors" / f"{name}.json" if suffix else FIXTURES / f"{name}.json"
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def assert_neighbours_equal(ours: list[tuple[float, str]], theirs: list[list[Any]]) -> None:
    assert [word for _, word in ours] == [word for word, _ in theirs]
    assert [s for s, _ in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_word_vectors_are_fasttexts(name: str) -> None:
    model = WordVectors.load(FIXTURES / f"{name}.bin")
    expected = facts(name)["word_vectors"]
    np.testing.assert_allclose(
        model.word_vectors([entry["word"] for entry in expected]),
        [entry["vector"] for entry in expected],
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", MODELS)
def test_sentence_vectors_are_fasttexts_mean_of_unit_word_vectors(name: str) -> None:
    model = WordVectors.load(FIXTURES / f"{name}.bin")
    sentences = facts(name, "_vectors")["sentences"]
    np.testing.assert_allclose(
        model.sentence_vectors([s["text"] for s in sentences]),
        [s["vector"] for s in sentences],
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", MODELS)
def test_compat_gives_fasttexts_vectors_and_neighbours(name: str) -> None:
    model = fasttext.load_model(FIXTURES / f"{name}.bin")
    expected = facts(name, "_vectors")
    for sentence in expected["sentences"]:
        np.testing.assert_allclose(
            model.get_sentence_vector(sentence["text"]), sentence["vector"], rtol=1e-5, atol=1e-6
        )
    for query in expected["neighbours"]:
        found = model.get_nearest_neighbors(query["word"], k=5, on_unicode_error="replace")
        theirs = [[word.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), s]
                  for word, s in query["found"]]  # fmt: skip
        assert_neighbours_equal(found, theirs)
    words, counts = model.get_words(include_freq=True, on_unicode_error="replace")
    assert len(words) == len(facts(name)["words"]) and words[0] == facts(name)["words"][0]
    assert counts.tolist() == facts(name)["word_counts"]
    assert model.get_dimension() == facts(name)["args"]["dim"]


def test_compat_refuses_to_predict_as_fasttext_does() -> None:
    model = fasttext.load_model(FIXTURES / "cbow_subwords.bin")
    with pytest.raises(ValueError, match="Model needs to be supervised for prediction!"):
        model.predict("bake bread")
    with pytest.raises(ValueError, match="word-vector"):
        model.save_model("never-written.bin")


def test_fasttext_compat_prints_a_word_vector_models_vectors() -> None:
    path = str(FIXTURES / "skipgram_hs.bin")
    expected = facts("skipgram_hs", "_vectors")
    texts = [s["text"] for s in expected["sentences"][:2]]
    command = [sys.executable, "-c", "from fasttext_lite.compat.cli import main; main()"]
    done = subprocess.run(
        [*command, "print-sentence-vectors", path],
        input="\n".join(texts) + "\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = np.array([line.split() for line in done.stdout.splitlines()], dtype=np.float64)
    np.testing.assert_allclose(printed, [s["vector"] for s in expected["sentences"][:2]], atol=1e-5)
    word = expected["neighbours"][0]["word"]
    done = subprocess.run(
        [*command, "print-word-vectors", path],
        input=word + "\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    name, *numbers = done.stdout.split()
    assert name == word
    vector = fasttext.load_model(path).get_word_vector(word)
    np.testing.assert_allclose(np.array(numbers, dtype=np.float64), vector, atol=1e-4)
    assert not fasttext.load_model(path).is_quantized()


@pytest.mark.parametrize("name", MODELS)
def test_fasttext_compat_dumps_a_word_vector_models_args_and_dictionary(name: str) -> None:
    command = [sys.executable, "-c", "from fasttext_lite.compat.cli import main; main()"]
    path = str(FIXTURES / f"{name}.bin")
    dumped = {}
    for what in ("args", "dict"):
        done = subprocess.run([*command, "dump", path, what], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        dumped[what] = done.stdout.splitlines()
    args = dict(line.split(" ", 1) for line in dumped["args"])
    assert args == {name: str(value) for name, value in facts(name)["args"].items()}
    words = facts(name)["words"]
    assert int(dumped["dict"][0]) == len(words) + len(facts(name).get("labels", []))
    assert dumped["dict"][1].split()[0] == words[0]


def test_the_command_line_gives_vectors_and_neighbours() -> None:
    path = str(FIXTURES / "skipgram_hs.bin")
    expected = facts("skipgram_hs", "_vectors")
    texts = [s["text"] for s in expected["sentences"][:2]]
    done = CliRunner().invoke(cli, ["vectors", "-m", path], input="\n".join(texts) + "\n")
    assert done.exit_code == 0, done.output
    printed = np.array([line.split() for line in done.stdout.splitlines()], dtype=np.float64)
    np.testing.assert_allclose(printed, [s["vector"] for s in expected["sentences"][:2]], atol=1e-5)
    query = expected["neighbours"][0]
    done = CliRunner().invoke(cli, ["neighbours", query["word"], "-m", path, "-k", "5"])
    assert done.exit_code == 0, done.output
    assert done.stdout.split()[::2] == [word for word, _ in query["found"]]


@pytest.mark.parametrize("command", [["predict"], ["eval", "-"], ["info"]])
def test_predict_and_eval_refuse_a_word_vector_model_in_one_line(command: list[str]) -> None:
    path = str(FIXTURES / "cbow_subwords.bin")
    args = [*command, path] if command == ["info"] else [*command, "-m", path]
    done = CliRunner().invoke(cli, args, input="__label__x bread\n")
    assert done.exit_code == 1
    assert "is a cbow word-vector model, not a classifier" in done.output
    assert done.output.count("\n") == 1
    with pytest.raises(ModelFileError, match="ftl vectors"):
        FastTextClassifier.load(path)


# -- with the binding ------------------------------------------------------------------------


def binding_available() -> bool:
    if not BINDING_PYTHON.exists():
        return False
    done = subprocess.run([str(BINDING_PYTHON), "-c", "import fasttext"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not binding_available(), reason="the fastText binding is not installed")
@pytest.mark.parametrize("kind", ["cbow", "skipgram"])
def test_models_the_binding_trains_give_its_vectors(kind: str, tmp_path: Path) -> None:
    words = ["parcel", "refund", "card", "nosuchwordhere"]
    texts = ["where is my parcel", "refund  please\tnow", ""]
    program = textwrap.dedent(
        f"""
        import json, fasttext
        # 11 threads: with fewer, fastText leaves part of the matrix uninitialised
        m = fasttext.train_unsupervised({str(ROOT / "data" / "support.train")!r},
            model={kind!r}, dim=10, epoch=2, minCount=1, minn=2, maxn=4, bucket=500,
            thread=11, verbose=0)
        m.save_model({str(tmp_path / "m.bin")!r})
        print(json.dumps({{
            "words": [[float(x) for x in m.get_word_vector(w)] for w in {words!r}],
            "sentences": [[float(x) for x in m.get_sentence_vector(t)] for t in {texts!r}],
            "nn": [[w, float(s)] for s, w in m.get_nearest_neighbors("parcel", k=4)],
        }}))
        """
    )
    done = subprocess.run(
        [str(BINDING_PYTHON), "-c", program], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout.splitlines()[-1])
    model = fasttext.load_model(tmp_path / "m.bin")
    np.testing.assert_allclose(
        [model.get_word_vector(w) for w in words], theirs["words"], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        [model.get_sentence_vector(t) for t in texts], theirs["sentences"], rtol=1e-5, atol=1e-6
    )
    assert_neighbours_equal(model.get_nearest_neighbors("parcel", k=4), theirs["nn"])
