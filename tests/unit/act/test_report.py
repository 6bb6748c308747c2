"""The stakeholder report: self-contained, escaped, complete, small, printable."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from segmentation.act.report import build_report, separation_words, write_report
from segmentation.common import segment_label
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.ingest.read import load_table
from segmentation.pipeline import run
from segmentation.understand.naming import display_names

REPO = Path(__file__).resolve().parents[3]
TEXT_CONFIG = RunConfig(text=TextConfig(columns=("review",), model="tfidf"),
                        reduce=ReduceConfig(method="pca", map_method="pca"),
                        cluster=ClusterConfig.make("kmeans", n_clusters=5))
EVIL = "<script>alert(1)</script>"


class Page(HTMLParser):
    """Collects tags, attributes and visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def result():
    dataset = load_table(REPO / "assets" / "demo_customers.csv")
    return run(dataset.table, TEXT_CONFIG, digest=dataset.digest)


def test_report_is_self_contained_escaped_and_names_every_segment(result, tmp_path):
    names = {0: EVIL, 1: 'Quote " and & ampersand'}
    path = write_report(result, tmp_path / "report.html", names=names, stability={"ari_mean": 0.91, "runs": 10})
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 5_000_000  # 2,000 customers
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "iframe" not in tags and "object" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and EVIL not in page
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not (value or "").lower().startswith(("http:", "https:", "//")), (tag, name, value)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet"), "styles must be inline"
    text = "".join(parsed.text)
    shown = display_names(result.profiles, names)   # the analyst's names, else the suggested ones (issue 18)
    for profile in result.profiles:
        assert segment_label(profile.segment, shown) in text
    assert text.count("customers ·") >= len(result.profiles)  # one card per segment
    cards = [attrs for tag, attrs in parsed.tags if tag == "article"]
    assert len(cards) == len(result.profiles)
    assert "Stability." in text and "stable" in text
    assert "Appendix" in text and "k-means" in text and "TF-IDF" in text


def test_map_is_sampled_and_print_styles_are_present(result):
    page = build_report(result, max_points=300)
    circles = page.count("<circle")
    assert 250 <= circles <= 300
    assert "@media print" in page and "break-before: page" in page and "break-inside: avoid" in page
    assert "Content-Security-Policy" in page
    assert "Not checked" in page  # stability not given: said plainly, not invented
    assert separation_words(0.6) == "clearly separated"


def test_cards_fall_back_when_profiles_lack_the_newer_fields(result):
    bare = tuple(SimpleNamespace(segment=p.segment, size=p.size, share=p.share, numeric=p.numeric,
                                 categories=p.categories, keywords=("late", "refund"), is_noise=p.is_noise)
                 for p in result.profiles)
    page = build_report(replace(result, profiles=bare))
    text = "".join(parse(page).text)
    assert "What sets them apart" in text and "on average, against" in text
    assert "Distinctive words: late, refund" in text
    assert "Suggested action" not in text


def test_report_numbers_are_written_one_way(result):
    import re

    text = "".join(parse(build_report(result, stability={"ari_mean": 0.9, "re_runs": 10, "customers_checked": 2000,
                                                         "unstable_segments": 0})).text)
    # side by side (sizes, cards, quality) every share has one decimal; prose says whole percentages; never two
    assert not re.search(r"\d\.\d{2,}%", text)
    for profile in result.profiles:
        assert f"{profile.size:,} · {profile.share * 100:.1f}%" in text
        assert f"{profile.share * 100:.1f}% of all customers" in text
    assert not re.search(r"\d\.\d+e[+-]\d", text)                  # no scientific notation
    assert not re.search(r"\b(None|nan|NaN)\b", text)
    assert not re.search(r"\bre_runs\b|customers_checked|unstable_segments", text)
    assert re.search(r"re runs|customers checked|unstable segments", text)
