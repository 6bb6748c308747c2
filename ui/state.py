"""Typed access to the session: the one place that reads and writes ``st.session_state``.

Everything is kept as plain, serialisable pieces (dicts of strings and numbers,
frozen configs with ``to_dict``) next to the immutable results, so a workspace
can save a session with ``snapshot()`` and bring it back with ``restore()``.

``set_dataset`` is the single place where a new dataset clears everything
derived from the old one: role overrides, run settings, runs, segment names,
widget choices. The analyst's own settings (the language model) are kept.

``Studio`` works on any mutable mapping, so tests can drive it with a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from segmentation.config import RunConfig, stable_hash

if TYPE_CHECKING:
    from segmentation.ingest.read import Dataset
    from segmentation.pipeline import SegmentationResult

_PREFIX = "studio."
_DERIVED = ("role_overrides", "run_config", "form", "runs", "current_run", "annotations", "choices", "notice",
            "curation", "links", "saved", "stability", "auto_search", "run_marker")
"""Keys that describe the current dataset and are cleared when another one is loaded."""

ANNOTATION_FIELDS = ("name", "description", "notes")


@dataclass(frozen=True)
class Source:
    """The raw file behind the dataset, kept so it can be re-read with other options."""

    name: str
    data: bytes = field(repr=False)
    options: Any = None  # segmentation.io.LoadOptions


@dataclass(frozen=True)
class RunRecord:
    """One segmentation of the current dataset, with when it was made."""

    run_id: str
    number: int
    config: RunConfig
    result: SegmentationResult = field(repr=False)
    created: float
    seconds: float = 0.0

    @property
    def title(self) -> str:
        from segmentation.segment.cluster import CLUSTERERS

        spec = CLUSTERERS.get(self.config.cluster.algorithm)
        return f"Run {self.number} · {spec.label if spec else self.config.cluster.algorithm}"

    def plain(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "number": self.number, "config": self.config.to_dict(),
                "created": self.created, "seconds": self.seconds, "data_digest": self.result.data_digest}


class Studio:
    """Session state for one analyst. Obtain it with ``studio()`` in pages."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self._store = store

    # --- raw access -----------------------------------------------------------------
    def _get(self, name: str, default: Any = None) -> Any:
        return self._store.get(_PREFIX + name, default)

    def _set(self, name: str, value: Any) -> None:
        self._store[_PREFIX + name] = value

    def _drop(self, name: str) -> None:
        self._store.pop(_PREFIX + name, None)

    # --- dataset ------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self._get("dataset")

    @property
    def source(self) -> Source | None:
        return self._get("source")

    def set_dataset(self, dataset: Dataset | None, source: Source | None = None, notice: str | None = None
                    ) -> None:
        """Make ``dataset`` current and forget everything derived from the previous one."""
        for name in _DERIVED:
            self._drop(name)
        self._drop("load_error")
        self._set("dataset", dataset)
        self._set("source", source)
        if notice:
            self.notify(notice)

    @property
    def load_error(self) -> str | None:
        """Why the last file could not be loaded (the previous dataset, if any, stays current)."""
        return self._get("load_error")

    def set_load_error(self, message: str | None) -> None:
        self._set("load_error", message)

    def upload_is_new(self, file_id: str) -> bool:
        """True once per uploaded file, so a file is loaded once and not again on every rerun."""
        if self._get("last_upload") == file_id:
            return False
        self._set("last_upload", file_id)
        return True

    @property
    def held_upload(self) -> tuple[Dataset, Source | None, str] | None:
        """A file loaded while a project with data is open, waiting for the analyst to say whether it joins that
        project or starts a new one: (dataset, source, notice). The current dataset stays current meanwhile."""
        return self._get("held_upload")

    def hold_upload(self, held: tuple[Dataset, Source | None, str] | None) -> None:
        self._set("held_upload", held)

    # --- roles ----------------------------------------------------------------------
    @property
    def role_overrides(self) -> dict[str, str]:
        return dict(self._get("role_overrides", {}))

    def set_role_overrides(self, overrides: dict[str, str]) -> None:
        self._set("role_overrides", {str(k): str(v) for k, v in overrides.items()})

    # --- run settings ---------------------------------------------------------------
    @property
    def run_config(self) -> RunConfig | None:
        """The settings of the Segment form as last submitted (None: defaults for this dataset)."""
        return self._get("run_config")

    def set_run_config(self, config: RunConfig) -> None:
        self._set("run_config", config)

    @property
    def run_marker(self) -> dict[str, Any] | None:
        """The run recorded as started and not yet as finished (settings, data digest, start), kept in the
        project too: still there on a later visit means the run was cut short (see ``ui.progress``)."""
        return self._get("run_marker")

    def set_run_marker(self, marker: dict[str, Any] | None) -> None:
        self._set("run_marker", marker)

    def form_value(self, name: str, default: Any = None) -> Any:
        """A Segment-form choice that is not part of RunConfig (e.g. which model option was picked)."""
        return self._get("form", {}).get(name, default)

    def set_form_value(self, name: str, value: Any) -> None:
        self._set("form", {**self._get("form", {}), name: value})

    # --- runs -----------------------------------------------------------------------
    @property
    def runs(self) -> list[RunRecord]:
        return list(self._get("runs", []))

    def add_run(self, config: RunConfig, result: SegmentationResult, seconds: float = 0.0) -> RunRecord:
        """Append a run to the history and make it current."""
        runs = self.runs
        number = max((r.number for r in runs), default=0) + 1
        record = RunRecord(run_id=f"run-{number}-{stable_hash(result.data_digest, config)[:8]}", number=number,
                           config=config, result=result, created=time.time(), seconds=seconds)
        self._set("runs", runs + [record])
        self._set("current_run", record.run_id)
        # the sidebar's run picker still holds the previous run: let it be drawn again from the current one
        self.reset_widget("sidebar_run")
        return record

    def find_run(self, config: RunConfig) -> RunRecord | None:
        """An earlier run of the current dataset with exactly this config, if any."""
        return next((r for r in self.runs if r.config == config), None)

    @property
    def current_run(self) -> RunRecord | None:
        run_id = self._get("current_run")
        return next((r for r in self.runs if r.run_id == run_id), None)

    @property
    def result(self) -> SegmentationResult | None:
        run = self.current_run
        return run.result if run else None

    def select_run(self, run_id: str) -> None:
        if any(r.run_id == run_id for r in self.runs):
            self._set("current_run", run_id)

    # --- analyst annotations per run ------------------------------------------------
    def annotations(self, run_id: str | None = None) -> dict[int, dict[str, str]]:
        run_id = run_id or self._get("current_run")
        return {int(k): dict(v) for k, v in self._get("annotations", {}).get(run_id, {}).items()}

    def segment_names(self, run_id: str | None = None) -> dict[int, str]:
        """The analyst's segment names for a run (the current one by default); unnamed segments are absent."""
        return {s: a["name"] for s, a in self.annotations(run_id).items() if a.get("name")}

    def shown_names(self, result: Any, run_id: str | None = None) -> dict[int, str]:
        """What each segment of ``result`` is called on every page: the analyst's names, else the suggested ones
        (``segmentation.understand.naming.display_names``, the very names every export carries)."""
        from segmentation.understand.naming import display_names

        return display_names(result.profiles, self.segment_names(run_id))

    def annotate(self, segment: int, field_name: str, value: str, run_id: str | None = None) -> None:
        """Set a segment's name, description or notes for a run (the current one by default)."""
        if field_name not in ANNOTATION_FIELDS:
            raise ValueError(f"field_name must be one of {ANNOTATION_FIELDS}. Got {field_name!r}.")
        run_id = run_id or self._get("current_run")
        if run_id is None:
            return
        everything = {k: {int(s): dict(a) for s, a in v.items()} for k, v in self._get("annotations", {}).items()}
        per_run = everything.setdefault(run_id, {})
        per_run.setdefault(int(segment), {})[field_name] = " ".join(str(value).split()) \
            if field_name == "name" else str(value)
        self._set("annotations", everything)

    # --- widget choices that must survive page switches ---------------------------
    def choice(self, name: str, default: Any = None) -> Any:
        return self._get("choices", {}).get(name, default)

    def set_choice(self, name: str, value: Any) -> None:
        self._set("choices", {**self._get("choices", {}), name: value})

    # --- settings of the analyst, not of the dataset: a new dataset keeps them -----
    @property
    def language_model(self) -> dict[str, Any]:
        """The language model settings saved on the Settings page (url, model, key_env, timeout); {} when none."""
        return dict(self._get("language_model") or {})

    def set_language_model(self, settings: dict[str, Any]) -> None:
        self._set("language_model", json.loads(json.dumps(settings)))

    def widget_value(self, key: str, default: Any = None) -> Any:
        """The current value of a keyed widget (for its on_change callback)."""
        return self._store.get(key, default)

    def reset_widget(self, key: str) -> None:
        """Forget a mounted widget's value so that it is drawn again from the state (e.g. after "Use suggested
        names" fills the names in)."""
        self._store.pop(key, None)

    # --- curation (Profiles page) --------------------------------------------------------------------------------
    # Merges, splits, moves and the Unassigned policy of each run, kept as plain JSON so a workspace can save
    # them (curation_snapshot / restore_curation): per run a list of {"step": CurationStep.to_dict(), "mapping":
    # segment id before -> after, "annotations": the run's names, descriptions and notes just before the step}.
    # curated_run() is the run as every page shows it.
    def curation_steps(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """The curation steps of a run (the current one by default), oldest first, as CurationStep dicts."""
        run_id = run_id or self._get("current_run")
        return [dict(entry["step"]) for entry in self._get("curation", {}).get(run_id, [])]

    def push_curation(self, step: dict[str, Any], mapping: dict[int, int | None], run_id: str | None = None
                      ) -> None:
        """Record a curation step that was applied; names, descriptions and notes follow their segments
        (``mapping``: each segment id before the step -> its id after it, None when it has no customer left)."""
        from segmentation.choose.curate import carry_names

        run_id = run_id or self._get("current_run")
        if run_id is None:
            return
        before = self.annotations(run_id)
        after: dict[int, dict[str, str]] = {}
        for field_name in ANNOTATION_FIELDS:
            carried = carry_names({s: a.get(field_name, "") for s, a in before.items()}, mapping)
            for segment, value in carried.items():
                after.setdefault(int(segment), {})[field_name] = value
        self._set("annotations", {**self._get("annotations", {}), run_id: after})
        entry = {"step": dict(step), "mapping": {str(k): (None if v is None else int(v)) for k, v in mapping.items()},
                 "annotations": {str(s): dict(a) for s, a in before.items()}}
        curation = dict(self._get("curation", {}))
        curation[run_id] = list(curation.get(run_id, [])) + [entry]
        self._set("curation", curation)

    def undo_curation(self, run_id: str | None = None) -> dict[str, Any] | None:
        """Take back a run's last curation step (returned; None when there is none). Segments a merge joined get
        their names, descriptions and notes from before it back; the others keep any edit made since."""
        run_id = run_id or self._get("current_run")
        curation = dict(self._get("curation", {}))
        entries = list(curation.get(run_id, []))
        if not entries:
            return None
        last = entries.pop()
        restored = {int(s): dict(a) for s, a in last["annotations"].items()}
        current = self.annotations(run_id)
        targets = [v for v in last["mapping"].values() if v is not None]
        for old, new in last["mapping"].items():
            if new == int(old) and targets.count(new) == 1:
                restored.pop(new, None)
                if new in current:
                    restored[new] = current[new]
        self._set("annotations", {**self._get("annotations", {}), run_id: restored})
        curation[run_id] = entries
        self._set("curation", curation)
        return dict(last["step"])

    def segment_descriptions(self, run_id: str | None = None) -> dict[int, str]:
        """The analyst's own segment descriptions for a run (generated ones are in the profiles)."""
        return {s: a["description"] for s, a in self.annotations(run_id).items() if a.get("description", "").strip()}

    def segment_notes(self, run_id: str | None = None) -> dict[int, str]:
        """The analyst's notes per segment for a run."""
        return {s: a["notes"] for s, a in self.annotations(run_id).items() if a.get("notes", "").strip()}

    def curated_run(self, with_annotations: bool = True) -> RunRecord | None:
        """The current run as the pages show it: its result with the curation steps applied (recomputed once,
        cached in ui.cache) and, with ``with_annotations``, the analyst's descriptions in its profiles."""
        from dataclasses import replace

        from segmentation.errors import SegmentationError

        run = self.current_run
        if run is None:
            return None
        result = run.result
        steps = self.curation_steps(run.run_id)
        if steps:
            from .cache import curated_result

            try:
                result = curated_result(run.result, run.run_id, steps)
            except SegmentationError as error:  # e.g. steps saved by another version: show the run as it was
                self.notify(f"The hand-made changes to this run could not be applied again ({error}); showing the "
                            "segments as found.")
                curation = dict(self._get("curation", {}))
                curation.pop(run.run_id, None)
                self._set("curation", curation)
        detail = self.choice("theme_detail", {}).get(run.run_id)   # the Profiles page's "Theme detail" (themes_view)
        if detail is not None and result.theme_labels is not None and float(detail) != result.config.themes.detail:
            from .cache import themed_result

            result = themed_result(result, run.run_id, steps, float(detail))
        if with_annotations:
            from segmentation.choose.curate import apply_descriptions

            result = apply_descriptions(result, self.segment_descriptions(run.run_id))
        return run if result is run.result else replace(run, result=result)

    def curation_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every run's curation as plain JSON, for the workspace."""
        return json.loads(json.dumps(self._get("curation", {})))

    def restore_curation(self, data: dict[str, list[dict[str, Any]]] | None) -> None:
        self._set("curation", json.loads(json.dumps(data or {})))

    # --- workspace link (kept in step with the workspace by ui.workspace_sync) -------
    @property
    def workspace_root(self) -> str | None:
        """The workspace folder chosen on the Settings page for this session (None: the default one)."""
        return self._get("workspace_root")

    def set_workspace_root(self, root: str | None) -> None:
        self._set("workspace_root", root)

    @property
    def project(self) -> dict[str, str] | None:
        """The open project as {"id", "name"}, or None when no project is open."""
        project = self._get("project")
        return dict(project) if project else None

    def set_project(self, project_id: str | None, name: str = "") -> None:
        """Open (or, with None, close) a project; what was linked to the previous one is forgotten."""
        self._set("project", {"id": project_id, "name": name} if project_id else None)
        self._drop("links")
        self._drop("saved")

    def set_project_name(self, name: str) -> None:
        """The open project was renamed."""
        if self.project:
            self._set("project", {**self.project, "name": name})

    @property
    def links(self) -> dict[str, Any]:
        """How the session maps onto the open project: {"dataset_id", "digest", "runs": {run id: stored id}}."""
        links = self._get("links") or {}
        return {"dataset_id": links.get("dataset_id"), "digest": links.get("digest"),
                "runs": dict(links.get("runs", {}))}

    def link_dataset(self, dataset_id: int, digest: str) -> None:
        self._set("links", {**self.links, "dataset_id": int(dataset_id), "digest": digest})

    def link_run(self, run_id: str, stored_id: int) -> None:
        links = self.links
        self._set("links", {**links, "runs": {**links["runs"], run_id: int(stored_id)}})

    def saved(self, part: str, default: Any = None) -> Any:
        """What the project held for ``part`` when this session last wrote or read it (to write only changes)."""
        return (self._get("saved") or {}).get(part, default)

    def set_saved(self, part: str, value: Any) -> None:
        self._set("saved", {**(self._get("saved") or {}), part: value})

    @property
    def page(self) -> str | None:
        """The last work page shown (its URL path), so that opening the project again lands there."""
        return self._get("page")

    def set_page(self, page: str | None) -> None:
        self._set("page", page)

    @property
    def asking(self) -> str | None:
        """The action waiting for the analyst to confirm it (e.g. "delete:<project id>"), if any."""
        return self._get("asking")

    def ask(self, action: str | None) -> None:
        """Ask to confirm ``action`` before doing it (None: nothing to confirm any more)."""
        self._set("asking", action)

    @property
    def workspace_error(self) -> str | None:
        """Why the last save to the workspace failed (None when it worked)."""
        return self._get("workspace_error")

    def set_workspace_error(self, message: str | None) -> None:
        self._set("workspace_error", message)

    # --- choose (Quality/Segment pages) ------------------------------------------------------------------------
    # Plain JSON only. Per run, the last stability check (see ui.quality_view.stability_record for its fields); and
    # the automatic search last made on the Segment page (its key in ui.cache, the settings it searched with). The
    # leaderboard itself is kept in ui.cache, not here: it holds configs and a large frame.
    def stability_check(self, run_id: str) -> dict[str, Any] | None:
        """The last stability check of a run, as plain JSON, or None when it was never checked."""
        check = self._get("stability", {}).get(run_id)
        return json.loads(json.dumps(check)) if check else None

    def set_stability_check(self, run_id: str, check: dict[str, Any]) -> None:
        self._set("stability", {**self._get("stability", {}), run_id: json.loads(json.dumps(check))})

    @property
    def auto_search(self) -> dict[str, Any] | None:
        """The automatic search last made on the Segment page (plain JSON), or None."""
        search = self._get("auto_search")
        return dict(search) if search else None

    def set_auto_search(self, search: dict[str, Any] | None) -> None:
        self._set("auto_search", json.loads(json.dumps(search)) if search else None)

    def set_widget(self, key: str, value: Any) -> None:
        """Set a keyed widget's value for the next rerun. Unlike ``reset_widget`` the browser shows the new value
        even while the widget stays on screen (e.g. the Segment form after a search result is opened)."""
        self._store[key] = value
    # --- end choose ------------------------------------------------------------------------------------------------

    # --- routing ---------------------------------------------------------------------
    def mark_routed(self) -> None:
        """Called by app.py just before it runs a page: this run went through the router."""
        self._set("routed", True)

    def pop_routed(self) -> bool:
        """Called first by every page: True if app.py routed this run (and resets the mark for the next run)."""
        routed = bool(self._get("routed", False))
        self._drop("routed")
        return routed

    # --- one-off messages shown after a rerun ---------------------------------------
    def notify(self, message: str) -> None:
        self._set("notice", message)

    def pop_notice(self) -> str | None:
        notice = self._get("notice")
        self._drop("notice")
        return notice

    # --- persistence ----------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The session as plain JSON-able pieces (the dataset and results themselves are not included)."""
        dataset = self.dataset
        config = self.run_config
        pieces = {
            "dataset": None if dataset is None else {"name": dataset.name, "digest": dataset.digest},
            "role_overrides": self.role_overrides,
            "run_config": None if config is None else config.to_dict(),
            "form": dict(self._get("form", {})),
            "runs": [r.plain() for r in self.runs],
            "current_run": self._get("current_run"),
            "annotations": {k: {str(s): dict(a) for s, a in v.items()}
                            for k, v in self._get("annotations", {}).items()},
            "choices": dict(self._get("choices", {})),
        }
        return json.loads(json.dumps(pieces, default=str))  # exactly what a JSON file would give back

    def restore(self, snapshot: dict[str, Any], dataset: Dataset | None,
                results: dict[str, SegmentationResult], source: Source | None = None) -> None:
        """Bring back a ``snapshot`` with its dataset (and the file it came from, when known) and the results of
        its runs (by run id)."""
        self.set_dataset(dataset, source)
        self.set_role_overrides(snapshot.get("role_overrides", {}))
        if snapshot.get("run_config"):
            self.set_run_config(RunConfig.from_dict(snapshot["run_config"]))
        self._set("form", dict(snapshot.get("form", {})))
        runs = [RunRecord(run_id=r["run_id"], number=int(r["number"]), config=RunConfig.from_dict(r["config"]),
                          result=results[r["run_id"]], created=float(r["created"]), seconds=float(r["seconds"]))
                for r in snapshot.get("runs", []) if r["run_id"] in results]
        self._set("runs", runs)
        self._set("current_run", snapshot.get("current_run") if any(
            r.run_id == snapshot.get("current_run") for r in runs) else (runs[-1].run_id if runs else None))
        self._set("annotations", {k: {int(s): dict(a) for s, a in v.items()}
                                  for k, v in snapshot.get("annotations", {}).items()})
        self._set("choices", dict(snapshot.get("choices", {})))


def studio() -> Studio:
    """The current session's state."""
    import streamlit as st

    return Studio(st.session_state)


__all__ = ["ANNOTATION_FIELDS", "RunRecord", "Source", "Studio", "studio"]
