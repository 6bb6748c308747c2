"""The files of a whole run: every file written, an auditable manifest, and one segment numbering throughout."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.bundle import write_run
from segmentation.config import RunConfig
from segmentation.errors import ConfigError


def test_write_run_writes_every_file_and_an_auditable_manifest(small_run, tmp_path):
    files = write_run(small_run, tmp_path, names={1: "Regulars"}, formats=("csv", "xlsx", "parquet"),
                             segment_zip=True)
    for key in ("customers", "profiles", "customers_xlsx", "customers_parquet", "segments", "manifest"):
        assert Path(files[key]).exists(), key
    manifest = json.loads(Path(files["manifest"]).read_text())
    versions = manifest["library_versions"]
    assert versions["pandas"] == pd.__version__ and versions["numpy"] == np.__version__
    assert {"scikit-learn", "umap-learn", "hdbscan", "sentence-transformers"} <= set(versions)
    assert manifest["seeds"]["random_state"] == small_run.config.random_state
    counts = manifest["row_counts"]
    assert counts["customers"] == 36 and counts["unassigned"] == 3
    assert sum(counts["per_segment"].values()) == 36 and "Regulars" in counts["per_segment"]
    assert RunConfig.from_dict(manifest["config"]) == small_run.config  # the full config: the run can be repeated
    digest = hashlib.sha256(Path(files["customers"]).read_bytes()).hexdigest()
    assert manifest["files"]["customers.csv"] == digest
    again = write_run(small_run, tmp_path / "again", names={1: "Regulars"}, formats=("csv", "xlsx", "parquet"),
                             segment_zip=True)
    assert Path(again["manifest"]).read_bytes() == Path(files["manifest"]).read_bytes()  # no clock in it
    with pytest.raises(ConfigError, match="export format"):
        write_run(small_run, tmp_path / "x", formats=("docx",))


def test_customers_csv_the_segment_files_and_the_report_number_segments_alike(demo, tmp_path):
    _, result = demo
    files = write_run(result, tmp_path, names={0: "Bargain hunters"}, segment_zip=True, report=True)
    customers = pd.read_csv(files["customers"])
    named = customers.groupby("segment_id")["segment_name"].first().to_dict()
    assert named[1] == "Bargain hunters" and set(named) == {1, 2, 3, 4, 5}  # five segments, numbered from 1
    with zipfile.ZipFile(files["segments"]) as archive:
        members = sorted(archive.namelist())
        for member in members:
            ids = pd.read_csv(io.BytesIO(archive.read(member)))["segment_id"].unique().tolist()
            assert len(ids) == 1 and member.startswith(f"segment-{ids[0]:02d}-"), (member, ids)
    assert members[0] == "segment-01-bargain-hunters.csv"
    report = Path(files["report"]).read_text(encoding="utf-8")
    cards = re.findall(r"<h3>([^<]+)</h3><p class=\"meta\">segment_id (-?\d+)", report)
    assert {int(number): name for name, number in cards} == named
    manifest = json.loads(Path(files["manifest"]).read_text())
    assert manifest["segment_names"] == {str(k): v for k, v in named.items()}
