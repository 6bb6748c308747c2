"""Browser test harness: a real Streamlit server plus Debian's chromium driven by Playwright.

Fixtures
    app_server  (session)   starts `streamlit run app.py` on a free port, yields its base URL
    browser     (session)   headless chromium (/usr/bin/chromium, not a Playwright download)
    page        (function)  fresh context, 1400x900, downloads accepted, 60 s default timeout;
                            a screenshot lands in .cache/e2e-failures/ when the test fails
Helpers
    start_streamlit / stop_streamlit   start any script (used by app_server and the smoke test)
    wait_for_app(page)                 wait until the script run has finished
    goto(page, base_url, path)         navigate, then wait_for_app

Every test under tests/e2e/ is marked `e2e` automatically (deselect with `-m "not e2e"`).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
FAILURE_DIR = REPO_ROOT / ".cache" / "e2e-failures"

CHROMIUM_PATH = os.environ.get("SEGMENT_STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 120.0
PAGE_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1400, "height": 900}


# --------------------------------------------------------------------------- server


def _venv_python() -> str:
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_log(proc: subprocess.Popen) -> str:
    log_path = getattr(proc, "log_path", None)
    if log_path is None:
        return ""
    try:
        return Path(log_path).read_text(errors="replace")
    except OSError:
        return ""


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def start_streamlit(
    script: Path, cwd: Path, env: Mapping[str, str], *, timeout: float = SERVER_START_TIMEOUT_S,
    address: str | None = "127.0.0.1",
) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run <script>` on a free port and wait until it reports healthy.

    The server runs in its own process group (so stop_streamlit can take down any children)
    and writes stdout+stderr to a log file, available as `proc.log_path`. Streamlit reads
    `.streamlit/config.toml` from `cwd`; with ``address=None`` the address and the headless and
    usage-statistics settings come from that file alone, as in a bare `streamlit run app.py`. Fails the test
    with the server's output when the server exits early or is not healthy within `timeout` seconds.
    """
    port = _free_port()
    url = f"http://{address or 'localhost'}:{port}"
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [_venv_python(), "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    if address is not None:
        cmd += ["--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(
        cmd,
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()  # the child holds its own descriptor
    proc.log_path = log.name  # type: ignore[attr-defined]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = _read_log(proc)
            pytest.fail(
                f"Streamlit exited with code {proc.returncode} before becoming healthy.\n"
                f"Command: {' '.join(cmd)}\n--- server output ---\n{output}",
                pytrace=False,
            )
        if _health_ok(url):
            return proc, url
        time.sleep(0.25)

    stop_streamlit(proc)
    pytest.fail(
        f"Streamlit did not answer {url}/_stcore/health with 'ok' within {timeout:g} s.\n"
        f"Command: {' '.join(cmd)}\n--- server output ---\n{_read_log(proc)}",
        pytrace=False,
    )


def stop_streamlit(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """Terminate the server and its process group: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=grace)
    else:
        # The leader is gone; make sure nothing it spawned lingers.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the real app (app.py) served from the repo root with a fresh workspace."""
    app = REPO_ROOT / "app.py"
    if not app.exists():
        pytest.fail(f"{app} does not exist; the e2e tests need the app.", pytrace=False)
    env = dict(os.environ)
    env["SEGMENT_STUDIO_HOME"] = str(tmp_path_factory.mktemp("studio-home"))
    proc, url = start_streamlit(app, REPO_ROOT, env)
    try:
        yield url
    finally:
        stop_streamlit(proc)
        try:
            os.unlink(proc.log_path)  # type: ignore[attr-defined]
        except OSError:
            pass


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium via Playwright's sync API (one per test session)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"{CHROMIUM_PATH} is missing: run scripts/install_chromium.sh", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item (item.rep_setup / rep_call / rep_teardown)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context and page; screenshots the page if the test failed."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield pg
    finally:
        if _failed(request.node):
            FAILURE_DIR.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            try:
                pg.screenshot(path=str(FAILURE_DIR / f"{name}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the real failure
                print(f"could not save failure screenshot: {exc}", file=sys.stderr)
        context.close()


# --------------------------------------------------------------------------- helpers

_SCRIPT_DONE = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    ':is([data-test-script-state="notRunning"], [data-test-script-state="compilationError"])'
)
_RUNNING_ICON = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'


def wait_for_app(page, timeout: float = PAGE_TIMEOUT_MS, settle_ms: int = 150) -> None:
    """Wait until Streamlit has finished running the script.

    The `settle_ms` pause first lets a rerun triggered by a preceding click or keypress
    start; then wait for the app root (`stApp`) to report a connected session whose
    script is no longer running, and for the status widget's running icon to be gone.
    """
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout)
    page.wait_for_selector(_SCRIPT_DONE, state="attached", timeout=timeout)
    page.wait_for_selector(_RUNNING_ICON, state="detached", timeout=timeout)


def goto(page, base_url: str, path: str = "/") -> None:
    """Open `base_url` + `path` and wait for the script run to finish."""
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)


SHOTS_DIR = REPO_ROOT / ".cache" / "e2e-shots"


def shot(target, name: str) -> None:
    """Save a screenshot of a page (whole page) or of one element under .cache/e2e-shots/."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    options = {"full_page": True} if hasattr(target, "goto") else {}
    target.screenshot(path=str(SHOTS_DIR / f"{name}.png"), **options)


def nav(page, label: str, heading: str | None = None) -> None:
    """Go to a page through the sidebar, as a user does (a new URL would start a new session)."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=label).first.click()
    wait_for_app(page)
    page.locator("h1").filter(has_text=heading or label).first.wait_for()


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox whose widget key is (or, ending in "_", starts with) ``key``."""
    where = f'[class*="st-key-{key}"]' if key.endswith("_") else f".st-key-{key}"
    page.locator(f"{where} [role=combobox]").click()
    page.get_by_role("option", name=option, exact=True).click()


def load_demo(page, base_url: str) -> None:
    """Open the Data page, click "Use demo data" and wait until the sidebar shows the demo's 2,000 rows."""
    goto(page, base_url, "data")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page, timeout=120_000)
    page.locator('[data-testid="stSidebar"]').get_by_text("2,000 rows · 15 columns").wait_for()


def run_fast_segmentation(page, text: bool = True) -> None:
    """On the Segment page, pick TF-IDF (``text``: the data has a text column, so a model to choose) + PCA + PCA
    map and run: the quick path for browser tests."""
    nav(page, "Segment")
    if text:
        choose(page, "seg_model", "TF-IDF (fast)")
    choose(page, "seg_reduce", "PCA (fast, linear)")
    wait_for_app(page)
    choose(page, "seg_map", "PCA (fast)")
    wait_for_app(page)
    page.locator(".st-key-seg_run button").click()
    page.get_by_text(re.compile(r"Current run: Run \d+")).first.wait_for(timeout=300_000)
    wait_for_app(page)


# --------------------------------------------------------------------------- marking


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item in the session, not just this folder's.
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
