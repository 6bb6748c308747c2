"""The language model in the app: Settings (save, test connection, clear errors) and the Profiles page's button.

The model is a fake chat-completions server on 127.0.0.1 in this process (tests/llm_server.py).
"""

from __future__ import annotations

import re

from segmentation.understand.llm_write import clear_memory_cache
from tests.app.test_pages import errors, fresh, load_demo, open_page, plain, run_fast_segmentation, texts
from tests.llm_server import FakeChatServer, Raw
from tests.unit.understand.test_llm import good_answer


def settings_page(at):
    at.switch_page("pages/settings.py").run()
    assert not at.exception and not at.error, errors(at)
    return at


def fill_settings(at, url: str) -> None:
    at.text_input(key="llm_url").set_value(url)
    at.text_input(key="llm_model").set_value("fake")


def test_settings_test_connection_says_it_works_or_why_not() -> None:
    at = settings_page(fresh())
    with FakeChatServer(good_answer) as server:
        fill_settings(at, server.url)
        at.button(key="llm_test").click().run()
    assert not at.exception and not at.error
    said = plain(" ".join(s.value for s in at.success))
    assert re.search(r"Model 'fake' at http://127\.0\.0\.1:\d+/v1 answered", said)
    with FakeChatServer(lambda request: Raw(401, b"no key")) as server:
        fill_settings(at, server.url)
        at.button(key="llm_test").click().run()
    assert not at.exception
    assert re.search(r"refused the request with HTTP 401 .*API key", " ".join(errors(at)))
    at.text_input(key="llm_url").set_value("ftp://nowhere")
    at.button(key="llm_save").click().run()
    assert re.search(r"must start with http:// or https://", " ".join(errors(at)))


def test_profiles_button_writes_editable_names_and_shows_the_evidence(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(tmp_path))
    clear_memory_cache()
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=3)
    with FakeChatServer(good_answer) as server:
        settings_page(at)
        fill_settings(at, server.url)
        at.button(key="llm_save").click().run()
        open_page(at, "profiles")
        at.button(key="llm_write").click().run()
    assert not at.exception and not at.error, errors(at)
    assert len(server.requests) == 3
    names = [box.value for box in at.text_input if box.key and box.key.startswith("name-")]
    assert sorted(names)[:3] == [f"Stranded travellers {c}" for c in "ABC"]
    assert "evidence" in texts(at) or any("evidence" in e.label for e in at.expander)
    clear_memory_cache()
