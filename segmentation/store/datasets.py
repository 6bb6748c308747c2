"""The datasets of a project as stored: their description, the load report kept beside each table, the analyst's
column roles, and which project of a workspace already holds a file.

A project holds several datasets (each file loaded into it, each roll-up of order lines); every run belongs to
one of them. :class:`segmentation.store.project.Project` reads and writes them; this module holds what does not
need its database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from segmentation.config import ROLES
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy

pd = lazy("pandas")
io = lazy("segmentation.ingest.read")


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset kept in a project, without its table: when it was added (``created``), its size, the digest of
    its bytes, the load report's summary lines, the analyst's column roles, its column names and how many runs
    were made on it."""

    id: int
    name: str
    digest: str
    created: datetime
    n_rows: int
    n_columns: int
    summary: tuple[str, ...]  # the load report's summary lines
    role_overrides: dict[str, str]
    columns: tuple[str, ...] = ()
    n_runs: int = 0


def check_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """Column -> role with every role checked against ``config.ROLES``; raises ConfigError naming the column."""
    clean = {}
    for column, role in overrides.items():
        if role not in ROLES:
            raise ConfigError(f"The role of column {column!r} must be one of {', '.join(map(repr, ROLES))}. "
                              f"Got {role!r} instead.")
        clean[str(column)] = str(role)
    return clean


def report_to_json(dataset: io.Dataset, stored_as_text: list[str]) -> dict[str, Any]:
    """The dataset's load report (and column names) as the JSON kept in the project's database."""
    report = dataset.report
    return {
        "format": report.format, "encoding": report.encoding, "delimiter": report.delimiter,
        "rows_read": report.rows_read, "rows_kept": report.rows_kept, "rows_rejected": report.rows_rejected,
        "renamed_columns": [list(pair) for pair in report.renamed_columns],
        "unconverted_cells": dict(report.unconverted_cells), "warnings": list(report.warnings),
        "summary": report.summary_lines(), "stored_as_text": stored_as_text,
        "columns": [str(c) for c in dataset.table.columns],
    }


def report_from_json(stored: Mapping[str, Any], rejected: pd.DataFrame | None) -> io.LoadReport:
    """The load report :func:`report_to_json` kept, with its rejected rows (None: there were none)."""
    if rejected is None:
        rejected = pd.DataFrame([], columns=["line", "reason", "raw"])  # as io.load_table builds it
    return io.LoadReport(
        format=stored["format"], encoding=stored["encoding"], delimiter=stored["delimiter"],
        rows_read=int(stored["rows_read"]), rows_kept=int(stored["rows_kept"]),
        rows_rejected=int(stored["rows_rejected"]), rejected=rejected,
        renamed_columns=tuple(tuple(pair) for pair in stored["renamed_columns"]),
        unconverted_cells={str(k): int(v) for k, v in stored["unconverted_cells"].items()},
        warnings=tuple(stored["warnings"]),
    )


def shares_columns(datasets: Iterable[DatasetInfo], columns: Iterable[str]) -> bool:
    """Whether a table with these ``columns`` has at least one column name (any case, spaces trimmed) in common
    with one of ``datasets``: then it most likely belongs in the same project (a newer export, a roll-up)."""
    wanted = {str(c).strip().casefold() for c in columns}
    return any(wanted & {c.strip().casefold() for c in info.columns} for info in datasets)


def find_dataset(workspace: Any, digest: str, prefer: str | None = None) -> tuple[str, int] | None:
    """(project id, dataset id) of a project of ``workspace`` (a :class:`segmentation.store.workspace.Workspace`,
    not imported here: it imports this module's users) that already holds the file with this ``digest``: the project
    ``prefer`` (an id) when it does, else the most recently changed one; None when no project holds it.
    Damaged projects are passed over."""
    infos = [info for info in workspace.list_projects() if not info.damaged and info.n_datasets]
    infos.sort(key=lambda info: info.id != prefer)  # stable: otherwise most recently changed first
    for info in infos:
        try:
            found = workspace.open_project(info.id).dataset_by_digest(digest)
        except WorkspaceError:
            continue  # damaged or deleted meanwhile
        if found is not None:
            return info.id, found
    return None
