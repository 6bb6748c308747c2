"""Workspace commands: ``python -m segmentation projects ...`` and ``python -m segmentation export ...``.

They read and write the same workspace as the app (``--workspace DIR``, else
``$SEGMENT_STUDIO_HOME``, else ``~/.segment-studio``). Wired into ``cli.py`` with
:func:`register`; each handler returns the exit status and raises
``SegmentationError`` for problems the user can fix.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segmentation.cli.act import add_export_options, export_options
from segmentation.errors import WorkspaceError
from segmentation.store.project import Project
from segmentation.store.workspace import ProjectInfo, Workspace, format_size

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

WORKSPACE_HELP = "workspace folder (default: $SEGMENT_STUDIO_HOME, else ~/.segment-studio)"


def add_workspace_argument(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """Add ``--workspace DIR``; on nested parsers (``top=False``) it does not overwrite a value given earlier."""
    parser.add_argument("--workspace", metavar="DIR", default=None if top else argparse.SUPPRESS, help=WORKSPACE_HELP)


def workspace_from_args(args: argparse.Namespace) -> Workspace:
    """The workspace named by ``--workspace`` (or the default one)."""
    workspace = Workspace(getattr(args, "workspace", None))
    if workspace.repaired:
        print(f"note: {workspace.repaired}", file=sys.stderr)
    return workspace


def register(subparsers: Any) -> None:
    """Add the ``projects`` and ``export`` commands to the CLI's subparsers."""
    projects = subparsers.add_parser(
        "projects", help="list, create, rename, duplicate or delete projects in the workspace",
        description="Projects shared with the app. Without an action, list them with their datasets, runs, "
                    "last change, size on disk and best run.")
    add_workspace_argument(projects)
    projects.add_argument("--json", action="store_true", help="list as JSON instead of a table")
    projects.set_defaults(handler=cmd_projects, action="list")
    actions = projects.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="list projects (the default)")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="list as JSON")
    create = actions.add_parser("create", help="create an empty project")
    create.add_argument("name", help="project name (up to 80 characters, unique regardless of case)")
    rename = actions.add_parser("rename", help="rename a project")
    rename.add_argument("old", help="current name (or id)")
    rename.add_argument("new", help="new name")
    duplicate = actions.add_parser("duplicate", help="copy a project with its datasets, runs and notes")
    duplicate.add_argument("name", help="project to copy")
    duplicate.add_argument("new", help="name of the copy")
    delete = actions.add_parser("delete", help="delete a project and free its disk space (asks for --yes)")
    delete.add_argument("name", help="project to delete")
    delete.add_argument("--yes", action="store_true", help="confirm: the project's files are removed for good")
    datasets = actions.add_parser("datasets", help="list a project's datasets with their rows, columns and runs")
    datasets.add_argument("--project", required=True, help="project name (or id)")
    runs = actions.add_parser("runs", help="list a project's runs, per dataset")
    runs.add_argument("--project", required=True, help="project name (or id)")
    runs.add_argument("--dataset", default=None, help="only the runs of this dataset (name or id)")
    switch = actions.add_parser("switch", help="make a dataset (and one of its runs) the one the app opens")
    switch.add_argument("--project", required=True, help="project name (or id)")
    switch.add_argument("--dataset", required=True, help="dataset name (or id)")
    switch.add_argument("--run", type=int, default=None, metavar="ID", help="run id (default: its latest run)")
    remove = actions.add_parser("remove-dataset", help="remove a dataset and its runs from a project (asks --yes)")
    remove.add_argument("--project", required=True, help="project name (or id)")
    remove.add_argument("--dataset", required=True, help="dataset name (or id)")
    remove.add_argument("--yes", action="store_true", help="confirm: the dataset and its runs are removed for good")
    for leaf in (datasets, runs):
        leaf.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="list as JSON")
    for leaf in (listing, create, rename, duplicate, delete, datasets, runs, switch, remove):
        add_workspace_argument(leaf, top=False)

    export = subparsers.add_parser(
        "export", help="write a saved run's labelled customers, profiles, report, model and manifest",
        description="Write customers.csv, profiles.csv, report.html, model.segmodel, metrics.json, config.json and "
                    "manifest.json for a run saved in a project, as the analyst left it in the app: with its "
                    "merges, splits and moves, and the segment names and descriptions typed there. The files are "
                    "the ones the app's Export page gives.")
    export.add_argument("--project", required=True, help="project name (or id)")
    export.add_argument("--run", type=int, default=None, metavar="ID", help="run id (default: the latest run)")
    export.add_argument("--out", required=True, help="output folder (created if missing)")
    export.add_argument("--include-pii", action="store_true",
                        help="keep personal data unmasked in the exported customers: PII columns, and the "
                             "e-mail addresses and phone numbers inside free text (masked as <EMAIL> / <PHONE> "
                             "by default)")
    add_export_options(export)
    add_workspace_argument(export)
    export.set_defaults(handler=cmd_export)


# --------------------------------------------------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------------------------------------------------
def cmd_projects(args: argparse.Namespace) -> int:
    workspace = workspace_from_args(args)
    action = getattr(args, "action", None) or "list"
    if action == "list":
        infos = workspace.list_projects()
        if getattr(args, "json", False):
            print(json.dumps([project_json(info) for info in infos], indent=2))
        else:
            print(projects_text(infos))
        return 0
    if action == "create":
        project = workspace.create_project(args.name)
        print(f"Created project {project.name!r} in {workspace.root}.")
        return 0
    if action == "rename":
        old = workspace.project_info(args.old)
        workspace.rename_project(old.id, args.new)
        print(f"Renamed project {old.name!r} to {workspace.project_info(old.id).name!r}.")
        return 0
    if action == "duplicate":
        source = workspace.project_info(args.name)
        project = workspace.duplicate_project(source.id, args.new)
        print(f"Copied project {source.name!r} to {project.name!r}.")
        return 0
    if action == "delete":
        if not args.yes:
            info = workspace.project_info(args.name)
            raise WorkspaceError(f"Deleting project {info.name!r} removes its datasets, runs and notes for good "
                                 f"({format_size(info.size_bytes)}). Add --yes to confirm.")
        info = workspace.project_info(args.name)
        freed = workspace.delete_project(info.id)
        print(f"Deleted project {info.name!r}; {format_size(freed)} freed.")
        return 0
    if action in DATASET_ACTIONS:
        return DATASET_ACTIONS[action](workspace.open_project(args.project), args)
    raise WorkspaceError(f"Unknown projects action {action!r}.")  # argparse refuses it first


def cmd_export(args: argparse.Namespace) -> int:
    from segmentation.act.bundle import write_run

    project = workspace_from_args(args).open_project(args.project)
    runs = project.runs()
    if not runs:
        raise WorkspaceError(f"The project {project.name!r} has no runs yet. Segment a file into it first "
                             f"(python -m segmentation run FILE --project {project.name!r} ...).")
    run_id = runs[-1].id if args.run is None else args.run
    run = run_as_left(project, run_id)
    files = write_run(run.result, args.out, names=run.names, include_pii=args.include_pii,
                      descriptions=run.descriptions, dataset_name=run.dataset_name, **export_options(args))
    print(json.dumps({"project": project.name, "run": run_id, "files": files}, indent=2))
    return 0


@dataclass(frozen=True)
class LeftRun:
    """A saved run as the analyst left it: ``result`` with the curation applied and the analyst's descriptions in
    its profiles, the segment ``names`` and ``descriptions`` (segment id -> text), the dataset's name."""

    result: SegmentationResult
    names: dict[int, str]
    descriptions: dict[int, str]
    dataset_name: str | None


def run_as_left(project: Project, run_id: int) -> LeftRun:
    """Run ``run_id`` of ``project`` exactly as the app shows and exports it: its stored curation steps replayed
    with ``apply_curation``, and the names and descriptions the analyst typed (stored for the curated segments).
    Raises WorkspaceError when the run does not exist, ConfigError when its curation does not fit it."""
    from segmentation.choose.curate import apply_curation, apply_descriptions

    result = project.load_run(run_id)
    texts = project.segment_texts(run_id)
    names = {s: t["name"] for s, t in texts.items() if t.get("name")}
    descriptions = {s: t["description"] for s, t in texts.items() if (t.get("description") or "").strip()}
    dataset_id = next((r.dataset_id for r in project.runs() if r.id == int(run_id)), None)
    dataset_name = next((d.name for d in project.datasets() if d.id == dataset_id), None)
    result = apply_descriptions(apply_curation(result, project.curation(run_id)), descriptions)
    return LeftRun(result, names, descriptions, dataset_name)


def cmd_datasets(project: Project, args: argparse.Namespace) -> int:
    """``projects datasets --project NAME``: one line per dataset, the active one marked."""
    active, _run = project.active()
    infos = project.datasets()
    if getattr(args, "json", False):
        print(json.dumps([{"id": d.id, "name": d.name, "rows": d.n_rows, "columns": d.n_columns,
                           "added": d.created.isoformat(), "digest": d.digest, "runs": d.n_runs,
                           "active": d.id == active} for d in infos], indent=2))
        return 0
    rows = [(f"{'*' if d.id == active else ' '} {d.id}", d.name, f"{d.n_rows:,}", str(d.n_columns), str(d.n_runs),
             d.created.astimezone().strftime("%Y-%m-%d %H:%M"), d.digest[:12]) for d in infos]
    print(table_text(("  ID", "NAME", "ROWS", "COLUMNS", "RUNS", "ADDED", "DIGEST"), rows)
          if rows else f"The project {project.name!r} has no datasets yet.")
    return 0


def cmd_runs(project: Project, args: argparse.Namespace) -> int:
    """``projects runs --project NAME [--dataset NAME]``: the runs under each dataset, the active run marked."""
    chosen = [project.find_dataset(args.dataset)] if args.dataset else project.datasets()
    _dataset, active = project.active()
    if getattr(args, "json", False):
        print(json.dumps([{"dataset": {"id": d.id, "name": d.name}, "runs": [
            {"id": r.id, "created": r.created.isoformat(), "algorithm": r.algorithm, "customers": r.n_customers,
             "segments": r.n_segments, "silhouette": r.silhouette, "note": r.note, "active": r.id == active}
            for r in project.runs(d.id)]} for d in chosen], indent=2))
        return 0
    blocks = []
    for d in chosen:
        rows = [(f"{'*' if r.id == active else ' '} {r.id}", r.algorithm, f"{r.n_customers:,}", str(r.n_segments),
                 "-" if r.silhouette is None else f"{r.silhouette:.3f}",
                 r.created.astimezone().strftime("%Y-%m-%d %H:%M")) for r in project.runs(d.id)]
        blocks.append(f"Dataset {d.id}: {d.name} ({d.n_rows:,} rows)\n" + (
            table_text(("  ID", "ALGORITHM", "CUSTOMERS", "SEGMENTS", "SILHOUETTE", "MADE"), rows)
            if rows else "  no runs yet"))
    print("\n\n".join(blocks) or f"The project {project.name!r} has no datasets yet.")
    return 0


def cmd_switch(project: Project, args: argparse.Namespace) -> int:
    """``projects switch --project NAME --dataset NAME [--run ID]``: what the app opens next."""
    info = project.find_dataset(args.dataset)
    shown = project.switch_dataset(info.id, args.run)
    print(f"The project {project.name!r} now opens on {info.name!r}"
          + (f", run {shown}." if shown is not None else " (no run yet)."))
    return 0


def cmd_remove_dataset(project: Project, args: argparse.Namespace) -> int:
    """``projects remove-dataset --project NAME --dataset NAME --yes``."""
    info = project.find_dataset(args.dataset)
    if not args.yes:
        raise WorkspaceError(f"Removing the dataset {info.name!r} from the project {project.name!r} removes it and "
                             f"its {info.n_runs} run{'s' if info.n_runs != 1 else ''} for good. Add --yes to "
                             "confirm.")
    freed = project.remove_dataset(info.id)
    print(f"Removed the dataset {info.name!r} and its runs from {project.name!r}; {format_size(freed)} freed.")
    return 0


DATASET_ACTIONS = {"datasets": cmd_datasets, "runs": cmd_runs, "switch": cmd_switch,
                   "remove-dataset": cmd_remove_dataset}


# --------------------------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------------------------
def project_json(info: ProjectInfo) -> dict[str, Any]:
    """A project list entry as JSON-ready values."""
    return {
        "id": info.id, "name": info.name, "created": info.created.isoformat(), "updated": info.updated.isoformat(),
        "size_bytes": info.size_bytes, "datasets": info.n_datasets, "runs": info.n_runs,
        "best_run": None if info.best_run is None else {"id": info.best_run[0], "silhouette": info.best_run[1]},
        "damaged": info.damaged,
    }


def projects_text(infos: list[ProjectInfo]) -> str:
    """The project list as an aligned table for the terminal."""
    if not infos:
        return "No projects yet. Create one with: python -m segmentation projects create NAME"
    header = ("NAME", "DATASETS", "RUNS", "LAST CHANGE", "SIZE", "BEST RUN")
    rows = []
    for info in infos:
        if info.damaged:
            rows.append((info.name, "-", "-", "-", format_size(info.size_bytes), f"DAMAGED: {info.damaged}"))
            continue
        best = "-" if info.best_run is None else f"#{info.best_run[0]} (silhouette {info.best_run[1]:.3f})"
        rows.append((info.name, str(info.n_datasets), str(info.n_runs),
                     info.updated.astimezone().strftime("%Y-%m-%d %H:%M"), format_size(info.size_bytes), best))
    return table_text(header, rows)


def table_text(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows as an aligned table for the terminal (the last column is not padded)."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
             for row in (header, *rows)]
    return "\n".join(line.rstrip() for line in lines)
