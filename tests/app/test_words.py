"""Customers' words in the app: tags found by the map's search, "Run again without <column>" when the segments
repeat a column, and language model settings that outlive the dataset."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from segmentation.act.tables import result_tags
from segmentation.plots.map import find_customers
from tests.app.test_pages import (
    assert_clean,
    fresh,
    load_demo,
    open_page,
    plain,
    run_fast_segmentation,
    run_kmeans,
    state,
    upload,
)
from ui.state import Studio


def channel_file(n: int = 60) -> bytes:
    """Three channels (app, store, web) that fully determine the customers: spend is about 20, 50 or 80 by
    channel and nothing else is measured, so k-means with 3 segments finds exactly the channels."""
    rng = np.random.default_rng(0)
    channel = np.arange(n) % 3
    table = pd.DataFrame({
        "customer_id": [f"K{i:03d}" for i in range(n)],
        "channel": np.array(["app", "store", "web"])[channel],
        "spend": np.round(20 + 30 * channel + rng.normal(0, 1, n), 2),
    })
    return table.to_csv(index=False).encode()


def test_segments_that_copy_a_column_offer_a_run_without_it() -> None:
    at = run_kmeans(upload(fresh(), "channels.csv", channel_file()), n_clusters=3)
    first = state(at, "current_run")
    open_page(at, "quality")
    warnings = [plain(w.value) for w in at.warning]
    assert any(re.search(r"mostly repeat channel \(Cramér's V 1\.00", w) for w in warnings), warnings
    button = at.button(key="quality_without_column")
    assert button.label == "Run again without channel"
    button.click().run()
    assert_clean(at)
    # the Data page's role, a second run with the same settings otherwise, and it is the current one
    assert state(at, "role_overrides") == {"channel": "ignore"}
    runs = state(at, "runs")
    assert len(runs) == 2 and state(at, "current_run") == runs[1].run_id != first
    assert runs[1].config.roles.as_dict() == {"channel": "ignore"}
    assert runs[1].config.replace(roles=runs[0].config.roles) == runs[0].config
    assert "channel" not in runs[1].result.roles or runs[1].result.roles["channel"] == "ignore"
    assert re.search(r"Run 2 · .* without channel: \d+ segments", plain(at.toast[0].value))
    assert not any("mostly repeat" in plain(w.value) for w in at.warning)
    assert not [b for b in at.button if b.key == "quality_without_column"]


def test_segments_that_add_information_get_no_offer() -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    open_page(at, "quality")
    assert not any("mostly repeat" in plain(w.value) for w in at.warning)
    assert not [b for b in at.button if b.key == "quality_without_column"]


def test_the_map_search_finds_customers_by_their_tags() -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    result = state(at, "runs")[0].result
    tags = result_tags(result)
    # a two-word tag that no customer wrote as such ("exactly as described" gives "exactly described")
    query, row = next((t, i) for i, line in enumerate(tags) for t in line.split("; ")
                      if " " in t and t not in str(result.texts[i]).lower())
    tagged = [i for i, line in enumerate(tags) if query in line.split("; ")]
    assert not len(find_customers(result.row_ids, result.texts, f'"{query}"')[0])  # the words alone: nobody
    open_page(at, "map")
    at.text_input(key="map_find").set_value(f'"{query}"').run()
    assert_clean(at)
    [found] = [e for e in at.expander if "ringed on the map" in e.label]
    assert plain(found.label) == f"{len(tagged):,} customers tagged “{query}” — ringed on the map"
    [table] = [frame.value for frame in at.dataframe if "tags" in frame.value.columns]
    assert list(table.columns[:3]) == ["customer", "segment", "tags"]
    assert table["tags"].str.contains(query, regex=False).all() and result.row_ids[row] in set(table["customer"])
    at.text_input(key="map_find").set_value("no such words anywhere").run()
    assert "No customer id, text or tag matches" in plain(" ".join(c.value for c in at.caption))


def test_language_model_settings_survive_loading_another_dataset() -> None:
    at = fresh()
    at.switch_page("pages/settings.py").run()
    at.text_input(key="llm_url").set_value("http://127.0.0.1:9/v1")
    at.text_input(key="llm_model").set_value("local-model")
    at.button(key="llm_save").click().run()
    assert_clean(at)
    saved = state(at, "language_model")
    assert saved["url"] == "http://127.0.0.1:9/v1" and saved["model"] == "local-model"
    load_demo(at)  # a new dataset clears runs, names and choices ...
    upload(at, "channels.csv", channel_file())
    assert state(at, "language_model") == saved  # ... but not the analyst's own settings
    at.switch_page("pages/settings.py").run()
    assert at.text_input(key="llm_url").value == "http://127.0.0.1:9/v1"
    assert at.text_input(key="llm_model").value == "local-model"


def test_a_new_dataset_clears_the_choices_but_keeps_the_language_model() -> None:
    studio = Studio({})
    studio.set_language_model({"url": "http://127.0.0.1:11434/v1", "model": "llama3.1", "timeout": 60.0})
    studio.set_choice("map_find", "late delivery")
    studio.set_dataset(None)
    assert studio.choice("map_find") is None
    assert studio.language_model == {"url": "http://127.0.0.1:11434/v1", "model": "llama3.1", "timeout": 60.0}


# --------------------------------------------------------------------------- segment names (issue 18)
def segment_demo_kmeans(at: AppTest, n_clusters: int = 4) -> AppTest:
    """The demo data (with its review texts) in segments, fast settings (k-means when the form offers it)."""
    open_page(at, "segment")
    at.selectbox(key="seg_model").set_value("tfidf")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    if any(n.key == "seg_param_kmeans_n_clusters" for n in at.number_input):
        at.number_input(key="seg_param_kmeans_n_clusters").set_value(n_clusters)
    at.button(key="seg_run").click().run()
    assert_clean(at)
    return at


def name_boxes(at: AppTest) -> dict[str, str]:
    return {t.key: t.value for t in at.text_input if t.key and t.key.startswith("name-")}


def test_segments_are_called_by_their_suggested_names_until_renamed_and_reset_restores_them() -> None:
    at = segment_demo_kmeans(load_demo(fresh()))
    open_page(at, "profiles")
    run = next(r for r in state(at, "runs") if r.run_id == state(at, "current_run"))
    profiles = {p.segment: p for p in run.result.profiles if not p.is_noise}
    suggested = {s: p.name for s, p in profiles.items()}
    assert len(set(suggested.values())) == len(suggested) >= 2
    first = min(suggested)
    assert not any(re.fullmatch(r"Segment \d+", n) for n in suggested.values()), suggested
    legend = plain(" ".join(m.value for m in at.markdown))
    assert all(name in legend for name in suggested.values()) and not re.search(r"Segment \d", legend), legend
    # an unnamed box shows the suggested name as its placeholder: the name used everywhere
    box = at.text_input(key=f"name-{run.run_id}-{first}")
    assert box.value == "" and box.placeholder == f"{suggested[first]} (suggested)"

    box.set_value("Weekend shoppers").run()
    assert_clean(at)
    assert "Weekend shoppers" in plain(" ".join(m.value for m in at.markdown))
    assert re.search(r"1 renamed by you", plain(" ".join(c.value for c in at.caption)))
    button = at.button(key="use_suggested_names")
    assert button.label == "Reset to suggested names"
    button.click().run()
    assert_clean(at)
    # the boxes show the names at once: the value is sent to the browser (set_value), not only kept on the server,
    # where forgetting the key left the boxes empty until the page was left (issue 15)
    boxes = name_boxes(at)
    assert boxes == {f"name-{run.run_id}-{s}": n for s, n in suggested.items()}
    assert all(at.text_input(key=k).proto.set_value for k in boxes)
    legend = plain(" ".join(m.value for m in at.markdown))
    assert "Weekend shoppers" not in legend and all(name in legend for name in suggested.values())
    assert not [b for b in at.button if b.key == "use_suggested_names"]   # nothing left to reset

    # the Export page's customer file carries the very names the Profiles page shows
    open_page(at, "export")
    frame = next(f.value for f in at.dataframe if "segment_name" in f.value.columns)
    assert set(frame["segment_name"]) <= set(suggested.values()) | {"Unassigned"}
