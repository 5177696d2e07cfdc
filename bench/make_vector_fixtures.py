"""Regenerate `tests/fixtures/fasttext/vectors/*.json`: for the word-vector models among the
fixtures (cbow, skipgram; made by bench/make_fixtures.py), the sentence vectors and nearest
neighbours the fastText binding gives, for `tests/test_word_vector_models.py`. Deterministic:
the models are read, not trained.

    .bench-venv/bin/python bench/make_vector_fixtures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fasttext

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "fasttext"
MODELS = ["cbow_subwords", "skipgram_hs"]
SENTENCES = [
    "how do i knead bread dough",
    "whisk butter into the sauce\twith a roux",
    "unknownword über",
    "",
]
QUERIES = ["bread", "oven", "über", "unknownword"]


def main() -> None:
    for name in MODELS:
        model = fasttext.load_model(str(OUT / f"{name}.bin"))
        facts = {
            "file": f"{name}.bin",
            "sentences": [
                {"text": text, "vector": [float(x) for x in model.get_sentence_vector(text)]}
                for text in SENTENCES
            ],
            "neighbours": [
                {
                    "word": word,
                    "found": [
                        [w, float(s)]
                        for s, w in model.get_nearest_neighbors(
                            word, k=5, on_unicode_error="surrogateescape"
                        )
                    ],
                }
                for word in QUERIES
            ],
        }
        (OUT / "vectors" / f"{name}.json").write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {len(MODELS)} files to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
