"""The embedding calibration: fastest agreeing option, rejection, the stored choice, damaged files, the override.

Fake embedders stand in for the real model: each returns fixed vectors and reports how often it ran; their
"speed" is a sleep per call, so the fastest option is known without timing anything in the test itself.
"""

import json
import os
import time

import numpy as np
import pytest

from segmentation.represent import calibrate
from segmentation.represent.calibrate import Measurement, best_option, calibration_texts, fastest, measure

BASE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0]])


class Fake:
    """An embedder returning ``BASE`` rows (cycled), tilted by ``tilt`` radians, after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, tilt: float = 0.0, fails: bool = False) -> None:
        self.delay, self.tilt, self.fails, self.calls = delay, tilt, fails, 0

    def __call__(self, texts):
        self.calls += 1
        if self.fails:
            raise RuntimeError("unsupported operator")
        time.sleep(self.delay)
        rows = BASE[np.arange(len(texts)) % len(BASE)]
        turn = np.array([[np.cos(self.tilt), -np.sin(self.tilt), 0], [np.sin(self.tilt), np.cos(self.tilt), 0],
                         [0, 0, 1]])
        return (rows @ turn.T).astype(np.float32)


@pytest.fixture(autouse=True)
def fresh_process_memory():
    calibrate.forget()
    yield
    calibrate.forget()


TEXTS = ["good fit", "late delivery", "lovely colour", "too small"]


def test_the_choice_is_the_fastest_among_options_that_agree_with_fp32():
    options = {"torch/fp32": Fake(0.03), "torch/bf16": Fake(0.02, tilt=0.01),  # cos 0.99995: agrees
               "openvino/fp32": Fake(0.0), "openvino/bf16": Fake(0.01)}
    measurements = measure(options, TEXTS)
    assert [m.option for m in measurements] == ["torch/fp32", "torch/bf16", "openvino/fp32", "openvino/bf16"]
    assert all(m.agrees for m in measurements)
    assert measurements[0].min_cosine == pytest.approx(1.0)
    assert measurements[1].min_cosine == pytest.approx(np.cos(0.01))
    assert fastest(measurements) == "openvino/fp32"
    assert all(f.calls == 2 for f in options.values())  # one untimed warm-up call, one timed


def test_an_option_that_disagrees_or_fails_is_rejected_however_fast():
    options = {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.01),
               "openvino/bf16": Fake(0.0, tilt=0.1),  # cos 0.995 < 0.999: faster but wrong
               "openvino/fp32": Fake(fails=True)}
    measurements = {m.option: m for m in measure(options, TEXTS)}
    assert not measurements["openvino/bf16"].agrees and measurements["openvino/bf16"].min_cosine < 0.999
    assert measurements["openvino/fp32"].rate is None
    assert measurements["openvino/fp32"].error == "RuntimeError: unsupported operator"
    assert fastest(list(measurements.values())) == "torch/bf16"


def test_nothing_is_chosen_when_the_reference_fails_and_the_caller_keeps_its_default(tmp_path):
    options = {"torch/fp32": Fake(fails=True), "openvino/bf16": Fake()}
    measurements = measure(options, TEXTS)
    assert measurements[1].error == "the reference could not run" and fastest(measurements) is None
    assert best_option("st:model", options, tmp_path / "choice.json", TEXTS) is None
    assert not (tmp_path / "choice.json").exists()


def test_the_choice_is_stored_with_rates_and_versions_and_reused_by_the_next_process(tmp_path):
    path = tmp_path / "embed_backend.json"
    first = {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.0)}
    chosen = best_option("st:model", first, path, TEXTS)
    assert (chosen.backend, chosen.precision) == ("torch", "bf16")
    stored = json.loads(path.read_text())
    entry = next(iter(stored["choices"].values()))
    assert entry["choice"] == "torch/bf16" and entry["key"]["model"] == "st:model"
    assert {"torch", "openvino", "cpu_flags", "cpu_features"} <= set(entry["key"])
    assert [m["option"] for m in entry["measurements"]] == ["torch/fp32", "torch/bf16"]
    assert all(m["rate"] > 0 for m in entry["measurements"])

    calibrate.forget()  # a new process: only the file remembers
    again = {"torch/fp32": Fake(0.0), "torch/bf16": Fake(0.02)}
    assert best_option("st:model", again, path, TEXTS).choice == "torch/bf16"
    assert all(f.calls == 0 for f in again.values())  # nothing measured again
    # within one process the choice is not even re-read
    path.unlink()
    assert best_option("st:model", again, path, TEXTS).choice == "torch/bf16"


def test_another_model_or_other_options_are_measured_separately(tmp_path):
    path = tmp_path / "embed_backend.json"
    best_option("st:model", {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.0)}, path, TEXTS)
    other = {"torch/fp32": Fake(0.0), "torch/bf16": Fake(0.02)}
    assert best_option("st:other-model", other, path, TEXTS).choice == "torch/fp32"
    assert len(json.loads(path.read_text())["choices"]) == 2  # both kept


@pytest.mark.parametrize("damage", [
    "not json at all {",
    json.dumps({"format": 0, "choices": {}}),  # an older format
    json.dumps(["a", "list"]),
    "KEY",  # the right key, but a choice that is not among the agreeing options
    "MISSING",  # the right key without measurements
])
def test_a_damaged_or_old_file_is_ignored_and_measured_again(tmp_path, damage):
    path = tmp_path / "embed_backend.json"
    options = {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.0)}
    key_id = calibrate._key_id(calibrate.machine_key("st:model", list(options)))
    if damage == "KEY":
        damage = json.dumps({"format": 1, "choices": {key_id: {
            "choice": "openvino/bf16", "key": {}, "measurements": [{"option": "torch/fp32", "rate": 1.0}]}}})
    elif damage == "MISSING":
        damage = json.dumps({"format": 1, "choices": {key_id: {"choice": "torch/fp32"}}})
    path.write_text(damage)
    assert best_option("st:model", options, path, TEXTS).choice == "torch/bf16"
    assert all(f.calls == 2 for f in options.values())
    assert json.loads(path.read_text())["format"] == calibrate.FORMAT


def test_a_stored_choice_for_another_machine_or_library_version_is_not_used(tmp_path, monkeypatch):
    path = tmp_path / "embed_backend.json"
    best_option("st:model", {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.0)}, path, TEXTS)
    calibrate.forget()
    monkeypatch.setattr(calibrate, "cpu_flags", lambda: ["sse2"])  # another CPU
    again = {"torch/fp32": Fake(0.0), "torch/bf16": Fake(0.02)}
    assert best_option("st:model", again, path, TEXTS).choice == "torch/fp32"
    assert all(f.calls == 2 for f in again.values())


def test_a_single_option_is_taken_without_measuring(tmp_path):
    only = Fake()
    assert best_option("st:model", {"torch/fp32": only}, tmp_path / "c.json", TEXTS).choice == "torch/fp32"
    assert only.calls == 0


def test_an_unwritable_cache_keeps_the_choice_for_this_process(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    options = {"torch/fp32": Fake(0.02), "torch/bf16": Fake(0.0)}
    assert best_option("st:model", options, blocked / "embed_backend.json", TEXTS).choice == "torch/bf16"


def test_calibration_texts_are_distinct_seeded_and_review_sized():
    texts = calibration_texts()
    assert texts == calibration_texts() and len(set(texts)) == len(texts) == 48
    words = [len(t.split()) for t in texts]
    assert 8 <= min(words) and max(words) <= 100


def test_the_embedder_uses_the_calibrated_option_unless_the_environment_or_caller_chooses(monkeypatch):
    from segmentation.represent import embed as embeddings
    from segmentation.represent.embed import SentenceTransformerEmbedder, default_model_path

    offered = []

    def fake_best(model_id, options, path=None, texts=None):
        offered.append((model_id, sorted(options)))
        return calibrate.Calibration("torch/bf16", (Measurement("torch/bf16", 100.0, 1.0),), {})

    monkeypatch.setattr(calibrate, "best_option", fake_best)
    monkeypatch.setattr(embeddings, "bf16_is_fast", lambda: True)
    monkeypatch.setattr("segmentation.represent.openvino.openvino_available", lambda: True)
    monkeypatch.delenv("SEGMENT_STUDIO_EMBED_BACKEND", raising=False)
    assert SentenceTransformerEmbedder().calibrated() == ("torch", "bf16")
    assert offered[-1][1] == ["openvino/bf16", "openvino/fp32", "torch/bf16", "torch/fp32"]
    # the same model folder by another name shares the calibration, so it embeds exactly the same way
    SentenceTransformerEmbedder(os.path.realpath(default_model_path()) + "/").calibrated()
    assert offered[-1][0] == offered[0][0] == "st:" + os.path.realpath(default_model_path())
    assert not SentenceTransformerEmbedder().uses_openvino()  # installed, but measured slower here
    assert SentenceTransformerEmbedder(backend="openvino").uses_openvino()
    # an explicit backend or precision, or the environment variable, is obeyed without calibrating
    assert SentenceTransformerEmbedder(backend="openvino").calibrated() is None
    assert SentenceTransformerEmbedder(precision="fp32").calibrated() is None
    monkeypatch.setenv("SEGMENT_STUDIO_EMBED_BACKEND", "openvino")
    assert SentenceTransformerEmbedder().calibrated() is None
    # without bf16 units or OpenVINO only the options that exist are offered
    monkeypatch.delenv("SEGMENT_STUDIO_EMBED_BACKEND")
    monkeypatch.setattr(embeddings, "bf16_is_fast", lambda: False)
    monkeypatch.setattr("segmentation.represent.openvino.openvino_available", lambda: False)
    SentenceTransformerEmbedder().calibrated()
    assert offered[-1][1] == ["torch/fp32"]


def test_a_failing_calibration_leaves_the_default(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(calibrate, "machine_key", broken)
    assert best_option("st:model", {"torch/fp32": Fake(), "torch/bf16": Fake()}, tmp_path / "c.json") is None
