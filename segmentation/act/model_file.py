"""The model file: what a saved segmentation model holds on disk, and how it is read safely.

The model file is a zip with exactly two members:

- ``manifest.json``: the format name and version, the run configuration, column
  roles, the cleaning and feature recipes, the text settings, the blend factors,
  the segments (``id``: the label the arrays use, from 0; ``segment_id``: the
  number people and files use, from 1, -1 for Unassigned; name, description,
  size), and library versions; plain JSON, described field by field by ``MANIFEST``.
- ``arrays.npz``: numeric and fixed-width text arrays (the labelled reference
  customers in the blended space, the training ids and their segments, and the
  TF-IDF vocabulary and matrices when text was embedded with TF-IDF).

No Python object is ever serialised, so loading a model cannot run code:

- arrays are written with ``allow_pickle=False`` and read by hand from their ``.npy``
  header and raw bytes (never ``np.load``); a header that declares Python objects is
  refused before anything is read;
- everything else is JSON, checked against ``MANIFEST`` (types, ranges, finite
  numbers, known fields, lengths that agree) before any of it is used;
- only the two known members (and, inside ``arrays.npz``, only known array
  names) are read; encrypted members, unknown members and unknown compression
  are refused.

Decompression bombs cost no memory: nothing is inflated before it is checked.
Each array's shape must be the one the manifest implies (so a model of 2,000
customers cannot declare a billion), their total must fit ``max_bytes`` and a
quarter of the machine's memory, and above ``RATIO_FREE_BYTES`` they may be at
most ``MAX_RATIO`` times the bytes they take in the file. An array is then read
in 1 MiB pieces straight into its own buffer, and reading stops at the first
byte more or less than declared. Any refusal is one ``ModelFileError``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from segmentation.act.model_schema import check_manifest, expected_shapes
from segmentation.common import json_safe
from segmentation.config import TFIDF_MODEL
from segmentation.errors import ModelFileError

FORMAT = "segment-studio-model"
FORMAT_VERSION = 2
"""Bumped when a change makes older readers misread or refuse a file; readers refuse newer versions with a message
that says to update. 2 added the themes (``themes`` in the manifest, ``reference_themes``); version 1 files still
load and assign segments."""

MANIFEST_MEMBER = "manifest.json"
ARRAYS_MEMBER = "arrays.npz"
MODEL_SUFFIX = ".segmodel"

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""A manifest is a few kB to a few MB (category names, descriptions); more is not a model."""
MAX_MODEL_BYTES = 4 * 1024 * 1024 * 1024
"""Default cap on the decoded size of a model's arrays (and on the file itself)."""
RATIO_FREE_BYTES = 128 * 1024 * 1024
"""Arrays that decode to at most this many bytes in all are read whatever their compression ratio."""
MAX_RATIO = 100
"""Above ``RATIO_FREE_BYTES``, the arrays may decode to at most this many times the bytes they take in the
file. Real models compress 1 to 20 times (reference customers are floats that barely compress); a
decompression bomb of zeros compresses about 1,000 times."""

_ARRAY_NAMES = frozenset({
    "reference_features", "reference_labels", "reference_themes", "training_ids", "training_labels",
    "tfidf_terms", "tfidf_idf", "tfidf_components",
})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no wall-clock time: same model, same bytes
_CHUNK = 1024 * 1024
_MAX_NPY_HEADER = 10_000  # numpy's own limit on an array header
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def model_bytes(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The model file's bytes (a zip of manifest.json and arrays.npz); the same model gives the same bytes."""
    text = json.dumps(json_safe(manifest), indent=1, sort_keys=True, allow_nan=False).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(MANIFEST_MEMBER, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text)
        info = zipfile.ZipInfo(ARRAYS_MEMBER, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_STORED  # its members are compressed already
        archive.writestr(info, _npz_bytes(arrays))
    return buffer.getvalue()


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An npz archive (readable by ``np.load``) written without pickle and without timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array = np.ascontiguousarray(arrays[name])
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


# --------------------------------------------------------------------------- reading
def memory_budget(max_bytes: int = MAX_MODEL_BYTES) -> int:
    """The most bytes a model's arrays may decode to here: ``max_bytes``, and at most a quarter of the memory."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 0
    return min(max_bytes, physical // 4) if physical > 0 else max_bytes


def read_model_file(source: str | os.PathLike | bytes, max_bytes: int = MAX_MODEL_BYTES
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The (manifest, arrays) of a model file (path or bytes); ``SegmentModel`` then checks they fit together.

    Anything damaged, foreign, oversized or crafted raises ``ModelFileError``. ``max_bytes`` caps the file
    and the decoded arrays (see ``memory_budget``); the manifest is checked before any array is decoded.
    """
    path = None if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
    label = "The uploaded model file" if path is None else f"The model file {str(path)!r}"
    if path is not None and not path.is_file():
        raise ModelFileError(f"{label} does not exist. Give the path of a .segmodel file saved from a run.")
    size = len(source) if path is None else path.stat().st_size  # type: ignore[arg-type]
    if size > max_bytes:
        raise ModelFileError(f"{label} is larger than {max_bytes:,} bytes, the most a model file may be.")
    # a file is read where it lies, never copied into memory whole
    with (io.BytesIO(source) if path is None else path.open("rb")) as handle:  # type: ignore[arg-type]
        return _read(handle, size, max_bytes, label)


def _read(handle: IO[bytes], size: int, max_bytes: int, label: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The members of an open model file (``size`` bytes): the manifest, checked, then the arrays it implies."""

    def not_a_model(detail: str = "") -> str:
        return f"{label} is not a Segment Studio model{detail}. Save the model again from the run's Export page or CLI."

    foreign = not_a_model()
    if not zipfile.is_zipfile(handle):
        raise ModelFileError(foreign)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            if sorted(names) != sorted([MANIFEST_MEMBER, ARRAYS_MEMBER]):
                unexpected = sorted(set(names) - {MANIFEST_MEMBER, ARRAYS_MEMBER})
                detail = f" (unexpected: {', '.join(map(repr, unexpected[:5]))})" if unexpected else ""
                raise ModelFileError(not_a_model(detail))
            by_name = {i.filename: i for i in infos}
            manifest = _manifest(_read_member(archive, by_name[MANIFEST_MEMBER], MAX_MANIFEST_BYTES, label),
                                 label, foreign)
            check_manifest(manifest)
            info, budget = by_name[ARRAYS_MEMBER], memory_budget(max_bytes)
            with _npz_stream(archive, handle, info, size, budget, label) as npz:
                arrays = _read_npz(npz, min(info.compress_size, size), expected_shapes(manifest), budget, label)
    except ModelFileError:
        raise
    except MemoryError as exc:
        raise ModelFileError(f"{label} holds arrays too large for this machine's memory.") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError,
            struct.error) as exc:
        raise ModelFileError(f"{label} is damaged ({type(exc).__name__}: {exc}). Save the model again.") from exc
    return manifest, arrays


def _manifest(data: bytes, label: str, foreign: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{label} has an unreadable manifest ({exc}). Save the model again.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(foreign)
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{label} has no valid format version. Save the model again.")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was saved by a newer Segment Studio (model format {version}; this version "
                             f"reads up to {FORMAT_VERSION}). Update Segment Studio to use it.")
    return manifest


def _check_member(info: zipfile.ZipInfo, label: str) -> None:
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{label} holds an encrypted member; model files are never encrypted.")
    if info.compress_type not in _COMPRESSIONS:
        raise ModelFileError(f"{label}: member {info.filename!r} uses an unknown compression "
                             f"({info.compress_type}). The file is damaged or not a model.")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> bytes:
    """A member's bytes, refusing encrypted members and stopping at ``limit`` whatever the header claims."""
    _check_member(info, label)
    if info.file_size > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} would unpack to {info.file_size:,} bytes, more "
                             f"than the {limit:,} allowed. The file is damaged or not a model.")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} unpacks to more than the {limit:,} bytes "
                             "allowed. The file is damaged or not a model.")
    return data


class _Window(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes of ``handle`` from ``start``: a stored member, read in place."""

    def __init__(self, handle: IO[bytes], start: int, size: int) -> None:
        super().__init__()
        self._handle, self._start, self._size, self._pos = handle, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = min(max(base + offset, 0), self._size)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._size - self._pos)
        if count <= 0:
            return 0
        self._handle.seek(self._start + self._pos)
        data = self._handle.read(count)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


def _npz_stream(archive: zipfile.ZipFile, handle: IO[bytes], info: zipfile.ZipInfo, size: int, limit: int,
                label: str) -> IO[bytes]:
    """``arrays.npz`` as a seekable stream, without holding it in memory.

    Stored (as written): a window on the file itself. Compressed (a file zipped again by hand): inflated
    piece by piece into a temporary file, refused first if it would inflate like a bomb.
    """
    _check_member(info, label)
    if info.file_size > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} would unpack to {info.file_size:,} bytes, more "
                             f"than the {limit:,} allowed. The file is damaged or not a model.")
    if info.compress_type == zipfile.ZIP_STORED:
        handle.seek(info.header_offset)
        header = handle.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise ModelFileError(f"{label} is damaged (no header for {ARRAYS_MEMBER}). Save the model again.")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start = info.header_offset + 30 + name_length + extra_length
        if info.file_size != info.compress_size or start + info.file_size > size:
            raise ModelFileError(f"{label} is damaged ({ARRAYS_MEMBER} is cut short). Save the model again.")
        return io.BufferedReader(_Window(handle, start, info.file_size), buffer_size=_CHUNK)
    _check_ratio(info.file_size, min(info.compress_size, size), label)
    spool = tempfile.TemporaryFile()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):  # zipfile stops at the declared size and checks the CRC
            spool.write(chunk)
    spool.seek(0)
    return spool


def _check_ratio(decoded: int, packed: int, label: str) -> None:
    if decoded > RATIO_FREE_BYTES and decoded > MAX_RATIO * max(packed, 1):
        raise ModelFileError(f"{label} would unpack to {decoded:,} bytes from {packed:,}, more than {MAX_RATIO} "
                             "times its size: a decompression bomb, not a model. It was refused before unpacking.")


def _npy_header(stream: IO[bytes], name: str, damaged: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, header bytes) of an ``.npy`` stream, read with bounded reads."""
    magic = stream.read(8)
    if len(magic) != 8 or magic[:6] != b"\x93NUMPY":
        raise ModelFileError(f"{damaged} (array {name!r} is not an array).")
    major = magic[6]
    width = 2 if major == 1 else 4 if major in (2, 3) else 0
    if not width:
        raise ModelFileError(f"{damaged} (unknown array format {major}.{magic[7]}).")
    raw_length = stream.read(width)
    length = int.from_bytes(raw_length, "little") if len(raw_length) == width else -1
    if not 0 < length <= _MAX_NPY_HEADER:
        raise ModelFileError(f"{damaged} (array {name!r} has a header of {length:,} bytes).")
    text = stream.read(length)
    preamble = io.BytesIO(magic + raw_length + text)
    preamble.seek(8)
    reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = reader(preamble)
    return tuple(int(n) for n in shape), bool(fortran_order), dtype, 8 + width + length


def _read_npz(npz: IO[bytes], packed: int, expected: Mapping[str, tuple[int | None, ...]], budget: int,
              label: str) -> dict[str, np.ndarray]:
    """The arrays of an npz stream, each checked (name, type, shape, size, ratio) before it is allocated.

    ``packed`` is how many bytes the arrays take in the file, for the ratio; ``budget`` the most they may decode to.
    """
    damaged = f"{label} has damaged arrays"
    arrays: dict[str, np.ndarray] = {}
    decoded = 0
    with zipfile.ZipFile(npz) as archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else ""
            if name not in _ARRAY_NAMES or name in arrays:
                raise ModelFileError(f"{label} holds an unexpected array member {info.filename!r}; it is not a "
                                     "Segment Studio model.")
            _check_member(info, label)
            with archive.open(info) as stream:
                shape, fortran_order, dtype, header = _npy_header(stream, name, damaged)
                if dtype.hasobject:
                    raise ModelFileError(f"{label}: array {name!r} holds Python objects ({dtype}); model files hold "
                                         "only numbers and text, and this one is refused because loading it could "
                                         "run code.")
                if dtype.kind not in "biufU":
                    raise ModelFileError(f"{label}: array {name!r} holds {dtype} values; model files hold only "
                                         "numbers and text. The file is damaged or not a model.")
                _check_shape(name, shape, dtype, expected.get(name, ()), label)
                size = math.prod(shape) * dtype.itemsize
                if info.file_size != header + size:
                    raise ModelFileError(f"{damaged} (array {name!r} declares {size:,} bytes but its member "
                                         f"holds {info.file_size - header:,}).")
                decoded += size
                if decoded > budget:
                    raise ModelFileError(f"{label} holds arrays of more than {budget:,} bytes, more than this "
                                         "machine allows for a model. It was refused before unpacking.")
                _check_ratio(decoded, packed, label)
                arrays[name] = _read_array(stream, shape, fortran_order, dtype, name, damaged)
    return arrays


def _check_shape(name: str, shape: tuple[int, ...], dtype: np.dtype, want: tuple[int | None, ...],
                 label: str) -> None:
    """``shape`` must have the rank of ``want`` and agree where ``want`` gives a number (from the manifest)."""
    if len(shape) != len(want) or any(s < 0 or (w is not None and s != w) for s, w in zip(shape, want)):
        wanted = "(" + ", ".join("any" if w is None else f"{w:,}" for w in want) + ")"
        raise ModelFileError(f"{label}: array {name!r} has shape {shape}, but its manifest implies {wanted}. "
                             "The file is damaged or was edited; save the model again.")
    if dtype.kind == "U" and dtype.itemsize > 4 * 4096:
        raise ModelFileError(f"{label}: array {name!r} holds texts of {dtype.itemsize // 4:,} characters; ids "
                             "and terms are never that long. The file is damaged or not a model.")
    if dtype.kind != "U" and dtype.itemsize > 8:
        raise ModelFileError(f"{label}: array {name!r} holds {dtype} numbers; a model holds at most 8-byte ones.")


def _read_array(stream: IO[bytes], shape: tuple[int, ...], fortran_order: bool, dtype: np.dtype, name: str,
                damaged: str) -> np.ndarray:
    """Exactly the declared bytes of an array, read piece by piece into its own buffer."""
    array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
    view = memoryview(array.reshape(-1, order="A").view(np.uint8)) if array.size else memoryview(b"")
    done = 0
    while done < len(view):
        chunk = stream.read(min(_CHUNK, len(view) - done))
        if not chunk:
            raise ModelFileError(f"{damaged} (array {name!r} is cut short). Save the model again.")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    if stream.read(1):
        raise ModelFileError(f"{damaged} (array {name!r} holds more than it declares). Save the model again.")
    return array


# --------------------------------------------------------------------------- consistency
def check_model(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Check that the manifest (see ``check_manifest``) and arrays describe one consistent model, else
    ``ModelFileError``."""
    check_manifest(manifest)
    problem = "The model file is damaged or was not written by Segment Studio"
    absent = [k for k in ("reference_features", "reference_labels", "training_ids", "training_labels")
              if k not in arrays]
    if absent:
        raise ModelFileError(f"{problem}: it lacks the arrays {', '.join(absent)}.")
    for name, want in expected_shapes(manifest).items():
        if name in arrays and (arrays[name].ndim != len(want) or any(
                w is not None and s != w for s, w in zip(arrays[name].shape, want))):
            raise ModelFileError(f"{problem}: its array {name!r} has shape {arrays[name].shape}, which does not "
                                 "fit its manifest.")
    blocks, text = manifest["blocks"], manifest["text"]
    reference, labels = arrays["reference_features"], arrays["reference_labels"]
    if reference.ndim != 2 or reference.dtype.kind != "f" or labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ModelFileError(f"{problem}: its reference arrays have the wrong type or shape.")
    if reference.shape[0] != labels.shape[0] or reference.shape[0] == 0:
        raise ModelFileError(f"{problem}: it holds {reference.shape[0]} reference customers but "
                             f"{labels.shape[0]} reference segments.")
    features = blocks["text"]["dims"] + blocks["structured"]["dims"]
    if reference.shape[1] != features:
        raise ModelFileError(f"{problem}: its reference customers have {reference.shape[1]} features, the manifest "
                             f"says {features}.")
    if not np.isfinite(reference).all():
        raise ModelFileError(f"{problem}: its reference customers hold values that are not numbers.")
    unknown = set(np.unique(labels).tolist()) - {s["id"] for s in manifest["segments"]} - {-1}
    if unknown:
        raise ModelFileError(f"{problem}: its reference customers belong to segments it does not describe.")
    _check_themes(manifest, arrays, problem)
    ids, training = arrays["training_ids"], arrays["training_labels"]
    if ids.ndim != 1 or training.ndim != 1 or len(ids) != len(training) or ids.dtype.kind != "U" \
            or training.dtype.kind not in "iu":
        raise ModelFileError(f"{problem}: its training ids and segments do not match.")
    if blocks["text"]["dims"] and str(text["model"]).strip().lower() == TFIDF_MODEL:
        need = ("tfidf_terms", "tfidf_idf", "tfidf_components")
        if any(k not in arrays for k in need):
            raise ModelFileError(f"{problem}: it uses TF-IDF but lacks the TF-IDF vocabulary.")
        terms, idf, components = (arrays[k] for k in need)
        if not (terms.ndim == 1 and idf.shape == terms.shape and components.ndim == 2
                and components.shape == (blocks["text"]["dims"], terms.shape[0]) and terms.dtype.kind == "U"
                and idf.dtype.kind == "f" and components.dtype.kind == "f"
                and np.isfinite(idf).all() and np.isfinite(components).all()):
            raise ModelFileError(f"{problem}: its TF-IDF arrays do not fit together.")


def _check_themes(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray], problem: str) -> None:
    """A model with themes has each reference customer's theme, inside that customer's own segment."""
    if ("themes" in manifest) != ("reference_themes" in arrays):
        raise ModelFileError(f"{problem}: it describes themes without the reference customers' themes, or the "
                             "other way round.")
    if "themes" not in manifest:
        return
    themes, labels = arrays["reference_themes"], arrays["reference_labels"]
    if themes.ndim != 1 or themes.dtype.kind not in "iu" or themes.shape != labels.shape:
        raise ModelFileError(f"{problem}: its reference themes have the wrong type or shape.")
    parent = {t["id"]: t["segment"] for t in manifest["themes"]}
    inside = themes >= 0
    known = np.isin(themes[inside], np.fromiter(parent, dtype=np.int64, count=len(parent)))
    if not known.all():
        raise ModelFileError(f"{problem}: its reference customers belong to themes it does not describe.")
    parents = np.array([parent[int(t)] for t in themes[inside]], dtype=np.int64)
    if (parents != labels[inside]).any():
        raise ModelFileError(f"{problem}: some reference customers have a theme outside their segment.")


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def model_file_name(stem: str) -> str:
    """A safe file name for a model download, e.g. ``run-3.segmodel``."""
    return (_SAFE_NAME.sub("-", stem).strip("-.") or "segments") + MODEL_SUFFIX
