"""The model file: round trip, atomic writes, and every way a file can fail to be a model."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import RewriteHeader

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.formats import container


def _arrays() -> dict[str, Any]:
    return {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": np.array([1, -2, 3], dtype=np.int64),
        "empty": np.zeros((0, 5), dtype=np.float64),
    }


def test_round_trip_keeps_header_and_arrays(tmp_path: Path) -> None:
    path = tmp_path / "x.ftl"
    container.save(path, {"words": ["é", "\udcff"], "n": 3}, _arrays())
    header, arrays = container.load(path)
    assert header["format"] == "fasttext_lite"
    assert header["format_version"] == 1  # no byte arrays: readable by format-1 readers
    assert header["words"] == ["é", "\udcff"] and header["n"] == 3
    for name, expected in _arrays().items():
        assert arrays[name].dtype == expected.dtype
        np.testing.assert_array_equal(arrays[name], expected)
    assert container.read_header(path)["arrays"]["a"]["shape"] == [3, 4]


def test_classifier_round_trip_predicts_identically(
    trained: FastTextClassifier, model_path: Path, support_valid: Path
) -> None:
    loaded = FastTextClassifier.load(model_path)
    lines = support_valid.read_bytes().splitlines()
    np.testing.assert_array_equal(loaded.predict_proba(lines), trained.predict_proba(lines))
    assert loaded.top_k(lines, k=2) == trained.top_k(lines, k=2)
    assert loaded.classes_.tolist() == trained.classes_.tolist()
    assert loaded.get_params() == trained.get_params()


def test_saving_is_deterministic_apart_from_the_data(tmp_path: Path) -> None:
    container.save(tmp_path / "1", {"k": 1}, _arrays())
    container.save(tmp_path / "2", {"k": 1}, _arrays())
    assert (tmp_path / "1").read_bytes() == (tmp_path / "2").read_bytes()


def test_every_byte_is_covered_by_a_check(tmp_path: Path) -> None:
    """Flip each byte of a small file in turn: every flip is refused, none loads silently."""
    path = tmp_path / "x.ftl"
    container.save(path, {"words": ["a", "b"]}, _arrays())
    good = path.read_bytes()
    for position in range(len(good)):
        damaged = bytearray(good)
        damaged[position] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(ModelFileError):
            container.load(path)


@pytest.mark.parametrize(
    ("fault", "raised", "message"),
    [
        (OSError(28, "No space left on device"), ModelFileError, "No space left.*unchanged"),
        (KeyboardInterrupt(), KeyboardInterrupt, None),
    ],
    ids=["full-disk", "ctrl-c"],
)
def test_a_failed_or_interrupted_write_keeps_the_earlier_file_and_no_temporary(
    fault: BaseException,
    raised: type[BaseException],
    message: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "model.ftl"
    container.save(path, {"generation": 1}, _arrays())
    before = path.read_bytes()

    def fail(fd: int) -> None:
        raise fault

    monkeypatch.setattr("fasttext_lite.formats.container.os.fsync", fail)
    with pytest.raises(raised, match=message):
        container.save(path, {"generation": 2}, _arrays())
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.ftl"]


@pytest.mark.parametrize("target", ["missing/model.ftl", "dir", "/dev/full", "/dev/null"])
def test_refuses_paths_that_cannot_hold_a_model(tmp_path: Path, target: str) -> None:
    (tmp_path / "dir").mkdir()
    path = tmp_path / target
    with pytest.raises(ModelFileError, match=str(path)):
        container.save(path, {}, _arrays())
    assert not path.is_file()  # a device stays a device


# -- files that are not models ---------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is empty"):
        container.load(_write(tmp_path / "m", b""))


def test_text_file(tmp_path: Path, support_train: Path) -> None:
    with pytest.raises(ModelFileError, match="not a fasttext_lite model"):
        container.load(support_train)


def test_a_fasttext_file_is_pointed_to_the_loader_that_reads_it(tmp_path: Path) -> None:
    data = struct.pack("<ii", 793712314, 12) + bytes(200)
    with pytest.raises(ModelFileError, match=r"is a fastText model.*FastTextClassifier\.load"):
        container.load(_write(tmp_path / "m.bin", data))


def test_a_pickle_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self) -> tuple[Any, ...]:
            return (marker.write_text, ("pwned",))

    path = _write(tmp_path / "m.npz", pickle.dumps(Payload()))
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(path)
    np.save(tmp_path / "m.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(tmp_path / "m.npy")
    assert not marker.exists()


@pytest.mark.parametrize("keep", [10, 47, 60, 1000, -1])
def test_truncated(tmp_path: Path, model_path: Path, keep: int) -> None:
    data = model_path.read_bytes()
    with pytest.raises(ModelFileError, match="truncated|checksum"):
        container.load(_write(tmp_path / "m", data[:keep]))


def test_extra_trailing_bytes(tmp_path: Path, model_path: Path) -> None:
    path = _write(tmp_path / "m", model_path.read_bytes() + b"\n")
    with pytest.raises(ModelFileError, match="1 unexpected bytes at its end"):
        container.load(path)


def test_flipped_bytes_in_header_and_arrays(tmp_path: Path, model_path: Path) -> None:
    data = model_path.read_bytes()
    header = container.read_header(model_path)
    for position, what in [
        (60, "header fails its checksum"),
        (header["arrays"]["input"]["offset"] + 5, "'input' fails its checksum"),
        (len(data) - 1, "checksum"),
    ]:
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        with pytest.raises(ModelFileError, match=what):
            container.load(_write(tmp_path / "m", bytes(damaged)))


def test_header_length_beyond_the_file(tmp_path: Path, model_path: Path) -> None:
    data = bytearray(model_path.read_bytes())
    data[8:16] = struct.pack("<Q", 2**63)
    with pytest.raises(ModelFileError, match="exceeds the file size"):
        container.load(_write(tmp_path / "m", bytes(data)))


def test_byte_arrays_are_format_2_and_refused_in_format_1(tmp_path: Path) -> None:
    path = tmp_path / "q.ftl"
    codes = np.arange(12, dtype=np.uint8).reshape(3, 4)
    container.save(path, {"n": 1}, {"codes": codes})
    header, arrays = container.load(path)
    assert header["format_version"] == 2
    np.testing.assert_array_equal(arrays["codes"], codes)
    data = path.read_bytes()
    old = data.replace(b'"format_version": 2', b'"format_version": 1')
    length = struct.unpack("<Q", old[8:16])[0]
    digest = hashlib.sha256(old[48 : 48 + length]).digest()
    with pytest.raises(ModelFileError, match="format 1 has no byte arrays"):
        container.load(_write(tmp_path / "old", old[:16] + digest + old[48:]))


def test_newer_format_version(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader
) -> None:
    def newer(header: dict[str, Any]) -> None:
        header["format_version"] = container.FORMAT_VERSION + 1

    path = rewrite_header(model_path, tmp_path / "m", newer)
    later = container.FORMAT_VERSION + 1
    with pytest.raises(ModelFileError, match=f"format {later} by a newer fasttext_lite.*upgrade"):
        FastTextClassifier.load(path)


def test_rewritten_header_loads_when_unchanged(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader
) -> None:
    """The helper itself: with no edit the rewritten file is a valid model."""
    path = rewrite_header(model_path, tmp_path / "m", lambda header: None)
    FastTextClassifier.load(path)


def _set(*keys: Any, value: Any) -> Any:
    def edit(header: dict[str, Any]) -> None:
        target = header
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("arrays", "input", "shape", value=[10, 100]), "do not match shape"),
        (_set("arrays", "input", "shape", value=[2**70, 0]), "invalid shape"),
        (_set("arrays", "input", "shape", value=[1] * 40), "invalid shape"),
        (_set("arrays", "input", "shape", value=[True, 3]), "invalid shape"),
        (_set("arrays", "input", "dtype", value="|O"), "unsupported dtype"),
        (_set("arrays", "input", "offset", value=3), "outside its place"),
        (_set("arrays", "input", "nbytes", value="84200"), "invalid offset or size"),
        (_set("arrays", "input", "sha256", value="0" * 64), "fails its checksum"),
        (_set("arrays", "extra", value={"dtype": "<f4"}), "described incompletely"),
        (_set("arrays", value=[]), "lists no arrays"),
        (_set("format", value="numpy"), "does not name the fasttext_lite format"),
        (_set("format_version", value="1"), "not a version number"),
        (_set("format_version", value=True), "not a version number"),
    ],
)
def test_headers_that_disagree_with_the_format(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader, edit: Any, message: str
) -> None:
    path = rewrite_header(model_path, tmp_path / "m", edit)
    with pytest.raises(ModelFileError, match=message):
        FastTextClassifier.load(path)


def test_a_huge_array_size_fails_before_allocating(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader
) -> None:
    def huge(header: dict[str, Any]) -> None:
        entry = header["arrays"]["input"]
        entry["shape"] = [2**15, 2**15]  # each dimension within the file size, the product not
        entry["nbytes"] = 2**30 * 4  # 4 GiB

    path = rewrite_header(model_path, tmp_path / "m", huge)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="outside its place in the file"):
            FastTextClassifier.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * path.stat().st_size + (1 << 20)


def test_a_deeply_nested_header_is_refused(tmp_path: Path) -> None:
    encoded = b"[" * 100_000 + b"]" * 100_000
    head = struct.pack("<8sQ32s", container.MAGIC, len(encoded), hashlib.sha256(encoded).digest())
    with pytest.raises(ModelFileError, match="not valid JSON"):
        container.load(_write(tmp_path / "m", head + encoded))


def test_an_extra_array_is_refused(tmp_path: Path, trained: FastTextClassifier) -> None:
    path = tmp_path / "m"
    trained.save(path)
    header, arrays = container.load(path)
    container.save(path, header, {**arrays, "payload": np.zeros(3, dtype=np.float32)})
    with pytest.raises(ModelFileError, match="contents disagree"):
        FastTextClassifier.load(path)


@pytest.mark.parametrize(
    "edit",
    [
        _set("params", "dim", value=7),
        _set("params", "loss", value=["softmax"]),
        _set("params", "seed", value="x"),
        _set("params", "surprise", value=1),
        _set("words", value=5),
        _set("labels", value=["only", "two"]),
        _set("word_counts", value=["1"]),
        _set("summary", value={"lines": 1}),
    ],
)
def test_header_contents_that_disagree_with_the_arrays(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader, edit: Any
) -> None:
    path = rewrite_header(model_path, tmp_path / "m", edit)
    with pytest.raises(ModelFileError, match="contents disagree"):
        FastTextClassifier.load(path)


def test_a_model_from_before_the_thread_option_loads_with_one_thread(
    tmp_path: Path, model_path: Path, rewrite_header: RewriteHeader
) -> None:
    def older(header: dict[str, Any]) -> None:
        del header["params"]["thread"]

    loaded = FastTextClassifier.load(rewrite_header(model_path, tmp_path / "m", older))
    assert loaded.thread == 1
    np.testing.assert_array_equal(
        loaded.predict_proba(["where is my parcel"]),
        FastTextClassifier.load(model_path).predict_proba(["where is my parcel"]),
    )


def test_the_header_is_json_with_the_documented_fields(model_path: Path) -> None:
    """After the magic, the header's length and its SHA-256: the header, ASCII JSON that any
    JSON reader gives as `read_header` does."""
    raw = model_path.read_bytes()
    preamble = struct.Struct("<8sQ32s")
    magic, length, digest = preamble.unpack_from(raw)
    encoded = raw[preamble.size : preamble.size + length]
    assert magic == container.MAGIC
    assert hashlib.sha256(encoded).digest() == digest
    header = json.loads(encoded.decode("ascii"))
    assert header == container.read_header(model_path)
    assert {"format", "format_version", "ftl_version", "params", "words", "labels"} <= set(header)
    assert set(header["arrays"]) == {"input", "output", "feature_ids"}
