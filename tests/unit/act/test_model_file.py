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


# --------------------------------------------------------------------------- crafted files: refused, nothing run
def _npz(members: dict[str, bytes]) -> bytes:
    return _zip(members)


class _Payload:
    """Unpickling this would create ``marker``: proof that a pickle ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickles_anywhere_in_a_model_file_are_refused_and_never_run(demo_model, tmp_path):
    marker = tmp_path / "pickle-ran"
    members = _members(demo_model.to_bytes())
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        inner = {name: archive.read(name) for name in archive.namelist()}
    payload = io.BytesIO()
    np.save(payload, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    crafted = {
        "object array": {**members, "arrays.npz": _npz({**inner, "training_labels.npy": payload.getvalue()})},
        "raw pickle as an array": {**members, "arrays.npz": _npz({**inner, "training_ids.npy":
                                                                 pickle.dumps(_Payload(str(marker)))})},
        "pickle as the manifest": {**members, "manifest.json": pickle.dumps(_Payload(str(marker)))},
        "pickle as the arrays": {**members, "arrays.npz": pickle.dumps(_Payload(str(marker)))},
        "pickle beside them": {**members, "model.pkl": pickle.dumps(_Payload(str(marker)))},
    }
    messages = {
        "object array": "Python objects", "raw pickle as an array": "not an array",
        "pickle as the manifest": "unreadable manifest", "pickle as the arrays": "damaged",
        "pickle beside them": r"not a Segment Studio model \(unexpected: 'model.pkl'\)",
    }
    for case, files in crafted.items():
        with pytest.raises(ModelFileError, match=messages[case]):
            load_model(_zip(files))
        assert not marker.exists(), case


@pytest.mark.parametrize("name", ["../manifest.json", "/etc/manifest.json", "sub/../manifest.json",
                                  "manifest.json/../../x"])
def test_member_names_that_climb_out_are_refused_and_nothing_is_written(demo_model, tmp_path, name):
    members = _members(demo_model.to_bytes())
    before = sorted(tmp_path.parent.iterdir())
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(_zip({name: members["manifest.json"], "arrays.npz": members["arrays.npz"]}))
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        inner = {n: archive.read(n) for n in archive.namelist()}
    inner["../" + "reference_features.npy"] = inner.pop("reference_features.npy")
    with pytest.raises(ModelFileError, match="unexpected array member '../reference_features.npy'"):
        load_model(_zip({"manifest.json": members["manifest.json"], "arrays.npz": _npz(inner)}))
    assert sorted(tmp_path.parent.iterdir()) == before  # a model file is read, never extracted


def test_extra_and_duplicate_members_are_refused(demo_model):
    members = _members(demo_model.to_bytes())
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        inner = {n: archive.read(n) for n in archive.namelist()}
    with pytest.raises(ModelFileError, match="unexpected array member 'extra.npy'"):
        load_model(_zip({**members, "arrays.npz": _npz({**inner, "extra.npy": inner["training_labels.npy"]})}))
    with pytest.raises(ModelFileError, match="unexpected"):
        load_model(_zip({**members, "README.txt": b"hello"}))
    doubled = io.BytesIO()
    with zipfile.ZipFile(doubled, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in [*members.items(), ("manifest.json", members["manifest.json"])]:
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(doubled.getvalue())


@pytest.mark.parametrize("keep", [0.0, 0.001, 0.01, 0.25, 0.5, 0.9, 0.999])
def test_truncated_files_are_refused_with_a_clear_message(demo_model, tmp_path, keep):
    data = demo_model.to_bytes()
    path = tmp_path / "cut.segmodel"
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="not a Segment Studio model|damaged|cut short"):
        load_model(path)


@pytest.mark.parametrize(("version", "message"), [
    (0, "no valid format version"), (-1, "no valid format version"), ("1", "no valid format version"),
    (1.0, "no valid format version"), (True, "no valid format version"), (None, "no valid format version"),
    (FORMAT_VERSION + 1, "newer Segment Studio"), (10**9, "newer Segment Studio"),
])
def test_wrong_format_versions_are_refused(demo_model, version, message):
    members = _members(demo_model.to_bytes())
    manifest = dict(json.loads(members["manifest.json"]), format_version=version)
    with pytest.raises(ModelFileError, match=message):
        load_model(_zip({"manifest.json": json.dumps(manifest).encode(), "arrays.npz": members["arrays.npz"]}))
    del manifest["format_version"]
    with pytest.raises(ModelFileError, match="no valid format version"):
        load_model(_zip({"manifest.json": json.dumps(manifest).encode(), "arrays.npz": members["arrays.npz"]}))


def test_a_model_file_is_read_in_place_and_round_trips(demo_model, tmp_path):
    path = demo_model.save(tmp_path / "m.segmodel")
    again = load_model(path)
    assert again.manifest == demo_model.manifest
    for name, array in demo_model.arrays.items():
        np.testing.assert_array_equal(again.arrays[name], array)
        assert again.arrays[name].dtype == array.dtype
    assert load_model(path.read_bytes()).to_bytes() == path.read_bytes()


def test_array_headers_that_lie_are_refused_before_anything_is_allocated(demo_model):
    members = _members(demo_model.to_bytes())
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        inner = {n: archive.read(n) for n in archive.namelist()}

    def with_terms(header: dict, body: bytes = b"") -> bytes:
        member = io.BytesIO()
        np.lib.format.write_array_header_1_0(member, header)
        npz = _npz({**inner, "tfidf_terms.npy": member.getvalue() + body})
        return _zip({"manifest.json": members["manifest.json"], "arrays.npz": npz})

    cases = {
        "negative shape": ({"descr": "<U4", "fortran_order": False, "shape": (-1,)}, b"", "has shape"),
        "more rows than bytes": ({"descr": "<U4", "fortran_order": False, "shape": (10**6,)}, b"", "declares"),
        "huge texts": ({"descr": "<U100000000", "fortran_order": False, "shape": (1,)}, b"", "characters"),
        "wide numbers": ({"descr": "<c16", "fortran_order": False, "shape": (1,)}, bytes(16), "complex128 values"),
        "objects": ({"descr": "|O", "fortran_order": False, "shape": (1,)}, b"", "Python objects"),
    }
    for case, (header, body, message) in cases.items():
        with pytest.raises(ModelFileError, match=message) as caught:
            load_model(with_terms(header, body))
        assert "\n" not in str(caught.value), case
    bad_magic = _npz({**inner, "tfidf_terms.npy": b"\x93NUMPX" + inner["tfidf_terms.npy"][6:]})
    with pytest.raises(ModelFileError, match="not an array"):
        load_model(_zip({"manifest.json": members["manifest.json"], "arrays.npz": bad_magic}))
    long_header = _npz({**inner, "tfidf_terms.npy": b"\x93NUMPY\x02\x00" + (10**9).to_bytes(4, "little")})
    with pytest.raises(ModelFileError, match="header of 1,000,000,000 bytes"):
        load_model(_zip({"manifest.json": members["manifest.json"], "arrays.npz": long_header}))
