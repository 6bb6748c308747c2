"""The manifest of a model file is checked field by field before use: one clear message naming the field."""

from __future__ import annotations

import copy
import io
import json
import math
import re
import zipfile

import numpy as np
import pytest

from segmentation.act.assign import SegmentModel, load_model
from segmentation.act.model_schema import MANIFEST, check_manifest
from segmentation.act.neighbours import nearest_index, neighbour_votes
from segmentation.cli.main import main
from segmentation.errors import ModelFileError

INF, NAN = math.inf, math.nan
MISSING = object()


def _members(model_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_manifest(model_bytes: bytes, manifest: dict) -> bytes:
    members = _members(model_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))  # Infinity and NaN as JSON writes them
        archive.writestr("arrays.npz", members["arrays.npz"])
    return buffer.getvalue()


def _edited(manifest: dict, path: tuple, value: object) -> dict:
    out = copy.deepcopy(manifest)
    *parents, last = path
    target = out
    for key in parents:
        target = target[key]
    if value is MISSING:
        del target[last]
    else:
        target[last] = value
    return out


@pytest.fixture(scope="module")
def genuine(demo_model):
    data = demo_model.to_bytes()
    return data, json.loads(_members(data)["manifest.json"])


NUMBER_FIELDS = [
    # (path in the manifest, value, the message expected)
    (("training", "rows"), "abc", r"'training\.rows' must be a whole number between 1 and \d+; got 'abc'"),
    (("training", "rows"), -5, r"'training\.rows' must be a whole number between 1 and \d+; got -5"),
    (("training", "rows"), 2000.5, r"'training\.rows' must be a whole number"),
    (("text", "weight"), "abc", r"'text\.weight' must be a number between 0 and 1; got 'abc'"),
    (("text", "weight"), 1.5, r"'text\.weight' must be a number between 0 and 1; got 1\.5"),
    (("text", "weight"), NAN, r"'text\.weight' must be a number between 0 and 1; got NaN"),
    (("segments", 0, "id"), "abc", r"'segments\[0\]\.id' must be a whole number between -1 and \d+; got 'abc'"),
    (("segments", 0, "id"), None, r"'segments\[0\]\.id' must be a whole number .*; got null"),
    (("text", "tfidf_dims"), "abc", r"'text\.tfidf_dims' must be a whole number between 1 and 100000; got 'abc'"),
    (("text", "random_state"), "abc", r"'text\.random_state' must be a whole number between 0 and 4294967295"),
    (("text", "random_state"), -1, r"'text\.random_state' must be a whole number between 0 and 4294967295"),
    (("assign", "distance_floor"), INF, r"'assign\.distance_floor' must be a number above 0; got Infinity"),
    (("assign", "distance_floor"), NAN, r"'assign\.distance_floor' must be a number above 0; got NaN"),
    (("assign", "distance_floor"), -1.0, r"'assign\.distance_floor' must be a number above 0; got -1\.0"),
    (("assign", "distance_floor"), 0, r"'assign\.distance_floor' must be a number above 0; got 0"),
    (("assign", "distance_floor"), "0.1", r"'assign\.distance_floor' must be a number above 0; got '0\.1'"),
    (("assign", "neighbours"), 0, r"'assign\.neighbours' must be a whole number between 1 and 10000; got 0"),
    (("assign", "neighbours"), True, r"'assign\.neighbours' must be a whole number .*; got true"),
    (("assign", "reference_rows"), 2001, r"'assign\.reference_rows' must be at most 'training\.rows' \(2,000\)"),
    (("blocks", "text", "factor"), INF, r"'blocks\.text\.factor' must be a number of at least 0; got Infinity"),
    (("blocks", "structured", "factor"), -1, r"'blocks\.structured\.factor' must be a number of at least 0"),
    (("blocks", "text", "dims"), "128", r"'blocks\.text\.dims' must be a whole number between 0 and 1000000"),
    (("features", "recipe", "scales", 0), 0, r"'features\.recipe\.scales\[0\]' must be a finite number other than 0"),
    (("features", "recipe", "centers", 1), -INF, r"'features\.recipe\.centers\[1\]' must be a finite number; "
                                                 r"got -Infinity"),
    (("features", "cleaning", "numeric", "age", "fill"), INF,
     r"'features\.cleaning\.numeric\[\"age\"\]\.fill' must be a finite number; got Infinity"),
    (("features", "cleaning", "numeric", "age", "clip"), [1.0],
     r"'features\.cleaning\.numeric\[\"age\"\]\.clip' must be a list of 2 item\(s\) or null; got a list of 1"),
    (("training", "unassigned"), 5000, r"'training\.unassigned' must be at most 'training\.rows'"),
    (("segments", 0, "share"), 2, r"'segments\[0\]\.share' must be a number between 0 and 1; got 2"),
]

OTHER_FIELDS = [
    (("text", "used"), "yes", r"'text\.used' must be true or false; got 'yes'"),
    (("text", "mask_pii"), 1, r"'text\.mask_pii' must be true or false; got 1"),
    (("text", "columns"), "review", r"'text\.columns' must be a list of at most [\d,]+ item\(s\); got 'review'"),
    (("text", "model"), None, r"'text\.model' must be a text of at most 1,000 characters; got null"),
    (("columns", "id"), 5, r"'columns\.id' must be a text of at most 10,000 characters or null; got 5"),
    (("segments", 0, "name"), ["x"], r"'segments\[0\]\.name' must be a text .*; got a list of 1 item"),
    (("features", "recipe", "scaling"), "log", r"'features\.recipe\.scaling' must be one of 'standard', 'robust', "
                                               r"'minmax'; got 'log'"),
    (("features", "recipe", "categories"), "abc", r"'features\.recipe\.categories' must be a list"),
    (("segments",), {}, r"'segments' must be a list .*; got an object"),
    (("assign",), [], r"'assign' must be an object; got a list of 0 item"),
    (("assign", "distance_floor"), MISSING, r"manifest lacks 'assign\.distance_floor'"),
    (("text", "colour"), "red", r"manifest has an unknown field 'text\.colour'"),
    (("surprise",), 1, r"manifest has an unknown field 'surprise'"),
    (("segments", 0, "segment_id"), 7, r"'segments\[0\]\.segment_id' must be 1 \(the number of id 0\); got 7"),
]

LENGTH_FIELDS = [
    # lengths that must agree with each other and with the arrays
    (("features", "recipe", "centers"), [1.0, 2.0], r"'features\.recipe\.centers' must hold 7 number\(s\), one per "
                                                    r"numeric column; got 2"),
    (("features", "recipe", "categories"), [["a"]], r"'features\.recipe\.categories' must hold 3 list\(s\)"),
    (("blocks", "structured", "dims"), 23, r"'blocks\.structured\.dims' must be 0 or 24 \(the features of the "
                                           r"recipe\); got 23"),
    (("training", "rows"), 2001, r"array 'training_ids' has shape \(2000,\), but its manifest implies \(2,001\)"),
    (("assign", "reference_rows"), 1000, r"array 'reference_features' has shape \(2000, 152\), but its manifest "
                                         r"implies \(1,000, 152\)"),
    (("blocks", "text", "dims"), 100, r"array 'reference_features' has shape \(2000, 152\), but its manifest "
                                      r"implies \(2,000, 124\)"),
]


@pytest.mark.parametrize(("path", "value", "message"), NUMBER_FIELDS + OTHER_FIELDS + LENGTH_FIELDS,
                         ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else None)
def test_each_manifest_field_is_checked_with_one_message_naming_it(genuine, path, value, message):
    data, manifest = genuine
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(_with_manifest(data, _edited(manifest, path, value)))
    text = str(caught.value)
    assert "\n" not in text and re.match(r"The (uploaded )?model file", text)
    assert "Traceback" not in text


def test_duplicate_segments_and_the_schema_itself(genuine):
    _, manifest = genuine
    twice = _edited(manifest, ("segments",), manifest["segments"] + manifest["segments"][:1])
    with pytest.raises(ModelFileError, match=r"'segments' must list each segment once"):
        check_manifest(twice)
    check_manifest(manifest)  # the genuine manifest fits
    assert set(MANIFEST.fields) == set(manifest)  # every field written is described, and no other


def test_an_infinite_floor_never_reaches_the_vote(demo_model):
    manifest = _edited(dict(demo_model.manifest), ("assign", "distance_floor"), INF)
    with pytest.raises(ModelFileError, match="distance_floor"):
        SegmentModel(manifest, demo_model.arrays)
    reference = demo_model.arrays["reference_features"][:50]
    with pytest.raises(ModelFileError, match="distance floor must be a finite number above 0"):
        neighbour_votes(nearest_index(reference), np.zeros(50), reference[:3], 5, INF)


@pytest.mark.parametrize(("path", "value", "field"), [
    (("training", "rows"), "abc", "training.rows"),
    (("text", "weight"), "abc", "text.weight"),
    (("assign", "distance_floor"), INF, "assign.distance_floor"),
])
def test_assign_command_exits_2_with_one_line_for_a_bad_manifest(genuine, demo, tmp_path, capsys, path, value,
                                                                 field):
    data, manifest = genuine
    model = tmp_path / "edited.segmodel"
    model.write_bytes(_with_manifest(data, _edited(manifest, path, value)))
    customers = tmp_path / "new.csv"
    demo[0].table.head(20).to_csv(customers, index=False)
    code = main(["assign", str(model), str(customers), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert re.search(rf"The model file's '{re.escape(field)}' must be", err)
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "assignments.csv").exists()
