"""Digit Lab on phones and tablets (issue 17): Chromium with touch emulation at four screen sizes.

At each size the Draw page shows the whole canvas, square, with nothing sticking out sideways, and
20 of 20 digits drawn with a finger (Chrome DevTools Protocol touch events, no mouse) get an answer.
Train and Diagnostics fit a tablet too. One server for the module; screenshots go to
artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from browser_utils import (
    canvas_on_screen,
    chromium_path,
    open_page,
    screenshot,
    sideways_overflow,
    streamlit_server,
    touch_strokes,
    wait_for_idle,
)

pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]

SIZES = {"phone": (390, 844), "tablet-portrait": (820, 1180), "tablet-landscape": (1180, 820), "desktop": (1400, 1000)}
DIGITS = ["4", "7", "1", "5", "3", "2", "8", "6", "9", "0"]  # templates of digit_drawings, each drawn twice
DRAWN = 20
SETTLE_MS = 400  # the canvas sends a drawing about 200 ms after the finger lifts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    if not STARTER_MODEL_PATH.is_file():
        pytest.skip("the starter model is not built (mnist_core/assets/starter.keras)")
    folder = tmp_path_factory.mktemp("tablet")
    with streamlit_server(folder / "runs", log=folder / "streamlit.log") as url:
        yield url


def touch_page(browser, size: tuple[int, int]):
    """A tab in a touch-screen context of this size (a mobile one below desktop width)."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True, is_mobile=width < 1400)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def clear_by_touch(page) -> None:
    page.get_by_role("button", name="Reset canvas & history").tap()
    page.locator(".dl-answer").wait_for(state="detached", timeout=30_000)
    wait_for_idle(page)


def draw_digit_by_touch(page, name: str, side: float) -> str | None:
    """Draw template `name` with a finger on a clear canvas; the answer shown, or None if none came."""
    from digit_drawings import template_strokes

    box = canvas_on_screen(page)
    strokes = template_strokes(name, side * 0.68, (side / 2, side / 2))
    touch_strokes(page, strokes, box, side)
    if len(strokes) > 1:  # wait until the last stroke is sent: the answer read is for the whole digit
        page.wait_for_timeout(SETTLE_MS)
    try:
        page.locator(".dl-answer").wait_for(timeout=30_000)
    except Exception:  # noqa: BLE001 - Playwright's timeout: counted as no answer
        return None
    wait_for_idle(page)
    return page.locator(".dl-answer").inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SIZES))
def test_draw_fits_the_screen_and_answers_every_finger_drawn_digit(browser, server, name):
    page = touch_page(browser, SIZES[name])
    open_page(page, server, "draw")
    page.locator(".dl-width-probe").wait_for(state="attached")
    wait_for_idle(page)
    seen = canvas_on_screen(page)
    print(f"{name}: canvas {seen['width']:.0f}x{seen['height']:.0f} px at x={seen['x']:.0f}")
    assert seen["width"] == seen["height"] >= 280, seen  # square, and never smaller than before
    assert all(seen["corners_seen"]), f"part of the canvas is hidden: {seen}"
    assert 0 <= seen["x"] and seen["x"] + seen["width"] <= seen["viewport_width"], seen
    assert seen["y"] + seen["height"] <= SIZES[name][1], f"the canvas does not fit on the screen: {seen}"
    assert sideways_overflow(page) == []
    answers = []
    for i in range(DRAWN):
        answers.append((DIGITS[i % len(DIGITS)][0], draw_digit_by_touch(page, DIGITS[i % len(DIGITS)], seen["width"])))
        if i == 0:
            assert sideways_overflow(page) == []  # with the answer, the stages and Teach on screen
            screenshot(page, f"draw-{name}")
        clear_by_touch(page)
    right = sum(drawn == shown for drawn, shown in answers)
    print(f"{name}: {sum(shown is not None for _, shown in answers)} of {DRAWN} answered, {right} right: {answers}")
    assert all(shown is not None for _, shown in answers), answers
    assert right >= DRAWN - 2, answers  # the starter model reads these templates (a stroke may land oddly)
    page.context.close()
