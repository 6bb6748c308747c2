"""The model file: what a saved segmentation model holds on disk, and how it is read safely.

The model file is a zip with exactly two members:

- ``manifest.json``: the format name and version, the run configuration, column
  roles, the cleaning and feature recipes, the text settings, the blend factors,
  the segments (``id``: the label the arrays use, from 0; ``segment_id``: the
  number people and files use, from 1, -1 for Unassigned; name, description,
  size), and library versions; plain JSON.
- ``arrays.npz``: numeric and fixed-width text arrays (the labelled reference
  customers in the blended space, the training ids and their segments, and the
  TF-IDF vocabulary and matrices when text was embedded with TF-IDF).

No Python object is ever serialised, so loading a model cannot run code:

- arrays are written with ``allow_pickle=False`` and read with ``np.load(...,
  allow_pickle=False)``; an array header that declares Python objects is
  refused before anything is read;
- everything else is JSON, turned into dataclasses by explicit constructors;
- only the two known members (and, inside ``arrays.npz``, only known array
  names) are read; encrypted members, unknown members and unknown compression
  are refused;
- every member is read with a size cap (declared sizes are checked first, then
  reads stop at the cap whatever the header claims), so a zip bomb costs at most
  the cap; an array's declared shape is checked against its bytes before it is
  allocated;
- the format name and version are checked, and shapes are checked against the
  manifest, so a damaged or foreign file fails with one ``ModelFileError``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.common import json_safe
from segmentation.config import TFIDF_MODEL
from segmentation.errors import ModelFileError
from segmentation.ingest.clean import CleaningRecipe
from segmentation.represent.features import FeatureRecipe

FORMAT = "segment-studio-model"
FORMAT_VERSION = 1
"""Bumped when a change makes older readers misread a file; readers refuse newer versions."""

MANIFEST_MEMBER = "manifest.json"
ARRAYS_MEMBER = "arrays.npz"
MODEL_SUFFIX = ".segmodel"

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MODEL_BYTES = 4 * 1024 * 1024 * 1024
"""Default cap on the decoded size of a model's arrays (and on the file itself)."""

_ARRAY_NAMES = frozenset({
    "reference_features", "reference_labels", "training_ids", "training_labels",
    "tfidf_terms", "tfidf_idf", "tfidf_components",
})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no wall-clock time: same model, same bytes


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


def read_model_file(source: str | os.PathLike | bytes, max_bytes: int = MAX_MODEL_BYTES
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The (manifest, arrays) of a model file (path or bytes); ``SegmentModel`` then checks they fit together.

    Anything damaged, foreign or oversized raises ``ModelFileError``.

    ``max_bytes`` caps the file and the decoded arrays, against zip bombs.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "The uploaded model file"
    else:
        path = Path(source)
        label = f"The model file {str(path)!r}"
        if not path.is_file():
            raise ModelFileError(f"{label} does not exist. Give the path of a .segmodel file saved from a run.")
        if path.stat().st_size > max_bytes:
            raise ModelFileError(f"{label} is larger than {max_bytes:,} bytes, the most a model file may be.")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ModelFileError(f"{label} is larger than {max_bytes:,} bytes, the most a model file may be.")
    foreign = f"{label} is not a Segment Studio model. Save the model again from the run's Export page or CLI."
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(foreign)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            if sorted(names) != sorted([MANIFEST_MEMBER, ARRAYS_MEMBER]):
                unexpected = sorted(set(names) - {MANIFEST_MEMBER, ARRAYS_MEMBER})
                detail = f" (unexpected: {', '.join(map(repr, unexpected[:5]))})" if unexpected else ""
                raise ModelFileError(foreign + detail)
            by_name = {i.filename: i for i in infos}
            manifest_bytes = _read_member(archive, by_name[MANIFEST_MEMBER], MAX_MANIFEST_BYTES, label)
            arrays_bytes = _read_member(archive, by_name[ARRAYS_MEMBER], max_bytes, label)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(f"{label} is damaged ({type(exc).__name__}: {exc}). Save the model again.") from exc
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{label} has an unreadable manifest ({exc}). Save the model again.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(foreign)
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{label} has no valid format version. Save the model again.")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was saved by a newer Segment Studio (model format {version}; this version "
                             f"reads up to {FORMAT_VERSION}). Update Segment Studio to use it.")
    return manifest, _read_npz(arrays_bytes, max_bytes, label)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> bytes:
    """A member's bytes, refusing encrypted members and stopping at ``limit`` whatever the header claims."""
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{label} holds an encrypted member; model files are never encrypted.")
    if info.file_size > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} would unpack to {info.file_size:,} bytes, more "
                             f"than the {limit:,} allowed. The file is damaged or not a model.")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} unpacks to more than the {limit:,} bytes "
                             "allowed. The file is damaged or not a model.")
    return data


def _read_npz(data: bytes, limit: int, label: str) -> dict[str, np.ndarray]:
    """The arrays of an npz archive, checked member by member before anything is allocated; never unpickles."""
    damaged = f"{label} has damaged arrays"
    arrays: dict[str, np.ndarray] = {}
    budget = limit
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else ""
                if name not in _ARRAY_NAMES or name in arrays:
                    raise ModelFileError(f"{label} holds an unexpected array member {info.filename!r}; it is not a "
                                         "Segment Studio model.")
                raw = _read_member(archive, info, budget, label)
                budget -= len(raw)
                stream = io.BytesIO(raw)
                major, minor = np.lib.format.read_magic(stream)
                if (major, minor) == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                elif (major, minor) in ((2, 0), (3, 0)):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                else:
                    raise ModelFileError(f"{damaged} (unknown array format {major}.{minor}).")
                if dtype.hasobject or dtype.kind not in "biufU":
                    raise ModelFileError(f"{label}: array {name!r} holds Python objects ({dtype}); model files hold "
                                         "only numbers and text, and this one is refused because loading it could "
                                         "run code.")
                declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if declared != len(raw) - stream.tell():
                    raise ModelFileError(f"{damaged} (array {name!r} declares {declared:,} bytes but holds "
                                         f"{len(raw) - stream.tell():,}).")
                arrays[name] = np.load(io.BytesIO(raw), allow_pickle=False)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise ModelFileError(f"{damaged} ({type(exc).__name__}: {exc}). Save the model again.") from exc
    return arrays


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


_REQUIRED_KEYS = ("training", "config", "roles", "columns", "features", "text", "blocks", "assign", "segments")


def check_model(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Check that the manifest and arrays describe one consistent model, else ``ModelFileError``."""
    problem = "The model file is damaged or was not written by Segment Studio"
    missing = [k for k in _REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ModelFileError(f"{problem}: its manifest lacks {', '.join(missing)}.")
    absent = [k for k in ("reference_features", "reference_labels", "training_ids", "training_labels")
              if k not in arrays]
    if absent:
        raise ModelFileError(f"{problem}: it lacks the arrays {', '.join(absent)}.")
    try:
        recipe = FeatureRecipe.from_dict(manifest["features"]["recipe"])
        CleaningRecipe.from_dict(manifest["features"]["cleaning"])
        blocks = manifest["blocks"]
        text_dims, structured_dims = int(blocks["text"]["dims"]), int(blocks["structured"]["dims"])
        float(blocks["text"]["factor"]), float(blocks["structured"]["factor"])
        neighbours = int(manifest["assign"]["neighbours"])
        float(manifest["assign"]["distance_floor"])
        segment_ids = {int(s["id"]) for s in manifest["segments"]}
        for s in manifest["segments"]:
            str(s["name"])
        text = manifest["text"]
        columns = [str(c) for c in text["columns"]]
        bool(text["used"]), str(text["model"]), bool(text["mask_pii"])
        id_column = manifest["columns"]["id"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{problem}: its manifest is incomplete ({type(exc).__name__}: {exc}).") from exc
    numbers = [*recipe.centers, *recipe.scales, *recipe.fill_values, float(blocks["text"]["factor"]),
               float(blocks["structured"]["factor"])]
    for step in CleaningRecipe.from_dict(manifest["features"]["cleaning"]).numeric.values():
        numbers += [step["fill"], *(step["clip"] or [])]
    if not all(math.isfinite(x) for x in numbers) or any(scale == 0 for scale in recipe.scales):
        raise ModelFileError(f"{problem}: its recipe holds numbers that are not finite.")
    if not float(manifest["assign"]["distance_floor"]) > 0:
        raise ModelFileError(f"{problem}: its distance floor must be positive.")
    if id_column is not None and not isinstance(id_column, str):
        raise ModelFileError(f"{problem}: its id column is not a name.")
    reference, labels = arrays["reference_features"], arrays["reference_labels"]
    if reference.ndim != 2 or reference.dtype.kind != "f" or labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ModelFileError(f"{problem}: its reference arrays have the wrong type or shape.")
    if reference.shape[0] != labels.shape[0] or reference.shape[0] == 0:
        raise ModelFileError(f"{problem}: it holds {reference.shape[0]} reference customers but "
                             f"{labels.shape[0]} reference segments.")
    if reference.shape[1] != text_dims + structured_dims:
        raise ModelFileError(f"{problem}: its reference customers have {reference.shape[1]} features, the manifest "
                             f"says {text_dims + structured_dims}.")
    if structured_dims not in (0, len(recipe.feature_names)):
        raise ModelFileError(f"{problem}: the feature recipe gives {len(recipe.feature_names)} features, the "
                             f"manifest says {structured_dims}.")
    if not np.isfinite(reference).all():
        raise ModelFileError(f"{problem}: its reference customers hold values that are not numbers.")
    unknown = set(np.unique(labels).tolist()) - segment_ids - {-1}
    if unknown:
        raise ModelFileError(f"{problem}: its reference customers belong to segments it does not describe.")
    ids, training = arrays["training_ids"], arrays["training_labels"]
    if ids.ndim != 1 or training.ndim != 1 or len(ids) != len(training) or ids.dtype.kind != "U":
        raise ModelFileError(f"{problem}: its training ids and segments do not match.")
    if neighbours < 1:
        raise ModelFileError(f"{problem}: it asks for {neighbours} neighbours.")
    if text_dims and not columns:
        raise ModelFileError(f"{problem}: it has a text block but no text columns.")
    if text_dims and str(text["model"]).strip().lower() == TFIDF_MODEL:
        need = ("tfidf_terms", "tfidf_idf", "tfidf_components")
        if any(k not in arrays for k in need):
            raise ModelFileError(f"{problem}: it uses TF-IDF but lacks the TF-IDF vocabulary.")
        terms, idf, components = (arrays[k] for k in need)
        if not (terms.ndim == 1 and idf.shape == terms.shape and components.ndim == 2
                and components.shape == (text_dims, terms.shape[0]) and terms.dtype.kind == "U"
                and np.isfinite(idf).all() and np.isfinite(components).all()):
            raise ModelFileError(f"{problem}: its TF-IDF arrays do not fit together.")


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def model_file_name(stem: str) -> str:
    """A safe file name for a model download, e.g. ``run-3.segmodel``."""
    return (_SAFE_NAME.sub("-", stem).strip("-.") or "segments") + MODEL_SUFFIX
