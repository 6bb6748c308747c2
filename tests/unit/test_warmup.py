"""The warm-up: each step once per process, never raising, off the caller's thread, and offline."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from segmentation import warmup
from tests.net_audit.check import HOOK_DIR, outbound

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    monkeypatch.setattr(warmup, "_DONE", set())
    monkeypatch.setattr(warmup, "_THREAD", None)
    monkeypatch.delenv(warmup.WARMUP_ENV, raising=False)


def test_each_step_runs_once_even_when_a_run_asks_for_it_meanwhile():
    calls: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def slow_embedding():
        calls.append("embedding")
        inside.set()
        release.wait(30)

    steps = {"embedding": slow_embedding, "umap": lambda: calls.append("umap")}
    first = threading.Thread(target=warmup.warm_up, args=(steps,))
    first.start()
    assert inside.wait(30)
    second_report = {}
    second = threading.Thread(target=lambda: second_report.update(warmup.warm_up(steps)))
    second.start()  # waits for the first instead of compiling the same things again
    release.set()
    first.join(30)
    second.join(30)
    assert calls == ["embedding", "umap"]
    assert second_report == {}
    assert warmup.warm_up(steps) == {}


def test_a_failing_step_is_reported_and_the_next_still_runs():
    ran = []

    def broken():
        raise RuntimeError("no model here")

    report = warmup.warm_up({"embedding": broken, "umap": lambda: ran.append("umap")})
    assert report["embedding"] == "RuntimeError: no model here"
    assert isinstance(report["umap"], float) and ran == ["umap"]


def test_the_background_start_returns_at_once_and_only_once():
    inside, release = threading.Event(), threading.Event()

    def blocked():
        inside.set()
        release.wait(30)

    thread = warmup.start_in_background({"embedding": blocked})
    assert inside.wait(30)
    assert thread.is_alive() and thread.daemon  # the caller (the app's first page) did not wait for it
    assert warmup.start_in_background({"embedding": blocked}) is thread
    release.set()
    thread.join(30)
    assert not thread.is_alive()


def test_the_environment_can_switch_the_background_warm_up_off(monkeypatch):
    monkeypatch.setenv(warmup.WARMUP_ENV, "0")
    ran = []
    assert warmup.start_in_background({"umap": lambda: ran.append("umap")}) is None
    assert ran == []


def test_the_environment_can_choose_the_steps(monkeypatch):
    monkeypatch.setenv(warmup.WARMUP_ENV, "umap, embedding,nonsense")
    assert list(warmup.chosen_steps()) == ["umap", "embedding"]   # in their own order; unknown names ignored
    monkeypatch.setenv(warmup.WARMUP_ENV, "0")
    assert warmup.chosen_steps() == {}
    monkeypatch.setenv(warmup.WARMUP_ENV, "1")
    assert list(warmup.chosen_steps()) == list(warmup.STEPS)


def test_the_steps_are_warmed_in_the_order_the_analyst_needs_them():
    assert list(warmup.STEPS) == ["umap", "demo", "embedding"]


def test_the_demo_step_skips_a_demo_whose_texts_are_cached(monkeypatch):
    ran = []
    monkeypatch.setattr(warmup, "demo_is_cached", lambda demo=None: True)
    monkeypatch.setattr("segmentation.pipeline.run", lambda *a, **k: ran.append("run"))
    warmup.warm_demo()
    assert ran == []


def test_the_demo_step_segments_the_demo_with_its_default_settings_and_a_private_stage_cache(monkeypatch):
    from segmentation import pipeline

    seen = {}
    monkeypatch.setattr(warmup, "demo_is_cached", lambda demo=None: False)
    monkeypatch.setattr(pipeline, "run", lambda table, config, cache: seen.update(rows=len(table), config=config,
                                                                                   cache=cache))
    warmup.warm_demo()
    assert seen["rows"] == 2000
    assert seen["config"].text.columns == ("review",)   # the demo's reviews are embedded
    assert seen["cache"] is not pipeline.DEFAULT_CACHE   # the analyst's own first run still computes every stage


@pytest.mark.slow
def test_the_install_warm_up_fills_the_caches_and_connects_nowhere(tmp_path, monkeypatch):
    """``make setup``'s (and ``make run``'s) warm-up on an analyst's fresh machine (no workspace, fresh home) under
    the audit hook: exit 0, the ONNX export, the calibration and the demo's embeddings stored in the workspace, no
    connection beyond loopback."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "TF_BUILD", "JENKINS_URL", "GITHUB_ACTIONS", warmup.WARMUP_ENV)}
    env.update(HOME=str(tmp_path / "home"), SEGMENT_STUDIO_HOME=str(tmp_path / "workspace"),
               NET_AUDIT_LOG=str(tmp_path / "net.jsonl"), PYTHONPATH=os.pathsep.join([str(HOOK_DIR), str(ROOT)]))
    (tmp_path / "home").mkdir()
    done = subprocess.run([sys.executable, "-m", "segmentation.warmup"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warm-up done" in done.stdout and "skipped" not in done.stdout, done.stdout + done.stderr[-3000:]
    cache = tmp_path / "workspace" / "cache"
    assert (cache / "embed_backend.json").exists()
    assert list((cache / "openvino").glob("*.onnx"))
    assert "demo" in done.stdout
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", env["SEGMENT_STUDIO_HOME"])
    assert warmup.demo_is_cached()   # the first "Use demo data" run finds its reviews embedded
    assert Path(env["NET_AUDIT_LOG"]).exists(), "the audit hook did not load: the test proves nothing"
    assert outbound(Path(env["NET_AUDIT_LOG"])) == []
    assert not (tmp_path / "home" / "intel").exists()
