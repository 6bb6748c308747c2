"""The warm-up: each step once per process, never raising, off the caller's thread, and offline."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from segmentation.represent import warmup
from tests.net_audit.check import HOOK_DIR, outbound

ROOT = Path(__file__).resolve().parents[3]


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


def test_the_pipeline_steps_are_warmed_in_order_embedding_first():
    assert list(warmup.STEPS) == ["embedding", "umap"]


@pytest.mark.slow
def test_the_install_warm_up_fills_the_caches_and_connects_nowhere(tmp_path):
    """``make setup``'s warm-up on an analyst's fresh machine (no workspace, fresh home) under the audit hook:
    exit 0, the ONNX export and the calibration stored in the workspace, no connection beyond loopback."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL", "GITHUB_ACTIONS")}
    env.update(HOME=str(tmp_path / "home"), SEGMENT_STUDIO_HOME=str(tmp_path / "workspace"),
               NET_AUDIT_LOG=str(tmp_path / "net.jsonl"), PYTHONPATH=os.pathsep.join([str(HOOK_DIR), str(ROOT)]))
    (tmp_path / "home").mkdir()
    done = subprocess.run([sys.executable, "-m", "segmentation.represent.warmup"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warm-up done" in done.stdout and "skipped" not in done.stdout, done.stdout + done.stderr[-3000:]
    cache = tmp_path / "workspace" / "cache"
    assert (cache / "embed_backend.json").exists()
    assert list((cache / "openvino").glob("*.onnx"))
    assert Path(env["NET_AUDIT_LOG"]).exists(), "the audit hook did not load: the test proves nothing"
    assert outbound(Path(env["NET_AUDIT_LOG"])) == []
    assert not (tmp_path / "home" / "intel").exists()
