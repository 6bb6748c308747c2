"""The customer map: bounded, per-segment sampled; selections and searches decode to rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from segmentation.config import RunConfig
from segmentation.pipeline import SegmentationResult
from segmentation.plots import map as plots
from segmentation.plots.theme import HIGHLIGHT_COLOUR, SEGMENT_PALETTE, UNASSIGNED_COLOUR


def make_result(labels: list[int] | np.ndarray, texts: list[str] | None = None, seed: int = 7) -> SegmentationResult:
    """A hand-made result: only what the figures read is filled in."""
    labels = np.asarray(labels, dtype=int)
    n = len(labels)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "spend": np.arange(n, dtype=float),
        "channel": np.where(np.arange(n) % 3 == 0, "app", "web"),
        "email": [f"person{i}@example.com" for i in range(n)],
    })
    return SegmentationResult(
        config=RunConfig(random_state=seed), data_digest="test", table=table,
        roles={"customer_id": "id", "spend": "numeric", "channel": "categorical", "email": "pii"},
        row_ids=table["customer_id"].to_numpy(dtype=str), texts=np.asarray(texts or [""] * n, dtype=object),
        features=np.zeros((n, 2)), embedding=np.zeros((n, 2)), coords=rng.normal(size=(n, 2)), labels=labels,
        confidence=np.ones(n), metrics={}, profiles=(),
    )


def rows_in(fig: go.Figure) -> np.ndarray:
    return np.concatenate([np.asarray(t.customdata)[:, 0].astype(int) for t in fig.data if len(t.x)])


# --------------------------------------------------------------------------- map
def test_map_draws_everyone_when_small_with_one_webgl_trace_per_segment() -> None:
    result = make_result([0] * 6 + [1] * 3 + [-1])
    fig = plots.map_figure(result)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert [t.name for t in fig.data] == ["Unassigned · 10%", "Segment 1 · 60%", "Segment 2 · 30%"]
    assert [t.legendrank for t in fig.data] == [1002, 1000, 1001]  # Unassigned drawn underneath, listed last
    assert sorted(rows_in(fig)) == list(range(10))
    assert "Showing all 10 customers" in fig.layout.title.subtitle.text


def test_map_is_bounded_and_sampled_per_segment() -> None:
    labels = np.array([0] * 9000 + [1] * 900 + [2] * 60 + [-1] * 40)
    result = make_result(labels)
    fig = plots.map_figure(result, max_points=1000)
    rows = rows_in(fig)
    assert len(rows) == 1000 and len(set(rows)) == 1000
    assert "Showing 1,000 of 10,000 customers" in fig.layout.title.subtitle.text
    counts = {s: int((labels[rows] == s).sum()) for s in (0, 1, 2, -1)}
    # small segments keep a visible floor; the rest share the room in proportion to size
    assert counts[2] >= 50 and counts[-1] == 40
    assert counts[0] > 8 * counts[1] > 0
    # each trace only holds its own segment's customers
    for trace in fig.data:
        segment_rows = np.asarray(trace.customdata)[:, 0].astype(int)
        assert len(set(labels[segment_rows])) == 1


def test_sampling_is_seeded() -> None:
    labels = np.repeat([0, 1, 2], 2000)
    a = plots.sample_rows(labels, 900, random_state=1)
    assert np.array_equal(a, plots.sample_rows(labels, 900, random_state=1))
    assert not np.array_equal(a, plots.sample_rows(labels, 900, random_state=2))
    assert len(a) == 900 and np.all(np.diff(a) > 0)


def test_sample_rows_rejects_a_non_positive_bound() -> None:
    with pytest.raises(ValueError, match="max_points must be positive"):
        plots.sample_rows(np.zeros(3, dtype=int), 0)


def test_hover_shows_id_fields_and_a_short_snippet() -> None:
    long_text = "The parcel arrived late and the box was damaged " * 6
    result = make_result([0, 0, 1], texts=[long_text, "", "Great service"])
    fig = plots.map_figure(result, hover_fields=["spend", "channel"])
    trace = next(t for t in fig.data if t.name.startswith("Segment 1"))
    first = list(trace.customdata[0])
    assert first[:3] == [0, "C00000", "Segment 1"]
    assert "spend: %{customdata[3]}" in trace.hovertemplate and "channel: %{customdata[4]}" in trace.hovertemplate
    snippet = first[-1].replace("<br>", " ")
    assert snippet.endswith("…") and len(snippet) <= plots.SNIPPET_CHARS + 1


def test_text_snippet_cuts_at_a_word() -> None:
    assert plots.text_snippet("short") == "short"
    assert plots.text_snippet("alpha beta gamma", n_chars=12) == "alpha beta…"
    assert plots.text_snippet(None) == "" and plots.text_snippet(float("nan")) == ""


def test_numeric_colour_by_uses_one_trace_on_a_continuous_scale() -> None:
    result = make_result([0] * 5 + [1] * 5)
    fig = plots.map_figure(result, color_by="spend")
    assert len(fig.data) == 1
    marker = fig.data[0].marker
    assert list(marker.color) == list(range(10)) and marker.showscale
    assert marker.colorscale is not None and fig.layout.title.text == "Customers by spend"


def test_numeric_colour_by_puts_missing_values_in_their_own_grey_trace() -> None:
    result = make_result([0] * 4)
    table = result.table.assign(spend=[1.0, np.nan, 3.0, 4.0])
    fig = plots.map_figure(SegmentationResult(**{**result.__dict__, "table": table}), color_by="spend")
    assert [t.name for t in fig.data] == [plots.MISSING_VALUE, "spend"]
    assert fig.data[0].marker.color == UNASSIGNED_COLOUR and len(fig.data[1].x) == 3


def test_categorical_colour_by_uses_a_palette_distinct_from_segments() -> None:
    result = make_result([0] * 6)
    fig = plots.map_figure(result, color_by="channel")
    assert {t.name for t in fig.data} == {"app", "web"}
    assert not {t.marker.color for t in fig.data} & set(SEGMENT_PALETTE)


def test_unknown_colour_by_is_refused() -> None:
    with pytest.raises(ValueError, match="Cannot colour the map by 'nope'"):
        plots.map_figure(make_result([0, 1]), color_by="nope")


# --------------------------------------------------------------------------- selection
def test_selected_rows_decodes_customdata_from_any_trace() -> None:
    selection = {"points": [{"curve_number": 1, "point_index": 0, "customdata": [7, "C00007", "Segment 2"]},
                            {"curve_number": 0, "point_index": 4, "customdata": [2, "C00002", "Segment 1"]},
                            {"curve_number": 0, "point_index": 4, "customdata": [2, "C00002", "Segment 1"]},
                            {"curve_number": 2, "point_index": 1}],
                 "point_indices": [0, 4, 4, 1], "box": [], "lasso": []}
    assert plots.selected_rows(selection).tolist() == [2, 7]
    assert plots.selected_rows({"selection": selection}).tolist() == [2, 7]


@pytest.mark.parametrize("empty", [None, {}, {"points": []}, {"selection": {"points": []}}])
def test_selected_rows_of_nothing_is_empty(empty: object) -> None:
    assert plots.selected_rows(empty).tolist() == []


def test_a_selection_round_trips_through_a_sampled_map() -> None:
    labels = np.repeat([0, 1], 3000)
    result = make_result(labels)
    fig = plots.map_figure(result, max_points=500)
    trace = fig.data[1]
    points = [{"customdata": list(trace.customdata[i])} for i in (0, 5, 9)]
    rows = plots.selected_rows({"points": points})
    table = plots.selected_customers(result, rows, {1: "Loyal"}, ["spend"])
    assert table["customer"].tolist() == [f"C{r:05d}" for r in rows]
    assert table["segment"].tolist() == ["Loyal"] * 3
    assert table["spend"].tolist() == [float(r) for r in rows]
    assert "text" not in table.columns  # no text column when nobody wrote anything


# --------------------------------------------------------------------------- highlighting and finding customers
def test_highlighted_customers_are_ringed_on_top_even_when_not_sampled() -> None:
    labels = np.repeat([0, 1], 3000)
    result = make_result(labels)
    sampled = set(plots.sample_rows(labels, 500, random_state=7).tolist())
    unsampled = next(r for r in range(6000) if r not in sampled)
    fig = plots.map_figure(result, max_points=500, highlight=[unsampled, 3], highlight_label="Found")
    ring = fig.data[-1]
    assert ring.name == "Found · 2" and ring.marker.symbol == "circle-open"
    assert ring.marker.color == HIGHLIGHT_COLOUR and ring.legendrank == 0
    assert sorted(np.asarray(ring.customdata)[:, 0].astype(int).tolist()) == sorted([unsampled, 3])
    assert unsampled in rows_in(fig)  # also drawn in its own segment's trace, so a lasso around it works
    assert "Showing 501 of 6,000 customers" in fig.layout.title.subtitle.text or \
        "Showing 502 of 6,000 customers" in fig.layout.title.subtitle.text


def test_no_highlight_trace_without_matches() -> None:
    result = make_result([0, 0, 1])
    assert len(plots.map_figure(result, highlight=[]).data) == 2
    assert len(plots.map_figure(result, highlight=[99, -1]).data) == 2  # rows outside the table are ignored


def test_find_customers_by_id_then_by_words() -> None:
    ids = ["C001", "C002", "c003", "X9"]
    texts = ["Delivery was late again", "late but friendly", "Great delivery, on time", ""]
    rows, how = plots.find_customers(ids, texts, " c003, x9 ")
    assert rows.tolist() == [2, 3] and how == "id"
    rows, how = plots.find_customers(ids, texts, "deliver late")
    assert rows.tolist() == [0] and how == "text"  # every word, at the start of a word
    assert plots.find_customers(ids, texts, "ate")[0].tolist() == []  # "late" does not match "ate"
    assert plots.find_customers(ids, texts, '"on time"')[0].tolist() == [2]
    rows, how = plots.find_customers(ids, texts, "   ")
    assert rows.tolist() == [] and how == ""
    assert plots.find_customers(ids, texts, "refund")[1] == ""


# --------------------------------------------------------------------------- segment labels
def label_annotations(fig: go.Figure) -> list:
    return [a for a in fig.layout.annotations if (a.name or "").startswith("segment label")]


def test_each_segment_is_labelled_at_a_point_of_its_own_not_between_its_islands() -> None:
    # segment 0 lives on two islands, far left and far right: its mean (0, 0) is empty space
    left = np.column_stack([np.linspace(-10.2, -9.8, 30), np.zeros(30)])
    right = np.column_stack([np.linspace(9.8, 10.2, 20), np.zeros(20)])
    middle = np.column_stack([np.zeros(10), np.linspace(4.9, 5.1, 10)])
    coords = np.vstack([left, right, middle, [[0.0, -5.0]]])
    labels = np.array([0] * 50 + [1] * 10 + [-1])
    placed = plots.segment_labels(coords, labels, {0: "Two islands"})
    assert [(p.segment, p.text) for p in placed] == [(0, "Two islands"), (1, "Segment 2")]
    assert -10.2 <= placed[0].anchor_x <= -9.8         # on the larger island, never near x = 0
    assert placed[1].anchor_x == 0 and 4.9 <= placed[1].anchor_y <= 5.1


def test_map_labels_every_segment_but_unassigned_and_can_be_switched_off() -> None:
    result = make_result([0] * 6 + [1] * 3 + [-1])
    fig = plots.map_figure(result, names={0: "Loyal <b>fans</b>"})
    texts = [a.text for a in label_annotations(fig)]
    assert len(texts) == 2 and texts[0] == "<b>Loyal &lt;b&gt;fans&lt;/b&gt;</b>" and "Segment 2" in texts[1]
    assert not any("Unassigned" in t for t in texts)
    assert [a.bordercolor for a in label_annotations(fig)] == [SEGMENT_PALETTE[0], SEGMENT_PALETTE[1]]
    assert label_annotations(plots.map_figure(result, show_labels=False)) == []


def test_at_most_twenty_labels_smallest_segments_left_out_legend_complete() -> None:
    labels = np.repeat(np.arange(25), np.arange(25, 0, -1) + 4)   # segment 0 largest, 24 smallest
    result = make_result(labels)
    result = SegmentationResult(**{**result.__dict__, "coords": np.column_stack([labels * 3.0, labels % 2])})
    fig = plots.map_figure(result)
    labelled = sorted(int(a.name.rsplit(" ", 1)[1]) for a in label_annotations(fig))
    assert labelled == list(range(plots.MAX_LABELS)) and plots.MAX_LABELS == 20
    assert len([t for t in fig.data if t.name.startswith("Segment")]) == 25


def test_crowded_labels_never_overlap_and_moved_ones_point_home() -> None:
    # eight segments with long names all centred within a hair of each other
    rng = np.random.default_rng(3)
    coords = np.vstack([rng.normal(scale=0.01, size=(20, 2)) for _ in range(8)] + [[[-5, -5]], [[5, 5]]])
    labels = np.array([s for s in range(8) for _ in range(20)] + [-1, -1])
    names = {s: f"Customers who buy a lot {s}" for s in range(8)}
    placed = plots.segment_labels(coords, labels, names)
    assert len(placed) == 8
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            assert (abs(a.x - b.x) >= (a.width + b.width) / 2 - 1e-9
                    or abs(a.y - b.y) >= (a.height + b.height) / 2 - 1e-9), (a, b)
    assert placed[0].moved is False and all(p.moved for p in placed[1:])
    fig = go.Figure()
    plots._add_labels(fig, placed)
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 7 and all(a.axref == "x" for a in arrows)


def test_long_names_are_cut_at_a_word_on_the_map() -> None:
    placed = plots.segment_labels(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 0]),
                                  {0: "Big spenders who come back every single week without fail"})
    assert placed[0].text == "Big spenders who come back every…"


def test_the_legend_sits_under_the_map_and_the_figure_grows_with_it() -> None:
    short = plots.map_figure(make_result([0] * 6 + [1] * 3 + [-1]))
    names = {s: f"Occasional small spenders talking about delivery {s}" for s in range(8)}
    long = plots.map_figure(make_result(np.repeat(np.arange(8), 5)), names=names)
    for fig in (short, long):
        assert fig.layout.legend.orientation == "h" and fig.layout.legend.yanchor == "top"
    assert short.layout.height == 620 + 22 and long.layout.height > short.layout.height
    assert long.layout.margin.b == long.layout.height - 610
    numeric = plots.map_figure(make_result([0] * 6 + [1] * 4), color_by="spend")  # a colour bar, no legend
    assert numeric.layout.height == 620


def test_a_handful_of_customers_is_under_one_percent_in_the_legend_not_zero() -> None:
    fig = plots.map_figure(make_result([0] * 997 + [1] * 3), show_labels=False)
    assert [t.name for t in fig.data] == ["Segment 1 · 100%", "Segment 2 · <1%"]
