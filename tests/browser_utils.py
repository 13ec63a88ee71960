"""Start Digit Lab with `streamlit run` on a free port and drive it with Playwright + Chromium.

Used by tests/test_browser.py and bench/browser_latency.py. Chromium is the system one
(`shutil.which("chromium")`); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import itertools
import math
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
    table = page.locator('[data-testid="stDataFrame"]:visible').first  # charts' tables sit folded away
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


def until_visible(action, target, attempts: int = 4, timeout: float = 15_000) -> None:
    """Do `action` until `target` shows: under load a rerun can re-render a widget under a key press
    or a chart under a click, and the input is lost (a person would just try again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        action()
        try:
            target.wait_for(timeout=timeout)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def canvas_box(page, settle_s: float = 0.3, timeout_s: float = 5.0) -> dict:
    """The bounding box of the drawing surface (Fabric's upper canvas) once its size has settled.

    The Draw page shows a phone-sized canvas until the browser has reported the page's width, then
    grows it (0.1-0.3 s later on a cold server); a stroke begun in between loses its start. No hand is
    that quick, so a test draws, as a person would, on the canvas it ends up with: the box that has not
    changed for `settle_s` seconds (or the latest one after `timeout_s`)."""
    locator = page.locator("canvas.upper-canvas").first
    locator.wait_for(state="visible", timeout=60_000)
    box, since, deadline = locator.bounding_box(), time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() - since < settle_s and time.monotonic() < deadline:
        time.sleep(0.05)
        now = locator.bounding_box()
        if now != box:
            box, since = now, time.monotonic()
    return box


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


def touch_strokes(
    page, strokes: Sequence[Sequence[tuple[float, float]]], box: dict, size: float, spacing: float = 20.0
) -> None:
    """Draw pen strokes given in canvas pixels (0..size) with a finger: Chrome DevTools Protocol touch
    events (touchStart, touchMove, touchEnd), no mouse. The finger reports a move about every `spacing`
    screen pixels (a quick finger on a 60 Hz screen; each event waits for the page to handle it, so
    fewer keep the test short). The page's context needs has_touch=True."""
    session = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = _finger_path(
                [(box["x"] + x * box["width"] / size, box["y"] + y * box["height"] / size) for x, y in stroke], spacing
            )
            kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
            for kind, (x, y) in zip(kinds, points, strict=True):
                session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
            session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        session.detach()


def _finger_path(points: list[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """The points a finger reports along a polyline: one about every `spacing` pixels, corners kept."""
    path = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = math.ceil(math.hypot(x1 - x0, y1 - y0) / spacing)
        path += [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(1, steps)]
        if math.dist(path[-1], (x1, y1)) >= spacing or (x1, y1) == points[-1]:
            path.append((x1, y1))
    return path


CANVAS_SEEN_JS = """() => {  // the drawing surface, and whether the page shows the canvas component at its corners
  const hosts = [...document.querySelectorAll('*')].filter(e => e.shadowRoot);
  const canvas = [document, ...hosts.map(h => h.shadowRoot)]
    .map(root => root.querySelector('canvas.upper-canvas')).find(Boolean);
  const r = canvas.getBoundingClientRect(), root = canvas.getRootNode(), component = canvas.closest('.dc-root');
  // its own toolbar, hidden until hovered, lies over the top right corner: that is the component, not a clip
  const corners = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2],
                   [r.left + 2, r.bottom - 2], [r.right - 2, r.bottom - 2]];
  return {x: r.x, y: r.y, width: r.width, height: r.height,
          corners_seen: corners.map(([x, y]) => component.contains(root.elementFromPoint(x, y))),
          page_width: document.documentElement.scrollWidth, viewport_width: innerWidth};
}"""


def canvas_on_screen(page) -> dict:
    """Where the canvas is, whether its four corners are visible (not clipped or covered), and how wide
    the page is against the viewport (wider: something overflows sideways)."""
    canvas_box(page)
    return page.evaluate(CANVAS_SEEN_JS)


OVERFLOW_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
          && e.clientWidth > 1)  // 1 px and clipped: text for screen readers only (ui/live_answer.py)
  .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].slice(0, 2).join('.')}:`
            + ` ${e.scrollWidth} > ${e.clientWidth}`)"""


def sideways_overflow(page) -> list[str]:
    """Every element in the main area whose content is wider than its box and is clipped or scrolls
    sideways (what a person sees cut off), plus the page itself when it is wider than the viewport."""
    clipped = page.evaluate(OVERFLOW_JS)
    width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    return clipped + ([f"page: {width} > {viewport}"] if width > viewport else [])
