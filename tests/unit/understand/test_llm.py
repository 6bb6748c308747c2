"""The optional language model: payload (aggregates, masked quotes), wire format, errors, checks, cache, names.

Every request goes to a fake chat-completions server on 127.0.0.1 in this process (tests/llm_server.py).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from segmentation.errors import ConfigError, SegmentationError
from segmentation.understand.llm_client import (
    LanguageModelMalformed,
    LanguageModelOffTopic,
    LanguageModelRefused,
    LanguageModelSettings,
    LanguageModelTimeout,
    LanguageModelUnreachable,
    json_answer,
    settings_from_env,
    test_connection,
)
from segmentation.understand.llm_write import (
    check_answer,
    clear_memory_cache,
    llm_payload,
    stated_numbers,
    write_segments,
)
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.rules import Rule
from tests.llm_server import FakeChatServer, Raw


def profile(segment: int = 0, name: str = "Lost-baggage complainers", size: int = 300) -> SegmentProfile:
    numeric = pd.DataFrame([{"feature": "avg_basket", "segment_mean": 52.0, "segment_median": 50.0,
                             "rest_mean": 31.0, "rest_median": 30.0, "overall_mean": 35.0, "effect": 1.2,
                             "p_value": 1e-9, "p_adjusted": 1e-8, "significant": True}])
    categories = pd.DataFrame([{"column": "channel", "value": "online", "segment_share": 0.8, "rest_share": 0.3,
                                "overall_share": 0.4, "lift": 2.0, "effect": 1.0, "p_value": 1e-9,
                                "p_adjusted": 1e-8, "significant": True}])
    return SegmentProfile(
        segment=segment, size=size, share=0.25, numeric=numeric, categories=categories, name=name,
        key_phrases=("lost baggage", "baggage claim"), complaint_share=0.45, complaint_rest_share=0.1,
        praise_share=0.05, praise_rest_share=0.3, portrait="They write about lost baggage.",
        action="Resolve lost-baggage claims within 48 h, then offer a voucher.",
        rules=(Rule("channel is online and avg basket > 40", 0.7, 0.2, 0.8),),
        quotes=("My bag never arrived, mail me at jane.doe@example.com or call +44 7700 900123",
                "Still waiting for my luggage"))


def good_answer(request: dict) -> dict:
    content = request["messages"][1]["content"]
    if not content.startswith("{"):
        return {"ok": True}                      # the connection test
    payload = json.loads(content)
    if "segments" in payload:                  # the second pass over names: the same name again
        return {"names": {str(s["segment"]): s["name"] for s in payload["segments"]}}
    segment = payload["segment"]               # numbered from 1, as everywhere the analyst sees it
    return {"name": f"Stranded travellers {'ABCDEFG'[segment - 1]}",
            "portrait": [{"text": "They complain about lost baggage in 45% of their texts.", "evidence": ["W1"]},
                         {"text": "They spend 52 on average, against 31 for others.", "evidence": ["T1"]}],
            "action": {"text": "Resolve baggage claims first.", "evidence": ["K1", "A3"]},
            "retention": {"text": "Follow up every open claim within 48 h.", "evidence": ["A3"]},
            "tags": ["lost baggage", "online", "complaints"]}


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_memory_cache()
    yield
    clear_memory_cache()


def settings(server: FakeChatServer, **others) -> LanguageModelSettings:
    return LanguageModelSettings(url=server.url, model="fake", **others)


def test_payload_holds_aggregates_and_masked_quotes_only() -> None:
    payload = llm_payload(profile())
    text = json.dumps(payload)
    assert "jane.doe@example.com" not in text and "7700" not in text
    assert "<EMAIL>" in text and "<PHONE>" in text
    ids = [item["id"] for item in payload["evidence"]]
    assert ids[0] == "S1" and {"T1", "C1", "R1", "K1", "K2", "W1", "W2", "Q1", "Q2", "A1"} <= set(ids)
    by_id = {item["id"]: item["text"] for item in payload["evidence"]}
    assert re.search(r"52 against 31 .*effect \+1\.20", by_id["T1"])
    assert re.search(r"80\.0% of the segment against 30\.0%.*x2\.00", by_id["C1"])


def test_numbers_are_read_with_their_rounding() -> None:
    assert stated_numbers("45% of 1,200 buy 2.1x more, 72k") == [(45, 0.5), (1200, 50), (2.1, 0.05),
                                                                    (72000, 500)]
    assert stated_numbers("evidence T1 and Q2") == []
    assert stated_numbers("x2.00 the share, 3x more, 48h") == [(2.0, 0.005), (3, 0.5), (48, 0.5)]


def test_a_good_answer_is_kept_with_its_evidence_and_the_request_is_chat_completions() -> None:
    with FakeChatServer(good_answer) as server:
        written = write_segments([profile()], settings(server), use_cache=False)
    request = server.requests[0]
    assert request["model"] == "fake" and request["temperature"] == 0 and request["seed"] == 42
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert "Authorization" not in server.headers[0]
    segment = written.segments[0]
    assert segment.fallbacks == {}
    assert segment.name == "Stranded travellers A"
    assert segment.portrait.startswith("They complain about lost baggage in 45%")
    assert segment.evidence["portrait"][1] == ("They spend 52 on average, against 31 for others.", ("T1",))
    assert segment.tags == ("lost baggage", "online", "complaints")
    assert written.names == {0: "Stranded travellers A"} and written.descriptions[0] == segment.portrait
    assert written.payloads()["segments"][0] == segment.payload == llm_payload(profile())


def test_the_key_is_sent_from_the_named_environment_variable(monkeypatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-test")
    with FakeChatServer(good_answer) as server:
        test_connection(settings(server, key_env="MY_LLM_KEY"))
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_wrong_figures_and_missing_evidence_fall_back_to_the_offline_text() -> None:
    def wrong(request: dict) -> dict:
        answer = good_answer(request)
        answer["portrait"][0]["text"] = "They complain in 62% of their texts."     # the evidence says 45%
        answer["action"]["evidence"] = ["Z9"]                                      # not an item given
        answer["tags"] = ["3x more complaints"]
        return answer

    with FakeChatServer(wrong) as server:
        segment = write_segments([profile()], settings(server), use_cache=False).segments[0]
    assert set(segment.fallbacks) == {"portrait", "action", "tags"}
    assert re.search(r"states 62, which is not a figure of the evidence", segment.fallbacks["portrait"])
    assert re.search(r"cites no evidence item", segment.fallbacks["action"])
    assert segment.portrait == "They write about lost baggage."
    assert segment.action.startswith("Resolve lost-baggage claims within 48 h")
    assert segment.tags == ("lost baggage", "baggage claim")
    assert segment.name == "Stranded travellers A" and "retention" in segment.evidence


def test_an_answer_without_json_keeps_every_offline_text() -> None:
    with FakeChatServer(lambda request: "Sure! Here are some names: Travellers.") as server:
        segment = write_segments([profile()], settings(server), use_cache=False).segments[0]
    assert set(segment.fallbacks) == {"name", "portrait", "action", "retention", "tags"}
    assert re.search(r"did not answer with the JSON object", segment.fallbacks["name"])
    assert segment.name == "Lost-baggage complainers"


def test_a_second_call_comes_from_the_cache(tmp_path) -> None:
    with FakeChatServer(good_answer) as server:
        first = write_segments([profile()], settings(server), cache_folder=tmp_path)
        second = write_segments([profile()], settings(server), cache_folder=tmp_path)
        clear_memory_cache()   # a new process: the answer is read from the cache folder
        third = write_segments([profile()], settings(server), cache_folder=tmp_path)
    assert len(server.requests) == 1
    assert not first.segments[0].cached and second.segments[0].cached and third.segments[0].cached
    assert first.segments[0].name == second.segments[0].name == third.segments[0].name
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_clashing_names_get_a_second_pass_then_the_offline_names() -> None:
    def same_name(request: dict) -> dict:
        if "names" in request["messages"][0]["content"] and "rename" in request["messages"][0]["content"]:
            return {"names": {"1": "Stranded travellers", "2": "Delayed flyers"}}
        return {**good_answer(request), "name": "Stranded travellers"}

    profiles = [profile(0), profile(1, "Flight-delay complainers", size=200)]
    with FakeChatServer(same_name) as server:
        written = write_segments(profiles, settings(server), use_cache=False)
    assert written.names == {0: "Stranded travellers", 1: "Delayed flyers"} and len(server.requests) == 3
    assert written.names_payload["segments"][1]["name"] == "Stranded travellers"

    with FakeChatServer(lambda request: {**good_answer(request), "name": "Stranded travellers"}) as server:
        written = write_segments(profiles, settings(server), use_cache=False)
    assert written.names == {0: "Stranded travellers", 1: "Flight-delay complainers"}
    assert re.search(r"same name as another segment", written.segments[1].fallbacks["name"])
    assert re.search(r"offline names were used", written.notes[0])


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (Raw(401, b'{"error": "bad key"}'), LanguageModelRefused, r"HTTP 401 .*bad key.*API key in the environment"),
        (Raw(500, b"boom"), LanguageModelRefused, r"HTTP 500 \(boom\); check the server's log"),
        (Raw(200, b"<html>not json</html>"), LanguageModelMalformed, r"is not JSON; check that the URL"),
        (Raw(200, b'{"choices": []}'), LanguageModelMalformed, r"no choices\[0\]\.message\.content"),
        (Raw(200, b"{}", delay=1.5), LanguageModelTimeout, r"did not answer within 0\.3 s"),
    ],
)
def test_failures_are_one_clear_sentence(raw: Raw, error: type, message: str) -> None:
    with FakeChatServer(lambda request: raw) as server:
        with pytest.raises(error, match=message) as caught:
            test_connection(settings(server, timeout=0.3))
    assert isinstance(caught.value, SegmentationError) and "\n" not in str(caught.value)


def test_nothing_listening_is_unreachable() -> None:
    with FakeChatServer(good_answer) as server:
        url = server.url
    with pytest.raises(LanguageModelUnreachable, match=r"Nothing answers at http://127\.0\.0\.1:\d+/v1"):
        test_connection(LanguageModelSettings(url=url, model="fake", timeout=2))


def test_connection_test_and_json_answers() -> None:
    with FakeChatServer(lambda request: '```json\n{"ok": true}\n```') as server:
        assert re.match(r"Model 'fake' at http://127\.0\.0\.1:\d+/v1 answered in \d", test_connection(
            settings(server)))
    assert json_answer('Here you go: {"name": "x"} enjoy') == {"name": "x"}
    with pytest.raises(LanguageModelOffTopic, match="did not answer with the JSON object"):
        json_answer('["a list"]')


def test_settings_are_off_by_default_and_checked(monkeypatch) -> None:
    monkeypatch.delenv("SEGMENT_STUDIO_LLM_URL", raising=False)
    monkeypatch.delenv("SEGMENT_STUDIO_LLM_MODEL", raising=False)
    assert not settings_from_env().enabled
    monkeypatch.setenv("SEGMENT_STUDIO_LLM_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("SEGMENT_STUDIO_LLM_MODEL", "llama3")
    chosen = settings_from_env()
    assert chosen.enabled and chosen.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    with pytest.raises(ConfigError, match=r"must start with http:// or https://.*Got 'ftp://x'"):
        LanguageModelSettings(url="ftp://x", model="m")
    with pytest.raises(ConfigError, match=r"Set the language model's URL and model name"):
        write_segments([profile()], LanguageModelSettings())


def test_check_answer_keeps_rounded_figures() -> None:
    payload = llm_payload(profile())
    answer = good_answer({"messages": [{}, {"content": json.dumps(payload)}]})
    answer["portrait"][0]["text"] = "Nearly half (45%) complain, 4.5 times the others' 10%."
    segment = check_answer(answer, profile(), payload)
    assert "portrait" in segment.fallbacks      # 4.5 is no figure of the evidence, even if 45/10 says so
    answer["portrait"][0]["text"] = "45% complain against 10% of others; 80% buy online."
    assert "portrait" not in check_answer(answer, profile(), payload).fallbacks


def test_cli_run_writes_the_models_names_into_profiles_csv(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(tmp_path / "home"))   # an empty answer cache

    from segmentation.cli.main import main

    demo = Path(__file__).resolve().parents[3] / "assets" / "demo_customers.csv"
    def grounded(request: dict) -> dict:   # sentences that restate the size evidence of the segment sent
        answer = good_answer(request)
        size = json.loads(request["messages"][1]["content"])["evidence"][0]["text"]
        answer["portrait"] = [{"text": f"The segment has {size}.", "evidence": ["S1"]}]
        return answer

    again = tmp_path / "again"
    with FakeChatServer(grounded) as server:
        code = main(["run", str(demo), "--text", "review", "--model", "tfidf", "--reduce", "pca", "--map", "pca",
                     "-k", "3", "--out", str(tmp_path), "--quiet", "--llm-url", server.url, "--llm-model", "fake"])
        asked = list(server.requests)
        # a second run against the same endpoint asks nothing: the answers come from the workspace cache (kept
        # per endpoint: another server is asked again, tests/unit/understand/test_llm_cache.py)
        server.requests.clear()
        assert main(["run", str(demo), "--text", "review", "--model", "tfidf", "--reduce", "pca", "--map", "pca",
                     "-k", "3", "--out", str(again), "--quiet", "--llm-url", server.url, "--llm-model", "fake"]) == 0
    assert server.requests == []
    server.requests.extend(asked)
    assert code == 0 and len(server.requests) == 3
    profiles = pd.read_csv(tmp_path / "profiles.csv")
    assert profiles["segment_name"].tolist()[:3] == [f"Stranded travellers {c}" for c in "ABC"]
    for row in profiles.head(3).itertuples():
        assert row.description == f"The segment has {row.customers:,} customers, {row.share * 100:.1f}% of all " \
                                  "customers."
    sent = json.loads((tmp_path / "llm_payload.json").read_text())
    assert [json.loads(r["messages"][1]["content"]) for r in server.requests] == sent["segments"]
    texts = json.loads((tmp_path / "llm_texts.json").read_text())
    assert texts["segments"][0]["evidence"]["portrait"][0]["evidence"] == ["S1"]
    assert (again / "profiles.csv").read_bytes() == (tmp_path / "profiles.csv").read_bytes()


def test_cli_run_says_when_the_model_cannot_be_reached(tmp_path, capsys) -> None:
    from pathlib import Path

    from segmentation.cli.main import main

    with FakeChatServer(good_answer) as server:
        url = server.url
    demo = Path(__file__).resolve().parents[3] / "assets" / "demo_customers.csv"
    code = main(["run", str(demo), "--text", "review", "--model", "tfidf", "--reduce", "pca", "--map", "pca",
                 "-k", "2", "--out", str(tmp_path), "--quiet", "--llm-url", url, "--llm-model", "fake"])
    assert code == 2
    assert re.search(r"error: Nothing answers at http://127\.0\.0\.1:\d+/v1", capsys.readouterr().err)
