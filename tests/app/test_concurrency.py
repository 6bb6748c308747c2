"""Five analysts at once: each session keeps its own project, data and runs, with no cross-talk.

Each session uploads its own slice of the demo customers (its own rows, name and size), segments it with its
own number of segments, and must then hold only its own: project name, dataset name and digest, customers, run
and stored run id, and its project in the shared workspace holds only what it saved.

AppTest cannot drive sessions from several threads at once: every run installs and then clears one process-wide
mock runtime (``Runtime._instance``), so a session finishing would pull the runtime from under another. Hence two
tests: five processes at once on one workspace (real simultaneity: the workspace index, project creation and
saves race), and five sessions interleaved step by step in one process (shared Streamlit and library caches, as
in one server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.store.workspace import Workspace
from tests.app.test_pages import assert_clean, fresh, open_page, run_fast_segmentation, state

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "demo_customers.csv"
SESSIONS = range(5)


def session_data(number: int) -> tuple[str, bytes, list[str]]:
    """Session ``number``'s file: its own 200 + 20 * number demo customers, named "shop <number>.csv"."""
    demo = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    rows = demo.iloc[number * 300: number * 300 + 200 + 20 * number]
    buffer = StringIO()
    rows.to_csv(buffer, index=False)
    return f"shop {number}.csv", buffer.getvalue().encode(), rows["customer_id"].tolist()


def upload(at: AppTest, number: int) -> AppTest:
    name, data, _ids = session_data(number)
    open_page(at, "data")
    at.file_uploader(key="data_upload").set_value((name, data, "text/csv")).run()
    assert_clean(at)
    return at


def segment(at: AppTest, number: int) -> AppTest:
    return run_fast_segmentation(at, n_clusters=2 + number)


def summary(at: AppTest) -> dict[str, object]:
    """What the session holds, as JSON."""
    dataset = state(at, "dataset")
    [run] = state(at, "runs")
    links = state(at, "links")
    return {"project": state(at, "project"), "dataset": dataset.name, "digest": dataset.digest,
            "customers": [str(v) for v in dataset.table["customer_id"]], "run_key": run.run_id,
            "current_run": state(at, "current_run"), "segments": int(run.result.n_segments),
            "run_customers": [str(v) for v in run.result.row_ids], "run_digest": run.result.data_digest,
            "dataset_id": links["dataset_id"], "stored_run": links["runs"].get(run.run_id)}


def assert_own_work(summaries: dict[int, dict], root: Path) -> None:
    """Every session holds its own data and run, and the workspace holds exactly the five projects they made."""
    for number, held in summaries.items():
        name, data, ids = session_data(number)
        assert held["project"]["name"] == name.removesuffix(".csv") and held["dataset"] == name
        assert held["customers"] == ids and held["run_customers"] == ids
        assert held["run_digest"] == held["digest"] and held["current_run"] == held["run_key"]
        assert held["segments"] == 2 + number
        assert (held["dataset_id"], held["stored_run"]) == (1, 1)  # each in its own project
    assert len({held["digest"] for held in summaries.values()}) == len(SESSIONS)
    assert len({held["project"]["id"] for held in summaries.values()}) == len(SESSIONS)

    workspace = Workspace(root)
    assert sorted(info.name for info in workspace.list_projects()) == [f"shop {n}" for n in SESSIONS]
    for number, held in summaries.items():
        project = workspace.open_project(held["project"]["id"])
        [dataset] = project.datasets()
        [run] = project.runs()
        assert (project.name, dataset.name, dataset.digest) == (f"shop {number}", f"shop {number}.csv",
                                                                held["digest"])
        assert (run.n_customers, run.n_segments) == (200 + 20 * number, 2 + number)
        assert project.load_run(run.id).row_ids.tolist() == held["customers"]
        assert project.integrity_check() == "ok"


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One workspace shared by the five sessions, and by nothing else."""
    folder = tmp_path / "workspace"
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(folder))
    return folder


ONE_SESSION = """
import json, sys
from tests.app.test_concurrency import segment, summary, upload
from tests.app.test_pages import fresh

number = int(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # all five start their sessions together
print(json.dumps(summary(segment(upload(fresh(), number), number))), flush=True)
"""


def test_five_sessions_at_the_same_time_each_keep_their_own_project_data_and_run(root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = {number: subprocess.Popen([sys.executable, "-c", ONE_SESSION, str(number)], cwd=ROOT, env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True) for number in SESSIONS}
    try:
        for process in processes.values():  # every interpreter has imported Streamlit and the app's modules
            assert process.stdout.readline().strip() == "ready", process.communicate()[1]
        for process in processes.values():
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = {number: process.communicate(timeout=240) for number, process in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    for number, (_out, err) in outputs.items():
        assert processes[number].returncode == 0, err
    assert_own_work({number: json.loads(out.splitlines()[-1]) for number, (out, _err) in outputs.items()}, root)


def test_five_sessions_interleaved_in_one_server_share_caches_without_cross_talk(root: Path) -> None:
    sessions = {number: fresh() for number in SESSIONS}
    for number, at in sessions.items():
        upload(at, number)
    for number, at in sessions.items():
        segment(at, number)
    for at in sessions.values():  # every page of every session again, after all the others ran
        open_page(at, "map")
    assert_own_work({number: summary(at) for number, at in sessions.items()}, root)
