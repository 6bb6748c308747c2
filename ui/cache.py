"""Every ``st.cache_*`` wrapper of the app, in one place.

Keys are small: a data digest plus frozen configs. Heavy arguments (bytes,
tables) are passed as ``_underscore`` parameters, which Streamlit does not hash.
Every cache is bounded. The segmentation itself is not cached here: runs live
in the session's run history, and the library's own stage cache already makes a
re-run with only a new clustering setting fast (caching results twice would
keep two copies of large arrays).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from segmentation.config import RunConfig
from segmentation.lazy import lazy
from segmentation.paths import DEMO_DATA

pd = lazy("pandas")
clean = lazy("segmentation.ingest.clean")
io = lazy("segmentation.ingest.read")
pipeline = lazy("segmentation.pipeline")
schema = lazy("segmentation.ingest.roles")
transactions = lazy("segmentation.ingest.orders")

DEMO_NAME = "Demo customers"


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# cache_resource, not cache_data: a table of a few hundred MB is handed out as is, not copied on every
# rerun. Nothing mutates it (pandas copy-on-write), and results keep their own cleaned copy.
@st.cache_resource(max_entries=3, show_spinner=False)
def _load_table(digest: str, name: str, options: io.LoadOptions, _data: bytes) -> io.Dataset:
    return io.load_table(_data, name=name, options=options)


def load_dataset(data: bytes, name: str, options: io.LoadOptions | None = None) -> io.Dataset:
    """Read uploaded bytes into a Dataset (raises DataError/ConfigError with a message for the analyst)."""
    io.check_upload_size(len(data))
    return _load_table(digest_bytes(data), name, options or io.LoadOptions(), data)


def demo_bytes() -> bytes:
    return DEMO_DATA.read_bytes()


@st.cache_data(max_entries=8, show_spinner=False)
def _infer_roles(digest: str, _table: pd.DataFrame) -> dict[str, Any]:
    return schema.infer_roles(_table)


def infer_roles(dataset: io.Dataset) -> dict[str, Any]:
    """Inferred ColumnRole per column, computed once per dataset."""
    return _infer_roles(dataset.digest, dataset.table)


def resolved_roles(dataset: io.Dataset, overrides: dict[str, str]) -> dict[str, str]:
    """Column -> role after the analyst's overrides."""
    return _resolved_roles(dataset.digest, tuple(sorted(overrides.items())), dataset.table)


@st.cache_data(max_entries=16, show_spinner=False)
def _resolved_roles(digest: str, overrides: tuple[tuple[str, str], ...], _table: pd.DataFrame) -> dict[str, str]:
    return schema.resolve_roles(_table, dict(overrides), inferred=_infer_roles(digest, _table))


def default_config(dataset: io.Dataset, overrides: dict[str, str], roles: dict[str, str] | None = None
                   ) -> RunConfig:
    """The settings a new run of ``dataset`` starts from: the library's run defaults (as ``python -m segmentation
    run`` uses them) for the roles after the analyst's ``overrides`` (``roles``: those roles, when already
    resolved)."""
    roles = resolved_roles(dataset, overrides) if roles is None else roles
    return pipeline.default_config(dataset.table, overrides, roles=roles)


@st.cache_data(max_entries=8, show_spinner=False)
def _quality_report(digest: str, roles: tuple[tuple[str, str], ...], _table: pd.DataFrame) -> Any:
    return clean.quality_report(_table, dict(roles))


def quality_report(dataset: io.Dataset, roles: dict[str, str]) -> Any:
    return _quality_report(dataset.digest, tuple(sorted(roles.items())), dataset.table)


@st.cache_data(max_entries=8, show_spinner=False)
def _column_histograms(digest: str, roles: tuple[tuple[str, str], ...], _table: pd.DataFrame) -> dict:
    from segmentation.ingest.distribution import column_histograms

    return column_histograms(_table, dict(roles))


def column_histograms(dataset: io.Dataset, roles: dict[str, str]) -> dict[str, list[int]]:
    """Small histograms of every column for the column statistics (empty lists for text, ids, personal data)."""
    return _column_histograms(dataset.digest, tuple(sorted(roles.items())), dataset.table)


@st.cache_data(max_entries=8, show_spinner=False)
def _detect_transactions(digest: str, _table: pd.DataFrame) -> Any:
    return transactions.detect_transactions(_table)


def detect_transactions(dataset: io.Dataset) -> Any:
    """The order-line layout of the table, or None when it already has one row per customer."""
    return _detect_transactions(dataset.digest, dataset.table)


@st.cache_data(max_entries=8, show_spinner=False)
def _guess_layout(digest: str, _table: pd.DataFrame) -> Any:
    return transactions.guess_layout(_table)


def guess_layout(dataset: io.Dataset) -> Any:
    """The detected order-line layout with its confidence and reasons, or None (``orders.guess_layout``)."""
    return _guess_layout(dataset.digest, dataset.table)


@st.cache_data(max_entries=8, show_spinner=False)
def _preview_rollup(digest: str, layout_key: str, _layout: Any, _table: pd.DataFrame) -> pd.DataFrame:
    return transactions.preview_rollup(_table, _layout)


def preview_rollup(dataset: io.Dataset, layout: Any) -> pd.DataFrame:
    """The first customers rolled up with ``layout``, to check it before the whole file is rolled up."""
    return _preview_rollup(dataset.digest, repr(layout), layout, dataset.table)


# keyed by the layout too (its repr names every column): the same file rolled up with other columns is another
# dataset
@st.cache_resource(max_entries=2, show_spinner=False)
def _rollup(digest: str, layout_key: str, _layout: Any, _dataset: io.Dataset) -> tuple[io.Dataset, tuple[str, ...]]:
    return transactions.rollup_dataset(_dataset, _layout, predict=True)  # predicted value: seconds, cached here


def rollup(dataset: io.Dataset, layout: Any) -> tuple[io.Dataset, tuple[str, ...]]:
    """One row per customer from order lines, as a new Dataset, plus notes on what was done (the library's
    ``rollup_dataset``, as ``python -m segmentation run`` does it)."""
    return _rollup(dataset.digest, repr(layout), layout, dataset)


@st.cache_resource(max_entries=4, show_spinner="Fitting a model of the outcome…")
def _outcome_model(digest: str, roles_key: str, column: str, seed: int, _table: pd.DataFrame,
                   _roles: dict[str, str]) -> Any:
    from segmentation.understand.outcomes import fit_propensity

    return fit_propensity(_table, _roles, column, random_state=seed)


def outcome_model(result: pipeline.SegmentationResult, column: str) -> Any:
    """The held-out-checked propensity model of an outcome column of ``result`` (``outcomes.fit_propensity``)."""
    roles = dict(result.roles)
    return _outcome_model(result.data_digest, repr(sorted(roles.items())), column, result.config.random_state,
                          result.table, roles)


def run_segmentation(dataset: io.Dataset, config: RunConfig,
                     on_progress: Callable[[str, float], None] | None = None) -> pipeline.SegmentationResult:
    """Segment the dataset; stage outputs are reused from the library's in-process stage cache."""
    return pipeline.run(dataset.table, config, on_progress=on_progress, digest=dataset.digest)


# --------------------------------------------------------------------------- curation (Profiles page)
# cache_resource: a curated result shares the run's arrays and only adds labels and profiles, so handing the
# same object out is cheap. Keyed by the run id (which hashes the data and the config) plus the steps as JSON.
@st.cache_resource(max_entries=8, show_spinner="Recomputing the segments after your changes…")
def _curated_result(run_id: str, digest: str, steps_json: str, _result: pipeline.SegmentationResult
                    ) -> pipeline.SegmentationResult:
    from segmentation.choose.curate import apply_curation

    return apply_curation(_result, json.loads(steps_json))


def curated_result(result: pipeline.SegmentationResult, run_id: str, steps: list[dict[str, Any]]
                   ) -> pipeline.SegmentationResult:
    """A run's result after its curation steps (merge, split, move, assign the unassigned), with metrics and
    profiles recomputed; raises ConfigError when a step does not fit the run."""
    return _curated_result(run_id, result.data_digest, json.dumps(steps, sort_keys=True), result)


# The theme level at the analyst's detail (Profiles page, ui.themes_view): about a second for 20,000 customers, and
# a result that shares the run's arrays. Keyed like the curated result, plus the detail.
@st.cache_resource(max_entries=8, show_spinner="Finding the themes at this level of detail…")
def _themed_result(run_id: str, digest: str, steps_json: str, detail: float, _result: pipeline.SegmentationResult
                   ) -> pipeline.SegmentationResult:
    return _result.with_themes(detail)


def themed_result(result: pipeline.SegmentationResult, run_id: str, steps: list[dict[str, Any]], detail: float
                  ) -> pipeline.SegmentationResult:
    """``result`` (a run after its curation ``steps``) with its themes at ``detail`` (0 coarse .. 1 fine)."""
    return _themed_result(run_id, result.data_digest, json.dumps(steps, sort_keys=True), float(detail), result)


# --------------------------------------------------------------------------- workspace (ui.workspace_sync)
# Stored datasets and runs never change once saved (curation and names live beside them), so a loaded copy is
# shared by every session that opens the same project, keyed by (workspace folder, project id, stored id).
@st.cache_resource(max_entries=4, show_spinner=False)
def workspace(root: str) -> Any:
    """The workspace in ``root`` (opened once per folder; raises WorkspaceError when it cannot be used)."""
    from segmentation.store.workspace import Workspace

    return Workspace(root)


@st.cache_resource(max_entries=8, show_spinner=False)
def project(root: str, project_id: str) -> Any:
    """A project of the workspace in ``root`` (raises WorkspaceError when it is missing or damaged)."""
    return workspace(root).open_project(project_id)


@st.cache_resource(max_entries=4, show_spinner=False)
def _stored_dataset(root: str, project_id: str, dataset_id: int, _project: Any) -> io.Dataset:
    return _project.load_dataset(dataset_id)


def stored_dataset(root: str, project: Any, dataset_id: int) -> io.Dataset:
    """A dataset saved in ``project``, exactly as it was loaded."""
    return _stored_dataset(root, project.id, int(dataset_id), project)


@st.cache_resource(max_entries=16, show_spinner=False)
def _stored_run(root: str, project_id: str, run_id: int, _project: Any) -> pipeline.SegmentationResult:
    return _project.load_run(run_id)


def stored_run(root: str, project: Any, run_id: int) -> pipeline.SegmentationResult:
    """A run saved in ``project``, exactly as it was saved."""
    return _stored_run(root, project.id, int(run_id), project)


@st.cache_data(ttl=10, max_entries=4, show_spinner=False)
def project_list(root: str) -> list[Any]:
    """Every project of the workspace in ``root`` (ProjectInfo), most recently changed first. Kept for a few
    seconds, as the sidebar asks on every rerun; ``forget_projects`` after a change made here."""
    return workspace(root).list_projects()


def forget_projects() -> None:
    """Drop the cached project list (after a create, rename, duplicate, delete or save)."""
    project_list.clear()


# --------------------------------------------------------------------------- choose (Segment and Quality pages)
# The automatic search and the stability check report progress to the page while they run. A function decorated
# with st.cache_* records every element drawn during its call and replays it on a hit, which fails for elements
# created outside it (the status box and its progress bar). So their results are kept in small bounded stores
# instead: shared by every session like cache_resource, filled by the caller, keyed by the data digest and the
# frozen configs the result depends on (same data + same settings = same result).
class _Bounded:
    """A thread-safe store that forgets the least recently used entry beyond ``size`` entries."""

    def __init__(self, size: int) -> None:
        import threading
        from collections import OrderedDict

        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_STORE_SIZES = {"search": 4, "stability": 16}


@st.cache_resource(show_spinner=False)
def _store(kind: str) -> _Bounded:
    return _Bounded(_STORE_SIZES[kind])


def leaderboard(key: str) -> Any:
    """The leaderboard of an automatic search made earlier under ``key`` (see ``search``), or None."""
    return _store("search").get(key)


def search(key: str, Z: Any, settings: dict[str, Any],
           on_progress: Callable[[str, float], None] | None = None) -> Any:
    """``selection.search`` of cluster space ``Z`` with ``settings`` (its keyword arguments), kept under ``key``,
    which must identify the data, the settings before clustering and ``settings``."""
    from segmentation.choose import search as selection

    board = _store("search").get(key)
    if board is None:
        board = selection.search(Z, on_progress=on_progress, **settings)
        _store("search").put(key, board)
    return board


def stability(key: str, X: Any, reduce_config: Any, cluster_config: Any, random_state: int, labels: Any,
              on_progress: Callable[[str, float], None] | None = None, **settings: Any) -> Any:
    """``stability.stability`` of ``labels`` (a run's segments): the reduction ``reduce_config`` and clustering
    ``cluster_config`` re-run on resamples of the features ``X``, kept under ``key``, which must identify the run
    and any hand-made change to its segments."""
    from segmentation.choose import stability as stability_module

    report = _store("stability").get(key)
    if report is None:
        report = stability_module.stability(X, reduce_config, cluster_config, random_state, labels=labels,
                                             on_progress=on_progress, **settings)
        _store("stability").put(key, report)
    return report


@st.cache_data(max_entries=8, show_spinner="Trying every number of segments with k-means and a Gaussian mixture…")
def _k_curves(key: str, k_range: tuple[int, int], random_state: int, _Z: Any) -> pd.DataFrame:
    from segmentation.choose.diagnostics import k_curves as curves

    return curves(_Z, k_range, random_state)


def k_curves(key: str, Z: Any, k_range: tuple[int, int], random_state: int) -> pd.DataFrame:
    """``diagnostics.k_curves`` of cluster space ``Z``; ``key`` identifies the data and the settings before
    clustering (the curves do not depend on the clustering)."""
    return _k_curves(key, tuple(k_range), int(random_state), Z)


@st.cache_data(max_entries=8, show_spinner=False)
def _silhouette_table(key: str, random_state: int, _Z: Any, _labels: Any) -> pd.DataFrame:
    from segmentation.choose.diagnostics import silhouette_table as table

    return table(_Z, _labels, random_state=random_state)


def silhouette_table(key: str, Z: Any, labels: Any, random_state: int) -> pd.DataFrame:
    """``diagnostics.silhouette_table`` of a run's segments; ``key`` identifies the run and its hand-made changes."""
    return _silhouette_table(key, int(random_state), Z, labels)


# --------------------------------------------------------------------------- act (Export and Assign pages)
# Saved models, model and report files, customer files to assign and their assignments. A download button's
# callable runs outside the script run, where no st.* call works, so these are plain bounded stores (like the ones
# above) that ui.act_view fetches during the script run and fills on demand. Keys: the run, its hand-made changes
# and the analyst's names and descriptions as JSON (hashed); an uploaded file's sha256.
_ACT_STORE_SIZES = {"models": 4, "files": 6, "tables": 2, "assignments": 4}


@st.cache_resource(show_spinner=False)
def _act_store(kind: str) -> _Bounded:
    return _Bounded(_ACT_STORE_SIZES[kind])


def act_store(kind: str) -> _Bounded:
    """The bounded store of ``kind``: "models" (SegmentModel), "files" (model and report bytes), "tables" (customer
    files to assign, as Datasets) or "assignments" (ui.act_view.Assignment)."""
    return _act_store(kind)


def kept(store: _Bounded, key: str, make: Callable[[], Any]) -> Any:
    """``store``'s value under ``key``; made with ``make`` and kept the first time. Safe outside the script run."""
    value = store.get(key)
    if value is None:
        value = make()
        store.put(key, value)
    return value
# --- end act ---------------------------------------------------------------------------------------------------------
