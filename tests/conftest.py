"""Shared fixtures: where the real MNIST files live."""

from __future__ import annotations

import faulthandler
import os
import sys
from pathlib import Path

import pytest

# A warm worker waits for its next run ($DIGIT_LAB_WORKER_LINGER_S, 120 s in the app): across the suite's many
# runs folders that would leave dozens of idle TensorFlow processes. The tests of warm workers set it themselves.
os.environ.setdefault("DIGIT_LAB_WORKER_LINGER_S", "0")

# CI clones the repo next to shared/, so the team's copy of MNIST sits two levels up.
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the four original MNIST IDX files; skips the test only if there is none."""
    for candidate in (SHARED_MNIST, Path(os.environ.get("MNIST_DATA_DIR", "")).expanduser()):
        if str(candidate) not in ("", ".") and (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    pytest.skip(f"full MNIST not found at {SHARED_MNIST} (or $MNIST_DATA_DIR)")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest's own fault handler is off by now; a crash while the interpreter shuts down (a native
    library's thread, after the summary) still prints where each thread was, so CI shows its cause."""
    faulthandler.enable(file=sys.__stderr__, all_threads=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each real-browser test one more try: on a loaded 2-core machine a Streamlit rerun can
    swallow an input. A second failure still fails the run, and reruns are reported."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.fixture(scope="module")
def browser():
    """One headless system Chromium per test module (never a downloaded browser)."""
    from browser_utils import launch_chromium
    from playwright import sync_api as playwright_api

    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and tab, at the size the screenshots use."""
    from browser_utils import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()
