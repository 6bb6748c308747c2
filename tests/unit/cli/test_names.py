"""Segment names are the same everywhere (issue 18): the analyst's where given, else the suggested name, never
"Segment N" for a file with text; the app's Export page and ``python -m segmentation run/export`` agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.assign import load_model
from segmentation.cli.main import main
from tests.unit.cli.test_export import app_export, shop_project

GENERIC = re.compile(r"Segment \d")


def complaints_file() -> bytes:
    """90 complaints and nothing else, about three things: lost bags, delays and rude staff."""
    rng = np.random.default_rng(0)
    themes = [["my bag was lost at the airport", "lost baggage claim still open", "luggage never arrived",
               "they lost my suitcase at the baggage desk"],
              ["flight delayed five hours", "another delay, missed my connection", "the flight was delayed again",
               "hours of delay at the gate"],
              ["the cabin crew were rude", "rude staff at check in", "the agent was rude to my family",
               "unfriendly crew, rude answers"]]
    endings = ["please help", "awful", "never again", "so disappointed"]
    rows = [f"{themes[i % 3][rng.integers(4)]}, {endings[rng.integers(4)]}" for i in range(90)]
    return pd.DataFrame({"complaint": rows}).to_csv(index=False).encode()


def test_a_text_only_file_never_names_a_segment_segment_n(tmp_path: Path) -> None:
    source = tmp_path / "complaints.csv"
    source.write_bytes(complaints_file())
    out = tmp_path / "out"
    assert main(["run", str(source), "--model", "tfidf", "--reduce", "pca", "--map", "pca", "-k", "3",
                 "--out", str(out), "--quiet"]) == 0
    customers = pd.read_csv(out / "customers.csv")
    names = set(customers["segment_name"])
    assert len(names) == 3 and not any(GENERIC.search(n) for n in names), names
    assert not GENERIC.search((out / "report.html").read_text(encoding="utf-8"))
    profiles = pd.read_csv(out / "profiles.csv")
    assert profiles["segment_name"].tolist() == profiles["suggested_name"].tolist()   # nobody renamed them
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["segment_names"].values()) == names
    model = load_model(out / "model.segmodel")
    assert {n for s, n in model.segment_names.items() if s >= 0} == names


@pytest.fixture
def half_named_project(tmp_path: Path) -> tuple[str, str, str]:
    """A project with one k-means run of three segments, of which the analyst named only the first."""
    root, project, run_id = shop_project(tmp_path)
    return root, project.id, run_id


def test_the_app_and_the_cli_export_the_same_suggested_names(half_named_project, tmp_path, monkeypatch,
                                                             capsys) -> None:
    root, project_id, run_id = half_named_project
    out = tmp_path / "cli"
    assert main(["export", "--project", "shop", "--out", str(out), "--workspace", root, "--segment-files",
                 "--no-model"]) == 0
    capsys.readouterr()
    app = app_export(root, project_id, monkeypatch)
    for name in ("customers.csv", "segments.zip", "profiles.csv"):
        assert (out / name).read_bytes() == app[name], name
    profiles = pd.read_csv(out / "profiles.csv")
    by_id = dict(zip(profiles["segment_id"], profiles["segment_name"]))
    suggested = dict(zip(profiles["segment_id"], profiles["suggested_name"]))
    assert by_id[1] == "Occasional" and by_id[2] == suggested[2] and by_id[3] == suggested[3], by_id
    assert not any(GENERIC.search(str(n)) for n in by_id.values())
    customers = pd.read_csv(out / "customers.csv")
    assert set(customers["segment_name"]) == set(by_id.values())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["segment_names"] == {str(k): v for k, v in by_id.items()}

    # the names the app's pages show (legend, map, charts) are these very names
    import ui.workspace_sync as sync
    from ui.state import Studio

    state = Studio({})
    state.set_workspace_root(root)
    monkeypatch.setattr(sync, "studio", lambda: state)
    sync.open_project(project_id)
    shown = state.curated_run()
    assert {k + 1: v for k, v in state.shown_names(shown.result).items()} == by_id
