"""No connection leaves loopback while an analyst uses the app: a bare `streamlit run app.py` (settings from
.streamlit/config.toml alone) under the audit hook of tests/net_audit, the demo segmented with the real default
embedding model on a fresh workspace (so the model really loads), every page opened in Chromium with every
request the browser makes recorded."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import REPO_ROOT, goto, nav, start_streamlit, stop_streamlit, wait_for_app
from tests.net_audit.check import HOOK_DIR, outbound, records

CI_VARIABLES = ("CI", "TF_BUILD", "JENKINS_URL", "GITHUB_ACTIONS")
PAGES = ["Data", "Map", "Profiles", "Quality", "Export", "Assign", "Settings"]


@pytest.mark.slow
def test_the_app_and_its_first_real_model_run_stay_on_this_machine(tmp_path: Path, page) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env.update(HOME=str(tmp_path / "home"), SEGMENT_STUDIO_HOME=str(tmp_path / "workspace"),
               NET_AUDIT_LOG=str(tmp_path / "net.jsonl"), PYTHONPATH=os.pathsep.join([str(HOOK_DIR), str(REPO_ROOT)]))
    (tmp_path / "home").mkdir()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    proc, url = start_streamlit(REPO_ROOT / "app.py", REPO_ROOT, env, address=None)
    try:
        goto(page, url, "/")
        page.locator(".st-key-home_demo button").click()
        wait_for_app(page)
        nav(page, "Segment")
        page.locator(".st-key-seg_run button").click()  # the defaults: the real model, UMAP
        page.get_by_text(re.compile(r"Current run: Run \d+")).first.wait_for(timeout=420_000)
        wait_for_app(page)
        for label in PAGES:
            nav(page, label)
    finally:
        stop_streamlit(proc)
    server_log = Path(proc.log_path).read_text(errors="replace")
    os.unlink(proc.log_path)

    seen = records(Path(env["NET_AUDIT_LOG"]))
    assert any(r["event"] == "socket.bind" for r in seen), "the audit hook did not load: the test proves nothing"
    cache = tmp_path / "workspace" / "cache"
    assert (cache / "embeddings.sqlite").exists(), "the real model did not run: the test proves less than it says"
    assert list((cache / "openvino").glob("*.onnx")), "the default OpenVINO path did not run"
    assert outbound(Path(env["NET_AUDIT_LOG"])) == []
    assert not (tmp_path / "home" / "intel").exists(), "OpenVINO's telemetry started"
    assert "External URL" not in server_log and "Network URL" not in server_log, server_log
    hosts = {urlparse(u).hostname for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"localhost", "127.0.0.1"}, f"the browser fetched from {sorted(hosts)}"
