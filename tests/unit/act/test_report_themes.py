"""The report shows the theme level: a "Segments and themes" overview, and each segment's themes in its card
(name, share of the segment, one quote), escaped like everything else."""

from __future__ import annotations

import re
from dataclasses import replace

from segmentation.act.report import build_report
from segmentation.act.themes_export import theme_table


def _cards(html: str) -> list[str]:
    return re.findall(r'<article class="card".*?</article>', html, re.S)


def test_each_segment_card_lists_its_themes_with_share_and_a_quote(themed):
    _, result, _ = themed
    html = build_report(result, names={0: "Bargain hunters"})
    table = theme_table(result, {0: "Bargain hunters"})
    cards = [c for c in _cards(html) if "Themes inside" in c]
    assert len(cards) == result.n_segments
    first = next(c for c in cards if "<h3>Bargain hunters</h3>" in c)
    mine = table[table["segment_id"] == 1]
    assert "Themes inside (2)" in first
    for row in mine.itertuples():
        assert row.theme_name.replace("'", "&#x27;") in first
        assert f"{row.share_of_segment:.1%} of the segment ({row.customers:,})" in first
    assert first.count("<blockquote>") >= 2


def test_the_overview_names_every_segment_with_its_themes(themed):
    _, result, _ = themed
    html = build_report(result)
    section = re.search(r'<section class="themes"><h2>Segments and themes</h2>.*?</section>', html, re.S)
    assert section, "the report has a Segments and themes overview"
    assert section.group(0).count("(2 themes)") == result.n_segments
    assert html.index("Segments and themes") < html.index("The segments</h2>")


def test_theme_names_and_quotes_are_escaped(themed):
    _, result, _ = themed
    profiles = list(result.theme_profiles)
    profiles[0] = replace(profiles[0], name="<script>alert(1)</script>", quotes=('"><img src=x onerror=alert(2)>',))
    html = build_report(replace(result, theme_profiles=tuple(profiles)))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_a_run_without_themes_has_no_theme_sections(themed):
    _, result, _ = themed
    plain = replace(result, theme_labels=None, theme_confidence=None, theme_parent={}, theme_profiles=())
    html = build_report(plain)
    assert "Segments and themes" not in html and "Themes inside" not in html
    assert len(_cards(html)) == len(result.profiles)
