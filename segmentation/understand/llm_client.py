"""A client for an OpenAI-compatible chat endpoint (Ollama, llama.cpp server, vLLM, LM Studio, a hosted service).

Off by default: nothing is sent anywhere until an endpoint URL and a model are set, in Settings, in the
environment (``SEGMENT_STUDIO_LLM_URL``, ``SEGMENT_STUDIO_LLM_MODEL``, the key in ``SEGMENT_STUDIO_LLM_KEY``)
or on the command line (``--llm-url``, ``--llm-model``, ``--llm-key-env``). The standard library speaks the
wire format (``POST {url}/chat/completions``), so the feature adds no dependency. Every failure is a
:class:`LanguageModelError` with one sentence that says what to do.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmentation.errors import ConfigError, SegmentationError

URL_ENV = "SEGMENT_STUDIO_LLM_URL"
MODEL_ENV = "SEGMENT_STUDIO_LLM_MODEL"
KEY_ENV = "SEGMENT_STUDIO_LLM_KEY"


class LanguageModelError(SegmentationError):
    """The language model could not be used; the offline names and portraits stay."""


class LanguageModelUnreachable(LanguageModelError):
    """Nothing answers at the endpoint URL (connection refused, unknown host)."""


class LanguageModelTimeout(LanguageModelError):
    """The endpoint did not answer within the time allowed."""


class LanguageModelRefused(LanguageModelError):
    """The endpoint answered with an HTTP error status (wrong key, unknown model, server error)."""


class LanguageModelMalformed(LanguageModelError):
    """The endpoint's answer is not chat-completions JSON (not JSON at all, or fields missing)."""


class LanguageModelOffTopic(LanguageModelError):
    """The model answered, but not with the JSON object it was asked for."""


@dataclass(frozen=True)
class LanguageModelSettings:
    """Where the language model is and how to ask it.

    ``url``: the base URL of an OpenAI-compatible API, e.g. ``http://127.0.0.1:11434/v1`` (Ollama) or
    ``http://127.0.0.1:8080/v1`` (llama.cpp server); blank = off. ``model``: the model name the server knows.
    ``key_env``: the name of the environment variable holding the API key (the key itself is never stored or
    logged; servers on this machine usually need none). ``timeout``: seconds to wait for one answer; local models
    on a CPU can need 60 or more. ``seed``: asked for with temperature 0, so a server that honours both answers
    the same way every time.
    """

    url: str = ""
    model: str = ""
    key_env: str = KEY_ENV
    timeout: float = 120.0
    seed: int = 42

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", str(self.url or "").strip().rstrip("/"))
        object.__setattr__(self, "model", str(self.model or "").strip())
        if self.url and not re.match(r"^https?://[^\s/]+", self.url):
            raise ConfigError(f"The language model URL must start with http:// or https://, e.g. "
                              f"http://127.0.0.1:11434/v1. Got {self.url!r}.")
        if not self.timeout > 0:
            raise ConfigError(f"The language model timeout must be a number of seconds above 0. Got {self.timeout}.")

    @property
    def enabled(self) -> bool:
        """True when both the URL and the model are set."""
        return bool(self.url and self.model)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/chat/completions"

    def key(self) -> str:
        """The API key from the environment variable ``key_env`` (blank when unset)."""
        return os.environ.get(self.key_env or KEY_ENV, "").strip()

    def require(self) -> LanguageModelSettings:
        if not self.enabled:
            raise ConfigError("Set the language model's URL and model name (Settings, or --llm-url and --llm-model) "
                              "before asking it to write.")
        return self


def settings_from_env(url: str | None = None, model: str | None = None, key_env: str | None = None,
                      **others: Any) -> LanguageModelSettings:
    """Settings from the arguments given, else ``SEGMENT_STUDIO_LLM_URL`` / ``_MODEL``; off when neither sets a URL."""
    return LanguageModelSettings(url=url or os.environ.get(URL_ENV, ""), model=model or os.environ.get(MODEL_ENV, ""),
                                 key_env=key_env or KEY_ENV, **others)


def chat(settings: LanguageModelSettings, messages: Sequence[Mapping[str, str]],
         timeout: float | None = None) -> str:
    """The model's reply (the first choice's message content) to ``messages``; temperature 0 and the seed set."""
    settings.require()
    body = json.dumps({"model": settings.model, "messages": list(messages), "temperature": 0,
                       "seed": settings.seed}).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key = settings.key()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(settings.endpoint, data=body, headers=headers, method="POST")
    wait = timeout or settings.timeout
    where = settings.url
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:  # noqa: S310 (the URL is the user's)
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise _refused(error, settings) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timeout(where, wait) from None
        raise LanguageModelUnreachable(f"Nothing answers at {where} ({error.reason}); start the language model "
                                       "server or correct the URL in Settings.") from None
    except TimeoutError:
        raise _timeout(where, wait) from None
    except (ConnectionError, OSError) as error:
        raise LanguageModelUnreachable(f"The connection to {where} failed ({error}); start the language model "
                                       "server or correct the URL in Settings.") from None
    return _content(raw, where)


def _timeout(where: str, wait: float) -> LanguageModelTimeout:
    return LanguageModelTimeout(f"The language model at {where} did not answer within {wait:g} s; raise the timeout "
                                "in Settings or use a smaller model.")


def _refused(error: urllib.error.HTTPError, settings: LanguageModelSettings) -> LanguageModelRefused:
    try:
        detail = error.read().decode("utf-8", "replace")[:200].strip()
    except OSError:
        detail = ""
    said = f" ({detail})" if detail else ""
    if error.code in (401, 403):
        return LanguageModelRefused(f"The language model at {settings.url} refused the request with HTTP "
                                    f"{error.code}{said}; put a valid API key in the environment variable "
                                    f"{settings.key_env}.")
    if error.code == 404:
        return LanguageModelRefused(f"The language model at {settings.url} answered HTTP 404{said}; check that the "
                                    f"URL ends with the API's base (often /v1) and that model {settings.model!r} "
                                    "exists there.")
    return LanguageModelRefused(f"The language model at {settings.url} answered HTTP {error.code}{said}; check the "
                                "server's log, the model name and try again.")


def _content(raw: bytes, where: str) -> str:
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LanguageModelMalformed(f"The answer from {where} is not JSON; check that the URL points to an "
                                     "OpenAI-compatible API (it usually ends with /v1).") from None
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LanguageModelMalformed(f"The answer from {where} has no choices[0].message.content; check that the "
                                     "URL points to an OpenAI-compatible chat-completions API.") from None
    if not isinstance(content, str):
        raise LanguageModelMalformed(f"The answer from {where} has a message content that is not text; check that "
                                     "the server speaks the chat-completions format.")
    return content


def json_answer(content: str) -> dict[str, Any]:
    """The JSON object in a model's reply (code fences and words around it are tolerated)."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        value = json.loads(text[start:end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise LanguageModelOffTopic("The language model did not answer with the JSON object it was asked for; "
                                    "try a larger or instruction-tuned model.")
    return value


def ask_json(settings: LanguageModelSettings, system: str, user: str, timeout: float | None = None
             ) -> dict[str, Any]:
    """Ask with a system and a user message and return the JSON object the model answers with."""
    return json_answer(chat(settings, [{"role": "system", "content": system}, {"role": "user", "content": user}],
                            timeout))


def test_connection(settings: LanguageModelSettings, timeout: float | None = None) -> str:
    """One short request to the endpoint; one line saying it works (raises :class:`LanguageModelError` if not)."""
    started = time.perf_counter()
    answer = ask_json(settings, "You answer with JSON only.", 'Answer with exactly this JSON: {"ok": true}',
                      timeout=timeout or min(settings.timeout, 30.0))
    seconds = time.perf_counter() - started
    said = "" if answer.get("ok") is True else " (it answered JSON, though not exactly what was asked)"
    return f"Model {settings.model!r} at {settings.url} answered in {seconds:.1f} s{said}."


test_connection.__test__ = False  # type: ignore[attr-defined]  # a library call, not a pytest test
