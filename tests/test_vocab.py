"""Scanning lines into token tables, and the vocabulary built from them."""

from __future__ import annotations

import io

import pytest

from fasttext_lite import vocab
from fasttext_lite.vocab import Scan, Vocabulary


def scan_of(*blocks: list[bytes], prefix: bytes = b"__label__") -> Scan:
    scan = Scan(prefix)
    for block in blocks:
        scan.add_lines(block)
    return scan


@pytest.mark.parametrize("prefix", [b"<", b"</", b"</s"])
def test_eos_is_a_word_whatever_the_label_prefix(prefix: bytes) -> None:
    scan = scan_of([prefix + b"x hello", b"bye " + prefix + b"y"], prefix=prefix)
    assert scan.labels.keys == [b"x", b"y"]
    assert scan.words.keys == [b"hello", b"</s>", b"bye"]
    assert scan.words.occurrences.tolist() == [0, 1, 2, 1]


def test_ties_keep_first_seen_order_with_eos_after_the_first_line() -> None:
    # Every word occurs twice, </s> too: ids follow first sight, </s> after line one's words.
    scan = scan_of([b"b a __label__x", b"c a b c __label__y"])
    built = Vocabulary.build(scan, min_count=1, min_count_label=0)
    assert built.words == ["b", "a", "</s>", "c"]
    assert built.word_counts == [2, 2, 2, 2]


@pytest.mark.parametrize("cut", [0, 1, 2, 3])
def test_blocks_do_not_change_the_tables(cut: int) -> None:
    lines = [b"__label__x one two", b"", b"two three __label__y", b"one"]
    whole = scan_of(lines)
    parts = scan_of(lines[:cut], lines[cut:])
    for mine, theirs in ((parts.words, whole.words), (parts.labels, whole.labels)):
        assert mine.keys == theirs.keys
        assert mine.occurrences.tolist() == theirs.occurrences.tolist()
        assert mine.lengths.tolist() == theirs.lengths.tolist()
    assert parts.lines == 4 and parts.unlabelled_lines == 2


def test_appending_a_written_scan_equals_scanning_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocab, "_BLOCK", 2)  # remap the appended occurrences in small blocks
    first = [b"__label__x one two", b"two three"]
    second = [b"", b"three four __label__y __label__x", b"five one"]
    whole = scan_of(first, second)
    theirs = scan_of(second)
    buffer = io.BytesIO()
    theirs.write(buffer)
    buffer.seek(0)
    appended = scan_of(first)
    appended.append(buffer)
    for mine, expected in ((appended.words, whole.words), (appended.labels, whole.labels)):
        assert mine.keys == expected.keys
        assert mine.occurrences.tolist() == expected.occurrences.tolist()
        assert mine.lengths.tolist() == expected.lengths.tolist()
