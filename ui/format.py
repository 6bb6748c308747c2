"""Text and numbers for the screen: data made literal for markdown, numbers, durations, verdict badges, segment
dots, readable table columns, and library errors shown as messages.

Nothing here decides what a value means: verdicts come from ``segmentation.understand.metrics``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from segmentation.errors import SegmentationError
from segmentation.lazy import lazy

pd = lazy("pandas")
metrics = lazy("segmentation.understand.metrics")
theme = lazy("segmentation.plots.theme")
wording = lazy("segmentation.understand.wording")

LEVEL_COLOURS = {"good": "green", "fair": "orange", "poor": "red", "unknown": "gray"}
"""Streamlit's badge colour for each level of a verdict."""

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~<>:&=])")
WORD_JOINER = "\u2060"
"""An invisible character that joins nothing: put inside a web address, an e-mail address or a ``:shortcode:``,
it stops Streamlit from turning them into a link, an icon or an emoji (it does that after reading escapes)."""
_LINKED = re.compile(r"(?i)\b(?:https?:|www)(?=[/.])|@(?=[\w-])|:(?=[a-z_+-])")


def md(text: Any) -> str:
    """Text from the data or the analyst (names, values, reviews, file names, messages quoting them) shown as
    written by st.markdown, st.caption, st.toast, st.error and widget labels, also where ``unsafe_allow_html``
    is on: the one way to put such text on screen.

    Markdown and HTML punctuation is backslash-escaped, so "**bold**", "[click](http://x)", "<a href=...>" and
    "&lt;" show as typed, a review saying "$20 off, now $35" is not a formula and a column called "*total*" is
    not bold. Streamlit turns web and e-mail addresses, ``:material/...:`` icons and emoji shortcodes into
    links and pictures even when escaped: a ``WORD_JOINER`` after "http:", "www", "@" and such a colon keeps
    them plain text (it is invisible). Not for ``st.text``, ``st.code``, dataframes or select box options,
    which show text as it is.
    """
    joined = _LINKED.sub(lambda m: m.group(0) + WORD_JOINER, str(text))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", joined)


def md_code(text: Any, in_table: bool = False) -> str:
    """Text shown as written in monospace (a folder, a file name), as an inline code span for st.markdown: the
    fence is longer than any run of backticks in it. ``in_table``: the span sits in a markdown table cell,
    where a "|" would end the cell."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|') if in_table else text}{pad}{fence}"


@contextmanager
def user_errors(context: str | None = None) -> Iterator[None]:
    """Show a SegmentationError as a plain message instead of a traceback; anything else is a bug and propagates."""
    try:
        yield
    except SegmentationError as error:
        st.error(f"{context} {md(error)}" if context else md(error), icon=":material/error:")


def fmt_metric(value: Any, digits: int = 2) -> str:
    """A quality number with ``digits`` decimals and thousands separators; ``MISSING`` ("—") when missing or not
    finite. The numbers themselves are written by the library's one formatter (``understand.wording``)."""
    return wording.readable_number(value, decimals=digits)


def fmt_value(value: Any, column: Any = None, share: bool = False) -> str:
    """A value of ``column`` as the report writes it: "10.9%" for a share, money as money, "10,300", "—"."""
    return wording.value_text(value, column, share=share)


def fmt_share(share: Any, decimals: int = 1) -> str:
    """A share as a percentage with one decimal everywhere ("10.9%", "36.1%"); "—" when missing."""
    return wording.share_text(share, decimals)


def fmt_seconds(seconds: float) -> str:
    """A duration as people say it: 'under a second', '12 s', '3 min'."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def verdict_badge(metric: str, value: float | None) -> str:
    """The verdict on a quality number as coloured text on a tint for st.markdown, e.g.
    ':green-background[:green[Strong]]': unlike a badge it wraps rather than being cut in a narrow card."""
    verdict = metrics.verdict(metric, value)
    colour = LEVEL_COLOURS[verdict.level]
    return f":{colour}-background[:{colour}[{verdict.label}]]"


def segment_dot(segment: int) -> str:
    """A small dot in the segment's colour (the map's), as HTML to put before its name."""
    colour = theme.segment_colour(segment)
    return (f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
            f'background:{colour};margin-right:0.4em;vertical-align:-0.05em"></span>')


def table_columns(frame: pd.DataFrame) -> dict[str, Any]:
    """Column settings that make a customer table readable: dates without a midnight time, fractional numbers
    with the same two decimals in every row (0.78 and 1.00, not 0.7765 and 1) and thousands separated."""
    config: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values):
            known = values.dropna()
            if len(known) and not bool((known == known.round()).all()):
                config[column] = st.column_config.NumberColumn(format="%,.2f")
        elif pd.api.types.is_datetime64_any_dtype(values):
            times = values.dropna()
            dates_only = times.empty or bool((times == times.dt.normalize()).all())
            config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD" if dates_only else
                                                             "YYYY-MM-DD HH:mm")
    return config
