"""Issue 7 in a real Chromium: keep a drawing in My digits with a corrected label, See why, a shared
Train link, Watch it learn, and a tiny fine-tune with its before/after. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser_utils import (
    canvas_box,
    chromium_path,
    draw_strokes,
    open_page,
    screenshot,
    streamlit_server,
    wait_for_charts,
    wait_for_idle,
)
from test_browser import mnist_env

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("beyond")
    return root / "runs", root / "mine"


@pytest.fixture(scope="module")
def server(folders):
    runs_dir, mine = folders
    env = {**mnist_env(), "DIGIT_LAB_MY_DIGITS_DIR": str(mine)}
    with streamlit_server(runs_dir, env=env, log=runs_dir.parent / "streamlit.log") as url:
        yield url


def pick(page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_idle(page)


INKED_PIXELS_JS = """(upper) => {  // light pixels on Fabric's drawing layers (the canvases beside the pointer one)
  let n = 0;
  for (const c of upper.parentElement.querySelectorAll('canvas:not(.upper-canvas)')) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
  }
  return n;
}"""


def inked_pixels(page) -> int:
    return page.locator("canvas.upper-canvas").first.evaluate(INKED_PIXELS_JS)


def test_the_drawing_stays_when_the_uploader_opens_above_the_canvas(page, server):
    from digit_drawings import template_strokes

    open_page(page, server, "draw")
    draw_strokes(page, template_strokes("3", 190, (140, 140)), canvas_box(page))
    page.locator(".dl-answer").wait_for(timeout=120_000)
    wait_for_idle(page)
    inked, answer = inked_pixels(page), page.locator(".dl-answer").inner_text()
    assert inked > 1000
    pick(page, "Model", "Upload a .keras file…")  # the uploader and a hint appear above the canvas
    page.get_by_text("Upload a model to use it").wait_for()
    assert inked_pixels(page) == inked  # the canvas still shows what the answer is about
    assert page.locator(".dl-answer").inner_text() == answer


def test_keep_a_drawing_with_a_corrected_label_and_see_it_in_my_digits(page, server, folders):
    from digit_drawings import template_strokes
    from mnist_core import my_digits

    shutil.rmtree(folders[1], ignore_errors=True)  # a rerun of this test starts from an empty My digits too
    open_page(page, server, "draw")
    draw_strokes(page, template_strokes("7", 190, (140, 140)), canvas_box(page))
    page.locator(".dl-answer").wait_for(timeout=120_000)
    wait_for_idle(page)
    predicted = page.locator(".dl-answer").inner_text()
    corrected = "1" if predicted != "1" else "4"
    wrong = page.get_by_test_id("stButtonGroup").filter(has_text="That's wrong, it's a")
    wrong.get_by_role("radio", name=corrected, exact=True).click()  # one click under the answer
    page.get_by_text(f"Kept as a {corrected}").wait_for()
    assert [s.label for s in my_digits.list_digits(folders[1])] == [int(corrected)]

    page.get_by_text("See why").click()
    page.get_by_text(f"Why {predicted}").wait_for(timeout=120_000)
    wait_for_idle(page)
    wait_for_charts(page)
    screenshot(page, "draw-teach-see-why")

    open_page(page, server, "my_digits")
    page.get_by_text("1 digit ·").wait_for()
    images = page.get_by_test_id("stImage")
    images.first.wait_for()  # the count's caption can come a moment before the image (failed 1 run in ~10)
    assert images.count() == 1
    assert page.get_by_text(re.compile(rf"^{corrected} · 1$")).is_visible()
    assert page.get_by_role("button", name="Start fine-tuning").is_disabled()
    screenshot(page, "my-digits")


def test_a_shared_train_link_fills_the_controls_and_watch_it_learn(page, server, folders):
    from mnist_core import runs
    from mnist_core.config import TrainingConfig

    config = TrainingConfig(architecture="mlp", hidden_units=(32,), epochs=2, train_limit=2000, batch_size=64)
    handle = runs.start_run(
        config, name="watched", runs_dir_path=folders[0], data_dir=mnist_env().get("MNIST_DATA_DIR")
    )
    assert handle.wait(timeout=300).state == "completed"
    open_page(page, server, "train?architecture=mlp&hidden_units=256,64&epochs=7&optimizer=sgd&dropout=banana")
    page.get_by_text("From the link: Ignored dropout='banana'").wait_for()
    epochs = page.get_by_test_id("stSlider").filter(has_text="Epochs").first.locator('input[type="range"]')
    assert epochs.input_value() == "7"
    assert "MLP 256-64" in page.get_by_text(re.compile("Start trains:")).inner_text()
    assert "epochs=7" in page.url
    page.get_by_text("Watch it learn").first.wait_for()
    wait_for_charts(page)
    screenshot(page, "train-watch-share")


def test_a_tiny_fine_tune_shows_before_and_after(page, server, folders):
    from digit_drawings import render_strokes, template_strokes
    from mnist_core import my_digits
    from mnist_core.drawing.preprocess import canvas_to_mnist

    for digit in range(10):
        for size in (170, 200):
            drawing = render_strokes(
                template_strokes(str(digit), size, (140, 140)), size=280, brush=18, paper=(0, 0, 0, 255)
            )
            my_digits.add_digit(canvas_to_mnist(drawing), digit, folders[1])
    open_page(page, server, "my_digits")
    page.get_by_test_id("stSelectbox").filter(has_text="Base model").click()
    page.get_by_role("option").filter(has_text="watched").first.click()  # the tiny MLP run: fast
    wait_for_idle(page)
    epochs = page.get_by_test_id("stNumberInput").filter(has_text="Epochs").locator("input")
    epochs.fill("1")
    epochs.press("Enter")
    wait_for_idle(page)
    page.get_by_role("button", name="Start fine-tuning").click()
    page.get_by_text("Held-out My digits").wait_for(timeout=300_000)
    wait_for_idle(page)
    wait_for_charts(page)
    assert page.get_by_test_id("stMetric").count() == 2
    assert page.get_by_text("Each held-out drawing").is_visible()
    screenshot(page, "my-digits-finetuned")
    assert np.isfinite(float(page.get_by_test_id("stMetricValue").first.inner_text().rstrip("%")))
