"""Start Digit Lab with `streamlit run` on a free port and drive it with Playwright + Chromium.

Used by tests/test_browser.py and bench/browser_latency.py. Chromium is the system one
(`shutil.which("chromium")`); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}


def chromium_path() -> str | None:
    """The system Chromium, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> float:
    """Poll /_stcore/health until the server answers; returns the time it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_server(
    runs_dir: Path,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[str]:
    """`streamlit run app.py` plus `args` on a free port with DIGIT_LAB_RUNS_DIR=runs_dir; yields its URL."""
    port = port or free_port()
    full_env = {**os.environ, "DIGIT_LAB_RUNS_DIR": str(runs_dir), **(env or {})}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *args,
    ]
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://localhost:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        _stop(process)
        if log:
            out.close()


def _stop(process: subprocess.Popen) -> None:
    """Stop the server we started (its own process group: streamlit and nothing else)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def launch_chromium(playwright):
    """A headless system Chromium (never downloaded)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def wait_for_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit is connected and has finished running the script."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]',
        timeout=timeout,
    )


def open_page(page, url: str, path: str = "", timeout: float = 60_000) -> None:
    """Go to a page of the app (path '' is Home, else 'train', 'draw', 'diagnostics')."""
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    wait_for_idle(page, timeout)


def select_first_history_row(page) -> None:
    """Tick the first run in the history table (a canvas grid: click its row-selection cell)."""
    table = page.get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # row marker column, first row under the header
    wait_for_idle(page)


CHARTS_READY_JS = """() => !document.querySelector('[data-testid="stSkeleton"]') &&
  [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))"""


def wait_for_charts(page, timeout: float = 60_000) -> None:
    """Plotly loads lazily (a skeleton shows meanwhile): wait until every chart has drawn its SVG."""
    page.wait_for_function(CHARTS_READY_JS, timeout=timeout)


def screenshot(page, name: str) -> Path:
    """Save the whole page (Streamlit scrolls inside its main area, so the viewport grows for it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')?.getBoundingClientRect().height ?? 0"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height) + 160, size["height"]), 8000)})
    page.wait_for_timeout(500)  # let charts re-layout
    wait_for_charts(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def canvas_box(page) -> dict:
    """The bounding box of the drawing surface (Fabric's upper canvas) on the page."""
    locator = page.locator("canvas.upper-canvas").first
    locator.wait_for(state="visible", timeout=60_000)
    return locator.bounding_box()


def draw_strokes(
    page, strokes: Sequence[Sequence[tuple[float, float]]], box: dict, size: float = 280.0, steps: int = 4
) -> None:
    """Draw pen strokes given in canvas pixels (0..size) with the mouse: down, moves, up."""
    scale_x, scale_y = box["width"] / size, box["height"] / size
    for stroke in strokes:
        points = [(box["x"] + x * scale_x, box["y"] + y * scale_y) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=steps)
        page.mouse.up()
