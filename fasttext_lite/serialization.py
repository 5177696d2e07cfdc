"""The model file: a JSON header and raw little-endian arrays, checksummed, versioned.

Layout: 8-byte magic, uint64 header length, the UTF-8 JSON header, then each array at the
offset the header gives (64-byte aligned), nothing after the last one. The header names every
array with its dtype, shape, offset, byte count and SHA-256. Reading checks all of that against
the file's real size before allocating anything, so a damaged or hostile file is refused with
`ModelFileError`; nothing is ever unpickled. Writing is atomic: a temporary file in the same
directory, fsync, then rename, so an existing model is replaced whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ModelFileError

MAGIC = b"FTLITE\x00\x01"
FORMAT_NAME = "fasttext_lite"
FORMAT_VERSION = 1
_LENGTH = struct.Struct("<Q")
_PREAMBLE = len(MAGIC) + _LENGTH.size
_ALIGN = 64
# A header holds the vocabulary; this bounds what a corrupt length field can make us read.
_MAX_HEADER_BYTES = 1 << 31
_DTYPES = {"<f4", "<f8", "<i8", "<i4"}
# fastText's own model files start with this int32 (`FASTTEXT_FILEFORMAT_MAGIC_INT32`).
FASTTEXT_BIN_MAGIC = struct.pack("<i", 793712314)


def save(path: str | Path, header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """Write `header` and `arrays` to `path` atomically."""
    path = Path(path)
    blobs = {name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()}
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, blob in blobs.items():
        entries[name] = {
            "dtype": blob.dtype.str,
            "shape": list(blob.shape),
            "offset": offset,  # relative to the data start, fixed up below
            "nbytes": blob.nbytes,
            "sha256": hashlib.sha256(blob.data).hexdigest(),
        }
        offset = _aligned(offset + blob.nbytes)
    full = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **header, "arrays": entries}
    # The data start depends on the header's length, which depends on the offsets in it:
    # reserve digits by fixing up until the length is stable.
    data_start = 0
    while True:
        encoded = _encode_header(full, data_start, entries)
        if _aligned(_PREAMBLE + len(encoded)) <= data_start:
            break
        data_start = _aligned(_PREAMBLE + len(encoded))
    _write_atomically(path, encoded, data_start, blobs, entries)


def _encode_header(full: dict[str, Any], data_start: int, entries: dict[str, dict[str, Any]]) -> bytes:
    shifted = {name: {**e, "offset": e["offset"] + data_start} for name, e in entries.items()}
    return json.dumps({**full, "arrays": shifted}, ensure_ascii=True).encode("ascii")


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _write_atomically(
    path: Path,
    encoded_header: bytes,
    data_start: int,
    blobs: Mapping[str, npt.NDArray[Any]],
    entries: Mapping[str, Mapping[str, Any]],
) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
            dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise ModelFileError(f"{path}: cannot write the model ({error.strerror})") from None
    try:
        with handle:
            handle.write(MAGIC + _LENGTH.pack(len(encoded_header)) + encoded_header)
            for name, blob in blobs.items():
                handle.write(b"\0" * (data_start + entries[name]["offset"] - handle.tell()))
                handle.write(blob.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(error, OSError):
            raise ModelFileError(f"{path}: cannot write the model ({error.strerror})") from None
        raise


def load(path: str | Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Read a model file: its header (without `arrays`) and its verified arrays."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            preamble = handle.read(_PREAMBLE)
            header = _read_header(path, handle.read, size, preamble)
            arrays = {}
            for name, entry in header.pop("arrays").items():
                handle.seek(entry["offset"])
                raw = handle.read(entry["nbytes"])
                if len(raw) != entry["nbytes"]:
                    raise _bad(path, f"array {name!r} is truncated")
                if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                    raise _bad(path, f"array {name!r} fails its checksum (the file is corrupt)")
                arrays[name] = np.frombuffer(raw, dtype=entry["dtype"]).reshape(entry["shape"])
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file; train one with `ftl train`") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, expected a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read ({error.strerror})") from None
    return header, arrays


def _bad(path: str | Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: not a valid fasttext_lite model: {what}")


def _read_header(path: str | Path, read: Any, size: int, preamble: bytes) -> dict[str, Any]:
    if preamble[:4] == FASTTEXT_BIN_MAGIC:
        raise ModelFileError(
            f"{path}: this is a fastText .bin model; fasttext_lite cannot read it"
            " (use the fasttext package, or retrain with `ftl train`)"
        )
    if len(preamble) < _PREAMBLE or preamble[: len(MAGIC)] != MAGIC:
        raise _bad(path, "it does not start with the fasttext_lite magic bytes")
    (length,) = _LENGTH.unpack(preamble[len(MAGIC) :])
    if length > min(size - _PREAMBLE, _MAX_HEADER_BYTES):
        raise _bad(path, f"header length {length} exceeds the file size {size}")
    try:
        header = json.loads(read(length).decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(path, "its header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _bad(path, "its header does not name the fasttext_lite format")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise _bad(path, f"format version {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in model format {version} by a newer fasttext_lite"
            f" (this one reads up to format {FORMAT_VERSION}); upgrade fasttext_lite"
        )
    _check_layout(path, header.get("arrays"), _PREAMBLE + length, size)
    return header


def _check_layout(path: str | Path, arrays: Any, data_start: int, size: int) -> None:
    """Every array must lie inside the file, after the header, without overlap or slack."""
    if not isinstance(arrays, dict):
        raise _bad(path, "its header lists no arrays")
    end = data_start
    for name, entry in sorted(arrays.items(), key=lambda item: _offset_of(item[1])):
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "offset", "nbytes", "sha256"}:
            raise _bad(path, f"array {name!r} is described incompletely")
        dtype, shape, offset, nbytes = entry["dtype"], entry["shape"], entry["offset"], entry["nbytes"]
        if dtype not in _DTYPES:
            raise _bad(path, f"array {name!r} has unsupported dtype {dtype!r}")
        if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise _bad(path, f"array {name!r} has an invalid shape {shape!r}")
        if not all(isinstance(n, int) for n in (offset, nbytes)) or not isinstance(entry["sha256"], str):
            raise _bad(path, f"array {name!r} has an invalid offset or size")
        if nbytes != int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize:
            raise _bad(path, f"array {name!r}: {nbytes} bytes do not match shape {shape}")
        if offset < end or offset - end >= _ALIGN or offset + nbytes > size:
            raise _bad(path, f"array {name!r} lies outside its place in the file")
        end = offset + nbytes
    if end != size:
        raise _bad(path, f"the file has {size - end} unexpected bytes at its end")


def _offset_of(entry: Any) -> int:
    offset = entry.get("offset") if isinstance(entry, dict) else None
    return offset if isinstance(offset, int) else -1
