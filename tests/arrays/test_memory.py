"""Handing freed memory back: `release` asks the C library to trim its heap, where it can."""

from __future__ import annotations

import platform

import pytest

from fasttext_lite.arrays import memory


def test_release_asks_the_c_library_to_trim_all_free_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(memory, "_malloc_trim", lambda: trim)
    memory.release()
    assert calls == [0]


def test_release_without_malloc_trim_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    memory.release()  # no error


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibc_malloc_trim_is_found() -> None:
    memory._malloc_trim.cache_clear()
    trim = memory._malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)
