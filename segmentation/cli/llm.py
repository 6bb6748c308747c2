"""``--llm-url``, ``--llm-model``, ``--llm-key-env``: names and portraits written by a language model.

Off unless a URL and a model are given (or set in ``SEGMENT_STUDIO_LLM_URL`` / ``SEGMENT_STUDIO_LLM_MODEL``).
The written names and portraits take the place of the offline ones exactly as the analyst's edits do (names
for the files, portraits through ``apply_descriptions``); ``llm_payload.json`` holds exactly what was sent and
``llm_texts.json`` what came back, with the evidence of each sentence and the fields that fell back.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segmentation.understand.llm_client import KEY_ENV, MODEL_ENV, URL_ENV


def add_llm_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--llm-url", default=None, metavar="URL",
                        help="an OpenAI-compatible API that writes names, portraits, actions and tags, e.g. "
                             f"http://127.0.0.1:11434/v1 (Ollama); default ${URL_ENV}, else off")
    parser.add_argument("--llm-model", default=None, metavar="NAME",
                        help=f"the model's name on that server, e.g. llama3.1 (default ${MODEL_ENV})")
    parser.add_argument("--llm-key-env", default=None, metavar="VARIABLE",
                        help=f"environment variable holding the API key, if the server needs one (default {KEY_ENV})")


def write_with_model(result: Any, args: argparse.Namespace, out: str | Path, say: Callable[[str], None]
                     ) -> tuple[Any, dict[int, str] | None]:
    """``result`` with the model's portraits as descriptions, and its names; unchanged (and None) when off."""
    from segmentation.choose.curate import apply_descriptions
    from segmentation.understand.llm_client import settings_from_env
    from segmentation.understand.llm_write import write_segments

    settings = settings_from_env(getattr(args, "llm_url", None), getattr(args, "llm_model", None),
                                 getattr(args, "llm_key_env", None))
    if not settings.url and not settings.model:
        return result, None
    settings.require()
    written = write_segments(result.profiles, settings)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "llm_payload.json").write_text(json.dumps(written.payloads(), indent=2, ensure_ascii=False))
    (folder / "llm_texts.json").write_text(json.dumps(written.to_dict(), indent=2, ensure_ascii=False))
    fell_back = sum(1 for w in written.segments if w.fallbacks)
    say(f"Language model {settings.model!r} wrote names and portraits for {len(written.segments)} segments"
        + (f"; {fell_back} kept some offline texts (see llm_texts.json)." if fell_back else "."))
    for note in written.notes:
        say(f"note: {note}")
    return apply_descriptions(result, written.descriptions), written.names
