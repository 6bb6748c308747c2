"""No connection leaves loopback: the CLI's first run with the real embedding model, under an audit hook.

OpenVINO's converter sends a usage event when imported (unless a consent file or a CI variable says no), so the
child runs with a fresh HOME and without CI variables, as on an analyst's laptop.
"""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.net_audit.check import HOOK_DIR, outbound, records

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "demo_customers.csv"
CI_VARIABLES = ("CI", "TF_BUILD", "JENKINS_URL", "GITHUB_ACTIONS")


def laptop_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an analyst's machine: no CI variables, a fresh home folder, the audit hook loaded."""
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env["HOME"] = str(tmp_path / "home")
    env["SEGMENT_STUDIO_HOME"] = str(tmp_path / "workspace")  # nothing cached: the model really loads
    env["NET_AUDIT_LOG"] = str(tmp_path / "net.jsonl")
    env["PYTHONPATH"] = os.pathsep.join([str(HOOK_DIR), str(ROOT)])
    (tmp_path / "home").mkdir()
    return env


@pytest.mark.slow
def test_the_cli_with_the_default_model_opens_no_outbound_connection(tmp_path: Path) -> None:
    sample = tmp_path / "customers.csv"
    pd.read_csv(DEMO).head(80).to_csv(sample, index=False)
    env = laptop_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "segmentation", "run", str(sample), "--text", "review", "--reduce", "pca",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    log = Path(env["NET_AUDIT_LOG"])
    assert log.exists(), "the audit hook did not load: the test proves nothing"
    assert "embed" in (tmp_path / "out" / "manifest.json").read_text()
    assert outbound(log) == []
    # OpenVINO's telemetry keeps a client id under ~/intel once it has started
    assert not (tmp_path / "home" / "intel").exists()


def test_the_audit_hook_records_loopback_and_refuses_anything_else(tmp_path: Path) -> None:
    """The hook itself works, without sending anything: a loopback lookup is recorded and allowed, a lookup of
    a public name and a connect to a documentation address (TEST-NET-1) are refused before they happen."""
    env = laptop_env(tmp_path)
    code = ("import socket\n"
            "socket.getaddrinfo('localhost', 80)\n"
            "for call in (lambda: socket.getaddrinfo('example.com', 443),\n"
            "             lambda: socket.socket().connect(('192.0.2.1', 9))):\n"
            "    try:\n"
            "        call()\n"
            "    except PermissionError:\n"
            "        print('refused')\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["refused", "refused"], done.stderr
    seen = records(Path(env["NET_AUDIT_LOG"]))
    assert [r["args"][0] for r in seen if r["event"] == "socket.getaddrinfo"] == ["localhost", "example.com"]
    assert [r["event"] for r in outbound(Path(env["NET_AUDIT_LOG"]))] == ["socket.getaddrinfo", "socket.connect"]
