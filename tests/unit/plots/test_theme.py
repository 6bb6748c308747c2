"""The one segment palette: cycles after ten colours, Unassigned grey, the same colour in every figure."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from segmentation.act.movement import movement
from segmentation.choose.compare import compare_runs, compare_to_known_groups
from segmentation.choose.search import Leaderboard
from segmentation.choose.stability import StabilityReport
from segmentation.pipeline import SegmentationResult
from segmentation.plots import map as plots_map
from segmentation.plots import profiles as plots_profiles
from segmentation.plots import quality as plots_quality
from segmentation.plots import theme
from segmentation.plots.dashboard import dashboard_figure, segment_dashboard, size_value_figure
from segmentation.plots.flow import comparison_flow_figure, flow_figure, movement_flow_figure
from segmentation.plots.sizes import sizes_figure
from tests.unit.plots.test_map import make_result


# --------------------------------------------------------------------------- palette
def test_palette_cycles_and_noise_is_grey() -> None:
    assert theme.segment_colour(0) == "#4C78A8"
    assert theme.segment_colour(3) == "#E45756"
    assert theme.segment_colour(10) == theme.segment_colour(0)
    assert theme.segment_colour(-1) == "#C9CED6"


def test_map_and_size_chart_use_the_same_colour_per_segment() -> None:
    result = make_result([0] * 50 + [1] * 30 + [2] * 15 + [-1] * 5)
    names = {1: "Bargain hunters"}
    map_colours = {t.name.split(" · ")[0]: t.marker.color for t in plots_map.map_figure(result, names=names).data}
    bar = sizes_figure(result.labels, names).data[0]
    bar_colours = dict(zip(bar.y, bar.marker.color))
    assert map_colours == bar_colours
    assert bar_colours == {"Segment 1": "#4C78A8", "Bargain hunters": "#F58518", "Segment 3": "#54A24B",
                           "Unassigned": "#C9CED6"}


def _tick_colours(ticks: object) -> dict[str, str]:
    """{name: colour} from axis labels written by ``segment_tick`` (a coloured dot, then the name)."""
    found = (re.match(r'<span style="color:(#[0-9A-F]{6});[^>]*>●</span> (.*)', str(t)) for t in ticks)
    return {m.group(2): m.group(1) for m in found if m}


def test_every_chart_colours_segment_k_with_the_palettes_colour_k() -> None:
    labels = np.array([0] * 5 + [1] * 3 + [2] * 2 + [-1] * 2)
    names = {0: "Loyal", 1: "Bargain", 2: "New"}
    expected = {names[k]: theme.SEGMENT_PALETTE[k] for k in range(3)}
    found: dict[str, dict[str, str]] = {}
    result = make_result(labels)
    found["map"] = {t.name.split(" · ")[0]: t.marker.color for t in plots_map.map_figure(result, names=names).data}
    found["map labels"] = {a.text.strip("</b>"): a.bordercolor
                           for a in plots_map.map_figure(result, names=names).layout.annotations}
    bar = sizes_figure(labels, names).data[0]
    found["sizes"] = dict(zip(bar.y, bar.marker.color))
    table = pd.DataFrame({"total_spend": np.arange(12, dtype=float) + 1, "orders": [1, 2] * 6})
    board = segment_dashboard(table, {"total_spend": "numeric", "orders": "numeric"}, labels)
    found["dashboard"] = {names.get(int(s), "Unassigned"): c for trace in dashboard_figure(board, names).data
                          for s, c in zip(trace.customdata, trace.marker.color)}
    bubbles = size_value_figure(board, names).data[1]
    found["size against value"] = {names.get(int(s), "Unassigned"): c
                                   for s, c in zip(bubbles.customdata, bubbles.marker.color)}
    silhouettes = pd.DataFrame({"row": range(10), "segment": labels[:10], "silhouette": np.linspace(0.6, 0, 10)})
    found["silhouette"] = {t.name: t.marker.color for t in plots_quality.silhouette_figure(silhouettes, names).data}
    report = StabilityReport(agreement=0.8, agreements=(0.8,), resamples=2, segments=pd.DataFrame(
        {"segment": [0, 1, 2], "jaccard": [0.9, 0.5, 0.7], "badge": ["stable", "unstable", "fair"]}))
    found["stability"] = _tick_colours(plots_quality.stability_figure(report, names).data[0].y)
    crosstab = compare_to_known_groups(labels, pd.Series(["a", "b"] * 6), column="plan").crosstab
    found["known groups"] = _tick_colours(plots_quality.crosstab_figure(crosstab, "Segments", names).data[0].y)
    frame = pd.DataFrame({"spend": [0.5, -0.5, 0.1]}, index=[0, 1, 2])
    found["profiles"] = _tick_colours(plots_profiles.heatmap_figure(frame, names).data[0].y)
    shares = pd.DataFrame({"north": [0.7, 0.2, 0.5], "south": [0.3, 0.8, 0.5]}, index=[0, 1, 2])
    found["category shares"] = _tick_colours(plots_profiles.category_share_figure(shares, "region", names).data[0].y)
    comparison = compare_runs(labels, labels, names_a=names, names_b=names)
    for kind, fig in (("run comparison", comparison_flow_figure(comparison)),
                      ("movement", movement_flow_figure(movement(labels, labels, names=names)))):
        found[kind] = dict(zip(fig.data[0].node.label, fig.data[0].node.color))
    for chart, colours in found.items():
        assert {n: c for n, c in colours.items() if n in expected} == expected, chart
        assert colours.get("Unassigned", theme.UNASSIGNED_COLOUR) == theme.UNASSIGNED_COLOUR, chart


def test_segments_are_ordered_largest_first_with_unassigned_last() -> None:
    assert theme.segment_order(np.array([2, 2, -1, -1, -1, 0, 1, 1])) == [1, 2, 0, -1]  # ties by id


def test_rgba_keeps_the_colour_and_sets_the_transparency() -> None:
    assert theme.rgba("#4C78A8", 0.45) == "rgba(76,120,168,0.45)"


# --------------------------------------------------------------------------- text from the data is plain text
HOSTILE = "<a href='x'>North</a> & <b>bold</b> %{meta}"
"""A value, column or segment name that plotly would draw as a link, in bold, and fill in from the trace."""
ESCAPED = "&lt;a href='x'&gt;North&lt;/a&gt; &amp; &lt;b&gt;bold&lt;/b&gt; %&#123;meta}"


def test_plain_label_escapes_plotly_markup_and_template_placeholders() -> None:
    assert theme.plain_label(HOSTILE) == ESCAPED
    assert theme.plain_label("Big spenders") == "Big spenders"  # ordinary names are unchanged
    assert theme.plain_label("&lt;") == "&amp;lt;"  # an entity in the data is shown as typed, not decoded
    assert theme.plain_label(3.5) == "3.5"


def test_wrap_and_segment_tick_keep_their_own_markup_and_escape_the_text() -> None:
    assert theme.wrap("<b>one</b> two", width=10) == "&lt;b&gt;one&lt;/b&gt;<br>two"
    tick = theme.segment_tick(0, {0: "<i>Loyal</i>"})
    assert tick.startswith('<span style="color:#4C78A8') and tick.endswith("</span> &lt;i&gt;Loyal&lt;/i&gt;")


def _strings(value: object) -> list[str]:
    """Every string in a figure's JSON tree (trace arrays included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [s for v in (value.ravel() if isinstance(value, np.ndarray) else value) for s in _strings(v)]
    return []


def _assert_plain(fig: object, escaped: str = ESCAPED) -> None:
    strings = _strings(fig.to_plotly_json())
    assert not [s for s in strings if re.search(r"<a\b|<b>bold|%\{meta\}", s)]
    assert any(escaped in s for s in strings)


def _hostile_result() -> SegmentationResult:
    result = make_result([0] * 6 + [1] * 3 + [-1], texts=[HOSTILE] * 10)
    table = result.table.assign(**{HOSTILE: [HOSTILE] * 5 + ["South"] * 5, f"{HOSTILE} spend": np.arange(10.0)})
    return dataclasses.replace(result, table=table, row_ids=np.array([f"{HOSTILE} {i}" for i in range(10)]))


@pytest.mark.parametrize("kind", ["segment", "category", "numeric"])
def test_the_map_draws_values_names_ids_and_texts_as_plain_text(kind: str) -> None:
    result = _hostile_result()
    color_by = {"segment": plots_map.SEGMENT, "category": HOSTILE, "numeric": f"{HOSTILE} spend"}[kind]
    fig = plots_map.map_figure(result, color_by=color_by, names={0: HOSTILE}, hover_fields=[HOSTILE],
                               highlight=[1, 2], highlight_label=HOSTILE)
    _assert_plain(fig)
    template = fig.data[0].hovertemplate
    assert template.startswith("<b>%{customdata[1]}</b><br>%{customdata[2]}<br>" + ESCAPED + ": %{customdata[3]}")
    row = list(fig.data[-1].customdata[0])
    assert row[1].startswith(ESCAPED) and ESCAPED in row[3] and ESCAPED.split()[0] in row[4]
    if kind == "category":
        assert ESCAPED in [t.name for t in fig.data] and fig.layout.title.text == f"Customers by {ESCAPED}"
    if kind == "numeric":
        assert fig.data[-2].marker.colorbar.title.text == f"{ESCAPED} spend"
    # the row position that a selection decodes is untouched
    assert plots_map.selected_rows({"points": [{"customdata": row}]}).tolist() == [row[0]]


def test_sizes_profiles_and_quality_figures_draw_names_as_plain_text() -> None:
    labels = np.array([0] * 6 + [1] * 3 + [-1])
    names = {0: HOSTILE}
    _assert_plain(sizes_figure(labels, names, title=HOSTILE))
    frame = pd.DataFrame({HOSTILE: [0.5, -0.5]}, index=[0, 1])
    _assert_plain(plots_profiles.heatmap_figure(frame, names))
    shares = pd.DataFrame({HOSTILE: [0.7, 0.2], "South": [0.3, 0.8]}, index=[0, 1])
    for overall in (None, pd.Series({HOSTILE: 0.5, "South": 0.5})):
        fig = plots_profiles.category_share_figure(shares, HOSTILE, names, overall)
        _assert_plain(fig, ESCAPED.lower())  # the column's name is written in lower case in the title
        assert "<b>Everyone</b>" in list(fig.data[0].y) or overall is None  # the figure's own markup stays
    silhouettes = pd.DataFrame({"row": range(6), "segment": [0, 0, 0, 1, 1, 1],
                                "silhouette": [0.5, 0.4, 0.3, 0.2, 0.1, -0.1]})
    fig = plots_quality.silhouette_figure(silhouettes, names)
    _assert_plain(fig)
    assert fig.data[0].hovertemplate == f"{ESCAPED}<br>silhouette %{{x:.2f}}<extra></extra>"
    report = StabilityReport(agreement=0.8, agreements=(0.8,), resamples=2,
                             segments=pd.DataFrame({"segment": [0, 1], "jaccard": [0.9, 0.5],
                                                    "badge": ["stable", "unstable"]}))
    _assert_plain(plots_quality.stability_figure(report, names))
    crosstab = compare_to_known_groups(labels, pd.Series([HOSTILE] * 6 + ["South"] * 4), column=HOSTILE).crosstab
    _assert_plain(plots_quality.crosstab_figure(crosstab, f"Segments against {HOSTILE}", names))


def test_a_candidate_of_an_unknown_algorithm_is_drawn_as_plain_text() -> None:
    frame = pd.DataFrame({"algorithm": [HOSTILE], "silhouette": [0.4], "n_segments": [3], "label": [HOSTILE],
                          "params": [HOSTILE], "stability": [0.9], "noise_share": [0.0], "smallest_share": [0.2],
                          "why_not": [HOSTILE], "eligible": [False]})
    _assert_plain(plots_quality.leaderboard_figure(Leaderboard(frame=frame, recommended=None, reason="")))


def test_flows_draw_segment_and_run_names_as_plain_text() -> None:
    flows = pd.DataFrame({"from": [HOSTILE], "to": ["South"], "customers": [3]})
    fig = flow_figure(flows, [HOSTILE], ["South"], title=HOSTILE, left_title=HOSTILE, right_title="Now")
    _assert_plain(fig)
    assert list(fig.data[0].node.label) == [ESCAPED, "South"] and fig.layout.annotations[0].text == ESCAPED
    comparison = compare_runs(np.array([0, 0, 1]), np.array([0, 1, 1]), names_a={0: HOSTILE}, names_b={1: HOSTILE},
                              label_a=HOSTILE)
    _assert_plain(comparison_flow_figure(comparison))
    _assert_plain(movement_flow_figure(movement([0, 0, 1], [0, 1, 1], names={0: HOSTILE})))
