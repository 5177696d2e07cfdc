"""Feature ids for lines: vocabulary words plus hashed word and character n-grams.

Follows fastText (`src/dictionary.cc`: `computeSubwords`, `addSubwords`, `addWordNgrams`):
ids below `nwords` are words; n-grams live in `bucket` hashed slots after them. The output
is a CSR matrix of feature counts per line; turning counts into the 1/len average is the
model's job, because only the model knows which features have rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.data import EOS, Example, encode_token
from fasttext_lite.hashing import as_signed, chain_ngram_hashes, fnv1a_many
from fasttext_lite.sparse import take_rows
from fasttext_lite.vocab import Vocabulary

BOW, EOW = b"<", b">"


def effective_bucket(*, bucket: int, word_ngrams: int, maxn: int) -> int:
    """fastText sets bucket to 0 when no n-grams are hashed, so the input matrix has no
    n-gram rows; doing it here keeps the rule in one visible place.

    >>> effective_bucket(bucket=2_000_000, word_ngrams=1, maxn=0)
    0
    >>> effective_bucket(bucket=2_000_000, word_ngrams=2, maxn=0)
    2000000
    """
    return bucket if word_ngrams > 1 or maxn > 0 else 0


def char_ngrams(word: bytes, minn: int, maxn: int) -> list[bytes]:
    """The character n-grams of `<word>`, lengths minn..maxn, in fastText's order.

    Characters are UTF-8 sequences (a continuation byte never starts one); the 1-grams `<`
    and `>` are skipped.

    >>> char_ngrams(b"ab", 1, 2)
    [b'<a', b'a', b'ab', b'b', b'b>']
    >>> [g.decode() for g in char_ngrams("é".encode(), 2, 3)]
    ['<é', '<é>', 'é>']
    """
    wrapped = BOW + word + EOW
    starts = [i for i, byte in enumerate(wrapped) if byte & 0xC0 != 0x80]
    bounds = [*starts, len(wrapped)]
    nchars = len(starts)
    grams: list[bytes] = []
    for k in range(nchars):
        for n in range(1, min(maxn, nchars - k) + 1):
            if n >= minn and not (n == 1 and (k == 0 or k + 1 == nchars)):
                grams.append(wrapped[bounds[k] : bounds[k + n]])
    return grams


class Featurizer:
    """Maps parsed lines to feature-count rows over `nwords + bucket` features."""

    def __init__(
        self, vocab: Vocabulary, *, word_ngrams: int, bucket: int, minn: int, maxn: int
    ) -> None:
        self.vocab = vocab
        self.word_ngrams = word_ngrams
        self.bucket = effective_bucket(bucket=bucket, word_ngrams=word_ngrams, maxn=maxn)
        self.minn = minn
        self.maxn = maxn
        self.nwords = len(vocab.words)
        self.n_features = self.nwords + self.bucket
        self._word_hashes = as_signed(fnv1a_many([encode_token(w) for w in vocab.words]))
        # Each vocabulary word's own id followed by its char n-gram ids, as CSR.
        self._word_indptr, self._word_features = self._subword_table(
            vocab.words, list(range(self.nwords))
        )

    def _subword_table(
        self, tokens: Sequence[str], own_ids: Sequence[int | None]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Feature ids of each token: its own id (if any) and, unless it is `</s>`, its
        char n-grams."""
        grams: list[bytes] = []
        counts = np.zeros(len(tokens), dtype=np.int64)
        for i, (token, own) in enumerate(zip(tokens, own_ids, strict=True)):
            token_grams = (
                char_ngrams(encode_token(token), self.minn, self.maxn)
                if self.maxn > 0 and token != EOS
                else []
            )
            grams.extend(token_grams)
            counts[i] = len(token_grams) + (own is not None)
        gram_ids = self.nwords + fnv1a_many(grams).astype(np.int64) % max(self.bucket, 1)
        features = np.empty(int(counts.sum()), dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        cursor = 0
        for i, own in enumerate(own_ids):
            start = int(indptr[i])
            if own is not None:
                features[start] = own
                start += 1
            n = int(indptr[i + 1]) - start
            features[start : start + n] = gram_ids[cursor : cursor + n]
            cursor += n
        return indptr, features

    def transform(self, examples: Sequence[Example]) -> sp.csr_array:
        """Feature counts per line: a CSR array of shape (len(examples), n_features)."""
        flat = [word for example in examples for word in example.words]
        lengths = np.fromiter(
            (len(example.words) for example in examples), dtype=np.int64, count=len(examples)
        )
        word_ids = self.vocab.word_ids
        ids = np.fromiter((word_ids.get(t, -1) for t in flat), dtype=np.int64, count=len(flat))
        line_of_token = np.repeat(np.arange(len(examples)), lengths)

        unknown = np.flatnonzero(ids < 0)
        distinct: dict[str, int] = {}
        unknown_slot = np.fromiter(
            (distinct.setdefault(flat[i], len(distinct)) for i in unknown),
            dtype=np.int64,
            count=unknown.size,
        )
        unknown_tokens = list(distinct)

        rows = [line_of_token[ids >= 0]] if self.maxn == 0 else []
        cols = [ids[ids >= 0]] if self.maxn == 0 else []
        if self.maxn > 0:
            known = np.flatnonzero(ids >= 0)
            got = take_rows(self._word_indptr, ids[known])
            rows.append(line_of_token[known][got.owner])
            cols.append(self._word_features[got.positions])
            indptr, features = self._subword_table(unknown_tokens, [None] * len(unknown_tokens))
            got = take_rows(indptr, unknown_slot)
            rows.append(line_of_token[unknown][got.owner])
            cols.append(features[got.positions])
        if self.word_ngrams > 1:
            hashes = np.empty(len(flat), dtype=np.int32)
            hashes[ids >= 0] = self._word_hashes[ids[ids >= 0]]
            hashes[unknown] = as_signed(fnv1a_many([encode_token(t) for t in unknown_tokens]))[
                unknown_slot
            ]
            r, c = self._word_ngram_features(hashes, lengths)
            rows.append(line_of_token[r])
            cols.append(c)

        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        counts = np.ones(row.size, dtype=np.float32)
        matrix = sp.coo_array((counts, (row, col)), shape=(len(examples), self.n_features))
        return matrix.tocsr()  # sums repeated features of a line into one count

    def _word_ngram_features(
        self, hashes: npt.NDArray[np.int32], lengths: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(token position, feature id) of every word n-gram of length 2..word_ngrams."""
        line_end = np.repeat(np.cumsum(lengths), lengths)  # one past each token's line
        position = np.arange(hashes.size)
        h = hashes.astype(np.int64).view(np.uint64)  # sign-extended, as C++ widens int32
        starts: list[npt.NDArray[np.int64]] = []
        ids: list[npt.NDArray[np.int64]] = []
        for n in range(2, self.word_ngrams + 1):
            keep = position + n - 1 < line_end
            position, line_end = position[keep], line_end[keep]
            h = chain_ngram_hashes(h[keep], hashes[position + n - 1])
            starts.append(position)
            ids.append(self.nwords + (h % np.uint64(self.bucket)).astype(np.int64))
        return np.concatenate(starts), np.concatenate(ids)
