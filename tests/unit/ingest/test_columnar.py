"""Number columns read in blocks give exactly what the per-column code gives: roles, reasons, quality, bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest import clean, columnar, distribution, roles
from segmentation.ingest.columnar import number_blocks, number_positions
from segmentation.ingest.delimited import read_delimited
from segmentation.ingest.parse import LoadLog, convert_strings, convert_table
from segmentation.ingest.read import load_table

N = 40


@pytest.fixture(autouse=True)
def _blocks_for_a_few_columns_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The small tables here have fewer number columns than make blocks worth it; they are read in blocks anyway."""
    monkeypatch.setattr(columnar, "MIN_BLOCK_COLUMNS", 1)


def _mixed_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(N)],
        "account_no": np.arange(1000, 1000 + N),                      # integer id-like: unique whole numbers
        "row": np.arange(N),                                           # a row number
        "phone": rng.integers(10**9, 10**10, N),                       # phone-like numbers under a phone header
        "empty": np.full(N, np.nan),                                   # all missing
        "constant": np.full(N, 3.5),
        "constant_int": np.full(N, 7, dtype="int64"),
        "constant_with_gaps": [np.nan] * 3 + [2.0] * (N - 3),
        "flag": rng.integers(0, 2, N),
        "score": rng.integers(1, 6, N).astype(float),
        "spend": np.round(rng.lognormal(3, 1.5, N), 2),
        "gappy": np.where(rng.random(N) < 0.3, np.nan, np.round(rng.normal(size=N), 3)),
        "around_zero": np.r_[-0.0, 0.0, np.round(rng.normal(size=N - 2), 3)],
        "zero_low": np.r_[-0.0, 0.0, rng.random(N - 2) + 1],          # smallest value a signed zero: per column
        "huge": np.r_[2**53 + 1, np.arange(N - 1)].astype("int64"),
        "infinite": np.r_[np.inf, rng.normal(size=N - 1)],
        "client_number": rng.integers(0, 5, N),
        "rfm_r": rng.integers(1, 6, N),
        "p_alive": rng.random(N),
        "visits": rng.integers(0, 30, N),
        "city": rng.choice(["Leeds", "York"], N),
    })


def _no_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every column through the per-column code."""
    for module in (roles, clean, distribution):
        monkeypatch.setattr(module, "number_blocks", lambda *args, **kwargs: iter(()))


def _all_three(table: pd.DataFrame) -> tuple[dict, clean.QualityReport, dict]:
    inferred = roles.infer_roles(table)
    resolved = {c: r.role for c, r in inferred.items()}
    return inferred, clean.quality_report(table, resolved), distribution.column_histograms(table, resolved)


def _assert_same(fast: tuple, slow: tuple) -> None:
    assert fast[0] == slow[0]    # same roles, same reasons
    pd.testing.assert_frame_equal(fast[1].columns, slow[1].columns, check_exact=True)
    assert fast[1].issues == slow[1].issues
    assert (fast[1].n_duplicate_rows, fast[1].n_duplicate_ids) == (slow[1].n_duplicate_rows, slow[1].n_duplicate_ids)
    assert fast[2] == slow[2]


def test_blocks_count_like_pandas() -> None:
    table = _mixed_table()
    positions = number_positions(table)
    assert "customer_id" not in table.columns[positions] and "city" not in table.columns[positions]
    blocks = list(number_blocks(table, block_cells=5 * N))   # five columns a block
    assert len(blocks) == -(-len(positions) // 5)
    for block in blocks:
        for row, j in enumerate(block.positions):
            series = table.iloc[:, j]
            assert block.count[row] == series.notna().sum()
            assert block.distinct[row] == series.nunique()
    by_name = {table.columns[j]: bool(b.unusual[r]) for b in blocks for r, j in enumerate(b.positions)}
    assert by_name["zero_low"] and by_name["huge"] and by_name["infinite"]
    assert not by_name["around_zero"] and not by_name["spend"] and not by_name["empty"]


def test_mixed_table_gives_the_per_column_roles_quality_and_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _mixed_table()
    fast = _all_three(table)
    assert fast[0]["phone"].role == "pii" and fast[0]["empty"].reason == "Every value is empty."
    assert fast[0]["constant_with_gaps"].reason == "Only one value (2) apart from 3 empty cells."
    assert fast[0]["constant_int"].reason.startswith("Every row has the same value (7)")
    assert fast[0]["row"].role == "id" and fast[0]["account_no"].role == "id"
    _no_blocks(monkeypatch)
    _assert_same(fast, _all_three(table))


def test_a_loaded_file_gives_the_per_column_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # Semicolons and decimal commas, leading zeros, a numeric column with a few text cells, phone-like numbers.
    lines = ["id;zip;spend;visits;note_count;mobile_phone;blank;same"]
    for i in range(30):
        text = "unknown" if i in (3, 17) else str(i % 7)
        lines.append(f"{i + 1};0{1000 + i};{i * 1.25 + 0.5:.2f}".replace(".", ",")
                     + f";{i % 9};{text};07700 900{i:03d};;4")
    dataset = load_table(("\n".join(lines) + "\n").encode(), name="mixed.csv")
    table = dataset.table
    assert table["spend"].dtype == "float64" and table["zip"].iloc[0] == "01000"
    assert table["note_count"].dtype != "float64"      # the text cells keep it text
    fast = _all_three(table)
    assert fast[0]["mobile_phone"].role == "pii"
    _no_blocks(monkeypatch)
    _assert_same(fast, _all_three(table))


def test_random_wide_tables_match_the_per_column_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    frames = {f"m{j}": np.round(rng.normal(size=60) * 10 ** rng.integers(0, 4), int(rng.integers(0, 3)))
              for j in range(60)}
    table = pd.DataFrame(frames)
    table.iloc[rng.integers(0, 60, 30), rng.integers(0, 60, 30)] = np.nan
    table["m5"] = rng.lognormal(0, 2, 60)          # skewed: log-scale bars, "skewed" finding
    table["m6"] = np.r_[np.full(55, 1.0), [90.0, 95.0, 99.0, 120.0, 150.0]]    # outliers
    fast = _all_three(table)
    assert any(i.kind == "skewed" for i in fast[1].issues) and any(i.kind == "outliers" for i in fast[1].issues)
    _no_blocks(monkeypatch)
    _assert_same(fast, _all_three(table))


def test_resolve_roles_uses_the_roles_it_is_given() -> None:
    table = pd.DataFrame({"spend": [1.0, 2.0, 3.5], "city": ["a", "b", "a"]})
    given = {"spend": roles.ColumnRole("spend", "ignore", "told"), "city": roles.ColumnRole("city", "text", "told")}
    assert roles.resolve_roles(table, {"city": "categorical"}, inferred=given) == {"spend": "ignore",
                                                                                  "city": "categorical"}
    assert roles.resolve_roles(table, {}) == {"spend": "numeric", "city": "categorical"}


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_reading_with_the_parsers_columns_matches_column_by_column(delimiter: str) -> None:
    point = "," if delimiter == ";" else "."
    header = delimiter.join(["spend", "visits", "zip", "maybe", "name", "m1", "m2"])
    rows = [delimiter.join([f"1{point}5", "2", "01234", "NA", "Ann", "3", f"0{point}25"]),
            delimiter.join([f"2{point}75", "3", "02345", "4", "Bob", "-1", "7"])]
    table, log = read_delimited(("\n".join([header, *rows]) + "\n").encode(), "t.csv")
    body = pd.DataFrame({c: [r.split(delimiter)[i] for r in rows] for i, c in enumerate(header.split(delimiter))},
                        dtype="str")
    slow_log = LoadLog()
    slow = {c: convert_strings(c, body[c], point, None, slow_log) for c in body.columns}
    for column in body.columns:
        pd.testing.assert_series_equal(table[column], slow[column], check_names=False)
    without_arrow = convert_table(body, point, None, LoadLog())
    for column in body.columns:
        pd.testing.assert_series_equal(without_arrow[column], slow[column], check_names=False)
    assert [w for w in log.warnings if "decimal comma" not in w] == slow_log.warnings


def test_bars_of_many_shapes_are_binned_together_as_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    n = 200
    shapes = {
        "lognormal": lambda: rng.lognormal(2, 1.5, n),                       # log-scale bars
        "normal": lambda: rng.normal(size=n),
        "wide_ints": lambda: rng.integers(0, 500, n).astype(float),          # whole numbers, many bars' range
        "mostly_one": lambda: np.r_[np.full(n - 1, 5.5), 900.0],             # flat 1st-99th range: min to max
        "spiky": lambda: np.r_[np.full(n - 3, 1.0), [2.0, 3.0, 1e6]],
        "uniform": lambda: rng.uniform(-1e3, 1e3, n).round(1),
    }
    table = pd.DataFrame({f"{name}_{k}": make() for name, make in shapes.items() for k in range(8)})
    resolved = {c: "numeric" for c in table.columns}
    one_by_one = []
    original = distribution._number_bars
    monkeypatch.setattr(distribution, "_number_bars", lambda numbers, bins: one_by_one.append(1) or original(
        numbers, bins))
    fast_bars, fast_report = distribution.column_histograms(table, resolved), clean.quality_report(table, resolved)
    assert len(one_by_one) < len(table.columns) / 4     # most were binned together
    assert fast_bars["mostly_one_0"] == [n - 1] + [0] * 18 + [1] and sum(fast_bars["lognormal_0"]) == n
    _no_blocks(monkeypatch)
    assert distribution.column_histograms(table, resolved) == fast_bars
    slow_report = clean.quality_report(table, resolved)
    pd.testing.assert_frame_equal(fast_report.columns, slow_report.columns, check_exact=True)
    assert fast_report.issues == slow_report.issues


def test_duplicate_rows_of_a_wide_table_are_counted_in_full() -> None:
    table = pd.DataFrame(np.zeros((5, 40)), columns=[f"m{j}" for j in range(40)])
    table.iloc[1, 39] = 1.0        # alike on the first columns, different on the last: not a copy
    table.iloc[3, 0] = 2.0         # different on the first column: not a copy
    resolved = {c: "numeric" for c in table.columns}
    assert clean.quality_report(table, resolved).n_duplicate_rows == 2      # rows 2 and 4 copy row 0
    table.iloc[:, 0] = np.arange(5)
    assert clean.quality_report(table, resolved).n_duplicate_rows == 0


def test_a_few_number_columns_stay_with_the_per_column_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "MIN_BLOCK_COLUMNS", 32)
    narrow = pd.DataFrame(np.ones((3, 31)))
    assert list(number_blocks(narrow)) == []
    assert [len(b.positions) for b in number_blocks(pd.DataFrame(np.ones((3, 32))))] == [32]
