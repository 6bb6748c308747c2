"""The optional language model in the app: its settings (with a connection test) and the Profiles page's button.

The written names and portraits are stored exactly as the analyst's own edits (``state.annotate``), so they stay
editable and flow into every export through ``apply_descriptions``; what was sent and the evidence each sentence
rests on are kept beside them and shown in an expander.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import streamlit as st

from segmentation.understand.llm_client import LanguageModelSettings, settings_from_env, test_connection
from segmentation.understand.profile import SegmentProfile

from .format import md, user_errors
from .state import studio


def current_settings() -> LanguageModelSettings | None:
    """The settings chosen on the Settings page, else those of the environment; None while off or invalid."""
    chosen = studio().language_model
    try:
        settings = settings_from_env(chosen.get("url"), chosen.get("model"), chosen.get("key_env"),
                                     timeout=float(chosen.get("timeout") or 120))
    except Exception:   # noqa: BLE001 (a setting saved before it was checked: treat as off)
        return None
    return settings if settings.enabled else None


def settings_section() -> None:
    """Settings page: endpoint URL, model, the environment variable of the key, timeout; save and test."""
    state = studio()
    st.subheader("Language model (optional)", anchor=False)
    st.caption("An OpenAI-compatible chat endpoint (Ollama, llama.cpp server, vLLM, LM Studio or a hosted "
               "service) can write segment names, portraits and actions from each segment's evidence. Off until a "
               "URL and a model are set; only aggregates and masked quotes are sent.")
    base = settings_from_env()
    chosen = state.language_model
    with st.form("llm_form", border=False):
        url_box, model_box = st.columns(2)
        url = url_box.text_input("Endpoint URL", value=chosen.get("url", base.url), key="llm_url",
                                 placeholder="http://127.0.0.1:11434/v1")
        model = model_box.text_input("Model", value=chosen.get("model", base.model), key="llm_model",
                                     placeholder="llama3.1")
        key_box, timeout_box = st.columns(2)
        key_env = key_box.text_input("Environment variable holding the API key",
                                     value=chosen.get("key_env", base.key_env), key="llm_key_env",
                                     help="The key itself is never stored; servers on this computer need none.")
        timeout = timeout_box.number_input("Timeout (seconds)", min_value=1.0, max_value=1800.0, key="llm_timeout",
                                           value=float(chosen.get("timeout", base.timeout)))
        save_box, test_box, _ = st.columns([1, 1, 3])
        save = save_box.form_submit_button("Save", key="llm_save", width="stretch")
        test = test_box.form_submit_button("Test connection", key="llm_test", width="stretch")
    if save or test:
        with user_errors("These language model settings cannot be used."):
            settings = LanguageModelSettings(url=url, model=model, key_env=key_env, timeout=timeout)
            state.set_language_model({"url": settings.url, "model": settings.model, "key_env": key_env,
                                      "timeout": timeout})
            if test:
                st.success(md(test_connection(settings.require())), icon=":material/check_circle:")
            elif settings.enabled:
                st.success("Saved. The Profiles page can now write names and portraits with this model.",
                           icon=":material/check_circle:")


def write_bar(run_id: str, profiles: Sequence[SegmentProfile], name_key: Any, description_key: Any) -> None:
    """Profiles page: the button that asks the model, and what it wrote, with its evidence and payload."""
    from segmentation.understand.llm_write import write_segments

    state = studio()
    settings = current_settings()
    if settings is None:
        return
    if st.button("Write names and portraits with the language model", icon=":material/smart_toy:",
                 key="llm_write", help=f"Asks {settings.model} at {settings.url}; the texts stay editable."):
        with user_errors("The language model could not write the texts."):
            written = write_segments(profiles, settings)
            for segment in written.segments:
                state.annotate(segment.segment, "name", segment.name, run_id)
                state.annotate(segment.segment, "description", segment.portrait, run_id)
                # set, not forgotten: the boxes (drawn below, after this button) show the texts at once (issue 15)
                state.set_widget(name_key(run_id, segment.segment), segment.name)
                state.set_widget(description_key(run_id, segment.segment), segment.portrait)
            state.set_choice(f"llm_written_{run_id}", {"texts": written.to_dict(), "sent": written.payloads()})
            kept = sum(1 for w in written.segments if w.fallbacks)
            state.notify(f"{settings.model} wrote names and portraits for {len(written.segments)} segments"
                         + (f"; {kept} kept some offline texts." if kept else "."))
            st.rerun()
    last = state.choice(f"llm_written_{run_id}")
    if last:
        with st.expander("What the language model wrote, and the evidence behind each sentence",
                         icon=":material/fact_check:"):
            for segment in last["texts"]["segments"]:
                st.markdown(f"**{md(segment['name'])}** · tags: {md(', '.join(segment['tags']))}")
                for field_name, sentences in segment["evidence"].items():
                    for sentence in sentences:
                        st.markdown(f"- {field_name}: {md(sentence['text'])} — evidence "
                                    f"{', '.join(sentence['evidence'])}")
                for field_name, why in segment["fallbacks"].items():
                    st.caption(f"{field_name}: kept the offline text ({md(why)})")
            st.caption("Exactly what was sent:")
            st.code(json.dumps(last["sent"], indent=1, ensure_ascii=False), language="json")
