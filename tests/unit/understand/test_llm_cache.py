"""The language model's answer cache is per endpoint: two servers never share answers, even under one model name.

Every request goes to fake chat-completions servers on 127.0.0.1 in this process (tests/llm_server.py).
"""

from __future__ import annotations

import json

import pytest

from segmentation.understand.llm_client import LanguageModelSettings
from segmentation.understand.llm_write import clear_memory_cache, endpoint_key, payload_key, write_segments
from tests.llm_server import FakeChatServer
from tests.unit.understand.test_llm import good_answer, profile


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_memory_cache()
    yield
    clear_memory_cache()


def named(name: str):
    def reply(request: dict) -> dict:
        return {**good_answer(request), "name": name}
    return reply


def test_two_endpoints_do_not_share_answers(tmp_path) -> None:
    with FakeChatServer(named("Stranded travellers")) as laptop, FakeChatServer(named("Baggage hunters")) as box:
        first = write_segments([profile()], LanguageModelSettings(url=laptop.url, model="same"),
                               cache_folder=tmp_path)
        second = write_segments([profile()], LanguageModelSettings(url=box.url, model="same"),
                                cache_folder=tmp_path)
        clear_memory_cache()   # a new process reads the cache folder: still one answer per endpoint
        again = write_segments([profile()], LanguageModelSettings(url=box.url + "/", model="same"),
                               cache_folder=tmp_path)
    assert first.names == {0: "Stranded travellers"} and second.names == {0: "Baggage hunters"}
    assert len(laptop.requests) == 1 and len(box.requests) == 1
    assert not second.segments[0].cached and again.segments[0].cached and again.names == second.names
    stored = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(tmp_path.glob("*.json"))]
    assert sorted(s["endpoint"] for s in stored) == sorted([endpoint_key(laptop.url), endpoint_key(box.url)])


@pytest.mark.parametrize(("url", "normal"), [
    ("HTTP://LocalHost:80/v1/", "http://localhost/v1"),
    ("https://api.example.org:443/v1", "https://api.example.org/v1"),
    ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
])
def test_the_endpoint_is_normalised(url: str, normal: str) -> None:
    assert endpoint_key(url) == normal


def test_the_key_changes_with_the_endpoint_only_when_it_is_another_endpoint() -> None:
    payload = {"segment": 1}
    one = payload_key(LanguageModelSettings(url="http://127.0.0.1:11434/v1", model="m"), "s", payload)
    same = payload_key(LanguageModelSettings(url="http://127.0.0.1:11434/v1/", model="m"), "s", payload)
    other = payload_key(LanguageModelSettings(url="http://127.0.0.1:8080/v1", model="m"), "s", payload)
    assert one == same != other
