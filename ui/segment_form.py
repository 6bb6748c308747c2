"""The Segment page's form: text, reduction and the algorithm's settings; running it (or showing the earlier run
with the same settings)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import streamlit as st

from segmentation.config import (
    DEFAULT_MODEL,
    TFIDF_MODEL,
    BlendConfig,
    ClusterConfig,
    ReduceConfig,
    RolesConfig,
    RunConfig,
    TextConfig,
    ThemeConfig,
)
from segmentation.errors import ConfigError
from segmentation.segment.cluster import CLUSTERERS

from . import cache
from .format import fmt_seconds, md, user_errors
from .progress import interrupted_run, run_with_progress
from .state import Studio

if TYPE_CHECKING:
    from segmentation.ingest.read import Dataset

MODELS = {"default": f"{DEFAULT_MODEL} (default)", "tfidf": "TF-IDF (fast)", "other": "Other…"}  # fits 1280 px
REDUCERS = {"umap": "UMAP (best separation)", "pca": "PCA (fast, linear)", "none": "None"}
MAPS = {"umap": "UMAP", "pca": "PCA (fast)"}
LEAVES_UNASSIGNED = ("hdbscan", "dbscan")
"""Algorithms that may leave customers unassigned: only they offer "Largest unassigned share"."""


def param_input(algorithm: str, param: Any, value: Any) -> float | int:
    """A number input for one algorithm parameter, built from its ParamSpec (range, default, help)."""
    key = f"seg_param_{algorithm}_{param.name}"
    if param.kind == "int":
        return int(st.number_input(param.label, min_value=int(param.low), max_value=int(param.high),
                                   value=int(value), step=1, help=param.help, key=key))
    return float(st.number_input(param.label, min_value=float(param.low), max_value=float(param.high),
                                 value=float(value), help=param.help, format="%.3g", key=key))


def describe(config: RunConfig) -> str:
    """The settings of a run in a few words, e.g. 'k-means · text: review, TF-IDF · reduced with PCA'."""
    spec = CLUSTERERS.get(config.cluster.algorithm)
    parts = [spec.label if spec else config.cluster.algorithm]
    if config.text.columns and config.blend.text_weight > 0:
        model = {TFIDF_MODEL: "TF-IDF"}.get(config.text.model, config.text.model)
        parts.append(f"text: {', '.join(map(str, config.text.columns))}, {model}")
    method = config.reduce.method
    parts.append("no reduction" if method == "none" else f"reduced with {REDUCERS.get(method, method).split(' ')[0]}")
    return " · ".join(parts)


def interrupted_notice(state: Studio, where: Any) -> RunConfig | None:
    """Say so in ``where`` when the last run was cut short (a refresh, a closed tab) and offer to run it again;
    the settings to run when "Run again" was clicked, else None."""
    found = interrupted_run(state)
    if found is None:
        return None
    config, going = found
    with where.container():
        if going:
            st.info(md(f"A run is still going in another tab ({describe(config)}). When it finishes it is saved "
                       "in this project; reload this page then to see it."), icon=":material/hourglass_top:")
            return None
        st.warning(md(f"The last run did not finish: the page was reloaded or closed while it was going. "
                      f"Its settings: {describe(config)}. Run it again with the same settings: texts embedded "
                      "before are reused, so it is quicker."), icon=":material/restart_alt:")
        buttons = st.container(horizontal=True)
        if buttons.button("Run again", type="primary", icon=":material/play_arrow:", key="seg_run_again"):
            return config
        if buttons.button("Dismiss", key="seg_run_dismiss"):
            state.set_run_marker(None)
            st.rerun()
    return None


def start_run(dataset: Dataset, state: Studio, config: RunConfig, panel: Any) -> None:
    """Run ``config`` with the progress panel in ``panel`` and make it the current run."""
    state.set_run_config(config)
    started = time.perf_counter()
    result = run_with_progress(dataset, config, panel)
    if result is not None:
        run = state.add_run(config, result, time.perf_counter() - started)
        state.notify(f"{run.title}: {result.metrics['n_segments']} segments in {fmt_seconds(run.seconds)}.")
        st.rerun()


def segment_form(dataset: Dataset, state: Studio, panel: Any = None) -> None:
    """The form with the last run's settings (the defaults before any run); on submit, run it with progress and
    make it the current run, or show the earlier run with the same settings. ``panel``: the container where the
    progress of a run (and the notice about a run cut short) is drawn; the page puts it at its top, in view."""
    panel = panel if panel is not None else st.container()
    notice = panel.empty()
    again = interrupted_notice(state, notice)
    roles: dict[str, str] = {}
    with user_errors():
        roles = cache.resolved_roles(dataset, state.role_overrides)
    text_columns = [c for c, r in roles.items() if r == "text"]
    saved = state.run_config or cache.default_config(dataset, state.role_overrides, roles)
    model_default = {DEFAULT_MODEL: "default", TFIDF_MODEL: "tfidf"}.get(saved.text.model, "other")

    pick, about = st.columns([1, 2], vertical_alignment="bottom")
    algorithm = pick.selectbox("Segmentation algorithm", list(CLUSTERERS), format_func=lambda n: CLUSTERERS[n].label,
                               index=list(CLUSTERERS).index(state.form_value("algorithm", saved.cluster.algorithm)),
                               key="seg_algorithm", help="Changing it shows its own settings in the form below.")
    state.set_form_value("algorithm", algorithm)
    spec = CLUSTERERS[algorithm]
    about.info(spec.description, icon=":material/lightbulb:")
    current = {**spec.defaults(), **(saved.cluster.as_dict() if saved.cluster.algorithm == algorithm else {}),
               **state.form_value(f"params_{algorithm}", {})}

    # not an st.form: each setting shows only while it applies (UMAP neighbours only with a UMAP), which needs a
    # rerun on every choice; nothing runs before "Run segmentation"
    with st.container(border=True, key="segment_form"):
        text_box, reduce_box, cluster_box = st.columns(3, gap="large")
        with text_box:
            st.markdown("**Text**")
            chosen_text = st.multiselect(
                "Text columns", text_columns, default=[c for c in saved.text.columns if c in text_columns],
                key="seg_text_columns", placeholder="No text column" if not text_columns else "Choose text columns",
                help="Free-text columns (reviews, notes) to embed. Set a column's role to 'text' on the Data page "
                     "to list it here.")
            model = state.form_value("model_choice", model_default)
            other = state.form_value("model_other", saved.text.model if model_default == "other" else "")
            weight = float(saved.blend.text_weight)
            if chosen_text:   # the model and the weight apply only to text
                model = st.selectbox("Embedding model", list(MODELS), format_func=MODELS.get, key="seg_model",
                                     index=list(MODELS).index(model))
                if model == "other":
                    other = st.text_input("Other model (name or local folder)", key="seg_model_other", value=other,
                                          help="Nothing is downloaded: give a local folder holding a "
                                               "sentence-transformers model.")
                weight = st.slider("Weight of text vs structure", 0.0, 1.0, weight, 0.05,
                                   key="seg_text_weight", help="0 compares customers only on their structured "
                                                               "columns, 1 only on what they wrote.")
            else:
                st.caption("Customers are compared on their structured columns only."
                           + ("" if text_columns else " To use what they wrote, set a column's role to “text” on "
                                                      "the Data page."))
        with reduce_box:
            st.markdown("**Reduction and map**")
            method = st.selectbox("Reduce before clustering", list(REDUCERS), format_func=REDUCERS.get,
                                  index=list(REDUCERS).index(saved.reduce.method), key="seg_reduce",
                                  help="UMAP separates groups best; its first run in a session takes about a minute "
                                       "to warm up. PCA is instant.")
            components, neighbours = int(saved.reduce.n_components), int(saved.reduce.n_neighbors)
            if method != "none":
                components = st.number_input("Dimensions", 2, 50, components, key="seg_components",
                                             help="Dimensions kept for clustering. 5 to 10 works well.")
            map_method = st.selectbox("Map layout", list(MAPS), format_func=MAPS.get, key="seg_map",
                                      index=list(MAPS).index(saved.reduce.map_method))
            if "umap" in (method, map_method):   # neighbours are a UMAP setting only
                neighbours = st.number_input("UMAP neighbours", 2, 200, neighbours, key="seg_neighbors",
                                             help="5 to 50 works well: small values keep local detail, large "
                                                  "values the overall shape.")
        with cluster_box:
            st.markdown(f"**{spec.label}**")
            params = {p.name: param_input(algorithm, p, current.get(p.name, p.default)) for p in spec.params}
            unassigned = float(saved.themes.max_unassigned)
            if algorithm in LEAVES_UNASSIGNED:
                unassigned = st.slider(
                    "Largest unassigned share", 0, 100, int(round(100 * unassigned)), 1, format="%d%%",
                    key="seg_max_unassigned",
                    help="The most customers you accept leaving outside every segment. If more are left out, those "
                         "nearest a segment join it (with a lower confidence) until only this share is left, and the "
                         "run's notes say how many. 100% keeps everyone the algorithm left out; 5% to 20% is usual "
                         "when every customer must be reached.") / 100
            seed = st.number_input("Random seed", 0, 2**32 - 1, int(saved.random_state), key="seg_seed",
                                   help="Same data, settings and seed give the same segments.")
        submitted = st.button("Run segmentation", type="primary", icon=":material/play_arrow:", key="seg_run")

    if submitted:
        state.set_form_value("model_choice", model)
        state.set_form_value("model_other", other)
        state.set_form_value(f"params_{algorithm}", params)
        with user_errors("Check the settings:"):
            model_name = {"default": DEFAULT_MODEL, "tfidf": TFIDF_MODEL}.get(model) or other.strip()
            if not model_name:
                raise ConfigError("Type a model name or a local folder for 'Other…', or choose another model.")
            config = RunConfig(
                roles=RolesConfig.from_mapping(state.role_overrides),
                text=TextConfig(columns=tuple(chosen_text), model=model_name),
                blend=BlendConfig(text_weight=weight),
                reduce=ReduceConfig(method=method, n_components=int(components), n_neighbors=int(neighbours),
                                    map_method=map_method),
                cluster=ClusterConfig.make(algorithm, **params),
                themes=ThemeConfig(detail=saved.themes.detail,
                                   max_unassigned=unassigned if algorithm in LEAVES_UNASSIGNED else 1.0),
                random_state=int(seed))
            state.set_run_config(config)
            earlier = state.find_run(config)
            if earlier is not None:
                state.select_run(earlier.run_id)
                state.notify(f"These settings were already run: showing {earlier.title}.")
                st.rerun()
            notice.empty()
            start_run(dataset, state, config, panel)
    elif again is not None:
        notice.empty()
        with user_errors("Check the settings:"):
            start_run(dataset, state, again, panel)
