"""Numbers and names as a person would write them: the one number formatter of the app, the report and the files.

``format_number`` and ``percent`` write the short forms of sentences ("72k", "35%") for names, descriptions and
rules; ``readable_number``, ``share_text``, ``money_text`` and ``value_text`` write numbers out in full for
tables, the report and the screen (thousands separators, one decimal for every percentage, money as money, no
scientific notation below 10¹⁵, "—" when missing); ``column_texts`` writes a whole column with one rule so that
it reads alike; ``SETTING_LABELS`` turns setting names into plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from segmentation.common import name_tokens
from segmentation.config import TFIDF_MODEL


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


ACRONYMS = frozenset({"rfm", "clv", "aov", "ltv", "id", "sku", "nps", "csat", "kpi", "url", "vip", "usd", "eur",
                      "gbp", "roi", "b2b", "b2c", "sms", "crm"})
"""Words of a column name written in capitals wherever the name is shown ("rfm_group" -> "RFM group")."""
_SHORT_WORDS = {"avg": "average", "qty": "quantity", "pct": "percent", "num": "number", "nr": "number",
                "cust": "customer", "amt": "amount", "desc": "description"}
"""Abbreviations in column names written out, since a marketer reads them ("avg_order_value")."""


def pretty_column(column: Any) -> str:
    """A column name as words: "days_since_last_order" -> "days since last order", "rfm_group" -> "RFM group",
    "avg_order_value" -> "average order value" (:data:`ACRONYMS` in capitals, short words written out). Names
    with capitals or spaces of their own ("Review Text") keep them."""
    words = str(column).replace("_", " ").strip().split(" ")
    return " ".join(w.upper() if w.lower() in ACRONYMS else _SHORT_WORDS.get(w.lower(), w) if w.islower() else w
                    for w in words)


def column_label(column: Any) -> str:
    """A column name as a label on screens and in files: :func:`pretty_column` with a capital first letter
    ("predicted_clv" -> "Predicted CLV", "avg_order_value" -> "Average order value"). The one place that turns
    column names into labels."""
    return capitalise(pretty_column(column))


def column_in_sentence(column: Any) -> str:
    """A column name inside a sentence or a title: :func:`pretty_column` in lower case but for its acronyms
    ("Department Name" -> "department name", "rfm_group" -> "RFM group")."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in pretty_column(column).split(" "))


def join_words(parts: Sequence[str]) -> str:
    """A list in prose: ["a", "b", "c"] -> "a, b and c" (empty parts are left out)."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def shorten_middle(text: Any, width: int) -> str:
    """``text`` cut to at most ``width`` characters by an ellipsis in the middle, so that both its start and its end
    stay readable: "online_retail_30k.csv (per customer)" at 20 -> "online_ret…customer)"."""
    text = str(text)
    if len(text) <= width:
        return text
    keep = max(width - 1, 2)
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2:]


def capitalise(text: str) -> str:
    """The text with its first letter in upper case and the rest untouched ("app channel" -> "App channel")."""
    return text[:1].upper() + text[1:]


def value_share_words(share: float | None, column: Any, customers: int = 1) -> str:
    """A segment's share of a value column in words: "23% of monetary", "<0.1% of spend", or, when the share is
    zero or negative with customers in the segment, "no net monetary (returns and credits outweigh purchases)"
    instead of "-1% of monetary". Empty when there is no share."""
    if share is None or not np.isfinite(share):
        return ""
    what = pretty_column(column)
    if share < 0 or (share == 0 and customers):
        return f"no net {what} (returns and credits outweigh purchases)"
    return f"{'<0.1%' if share < 0.001 else percent(share)} of {what}"


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


def column_decimals(values: Any, money: bool = False) -> int | None:
    """The decimals of a whole column, so that numbers set one under another read alike: none when the largest
    is 1,000 or more; below that two for money (as :func:`money_text`), none when all are whole, two for
    numbers from 1 up, and ``None`` (each number its own significant digits, :func:`readable_number`) for a
    column of small fractions only."""
    numbers = [n for n in (_finite(v) for v in np.ravel(np.asarray(values, dtype=object))) if n is not None]
    if not numbers:
        return 0
    largest = max(abs(n) for n in numbers)
    if largest >= 1000:
        return 0
    if money:
        return 2
    if all(n == round(n) for n in numbers):
        return 0
    return 2 if largest >= 1 else None


def column_texts(values: Any, column: Any = None, share: bool = False) -> list[str]:
    """Every value of one column written with the same rule (:func:`column_decimals`): "402" and "2,316", never
    "402.03" beside "2,316"; shares as :func:`share_text`, money as money with its currency; ``MISSING`` where a
    value is missing."""
    items = list(np.ravel(np.asarray(values, dtype=object)))
    if share:
        return [share_text(v) for v in items]
    money = column is not None and is_money_column(column)
    decimals = column_decimals(items, money)
    currency = currency_symbol(column) if money else ""
    out = []
    for value in items:
        number = _finite(value)
        if number is None:
            out.append(MISSING)
        elif money and abs(number) < _PLAIN_LIMIT:
            out.append(("-" if number < 0 else "") + currency + readable_number(abs(number), decimals))
        else:
            out.append(readable_number(number, decimals))
    return out


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


def model_label(model: Any) -> str:
    """The embedding model in words: "tfidf" -> "word counts (TF-IDF)"; a sentence model by its name (its local
    folder's last part), e.g. "all-MiniLM-L6-v2"."""
    name = str(model or "").rstrip("/\\")
    if name == TFIDF_MODEL:
        return "word counts (TF-IDF)"
    return name.replace("\\", "/").rsplit("/", 1)[-1] or "none"


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
