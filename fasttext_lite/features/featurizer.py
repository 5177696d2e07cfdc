"""Feature ids for lines: vocabulary words plus hashed word and character n-grams.

Follows fastText (`src/dictionary.cc`: `computeSubwords`, `addSubwords`, `addWordNgrams`):
ids below `nwords` are words; n-grams live in `bucket` hashed slots after them. The output
is each line's bag of feature ids (`sparse.Bags`); averaging their rows is the model's job,
because only the model knows which features have rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags, indptr_of, take_rows
from fasttext_lite.features.hashing import as_signed, chain_ngram_hashes, fnv1a_many
from fasttext_lite.text.tokens import EOS_BYTES, as_bytes, encode_token
from fasttext_lite.vocab import Vocabulary, ids_of

ArrayT = TypeVar("ArrayT", bound="npt.NDArray[Any]")
BOW, EOW = b"<", b">"
# Lines featurized at once: bounds the temporary arrays to a few tens of megabytes.
_BLOCK_LINES = 1 << 14
_BLOCK_ENTRIES = 1 << 22


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


class TokenFeatures(NamedTuple):
    """Per distinct token: its word id (or -1), its features (as CSR) and its hash."""

    word_ids: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]
    features: npt.NDArray[np.int64]
    hashes: npt.NDArray[np.int32] | None  # only with word n-grams


class Feature(NamedTuple):
    """A feature of a line and where it comes from."""

    id: int
    position: int  # the token it belongs to (a word n-gram: its first token)
    kind: str  # "word" (the token's own id), "char" (a character n-gram), "ngram" (words)
    text: bytes


class TokenFeatureCache:
    """The `TokenFeatures` of a growing list of distinct tokens. Its arrays keep spare room
    (their size doubles when full), so a stream of batches costs time in proportion to the
    tokens each batch brings, not to all the tokens seen before."""

    def __init__(self, featurizer: Featurizer) -> None:
        self.featurizer = featurizer
        self._store = featurizer.token_features([])
        self.size = 0  # tokens
        self._nfeatures = 0

    @property
    def features(self) -> TokenFeatures:
        word_ids, indptr, features, hashes = self._store
        return TokenFeatures(
            word_ids[: self.size],
            indptr[: self.size + 1],
            features[: self._nfeatures],
            None if hashes is None else hashes[: self.size],
        )

    def add(self, tokens: Sequence[str | bytes]) -> None:
        """Append `tokens` (new ones: the cache does not look for repeats)."""
        more = self.featurizer.token_features(tokens)
        size, nfeatures = self.size, self._nfeatures
        count, store = len(tokens), self._store
        word_ids = _room(store.word_ids, size + count)
        indptr = _room(store.indptr, size + count + 1)
        features = _room(store.features, nfeatures + more.features.size)
        hashes = None if store.hashes is None else _room(store.hashes, size + count)
        word_ids[size : size + count] = more.word_ids
        indptr[size + 1 : size + count + 1] = nfeatures + more.indptr[1:]
        features[nfeatures : nfeatures + more.features.size] = more.features
        if hashes is not None and more.hashes is not None:
            hashes[size : size + count] = more.hashes
        self._store = TokenFeatures(word_ids, indptr, features, hashes)
        self.size += count
        self._nfeatures += more.features.size


def _room(array: ArrayT, needed: int) -> ArrayT:
    """`array`, or a copy twice as large, whichever holds `needed` items."""
    if array.size >= needed:
        return array
    grown = np.zeros(max(needed, 2 * array.size), dtype=array.dtype)
    grown[: array.size] = array
    return cast(ArrayT, grown)


class Featurizer:
    """Maps lines to bags of feature ids, among `nwords + bucket` features."""

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
        # Feature ids fit in int32 unless the bucket is huge.
        self.id_type: type[np.integer] = np.int32 if self.n_features < 2**31 else np.int64
        words = [encode_token(w) for w in vocab.words]
        # Only word n-grams need the words' hashes.
        self._word_hashes = as_signed(fnv1a_many(words)) if word_ngrams > 1 else None
        # Each vocabulary word's own id followed by its char n-gram ids, as CSR.
        self._word_indptr, self._word_features = self._subword_table(words, np.arange(self.nwords))

    @functools.cached_property
    def _word_ids(self) -> dict[bytes, int]:
        """Each word's id, by its bytes: tokens arrive as the bytes read, and looking them up
        as bytes saves decoding each one. Built on first use: training knows its tokens'
        word ids from the vocabulary already (see `token_features`)."""
        return {encode_token(word): i for i, word in enumerate(self.vocab.words)}

    def transform_table(
        self,
        tokens: Sequence[str | bytes],
        occurrences: npt.NDArray[np.int32],
        lengths: npt.NDArray[np.integer],
        *,
        consume: bool = False,
    ) -> Bags:
        """The feature ids of lines given as indices into distinct `tokens`.

        With `consume`, the caller gives `occurrences` up: when each token has at most one
        feature (its word id; no n-grams), the ids are written over it instead of into a
        second array as large as the corpus.
        """
        return self.transform_lines(
            self.token_features(tokens), occurrences, lengths, consume=consume
        )

    def token_features(
        self, tokens: Sequence[str | bytes], word_ids: npt.NDArray[np.int64] | None = None
    ) -> TokenFeatures:
        """What lines need of each distinct token: its word id, features and hash. Give the
        tokens' `word_ids` (-1 for none) if they are known already."""
        raw = list(map(as_bytes, tokens))
        if word_ids is None:
            word_ids = ids_of(raw, self._word_ids)
        indptr, features = self._token_features(raw, word_ids)
        hashes = self._token_hashes(raw, word_ids) if self.word_ngrams > 1 else None
        return TokenFeatures(word_ids, indptr, features, hashes)

    def provenance(self, tokens: Sequence[bytes]) -> list[Feature]:
        """The features of one line's tokens (its words, `</s>` last) with where each comes
        from: the same multiset `transform_lines` gives, one at a time (for explanations)."""
        found: list[Feature] = []
        table = self.token_features(tokens)
        for position, token in enumerate(tokens):
            ids = table.features[table.indptr[position] : table.indptr[position + 1]].tolist()
            grams = (
                char_ngrams(token, self.minn, self.maxn) if self.maxn and token != EOS_BYTES else []
            )
            own = ids[: len(ids) - len(grams)]
            found += [Feature(i, position, "word", token) for i in own]
            found += [
                Feature(i, position, "char", g) for i, g in zip(ids[len(own) :], grams, strict=True)
            ]
        if table.hashes is not None and len(tokens) > 1:
            starts, ids = self._word_ngram_features(table.hashes, np.array([len(tokens)]))
            lengths = np.concatenate(
                [np.full(max(len(tokens) - n + 1, 0), n) for n in range(2, self.word_ngrams + 1)]
            )
            for start, feature, n in zip(
                starts.tolist(), ids.tolist(), lengths.tolist(), strict=True
            ):
                found.append(Feature(feature, start, "ngram", b" ".join(tokens[start : start + n])))
        return found

    def transform_lines(
        self,
        tokens: TokenFeatures,
        occurrences: npt.NDArray[np.int32],
        lengths: npt.NDArray[np.integer],
        *,
        consume: bool = False,
    ) -> Bags:
        """`transform_table`, with the tokens' features computed already."""
        word_ids, indptr, features, hashes = tokens
        line_ends = indptr_of(lengths)
        if consume and self.word_ngrams == 1 and self.maxn == 0:
            return Bags(line_ends, occurrences).map(lambda occ: word_ids[occ])
        # Every entry's size is known before: fill one array block by block, never holding
        # the blocks and their concatenation at once.
        sizes = np.diff(indptr)
        total = sum(
            int(sizes[occurrences[i : i + _BLOCK_ENTRIES]].sum())
            for i in range(0, occurrences.size, _BLOCK_ENTRIES)
        ) + sum(int(np.maximum(lengths - n + 1, 0).sum()) for n in range(2, self.word_ngrams + 1))
        out_indptr = np.zeros(lengths.size + 1, dtype=np.int64)
        out_indices: npt.NDArray[np.integer] = np.empty(total, dtype=self.id_type)
        for first in range(0, lengths.size, _BLOCK_LINES):
            last = min(first + _BLOCK_LINES, lengths.size)
            occ = occurrences[line_ends[first] : line_ends[last]]
            line_sizes, ids = self._block(occ, lengths[first:last], indptr, features, hashes)
            filled = out_indptr[first]
            out_indices[filled : filled + ids.size] = ids
            out_indptr[first + 1 : last + 1] = filled + np.cumsum(line_sizes)
        return Bags(out_indptr, out_indices)

    def _block(
        self,
        occ: npt.NDArray[np.int32],
        lengths: npt.NDArray[np.integer],
        indptr: npt.NDArray[np.int64],
        features: npt.NDArray[np.int64],
        hashes: npt.NDArray[np.int32] | None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(entries per line, feature ids grouped by line) for a block of lines."""
        line_of_token = np.repeat(np.arange(lengths.size), lengths)
        got = take_rows(indptr, occ)
        rows = [line_of_token[got.owner]]
        cols = [features[got.positions]]
        if hashes is not None:
            starts, ids = self._word_ngram_features(hashes[occ], lengths)
            rows.append(line_of_token[starts])
            cols.append(ids)
        row, col = np.concatenate(rows), np.concatenate(cols)
        return np.bincount(row, minlength=lengths.size), col[np.argsort(row, kind="stable")]

    def _token_features(
        self, tokens: Sequence[bytes], word_ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """CSR of each distinct token's features: a known word's row of the vocabulary table,
        an unknown word's char n-grams."""
        known = np.flatnonzero(word_ids >= 0)
        unknown = np.flatnonzero(word_ids < 0)
        new_indptr, new_features = self._subword_table(
            [tokens[i] for i in unknown.tolist()], np.full(unknown.size, -1)
        )
        sizes = np.empty(len(tokens), dtype=np.int64)
        sizes[known] = np.diff(self._word_indptr)[word_ids[known]]
        sizes[unknown] = np.diff(new_indptr)
        indptr = indptr_of(sizes)
        features = np.empty(int(indptr[-1]), dtype=np.int64)
        features[take_rows(indptr, unknown).positions] = new_features
        source = take_rows(self._word_indptr, word_ids[known]).positions
        features[take_rows(indptr, known).positions] = self._word_features[source]
        return indptr, features

    def _token_hashes(
        self, tokens: Sequence[bytes], word_ids: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int32]:
        hashes = np.empty(len(tokens), dtype=np.int32)
        known = word_ids >= 0
        assert self._word_hashes is not None  # computed whenever word n-grams are on
        hashes[known] = self._word_hashes[word_ids[known]]
        unknown = np.flatnonzero(~known)
        hashes[unknown] = as_signed(fnv1a_many([tokens[i] for i in unknown.tolist()]))
        return hashes

    def _subword_table(
        self, tokens: Sequence[bytes], own_ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Feature ids of each token: its own id (if >= 0) and, with char n-grams on and
        unless it is `</s>`, its char n-gram ids."""
        with_grams = self.maxn > 0
        grams: list[bytes] = []
        gram_counts = np.zeros(len(tokens), dtype=np.int64)
        if with_grams:
            for i, token in enumerate(tokens):
                if token != EOS_BYTES:
                    token_grams = char_ngrams(token, self.minn, self.maxn)
                    grams.extend(token_grams)
                    gram_counts[i] = len(token_grams)
        has_own = own_ids >= 0
        sizes = gram_counts + has_own
        indptr = indptr_of(sizes)
        features = np.empty(int(indptr[-1]), dtype=np.int64)
        features[indptr[:-1][has_own]] = own_ids[has_own]
        if grams:
            gram_ids = self.nwords + fnv1a_many(grams).astype(np.int64) % self.bucket
            first_gram = indptr[:-1] + has_own
            owner = np.repeat(np.arange(len(tokens)), gram_counts)
            offset = np.arange(gram_ids.size) - np.repeat(
                np.cumsum(gram_counts) - gram_counts, gram_counts
            )
            features[first_gram[owner] + offset] = gram_ids
        return indptr, features

    def _word_ngram_features(
        self, hashes: npt.NDArray[np.int32], lengths: npt.NDArray[np.integer]
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
