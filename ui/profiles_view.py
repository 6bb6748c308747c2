"""The pieces of the "Understand" pages: segment cards, the comparison tab and the curation panel (Profiles);
the selection summary, the customer search and "move selected customers" (Map).

Every change to the segments goes through :func:`apply_step` / :func:`undo_step`: they record a
``segmentation.curation.CurationStep`` in the session (``Studio.push_curation``), move the analyst's names,
descriptions and notes along with their segments, and forget the widgets that showed the old segments. Pages
then read the curated run through ``Studio.curated_run()`` (via ``require_result``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.act import tables as export
from segmentation.choose.curate import CurationStep
from segmentation.common import segment_label, segment_number
from segmentation.errors import SegmentationError
from segmentation.pipeline import SegmentationResult
from segmentation.plots import dashboard as plots_dashboard
from segmentation.plots import map as plots_map
from segmentation.plots import profiles as plots_profiles
from segmentation.plots.theme import segment_colour, segment_order
from segmentation.understand.columns import is_share_column
from segmentation.understand.contrast import category_crosstab, heatmap_frame, selection_profile
from segmentation.understand.outcomes import segment_outcome_lines
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.wording import column_label, format_number, value_share_words
from segmentation.value.summary import segment_value, segment_value_line

from . import cache
from .format import md, segment_dot, user_errors
from .state import studio
from .themes_view import segment_themes

ACTION_STYLE = {  # suggested action -> (badge colour, icon)
    "Fix the complaint first": ("red", ":material/report:"),
    "Win back": ("orange", ":material/replay:"),
    "Retain and reward": ("green", ":material/workspace_premium:"),
    "Onboard": ("violet", ":material/waving_hand:"),
    "Upsell": ("blue", ":material/trending_up:"),
    "Nurture": ("gray", ":material/spa:"),
    "Protect": ("red", ":material/shield:"),
    "Reactivate": ("orange", ":material/restart_alt:"),
    "Check the accounts": ("gray", ":material/fact_check:"),
}
EFFECT_HELP = ("Typical (median) value in the segment against the other customers. “sd” is how many standard "
               "deviations the averages are apart: 0.5 is a clear difference, 0.8 a large one. Only differences "
               "that pass a significance test (corrected for testing many columns) are listed.")
SPLIT_PARTS = (2, 3, 4, 5)
MAX_LISTED = 1000
"""Customers listed in a table under the map (a selection or a search); downloads hold all of them."""
NOISE_POLICIES = {"keep": "Keep them Unassigned", "assign": "Assign each to its nearest segment"}


# --------------------------------------------------------------------------- keys
def name_key(run_id: str, segment: int) -> str:
    """The widget key of a segment's name input on the Profiles page."""
    return f"name-{run_id}-{segment}"


def description_key(run_id: str, segment: int) -> str:
    return f"description-{run_id}-{segment}"


def notes_key(run_id: str, segment: int) -> str:
    return f"notes-{run_id}-{segment}"


def _curation_keys(run_id: str) -> list[str]:
    return [f"curate_merge_{run_id}", f"curate_split_{run_id}", f"curate_parts_{run_id}", f"curate_noise_{run_id}",
            f"map_move_target_{run_id}"]


def _forget_widgets(run_id: str, segments: Sequence[int]) -> None:
    """Widgets that showed segments which changed are drawn again from the state on the next run."""
    state = studio()
    for segment in set(segments):
        for key in (name_key(run_id, segment), description_key(run_id, segment), notes_key(run_id, segment)):
            state.reset_widget(key)
    for key in _curation_keys(run_id):
        state.reset_widget(key)


# --------------------------------------------------------------------------- curation
def apply_step(run_id: str, result: SegmentationResult, kind: str, **params: Any) -> bool:
    """Apply one curation step to the run's current segments and record it; False (with the reason shown)
    when it does not fit. The caller reruns the page."""
    try:
        step = CurationStep(kind, params)
        outcome = step.apply(result.labels, result.embedding)
    except SegmentationError as error:
        st.error(md(error), icon=":material/error:")
        return False
    state = studio()
    state.push_curation(step.to_dict(), outcome.mapping, run_id)
    before = set(np.unique(result.labels).tolist())
    _forget_widgets(run_id, sorted(before | set(np.unique(outcome.labels).tolist())))
    state.notify(f"{step.describe()}. Profiles and quality were recomputed.")
    return True


def undo_step(run_id: str, result: SegmentationResult) -> None:
    state = studio()
    step = state.undo_curation(run_id)
    if step is not None:
        # the undone step may bring back segments up to one split's worth above the current largest id
        top = int(result.labels.max()) if len(result.labels) else 0
        _forget_widgets(run_id, list(range(-1, top + max(SPLIT_PARTS) + 1)))
        state.notify(f"Undone: {CurationStep.from_dict(step).describe()}.")


def _segment_options(result: SegmentationResult) -> list[int]:
    return [s for s in segment_order(result.labels) if s >= 0]


def curation_panel(run_id: str, result: SegmentationResult, had_unassigned: bool,
                   names: Mapping[int, str]) -> None:
    """Merge, split, the Unassigned policy and Undo, in one expander."""
    state = studio()
    steps = state.curation_steps(run_id)
    label = (f"Curate segments · {len(steps)} change{'s' if len(steps) != 1 else ''} made" if steps else
             "Curate segments · merge, split, place the unassigned")
    segments = _segment_options(result)

    def label_of(s: int) -> str:
        return segment_label(s, names)

    with st.expander(label, icon=":material/tune:", expanded=bool(steps)):
        st.caption("Changes apply to this run only. The map, the quality checks and the exports follow them; "
                   "names, descriptions and notes stay with their segments.")
        merge_box, split_box, noise_box = st.columns(3, border=True)
        with merge_box:
            st.markdown("**Merge**", help="Join segments that are really one group. The merged segment keeps the name "
                        "of the first one picked that has a name.")
            chosen = st.multiselect("Segments to merge", segments, format_func=label_of, key=f"curate_merge_{run_id}",
                                    placeholder="Pick two or more", label_visibility="collapsed")
            if st.button("Merge", icon=":material/call_merge:", key="curate_merge_go", disabled=len(chosen) < 2,
                         width="stretch") and apply_step(run_id, result, "merge", segments=sorted(chosen)):
                st.rerun()
        with split_box:
            st.markdown("**Split**", help="Re-group one segment's customers into 2 to 5 parts with k-means, in the "
                        "same space the segmentation used. The largest part keeps the segment's name.")
            left, right = st.columns([3, 2])
            target = left.selectbox("Segment to split", segments, format_func=label_of, key=f"curate_split_{run_id}",
                                    label_visibility="collapsed")
            parts = right.selectbox("Parts", SPLIT_PARTS, key=f"curate_parts_{run_id}", label_visibility="collapsed",
                                    format_func=lambda k: f"into {k}")
            if st.button("Split", icon=":material/call_split:", key="curate_split_go", width="stretch",
                         disabled=target is None) and apply_step(run_id, result, "split", segment=int(target),
                                                                 k=int(parts),
                                                                 random_state=result.config.random_state):
                st.rerun()
        with noise_box:
            _noise_policy(run_id, result, steps, had_unassigned)
        if steps:
            history, undo = st.columns([3, 1], vertical_alignment="bottom")
            history.markdown("\n".join(f"{i}. {md(CurationStep.from_dict(s).describe())}"
                                       for i, s in enumerate(steps, 1)))
            if undo.button("Undo last change", icon=":material/undo:", key="curate_undo", width="stretch"):
                undo_step(run_id, result)
                st.rerun()


def _noise_policy(run_id: str, result: SegmentationResult, steps: list[dict[str, Any]], had_unassigned: bool
                  ) -> None:
    n_unassigned = int((result.labels < 0).sum())
    st.markdown("**Unassigned customers**", help="Customers who fit no segment closely; only HDBSCAN and DBSCAN "
                "leave customers out.")
    assigned = any(s["kind"] == "assign_noise" for s in steps)
    if not (had_unassigned or n_unassigned or assigned):
        st.caption("This run leaves no customer unassigned.")
        return
    locked = assigned and steps[-1]["kind"] != "assign_noise"
    policy = st.radio("Unassigned customers", list(NOISE_POLICIES), format_func=NOISE_POLICIES.get,
                      index=1 if assigned else 0, key=f"curate_noise_{run_id}", label_visibility="collapsed",
                      disabled=locked, help="Assigning gives each one the segment most of its five nearest "
                                            "assigned customers belong to. Undo later changes to switch back."
                      if locked else "Assigning gives each one the segment most of its five nearest assigned "
                                     "customers belong to.")
    st.caption(f"{n_unassigned:,} customers unassigned now." if n_unassigned else "Every customer is in a segment.")
    if policy == "assign" and not assigned:
        if apply_step(run_id, result, "assign_noise", method="neighbours", n_neighbors=5):
            st.rerun()
    elif policy == "keep" and assigned and not locked:
        undo_step(run_id, result)
        st.rerun()


def move_panel(run_id: str, result: SegmentationResult, rows: np.ndarray, names: Mapping[int, str]) -> None:
    """Move the selected customers to an existing segment, a new one, or Unassigned."""
    new_segment = int(result.labels.max()) + 1 if len(result.labels) else 0
    options = [new_segment] + _segment_options(result) + [-1]

    def label_of(s: int) -> str:
        return "A new segment" if s == new_segment else segment_label(s, names)

    pick, go = st.columns([3, 2], vertical_alignment="bottom")
    target = pick.selectbox("Move them to", options, format_func=label_of, key=f"map_move_target_{run_id}")
    if go.button(f"Move {len(rows):,}", icon=":material/move_item:", key="map_move_go", width="stretch") \
            and apply_step(run_id, result, "move", rows=[int(r) for r in rows], target=int(target)):
        st.rerun()


# --------------------------------------------------------------------------- names
def suggested_names_bar(run_id: str, profiles: Sequence[SegmentProfile], names: Mapping[int, str]) -> None:
    """"Reset to suggested names" while any segment's name box is empty or holds the analyst's own name. Every
    segment is called by its suggested name until renamed (``Studio.shown_names``); the button writes the
    suggestions into the boxes, over the analyst's edits. ``names`` are the names shown now."""
    state = studio()
    own = state.segment_names(run_id)
    suggested = [p for p in profiles if not p.is_noise and p.name]
    renamed = [p for p in suggested if own.get(p.segment) and own[p.segment] != p.name]
    if not renamed and all(own.get(p.segment) for p in suggested):
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    said = f" {len(renamed)} renamed by you." if renamed else ""
    left.caption("Each segment is named from its own words and strongest traits; type over a name to change it "
                 f"everywhere.{said}")

    def reset() -> None:   # a callback: the boxes are drawn after it, with the suggestions in them
        for profile in suggested:
            state.annotate(profile.segment, "name", profile.name, run_id)
            state.set_widget(name_key(run_id, profile.segment), profile.name)

    right.button("Reset to suggested names", icon=":material/auto_awesome:", key="use_suggested_names",
                 width="stretch", on_click=reset,
                 help="Give every segment its suggested name again, replacing names typed by hand.")


# --------------------------------------------------------------------------- cards
def _pretty(name: Any) -> str:
    return column_label(name)


def segment_legend(labels: np.ndarray, names: Mapping[int, str] | None) -> None:
    """A row of coloured chips, one per segment, in the map's order and colours, with each one's share."""
    n = max(len(labels), 1)
    chips = []
    for segment in segment_order(labels):
        share = float((np.asarray(labels) == segment).sum()) / n
        chips.append(f'<span style="white-space:nowrap;margin-right:1.1em">{segment_dot(segment)}'
                     f'{md(segment_label(segment, names))} <span style="color:#6B7280">{share:.0%}</span>'
                     "</span>")
    st.markdown(" ".join(chips), unsafe_allow_html=True)


def _size_block(profile: SegmentProfile) -> str:
    colour = segment_colour(profile.segment)
    value = ""
    if profile.value_share is not None and profile.value_column:
        worth = value_share_words(profile.value_share, profile.value_column, profile.size)
        value = f'<div style="font-size:0.8rem;color:#6B7280;margin-top:3px">{html.escape(worth)}</div>'
    return (f'<div style="font-size:0.88rem;color:#374151;margin-bottom:4px"><b>{profile.size:,}</b> customers · '
            f'{profile.share:.1%}</div><div style="background:#EEF0F4;border-radius:4px;height:7px">'
            f'<div style="width:{min(profile.share, 1):.1%};background:{colour};height:7px;border-radius:4px">'
            f"</div></div>{value}")


def _number(value: float, share: bool = False) -> str:
    return "–" if not np.isfinite(value) else format_number(value, percent=share)


def _sd(effect: float) -> str:
    """An effect size in standard deviations, kept on one line ("−0.9 sd" never breaks before "sd")."""
    return f"{'+' if effect > 0 else '−'}{abs(effect):.1f}\u00a0sd"


def trait_lines(profile: SegmentProfile, table: pd.DataFrame, top: int = 4) -> list[str]:
    """The significant numeric differences, strongest first: median in the segment vs the others, in sd."""
    lines = []
    for row in profile.notable_numeric.head(top).itertuples():
        arrow = ":blue[▲]" if row.effect > 0 else ":orange[▼]"
        share = is_share_column(table, row.feature)
        seg, rest, kind = row.segment_median, row.rest_median, ""
        if _number(seg, share) == _number(rest, share):  # medians tie on coarse counts: the means differ
            seg, rest, kind = row.segment_mean, row.rest_mean, " on average"
        lines.append(f"**{md(_pretty(row.feature))}** {arrow} {md(_number(seg, share))} :gray[vs "
                     f"{md(_number(rest, share))}{kind} · {_sd(row.effect)}]")
    return lines


def category_lines(profile: SegmentProfile, top: int = 4) -> list[str]:
    """Category values clearly more common in the segment than overall, with their lift."""
    return [f"**{md(_pretty(r.column))}: {md(r.value)}** {r.segment_share:.0%} :gray[vs {r.overall_share:.0%} overall"
            f" · ×{r.lift:.1f}]" for r in profile.notable_categories.head(top).itertuples()]


def rule_line(rule: Any) -> str:
    text = str(rule.text)
    return (f"{md(text[:1].upper() + text[1:])} :gray[— covers {rule.coverage:.0%} of the segment · "
            f"{rule.outsider_share:.0%} of matches are outsiders]")


def action_badge(profile: SegmentProfile) -> str:
    colour, icon = ACTION_STYLE.get(profile.action, ("gray", ":material/flag:"))
    return f":{colour}-badge[{icon} {md(profile.action)}]"


def _people(result: SegmentationResult, rows: Sequence[int], profile: SegmentProfile) -> pd.DataFrame:
    """A few customers with the columns that set their segment apart (never personal data)."""
    columns = [c for c in list(profile.notable_numeric["feature"].head(3)) +
               list(dict.fromkeys(profile.notable_categories["column"].head(2))) if c in result.table.columns]
    frame = result.table.iloc[list(rows)][columns].reset_index(drop=True)
    frame.insert(0, "customer", np.asarray(result.row_ids, dtype=object)[list(rows)])
    return frame


def profile_card(run_id: str, profile: SegmentProfile, result: SegmentationResult,
                 annotations: Mapping[str, str], value: pd.Series | None = None) -> None:
    """One segment: colour, editable name, size, action, description, traits, words, rules, customers."""
    state = studio()
    segment = profile.segment
    name = annotations.get("name", "")
    with st.container(border=True, key=f"card-{'u' if segment < 0 else segment}"):
        head, name_box, size = st.columns([3, 5, 3], vertical_alignment="center")
        # the segment's number (segment_id in every file), never "Segment N" as if it were a name
        number = segment_label(segment) if segment < 0 else f"#{segment_number(segment)}"
        head.markdown(f"{segment_dot(segment)}<b style='font-size:1.1rem'>{html.escape(number)}</b>",
                      unsafe_allow_html=True, help="The segment's number: segment_id in every exported file.")
        size.markdown(_size_block(profile), unsafe_allow_html=True)
        if profile.is_noise:
            name_box.caption("Not a segment: customers who fit none closely. *Curate segments* above can assign "
                             "each to its nearest segment.")
        else:
            key = name_key(run_id, segment)
            name_box.text_input("Segment name", value=name, key=key, label_visibility="collapsed",
                                placeholder=f"{profile.name} (suggested)" if profile.name else "Name it",
                                on_change=lambda: state.annotate(segment, "name", state.widget_value(key, ""), run_id),
                                help="Used on the map, in charts and in every export.")
        if value is not None:   # the segment's row of value.summary.segment_value (predicted from the orders)
            st.markdown(f":material/savings: {md(segment_value_line(value))}")
        if profile.action:
            st.markdown(f"{action_badge(profile)} :gray[{md(profile.action_reason)}]")
        if getattr(profile, "portrait", ""):
            st.markdown(f":material/person: *{md(profile.portrait)}*")
        description = annotations.get("description", "").strip() or profile.description
        if description:
            st.markdown(md(description) + (" :gray-badge[edited]" if annotations.get("description", "").strip()
                                           else ""))
        if annotations.get("notes", "").strip():
            st.caption(f":material/sticky_note_2: {md(annotations['notes'])}")
        traits, categories = trait_lines(profile, result.table), category_lines(profile)
        words = getattr(profile, "key_phrases", ()) or profile.keywords   # phrases ("lost baggage") when known
        columns = st.columns([5, 4, 4] if words else [1, 1], gap="medium")
        columns[0].markdown("**What sets them apart**", help=EFFECT_HELP)
        columns[0].markdown("\n".join(f"- {t}" for t in traits) or ":gray[No number differs clearly from the others.]")
        columns[1].markdown("**Over-represented**", help="Values clearly more common in the segment than among all "
                            "customers: the segment's share, everyone's share, and the ratio (×).")
        columns[1].markdown("\n".join(f"- {c}" for c in categories) or ":gray[No category stands out.]")
        if words:
            columns[2].markdown("**What they talk about**", help="Phrases much more typical of this segment's "
                                "comments than of the others'.")
            columns[2].markdown(" ".join(f":gray-badge[{md(k)}]" for k in words[:10]))
        outcome_lines = segment_outcome_lines(profile)
        if outcome_lines:
            st.markdown("**Outcomes**", help="Known outcomes (columns with the role 'outcome'): the "
                        "segment's rate with its 95% interval and lift against everyone.")
            st.markdown("\n".join(f"- {md(line)}" for line in outcome_lines))
        if profile.quotes:
            st.markdown("**In their own words**", help="Comments of customers near the segment's centre. Personal "
                        "data (names, e-mails, phone numbers) is masked.")
            for box, quote in zip(st.columns(3, gap="medium"), profile.quotes[:3]):
                box.caption(f"“{md(quote)}”")
        if profile.rules:
            st.markdown("**How to find them**", help="Simple rules on the data that pick out most of the segment: "
                        "use them to build the audience in a CRM or ad tool without the model.")
            st.markdown("\n".join(f"- {rule_line(r)}" for r in profile.rules[:2]))
        segment_themes(result, segment)
        _card_details(run_id, profile, result, annotations)


def _card_details(run_id: str, profile: SegmentProfile, result: SegmentationResult,
                  annotations: Mapping[str, str]) -> None:
    state = studio()
    segment = profile.segment
    people, edit = st.columns(2)
    if profile.representatives:
        with people.expander("Customers to look at", icon=":material/person_search:"):
            st.caption("**Typical:** nearest the segment's centre — read these to get a feel for it.")
            typical = _people(result, profile.representatives, profile)
            shares = {c: st.column_config.NumberColumn(format="percent") for c in typical.columns
                      if is_share_column(result.table, c)}
            st.dataframe(typical, hide_index=True, width="stretch", column_config=shares)
            if profile.outliers:
                st.caption("**Outliers:** farthest from the centre — check they belong here.")
                st.dataframe(_people(result, profile.outliers, profile), hide_index=True, width="stretch",
                             column_config=shares)
    if profile.is_noise:
        return
    with edit.expander("Edit description and notes", icon=":material/edit_note:"):
        d_key, n_key = description_key(run_id, segment), notes_key(run_id, segment)
        st.text_area("Description", value=annotations.get("description", "") or profile.description, key=d_key,
                     height=90, help="Shown on the card and in the exported profiles. Clear it to go back to the "
                                     "generated description.",
                     on_change=lambda: state.annotate(segment, "description",
                                                      _edited(state.widget_value(d_key, ""), profile.description),
                                                      run_id))
        st.text_area("Notes", value=annotations.get("notes", ""), key=n_key, height=90,
                     placeholder="Ideas, caveats, next actions…",
                     on_change=lambda: state.annotate(segment, "notes", state.widget_value(n_key, ""), run_id))


def _edited(text: str, generated: str) -> str:
    """The analyst's description, or "" when it is the generated one (so it keeps following the data)."""
    return "" if " ".join(str(text).split()) == " ".join(generated.split()) else str(text)


def profile_cards(run_id: str, result: SegmentationResult) -> None:
    """Every segment's card, largest first, Unassigned last (never hidden)."""
    state = studio()
    profiles = sorted(result.profiles, key=lambda p: (p.is_noise, -p.size, p.segment))
    rules = "".join(f".st-key-card-{'u' if p.segment < 0 else p.segment} {{border-left: 6px solid "
                    f"{segment_colour(p.segment)} !important;}}" for p in profiles)
    st.html(f"<style>{rules}</style>")
    annotations = state.annotations(run_id)
    for column in (c for c, r in result.roles.items() if r == "outcome" and c in result.table.columns):
        with user_errors(f"No model of {column!r}."):
            st.caption(md(cache.outcome_model(result, column).summary()))
    worth = segment_value(result.table, result.labels)   # empty unless the customers carry predicted value
    for profile in profiles:
        profile_card(run_id, profile, result, annotations.get(profile.segment, {}),
                     worth.loc[profile.segment] if profile.segment in worth.index else None)


# --------------------------------------------------------------------------- comparing segments
def compare_panel(result: SegmentationResult, names: Mapping[int, str]) -> None:
    """Segment by numeric column (z-scores) and segment by the values of a chosen category column."""
    order = segment_order(result.labels)
    frame = heatmap_frame(result.table, result.roles, result.labels)
    st.plotly_chart(plots_profiles.heatmap_figure(frame.reindex(order), names), key="compare_heatmap",
                    config={"displayModeBar": False})
    categorical = [c for c, r in result.roles.items() if r == "categorical" and c in result.table.columns]
    if not categorical:
        st.caption("There is no category column to compare the segments on.")
        return
    column = st.columns([1, 2])[0].selectbox(
        "Category to compare", categorical, key="compare_column", format_func=_pretty,
                          index=categorical.index(studio().choice("compare_column", categorical[0]))
                          if studio().choice("compare_column") in categorical else 0)
    studio().set_choice("compare_column", column)
    shares = category_crosstab(result.table, column, result.labels)
    overall = category_crosstab(result.table, column, np.zeros(len(result.labels), dtype=int)).iloc[0]
    st.plotly_chart(plots_profiles.category_share_figure(shares.reindex(order), column, names, overall),
                    key="compare_categories", config={"displayModeBar": False})


def dashboard_panel(result: SegmentationResult, names: Mapping[int, str]) -> None:
    """The segments side by side on size, value, order value, risk, outcomes and rating; then size against value."""
    board = plots_dashboard.segment_dashboard(result.table, result.roles, result.labels)
    st.plotly_chart(plots_dashboard.dashboard_figure(board, names), key="dashboard_bars",
                    config={"displayModeBar": False})
    if board.value_column is None and "predicted_share" not in board.frame.columns:
        st.caption("No money column (spend, revenue, monetary) was found: mark one as numeric on the Data page, or "
                   "roll order lines up to customers, to see each segment's share of the value.")
        return
    st.plotly_chart(plots_dashboard.size_value_figure(board, names), key="dashboard_bubbles",
                    config={"displayModeBar": False})


# --------------------------------------------------------------------------- the map's selection and search
def selection_lines(result: SegmentationResult, rows: np.ndarray, top: int = 5) -> list[str]:
    """The selection's significant differences from everyone else, strongest first, as bullet text."""
    frame = selection_profile(result.table, result.roles, rows)
    lines = []
    for row in frame[frame["significant"].astype(bool)].head(top).itertuples():
        if row.kind == "category":
            lines.append(f"**{md(_pretty(row.column))}: {md(row.value)}** {row.selection:.0%} :gray[vs "
                         f"{row.others:.0%} of the others · ×{row.lift:.1f}]")
        else:
            arrow = ":blue[▲]" if row.effect > 0 else ":orange[▼]"
            share = is_share_column(result.table, row.column)
            lines.append(f"**{md(_pretty(row.column))}** {arrow} {md(_number(row.selection, share))} :gray[vs "
                         f"{md(_number(row.others, share))} on average · {_sd(row.effect)}]")
    return lines


def selection_panel(run_id: str, number: int, result: SegmentationResult, rows: np.ndarray,
                    names: Mapping[int, str], fields: Sequence[str]) -> None:
    """What the lasso picked: who, what sets them apart, a CSV of them, and moving them to a segment."""
    table = plots_map.selected_customers(result, rows, names, fields)
    counts = table["segment"].value_counts()
    with st.container(border=True, key="map_selection"):
        st.markdown(f"**{len(rows):,} customers selected** :gray[· "
                    + ", ".join(f"{md(label)} {count:,}" for label, count in counts.items()) + "]")
        profile, actions = st.columns([3, 2], gap="large")
        with profile:
            lines = selection_lines(result, rows) if len(rows) < len(result.labels) else []
            st.markdown("**What sets them apart from everyone else**", help=EFFECT_HELP.replace("(median) ", ""))
            st.markdown("\n".join(f"- {line}" for line in lines) if lines else
                        ":gray[Nothing sets these customers clearly apart: no difference passes the significance "
                        "test. Select more customers, or a tighter group.]")
        with actions:
            st.download_button(f"Download these {len(rows):,} customers (CSV)", icon=":material/download:",
                               data=lambda: export.to_csv_bytes(
                                   export.labelled_customers(result, names, with_distance=False).iloc[rows]),
                               mime="text/csv", on_click="ignore",
                               file_name=f"selection-run-{number}-{len(rows)}-customers.csv", width="stretch",
                               key="map_download_selection")
            move_panel(run_id, result, rows, names)
        shown = table.head(MAX_LISTED)
        st.dataframe(shown, hide_index=True, width="stretch", height=min(360, 38 + 35 * len(shown)),
                     column_config={"text": st.column_config.TextColumn("What they wrote", width="large")})
        st.caption((f"The first {MAX_LISTED:,} are listed; the download has all of them. " if len(table) > MAX_LISTED
                    else "") + "Double-click the map to clear the selection.")


def search_panel(result: SegmentationResult, query: str, names: Mapping[int, str], fields: Sequence[str],
                 tags: Sequence[str] | None = None) -> np.ndarray:
    """Customers found by id, by words in their text or in their ``tags``; says how many and lists them."""
    rows, how = plots_map.find_customers(result.row_ids, result.texts, query, tags)
    if not query.strip():
        return rows
    if not len(rows):
        st.caption(f":material/search_off: No customer id, text or tag matches “{md(query.strip())}”.")
        return rows
    phrase = md(query.strip().strip('"'))  # a tag is named without the quotes that asked for it as written
    what = {"id": "with that id", "tags": f"tagged “{phrase}”"}.get(
        how, f"whose text {'or tags mention' if tags is not None else 'mentions'} “{md(query.strip())}”")
    with st.expander(f"{len(rows):,} customers {what} — ringed on the map", icon=":material/search:"):
        found = plots_map.selected_customers(result, rows[:MAX_LISTED], names, fields)
        if tags is not None and "tags" not in found.columns:
            found.insert(2, "tags", [tags[i] for i in rows[:MAX_LISTED]])
        st.dataframe(found, hide_index=True, width="stretch", height=min(300, 38 + 35 * len(found)),
                     column_config={"text": st.column_config.TextColumn("What they wrote", width="large")})
        if len(rows) > MAX_LISTED:
            st.caption(f"The first {MAX_LISTED:,} of {len(rows):,} are listed.")
    return rows
    if not len(rows):
        st.caption(f":material/search_off: No customer id or text matches “{md(query.strip())}”.")
        return rows
    what = "with that id" if how == "id" else f"whose text mentions “{md(query.strip())}”"
    with st.expander(f"{len(rows):,} customers {what} — ringed on the map", icon=":material/search:"):
        found = plots_map.selected_customers(result, rows[:MAX_LISTED], names, fields)
        st.dataframe(found, hide_index=True, width="stretch", height=min(300, 38 + 35 * len(found)),
                     column_config={"text": st.column_config.TextColumn("What they wrote", width="large")})
        if len(rows) > MAX_LISTED:
            st.caption(f"The first {MAX_LISTED:,} of {len(rows):,} are listed.")
    return rows
