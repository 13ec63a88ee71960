"""The first impression on a fresh server (issue 17): Draw shows its canvas at once and answers the
first drawing within seconds, while TensorFlow is still loading in the background.

Goals: canvas on screen <= 2 s after the page opens, first answer <= 3 s. The machine is shared, so the
test asserts them with a margin (DIGIT_LAB_COLD_MARGIN, default 3x on a shared 2-core machine; the goals
themselves are still open in issue 17) and prints what it measured.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from browser_utils import VIEWPORT, canvas_box, chromium_path, draw_strokes, streamlit_server

pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]

CANVAS_GOAL_S, ANSWER_GOAL_S = 2.0, 3.0
MARGIN = float(os.environ.get("DIGIT_LAB_COLD_MARGIN", "3.0"))  # a shared 2-core CI machine; the goal is 1x


@pytest.mark.slow
def test_a_fresh_server_shows_the_canvas_at_once_and_answers_the_first_drawing(browser, tmp_path):
    from digit_drawings import template_strokes
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    if not STARTER_MODEL_PATH.is_file():
        pytest.skip("the starter model is not built (mnist_core/assets/starter.keras)")
    with streamlit_server(tmp_path / "runs", log=tmp_path / "streamlit.log") as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        start = time.monotonic()
        page.goto(f"{url}/draw", wait_until="commit")
        page.locator("canvas.upper-canvas").first.wait_for(state="visible", timeout=60_000)
        canvas_s = time.monotonic() - start
        box = canvas_box(page)  # once the page has measured its width and sized the canvas for it
        draw_strokes(page, template_strokes("7", 190, (140, 140)), box, size=box["width"])
        page.locator(".dl-answer").wait_for(timeout=120_000)
        answer_s = time.monotonic() - start
        answer = page.locator(".dl-answer").inner_text()
        numpy_copy = page.get_by_text(re.compile("a NumPy copy of the starter model answers")).count() > 0
        context.close()
    print(
        f"fresh server: canvas on screen {canvas_s:.2f} s after opening Draw (goal {CANVAS_GOAL_S} s), "
        f"first answer {answer_s:.2f} s (goal {ANSWER_GOAL_S} s), answered {answer} "
        f"by {'the NumPy copy (TensorFlow still loading)' if numpy_copy else 'the TensorFlow model'}"
    )
    assert answer == "7"
    assert canvas_s <= CANVAS_GOAL_S * MARGIN, f"the canvas took {canvas_s:.2f} s"
    assert answer_s <= ANSWER_GOAL_S * MARGIN, f"the first answer took {answer_s:.2f} s"
