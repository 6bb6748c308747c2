"""Temporary smoke test of the e2e harness: streamlit + Playwright + Debian chromium.

It serves its own tiny script (app.py may not exist yet) from the repo root, so the
repo's .streamlit/config.toml is loaded too; the server must not warn about it.
Remove once real e2e tests of app.py exist.
"""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from tests.e2e.conftest import REPO_ROOT, goto, start_streamlit, stop_streamlit

HEADING = "Harness smoke test"

SCRIPT = f"""
import streamlit as st

st.title({HEADING!r})
if st.button("Press me"):
    st.write("Button pressed")
"""


def test_streamlit_page_renders_in_chromium(tmp_path: Path, page) -> None:
    script = tmp_path / "smoke_app.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ)
    env["SEGMENT_STUDIO_HOME"] = str(tmp_path / "home")

    started = time.monotonic()
    proc, url = start_streamlit(script, REPO_ROOT, env)
    try:
        server_s = time.monotonic() - started
        goto(page, url, "/")
        heading = page.locator("h1")
        assert heading.first.inner_text().strip() == HEADING

        page.get_by_role("button", name="Press me").click()
        page.get_by_text("Button pressed").wait_for()

        shot = tmp_path / "smoke.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
        print(f"server healthy after {server_s:.1f} s; page done after {time.monotonic() - started:.1f} s")
    finally:
        stop_streamlit(proc)

    assert proc.poll() is not None
    log = Path(proc.log_path).read_text(errors="replace")
    os.unlink(proc.log_path)
    for bad in ("is not a valid config option", "Traceback", "Warning:"):
        assert bad not in log, f"unexpected {bad!r} in the server output:\n{log}"
