"""Shared fixtures: the sample corpus, a small trained model, the cooking data when present."""

from __future__ import annotations

import hashlib
import json
import struct
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from helpers import RewriteHeader

from fasttext_lite import FastTextClassifier
from fasttext_lite.arrays import spool

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
COOKING = ROOT.parent / "shared" / "datasets" / "cooking"


@pytest.fixture(scope="session")
def support_train() -> Path:
    return DATA / "support.train"


@pytest.fixture(scope="session")
def support_valid() -> Path:
    return DATA / "support.valid"


@pytest.fixture(scope="session")
def trained(support_train: Path) -> FastTextClassifier:
    """A small model on the sample corpus: quick to train, good enough to predict sensibly."""
    return FastTextClassifier(
        lr=0.5, epoch=10, dim=20, word_ngrams=2, bucket=10_000, seed=3
    ).fit_file(support_train)


@pytest.fixture(scope="session")
def model_path(trained: FastTextClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "support.ftl"
    trained.save(path)
    return path


@pytest.fixture(scope="session")
def cooking() -> Path:
    """The fastText tutorial data; tests using it are skipped where it is absent."""
    if not (COOKING / "cooking.train").exists():
        pytest.skip(f"cooking data not found at {COOKING}")
    return COOKING


@pytest.fixture
def spill_past(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """A function setting how many ids every spool created without an explicit
    `memory_entries` (a scan's token tables, the lines prepared for training) keeps in memory
    before it moves them to a temporary file."""

    def spill_past(entries: int) -> None:
        monkeypatch.setattr(spool, "MEMORY_ENTRIES", entries)

    return spill_past


@pytest.fixture
def temporary_files(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[bool]]:
    """A function telling, for each temporary file (`tempfile.TemporaryFile`) opened since,
    in order, whether it is still open. The files are not kept alive by it: one that nothing
    refers to any more has been closed."""
    opened: list[weakref.ref[IO[bytes]]] = []
    original = tempfile.TemporaryFile

    def recording(*args: Any, **kwargs: Any) -> IO[bytes]:
        handle: IO[bytes] = original(*args, **kwargs)
        opened.append(weakref.ref(handle))
        return handle

    def still_open() -> list[bool]:
        return [handle is not None and not handle.closed for handle in (r() for r in opened)]

    monkeypatch.setattr(tempfile, "TemporaryFile", recording)
    return still_open


@pytest.fixture(params=["missing", "a-file"])
def unusable_tempdir(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The temporary directory, from now on, is a path where no file can be created: one that
    does not exist, or a regular file."""
    path = tmp_path / "no-tmp"
    if request.param == "a-file":
        path.write_bytes(b"")
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture(scope="session")
def rewrite_header() -> RewriteHeader:
    """A function (source model, destination, edit) -> destination: copies the model with its
    JSON header changed by `edit`, re-encoded with a valid header checksum and the arrays moved
    to stay just after it, so that only what `edit` did is wrong with the file."""

    def rewrite(source: Path, destination: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
        raw = source.read_bytes()
        preamble = struct.Struct("<8sQ32s")
        magic, length, _ = preamble.unpack_from(raw)
        header = json.loads(raw[preamble.size : preamble.size + length])
        old_start = min(entry["offset"] for entry in header["arrays"].values())
        edit(header)
        new_start = 0
        while True:
            shifted = json.loads(json.dumps(header))
            entries = shifted.get("arrays")
            for entry in entries.values() if isinstance(entries, dict) else []:
                if isinstance(entry, dict) and isinstance(entry.get("offset"), int):
                    entry["offset"] += new_start - old_start
            encoded = json.dumps(shifted).encode()
            needed = -(-(preamble.size + len(encoded)) // 64) * 64
            if needed <= new_start:
                break
            new_start = needed
        head = preamble.pack(magic, len(encoded), hashlib.sha256(encoded).digest()) + encoded
        destination.write_bytes(head.ljust(new_start, b"\0") + raw[old_start:])
        return destination

    return rewrite
