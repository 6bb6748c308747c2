import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from segmentation.common import json_safe
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.store.codec import decode, dumps, encode, loads, result_types
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.rules import Condition, Rule


def round_trip(value):
    return decode(json.loads(json.dumps(encode(value))))


def test_profiles_with_rules_come_back_exactly():
    rule = Rule("age >= 40", coverage=0.8, outsider_share=0.1, precision=0.9,
                conditions=(Condition("age", ">=", 40.0), Condition("plan", "is", "gold")), matched=12)
    numeric = pd.DataFrame({"feature": ["age"], "effect": [1.25], "significant": [True]})
    profile = SegmentProfile(segment=0, size=12, share=0.4, numeric=numeric, categories=numeric.iloc[:0],
                             keywords=("fast", "cheap"), rules=(rule,), value_share=None)
    [back] = round_trip((profile,))
    assert back.rules == (rule,) and back.keywords == ("fast", "cheap") and back.value_share is None
    pd.testing.assert_frame_equal(back.numeric, numeric)
    assert list(back.categories.columns) == ["feature", "effect", "significant"] and back.categories.empty


def test_tuples_keys_arrays_and_timestamps_keep_their_types():
    value = {"pairs": {1: (2, 3)}, "array": np.arange(3, dtype=np.int16), "when": pd.Timestamp("2024-05-01"),
             "missing": pd.NA, "nan": float("nan")}
    back = round_trip(value)
    assert back["pairs"] == {1: (2, 3)} and back["when"] == pd.Timestamp("2024-05-01") and back["missing"] is None
    assert back["array"].dtype == np.int16 and back["array"].tolist() == [0, 1, 2] and math.isnan(back["nan"])


@pytest.mark.parametrize("old_module", ["segmentation.profiling", "segmentation.pipeline", "segmentation.metrics",
                                        "segmentation.understand.profile", None])
def test_a_result_type_is_found_by_its_name_whatever_module_was_stored(old_module):
    stored = {"__dataclass__": "Condition", "fields": {"column": "age", "op": "<", "value": 30}}
    if old_module is not None:
        stored["module"] = old_module
    assert decode(stored) == Condition("age", "<", 30)


def test_unknown_types_are_refused_when_saving_and_when_loading():
    @dataclass(frozen=True)
    class Condition:  # same name as a result type, but not the library's class
        column: str

    with pytest.raises(TypeError, match="not one of the result types a run can store"):
        encode(Condition("age"))
    for stored in ({"__dataclass__": "Popen", "module": "subprocess", "fields": {"args": "ls"}},
                   {"__dataclass__": "StageCache", "module": "segmentation.pipeline", "fields": {}}):
        with pytest.raises(ValueError, match=r"'(Popen|StageCache)' is not one of Segment Studio's result types"):
            decode(stored)
    with pytest.raises(ValueError, match="unknown stored value"):
        decode({"__code__": "print(1)"})


def test_the_registry_holds_every_stored_result_class():
    from segmentation.understand.themes import ThemeProfile

    assert result_types() == {"SegmentProfile": SegmentProfile, "Rule": Rule, "Condition": Condition,
                              "ThemeProfile": ThemeProfile}


def test_plain_json_keeps_nan_and_refuses_objects():
    text = dumps({"silhouette": np.float64("nan"), "n": np.int64(3), "segments": (1, 2)}, "run metrics")
    back = loads(text, "run metrics")
    assert math.isnan(back["silhouette"]) and back["n"] == 3 and back["segments"] == [1, 2]
    assert json_safe({"silhouette": float("nan")}) == {"silhouette": None}  # manifests and model files: unchanged
    with pytest.raises(ConfigError, match="The UI state cannot be saved: only text, numbers"):
        dumps({"figure": object()}, "UI state")
    with pytest.raises(WorkspaceError, match="stored curation steps is damaged"):
        loads("{not json", "curation steps")
