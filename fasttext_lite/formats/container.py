"""The model file: a JSON header and raw little-endian arrays, every byte checksummed, versioned.

Layout: 8-byte magic, uint64 header length, the SHA-256 of the header (32 bytes), the UTF-8
JSON header, then each array at the offset the header gives (64-byte aligned, zero padding in
between), nothing after the last one. The header names every array with its dtype, shape,
offset, byte count and SHA-256. Reading checks all of that against the file's real size before
allocating anything, so a damaged or hostile file is refused with `ModelFileError`; nothing is
ever unpickled. Writing is atomic: a temporary file in the same directory, fsync, then rename,
so an existing model is replaced whole or not at all. The preamble (magic, length, header hash)
stays the same in every format version, so a newer file is recognised as such.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import ModelFileError
from fasttext_lite.files import reading

MAGIC = b"FTLITE\x00\x01"
FORMAT_NAME = "fasttext_lite"
# Format 2 adds uint8 arrays (a quantized model's codes); a model without them is still
# written as format 1, so that older fasttext_lite reads it.
FORMAT_VERSION = 2
_BYTE_DTYPES = {"|u1"}
_PREAMBLE = struct.Struct("<8sQ32s")  # magic, header length, SHA-256 of the header
_ALIGN = 64
# A header holds the vocabulary; this bounds what a corrupt length field can make us read.
_MAX_HEADER_BYTES = 1 << 31
_MAX_NDIM = 8
_DTYPES = {"<f4", "<f8", "<i8", "<i4", *_BYTE_DTYPES}
_ENTRY_KEYS = {"dtype", "shape", "offset", "nbytes", "sha256"}
# fastText's own model files start with this int32 (`FASTTEXT_FILEFORMAT_MAGIC_INT32`).
FASTTEXT_BIN_MAGIC = struct.pack("<i", 793712314)
_RETRY = "copy it again or retrain with `ftl train`"


def check_writable(path: str | Path) -> None:
    """Raise `ModelFileError` unless a model could be saved at `path`: called before a long
    training, so that a typo in the output path costs nothing."""
    path = Path(path)
    directory = path.parent
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory; give a file name for the model")
    if path.exists() and not path.is_file():
        # Renaming over a device such as /dev/full would replace the device itself.
        raise ModelFileError(f"{path}: is not a regular file; give a file name for the model")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: directory {directory} does not exist; create it first")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ModelFileError(f"{path}: directory {directory} is not writable; write elsewhere")


def is_model(path: str | Path) -> bool:
    """Whether `path` starts as a model file does: ftl's or fastText's (`.bin`, `.ftz`)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(MAGIC))
    except OSError:
        return False
    return start.startswith(MAGIC) or start.startswith(FASTTEXT_BIN_MAGIC)


def is_fasttext(path: str | Path) -> bool:
    """Whether `path` starts as fastText's `.bin` and `.ftz` files do."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(FASTTEXT_BIN_MAGIC)) == FASTTEXT_BIN_MAGIC
    except OSError:
        return False  # the loader that follows says what is wrong


def check_replaceable(path: str | Path, *, inputs: tuple[str | Path, ...], force: bool) -> None:
    """Raise `ModelFileError` if writing a model to `path` would destroy data: an input of the
    same run (also through a link), or, unless `force`, a file that is not a model."""
    path = Path(path)
    if not path.is_file():
        return
    for given in inputs:
        with contextlib.suppress(OSError):
            if os.path.samefile(path, given):
                raise ModelFileError(
                    f"{path}: is the input {given}; write the model to another file"
                )
    if not force and path.stat().st_size > 0 and not is_model(path):
        raise ModelFileError(
            f"{path}: exists and is not a model; choose another output, or add --force to"
            " replace it"
        )


def save(
    path: str | Path, header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
) -> None:
    """Write `header` and `arrays` to `path` atomically."""
    path = Path(path)
    check_writable(path)
    _write_atomically(path, _Encoded.of(header, arrays))


def dumps(header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> bytes:
    """The bytes `save` would write (for pickling a model through the checked format)."""
    buffer = io.BytesIO()
    _Encoded.of(header, arrays).write(buffer)
    return buffer.getvalue()


def encoded_size(header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> int:
    """The bytes `save` would write, without hashing or copying the arrays."""
    head, data_start, blobs, entries = _encode(header, arrays, hashed=False)
    ends = [data_start + int(e["offset"]) + int(e["nbytes"]) for e in entries.values()]
    return max([len(head), *ends])


class _Encoded(NamedTuple):
    """A model file's bytes, ready to write: preamble and header, then the arrays."""

    head: bytes
    data_start: int
    blobs: Mapping[str, npt.NDArray[Any]]
    entries: Mapping[str, Mapping[str, Any]]

    @classmethod
    def of(cls, header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> _Encoded:
        return cls(*_encode(header, arrays))

    def write(self, handle: IO[bytes]) -> None:
        handle.write(self.head)
        for name, blob in self.blobs.items():
            handle.write(b"\0" * (self.data_start + self.entries[name]["offset"] - handle.tell()))
            handle.write(blob.data)


def _encode(
    header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]], *, hashed: bool = True
) -> tuple[bytes, int, dict[str, npt.NDArray[Any]], dict[str, dict[str, Any]]]:
    """The preamble and header, where the data starts, the arrays and their entries; without
    `hashed`, the entries' digests are placeholders of the same length (for sizes only)."""
    blobs = dict(arrays)
    if hashed:  # the bytes as written: contiguous, little-endian
        blobs = {
            name: np.ascontiguousarray(a, a.dtype.newbyteorder("<")) for name, a in arrays.items()
        }
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, blob in blobs.items():
        entries[name] = {
            "dtype": blob.dtype.newbyteorder("<").str,
            "shape": list(blob.shape),
            "offset": offset,  # relative to the data start, fixed up below
            "nbytes": blob.nbytes,
            "sha256": hashlib.sha256(blob.data).hexdigest() if hashed else "0" * 64,
        }
        offset = _aligned(offset + blob.nbytes)
    version = 2 if any(e["dtype"] in _BYTE_DTYPES for e in entries.values()) else 1
    full = {"format": FORMAT_NAME, "format_version": version, **header, "arrays": entries}
    # The data start depends on the header's length, which depends on the offsets in it:
    # reserve digits by fixing up until the length is stable.
    data_start = 0
    while True:
        encoded = _encode_header(full, data_start, entries)
        if _aligned(_PREAMBLE.size + len(encoded)) <= data_start:
            break
        data_start = _aligned(_PREAMBLE.size + len(encoded))
    preamble = _PREAMBLE.pack(MAGIC, len(encoded), hashlib.sha256(encoded).digest())
    return preamble + encoded, data_start, blobs, entries


def _encode_header(
    full: dict[str, Any], data_start: int, entries: dict[str, dict[str, Any]]
) -> bytes:
    shifted = {name: {**e, "offset": e["offset"] + data_start} for name, e in entries.items()}
    return json.dumps({**full, "arrays": shifted}, ensure_ascii=True).encode("ascii")


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _write_atomically(path: Path, encoded: _Encoded) -> None:
    directory = path.parent
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
            dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise _unwritable(path, error) from None
    try:
        with handle:
            encoded.write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException as error:  # Ctrl-C included: never leave a temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from None
        raise
    # Make the rename itself durable; not every system can fsync a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _unwritable(path: Path, error: OSError) -> ModelFileError:
    return ModelFileError(
        f"{path}: cannot write the model ({error.strerror or error}); any earlier file there"
        " is unchanged"
    )


Arrays = dict[str, npt.NDArray[Any]]


def load(path: str | Path, *, mmap: bool = False) -> tuple[dict[str, Any], Arrays]:
    """Read a model file: its header (without `arrays`) and its verified arrays. With `mmap`,
    the arrays are read-only memory maps of the file, so that processes loading the same
    file share its pages (they are still read once, for their checksums)."""
    with _open(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        header, layout = _read_header(path, handle, size)
        arrays = _read_arrays(path, handle, layout)
    if mmap:
        arrays = {
            name: np.memmap(path, dtype=entry["dtype"], mode="r", offset=entry["offset"],
                            shape=tuple(entry["shape"]))
            if entry["nbytes"] else arrays[name]
            for name, entry in layout
        }  # fmt: skip
    return header, arrays


def loads(data: bytes, name: str = "<bytes>") -> tuple[dict[str, Any], Arrays]:
    """`load` from the bytes of a model file (as `dumps` gives them)."""
    handle = io.BytesIO(data)
    header, layout = _read_header(name, handle, len(data))
    return header, _read_arrays(name, handle, layout)


def _read_arrays(
    path: str | Path, handle: BinaryIO, layout: list[tuple[str, dict[str, Any]]]
) -> Arrays:
    arrays = {}
    position = handle.tell()
    for name, entry in layout:
        padding = handle.read(entry["offset"] - position)
        if padding.strip(b"\0"):
            raise _bad(path, f"the padding before array {name!r} is not zero (it is corrupt)")
        arrays[name] = _read_array(path, handle, name, entry)
        position = entry["offset"] + entry["nbytes"]
    return arrays


def read_header(path: str | Path) -> dict[str, Any]:
    """The verified header of a model file, `arrays` included, without reading the arrays."""
    with _open(path) as handle:
        header, layout = _read_header(path, handle, os.fstat(handle.fileno()).st_size)
    return {**header, "arrays": dict(layout)}


def _open(path: str | Path) -> contextlib.AbstractContextManager[BinaryIO]:
    return reading(path, ModelFileError, kind="model file", missing="train one with `ftl train`")


def _bad(path: str | Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path}: not a valid fasttext_lite model: {what}; {_RETRY}")


def _read_header(
    path: str | Path, handle: BinaryIO, size: int
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The header without `arrays`, and the arrays' entries in file order, all checked
    against the file's `size`."""
    preamble = handle.read(_PREAMBLE.size)
    if not preamble:
        raise ModelFileError(f"{path}: is empty, not a model; train one with `ftl train`")
    if preamble[:4] == FASTTEXT_BIN_MAGIC:
        raise ModelFileError(
            f"{path}: is a fastText model, not an ftl container; load it with"
            " FastTextClassifier.load (or give it to any ftl command)"
        )
    if not preamble.startswith(MAGIC):
        raise ModelFileError(
            f"{path}: is not a fasttext_lite model (it lacks the format's magic bytes); give a"
            " file written by `ftl train`"
        )
    if len(preamble) < _PREAMBLE.size:
        raise _bad(path, "it is truncated")
    _, length, digest = _PREAMBLE.unpack(preamble)
    if length > min(size - _PREAMBLE.size, _MAX_HEADER_BYTES):
        raise _bad(path, f"its header length {length} exceeds the file size {size} (truncated?)")
    raw = handle.read(length)
    if hashlib.sha256(raw).digest() != digest:
        raise _bad(path, "its header fails its checksum (the file is corrupt)")
    try:
        header = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(path, "its header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _bad(path, "its header does not name the fasttext_lite format")
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        raise _bad(path, f"format version {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in model format {version} by a newer fasttext_lite"
            f" (this one reads up to format {FORMAT_VERSION}); upgrade fasttext_lite"
        )
    layout = _check_layout(path, header.pop("arrays", None), _PREAMBLE.size + length, size)
    if version < 2 and any(entry["dtype"] in _BYTE_DTYPES for _, entry in layout):
        raise _bad(path, f"format {version} has no byte arrays")
    return header, layout


def _check_layout(
    path: str | Path, arrays: Any, data_start: int, size: int
) -> list[tuple[str, dict[str, Any]]]:
    """Every array must lie inside the file, after the header, without overlap or slack."""
    if not isinstance(arrays, dict):
        raise _bad(path, "its header lists no arrays")
    end = data_start
    layout = sorted(arrays.items(), key=lambda item: _offset_of(item[1]))
    for name, entry in layout:
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            raise _bad(path, f"array {name!r} is described incompletely")
        dtype, shape, offset, nbytes = (
            entry[key] for key in ("dtype", "shape", "offset", "nbytes")
        )
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise _bad(path, f"array {name!r} has unsupported dtype {dtype!r}")
        # No dimension can exceed the file's size: this bounds what reshape is asked to do.
        if not (
            isinstance(shape, list)
            and len(shape) <= _MAX_NDIM
            and all(type(n) is int and 0 <= n <= size for n in shape)
        ):
            raise _bad(path, f"array {name!r} has an invalid shape {shape!r}")
        if type(offset) is not int or type(nbytes) is not int:
            raise _bad(path, f"array {name!r} has an invalid offset or size")
        if not isinstance(entry["sha256"], str):
            raise _bad(path, f"array {name!r} has an invalid checksum")
        if nbytes != int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize:
            raise _bad(path, f"array {name!r}: {nbytes} bytes do not match shape {shape}")
        if offset < end or offset - end >= _ALIGN or offset + nbytes > size:
            raise _bad(path, f"array {name!r} lies outside its place in the file (truncated?)")
        end = offset + nbytes
    if end != size:
        raise _bad(path, f"the file has {size - end} unexpected bytes at its end")
    return layout


def _offset_of(entry: Any) -> int:
    offset = entry.get("offset") if isinstance(entry, dict) else None
    return offset if type(offset) is int else -1


def _read_array(
    path: str | Path, handle: BinaryIO, name: str, entry: dict[str, Any]
) -> npt.NDArray[Any]:
    raw = handle.read(entry["nbytes"])
    if len(raw) != entry["nbytes"]:  # the file shrank while we read it
        raise _bad(path, f"array {name!r} is truncated")
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        raise _bad(path, f"array {name!r} fails its checksum (the file is corrupt)")
    return np.frombuffer(raw, dtype=entry["dtype"]).reshape(entry["shape"])


def _umask() -> int:
    """The process's umask (only readable by setting it): temporary files are created 0600, and a
    model should get the permissions any new file would."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
