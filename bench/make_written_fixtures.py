"""Regenerate the ftl-written fastText files in `tests/fixtures/written/`: small ftl models
(`ftl_written_*.ftl`), the `.bin` ftl writes for each, and beside them a JSON of what the
fastText binding predicts with that `.bin`, for `tests/formats/test_fasttext_write.py` (which
checks the writer's bytes and the predictions without the binding).

Run with the fastText binding's environment and ftl on the path:

    PYTHONPATH=. .bench-venv/bin/python bench/make_written_fixtures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import fasttext

from fasttext_lite import FastTextClassifier
from fasttext_lite.compat import FastText

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "written"
TRAIN = ROOT / "data" / "support.train"
VALID = ROOT / "data" / "support.valid"
SENTENCES = 25  # the first lines of the validation file, without their labels
MODELS: dict[str, dict[str, Any]] = {
    # n-grams that never occurred in training are zero rows in the written file
    "ftl_written_softmax": dict(loss="softmax", word_ngrams=2, minn=3, maxn=4, bucket=3000),
    "ftl_written_hs": dict(loss="hs", word_ngrams=2, bucket=2000),
}


def main() -> None:
    texts = [
        " ".join(t for t in line.split() if not t.startswith("__label__"))
        for line in VALID.read_text().splitlines()[:SENTENCES]
    ]
    for name, options in MODELS.items():
        clf = FastTextClassifier(dim=8, epoch=10, lr=0.5, seed=1, thread=1, **options)
        clf.fit_file(TRAIN)
        clf.save(OUT / f"{name}.ftl")
        FastText(clf).save_model(OUT / f"{name}.bin")
        model = fasttext.load_model(str(OUT / f"{name}.bin"))
        facts = {
            "made_by": f"FastTextClassifier(dim=8, epoch=10, lr=0.5, seed=1, **{options})"
            " on data/support.train; predictions by the fastText binding from the .bin",
            "sentences": [
                {
                    "text": text,
                    # The binding returns each probability plus 1e-5.
                    "top": [
                        [label, float(p)]
                        for label, p in zip(*model.predict(text, k=3), strict=True)
                    ],
                    "vector": [float(x) for x in model.get_sentence_vector(text)],
                }
                for text in texts
            ],
        }
        (OUT / f"{name}.json").write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {len(MODELS)} models to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
