"""Names derived from file names are cleaned, never refused; names the analyst types are still validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation.errors import ConfigError
from segmentation.ingest.read import MAX_NAME_CHARACTERS, display_name, load_table
from segmentation.store.workspace import Workspace, check_project_name


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("customers.csv", "customers.csv"),
        ("spring\tcampaign.csv", "spring campaign.csv"),
        ("two\r\nlines.csv", "two lines.csv"),
        ("bell\x07 and\x1b escape.csv", "bell and escape.csv"),
        ("C:\\Users\\ann\\export.csv", "export.csv"),
        ("../../etc/passwd", "passwd"),
        ("\u202egpj.csv", "gpj.csv"),  # a right-to-left override that would disguise the extension
        ("zero\u200bwidth.csv", "zero width.csv"),
        ("  \t\n ", "data"),
        ("folder/", "data"),
        ("[click](http://x).csv", "[click](http://x).csv"),  # a web address in a name is not a folder
    ],
)
def test_display_name_cleans_file_names(file_name: str, expected: str) -> None:
    assert display_name(file_name) == expected


def test_long_names_are_shortened_keeping_the_extension() -> None:
    name = display_name("quarterly export " * 20 + ".csv.gz")
    assert len(name) == MAX_NAME_CHARACTERS and name.endswith("….csv.gz") and name.startswith("quarterly export")


def test_load_table_cleans_the_name_it_is_given_and_the_file_name(tmp_path: Path) -> None:
    assert load_table(b"a,b\n1,2\n", name="spring\tcampaign.csv").name == "spring campaign.csv"
    path = tmp_path / "line\nbreak\t.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert load_table(path).name == "line break .csv"


def test_a_project_named_after_a_nasty_file_can_be_saved(tmp_path: Path) -> None:
    dataset = load_table(b"a,b\n1,2\n", name="tab\there\x00and" + "x" * 200 + ".csv")
    project = Workspace(tmp_path).create_project(dataset.name.removesuffix(".csv"))
    project.add_dataset(dataset)
    assert "\t" not in project.name and "\x00" not in project.name
    assert check_project_name(project.name) == project.name


@pytest.mark.parametrize("typed", ["Spring\tcampaign", "two\nlines", "bell\x07"])
def test_names_typed_by_the_analyst_are_still_validated(typed: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must not contain line breaks, tabs or other control characters\. Type"):
        check_project_name(typed)
    with pytest.raises(ConfigError, match="control characters"):
        Workspace(tmp_path).create_project(typed)
