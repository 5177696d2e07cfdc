"""Tokenization and feature ids, checked against fastText's rules re-derived in the tests.

The references here and in `tests/reference.py` transliterate fastText's `src/dictionary.cc`
(`readWord`, `hash`, `computeSubwords`, `addSubwords`, `addWordNgrams`) in plain Python
integers; nothing expected is taken from the library's own output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
from helpers import scanned
from reference import NGRAM_MULTIPLIER as MULTIPLIER
from reference import (
    Example,
    featurize,
    featurize_table,
    fnv1a,
    parse_line,
    to_int32,
    word_ngram_hash,
)

from fasttext_lite.features.featurizer import (
    Featurizer,
    TokenFeatureCache,
    char_ngrams,
    effective_bucket,
)
from fasttext_lite.text.scan import TokenTable
from fasttext_lite.text.tokens import EOS, as_bytes, encode_token, tokenize
from fasttext_lite.vocab import Vocabulary

# -- references ------------------------------------------------------------------------------


def ref_char_ngrams(word: bytes, minn: int, maxn: int) -> list[bytes]:
    """fastText's `computeSubwords` loop, byte by byte, on `<word>`."""
    w = b"<" + word + b">"
    out: list[bytes] = []
    for i in range(len(w)):
        if w[i] & 0xC0 == 0x80:
            continue
        ngram = b""
        j, n = i, 1
        while j < len(w) and n <= maxn:
            ngram += w[j : j + 1]
            j += 1
            while j < len(w) and w[j] & 0xC0 == 0x80:
                ngram += w[j : j + 1]
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(w))):
                out.append(ngram)
            n += 1
    return out


def ref_word_ngram(words: Sequence[bytes], bucket: int) -> int:
    """`uint64_t h = hash[i]; h = h * 116049371 + hash[j]; ... h % bucket` over `words`."""
    return word_ngram_hash(words) % bucket


def ref_features(
    tokens: Sequence[str],
    vocab_words: Sequence[str],
    *,
    bucket: int,
    word_ngrams: int,
    minn: int,
    maxn: int,
) -> Counter[int]:
    """Feature ids (with multiplicity) of one line's words, as fastText's `getLine`."""
    nwords = len(vocab_words)
    ids: Counter[int] = Counter()
    raw = [encode_token(t) for t in tokens]
    for token, data in zip(tokens, raw, strict=True):
        if token in vocab_words:
            ids[vocab_words.index(token)] += 1
        if maxn > 0 and token != EOS:
            for gram in ref_char_ngrams(data, minn, maxn):
                ids[nwords + fnv1a(gram) % bucket] += 1
    for i in range(len(raw)):
        for n in range(2, word_ngrams + 1):
            if i + n <= len(raw):
                ids[nwords + ref_word_ngram(raw[i : i + n], bucket)] += 1
    return ids


def vocabulary(words: Sequence[str]) -> Vocabulary:
    return Vocabulary(words, [1] * len(words), ["pos", "neg"], [1, 1])


def row_counts(featurizer: Featurizer, examples: Sequence[Example], row: int) -> Counter[int]:
    bags = featurize(featurizer, examples)
    return Counter(bags.indices[bags.indptr[row] : bags.indptr[row + 1]].tolist())


def line(text: str | bytes) -> Example:
    return parse_line(text)


VOCAB = ["the", "cat", "sat", EOS, "café"]
THE, CAT, SAT, S, CAFE = range(5)


# -- char n-grams --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "minn", "maxn", "expected"),
    [
        ("ab", 1, 2, ["<a", "a", "ab", "b", "b>"]),
        ("ab", 1, 1, ["a", "b"]),  # `<` and `>` alone are never 1-grams
        ("ab", 3, 6, ["<ab", "<ab>", "ab>"]),
        ("ab", 5, 6, []),  # `<ab>` has only 4 characters
        ("cat", 3, 3, ["<ca", "cat", "at>"]),
        ("cat", 2, 3, ["<c", "<ca", "ca", "cat", "at", "at>", "t>"]),
        ("a", 1, 1, ["a"]),
        ("a", 2, 2, ["<a", "a>"]),
        ("é", 2, 3, ["<é", "<é>", "é>"]),
        ("日本", 1, 2, ["<日", "日", "日本", "本", "本>"]),
        ("日本", 3, 3, ["<日本", "日本>"]),
        ("😀x", 2, 2, ["<😀", "😀x", "x>"]),
        ("<", 1, 1, ["<"]),  # only the 1-grams at the wrapper positions are skipped
    ],
)
def test_char_ngrams_follow_fasttext_rules(
    word: str, minn: int, maxn: int, expected: list[str]
) -> None:
    grams = char_ngrams(word.encode(), minn, maxn)
    assert grams == [g.encode() for g in expected]
    assert grams == ref_char_ngrams(word.encode(), minn, maxn)


@pytest.mark.parametrize("word", ["naïve", "日本語", "😀😀", "Ünïcødé", "mixé日x"])
@pytest.mark.parametrize(("minn", "maxn"), [(1, 1), (1, 3), (2, 5), (3, 6)])
def test_char_ngrams_are_whole_characters(word: str, minn: int, maxn: int) -> None:
    chars = ["<", *word, ">"]
    expected = [
        "".join(chars[i : i + n])
        for i in range(len(chars))
        for n in range(minn, maxn + 1)
        if i + n <= len(chars) and not (n == 1 and i in (0, len(chars) - 1))
    ]
    grams = char_ngrams(word.encode(), minn, maxn)
    assert [g.decode("utf-8") for g in grams] == expected  # never splits a character
    for gram in grams:
        assert gram[0] & 0xC0 != 0x80  # no n-gram starts with a continuation byte


@pytest.mark.parametrize(
    ("word", "minn", "maxn", "expected"),
    [
        (b"\x80", 1, 3, [b"<\x80>"]),  # a stray continuation byte sticks to `<`
        (b"a\x80b", 1, 1, [b"a\x80", b"b"]),
        # \xe9 with no continuation bytes after it is a character of its own
        (b"caf\xe9", 4, 4, [b"<caf", b"caf\xe9", b"af\xe9>"]),
    ],
)
def test_char_ngrams_of_invalid_utf8_group_continuation_bytes(
    word: bytes, minn: int, maxn: int, expected: list[bytes]
) -> None:
    assert char_ngrams(word, minn, maxn) == expected
    assert char_ngrams(word, minn, maxn) == ref_char_ngrams(word, minn, maxn)


# -- bucket ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word_ngrams", "maxn", "expected"),
    [(1, 0, 0), (2, 0, 1000), (3, 0, 1000), (1, 3, 1000), (2, 6, 1000)],
)
def test_bucket_is_zero_without_ngrams(word_ngrams: int, maxn: int, expected: int) -> None:
    assert effective_bucket(bucket=1000, word_ngrams=word_ngrams, maxn=maxn) == expected
    featurizer = Featurizer(
        vocabulary(VOCAB), word_ngrams=word_ngrams, bucket=1000, minn=min(maxn, 2), maxn=maxn
    )
    assert featurizer.n_features == len(VOCAB) + expected
    bags = featurize(featurizer, [line("the cat dog")])
    assert bags.nlines == 1
    assert (bags.indices < len(VOCAB) + expected).all()


# -- feature ids -----------------------------------------------------------------------------


def test_known_words_and_eos_map_to_their_ids() -> None:
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=100, minn=0, maxn=0)
    assert row_counts(featurizer, [line("the cat sat")], 0) == {THE: 1, CAT: 1, SAT: 1, S: 1}


def test_unknown_word_contributes_nothing_without_char_ngrams() -> None:
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=100, minn=0, maxn=0)
    assert row_counts(featurizer, [line("the dog")], 0) == {THE: 1, S: 1}
    assert row_counts(featurizer, [line("dog")], 0) == {S: 1}


@pytest.mark.parametrize(("minn", "maxn"), [(1, 1), (2, 3), (3, 6)])
def test_unknown_word_uses_only_its_char_ngrams(minn: int, maxn: int) -> None:
    bucket = 1_000_003
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=bucket, minn=minn, maxn=maxn)
    got = row_counts(featurizer, [line("dog")], 0)
    expected = Counter(len(VOCAB) + fnv1a(g) % bucket for g in ref_char_ngrams(b"dog", minn, maxn))
    expected[S] += 1  # `</s>` is in the vocabulary and has no n-grams
    assert got == expected
    assert all(i >= len(VOCAB) for i in got if i != S)


@pytest.mark.parametrize(("minn", "maxn"), [(1, 2), (3, 6)])
def test_known_word_uses_its_row_and_its_char_ngrams(minn: int, maxn: int) -> None:
    bucket = 5000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=bucket, minn=minn, maxn=maxn)
    got = row_counts(featurizer, [line("café")], 0)
    expected = Counter(
        len(VOCAB) + fnv1a(g) % bucket for g in ref_char_ngrams("café".encode(), minn, maxn)
    )
    expected[CAFE] += 1
    expected[S] += 1
    assert got == expected


def test_eos_has_no_char_ngrams() -> None:
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=100, minn=1, maxn=6)
    assert row_counts(featurizer, [line("")], 0) == {S: 1}


def test_unknown_eos_has_no_char_ngrams_either() -> None:
    featurizer = Featurizer(vocabulary(["the"]), word_ngrams=1, bucket=100, minn=1, maxn=6)
    assert row_counts(featurizer, [line("")], 0) == {}


def test_word_bigram_id_is_the_chained_hash_modulo_bucket() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=2, bucket=bucket, minn=0, maxn=0)
    h_the = to_int32(fnv1a(b"the"))
    h_cat = to_int32(fnv1a(b"cat"))
    h_eos = to_int32(fnv1a(b"</s>"))
    the_cat = len(VOCAB) + ((h_the * MULTIPLIER + h_cat) % 2**64) % bucket
    cat_eos = len(VOCAB) + ((h_cat * MULTIPLIER + h_eos) % 2**64) % bucket
    assert row_counts(featurizer, [line("the cat")], 0) == {
        THE: 1,
        CAT: 1,
        S: 1,
        the_cat: 1,
        cat_eos: 1,
    }


def test_word_trigrams_chain_three_hashes() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=3, bucket=bucket, minn=0, maxn=0)
    h = [to_int32(fnv1a(w)) for w in (b"the", b"cat", b"</s>")]
    bigrams = [(h[0] * MULTIPLIER + h[1]) % 2**64, (h[1] * MULTIPLIER + h[2]) % 2**64]
    trigram = ((h[0] * MULTIPLIER + h[1]) * MULTIPLIER + h[2]) % 2**64
    expected = Counter({THE: 1, CAT: 1, S: 1})
    for value in [*bigrams, trigram]:
        expected[len(VOCAB) + value % bucket] += 1
    assert row_counts(featurizer, [line("the cat")], 0) == expected


def test_word_ngrams_include_unknown_words() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=2, bucket=bucket, minn=0, maxn=0)
    got = row_counts(featurizer, [line("the dog cat")], 0)
    the_dog = len(VOCAB) + ref_word_ngram([b"the", b"dog"], bucket)
    dog_cat = len(VOCAB) + ref_word_ngram([b"dog", b"cat"], bucket)
    cat_eos = len(VOCAB) + ref_word_ngram([b"cat", b"</s>"], bucket)
    assert got == {THE: 1, CAT: 1, S: 1, the_dog: 1, dog_cat: 1, cat_eos: 1}


def test_word_ngrams_never_cross_lines() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=3, bucket=bucket, minn=0, maxn=0)
    examples = [line("the cat"), line("sat the")]
    first, second = row_counts(featurizer, examples, 0), row_counts(featurizer, examples, 1)
    assert first == ref_features(
        ["the", "cat", EOS], VOCAB, bucket=bucket, word_ngrams=3, minn=0, maxn=0
    )
    assert second == ref_features(
        ["sat", "the", EOS], VOCAB, bucket=bucket, word_ngrams=3, minn=0, maxn=0
    )
    across = {
        len(VOCAB) + ref_word_ngram([b"</s>", b"sat"], bucket),
        len(VOCAB) + ref_word_ngram([b"cat", b"</s>", b"sat"], bucket),
        len(VOCAB) + ref_word_ngram([b"</s>", b"sat", b"the"], bucket),
    }
    assert not across & (set(first) | set(second))


def test_repeated_features_count_twice() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=2, bucket=bucket, minn=0, maxn=0)
    got = row_counts(featurizer, [line("the cat the cat")], 0)
    assert got[THE] == 2
    assert got[CAT] == 2
    assert got[len(VOCAB) + ref_word_ngram([b"the", b"cat"], bucket)] == 2
    assert got[len(VOCAB) + ref_word_ngram([b"cat", b"the"], bucket)] == 1


def test_repeated_unknown_word_counts_its_char_ngrams_twice() -> None:
    bucket = 2_000_000
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=1, bucket=bucket, minn=3, maxn=3)
    got = row_counts(featurizer, [line("dog dog")], 0)
    for gram in (b"<do", b"dog", b"og>"):
        assert got[len(VOCAB) + fnv1a(gram) % bucket] == 2


LINES: list[str | bytes] = [
    "the cat sat",
    "the dog sat on the mat",
    "café au lait",
    "日本 the 日本",
    b"caf\xe9 the \xff\xfe cat",
    "",
    "cat",
    "dog",
]


@pytest.mark.parametrize("word_ngrams", [1, 2, 3, 4])
@pytest.mark.parametrize(("minn", "maxn"), [(0, 0), (1, 1), (2, 4), (3, 6)])
@pytest.mark.parametrize("bucket", [7, 1000, 2_000_000])
def test_transform_matches_fasttext_rules(
    word_ngrams: int, minn: int, maxn: int, bucket: int
) -> None:
    featurizer = Featurizer(
        vocabulary(VOCAB), word_ngrams=word_ngrams, bucket=bucket, minn=minn, maxn=maxn
    )
    examples = [line(text) for text in LINES]
    used_bucket = bucket if word_ngrams > 1 or maxn > 0 else 0
    bags = featurize(featurizer, examples)
    assert bags.nlines == len(LINES)
    assert (bags.indices < len(VOCAB) + used_bucket).all()
    for row, example in enumerate(examples):
        expected = ref_features(
            example.words, VOCAB, bucket=used_bucket, word_ngrams=word_ngrams, minn=minn, maxn=maxn
        )
        assert row_counts(featurizer, examples, row) == expected, LINES[row]


def test_transform_of_no_lines_is_empty() -> None:
    featurizer = Featurizer(vocabulary(VOCAB), word_ngrams=2, bucket=100, minn=2, maxn=3)
    bags = featurize(featurizer, [])
    assert bags.nlines == 0
    assert bags.indices.size == 0


@pytest.mark.parametrize(("word_ngrams", "maxn"), [(1, 0), (2, 0), (2, 3)])
def test_a_growing_token_cache_equals_featurizing_all_tokens_at_once(
    word_ngrams: int, maxn: int
) -> None:
    featurizer = Featurizer(
        vocabulary(VOCAB), word_ngrams=word_ngrams, bucket=1000, minn=2, maxn=maxn
    )
    tokens: list[str | bytes] = [b"the", b"dog", "café", b"x" * 40, b"sat", b"</s>", b"mat"] * 3
    cache = TokenFeatureCache(featurizer)
    for start, end in ((0, 1), (1, 4), (4, 4), (4, 21)):  # grows past its room several times
        cache.add(tokens[start:end])
    whole = featurizer.token_features(tokens)
    for got, expected in zip(cache.features, whole, strict=True):
        if expected is None:
            assert got is None
        else:
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("word_ngrams", "maxn"), [(1, 0), (2, 0), (1, 3)])
def test_transform_consuming_the_occurrences_gives_the_same_ids(
    word_ngrams: int, maxn: int
) -> None:
    featurizer = Featurizer(
        vocabulary(VOCAB[:-2]), word_ngrams=word_ngrams, bucket=1000, minn=2, maxn=maxn
    )
    table = TokenTable.of(line(text).words for text in LINES)
    kept = featurize_table(featurizer, table.keys, table.occurrences.copy(), table.lengths)
    occurrences = table.occurrences.copy()
    consumed = featurize_table(featurizer, table.keys, occurrences, table.lengths, consume=True)
    np.testing.assert_array_equal(consumed.indptr, kept.indptr)
    np.testing.assert_array_equal(consumed.indices, kept.indices)
    if word_ngrams == 1 and maxn == 0:  # one id per token at most: written over the input
        assert np.shares_memory(consumed.indices, occurrences)


# -- tokenization ----------------------------------------------------------------------------

SEPARATORS = [" ", "\t", "\n", "\r", "\v", "\f", "\0"]
NOT_SEPARATORS = [
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\u2003",  # em space
    "\u0085",  # next line: whitespace to str.split()
    "\x1c",  # file separator: whitespace to str.split(), not to fastText
    "\x1f",
    "\u2028",  # line separator
]


@pytest.mark.parametrize("sep", SEPARATORS, ids=[repr(s) for s in SEPARATORS])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_tokens_split_on_fasttext_separator_bytes(sep: str, as_bytes: bool) -> None:
    text = f"a{sep}b{sep}{sep}c{sep}"
    assert tokenize(text.encode() if as_bytes else text) == ["a", "b", "c"]


@pytest.mark.parametrize("char", NOT_SEPARATORS, ids=[repr(s) for s in NOT_SEPARATORS])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_unicode_spaces_are_not_separators(char: str, as_bytes: bool) -> None:
    text = f"a{char}b c"
    assert tokenize(text.encode() if as_bytes else text) == [f"a{char}b", "c"]


def test_separators_mixed_and_at_the_edges() -> None:
    assert tokenize(b"\0 \t a\r\n\x0b\x0cb \x00c\r\n") == ["a", "b", "c"]
    assert tokenize(b"") == []
    assert tokenize(b" \t\r\n\0") == []


def test_no_lowercasing_or_punctuation_splitting() -> None:
    assert tokenize("Hello, WORLD! order?") == ["Hello,", "WORLD!", "order?"]


@pytest.mark.parametrize(
    ("text", "words", "labels"),
    [
        ("__label__a hello world", ["hello", "world"], ["a"]),
        ("hello __label__a world", ["hello", "world"], ["a"]),
        ("hello world __label__a", ["hello", "world"], ["a"]),
        ("__label__a __label__b hi", ["hi"], ["a", "b"]),
        ("x __label__b y __label__a", ["x", "y"], ["b", "a"]),
        ("no labels here", ["no", "labels", "here"], []),
        ("", [], []),
        ("__label__only", [], ["only"]),
        ("label__a _label__b", ["label__a", "_label__b"], []),  # not the prefix
        ("a__label__b", ["a__label__b"], []),  # the prefix must start the token
    ],
)
def test_labels_are_found_anywhere_and_eos_is_appended(
    text: str, words: list[str], labels: list[str]
) -> None:
    for variant in (text, text + "\n", text.encode() + b"\r\n"):
        for example in (parse_line(variant), *scanned([as_bytes(variant)])):
            assert example.words == [*words, EOS]
            assert example.labels == labels


def test_custom_label_prefix() -> None:
    line = b"#spam buy now __label__ham #eggs"
    for example in (parse_line(line, label_prefix="#"), *scanned([line], label_prefix=b"#")):
        assert example.labels == ["spam", "eggs"]
        assert example.words == ["buy", "now", "__label__ham", EOS]


@pytest.mark.parametrize(
    "raw",
    [b"caf\xe9 au lait", b"\xff\xfe", b"ok \xc3 half", b"\xed\xa0\x80 surrogate", "日本".encode()],
)
def test_invalid_utf8_round_trips_byte_exactly(raw: bytes) -> None:
    line = raw + b" __label__\xe9x\n"
    for example in (parse_line(line), *scanned([line])):
        assert b" ".join(encode_token(w) for w in example.words) == raw + b" </s>"
        assert [encode_token(x) for x in example.labels] == [b"\xe9x"]
    assert [encode_token(t) for t in tokenize(raw)] == raw.split(b" ")
