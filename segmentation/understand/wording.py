"""Numbers and names as a person would write them: the one number formatter of the app, the report and the files.

``format_number`` and ``percent`` write the short forms of sentences ("72k", "35%") for names, descriptions and
rules; ``readable_number``, ``share_text``, ``money_text`` and ``value_text`` write numbers out in full for
tables, the report and the screen (thousands separators, one decimal for every percentage, money as money, no
scientific notation below 10¹⁵, "—" when missing); ``SETTING_LABELS`` turns setting names into plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from segmentation.common import name_tokens


def format_number(value: float, percent: bool = False, digits: int = 3) -> str:
    """A number as a person would write it: 72,000 -> "72k", 1,500,000 -> "1.5M", 0.35 -> "35%" (``percent``).

    ``digits`` is the number of significant digits kept (4 for rule thresholds, which are already round).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    value = float(value)
    if percent:
        text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
        return ("0" if text in ("", "-0") else text) + "%"
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.3g}bn"
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.{max(digits, 2)}g}k"
    if size >= 1000:
        return f"{value:,.0f}"
    if value == round(value):
        return str(int(round(value)))
    return f"{value:.{digits}g}"


def percent(share: float | None) -> str:
    """A share as a whole percentage ("35%"), with one decimal below 1% so that a small share never reads as 0%."""
    if share is None or not np.isfinite(share):
        return "n/a"
    if 0 < share < 0.01:
        return f"{share:.1%}"
    return f"{share:.0%}"


def pretty_column(column: Any) -> str:
    """A column name as words: "days_since_last_order" -> "days since last order"."""
    return str(column).replace("_", " ").strip()


def join_words(parts: Sequence[str]) -> str:
    """A list in prose: ["a", "b", "c"] -> "a, b and c" (empty parts are left out)."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def capitalise(text: str) -> str:
    """The text with its first letter in upper case and the rest untouched ("app channel" -> "App channel")."""
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- numbers for screens, reports, files
MISSING = "—"
"""What a missing number shows as, everywhere (never "None", "nan" or "n/a" in a table or a report)."""

_PLAIN_LIMIT = 1e15   # below this, numbers are written out in full; above, 1.2e+15 is the readable form
_CURRENCY_WORDS = {"usd": "$", "dollar": "$", "dollars": "$", "eur": "€", "euro": "€", "euros": "€", "gbp": "£",
                   "pound": "£", "pounds": "£", "sterling": "£", "jpy": "¥", "yen": "¥"}


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or not finite."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def readable_number(value: Any, decimals: int | None = None) -> str:
    """A number written out in full, as a table or a report shows it: thousands separators, never scientific
    notation below 10¹⁵ (1.03e+04 -> "10,300", 1.72e+05 -> "172,000"), ``MISSING`` ("—") for None or NaN.

    ``decimals`` fixes the decimals; by default numbers of 1,000 and more get none, numbers from 1 up to two
    ("29.5", "3.14"), and smaller ones three significant digits ("0.0123"); trailing zeros are dropped.
    """
    number = _finite(value)
    if number is None:
        return MISSING
    size = abs(number)
    if size >= _PLAIN_LIMIT:
        return f"{number:.3g}"
    if decimals is not None:
        return f"{number:,.{decimals}f}"
    if size >= 1000 or number == round(number):
        return f"{number:,.0f}"
    places = 2 if size >= 1 else min(12, 2 - math.floor(math.log10(size)))
    return f"{number:,.{places}f}".rstrip("0").rstrip(".")


def share_text(share: Any, decimals: int = 1) -> str:
    """A share (0.1088) as a percentage with the same number of decimals everywhere: "10.9%", "36.1%", "0.0%".

    One decimal by default so that shares set side by side line up; ``MISSING`` for None or NaN.
    """
    number = _finite(share)
    if number is None:
        return MISSING
    text = f"{number * 100:.{decimals}f}"
    return ("0" + ("." + "0" * decimals if decimals else "") if text.lstrip("-").strip("0.") == "" else text) + "%"


def currency_symbol(column: Any) -> str:
    """The currency a money column's name says ("spend_eur" -> "€", "revenue_usd" -> "$"), or "" when it says none."""
    for token in name_tokens(str(column)):
        if token in _CURRENCY_WORDS:
            return _CURRENCY_WORDS[token]
    return ""


def money_text(value: Any, currency: str = "") -> str:
    """An amount of money: thousands separators, two decimals below 1,000 ("29.50", "1,250"), the ``currency``
    symbol in front when known ("£29.50", "-£3.00"); ``MISSING`` for None or NaN."""
    number = _finite(value)
    if number is None:
        return MISSING
    digits = readable_number(abs(number), decimals=None if abs(number) >= 1000 or abs(number) >= _PLAIN_LIMIT
                             else 2)
    return ("-" if number < 0 else "") + currency + digits


def is_money_column(column: Any) -> bool:
    """Does the column's name say it holds money ("total_spend", "Revenue", "Monetary")? The same words that pick
    the value column (``understand.columns.column_kind``)."""
    from segmentation.understand.columns import column_kind  # columns imports features, which is heavier

    return column_kind(str(column)) == "value"


def value_text(value: Any, column: Any = None, share: bool = False) -> str:
    """The one way to write a value of ``column`` for people: a share as "10.9%" (``share``), money as money
    (``is_money_column``, with ``currency_symbol``), anything else with ``readable_number``; text as it is."""
    if isinstance(value, str):
        return value
    if share:
        return share_text(value)
    if column is not None and is_money_column(column):
        return money_text(value, currency_symbol(column))
    return readable_number(value)


# --------------------------------------------------------------------------- setting names as words
SETTING_LABELS: dict[str, str] = {
    "n_clusters": "segments",
    "min_cluster_size": "smallest segment size",
    "min_samples": "neighbours needed",
    "eps": "radius",
    "missing_share": "empty cells",
    "outlier_share": "far-out values",
    "skewness": "skewness",
    "distinct": "different values",
    "log_skewed": "evening out very uneven amounts",
    "clip_quantile": "trimming extreme values",
    "impute_numeric": "filling empty numbers",
    "impute_categorical": "filling empty categories",
    "drop_columns": "columns left out",
    "noise_share": "unassigned",
    "smallest_share": "smallest segment",
    "largest_share": "largest segment",
    "davies_bouldin": "Davies–Bouldin",
    "calinski_harabasz": "Calinski–Harabasz",
    "silhouette": "silhouette",
    "n_segments": "segments",
}
"""Plain words for the names of settings and measures, for anything a person reads: the one mapping."""


def setting_label(name: Any) -> str:
    """The plain words for a setting or measure name ("clip_quantile" -> "trimming extreme values"); other names
    with their underscores as spaces."""
    return SETTING_LABELS.get(str(name), pretty_column(name))


def settings_text(params: Any) -> str:
    """Clustering settings in words: "n_clusters=4" -> "4 segments", "min_cluster_size=25, min_samples=3" ->
    "smallest segment size 25, neighbours needed 3". Takes the "k=v, k=v" text or (name, value) pairs."""
    if isinstance(params, str):
        pairs = [part.split("=", 1) for part in params.split(", ") if "=" in part]
    else:
        pairs = [(str(k), v) for k, v in params]
    words = []
    for name, raw in pairs:
        try:
            shown = readable_number(float(raw)) if not isinstance(raw, bool) else str(raw)
        except (TypeError, ValueError):
            shown = str(raw)
        words.append(f"{shown} segments" if name == "n_clusters" else f"{setting_label(name)} {shown}")
    return ", ".join(words)
