"""Seeded synthetic corpus generator for the fasttext_lite benchmark.

Writes ``PREFIX.train`` and ``PREFIX.valid`` in fastText format
(``__label__X w1 w2 ...``), one example per line.

The model of a line:

* the vocabulary is ``--vocab`` pseudo-words built from random syllables; their background
  frequencies follow a Zipf-Mandelbrot law (a few very common "stop words", a long tail);
* labels have Zipf-distributed priors (``--label-skew``), so some labels are much rarer
  than others;
* each label owns ``--topic-words`` topical words, drawn from the mid/low-frequency part of
  the vocabulary (independently per label, so with many labels the topics overlap), with a
  Zipf distribution inside the topic;
* each line draws its own topical fraction from a Beta distribution (mean ``--topic-fraction``),
  then every token is a topical word of one of the line's labels with that probability,
  otherwise a background word. Some lines are therefore almost pure background noise: the task
  is learnable but not trivial;
* a fraction ``--multi-label-fraction`` of the lines has two or three labels;
* line lengths follow a negative binomial law with mean ``--words-per-line``.

Everything is vectorised with numpy and written in chunks, so 10^6 lines take a few seconds.
The output depends only on the arguments (including ``--seed``).

Example::

    python bench/generate.py --lines 1000000 --labels 10 --seed 1 --out bench/work.tmp/syn
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CONSONANTS = list("bcdfghjklmnprstvwz") + ["ch", "sh", "th", "qu"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "y"]
CODAS = ["", "", "", "n", "r", "s", "l", "t", "m"]
CHUNK_LINES = 50_000
NUM_STOP_WORDS = 100  # most frequent ranks, never used as topical words


@dataclass(frozen=True)
class CorpusSpec:
    """Parameters of the generative model (everything but the line counts)."""

    labels: int = 10
    vocab: int = 100_000
    words_per_line: float = 20.0
    topic_words: int = 200
    topic_fraction: float = 0.2
    multi_label_fraction: float = 0.0
    label_skew: float = 0.8
    zipf_exponent: float = 1.07


def make_syllables() -> list[str]:
    """All consonant+vowel(+coda) syllables: a fixed, deterministic inventory."""
    return [c + v + k for c in CONSONANTS for v in VOWELS for k in dict.fromkeys(CODAS)]


def make_vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """``size`` distinct pseudo-words of 1 to 4 syllables, roughly shortest first.

    Distinct integers are drawn and written in base ``len(syllables)``, so uniqueness is
    guaranteed without any rejection loop.
    """
    syllables = make_syllables()
    base = len(syllables)
    # Word lengths: 2-3 syllables mostly; the id space below gives every length its own range.
    sizes = [base**n for n in (1, 2, 3, 4)]
    weights = np.array([0.02, 0.50, 0.43, 0.05])
    counts = rng.multinomial(size, weights)
    counts = np.minimum(counts, sizes)
    counts[2] += size - counts.sum()  # 3-syllable space (~2.7M ids) absorbs any shortfall
    words: list[str] = []
    for n_syl, count in zip((1, 2, 3, 4), counts, strict=True):
        ids = rng.choice(base**n_syl, size=int(count), replace=False)
        digits = np.empty((int(count), n_syl), dtype=np.int64)
        rest = ids.astype(np.int64)
        for j in range(n_syl):
            digits[:, j] = rest % base
            rest //= base
        words.extend("".join(syllables[d] for d in row) for row in digits.tolist())
    # Law of abbreviation: frequent ranks (low ids) get the shorter words, loosely.
    keys = np.fromiter((len(w) for w in words), dtype=np.float64, count=len(words))
    order = np.argsort(keys + rng.normal(0.0, 2.0, size=len(words)), kind="stable")
    return [words[i] for i in order.tolist()]


def zipf_cdf(n: int, exponent: float, shift: float = 2.7) -> FloatArray:
    """Cumulative distribution of a Zipf-Mandelbrot law over ranks ``0..n-1``."""
    weights = 1.0 / (np.arange(n, dtype=np.float64) + shift) ** exponent
    cdf: FloatArray = np.cumsum(weights)
    cdf /= cdf[-1]
    return cdf


def sample_cdf(cdf: FloatArray, size: int, rng: np.random.Generator) -> IntArray:
    """Inverse-CDF sampling of ``size`` indices (vectorised, O(size log n))."""
    idx = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(idx, len(cdf) - 1).astype(np.int64)


class Generator:
    """Holds the vocabulary, topics and byte tables; emits chunks of fastText lines."""

    def __init__(self, spec: CorpusSpec, seed: int) -> None:
        if spec.vocab < NUM_STOP_WORDS + spec.topic_words:
            raise ValueError("--vocab is too small for --topic-words")
        self.spec = spec
        self.rng = np.random.default_rng(seed)
        rng = self.rng
        words = make_vocabulary(spec.vocab, rng)
        label_names = [f"__label__L{i:0{len(str(spec.labels - 1))}d}" for i in range(spec.labels)]
        # Token ids: 0..V-1 are words (id == background frequency rank), V.. are labels.
        tokens = [w.encode() + b" " for w in words] + [n.encode() + b" " for n in label_names]
        self.token_len = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
        self.token_off = np.concatenate(([0], np.cumsum(self.token_len)[:-1]))
        self.token_bytes = np.frombuffer(b"".join(tokens), dtype=np.uint8)

        self.background_cdf = zipf_cdf(spec.vocab, spec.zipf_exponent)
        self.label_cdf = zipf_cdf(spec.labels, spec.label_skew, shift=1.0)
        self.topic_cdf = zipf_cdf(spec.topic_words, 1.0, shift=1.0)
        # Topical words: from the ranks after the stop words, favouring the frequent half.
        low, high = NUM_STOP_WORDS, spec.vocab
        u = rng.random((spec.labels, spec.topic_words))
        self.topics = (low + (high - low) * u**2).astype(np.int64)

    def lines(self, n: int) -> bytes:
        """``n`` lines of fastText-format text, as bytes."""
        spec, rng = self.spec, self.rng
        # Labels: 1 for most lines, 2-3 for a fraction of them.
        n_labels = np.ones(n, dtype=np.int64)
        multi = rng.random(n) < spec.multi_label_fraction
        n_labels[multi] = 2 + (rng.random(int(multi.sum())) < 0.3)
        n_labels = np.minimum(n_labels, spec.labels)
        label_line = np.repeat(np.arange(n), n_labels)
        labels = sample_cdf(self.label_cdf, len(label_line), rng)
        first_label = np.concatenate(([0], np.cumsum(n_labels)[:-1]))

        # Words.
        p = spec.words_per_line - 1.0
        shape = 2.0
        n_words = 1 + rng.negative_binomial(shape, shape / (shape + p), size=n).astype(np.int64)
        word_line = np.repeat(np.arange(n), n_words)
        n_tok = len(word_line)
        frac = rng.beta(1.5, 1.5 * (1.0 / spec.topic_fraction - 1.0), size=n)
        topical = rng.random(n_tok) < frac[word_line]
        words = sample_cdf(self.background_cdf, n_tok, rng)
        t_line = word_line[topical]
        pick = first_label[t_line] + (rng.random(len(t_line)) * n_labels[t_line]).astype(np.int64)
        t_label = labels[pick]
        words[topical] = self.topics[t_label, sample_cdf(self.topic_cdf, len(t_line), rng)]

        # Token stream per line: its labels, then its words.
        per_line = n_labels + n_words
        stream = np.empty(int(per_line.sum()), dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(per_line)[:-1]))
        label_pos = np.repeat(starts, n_labels) + (
            np.arange(len(label_line)) - np.repeat(first_label, n_labels)
        )
        is_label = np.zeros(len(stream), dtype=bool)
        is_label[label_pos] = True
        stream[is_label] = spec.vocab + labels
        stream[~is_label] = words
        return self._render(stream, starts + per_line - 1)

    def _render(self, stream: IntArray, last_tokens: IntArray) -> bytes:
        """Concatenate the tokens' bytes; the space after each line's last token becomes \\n."""
        lens = self.token_len[stream]
        ends = np.cumsum(lens)
        out_starts = ends - lens
        shift = np.repeat(self.token_off[stream] - out_starts, lens)
        out: npt.NDArray[np.uint8] = self.token_bytes[np.arange(int(ends[-1])) + shift]
        out[ends[last_tokens] - 1] = ord("\n")
        return bytes(out.tobytes())

    def write(self, path: Path, n: int) -> None:
        """Write ``n`` lines to ``path`` (through a temporary file: never a partial corpus)."""
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            for start in range(0, n, CHUNK_LINES):
                f.write(self.lines(min(CHUNK_LINES, n - start)))
        tmp.replace(path)


def generate(
    prefix: Path, lines: int, valid_lines: int, spec: CorpusSpec, seed: int
) -> tuple[Path, Path]:
    """Write ``PREFIX.train`` and ``PREFIX.valid``; return their paths."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    gen = Generator(spec, seed)
    train = prefix.with_name(prefix.name + ".train")
    valid = prefix.with_name(prefix.name + ".valid")
    gen.write(train, lines)
    gen.write(valid, valid_lines)
    return train, valid


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output prefix (PREFIX.train/.valid)")
    ap.add_argument("--lines", type=int, default=100_000, help="training lines")
    ap.add_argument("--valid-lines", type=int, default=10_000, help="validation lines")
    ap.add_argument("--labels", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=CorpusSpec.vocab, help="vocabulary size")
    ap.add_argument("--words-per-line", type=float, default=CorpusSpec.words_per_line)
    ap.add_argument("--topic-words", type=int, default=CorpusSpec.topic_words)
    ap.add_argument(
        "--topic-fraction",
        type=float,
        default=CorpusSpec.topic_fraction,
        help="mean fraction of a line's words drawn from its labels' topics",
    )
    ap.add_argument("--multi-label-fraction", type=float, default=0.0)
    ap.add_argument("--label-skew", type=float, default=CorpusSpec.label_skew)
    args = ap.parse_args(argv)
    if args.lines < 1 or args.valid_lines < 1 or args.labels < 1:
        ap.error("--lines, --valid-lines and --labels must be positive")
    if not 0.0 < args.topic_fraction < 1.0:
        ap.error("--topic-fraction must be in (0, 1)")
    if not 0.0 <= args.multi_label_fraction <= 1.0:
        ap.error("--multi-label-fraction must be in [0, 1]")
    if args.words_per_line < 1.0:
        ap.error("--words-per-line must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = CorpusSpec(
        labels=args.labels,
        vocab=args.vocab,
        words_per_line=args.words_per_line,
        topic_words=args.topic_words,
        topic_fraction=args.topic_fraction,
        multi_label_fraction=args.multi_label_fraction,
        label_skew=args.label_skew,
    )
    t0 = time.perf_counter()
    train, valid = generate(args.out, args.lines, args.valid_lines, spec, args.seed)
    print(
        f"wrote {train} ({args.lines} lines) and {valid} ({args.valid_lines} lines) "
        f"in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
