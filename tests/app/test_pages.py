"""Every page through Streamlit's AppTest: empty state, the demo path, bad input, state that must persist.

AppTest runs the real app.py router and page scripts in-process (no browser).
It drives widgets by key, including the file uploader; it cannot draw a lasso
on the map (the map's selection decoding is covered in tests/unit/test_plots.py)
and does not run a download button's deferred data function (the exports
themselves are covered by the export module's unit tests). Fast settings are
chosen through the widgets: TF-IDF text embedding, PCA reduction and map, k-means.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.format import WORD_JOINER, md

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
PAGES = {
    "home": "pages/home.py", "data": "pages/data.py", "segment": "pages/segment.py", "map": "pages/map.py",
    "profiles": "pages/profiles.py", "quality": "pages/quality.py", "export": "pages/export.py",
}


# --------------------------------------------------------------------------- helpers
def fresh() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert_clean(at)
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No uncaught exception and no error box (a SegmentationError shown to the user)."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, errors(at)


def plain(markdown: str) -> str:
    """Markdown source as read on screen: the app escapes text from the data (e.g. "\\$20" for "$20") and puts
    an invisible word joiner into addresses and shortcodes (``ui.format.md``)."""
    return re.sub(r"\\(.)", r"\1", str(markdown)).replace(WORD_JOINER, "")


def shown_markdown(at: AppTest) -> list[str]:
    """The markdown source of everything that renders markdown: text, captions, alerts, toasts, labels."""
    elements = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success, *at.toast]
    labels = [e.label for e in [*at.expander, *at.button, *at.text_input] if getattr(e, "label", None)]
    return [str(e.value) for e in elements] + [str(label) for label in labels]


def texts(at: AppTest) -> str:
    """All visible text of the page and sidebar, joined, for loose 'is it said somewhere' checks."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [s.value for s in at.subheader] + [i.value for i in at.info] + [w.value for w in at.warning]
    return plain("\n".join(map(str, parts)))


def errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.error]


def links(at: AppTest) -> dict[str, str]:
    return {link.proto.label: link.proto.page for link in at.page_link}


def state(at: AppTest, name: str) -> object:
    return at.session_state[f"studio.{name}"] if f"studio.{name}" in at.session_state else None


def load_demo(at: AppTest) -> AppTest:
    open_page(at, "data")
    at.button(key="data_demo").click().run()
    assert_clean(at)
    return at


def run_fast_segmentation(at: AppTest, **params: int) -> AppTest:
    open_page(at, "segment")
    at.selectbox(key="seg_model").set_value("tfidf")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    for name, value in params.items():
        at.number_input(key=f"seg_param_kmeans_{name}").set_value(value)
    at.button(key="seg_run").click().run()
    assert_clean(at)
    return at



def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Load ``content`` as the file ``name`` through the Data page's uploader."""
    open_page(at, "data")
    at.file_uploader(key="data_upload").set_value((name, content, "text/csv")).run()
    assert_clean(at)
    return at


def run_kmeans(at: AppTest, n_clusters: int = 3) -> AppTest:
    """k-means with PCA on whatever is loaded (the data may have no text: no model to choose)."""
    open_page(at, "segment")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    at.number_input(key="seg_param_kmeans_n_clusters").set_value(n_clusters)
    at.button(key="seg_run").click().run()
    assert_clean(at)
    assert re.search(r"Current run: Run \d+", texts(at))
    return at

@pytest.fixture()
def segmented() -> AppTest:
    """An app session with the demo data loaded and one fast k-means run (4 segments)."""
    at = load_demo(fresh())
    return run_fast_segmentation(at, n_clusters=4)


# --------------------------------------------------------------------------- empty states
def test_home_explains_the_tool_and_offers_demo_data_and_upload() -> None:
    at = fresh()
    said = texts(at)
    assert "Segment Studio" in said and "1 · Load" in said and "2 · Segment" in said
    assert at.button(key="home_demo").label == "Use demo data"
    assert at.file_uploader(key="home_upload") is not None
    assert "No data loaded yet." in "\n".join(c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", ["segment", "map", "profiles", "quality", "export"])
def test_pages_before_any_data_say_to_load_data_and_link_to_data(page: str) -> None:
    at = open_page(fresh(), page)
    assert "No data loaded yet — go to Data." in texts(at)
    assert links(at) == {"Go to Data": "data"}


def test_data_page_before_any_data_offers_upload_and_demo() -> None:
    at = open_page(fresh(), "data")
    assert "No data loaded yet" in texts(at)
    assert at.file_uploader(key="data_upload") is not None and at.button(key="data_demo") is not None


@pytest.mark.parametrize("page", ["map", "profiles", "quality", "export"])
def test_pages_before_a_run_say_to_segment_and_link_to_segment(page: str) -> None:
    at = load_demo(fresh())
    open_page(at, page)
    assert "No segmentation yet — go to Segment." in texts(at)
    assert links(at) == {"Go to Segment": "segment"}


# --------------------------------------------------------------------------- loading
def test_home_demo_button_loads_the_demo_and_opens_the_data_page() -> None:
    at = fresh()
    at.button(key="home_demo").click().run()
    assert_clean(at)
    said = texts(at)
    assert "Demo customers" in said and "Column roles" in said and "Data quality" in said
    assert "2,000 rows · 15 columns" in plain("\n".join(c.value for c in at.sidebar.caption))
    assert [m.value for m in at.metric][:3] == ["2,000", "2,000", "0"]
    # the preview masks personal data
    [preview] = [d.value for d in at.dataframe if "email" in d.value.columns]
    assert preview["email"].str.contains(r"\*\*\*@").all()


def test_upload_through_the_file_uploader_replaces_the_dataset() -> None:
    at = load_demo(fresh())
    csv = b"customer_id,spend,visits\nA1,10.5,3\nA2,99.0,12\nA3,55.2,7\nA4,3.1,1\n"
    at.file_uploader(key="data_upload").set_value(("shop.csv", csv, "text/csv")).run()
    at.button(key="upload_place_go").click().run()  # a project with data is open: asked where it goes first
    assert_clean(at)
    assert state(at, "dataset").name == "shop.csv"
    assert "4 rows · 3 columns" in plain("\n".join(c.value for c in at.sidebar.caption))
    assert "shop.csv · 4 rows" in at.sidebar.selectbox[1].options


def test_a_wide_file_s_column_count_reads_with_a_thousands_separator_everywhere() -> None:
    at = open_page(fresh(), "data")
    header = "customer_id," + ",".join(f"f{i}" for i in range(1200))
    rows = [f"C{r}," + ",".join(str((r * 7 + i) % 13) for i in range(1200)) for r in range(6)]
    at.file_uploader(key="data_upload").set_value(("wide.csv", "\n".join([header, *rows]).encode(), "text/csv")).run()
    assert_clean(at)
    assert "1,201 columns" in plain(at.toast[0].value)
    assert "6 rows · 1,201 columns" in plain("\n".join(c.value for c in at.sidebar.caption))


def test_a_file_name_with_markdown_is_shown_as_written_in_the_toast_and_the_sidebar() -> None:
    at = open_page(fresh(), "data")
    name = "[click](http://x).csv"
    csv = b"customer_id,spend,visits\nA1,10.5,3\nA2,99.0,12\nA3,55.2,7\nA4,3.1,1\n"
    at.file_uploader(key="data_upload").set_value((name, csv, "text/csv")).run()
    assert_clean(at)
    [toast] = [t.value for t in at.toast]
    assert toast.startswith("Loaded \\[click\\]\\(http\\:\u2060//x\\)\\.csv\\: 4 customers")
    dataset = state(at, "dataset").name  # the part after the last "/", as for a path
    assert "**" + md(dataset) + "**" in [m.value for m in at.sidebar.markdown] and dataset != md(dataset)
    # nothing that renders markdown holds the name as a link
    assert not [text for text in shown_markdown(at) if "[click](" in text or "](http" in text]
    assert "Loaded [click](http://x).csv: 4 customers" in plain(toast)


def test_an_unreadable_upload_shows_a_clear_error_and_keeps_the_previous_dataset(segmented: AppTest) -> None:
    at = segmented
    open_page(at, "data")
    at.file_uploader(key="data_upload").set_value(("customers.csv", PNG_HEADER, "text/csv")).run()
    assert not at.exception
    [error] = errors(at)
    assert "customers.csv could not be loaded" in error and "PNG image" in error
    assert "Still using Demo customers." in error
    assert state(at, "dataset").name == "Demo customers"
    assert state(at, "current_run") is not None  # the run of the kept dataset survives too
    open_page(at, "profiles")
    assert "#1" in texts(at)   # the card of segment 1 (its name is the suggested one, issue 18)


def test_loading_a_new_dataset_clears_runs_and_names(segmented: AppTest) -> None:
    at = segmented
    open_page(at, "profiles")
    run_id = state(at, "current_run")
    at.text_input(key=f"name-{run_id}-0").set_value("Loyal").run()
    open_page(at, "data")
    csv = b"customer_id,spend\nA1,10.5\nA2,99.0\nA3,55.2\n"  # the demo again would just be shown again
    at.file_uploader(key="data_upload").set_value(("shop.csv", csv, "text/csv")).run()
    at.button(key="upload_place_go").click().run()
    assert state(at, "runs") is None and state(at, "annotations") is None
    open_page(at, "map")
    assert "No segmentation yet" in texts(at)


def order_lines(n_lines: int = 60, n_customers: int = 12) -> bytes:
    rows = ["order_id,customer_id,order_date,product,category,quantity,unit_price"]
    for i in range(n_lines):
        rows.append(f"O{i // 2:04d},K{i % n_customers:03d},2024-0{1 + i % 9}-1{i % 10},P{i % 7},"
                    f"{('toys', 'books', 'garden')[i % 3]},{1 + i % 4},{(2.5, 9.99, 14.0)[i % 3]}")
    return "\n".join(rows).encode()


def test_order_lines_are_offered_a_roll_up_to_one_row_per_customer() -> None:
    at = open_page(fresh(), "data")
    at.file_uploader(key="data_upload").set_value(("orders.csv", order_lines(), "text/csv")).run()
    assert_clean(at)
    assert "These rows look like order lines, not customers." in texts(at)
    at.button(key="rollup").click().run()
    assert_clean(at)
    dataset = state(at, "dataset")
    assert dataset.name == "orders.csv (per customer)" and len(dataset.table) == 12
    assert {"recency_days", "frequency", "monetary"} <= set(dataset.table.columns)
    assert not any(b.key == "rollup" for b in at.button)  # customers are not offered a second roll-up


# --------------------------------------------------------------------------- the demo path
def test_the_demo_path_renders_every_page(segmented: AppTest) -> None:
    """One session walks Segment -> Map -> Profiles -> Quality -> Export -> Segment after a fast run."""
    at = segmented
    # Segment: headline metrics, where to go next, the run in the sidebar and in the history
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "2,000" and metrics["Segments"] == "4"
    assert "Current run: Run 1 · k-means" in texts(at)
    assert set(links(at)) == {"See the map", "Read the profiles", "Check the quality"}
    assert "Run 1 · k-means" in "\n".join(m.value for m in at.sidebar.markdown)
    [run] = state(at, "runs")
    assert run.config.text.model == "tfidf" and run.config.reduce.method == "pca"
    assert run.config.cluster.as_dict() == {"n_clusters": 4}

    # Map: the chart and its controls; colouring by a numeric column works too
    open_page(at, "map")
    assert len(at.get("plotly_chart")) == 1
    assert at.selectbox(key="map_colour").value == "segment"
    assert "Draw a lasso or a box" in texts(at)
    at.selectbox(key="map_colour").set_value("total_spend").run()
    assert_clean(at)

    # Profiles: one card per segment, largest first, each with a name field
    open_page(at, "profiles")
    said = texts(at)
    assert all(f"#{n}" in said for n in range(1, 5))   # each card shows its number; names are suggested ones
    assert "What sets them apart" in said and "Over-represented" in said and "What they talk about" in said
    assert [t.key for t in at.text_input] == [f"name-{run.run_id}-{s}" for s in range(4)]

    # Quality: every metric with a plain-language reading, and the size chart
    open_page(at, "quality")
    assert [m.label for m in at.metric] == ["Silhouette", "Davies–Bouldin", "Calinski–Harabasz", "Unassigned",
                                            "Smallest segment"]
    said = texts(at)
    assert "Above 0.25 is reasonable" in said and "Lower is better" in said
    assert len(at.get("plotly_chart")) == 1

    # Export: every download; personal data only when asked for, with a warning
    open_page(at, "export")
    assert {b.key for b in at.get("download_button")} == {"download_customers", "download_profiles",
                                                          "download_manifest", "download_segments",
                                                          "download_report", "download_model"}
    preview = at.dataframe[0].value
    assert {"segment_id", "segment_name", "segment_confidence"} <= set(preview.columns)
    assert "email" not in preview.columns and "full_name" not in preview.columns
    at.checkbox(key="export_include_pii").check().run()
    assert_clean(at)
    assert "personal data" in plain(at.warning[0].value) and "email" in at.dataframe[0].value.columns

    # Segment again: the form shows the settings of the run, although its widgets were unmounted
    open_page(at, "segment")
    assert at.selectbox(key="seg_model").value == "tfidf"
    assert at.selectbox(key="seg_reduce").value == "pca" and at.selectbox(key="seg_map").value == "pca"
    assert at.number_input(key="seg_param_kmeans_n_clusters").value == 4


# --------------------------------------------------------------------------- state that must persist
def test_a_rename_on_profiles_persists_across_page_switches(segmented: AppTest) -> None:
    at = open_page(segmented, "profiles")
    run_id = state(at, "current_run")
    at.text_input(key=f"name-{run_id}-0").set_value("  Big   spenders ").run()
    assert_clean(at)
    open_page(at, "map")
    open_page(at, "quality")
    open_page(at, "profiles")
    assert at.text_input(key=f"name-{run_id}-0").value == "Big spenders"
    open_page(at, "export")
    assert "Big spenders" in set(at.dataframe[0].value["segment_name"])


def test_use_suggested_names_fills_every_name_field(segmented: AppTest) -> None:
    at = open_page(segmented, "profiles")
    at.button(key="use_suggested_names").click().run()
    assert_clean(at)
    values = [t.value for t in at.text_input]
    assert len(values) == 4 and all(values)
    assert not any(b.key == "use_suggested_names" for b in at.button)


def test_running_the_same_settings_again_reuses_the_run(segmented: AppTest) -> None:
    at = segmented
    at.button(key="seg_run").click().run()
    assert_clean(at)
    assert len(state(at, "runs")) == 1


def test_a_second_run_is_added_and_the_sidebar_switches_between_runs(segmented: AppTest) -> None:
    at = run_fast_segmentation(segmented, n_clusters=3)
    runs = state(at, "runs")
    assert [r.number for r in runs] == [1, 2] and state(at, "current_run") == runs[1].run_id
    assert {m.label: m.value for m in at.metric}["Segments"] == "3"
    at.sidebar.selectbox(key="sidebar_run").set_value(runs[0].run_id).run()
    assert_clean(at)
    assert state(at, "current_run") == runs[0].run_id
    assert "Davies–Bouldin" in at.dataframe[0].value.columns  # the run history table


def test_a_third_run_becomes_current_even_after_the_sidebar_picker_was_used(segmented: AppTest) -> None:
    at = run_fast_segmentation(segmented, n_clusters=3)
    at = run_fast_segmentation(at, n_clusters=5)
    runs = state(at, "runs")
    assert [r.number for r in runs] == [1, 2, 3]
    # the picker had shown run 2; the new run 3 must stay current after every later rerun
    assert state(at, "current_run") == runs[2].run_id
    at.run()
    assert state(at, "current_run") == runs[2].run_id
    assert at.sidebar.selectbox(key="sidebar_run").value == runs[2].run_id


def test_choosing_another_algorithm_shows_its_own_parameters() -> None:
    at = load_demo(fresh())
    open_page(at, "segment")
    at.selectbox(key="seg_algorithm").set_value("hdbscan").run()
    assert_clean(at)
    keys = {n.key for n in at.number_input}
    assert {"seg_param_hdbscan_min_cluster_size", "seg_param_hdbscan_min_samples"} <= keys
    assert "seg_param_kmeans_n_clusters" not in keys


def test_other_model_without_a_name_is_refused_with_a_message() -> None:
    at = load_demo(fresh())
    open_page(at, "segment")
    at.selectbox(key="seg_model").set_value("other")
    at.button(key="seg_run").click().run()
    assert not at.exception
    assert "Type a model name or a local folder" in errors(at)[0]
    assert state(at, "runs") is None


def test_an_error_during_the_run_stops_it_with_the_library_message() -> None:
    at = fresh()
    open_page(at, "data")
    csv = b"customer_id,spend,visits\nA1,10.5,3\nA2,99.0,12\nA3,55.2,7\nA4,3.1,1\n"
    at.file_uploader(key="data_upload").set_value(("tiny.csv", csv, "text/csv")).run()
    open_page(at, "segment")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    at.number_input(key="seg_param_kmeans_n_clusters").set_value(5)
    at.button(key="seg_run").click().run()
    assert not at.exception
    assert any("Cannot make 5 segments from 4 customers" in e for e in errors(at))
    assert state(at, "runs") is None


def test_data_page_column_statistics_draw_a_small_histogram_per_column() -> None:
    at = load_demo(fresh())
    statistics = next(d.value for d in at.dataframe if "distribution" in d.value.columns)
    bars = dict(zip(statistics["column"], statistics["distribution"]))
    assert len(bars["total_spend"]) == 20 and sum(bars["total_spend"]) == 2_000
    assert len(bars["channel"]) and sorted(bars["channel"], reverse=True) == list(bars["channel"])
    assert list(bars["email"]) == [] and list(bars["review"]) == []    # personal data and text are not drawn
