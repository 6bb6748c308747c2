"""The model file: round trip of bytes, and safety against random, foreign, crafted and oversized files."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from segmentation.act.assign import load_model
from segmentation.act.model_file import FORMAT_VERSION, model_file_name
from segmentation.errors import ModelFileError


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(model_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_random_bytes_and_foreign_zips_are_refused(demo_model, tmp_path):
    random_file = tmp_path / "random.segmodel"
    random_file.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(random_file)
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(_zip({"hello.txt": b"hi"}))
    members = _members(demo_model.to_bytes())
    with pytest.raises(ModelFileError, match="unexpected"):
        load_model(_zip({**members, "payload.pkl": pickle.dumps({"x": 1})}))
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.segmodel")
    with pytest.raises(ModelFileError):
        load_model(demo_model.to_bytes()[:5000])  # truncated download


def test_pickled_array_is_refused_without_being_loaded(demo_model):
    members = _members(demo_model.to_bytes())
    arrays = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        genuine = {name[:-4]: np.load(io.BytesIO(archive.read(name))) for name in archive.namelist()}
    # an object array is stored with pickle: loading it could run code
    genuine["reference_labels"] = np.array([object()] * len(genuine["reference_labels"]), dtype=object)
    np.savez(arrays, **genuine)
    with pytest.raises(ModelFileError, match="Python objects"):
        load_model(_zip({"manifest.json": members["manifest.json"], "arrays.npz": arrays.getvalue()}))


def test_zip_bombs_and_oversized_members_are_refused(demo_model):
    members = _members(demo_model.to_bytes())
    bomb = _zip({"manifest.json": members["manifest.json"], "arrays.npz": b"\0" * 20_000_000})
    assert len(bomb) < 100_000  # 20 MB of zeros packs into a few kB
    with pytest.raises(ModelFileError, match="allowed"):
        load_model(bomb, max_bytes=5_000_000)
    huge_manifest = _zip({"manifest.json": b" " * 70_000_000, "arrays.npz": members["arrays.npz"]})
    with pytest.raises(ModelFileError, match="allowed"):
        load_model(huge_manifest)


def test_manifest_version_and_consistency_are_checked(demo_model):
    members = _members(demo_model.to_bytes())
    manifest = json.loads(members["manifest.json"])
    newer = dict(manifest, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="newer Segment Studio"):
        load_model(_zip({"manifest.json": json.dumps(newer).encode(), "arrays.npz": members["arrays.npz"]}))
    tampered = json.loads(members["manifest.json"])
    tampered["blocks"]["structured"]["dims"] += 3
    with pytest.raises(ModelFileError, match="features"):
        load_model(_zip({"manifest.json": json.dumps(tampered).encode(), "arrays.npz": members["arrays.npz"]}))
    with pytest.raises(ModelFileError, match="manifest"):
        load_model(_zip({"manifest.json": b"{not json", "arrays.npz": members["arrays.npz"]}))


def test_manifest_lists_segments_by_label_and_by_the_number_files_use(demo_model):
    manifest = json.loads(_members(demo_model.to_bytes())["manifest.json"])
    segments = {s["id"]: s for s in manifest["segments"]}
    assert segments[0]["segment_id"] == 1 and segments[0]["name"] == "Bargain hunters"
    assert [s["segment_id"] for s in manifest["segments"]] == [s["id"] + 1 for s in manifest["segments"]]


def test_model_file_names_are_safe():
    assert model_file_name("run 3/../x") == "run-3-..-x.segmodel"
    assert model_file_name("///") == "segments.segmodel"
