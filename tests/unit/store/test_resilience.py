"""The store when things go wrong: a save killed mid-write, damaged SQLite files, a read-only folder, a full disk.

What must hold every time: nothing already saved is lost; an item whose save was interrupted is absent, never
half there; every failure is one WorkspaceError that names what failed and says what to do; the next save works
once the cause is gone. (test_workspace.py covers kills at the commit and files overwritten with garbage.)

The faults are made by the kernel wherever it can make them on any Linux machine: SIGKILL, a folder made
read-only (as root, which ignores file permissions, the writer runs without the capabilities that bypass them),
and a file-size limit of 0 bytes (``RLIMIT_FSIZE``), under which every write fails as on a full disk.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segmentation.errors import WorkspaceError
from segmentation.ingest.read import load_table
from segmentation.store.workspace import Workspace
from tests.unit.store import test_workspace
from tests.unit.store.test_workspace import ROOT, assert_same_result, project_with_run

demo = test_workspace.demo  # the fixture: the demo file and a fast run (TF-IDF, PCA, k-means) on 300 customers

SMALL_CSV = "customer_id,spend,review\nA1,10,great\nA2,20,slow delivery\nA3,5,fine\n"


def small_table(folder: Path) -> Path:
    path = folder / "small shop.csv"
    path.write_text(SMALL_CSV)
    return path


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def files_of(folder: Path) -> set[str]:
    """The files of a project folder, relative to it (SQLite's -wal/-shm left out: they come and go)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def wait_for_line(process: subprocess.Popen, timeout_s: float = 120) -> str:
    """The first line the child prints, read as soon as it is printed (the child blocks after printing it)."""
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"the child printed nothing: {process.communicate()[1]}")
    return line.strip()


# ------------------------------------------------------------------------------------------------ kill -9 mid-write
KILL_MID_WRITE = """
import os, sys, time
import segmentation.store.files as files
from segmentation.ingest.read import load_table
from segmentation.store.workspace import Workspace

root, what, small_csv = sys.argv[1:4]
project = Workspace(root).open_project("Acme")
project.set_segment_text(1, 1, name="Saved before the kill")  # complete before the killed save starts
project.save_model_bytes(1, "before.bin", b"complete model")
flush_to_disk = files._fsync
target = {"dataset": "table.parquet", "run": "arrays.npz", "model": ".bin"}[what]

def half_written(path):
    # called once the temporary file is written, before it is flushed and moved into place
    if target in path.name:
        size = path.stat().st_size
        os.truncate(path, size // 2)  # only half of its bytes reached the disk
        print(f"writing {path.name} {size // 2} {size}", flush=True)
        time.sleep(300)
    flush_to_disk(path)

files._fsync = half_written
if what == "dataset":
    project.add_dataset(load_table(small_csv))
elif what == "run":
    project.save_run(1, project.load_run(1), names={0: "never saved"})
else:
    project.save_model_bytes(1, "killed.bin", bytes(range(256)) * 400)
"""


@pytest.mark.parametrize("what", ["dataset", "run", "model"])
def test_a_save_killed_in_the_middle_of_a_file_loses_nothing_and_leaves_no_half_item(tmp_path, demo, what):
    project, dataset_id, run_id = project_with_run(tmp_path / "ws", demo, names={0: "Loyal"})
    before = files_of(project.folder)
    small = small_table(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", KILL_MID_WRITE, str(tmp_path / "ws"), what, str(small)],
                               cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = wait_for_line(process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    _writing, temp_name, half, full = line.split()
    assert 0 < int(half) < int(full)

    again = Workspace(tmp_path / "ws").open_project("Acme")
    # everything saved before is there and intact; the interrupted item is not there at all
    assert [d.id for d in again.datasets()] == [dataset_id]
    assert [r.id for r in again.runs()] == [run_id]
    assert [(m.name, again.load_model_bytes(m.id)) for m in again.models()] == [("before.bin", b"complete model")]
    assert again.segment_names(run_id) == {0: "Loyal", 1: "Saved before the kill"}
    assert_same_result(demo[1], again.load_run(run_id))
    pd.testing.assert_frame_equal(again.load_dataset(dataset_id).table, demo[0].table)
    assert again.integrity_check() == "ok"
    # the half-written file lies where nothing refers to it, until tidy removes it
    [leftover] = [p for p in again.folder.rglob("*") if p.name == temp_name]
    assert leftover.stat().st_size == int(half)
    assert again.tidy() == 0  # too young: it could be another window's save in progress
    assert again.tidy(min_age_s=0) > 0 and not leftover.exists()
    [model_file] = files_of(again.folder) - before
    assert not before - files_of(again.folder) and re.fullmatch(r"models/[0-9a-f]{16}\.bin", model_file)

    # the killed writer held no lock that outlives it: the same save now works
    if what == "dataset":
        new_id = again.add_dataset(load_table(small))
        assert again.load_dataset(new_id).table["customer_id"].tolist() == ["A1", "A2", "A3"]
    elif what == "run":
        assert_same_result(demo[1], again.load_run(again.save_run(dataset_id, demo[1])))
    else:
        assert again.load_model_bytes(again.save_model_bytes(run_id, "after.bin", b"after")) == b"after"


# ------------------------------------------------------------------------------------------------ damaged SQLite
def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    assert len(data) >= 4 * 4096  # a header page and several pages of tables
    damaged = {
        "truncated to half": data[: len(data) // 2],
        "truncated to its header": data[:100],
        "emptied": b"",
        "first page overwritten": bytes(range(256)) * 16 + data[4096:],
        "second page overwritten": data[:4096] + b"\xa5" * 4096 + data[8192:],
    }[how]
    path.write_bytes(damaged)


DAMAGE = ["truncated to half", "truncated to its header", "emptied", "first page overwritten",
          "second page overwritten"]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_project_database_names_the_project_and_the_others_still_open(tmp_path, demo, how):
    good, _dataset_id, run_id = project_with_run(tmp_path, demo, "Good")
    bad, _bad_dataset, _bad_run = project_with_run(tmp_path, demo, "Bad")
    damage(bad.db_path, how)
    said = r"^The project 'Bad' (is damaged: .*project\.sqlite is not a readable|is not a Segment Studio database)"

    infos = {info.name: info for info in Workspace(tmp_path).list_projects()}
    assert re.search(said, infos["Bad"].damaged)
    assert re.search(r"(?i)other projects are not affected", infos["Bad"].damaged)
    assert (infos["Good"].damaged, infos["Good"].n_runs) == (None, 1)
    with pytest.raises(WorkspaceError, match=said):
        Workspace(tmp_path).open_project("Bad")
    refused = 0
    for read in (bad.runs, bad.datasets, bad.models, bad.ui_state):  # a project opened before (the app keeps one)
        try:
            read()  # a table on an undamaged page still reads
        except WorkspaceError as error:
            assert re.search(said, str(error)), error
            refused += 1
    assert refused
    assert_same_result(demo[1], Workspace(tmp_path).open_project("Good").load_run(run_id))
    Workspace(tmp_path).delete_project("Bad")
    assert Workspace(tmp_path).create_project("Bad").runs() == []
    assert good.integrity_check() == "ok"


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_index_is_rebuilt_even_under_an_open_workspace(tmp_path, demo, how):
    # regression: an index damaged while the app ran failed every page with the advice to delete a project
    workspace = Workspace(tmp_path)  # the app keeps this one open for as long as it runs
    project, _dataset_id, run_id = project_with_run(tmp_path, demo, "Acme", names={0: "Loyal"})
    workspace.create_project("Other")
    damage(workspace.index_path, how)

    assert sorted(info.name for info in workspace.list_projects()) == ["Acme", "Other"]
    assert workspace.open_project("Acme").segment_names(run_id) == {0: "Loyal"}
    assert workspace.create_project("New").name == "New"
    reopened = Workspace(tmp_path)  # damage on a page no query above read is found when the index is opened
    if how != "emptied":  # an empty file is simply a new index; anything else is kept for inspection
        assert "rebuilt from the project folders" in (workspace.repaired or reopened.repaired)
        assert list(tmp_path.glob("workspace.sqlite.damaged-*"))
    again = Workspace(tmp_path)
    assert again.repaired is None and sorted(info.name for info in again.list_projects()) == ["Acme", "New", "Other"]
    assert_same_result(demo[1], again.open_project("Acme").load_run(run_id))


def test_a_lost_index_is_rebuilt_under_an_open_workspace(tmp_path, demo):
    workspace = Workspace(tmp_path)
    _project, _dataset_id, run_id = project_with_run(tmp_path, demo, "Acme")
    workspace.index_path.unlink()
    assert [info.name for info in workspace.list_projects()] == ["Acme"]
    assert_same_result(demo[1], workspace.open_project("Acme").load_run(run_id))


def test_index_damage_found_inside_a_transaction_advises_a_retry_not_a_deletion(tmp_path):
    workspace = Workspace(tmp_path)
    with pytest.raises(WorkspaceError) as caught, workspace._index():
        raise sqlite3.DatabaseError("database disk image is malformed")  # as a damaged page read mid-query
    message = str(caught.value)
    assert re.match(r"The workspace index is damaged: .*workspace\.sqlite is not a readable Segment Studio "
                    r"database \(database disk image is malformed\)\. Your projects are not affected: try again",
                    message)
    assert "delete the project" not in message


# ------------------------------------------------------------------------------------------------ read-only, full disk
UNDER_FAULT = """
import json, os, resource, signal, sys
from pathlib import Path
from segmentation.errors import SegmentationError
from segmentation.ingest.read import load_table
from segmentation.store.workspace import Workspace

root, fault, small_csv, probe, other_window = sys.argv[1:6]
workspace = Workspace(root)  # opened while all is well, as the app's workspace is
project = workspace.open_project("Acme")
result = project.load_run(1)
small = load_table(small_csv)
if other_window == "yes":  # its open connections keep SQLite's shared-memory files: reads still work
    import sqlite3
    window = [sqlite3.connect(workspace.index_path), sqlite3.connect(project.db_path)]
    for db in window:
        db.execute("SELECT count(*) FROM sqlite_master").fetchall()
if fault == "full":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
else:
    print("opened", flush=True)  # the parent now makes the folder read-only
    sys.stdin.readline()
saves = {
    "create a project": lambda: workspace.create_project("New"),
    "add a dataset": lambda: project.add_dataset(small),
    "change column roles": lambda: project.set_role_overrides(1, {"review": "ignore"}),
    "save a run": lambda: project.save_run(1, result),
    "name a segment": lambda: project.set_segment_text(1, 0, name="Renamed"),
    "curate": lambda: project.set_curation(1, [{"kind": "merge", "params": {"segments": [0, 1]}}]),
    "note a run": lambda: project.set_run_note(1, "a note"),
    "keep the page": lambda: project.set_ui_state({"page": "map"}),
    "save a model": lambda: project.save_model_bytes(1, "model.bin", b"model"),
    "rename the project": lambda: workspace.rename_project("Acme", "Acme 2"),
    "duplicate the project": lambda: workspace.duplicate_project("Acme", "Copy"),
    "delete a project": lambda: workspace.delete_project("Other"),
}
outcome = {}
try:
    with open(probe, "w") as handle:
        handle.write("x")
        handle.flush()
    outcome["probe"] = "written"
except OSError as error:
    outcome["probe"] = type(error).__name__
for what, save in saves.items():
    try:
        save()
        outcome[what] = "saved"
    except SegmentationError as error:
        outcome[what] = f"{type(error).__name__}: {error}"
print(json.dumps(outcome), flush=True)
"""
SAVE_FAILED = re.compile(
    r"WorkspaceError: (The|A) [^\n]*(cannot be (saved|created|copied)|could not be read or written)[^\n]*"
    r"\([^\n]*(Read-only file system|readonly database|Permission denied|File too large|disk I/O error|"
    r"database or disk is full|unable to open)[^\n]*\)\. Check that the disk has free space and that the folder "
    r"is writable(, then try again)?\.")


def without_bypass() -> None:
    """Run as root without the capabilities that let root write where the permissions say no (in the child)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
            raise OSError(ctypes.get_errno(), "cannot drop the capability that bypasses file permissions")


def set_writable(root: Path, writable: bool) -> None:
    for folder, _dirs, names in os.walk(root):
        for path in (Path(folder), *(Path(folder) / name for name in names)):
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def everything_in(root: Path) -> dict[str, bytes]:
    """Every file of the workspace and its bytes (SQLite's -wal/-shm left out: they come and go)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


@pytest.mark.parametrize("other_window", ["alone", "another window open"])
@pytest.mark.parametrize("fault", ["read-only folder", "full disk"])
def test_when_the_workspace_cannot_be_written_every_save_fails_clearly_and_nothing_is_lost(tmp_path, demo, fault,
                                                                                          other_window):
    root = tmp_path / "ws"
    project, dataset_id, run_id = project_with_run(root, demo, names={0: "Loyal"})
    project.save_model_bytes(run_id, "kept.bin", b"kept")
    Workspace(root).create_project("Other")
    before = everything_in(root)
    small = small_table(tmp_path)
    read_only = fault == "read-only folder"
    probe = root / "probe.txt" if read_only else tmp_path / "probe.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", UNDER_FAULT, str(root), "read-only" if read_only else "full", str(small), str(probe),
         "yes" if other_window == "another window open" else "no"],
        cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=without_bypass if read_only and os.geteuid() == 0 else None)
    try:
        if read_only:
            assert wait_for_line(process) == "opened"
            set_writable(root, False)
            process.stdin.write("go\n")
            process.stdin.flush()
        out, err = process.communicate(timeout=120)
    finally:
        set_writable(root, True)
    assert process.returncode == 0, err
    outcome = json.loads(out.splitlines()[-1])
    assert outcome.pop("probe") == ("PermissionError" if read_only else "OSError")  # the fault is real
    assert len(outcome) == 12
    for what, said in outcome.items():
        assert SAVE_FAILED.fullmatch(said), (what, said)

    # nothing already saved is lost or changed, nothing half-saved is left behind...
    assert everything_in(root) == before
    workspace = Workspace(root)
    assert sorted(info.name for info in workspace.list_projects()) == ["Acme", "Other"]
    again = workspace.open_project("Acme")
    assert again.segment_texts(run_id) == {0: {"name": "Loyal", "description": "", "notes": ""}}
    assert (again.curation(run_id), again.ui_state(), [m.name for m in again.models()]) == ([], {}, ["kept.bin"])
    assert_same_result(demo[1], again.load_run(run_id))
    assert again.integrity_check() == "ok" and again.tidy(min_age_s=0) == 0 and workspace.tidy(min_age_s=0) == 0
    # ...and once the folder can be written again, so can everything
    assert again.save_run(again.add_dataset(load_table(small)), demo[1]) == 2 and dataset_id == 1
    assert workspace.create_project("New").name == "New"


def test_a_workspace_folder_that_cannot_exist_is_refused_in_one_sentence(tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(WorkspaceError, match=r"^The workspace folder .*a file/ws cannot be created or used "
                                             r"\(.*Not a directory.*\)\. Choose another folder"):
        Workspace(tmp_path / "a file" / "ws")
    assert [p.name for p in tmp_path.iterdir()] == ["a file"]  # nothing was made anywhere else
