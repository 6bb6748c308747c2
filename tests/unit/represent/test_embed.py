import os
import threading
import time

import numpy as np
import pytest

from segmentation.errors import ConfigError, DataError
from segmentation.represent.embed import (
    EmbeddingCache,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
    default_model_path,
    embed_texts,
    make_embedder,
)

TEXTS = ["The parcel arrived late and damaged", "Late delivery, the box was damaged",
         "Great quality fabric, fits perfectly", "Lovely quality, perfect fit",
         "How do I track my first order?", "Where can I track my order"] * 3


class CountingEmbedder:
    """A stand-in neural embedder that records how many texts it was asked to embed."""

    model_id = "counting"

    def __init__(self):
        self.calls = 0

    def embed(self, texts, on_progress=None):
        self.calls += len(texts)
        return np.array([[len(t), t.count("a") + 1.0] for t in texts], dtype=np.float32)


def test_disk_cache_means_a_second_run_never_re_embeds(tmp_path):
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    embedder = CountingEmbedder()
    first = embed_texts(TEXTS, embedder, cache)
    assert embedder.calls == 6  # each distinct text once
    second = embed_texts(TEXTS, CountingEmbedder(), EmbeddingCache(tmp_path / "e.sqlite"))
    np.testing.assert_array_equal(first, second)
    again = CountingEmbedder()
    embed_texts(TEXTS + ["a new text"], again, cache)
    assert again.calls == 1


def test_two_runs_embedding_the_same_texts_at_once_compute_them_once(tmp_path):
    """The app's warm-up embedding the demo while the analyst's first run starts: the second waits for the
    first's vectors instead of computing the same texts again on the same cores."""

    class SlowEmbedder(CountingEmbedder):
        def embed(self, texts, on_progress=None):
            time.sleep(0.3)
            return super().embed(texts, on_progress)

    cache = EmbeddingCache(tmp_path / "e.sqlite")
    first, second = SlowEmbedder(), SlowEmbedder()
    results = {}
    threads = [threading.Thread(target=lambda name, e: results.update({name: embed_texts(TEXTS, e, cache)}),
                                args=(name, e)) for name, e in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert first.calls + second.calls == 6   # each distinct text once, by whichever run came first
    np.testing.assert_array_equal(results["first"], results["second"])


def test_empty_texts_get_zero_vectors_and_all_empty_is_refused(tmp_path):
    out = embed_texts(["", "hello there"], CountingEmbedder(), None)
    assert not out[0].any() and out[1].any()
    with pytest.raises(DataError, match="empty for every customer"):
        embed_texts(["", "  ", None], CountingEmbedder(), None)


def test_tfidf_groups_similar_texts_and_round_trips_its_state():
    embedder = TfidfEmbedder(dims=4, random_state=0)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]
    restored = TfidfEmbedder.from_state(embedder.state())
    np.testing.assert_allclose(restored.embed(TEXTS), vectors, atol=1e-5)


def test_unknown_model_gives_a_clear_message():
    with pytest.raises(ConfigError, match="could not be loaded.*Models cannot be downloaded"):
        make_embedder("no-such-org/no-such-model").embed(["hello"])


@pytest.mark.slow
def test_default_model_and_the_same_model_as_a_local_folder_agree(tmp_path):
    default = SentenceTransformerEmbedder()
    assert default.model_id == "st:all-MiniLM-L6-v2"
    a = default.embed(TEXTS[:6])
    assert a.shape == (6, 384)
    # any sentence-transformers folder works: use the packaged one by its path
    by_path = make_embedder(default_model_path())
    assert by_path.model_id == default.model_id
    custom = SentenceTransformerEmbedder(os.path.realpath(default_model_path()) + "/")
    b = custom.embed(TEXTS[:6])
    np.testing.assert_allclose(a, b, atol=1e-5)
    sims = a @ a.T
    assert sims[0, 1] > 0.6 > sims[0, 2]


def test_backend_is_checked_and_the_environment_can_choose_it(monkeypatch):
    with pytest.raises(ConfigError, match="backend must be 'auto', 'openvino' or 'torch'"):
        SentenceTransformerEmbedder(backend="tpu")
    monkeypatch.setenv("SEGMENT_STUDIO_EMBED_BACKEND", "torch")
    assert SentenceTransformerEmbedder().backend == "torch"
    assert not SentenceTransformerEmbedder().uses_openvino()
    assert SentenceTransformerEmbedder(backend="openvino").backend == "openvino"  # an explicit choice wins


@pytest.mark.slow
def test_openvino_backend_agrees_with_torch_fp32_and_is_deterministic():
    import sys

    from segmentation.paths import cache_dir

    fast = SentenceTransformerEmbedder(backend="openvino")
    assert fast.uses_openvino()
    reference = SentenceTransformerEmbedder(backend="torch", precision="fp32").embed(TEXTS)
    first = fast.embed(TEXTS)
    assert first.shape == reference.shape and first.dtype == np.float32
    assert (first * reference).sum(axis=1).min() > 0.999
    np.testing.assert_array_equal(first, SentenceTransformerEmbedder(backend="openvino").embed(TEXTS))
    # the export is kept on disk for the next process
    assert list((cache_dir() / "openvino").glob("*.onnx"))
    # only OpenVINO's runtime ran: its converter, whose import starts usage telemetry, cannot even be imported
    assert sys.modules.get("openvino.tools.ovc") is None and sys.modules.get("openvino_telemetry") is None


@pytest.mark.slow
def test_a_model_openvino_cannot_run_falls_back_to_torch(monkeypatch):
    from segmentation.represent import embed as embeddings
    from segmentation.represent import openvino as embed_openvino

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(embed_openvino, "encode", broken)
    monkeypatch.setattr(embeddings, "_OPENVINO_FAILED", set())
    with pytest.raises(ConfigError, match="cannot run on OpenVINO.*torch backend"):
        SentenceTransformerEmbedder(backend="openvino").embed(TEXTS[:2])
    auto = SentenceTransformerEmbedder(backend="auto")
    vectors = auto.embed(TEXTS[:2])
    assert vectors.shape == (2, 384) and not auto.uses_openvino()
