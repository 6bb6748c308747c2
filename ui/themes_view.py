"""The themes inside segments on the Profiles page: the "Theme detail" control, each card's themes and the tree.

The detail the analyst picks is kept per run in the session's choices (``Studio.choice("theme_detail")``, saved
with the project's screen state); ``Studio.curated_run`` applies it through ``cache.themed_result``, so the map,
the exports and the report show the very themes the Profiles page shows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import streamlit as st

from segmentation.pipeline import SegmentationResult
from segmentation.plots import themes as plots_themes
from segmentation.understand.themes import ThemeProfile

from .state import studio

DETAIL_STEPS: tuple[float, ...] = tuple(round(i / 10, 1) for i in range(11))
"""The detail values offered, 0 (a few broad themes) to 1 (many narrow ones)."""
DETAIL_WORDS = {0.0: "broadest", 0.5: "default", 1.0: "finest"}
TREE_KINDS = {"sunburst": "Sunburst", "icicle": "Icicle"}
SHOWN_QUOTES = 2
CHART = {"displayModeBar": False}


def detail_key(run_id: str) -> str:
    """The widget key of the "Theme detail" control of a run."""
    return f"theme_detail_{run_id}"


def _nearest(detail: float) -> float:
    return min(DETAIL_STEPS, key=lambda step: abs(step - detail))


def detail_control(run_id: str, result: SegmentationResult) -> None:
    """The "Theme detail" slider (coarser .. finer) and how many themes it gives now; the choice is kept for the
    run and every page follows it."""
    if result.theme_labels is None:
        st.caption(":material/account_tree: This run was made before themes existed: run it again to see the "
                   "themes inside each segment.")
        return
    state = studio()
    key = detail_key(run_id)

    def remember() -> None:   # a callback: the page then reads the run at the new detail
        state.set_choice("theme_detail", {**state.choice("theme_detail", {}), run_id: state.widget_value(key)})

    slider, summary = st.columns([2, 3], vertical_alignment="bottom")
    slider.select_slider(
        "Theme detail", DETAIL_STEPS, value=_nearest(result.config.themes.detail), key=key, on_change=remember,
        format_func=lambda d: f"{d:g} · {DETAIL_WORDS[d]}" if d in DETAIL_WORDS else f"{d:g}",
        help="Move left for a few broad themes in each segment, right for many narrow ones. The segments stay as "
             "they are; the map, the exports and the report use the themes shown here.")
    segments = len(set(result.theme_parent.values()))
    summary.caption(f":material/account_tree: **{result.n_themes}** themes inside {segments} segment"
                    f"{'s' if segments != 1 else ''} · the smallest theme is about "
                    f"{_smallest(result):,} customers.")


def _smallest(result: SegmentationResult) -> int:
    sizes = [p.size for p in result.theme_profiles]
    return min(sizes) if sizes else 0


def _phrases(profile: ThemeProfile) -> str:
    """The theme's key phrases (else traits) as chips, leaving out the one its name already says."""
    words = [w for w in (profile.key_phrases or profile.traits) if w.lower() != profile.name.lower()]
    return " ".join(f'<span class="theme-chip">{html.escape(w)}</span>' for w in words[:4])


def theme_rows_html(profiles: list[ThemeProfile], colours: Mapping[int, str]) -> str:
    """The themes of one segment as a small HTML table: a bar in the theme's shade sized by its share of the
    segment, its name and customers, key phrases, quotes and customers to look at. Every text is escaped."""
    rows = []
    for profile in profiles:
        colour = colours.get(profile.theme, "#9CA3AF")
        quotes = "".join(f'<div class="theme-quote">“{html.escape(q)}”</div>'
                         for q in profile.quotes[:SHOWN_QUOTES])
        people = (f'<div class="theme-people">Customers to look at: '
                  f'{html.escape(", ".join(profile.representative_ids))}</div>' if profile.representative_ids else "")
        rows.append(
            f'<tr><td class="theme-share"><div class="theme-bar"><div style="width:{profile.share_of_segment:.0%};'
            f'background:{colour}"></div></div><b>{profile.share_of_segment:.0%}</b> · {profile.size:,} customers</td>'
            f'<td><div class="theme-name"><span class="theme-dot" style="background:{colour}"></span>'
            f'{html.escape(profile.name)} <span class="theme-code">{html.escape(profile.code)}</span></div>'
            f"<div>{_phrases(profile)}</div>{quotes}{people}</td></tr>")
    return (
        "<style>.theme-table{width:100%;border-collapse:collapse;font-size:0.86rem;color:#1F2937}"
        ".theme-table td{vertical-align:top;padding:6px 8px;border-top:1px solid #EEF0F4}"
        ".theme-share{width:11rem;white-space:nowrap;color:#374151}"
        ".theme-bar{background:#EEF0F4;border-radius:3px;height:6px;margin:4px 0 3px}"
        ".theme-bar div{height:6px;border-radius:3px}"
        ".theme-dot{display:inline-block;width:0.7em;height:0.7em;border-radius:50%;margin-right:0.4em}"
        ".theme-name{font-weight:600}.theme-code{color:#9CA3AF;font-weight:400;font-size:0.8rem}"
        ".theme-chip{display:inline-block;background:#F3F4F6;border-radius:9px;padding:0 7px;margin:2px 3px 0 0;"
        "font-size:0.78rem;color:#374151}"
        ".theme-quote{color:#6B7280;font-style:italic;font-size:0.8rem;margin-top:2px}"
        ".theme-people{color:#9CA3AF;font-size:0.76rem;margin-top:2px}</style>"
        f'<table class="theme-table">{"".join(rows)}</table>')


def segment_themes(result: SegmentationResult, segment: int) -> None:
    """A segment card's themes, largest first, in an expander "Themes in this segment (N)"; nothing for
    Unassigned or a run without themes."""
    if segment < 0 or not result.theme_profiles:
        return
    profiles = sorted((p for p in result.theme_profiles if p.segment == segment), key=lambda p: (-p.size, p.theme))
    if not profiles:
        return
    with st.expander(f"Themes in this segment ({len(profiles)})", icon=":material/account_tree:"):
        if len(profiles) == 1:
            st.caption("One theme: the segment holds no clearly separate groups at this theme detail.")
        st.html(theme_rows_html(profiles, plots_themes.theme_colours(result.theme_parent)))


def themes_tree(result: SegmentationResult, names: Mapping[int, str]) -> None:
    """Segments and their themes as a sunburst (or an icicle), sized by customers, in the segment palette."""
    if result.theme_labels is None:
        st.caption("This run has no themes: run the segmentation again to find them.")
        return
    kind = st.segmented_control("Tree view", list(TREE_KINDS), format_func=TREE_KINDS.get, key="themes_tree_kind",
                                default=studio().choice("themes_tree_kind", "sunburst"), required=True,
                                label_visibility="collapsed") or "sunburst"
    studio().set_choice("themes_tree_kind", kind)
    figure = plots_themes.theme_tree_figure(result.labels, result.theme_labels, result.theme_parent, names,
                                            result.theme_names(), kind=kind,
                                            height=int(np.clip(480 + 4 * result.n_themes, 520, 760)))
    st.plotly_chart(figure, key="themes_tree", config=CHART)
    st.caption("Each theme is named from the phrases that set it apart within its segment; the Segments tab lists "
               "each segment's themes with quotes and customers to look at.")


__all__ = ["DETAIL_STEPS", "detail_control", "detail_key", "segment_themes", "theme_rows_html", "themes_tree"]
