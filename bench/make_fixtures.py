"""Regenerate `tests/fixtures/fasttext/`: small fastText models (`.bin`, `.ftz`) and, beside each,
a JSON of what the fastText binding reports about it, for `tests/formats/test_fasttext_bin.py`.

Run with the fastText binding's environment (it is not a test dependency):

    .bench-venv/bin/python bench/make_fixtures.py

The corpora are generated from a fixed seed. fastText fills its input matrix in 10 blocks, one
per thread (the last few numbers by an 11th): with fewer threads the rest of the matrix is
uninitialised memory, and training ends in "Encountered NaN". So the models are trained with 11
threads, which makes them differ from run to run: regenerated models are not byte-identical to
the checked-in ones, but their JSON always describes them.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fasttext
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "fasttext"
SEED = 20261201
DIM = 6
THREADS = 11  # see above: fewer leave part of the input matrix uninitialised
ERRORS = "surrogateescape"  # how the JSON spells words that are not valid UTF-8

_TOPICS = {
    "baking": "bake oven flour dough bread yeast knead crust rise loaf",
    "sauce": "sauce simmer reduce cream butter whisk roux gravy thicken pan",
    "storage": "store fridge freeze keep jar container shelf airtight days week",
    "knives": "knife sharpen blade steel hone edge cut chop board whetstone",
    "coffee": "coffee espresso grind beans brew café crema milk roast naïve",
}
_COMMON = "how do i the a to with my is it can what why when for über"
_BAD_UTF8 = b"caf\xe9"  # Latin-1 bytes: not valid UTF-8, kept as they are by fastText
_SENTENCES = [
    "how do i knead bread dough",
    "whisk butter into the sauce with a roux",
    "can i freeze café crema in a jar",
    "sharpen my knife unknownword über",
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        topics = work / "topics.txt"
        topics.write_bytes(_topics_corpus(random.Random(SEED)))
        many = work / "many_labels.txt"
        many.write_bytes(_many_labels_corpus(random.Random(SEED + 1)))
        supervised = dict(input=str(topics), dim=DIM, epoch=5, lr=0.5, thread=THREADS, verbose=0)
        made = [
            _supervised("softmax_ngrams", supervised, loss="softmax", wordNgrams=2, bucket=300),
            _supervised("ova_subwords", supervised, loss="ova", minn=2, maxn=4, bucket=300),
            _supervised("hs_words", supervised, loss="hs"),  # no n-grams: the binding sets bucket 0
            _supervised("ns_trigrams", supervised, loss="ns", neg=3, wordNgrams=3, bucket=200),
            _unsupervised("cbow_subwords", topics, model="cbow", minn=2, maxn=3, bucket=200),
            _unsupervised("skipgram_hs", topics, model="skipgram", loss="hs", bucket=100),
            _quantized(
                "quant_qnorm_dsub4",
                _train(dict(supervised, loss="softmax", wordNgrams=2, bucket=300)),
                dict(qnorm=True, dsub=4),
            ),
            _quantized(
                "quant_qout",
                _train(dict(supervised, input=str(many), loss="softmax", wordNgrams=2, bucket=300)),
                dict(qout=True, dsub=2),
            ),
            _quantized(
                "quant_cutoff",
                _train(dict(supervised, loss="ova", wordNgrams=2, minn=3, maxn=3, bucket=500)),
                dict(cutoff=300, qnorm=True, dsub=2),
            ),
        ]
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(made)} models to {OUT} ({total} bytes in all)", file=sys.stderr)


def _topics_corpus(rng: random.Random) -> bytes:
    labels = list(_TOPICS)
    common = _COMMON.split()
    lines = []
    for _ in range(400):
        first = rng.choice(labels)
        chosen = [first] + ([rng.choice(labels)] if rng.random() < 0.15 else [])
        words = [rng.choice(_TOPICS[first].split()) for _ in range(rng.randint(2, 5))]
        words += rng.sample(common, rng.randint(1, 3))
        rng.shuffle(words)
        tokens = [f"__label__{label}".encode() for label in dict.fromkeys(chosen)]
        tokens += [w.encode() for w in words] + ([_BAD_UTF8] if rng.random() < 0.05 else [])
        lines.append(b" ".join(tokens))
    return b"\n".join(lines) + b"\n"


def _many_labels_corpus(rng: random.Random) -> bytes:
    """300 labels: fastText quantizes a matrix only if it has at least 256 rows, and the output
    matrix has a row per label."""
    lines = []
    for _ in range(1500):
        label = rng.randrange(300)
        words = [f"w{label}", f"w{(label * 7) % 300}", f"v{label % 17}"]
        words += rng.sample(_COMMON.split(), 2)
        lines.append(f"__label__t{label:03d} " + " ".join(words))
    return ("\n".join(lines) + "\n").encode()


def _train(options: dict[str, Any], unsupervised: bool = False) -> tuple[Any, str]:
    """A trained model and the call that made it (train_unsupervised takes no seed)."""
    call = options if unsupervised else dict(options, seed=SEED % 1000)
    train: Callable[..., Any] = (
        fasttext.train_unsupervised if unsupervised else fasttext.train_supervised
    )
    model = train(**call)
    shown = {k: (Path(v).name if k == "input" else v) for k, v in call.items()}
    name = "train_unsupervised" if unsupervised else "train_supervised"
    return model, f"fasttext.{name}(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _supervised(name: str, base: dict[str, Any], **options: Any) -> str:
    model, command = _train(dict(base, **options))
    return _save(name, ".bin", model, command)


def _unsupervised(name: str, corpus: Path, **options: Any) -> str:
    call = dict(
        input=str(corpus), dim=DIM, epoch=1, minCount=1, thread=THREADS, verbose=0, **options
    )
    model, command = _train(call, unsupervised=True)
    return _save(name, ".bin", model, command)


def _quantized(name: str, trained: tuple[Any, str], options: dict[str, Any]) -> str:
    model, command = trained
    model.quantize(retrain=False, **options)
    shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
    command = f"{command}; model.quantize(retrain=False, {shown})"
    return _save(name, ".ftz", model, command, cutoff=options.get("cutoff", 0))


def _save(name: str, suffix: str, model: Any, command: str, cutoff: int = 0) -> str:
    path = OUT / f"{name}{suffix}"
    model.save_model(str(path))
    # Facts as a freshly loaded model reports them, not the model still in memory.
    loaded = fasttext.load_model(str(path))
    facts = _facts(loaded, cutoff)
    facts = {"file": path.name, "command": command, **facts}
    (OUT / f"{name}.json").write_text(json.dumps(facts, indent=1, ensure_ascii=True) + "\n")
    return path.name


def _facts(model: Any, cutoff: int) -> dict[str, Any]:
    f = model.f
    a = f.getArgs()
    words, word_counts = f.getVocab(ERRORS)
    labels, label_counts = f.getLabels(ERRORS)
    quantized = bool(model.is_quantized())
    supervised = a.model.name == "supervised"
    facts: dict[str, Any] = {
        "args": {
            "dim": a.dim,
            "ws": a.ws,
            "epoch": a.epoch,
            "minCount": a.minCount,
            "neg": a.neg,
            "wordNgrams": a.wordNgrams,
            "loss": a.loss.name,
            "model": {"supervised": "sup", "skipgram": "sg"}.get(a.model.name, a.model.name),
            "bucket": a.bucket,
            "minn": a.minn,
            "maxn": a.maxn,
            "lrUpdateRate": a.lrUpdateRate,
            "t": a.t,
        },
        "quantized": quantized,
        "qout": bool(a.qout),
        "words": list(words),
        "word_counts": [int(c) for c in word_counts],
        # Unsupervised models keep their corpus's labels too (get_labels would give the words).
        "labels": list(labels),
        "label_counts": [int(c) for c in label_counts],
    }
    if not quantized:
        matrix_in, matrix_out = model.get_input_matrix(), model.get_output_matrix()
        facts["input_shape"] = list(matrix_in.shape)
        facts["output_shape"] = list(matrix_out.shape)
        facts["input_sha256"] = _sha256(matrix_in)
        facts["output_sha256"] = _sha256(matrix_out)
        rows = matrix_in.shape[0]
    else:  # the binding does not tell: rows past the end would be read out of bounds
        rows = cutoff or len(words) + a.bucket
    sample = sorted({0, 1, len(words) - 1, len(words), len(words) + 7, len(words) + 41, rows - 1})
    facts["input_rows"] = {
        str(i): _floats(model.get_input_vector(i)) for i in sample if 0 <= i < rows
    }
    facts["word_vectors"] = [
        {
            "word": word,
            "subword_ids": [int(i) for i in model.get_subwords(word, ERRORS)[1]],
            "vector": _floats(model.get_word_vector(word)),
        }
        for word in [words[0], words[min(3, len(words) - 1)], "über", "unseenword"]
    ]
    if supervised:
        k = min(20, len(labels))
        facts["sentences"] = [
            {
                "text": text,
                "vector": _floats(model.get_sentence_vector(text)),
                # The binding returns exp(log(p + 1e-5)): each probability plus 1e-5.
                "top": [
                    [label, float(p)] for label, p in zip(*model.predict(text, k=k), strict=True)
                ],
            }
            for text in _SENTENCES
        ]
    return facts


def _floats(vector: Any) -> list[float]:
    return [float(x) for x in np.asarray(vector, dtype=np.float32)]


def _sha256(matrix: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, dtype="<f4").tobytes()).hexdigest()


if __name__ == "__main__":
    main()
