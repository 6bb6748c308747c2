"""``auto --llm-url ... --llm-model ...``: the language model's names reach profiles.csv and customers.csv, and
what was sent is written beside them. The model is the fake chat server on 127.0.0.1 (tests/llm_server.py)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from segmentation.cli.main import main
from segmentation.understand.llm_write import clear_memory_cache
from tests.llm_server import FakeChatServer
from tests.unit.cli.test_cli import FAST, comments_csv
from tests.unit.understand.test_llm import good_answer

AUTO = ["--algorithms", "kmeans", "--max-k", "4", "--resamples", "0", "--quiet", *FAST]


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(tmp_path / "home"))
    for variable in ("SEGMENT_STUDIO_LLM_URL", "SEGMENT_STUDIO_LLM_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    clear_memory_cache()
    yield
    clear_memory_cache()


def test_auto_with_a_model_writes_its_names_into_profiles_and_customers(tmp_path, capsys) -> None:
    source = comments_csv(tmp_path / "comments.csv")
    out = tmp_path / "out"
    with FakeChatServer(good_answer) as server:
        assert main(["auto", str(source), "--out", str(out), "--llm-url", server.url, "--llm-model", "fake",
                     *AUTO]) == 0
    profiles = pd.read_csv(out / "profiles.csv")
    n = len(profiles)
    assert n >= 2
    expected = [f"Stranded travellers {c}" for c in "ABCDEFG"[:n]]
    assert sorted(profiles["segment_name"]) == expected
    customers = pd.read_csv(out / "customers.csv")
    assert set(customers["segment_name"]) == set(expected)
    # one request per segment (the names are distinct already: no second pass), and what was sent is logged
    assert len(server.requests) == n
    sent = json.loads((out / "llm_payload.json").read_text())
    assert sent["model"] == "fake"
    written = json.loads((out / "llm_texts.json").read_text())
    assert sorted(s["name"] for s in written["segments"]) == expected
    # the fake portrait states figures ("45%", "52") the profiles do not hold: the offline portrait is kept
    assert all("portrait" in s["fallbacks"] for s in written["segments"])
    assert not profiles["description"].str.contains("45%|Stranded", regex=True).any()


def test_auto_without_the_model_keeps_the_offline_names(tmp_path) -> None:
    source = comments_csv(tmp_path / "comments.csv")
    assert main(["auto", str(source), "--out", str(tmp_path / "out"), *AUTO]) == 0
    names = pd.read_csv(tmp_path / "out" / "profiles.csv")["segment_name"]
    assert not any(name.startswith("Stranded travellers") for name in names)
    assert not (tmp_path / "out" / "llm_payload.json").exists()


def test_auto_with_a_model_that_does_not_answer_exits_2_with_one_line(tmp_path, capsys) -> None:
    source = comments_csv(tmp_path / "comments.csv")
    with FakeChatServer(good_answer) as server:
        url = server.url
    # the server is closed now: nothing listens on that loopback port
    assert main(["auto", str(source), "--out", str(tmp_path / "out"), "--llm-url", url, "--llm-model", "fake",
                 *AUTO]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(r"^error: .*(connect|reach|refused)", err[0], flags=re.I), err
