"""Issue 14 on the Draw page: a European 7 reads "7", a star and a plus sign read "That does not look like a
digit" (with the model's best guess in small print), and Teach it still works for it. AppTest, then a real
Chromium."""

from __future__ import annotations

import re

import numpy as np
import pytest
from browser_utils import (
    canvas_box,
    chromium_path,
    draw_strokes,
    open_page,
    screenshot,
    streamlit_server,
    wait_for_idle,
)
from test_browser import mnist_env
from test_pages import fake_canvas, open_app, runs_root  # noqa: F401 (runs_root is a fixture)

NOT_A_DIGIT = "That does not look like a digit"


def star_strokes(centre: tuple[float, float] = (140, 140), radius: float = 95) -> list[list[tuple[float, float]]]:
    """A five-pointed star in one stroke, as people draw it (every second corner), in canvas pixels."""
    angles = -np.pi / 2 + 4 * np.pi * np.arange(6) / 5
    return [[(centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a)) for a in angles]]


def plus_sign(centre: tuple[float, float] = (140, 140), arm: float = 90) -> list[list[tuple[float, float]]]:
    """A plus sign in two strokes (down, then across), in canvas pixels: the third detector let 98% through."""
    x, y = centre
    return [[(x, y - arm), (x + 4, y + arm)], [(x - arm, y + 6), (x + arm, y - 2)]]


def european_seven() -> list[list[tuple[float, float]]]:
    from digit_drawings import template_strokes

    return template_strokes("7 bar", 190, (140, 140))


def _canvas(strokes) -> np.ndarray:
    from digit_drawings import render_strokes

    return render_strokes(strokes, size=280, brush=18, paper=(0, 0, 0, 255))


def test_a_star_is_not_a_digit_with_the_best_guess_in_small_print_and_teach_it_still_works(runs_root, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, _canvas(star_strokes()))
    at = open_app("draw")
    html = " ".join(h.value for h in at.get("html"))
    assert NOT_A_DIGIT in html and 'class="dl-answer"' not in html
    assert re.search(r'class="dl-guess">The model\'s best guess: \d \(\d+%\)', html)
    assert html.count('class="dl-bar"') == 10  # the ten probabilities are still shown
    assert not any("unsure" in w.value for w in at.warning)  # no "draw it bigger" advice for a star
    its_a = next(p for p in at.pills if p.label == "It's a")  # keep it with the label the user picks: all ten
    assert list(map(int, its_a.options)) == list(range(10)) and not at.button  # no "Right: keep it as" for a non-digit
    its_a.set_value(4).run()
    assert not at.exception and "Kept as a 4" in at.toast[0].value


def test_a_european_seven_reads_seven(runs_root, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, _canvas(european_seven()))
    at = open_app("draw")
    html = " ".join(h.value for h in at.get("html"))
    assert NOT_A_DIGIT not in html
    assert re.search(r'aria-label="predicted digit">7<', html)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("not_a_digit")
    env = {**mnist_env(), "DIGIT_LAB_MY_DIGITS_DIR": str(root / "mine")}
    with streamlit_server(root / "runs", env=env, log=root / "streamlit.log") as url:
        yield url


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH")
def test_in_the_browser_a_european_seven_is_seven_and_a_star_and_a_plus_are_not_digits(page, server):
    pytest.importorskip("playwright.sync_api")
    open_page(page, server, "draw")
    box = canvas_box(page)
    draw_strokes(page, european_seven(), box)
    page.locator(".dl-answer").wait_for(timeout=120_000)
    wait_for_idle(page)
    assert page.locator(".dl-answer").inner_text() == "7"
    page.get_by_role("button", name="Reset canvas & history").click()
    page.locator(".dl-probs").wait_for(state="detached", timeout=30_000)
    wait_for_idle(page)
    draw_strokes(page, star_strokes(), box)
    page.get_by_text(NOT_A_DIGIT).wait_for(timeout=60_000)
    wait_for_idle(page)
    assert page.locator(".dl-answer").count() == 0
    assert page.locator(".dl-guess").inner_text().startswith("The model's best guess:")
    screenshot(page, "draw-not-a-digit")
    page.get_by_role("button", name="Reset canvas & history").click()
    page.get_by_text(NOT_A_DIGIT).wait_for(state="detached", timeout=30_000)
    wait_for_idle(page)
    draw_strokes(page, plus_sign(), box)
    page.get_by_text(NOT_A_DIGIT).wait_for(timeout=60_000)
    wait_for_idle(page)
    assert page.locator(".dl-answer").count() == 0
    screenshot(page, "draw-plus-not-a-digit")
