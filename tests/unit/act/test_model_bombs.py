"""Decompression bombs in model files are refused before they are inflated: peak memory stays small.

The bombs are built on disk in a streaming way: a deflate stream of zeros is made of one 16 MiB block
compressed once and repeated (after a full flush each block is independent), so a 1.5 GiB bomb costs the
test a few MB and well under a second. They are loaded in a fresh interpreter that reports its own peak
resident memory (VmHWM); before the fix the same file pushed a process to 5.3 GB.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
CHUNK = 16 * 1024 * 1024
BOMB_BYTES = int(1.5 * 1024**3)
PEAK_LIMIT_MB = 600  # issue 13's target; a child that inflated any of these bombs would pass 1,500 MB

CHILD = r"""
import resource, sys
sys.path.insert(0, sys.argv[1])
from segmentation.act.assign import load_model
from segmentation.errors import ModelFileError
for path in sys.argv[2:]:
    try:
        load_model(path)
        print("loaded")
    except ModelFileError as error:
        print("refused: " + str(error).replace(chr(10), " "))
try:  # this process's own peak: ru_maxrss would also count the parent's memory at the fork
    status = open("/proc/self/status").read()
    print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _deflated(prefix: bytes, zeros: int) -> tuple[bytes, int]:
    """(raw deflate stream, crc32) of ``prefix`` followed by ``zeros`` zero bytes, built without inflating it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [compressor.compress(prefix), compressor.flush(zlib.Z_FULL_FLUSH)]
    chunk = bytes(CHUNK)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(zeros, CHUNK)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(rest), crc)
    parts += [block * count, compressor.compress(bytes(rest)), compressor.flush()]
    return b"".join(parts), crc


def _member(name: str, raw: bytes) -> tuple[str, int, int, int, bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return name, zipfile.ZIP_DEFLATED, zlib.crc32(raw), len(raw), compressor.compress(raw) + compressor.flush()


def _zip(entries: list[tuple[str, int, int, int, bytes]]) -> bytes:
    """A zip of (name, method, crc, inflated size, stored payload) entries, written by hand (no zip64 needed)."""
    out, central = io.BytesIO(), []
    for name, method, crc, size, payload in entries:
        offset, encoded = out.tell(), name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(payload), size,
                              len(encoded), 0) + encoded + payload)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(payload),
                                   size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory, start = b"".join(central), out.tell()
    out.write(directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                                      len(directory), start, 0))
    return out.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _model_with(manifest: dict, arrays: dict[str, np.ndarray], bomb_name: str, shape: tuple[int, ...],
                descr: str) -> bytes:
    """A model file whose array ``bomb_name`` declares ``shape`` and holds zeros, deflated; the rest genuine."""
    entries = []
    for name in sorted(arrays):
        if name == bomb_name:
            header = _npy_header(shape, descr)
            payload, crc = _deflated(header, int(np.prod(shape)) * np.dtype(descr).itemsize)
            entries.append((f"{name}.npy", zipfile.ZIP_DEFLATED, crc,
                            len(header) + int(np.prod(shape)) * np.dtype(descr).itemsize, payload))
        else:
            entries.append(_member(f"{name}.npy", _npy(arrays[name])))
    npz = _zip(entries)
    return _zip([_member("manifest.json", json.dumps(manifest).encode()),
                 ("arrays.npz", zipfile.ZIP_STORED, zlib.crc32(npz), len(npz), npz)])


def test_model_file_bombs_are_refused_before_inflating_with_small_peak_memory(demo_model, tmp_path):
    manifest, arrays = json.loads(json.dumps(demo_model.manifest)), dict(demo_model.arrays)
    rows = BOMB_BYTES // 4

    # 1. the issue's file: a genuine manifest, one array that inflates to 1.5 GiB of zeros
    issue = tmp_path / "issue.segmodel"
    issue.write_bytes(_model_with(manifest, arrays, "training_labels", (rows,), "<i4"))

    # 2. the manifest edited to agree with the bomb: only the compression ratio gives it away
    edited = json.loads(json.dumps(manifest))
    wide = BOMB_BYTES // (4 * arrays["reference_features"].shape[1])
    edited["training"]["rows"] = edited["assign"]["reference_rows"] = wide
    consistent = tmp_path / "consistent.segmodel"
    consistent.write_bytes(_model_with(edited, arrays, "reference_features",
                                       (wide, arrays["reference_features"].shape[1]), "<f4"))

    # 3. arrays.npz itself deflated: a member that inflates to 1.5 GiB
    payload, crc = _deflated(b"", BOMB_BYTES)
    outer = tmp_path / "outer.segmodel"
    outer.write_bytes(_zip([_member("manifest.json", json.dumps(manifest).encode()),
                            ("arrays.npz", zipfile.ZIP_DEFLATED, crc, BOMB_BYTES, payload)]))

    for path in (issue, consistent, outer):
        assert path.stat().st_size < 5_000_000, path.name  # a few MB (the demo arrays) that would inflate to 1.5 GiB
    completed = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(issue), str(consistent), str(outer)],
                               capture_output=True, text=True, timeout=120, check=True)
    *outcomes, peak = completed.stdout.strip().splitlines()
    assert len(outcomes) == 3, completed.stdout
    assert outcomes[0].startswith("refused:") and "'training_labels' has shape (402653184,)" in outcomes[0]
    assert "manifest implies (2,000)" in outcomes[0]
    for outcome in outcomes[1:]:
        assert outcome.startswith("refused:") and "decompression bomb" in outcome, outcome
        assert "refused before unpacking" in outcome
    assert int(peak) < PEAK_LIMIT_MB, f"peak {peak} MB"


def test_a_bomb_within_the_ratio_free_size_is_read_exactly_as_declared(demo_model, tmp_path):
    """Arrays under the ratio-free size load whatever their ratio, and no byte more than declared is read."""
    from segmentation.act.assign import load_model

    manifest, arrays = json.loads(json.dumps(demo_model.manifest)), dict(demo_model.arrays)
    labels = np.zeros(len(arrays["training_labels"]), dtype=np.int32)  # one segment: compresses ~1,000 times
    path = tmp_path / "flat.segmodel"
    path.write_bytes(_model_with(manifest, {**arrays, "training_labels": labels}, "training_labels",
                                 labels.shape, "<i4"))
    model = load_model(path)
    np.testing.assert_array_equal(model.arrays["training_labels"], labels)
    np.testing.assert_array_equal(model.arrays["reference_features"], arrays["reference_features"])
