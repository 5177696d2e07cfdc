"""Scanning lines into token tables, and the vocabulary built from them."""

from __future__ import annotations

import io
import sys

import pytest

from fasttext_lite.arrays.spool import MEMORY_ENTRIES
from fasttext_lite.text import scan as scan_module
from fasttext_lite.text.scan import Scan, TokenTable
from fasttext_lite.vocab import Vocabulary

# Ids a table keeps in memory: none, a few (it spills midway), the default, unbounded.
MEMORY = [0, 3, MEMORY_ENTRIES, sys.maxsize]


def scan_of(
    *blocks: list[bytes], prefix: bytes = b"__label__", memory_entries: int = MEMORY_ENTRIES
) -> Scan:
    scan = Scan(prefix, memory_entries=memory_entries)
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
    built, _ = Vocabulary.build(scan, min_count=1, min_count_label=0)
    assert built.words == ["b", "a", "</s>", "c"]
    assert built.word_counts == [2, 2, 2, 2]


def assert_same_table(mine: TokenTable, expected: TokenTable) -> None:
    assert mine.keys == expected.keys
    assert mine.occurrences.tolist() == expected.occurrences.tolist()
    assert mine.lengths.tolist() == expected.lengths.tolist()
    assert mine.counts().tolist() == expected.counts().tolist()


@pytest.mark.parametrize("memory_entries", MEMORY)
@pytest.mark.parametrize("cut", [0, 1, 2, 3])
def test_blocks_do_not_change_the_tables(cut: int, memory_entries: int) -> None:
    lines = [b"__label__x one two", b"", b"two three __label__y", b"one"]
    whole = scan_of(lines)
    parts = scan_of(lines[:cut], lines[cut:], memory_entries=memory_entries)
    assert_same_table(parts.words, whole.words)
    assert_same_table(parts.labels, whole.labels)
    assert parts.nlines == 4 and parts.unlabelled_lines == 2
    # Words, labels and one `</s>` per line.
    assert parts.ntokens == sum(len(line.split()) + 1 for line in lines)


@pytest.mark.parametrize("memory_entries", MEMORY)
def test_appending_a_written_scan_equals_scanning_on(
    monkeypatch: pytest.MonkeyPatch, memory_entries: int
) -> None:
    """Whether the written scan's lines and the receiving scan's lines wait in memory or in a
    temporary file; written and appended in blocks of two ids."""
    monkeypatch.setattr(scan_module, "_BLOCK", 2)
    first = [b"__label__x one two", b"two three"]
    second = [b"", b"three four __label__y __label__x", b"five one"]
    whole = scan_of(first, second)
    theirs = scan_of(second, memory_entries=memory_entries)
    buffer = io.BytesIO()
    theirs.write(buffer)
    buffer.seek(0)
    appended = scan_of(first, memory_entries=memory_entries)
    appended.append(buffer)
    assert buffer.read() == b""  # all that was written was read, no more
    assert_same_table(appended.words, whole.words)
    assert_same_table(appended.labels, whole.labels)
    spills = memory_entries < whole.words.lines.entries
    assert appended.words.lines.spilled == theirs.words.lines.spilled == spills
