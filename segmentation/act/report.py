"""The stakeholder report: one self-contained HTML file that opens offline and prints cleanly to PDF.

The map is inline SVG rather than an interactive chart: the plotly.js bundle alone
is about 4.8 MB, while an SVG of 5,000 dots is about 200 KB, needs no script at
all, and prints sharply. The page carries a Content-Security-Policy that allows
no script and no outside resource, and every string that comes from the data
(segment names, column names, values, quotes) is HTML-escaped.

Profile fields added by later versions (``value_share``, ``description``,
``action``, ``action_reason``, ``rules``, ``quotes``) are read with ``getattr`` and
shown when present; without them a card falls back to the numeric and
categorical contrasts and the segment's keywords.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segmentation import __version__
from segmentation.act.method import method_rows
from segmentation.act.themes_export import theme_table
from segmentation.common import segment_label, segment_number
from segmentation.plots.map import sample_rows
from segmentation.plots.theme import segment_colour, segment_order
from segmentation.understand.contrast import notable_categories, notable_numeric
from segmentation.understand.metrics import verdict
from segmentation.understand.naming import display_names
from segmentation.understand.outcomes import segment_outcome_lines
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.wording import pretty_column, readable_number, setting_label, share_text, value_text
from segmentation.value.summary import segment_value, segment_value_line

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

MAX_MAP_POINTS = 5_000
"""The map shows at most this many customers, sampled evenly per segment (small segments keep 50)."""

_MAP_WIDTH, _MAP_HEIGHT, _MAP_PAD = 760.0, 460.0, 14.0

_CSS = """
:root { --ink: #1F2937; --muted: #6B7280; --line: #E5E7EB; --soft: #F7F8FA; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.55 -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 18px; margin: 0; }
h4 { font-size: 13px; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
p { margin: 6px 0 10px; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.tile { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px;
        background: var(--soft); }
.tile b { display: block; font-size: 22px; }
.bars { margin: 12px 0 4px; }
.bar { display: flex; align-items: center; gap: 10px; margin: 4px 0; font-size: 14px; }
.bar .label { flex: 0 0 230px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar .track { flex: 1; background: var(--soft); border-radius: 4px; height: 14px; }
.bar .fill { height: 14px; border-radius: 4px; }
.bar .value { flex: 0 0 120px; text-align: right; color: var(--muted); }
.dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13px; margin: 8px 0; }
figure { margin: 0; }
svg.map { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 10px; background: #fff; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--seg); border-radius: 10px; padding: 16px 20px;
        margin: 18px 0; background: #fff; }
.card .meta { color: var(--muted); margin: 2px 0 4px; }
.card ul { margin: 4px 0 4px 20px; padding: 0; }
.card li { margin: 2px 0; }
blockquote { margin: 6px 0; padding: 4px 12px; border-left: 3px solid var(--line); color: #374151;
             font-style: italic; }
.action { background: var(--soft); border-radius: 8px; padding: 8px 12px; margin-top: 10px; }
table.kv { border-collapse: collapse; width: 100%; font-size: 14px; }
table.kv td { border-top: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
table.kv td:first-child { width: 32%; color: var(--muted); }
.caveats li { margin: 4px 0; }
footer { margin-top: 48px; font-size: 12px; color: var(--muted); }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 12px; background: #fff; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section.segments, section.quality, section.method { break-before: page; page-break-before: always; }
  .card { break-inside: avoid; page-break-inside: avoid; }
  .card + .card { break-before: page; page-break-before: always; }
  figure, .tiles, .bars, table.kv tr { break-inside: avoid; page-break-inside: avoid; }
}
"""


def _e(value: Any) -> str:
    """HTML-escaped text of any value (quotes included, so it is safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def _number(value: Any) -> str:
    """A readable number (``wording.readable_number``: "10,300", "29.5", "—"); text stays as it is."""
    return value if isinstance(value, str) else readable_number(value)


def _pct(share: Any, digits: int = 1) -> str:
    """A share as a percentage with one decimal, as everywhere (``wording.share_text``: "10.9%", "—")."""
    return share_text(share, digits)


def _display_name(profile: SegmentProfile, names: Mapping[int, str] | None) -> str:
    return segment_label(profile.segment, names)


# --------------------------------------------------------------------------- words
def separation_words(silhouette: float) -> str:
    """Silhouette (-1 to 1) in plain words: the meaning of ``metrics.verdict``, as the app's badge reads it."""
    return verdict("silhouette", silhouette).meaning


def _stability_value(stability: Any) -> tuple[float | None, dict[str, Any]]:
    """A 0-1 stability score and any other figures from whatever the stability check returned."""
    if stability is None:
        return None, {}
    if isinstance(stability, (int, float, np.floating)):
        return float(stability), {}
    details: dict[str, Any] = {}
    if hasattr(stability, "__dict__") and not isinstance(stability, Mapping):
        stability = {k: v for k, v in vars(stability).items() if not k.startswith("_")}
    if isinstance(stability, Mapping):
        details = {str(k): v for k, v in stability.items() if isinstance(v, (int, float, str, np.number))}
        for key in ("ari_mean", "mean_ari", "ari", "stability", "score", "jaccard_mean", "mean_jaccard", "agreement"):
            value = stability.get(key)
            if isinstance(value, (int, float, np.number)) and math.isfinite(float(value)):
                return float(value), details
    return None, details


def stability_words(score: float) -> str:
    """Agreement across re-runs (0 to 1) in plain words: the meaning of ``metrics.verdict``."""
    return verdict("stability", score).meaning


def _traits(profile: SegmentProfile, limit: int = 5, detailed: bool = True) -> list[str]:
    """What sets a segment apart, in words: the profile's rules when it has them, else the strongest contrasts.

    ``detailed`` adds each rule's coverage (its ``summary``) where the rule offers one.
    """
    rules = getattr(profile, "rules", None)
    if rules:
        out = []
        for rule in list(rules)[:limit]:
            text = rule if isinstance(rule, str) else (
                (getattr(rule, "summary", None) if detailed else None) or getattr(rule, "text", None) or str(rule))
            out.append(str(text))
        return out
    out = []
    numeric = getattr(profile, "numeric", None)
    if numeric is not None and len(numeric):
        for row in notable_numeric(numeric).head(limit).itertuples():
            direction = "higher" if row.effect > 0 else "lower"
            out.append(f"{pretty_column(row.feature)} is {direction}: {value_text(row.segment_mean, row.feature)} on "
                       f"average, against {value_text(row.rest_mean, row.feature)} for other customers")
    categories = getattr(profile, "categories", None)
    if categories is not None and len(categories):
        for row in notable_categories(categories).head(limit).itertuples():
            out.append(f"{str(row.column).replace('_', ' ')} = {row.value}: {_pct(row.segment_share)} of the segment, "
                       f"against {_pct(row.overall_share)} of all customers")
    return out[:limit]


def _quotes(profile: SegmentProfile, limit: int = 3) -> list[str]:
    quotes = getattr(profile, "quotes", None) or ()
    out = []
    for quote in list(quotes)[:limit]:
        text = quote if isinstance(quote, str) else (getattr(quote, "text", None) or str(quote))
        text = " ".join(str(text).split())
        out.append(text if len(text) <= 280 else text[:277].rsplit(" ", 1)[0] + "…")
    return out


# --------------------------------------------------------------------------- pieces
def _map_svg(result: SegmentationResult, names: Mapping[int, str] | None, max_points: int) -> tuple[str, int]:
    labels = np.asarray(result.labels, dtype=int)
    coords = np.asarray(result.coords, dtype=float)
    if len(labels) == 0 or coords.ndim != 2 or coords.shape[1] < 2:
        return "", 0
    rows = sample_rows(labels, max_points, result.config.random_state)
    xy = coords[rows, :2]
    finite = np.isfinite(xy).all(axis=1)
    rows, xy = rows[finite], xy[finite]
    if not len(rows):
        return "", 0
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high - low > 1e-12, high - low, 1.0)
    # one scale for both axes, as on the app's map: distances keep their proportions
    scale = min((_MAP_WIDTH - 2 * _MAP_PAD) / span[0], (_MAP_HEIGHT - 2 * _MAP_PAD) / span[1])
    offset = np.array([(_MAP_WIDTH - scale * span[0]) / 2, (_MAP_HEIGHT - scale * span[1]) / 2])
    px = (xy - low) * scale + offset
    px[:, 1] = _MAP_HEIGHT - px[:, 1]  # SVG's y axis points down
    radius = 2.2 if len(rows) > 2000 else 3.0
    groups = []
    sampled = labels[rows]
    order = segment_order(labels)
    for segment in ([-1] if -1 in order else []) + [s for s in order if s >= 0]:
        mask = sampled == segment
        if not mask.any():
            continue
        dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}"/>' for x, y in px[mask])
        opacity = "0.55" if segment < 0 else "0.8"
        groups.append(f'<g fill="{segment_colour(segment)}" fill-opacity="{opacity}">'
                      f"<title>{_e(segment_label(segment, names))}</title>{dots}</g>")
    svg = (f'<svg class="map" viewBox="0 0 {_MAP_WIDTH:.0f} {_MAP_HEIGHT:.0f}" '
           f'role="img" aria-label="Map of customers coloured by segment">{"".join(groups)}</svg>')
    return svg, int(len(rows))


def _legend(labels: np.ndarray, names: Mapping[int, str] | None) -> str:
    n = max(len(labels), 1)
    items = []
    for segment in segment_order(labels):
        share = float((labels == segment).sum() / n)
        items.append(f'<span><span class="dot" style="background:{segment_colour(segment)}"></span>'
                     f"{_e(segment_label(segment, names))} · {_pct(share)}</span>")
    return f'<div class="legend">{"".join(items)}</div>'


def _size_bars(profiles: Iterable[SegmentProfile], names: Mapping[int, str] | None) -> str:
    profiles = list(profiles)
    largest = max((p.share for p in profiles), default=1.0) or 1.0
    rows = []
    for p in profiles:
        width = 100 * p.share / largest
        rows.append(
            f'<div class="bar"><span class="label"><span class="dot" style="background:{segment_colour(p.segment)}">'
            f'</span>{_e(_display_name(p, names))}</span><span class="track"><span class="fill" style="display:block;'
            f'width:{width:.1f}%;background:{segment_colour(p.segment)}"></span></span>'
            f'<span class="value">{p.size:,} · {_pct(p.share, 1)}</span></div>')
    return f'<div class="bars">{"".join(rows)}</div>'


def _theme_items(themes: Any, quote: bool = True) -> str:
    """A list of a segment's themes (rows of ``themes_export.theme_table``): name, share of the segment, a quote."""
    items = [f"<li><b>{_e(t.theme_name)}</b> · {_e(_pct(t.share_of_segment))} of the segment ({t.customers:,})"
             + (f"<blockquote>“{_e(t.quote if len(t.quote) <= 280 else t.quote[:277] + '…')}”</blockquote>"
                if quote and t.quote else "") + "</li>" for t in themes.itertuples()]
    return f'<ul class="themes">{"".join(items)}</ul>'


def _themes_section(themes: Any) -> str:
    """"Segments and themes": each segment with its themes in a line, largest first; "" without themes."""
    if not len(themes):
        return ""
    rows = ((f"{name} ({len(part)} theme{'s' if len(part) != 1 else ''})",
             "; ".join(f"{t.theme_name} {_pct(t.share_of_segment, 0)}" for t in part.itertuples()))
            for (_, name), part in themes.groupby(["segment_id", "segment_name"], sort=True))
    return ('<section class="themes"><h2>Segments and themes</h2><p class="small muted">Each segment holds finer '
            "themes: groups of customers who say or do something alike. Act on segments; read themes for insight. "
            "Shares are of the segment; customers.csv and themes.csv carry the same theme_id.</p>"
            + _kv(rows) + "</section>")


def _card(profile: SegmentProfile, names: Mapping[int, str] | None, descriptions: Mapping[int, str] | None,
          themes: Any = None) -> str:
    name = _display_name(profile, names)
    # the number the customer files carry in segment_id, so a named segment can be found there
    meta = [f"segment_id {segment_number(profile.segment)}", f"{profile.size:,} customers",
            f"{_pct(profile.share, 1)} of all customers"]
    value_share = getattr(profile, "value_share", None)
    if isinstance(value_share, (int, float, np.number)) and math.isfinite(float(value_share)):
        meta.append(f"{_pct(value_share, 1)} of total value")
    parts = [f'<article class="card" style="--seg:{segment_colour(profile.segment)}">',
             f"<h3>{_e(name)}</h3>", f'<p class="meta">{_e(" · ".join(meta))}</p>']
    suggested = getattr(profile, "name", "")
    if suggested and not (names or {}).get(profile.segment) and suggested != name and not profile.is_noise:
        parts.append(f'<p class="muted small">Suggested name: {_e(suggested)}</p>')
    portrait = getattr(profile, "portrait", "") or ""
    if portrait:
        parts.append(f'<p class="portrait"><b>{_e(portrait)}</b></p>')
    description = (descriptions or {}).get(profile.segment) or getattr(profile, "description", "") or ""
    if profile.is_noise and not description:
        description = ("Customers who fit no segment well. They are kept in every export; look at them before "
                       "ignoring them, they may be a group too small or too varied to form a segment.")
    if description:
        parts.append(f"<p>{_e(description)}</p>")
    traits = _traits(profile)
    if traits:
        parts.append("<h4>What sets them apart</h4><ul>" + "".join(f"<li>{_e(t)}</li>" for t in traits) + "</ul>")
    outcome_lines = segment_outcome_lines(profile)   # known outcomes (rate, interval, lift)
    if outcome_lines:
        parts.append("<h4>Outcomes</h4><ul>" + "".join(f"<li>{_e(t)}</li>" for t in outcome_lines)
                     + "</ul>")
    quotes = _quotes(profile)
    keywords = tuple(getattr(profile, "keywords", ()) or ())
    phrases = tuple(getattr(profile, "key_phrases", ()) or ())
    if quotes or keywords or phrases:
        parts.append("<h4>What they say</h4>")
        if phrases:
            parts.append(f'<p>Key phrases: {_e(", ".join(map(str, phrases[:8])))}</p>')
        if keywords:
            parts.append(f'<p>Distinctive words: {_e(", ".join(map(str, keywords[:8])))}</p>')
        parts.extend(f"<blockquote>“{_e(q)}”</blockquote>" for q in quotes)
    if themes is not None and len(themes):
        parts.append(f"<h4>Themes inside ({len(themes)})</h4>" + _theme_items(themes))
    action = getattr(profile, "action", "") or ""
    if action:
        reason = getattr(profile, "action_reason", "") or ""
        parts.append(f'<div class="action"><h4>Suggested action</h4><p><b>{_e(action)}</b></p>'
                     + (f'<p class="small muted">Why: {_e(reason)}</p>' if reason else "") + "</div>")
    parts.append("</article>")
    return "".join(parts)


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    return '<table class="kv">' + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>"


def _quality_section(result: SegmentationResult, stability: Any) -> str:
    m = result.metrics
    silhouette = float(m.get("silhouette", float("nan")) if m.get("silhouette") is not None else float("nan"))
    noise = float(m.get("noise_share", 0.0) or 0.0)
    parts = ['<section class="quality"><h2>How much to trust these segments</h2>']
    parts.append(f"<p><b>Separation.</b> The segments are {_e(separation_words(silhouette))}"
                 + (f" (silhouette {silhouette:.2f} on a scale from −1 to 1)." if math.isfinite(silhouette) else ".")
                 + "</p>")
    db = m.get("davies_bouldin")
    if isinstance(db, (int, float)) and math.isfinite(db):
        parts.append(f"<p class=\"small muted\">Davies–Bouldin index {db:.2f} (lower is better; below 1 means compact, "
                     "well-separated segments).</p>")
    if noise > 0:
        parts.append(f"<p><b>Unassigned.</b> {_pct(noise, 1)} of customers fit no segment well and are listed as "
                     "“Unassigned”.</p>")
    score, details = _stability_value(stability)
    if score is not None:
        method = details.get("method")  # what was re-run, e.g. "Re-ran the UMAP reduction and the clustering …"
        parts.append(f"<p><b>Stability.</b> The segments are {_e(stability_words(score))} (score {score:.2f} "
                     "from 0 to 1)." + (f" {_e(method)}" if isinstance(method, str) else "") + "</p>")
        extra = {k: v for k, v in details.items()
                 if k not in ("ari_mean", "mean_ari", "ari", "stability", "score", "method")}
        if extra:
            parts.append(_kv((setting_label(k), _number(v) if not isinstance(v, str) else v)
                             for k, v in list(extra.items())[:8]))
    else:
        parts.append("<p><b>Stability.</b> Not checked for this report: re-running on other samples of the customers "
                     "may move some of them, especially those near the borders between segments.</p>")
    if "external_ari" in m and isinstance(m.get("external_ari"), (int, float)):
        parts.append(f"<p><b>Known groups.</b> Agreement with the column “{_e(m.get('external_column', ''))}”: "
                     f"adjusted Rand index {float(m['external_ari']):.2f} (1 = identical groups, 0 = chance).</p>")
    caveats = ["Segments describe who the customers are in this data at this time; they do not explain why, and "
               "they change as customers change.",
               "Averages hide spread: within every segment some customers look quite different from the average."]
    if result.config.reduce.method == "umap" or result.config.reduce.map_method == "umap":
        caveats.append("The map keeps neighbours together but distorts distances and sizes: read which customers are "
                       "close, not how far apart distant groups are.")
    smallest = m.get("smallest_share")
    if isinstance(smallest, (int, float)) and 0 < smallest < 0.02:
        caveats.append(f"The smallest segment holds only {_pct(smallest, 1)} of customers: check it is worth its own "
                       "treatment before acting on it.")
    if noise >= 0.2:
        caveats.append("Many customers are unassigned; a smaller minimum segment size or k-means would place them.")
    if result.config.text.columns and result.config.blend.text_weight > 0:
        caveats.append("Words and quotes come from the customers' own texts"
                       + (", with e-mails, phone numbers and similar masked." if result.config.text.mask_pii else ".")
                       + " A few quotes cannot represent everyone in a segment.")
    parts.append('<h4>Caveats</h4><ul class="caveats">' + "".join(f"<li>{_e(c)}</li>" for c in caveats) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def _summary(result: SegmentationResult, names: Mapping[int, str] | None) -> str:
    labels = np.asarray(result.labels)
    n = len(labels)
    assigned = [p for p in result.profiles if not p.is_noise]
    unassigned = int((labels < 0).sum())
    m = result.metrics
    silhouette = m.get("silhouette")
    silhouette = float(silhouette) if isinstance(silhouette, (int, float)) else float("nan")
    sentences = [f"We grouped {n:,} customers into {len(assigned)} segment{'s' if len(assigned) != 1 else ''}"
                 + (f", and left {unassigned:,} ({_pct(unassigned / max(n, 1))}) unassigned because they fit no "
                    "segment well." if unassigned else ".")]
    if assigned:
        largest = max(assigned, key=lambda p: p.size)
        smallest = min(assigned, key=lambda p: p.size)
        sentences.append(f"The largest segment, {_display_name(largest, names)}, holds {_pct(largest.share)} of "
                         f"customers; the smallest, {_display_name(smallest, names)}, {_pct(smallest.share)}.")
    sentences.append(f"The segments are {separation_words(silhouette).split(':')[0]}.")
    items = []
    for p in assigned:
        traits = _traits(p, limit=1, detailed=False)
        action = getattr(p, "action", "") or ""
        line = f"<b>{_e(_display_name(p, names))}</b> ({_pct(p.share)})"
        if traits:
            line += f": {_e(traits[0])}"
        if action:
            line += f". <i>Suggested: {_e(action)}</i>"
        items.append(f"<li>{line}</li>")
    tiles = [("Customers", f"{n:,}"), ("Segments", f"{len(assigned)}"),
             ("Unassigned", _pct(unassigned / max(n, 1), 1)),
             ("Separation", f"{silhouette:.2f}" if math.isfinite(silhouette) else "–")]
    return ('<section class="summary"><h2>Summary</h2>'
            + "".join(f"<p>{_e(s)}</p>" for s in sentences)
            + '<div class="tiles">' + "".join(f'<div class="tile"><span class="muted small">{_e(k)}</span>'
                                                f"<b>{_e(v)}</b></div>" for k, v in tiles) + "</div>"
            + (f"<ul>{''.join(items)}</ul>" if items else "")
            + _size_bars(result.profiles, names) + "</section>")


def _value_section(result: SegmentationResult, names: Mapping[int, str] | None) -> str:
    """Predicted value per segment, most valuable first, when the customers carry it (a roll-up of order lines)."""
    worth = segment_value(result.table, result.labels)
    if worth.empty:
        return ""
    rows = ((segment_label(int(s), names), segment_value_line(row))
            for s, row in worth.sort_values("predicted_clv", ascending=False).iterrows())
    return ('<section class="value"><h2>Customer value by segment</h2><p class="small muted">Predicted from each '
            "customer's order history: the value of their expected purchases, the chance they are still active, "
            "and the value at risk (predicted value × chance of having left).</p>" + _kv(rows) + "</section>")


# --------------------------------------------------------------------------- the report
def build_report(result: SegmentationResult, names: Mapping[int, str] | None = None,
                 descriptions: Mapping[int, str] | None = None, stability: Any = None,
                 title: str = "Customer segments", dataset_name: str | None = None,
                 max_points: int = MAX_MAP_POINTS) -> str:
    """The report as one HTML string: summary, segments and themes, map, one card per segment (with its themes),
    quality, method.

    ``names`` and ``descriptions`` map segment ids to the analyst's words.
    ``stability`` is optional: a 0-1 score, or a mapping (or object) from a
    stability check holding e.g. ``ari_mean``; without it the report says that
    stability was not checked. The map shows at most ``max_points`` customers
    (sampled per segment with the run's seed), which keeps the file small (about
    0.3 MB for 2,000 customers).
    """
    labels = np.asarray(result.labels, dtype=int)
    names = display_names(result.profiles, names)   # the analyst's names, else the suggested ones
    svg, shown = _map_svg(result, names, max_points)
    themes = theme_table(result, names)   # the table themes.csv holds
    created = dt.datetime.now().strftime("%d %B %Y, %H:%M")
    subtitle = f"{len(labels):,} customers · {result.n_segments} segments · {created}"
    if dataset_name:
        subtitle = f"{dataset_name} · {subtitle}"
    ordered = sorted(result.profiles, key=lambda p: (p.is_noise, -p.size, p.segment))
    map_note = (f"Each dot is a customer ({shown:,} of {len(labels):,} shown, sampled evenly per segment)."
                if shown < len(labels) else "Each dot is a customer.")
    map_note += " Customers close together are alike; colours are segments."
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # no script, no outside resource: the report is inert even if a value slipped through escaping
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<header><h1>{_e(title)}</h1><p class=\"muted\">{_e(subtitle)}</p></header>",
        _summary(result, names),
        _themes_section(themes),
        _value_section(result, names),
    ]
    if svg:
        parts.append('<section class="map"><h2>The customer map</h2>'
                     f"<figure>{svg}<figcaption class=\"small muted\">{_e(map_note)}</figcaption></figure>"
                     f"{_legend(labels, names)}</section>")
    parts.append('<section class="segments"><h2>The segments</h2>')
    parts.extend(_card(p, names, descriptions, themes[themes["segment_id"] == segment_number(p.segment)])
                 for p in ordered)
    parts.append("</section>")
    parts.append(_quality_section(result, stability))
    parts.append('<section class="method"><h2>Appendix: how the segments were made</h2>'
                 + _kv(method_rows(result)) + "</section>")
    parts.append(f"<footer>Made with Segment Studio {_e(__version__)} on this computer; no data left it.</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def report_bytes(result: SegmentationResult, **options: Any) -> bytes:
    """``build_report`` as UTF-8 bytes (for a download button)."""
    return build_report(result, **options).encode("utf-8")


def write_report(result: SegmentationResult, path: str | os.PathLike, **options: Any) -> Path:
    """Write ``build_report(result, **options)`` to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report_bytes(result, **options))
    return path

