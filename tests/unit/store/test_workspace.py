import ast
import json
import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.bundle import write_run
from segmentation.cli.main import main
from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.ingest.read import load_table
from segmentation.paths import cache_dir
from segmentation.pipeline import StageCache, run
from segmentation.represent.embed import EmbeddingCache
from segmentation.store.workspace import Workspace, record_cli_run

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "assets" / "demo_customers.csv"
N_ROWS = 300


@pytest.fixture(scope="module")
def demo():
    """The demo file as loaded, and a fast run (TF-IDF text + PCA + k-means) on its first 300 customers."""
    dataset = load_table(DEMO)
    config = RunConfig(text=TextConfig(columns=("review",), model="tfidf", tfidf_dims=16), blend=BlendConfig(0.3),
                       reduce=ReduceConfig(method="pca", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=4))
    result = run(dataset.table.iloc[:N_ROWS], config, digest=dataset.digest, cache=StageCache())
    return dataset, result


def project_with_run(root, demo, name="Acme", names=None):
    dataset, result = demo
    project = Workspace(root).create_project(name)
    dataset_id = project.add_dataset(dataset)
    run_id = project.save_run(dataset_id, result, names=names)
    return project, dataset_id, run_id


def assert_same_result(expected, actual):
    for field in ("labels", "confidence", "coords", "embedding", "features", "row_ids"):
        a, b = getattr(expected, field), getattr(actual, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert actual.texts.tolist() == expected.texts.tolist()
    pd.testing.assert_frame_equal(actual.table, expected.table)
    assert actual.config == expected.config and actual.data_digest == expected.data_digest
    assert dict(actual.roles) == dict(expected.roles) and actual.feature_names == expected.feature_names
    assert json.dumps(actual.metrics, sort_keys=True) == json.dumps(expected.metrics, sort_keys=True)  # NaN-aware
    assert dict(actual.timings) == dict(expected.timings) and actual.notes == expected.notes
    assert dict(actual.feature_recipe) == dict(expected.feature_recipe) and actual.version == expected.version
    assert len(actual.profiles) == len(expected.profiles)
    for a, b in zip(expected.profiles, actual.profiles):
        assert (a.segment, a.size, a.share, a.name, a.keywords) == (b.segment, b.size, b.share, b.name, b.keywords)
        pd.testing.assert_frame_equal(a.numeric, b.numeric)
        pd.testing.assert_frame_equal(a.categories, b.categories)
    assert (expected.text_state is None) == (actual.text_state is None)
    if expected.text_state is not None:
        assert set(actual.text_state) == set(expected.text_state)
        for key, value in expected.text_state.items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(actual.text_state[key], value), key
            else:
                assert actual.text_state[key] == value, key


# ------------------------------------------------------------------------------------------------ round trip
def test_a_project_comes_back_exactly_after_a_restart(tmp_path, demo):
    dataset, result = demo
    root = tmp_path / "ws"
    project = Workspace(root).create_project("Spring campaign")
    dataset_id = project.add_dataset(dataset, {"age": "categorical"})
    assert project.add_dataset(dataset) == dataset_id  # same digest: kept once, overrides untouched
    run_id = project.save_run(dataset_id, result, names={0: "Loyal big spenders"})
    project.set_segment_text(run_id, 1, name="Bargain hunters", description="Wait for discounts", notes="Q3 promo")
    project.set_segment_text(run_id, 0, notes="VIP mailing")  # the name given at save time stays
    project.set_run_note(run_id, "first try, k=4")
    project.set_curation(run_id, [{"action": "merge", "segments": [2, 3]}])
    model_id = project.save_model_bytes(run_id, "spring.segmodel", b"\x00opaque model\xff")
    updated = Workspace(root).project_info("Spring campaign").updated
    project.set_ui_state({"page": "Profiles", "run_id": run_id, "widgets": {"k": 4, "show_noise": False}})
    assert Workspace(root).project_info("Spring campaign").updated == updated  # moving around is not a change
    with pytest.raises(ConfigError, match="only text, numbers"):
        project.set_ui_state({"figure": object()})

    # "restart": a new Workspace object on the same folder, the project opened by name in another case
    again = Workspace(root).open_project("SPRING CAMPAIGN")
    loaded = again.load_run(run_id)
    assert_same_result(result, loaded)
    assert again.segment_texts(run_id) == {
        0: {"name": "Loyal big spenders", "description": "", "notes": "VIP mailing"},
        1: {"name": "Bargain hunters", "description": "Wait for discounts", "notes": "Q3 promo"},
    }
    assert again.segment_names(run_id) == {0: "Loyal big spenders", 1: "Bargain hunters"}
    assert again.curation(run_id) == [{"action": "merge", "segments": [2, 3]}]
    assert again.load_model_bytes(model_id) == b"\x00opaque model\xff"
    assert [(m.run_id, m.name, m.size_bytes) for m in again.models()] == [(run_id, "spring.segmodel", 14)]
    assert again.ui_state() == {"page": "Profiles", "run_id": run_id, "widgets": {"k": 4, "show_noise": False}}

    stored = again.load_dataset(dataset_id)
    pd.testing.assert_frame_equal(stored.table, dataset.table)
    assert (stored.name, stored.digest) == (dataset.name, dataset.digest)
    assert stored.report.summary_lines() == dataset.report.summary_lines()
    [info] = again.datasets()
    assert (info.n_rows, info.role_overrides, list(info.summary)) == (2000, {"age": "categorical"},
                                                                      dataset.report.summary_lines())

    [run_info] = again.runs()
    assert (run_info.id, run_info.dataset_id, run_info.algorithm, run_info.n_segments, run_info.n_customers) == (
        run_id, dataset_id, "kmeans", 4, N_ROWS)
    assert run_info.silhouette == pytest.approx(result.metrics["silhouette"]) and run_info.note == "first try, k=4"
    [listed] = Workspace(root).list_projects()
    assert (listed.name, listed.n_datasets, listed.n_runs, listed.damaged) == ("Spring campaign", 1, 1, None)
    assert listed.best_run == (run_id, pytest.approx(result.metrics["silhouette"]))
    assert listed.size_bytes == again.size_bytes() > 0

    # exports of the reloaded run are byte for byte those of the original
    names = again.segment_names(run_id)
    before = write_run(result, tmp_path / "before", names)
    after = write_run(loaded, tmp_path / "after", names)
    for key in ("customers", "profiles", "metrics", "config", "manifest"):
        assert Path(after[key]).read_bytes() == Path(before[key]).read_bytes(), key


def test_a_run_on_a_changed_table_keeps_its_own_table(tmp_path, demo):
    dataset, result = demo
    project, dataset_id, plain_id = project_with_run(tmp_path, demo)
    changed = replace(result, table=result.table.assign(age=result.table["age"] + 1))
    changed_id = project.save_run(dataset_id, changed)
    pd.testing.assert_frame_equal(project.load_run(changed_id).table, changed.table)
    pd.testing.assert_frame_equal(project.load_run(plain_id).table, result.table)
    own_tables = sorted(p.parent.name for p in (project.folder / "runs").glob("*/table.parquet"))
    assert len(own_tables) == 1  # the unchanged run keeps only row positions into the dataset


def _set_stored_modules(value, module_of):
    """Write ``module_of[class name]`` as the "module" of every stored dataclass, as earlier versions did."""
    if isinstance(value, dict):
        if "__dataclass__" in value:
            value["module"] = module_of(value["__dataclass__"])
        for item in value.values():
            _set_stored_modules(item, module_of)
    elif isinstance(value, list):
        for item in value:
            _set_stored_modules(item, module_of)


def test_a_run_saved_before_the_library_moved_still_loads(tmp_path, demo):
    """Runs saved before the move named each result class's module (profiles, rules and conditions in
    "segmentation.profiling"); the class name alone picks the type, so moving a class breaks no workspace."""
    project, _dataset_id, run_id = project_with_run(tmp_path, demo)
    [folder] = (project.folder / "runs").iterdir()
    path = folder / "profiles.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    names = set()
    _set_stored_modules(stored, lambda name: names.add(name) or "segmentation.profiling")
    assert names == {"SegmentProfile", "Rule", "Condition"}  # every stored class is exercised
    path.write_text(json.dumps(stored), encoding="utf-8")

    loaded = project.load_run(run_id)
    assert_same_result(demo[1], loaded)
    assert [p.rules for p in loaded.profiles] == [p.rules for p in demo[1].profiles]
    assert any(p.rules for p in loaded.profiles)

    # a class name this version does not know is refused, whatever module it claims
    text = path.read_text(encoding="utf-8").replace('"__dataclass__": "Rule"', '"__dataclass__": "Popen"', 1)
    path.write_text(text.replace('"segmentation.profiling"', '"subprocess"'), encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"profiles of run 1 .* damaged or from another version .*'Popen'"):
        project.load_run(run_id)


# ------------------------------------------------------------------------------------------------ projects
def test_project_names_are_checked_and_unique_regardless_of_case(tmp_path):
    workspace = Workspace(tmp_path)
    for bad, message in [("", "must not be empty"), ("   ", "must not be empty"), ("x" * 81, "at most 80"),
                         ("two\nlines", "line breaks")]:
        with pytest.raises(ConfigError, match=message):
            workspace.create_project(bad)
    workspace.create_project("Acme")
    with pytest.raises(WorkspaceError, match="'Acme' already exists"):
        workspace.create_project("  ACME ")
    beta = workspace.create_project("Beta")
    with pytest.raises(WorkspaceError, match="already exists"):
        workspace.rename_project("beta", "acme")
    workspace.rename_project("acme", "ACME")  # a change of case only is allowed
    workspace.rename_project("Beta", "Gamma")
    assert sorted(p.name for p in workspace.list_projects()) == ["ACME", "Gamma"]
    assert workspace.open_project(beta.id).name == "Gamma" == beta.name
    with pytest.raises(WorkspaceError, match="no project called 'Beta'.*'ACME', 'Gamma'"):
        workspace.open_project("Beta")
    assert list(tmp_path.joinpath("projects").iterdir()) and workspace.tidy(min_age_s=0) == 0


def test_a_duplicate_is_independent_and_delete_frees_the_folder(tmp_path, demo):
    dataset, result = demo
    workspace = Workspace(tmp_path)
    original, dataset_id, run_id = project_with_run(tmp_path, demo, "Original", names={0: "Loyal"})
    copy = workspace.duplicate_project("original", "Copy")
    copy.set_segment_text(run_id, 0, name="Renamed in the copy")
    assert original.segment_names(run_id) == {0: "Loyal"}
    assert copy.segment_names(run_id) == {0: "Renamed in the copy"}
    assert np.array_equal(copy.load_run(run_id).labels, result.labels)

    folder, size = original.folder, workspace.project_info("Original").size_bytes
    assert size > 100_000  # the dataset's Parquet and the run's arrays
    assert workspace.delete_project("ORIGINAL") == size
    assert not folder.exists()
    assert [p.name for p in workspace.list_projects()] == ["Copy"]
    assert [p.name for p in (tmp_path / "projects").iterdir()] == [copy.id]  # nothing left behind
    assert np.array_equal(copy.load_run(run_id).labels, result.labels)  # the copy does not share its files
    with pytest.raises(WorkspaceError, match="no project called 'Original'"):
        workspace.open_project("Original")


def test_record_cli_run_creates_the_project_and_keeps_the_dataset_once(tmp_path, demo):
    dataset, result = demo
    workspace = Workspace(tmp_path)
    first = record_cli_run(workspace, "Nightly", dataset, result)
    second = record_cli_run(workspace, "nightly", dataset, result)
    project = workspace.open_project("Nightly")
    assert len(project.datasets()) == 1 and [r.id for r in project.runs()] == [first, second] == [1, 2]


# ------------------------------------------------------------------------------------------------ concurrency
def _concurrent_writer(root, project_id, who, n, barrier):
    """Saves ``n`` runs and writes ``n`` segment names on run 1, all at the same time as the other writers."""
    project = Workspace(root).open_project(project_id)
    result = project.load_run(1)
    barrier.wait()
    for i in range(n):
        project.save_run(1, result, names={0: f"{who}-{i}"})
        project.set_segment_text(1, 100 * who + i, name=f"{who}-{i}", notes="written concurrently")
        project.set_ui_state({"writer": who, "step": i})


def test_two_threads_and_two_processes_write_to_one_project_without_losing_anything(tmp_path, demo):
    project, _dataset_id, _run_id = project_with_run(tmp_path, demo)
    n = 3
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(5, timeout=120)
    processes = [context.Process(target=_concurrent_writer, args=(str(tmp_path), project.id, who, n, barrier))
                 for who in (1, 2)]
    errors = []

    def in_thread(who):
        try:
            _concurrent_writer(tmp_path, project.id, who, n, barrier)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=in_thread, args=(who,)) for who in (3, 4)]
    for worker in (*processes, *threads):
        worker.start()
    barrier.wait()
    for thread in threads:
        thread.join(120)
    for process in processes:
        process.join(120)
    assert not errors and [p.exitcode for p in processes] == [0, 0]

    again = Workspace(tmp_path).open_project("Acme")
    runs = again.runs()
    assert [r.id for r in runs] == list(range(1, 2 + 4 * n))
    expected = {f"{who}-{i}" for who in (1, 2, 3, 4) for i in range(n)}
    assert {again.segment_names(r.id)[0] for r in runs[1:]} == expected
    texts = again.segment_texts(1)
    assert {texts[100 * who + i]["name"] for who in (1, 2, 3, 4) for i in range(n)} == expected
    assert again.integrity_check() == "ok"
    with sqlite3.connect(again.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert np.array_equal(again.load_run(runs[-1].id).labels, demo[1].labels)
    assert again.ui_state()["writer"] in (1, 2, 3, 4)


# ------------------------------------------------------------------------------------------------ crashes
KILLED_SAVE = """
import sys, time
from pathlib import Path
from segmentation.store.project import Project
from segmentation.store.workspace import Workspace

root, marker, where = sys.argv[1:4]

def stall(*args, **kwargs):
    Path(marker).write_text("files written")
    time.sleep(300)

if where == "before-commit":
    Project._commit_run = stall
else:  # inside the write transaction, after the run row is inserted and before COMMIT
    Project._touch = stall
project = Workspace(root).open_project("Acme")
project.save_run(1, project.load_run(1), names={0: "never saved"})
"""


@pytest.mark.parametrize("where", ["before-commit", "inside-transaction"])
def test_a_save_killed_halfway_leaves_the_project_as_it_was(tmp_path, demo, where):
    project, dataset_id, run_id = project_with_run(tmp_path, demo, names={0: "Loyal"})
    run_folders = {p.name for p in (project.folder / "runs").iterdir()}
    marker = tmp_path / "marker"
    process = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(tmp_path), str(marker), where], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "the save never reached the commit"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)

    again = Workspace(tmp_path).open_project("Acme")
    assert [r.id for r in again.runs()] == [run_id]
    assert again.segment_texts(run_id) == {0: {"name": "Loyal", "description": "", "notes": ""}}
    assert again.integrity_check() == "ok"
    [leftover] = [p for p in (again.folder / "runs").iterdir() if p.name not in run_folders]
    assert (leftover / "arrays.npz").is_file()  # killed after every file was written
    assert again.tidy() == 0  # too young: it could be another window's save in progress
    assert again.tidy(min_age_s=0) > 0 and not leftover.exists()
    assert {p.name for p in (again.folder / "runs").iterdir()} == run_folders
    # the killed writer held no lock that outlives it
    assert again.save_run(dataset_id, demo[1]) == 2


# ------------------------------------------------------------------------------------------------ damage
def test_a_damaged_project_is_listed_as_damaged_and_the_others_still_work(tmp_path, demo, capsys):
    good, _dataset_id, run_id = project_with_run(tmp_path, demo, "Good")
    bad = Workspace(tmp_path).create_project("Bad")
    bad.db_path.write_bytes(b"this is not a database at all " * 200)

    infos = {info.name: info for info in Workspace(tmp_path).list_projects()}
    assert re.search(r"'Bad' is damaged: .*project\.sqlite is not a readable", infos["Bad"].damaged)
    assert "Other projects are not affected" in infos["Bad"].damaged
    assert (infos["Good"].damaged, infos["Good"].n_runs) == (None, 1)
    with pytest.raises(WorkspaceError, match="'Bad' is damaged"):
        Workspace(tmp_path).open_project("Bad")
    assert np.array_equal(Workspace(tmp_path).open_project("Good").load_run(run_id).labels, demo[1].labels)
    assert cli(["projects", "--workspace", str(tmp_path)]) == 0
    assert re.search(r"Bad .*DAMAGED: ", capsys.readouterr().out)
    Workspace(tmp_path).delete_project("Bad")
    assert [info.name for info in Workspace(tmp_path).list_projects()] == ["Good"]

    # a damaged run file, or one that would need pickle to read, is refused; the rest of the project works
    arrays = next((good.folder / "runs").iterdir()) / "arrays.npz"
    arrays.write_bytes(b"garbage")
    with pytest.raises(WorkspaceError, match=f"run {run_id} of project 'Good' is damaged"):
        good.load_run(run_id)
    np.savez(arrays, rows=np.array([object()], dtype=object))
    with pytest.raises(WorkspaceError, match="damaged.*never read with pickle"):
        good.load_run(run_id)
    assert [r.id for r in good.runs()] == [run_id]


def test_foreign_files_are_left_alone_and_foreign_databases_reported(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.create_project("Real")
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / "projects" / "README.md").write_text("not ours")
    (tmp_path / "projects" / "holiday photos").mkdir()
    (tmp_path / "projects" / "holiday photos" / "beach.jpg").write_bytes(b"\xff\xd8\xff")
    fake = workspace.create_project("Fake")
    fake.db_path.unlink()
    with sqlite3.connect(fake.db_path) as db:  # some other application's database
        db.execute("CREATE TABLE invoices (id INTEGER)")

    infos = {info.name: info for info in Workspace(tmp_path).list_projects()}
    assert infos["Real"].damaged is None
    assert "is not a Segment Studio database" in infos["Fake"].damaged
    assert workspace.tidy(min_age_s=0) == 0
    assert (tmp_path / "projects" / "holiday photos" / "beach.jpg").exists() and (tmp_path / "notes.txt").exists()

    # the index itself overwritten: it is set aside and rebuilt from the project folders
    (tmp_path / "workspace.sqlite").write_bytes(b"garbage " * 500)
    rebuilt = Workspace(tmp_path)
    assert rebuilt.repaired and "rebuilt from the project folders" in rebuilt.repaired
    assert sorted(info.name for info in rebuilt.list_projects()) == ["Damaged project " + fake.id, "Real"]
    assert list(tmp_path.glob("workspace.sqlite.damaged-*"))


def test_a_project_saved_by_a_newer_version_is_refused_clearly(tmp_path):
    workspace = Workspace(tmp_path)
    future = workspace.create_project("Future")
    with sqlite3.connect(future.db_path) as db:
        db.execute("PRAGMA user_version = 99")
    [info] = workspace.list_projects()
    assert "saved by a newer Segment Studio (storage version 99" in info.damaged
    with pytest.raises(WorkspaceError, match="Update Segment Studio"):
        workspace.open_project("Future")


# ------------------------------------------------------------------------------------------------ CLI
def cli(argv):
    """The real command line, as ``python -m segmentation`` runs it."""
    return main(argv)


def test_the_cli_and_the_library_see_the_same_projects(tmp_path, demo, capsys, monkeypatch):
    root = str(tmp_path / "ws")
    assert cli(["projects", "create", "From the CLI", "--workspace", root]) == 0
    assert [p.name for p in Workspace(root).list_projects()] == ["From the CLI"]
    project, _dataset_id, run_id = project_with_run(root, demo, "From the library", names={0: "Loyal big spenders"})
    capsys.readouterr()

    assert cli(["projects", "--workspace", root, "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["From the library"]["runs"] == 1 and listed["From the library"]["best_run"]["id"] == run_id
    assert listed["From the CLI"]["runs"] == 0 and listed["From the CLI"]["best_run"] is None
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", root)  # the environment variable names the same workspace
    assert cli(["projects", "list"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"From the library\s+1\s+1\s+.*#1 \(silhouette 0\.\d{3}\)", text)

    assert cli(["projects", "rename", "from the cli", "Renamed"]) == 0
    assert Workspace(root).project_info("renamed").name == "Renamed"
    assert cli(["projects", "delete", "Renamed"]) == 2
    assert "Add --yes to confirm" in capsys.readouterr().err and Workspace(root).project_info("Renamed")
    assert cli(["projects", "delete", "Renamed", "--yes"]) == 0
    assert [p.name for p in Workspace(root).list_projects()] == ["From the library"]
    assert cli(["projects", "create", ""]) == 2 and "must not be empty" in capsys.readouterr().err

    out = tmp_path / "export"
    assert cli(["export", "--project", "from the library", "--out", str(out), "--workspace", root]) == 0
    customers = pd.read_csv(out / "customers.csv", dtype=str)
    assert len(customers) == N_ROWS and "Loyal big spenders" in set(customers["segment_name"])
    assert json.loads((out / "manifest.json").read_text())["rows"] == N_ROWS
    assert cli(["export", "--project", "nope", "--out", str(out)]) == 2
    assert "no project called 'nope'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ storage
def test_the_embedding_cache_size_is_reported_and_can_be_cleared(tmp_path):
    workspace = Workspace(tmp_path)
    cache = EmbeddingCache(cache_dir(tmp_path) / "embeddings.sqlite")
    cache.put_many("tfidf", {f"text {i}": np.ones(64, dtype=np.float32) for i in range(500)})
    size = workspace.cache_size_bytes()
    assert size >= 500 * 64 * 4
    assert workspace.clear_embedding_cache() > 0
    assert cache.get_many("tfidf", ["text 1"]) == {} and workspace.cache_size_bytes() < size


STORE_MODULES = sorted(p.relative_to(ROOT / "segmentation").as_posix()
                       for p in (ROOT / "segmentation" / "store").glob("*.py"))


@pytest.mark.parametrize("module", [*STORE_MODULES, "cli/workspace.py"])
def test_nothing_in_the_workspace_is_read_with_pickle(module):
    source = (ROOT / "segmentation" / module).read_text()
    tree = ast.parse(source)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"pickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
    assert "read_pickle" not in source and "pickle.load" not in source
    np_loads = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load" and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"]
    assert all(any(k.arg == "allow_pickle" and isinstance(k.value, ast.Constant) and k.value.value is False
                   for k in call.keywords) for call in np_loads)
    if module == "store/files.py":
        assert np_loads  # arrays are read, and only this way
