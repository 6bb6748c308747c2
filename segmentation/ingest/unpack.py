"""Inflate compressed files under one memory budget, so a decompression bomb costs what a real file would.

A gzip of zeros, a zip of spaces or a Parquet file of run-length-encoded zeros can be a few megabytes and expand
to gigabytes. Every compressed container the reader accepts is opened here, and each one stops as soon as what
it would expand to crosses :func:`decompression_budget` — never after inflating everything:

* gzip is inflated a megabyte at a time and refused the moment the output crosses the budget;
* an Excel (.xlsx) zip is checked from the sizes its parts declare (Python's zipfile never inflates a part past
  its declared size, so the declaration bounds what openpyxl can be made to read), then its XML for entities;
* Parquet is checked from its footer: the decompressed size of its column chunks and its rows × columns.

The rule, in one place::

    budget = min(max(FLOOR, RATIO × compressed size), ABSOLUTE)
    ABSOLUTE = min(upload limit × TYPICAL_RATIO, available memory ÷ MEMORY_SHARE)

Real exports compress 5 to 20 times and very repetitive ones (sparse or one-hot columns) up to about a hundred;
gzip of a single repeated byte reaches about a thousand. A small file may expand up to ``FLOOR`` whatever its
ratio, since that costs little. So peak memory while refusing is proportional to the upload limit and the
file's size, never to what the bomb claims.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

from segmentation.config import APP_MAX_UPLOAD_BYTES
from segmentation.errors import DataError

RATIO = 100
"""How many times a compressed file may expand (beyond ``FLOOR``); real exports stay well under it."""

FLOOR = 256 * 1000**2
"""What any compressed file may expand to whatever its ratio: small files that expand far cost little."""

TYPICAL_RATIO = 20
"""The absolute cap is the largest upload expanded this many times (a 200 MB gzip of a 4 GB CSV)..."""

MEMORY_SHARE = 4
"""...or this fraction of the memory available now, whichever is smaller: a table in memory takes a few
times its text."""

CHUNK = 1024 * 1024
"""Gzip is inflated this many bytes at a time, so the budget is overshot by at most this much."""

MAX_XLSX_MEMBERS = 10_000


def available_memory() -> int:
    """Bytes of memory this process can still use: the smaller of the machine's available memory and what its
    control group (container) allows; 8 GB when neither can be read."""
    limits: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        cgroup = Path("/sys/fs/cgroup")
        cap = (cgroup / "memory.max").read_text().strip()
        if cap != "max":
            used = int((cgroup / "memory.current").read_text().strip())
            limits.append(max(int(cap) - used, 0))
    except (OSError, ValueError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (AttributeError, OSError, ValueError):
            limits.append(8 * 1000**3)
    return max(min(limits), 0)


def absolute_budget() -> int:
    """The most bytes any compressed file may expand to on this machine now (see the module's rule)."""
    return min(APP_MAX_UPLOAD_BYTES * TYPICAL_RATIO, available_memory() // MEMORY_SHARE)


def decompression_budget(compressed_bytes: int) -> int:
    """The most bytes a compressed file of ``compressed_bytes`` may expand to (see the module's rule)."""
    return min(max(FLOOR, RATIO * max(compressed_bytes, 0)), absolute_budget())


def _refusal(kind: str, name: str, compressed: int, budget: int) -> DataError:
    if budget < absolute_budget():
        return DataError(
            f"{name!r} was refused: the {kind} expands more than {RATIO} times (past {budget / 1000**2:,.0f} MB "
            f"from {compressed / 1000**2:,.1f} MB), which real tables never do, so it looks like a decompression "
            "bomb. Decompress it yourself and load the table inside."
        )
    return DataError(
        f"{name!r} was refused: the {kind} expands to more than {budget / 1000**3:,.1f} GB, more than this "
        "machine can load safely. Load a sample of the rows, or close other programs and try again."
    )


def gunzip(raw: bytes, name: str) -> bytes:
    """The inflated bytes of gzip data ``raw``; :class:`DataError` for damaged data or past the budget."""
    budget = decompression_budget(len(raw))
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                if out.tell() > budget:
                    raise _refusal("gzip file", name, len(raw), budget)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"The gzip file is damaged ({exc}). Download or export it again.") from exc
    return out.getvalue()


def gunzip_head(raw: bytes, limit: int) -> bytes:
    """The first ``limit`` inflated bytes of gzip data (for a preview); what can be read of a damaged file."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            while out.tell() < limit and (chunk := stream.read(min(CHUNK, limit - out.tell()))):
                out.write(chunk)
    except (OSError, EOFError, zipfile.BadZipFile):
        pass
    return out.getvalue()[:limit]


def check_xlsx(data: bytes, name: str) -> None:
    """Refuse zip archives that are not workbooks, and zip/XML bombs, before openpyxl inflates anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DataError(f"{name!r} is a damaged zip/Excel file ({exc}). Save it again from Excel.") from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise DataError(
                f"{name!r} is a zip archive, not an Excel workbook. Unzip it and upload the CSV, TSV, "
                "Excel (.xlsx) or Parquet file inside."
            )
        if len(infos) > MAX_XLSX_MEMBERS:
            raise DataError(f"{name!r} holds {len(infos):,} parts, far more than a real workbook; it was refused.")
        budget = decompression_budget(len(data))
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > CHUNK and ratio > RATIO:
                raise DataError(
                    f"{name!r} was refused: its part '{info.filename}' expands {ratio:,.0f} times to "
                    f"{info.file_size / 1000**2:,.0f} MB, which looks like a zip bomb. "
                    "Save the sheet as CSV and upload that."
                )
            if total > budget:
                raise _refusal("workbook", name, len(data), budget)
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as member:
                head = member.read(4096)
            # Entity declarations live in a DTD at the top; real workbooks never have one.
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise DataError(
                    f"{name!r} was refused: its part '{info.filename}' declares XML entities, which Excel never "
                    "writes and XML bombs use. Save the sheet as CSV and upload that."
                )
        try:
            from defusedxml import ElementTree as SafeET

            SafeET.fromstring(archive.read("xl/workbook.xml"))
        except Exception as exc:  # defusedxml raises its own types for forbidden constructs
            raise DataError(
                f"{name!r} has an unreadable workbook description ({exc}). Save it again from Excel."
            ) from exc


def check_parquet(data: bytes, name: str) -> None:
    """Refuse a Parquet file whose footer says it decodes to more than the budget allows.

    Parquet compresses each column chunk and may run-length-encode it, so a tiny file can declare a billion
    rows. Pages are decompressed to the sizes the footer declares, and every cell takes at least 8 bytes
    in memory, so both are checked before pandas reads anything. The ratio does not apply: a column holding
    few distinct values legitimately shrinks far more than a hundred times.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{name!r} is a damaged Parquet file ({exc}). Export it again.") from exc
    budget = absolute_budget()
    cells = metadata.num_rows * max(metadata.num_columns, 1)
    unpacked = sum(
        metadata.row_group(g).column(c).total_uncompressed_size
        for g in range(metadata.num_row_groups)
        for c in range(metadata.num_columns)
    )
    if max(8 * cells, unpacked) > budget:
        raise DataError(
            f"{name!r} was refused: its {metadata.num_rows:,} rows × {metadata.num_columns:,} columns expand to "
            f"more than {budget / 1000**3:,.1f} GB, more than this machine can load safely. "
            "Export a sample of the rows, or close other programs and try again."
        )
