"""Numbers and column names as a person would write them, for the names, descriptions and rules of profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


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
