"""Digit Lab in a real Chromium: what only a browser can show.

One `streamlit run app.py` server for the module (runs folder in a temp dir); the tests run in
file order and the later ones reuse the run the training test leaves behind. Screenshots of
every page go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from browser_utils import (
    ROOT,
    canvas_box,
    chromium_path,
    draw_strokes,
    open_page,
    screenshot,
    select_first_history_row,
    streamlit_server,
    until_visible,
    wait_for_charts,
    wait_for_idle,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]

HOME_BUDGET_S = float(os.environ.get("DIGIT_LAB_HOME_BUDGET_S", "3.0"))
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def mnist_env() -> dict[str, str]:
    """Full MNIST when the team's copy is there (else the app uses its embedded sample)."""
    if os.environ.get("MNIST_DATA_DIR"):
        return {}
    return {"MNIST_DATA_DIR": str(SHARED_MNIST)} if SHARED_MNIST.is_dir() else {}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser") / "runs"


@pytest.fixture(scope="module")
def server(runs_dir):
    """A fresh server, and how long Home took to show its content after the server first answered."""
    log = runs_dir.parent / "streamlit.log"
    with streamlit_server(runs_dir, env=mnist_env(), log=log) as url:
        yield url


def finished_run_id(runs_dir: Path) -> str:
    """A run with a model and an evaluation: the one the training test left, else a tiny new one."""
    from mnist_core import runs
    from mnist_core.config import TrainingConfig

    for handle in runs.list_runs(runs_dir):
        if handle.status().is_finished and handle.model_path("best") and handle.evaluation() is not None:
            return handle.id
    config = TrainingConfig(hidden_units=(32,), epochs=1, train_limit=2000)
    handle = runs.start_run(
        config,
        name="browser fallback",
        runs_dir_path=runs_dir,
        data_dir=mnist_env().get("MNIST_DATA_DIR") or os.environ.get("MNIST_DATA_DIR"),
    )
    assert handle.wait(timeout=300).state == "completed"
    return handle.id


# ---------------------------------------------------------------- Home
def test_home_renders_within_budget_on_a_fresh_server(page, server):
    start = time.monotonic()
    page.goto(server, wait_until="domcontentloaded")
    page.get_by_text("Start here").wait_for()
    elapsed = time.monotonic() - start
    wait_for_idle(page)
    words = page.get_by_test_id("stSidebarNav").inner_text().split()  # icon names are lower case
    pages = ["Home", "Train", "Draw", "My", "Diagnostics", "Lessons", "My", "Class"]  # "My digits", "My data"; Class:
    # the operator (no sign-in) is the lab's teacher
    assert [w for w in words if w[0].isupper()] == pages
    screenshot(page, "home")
    assert elapsed <= HOME_BUDGET_S, f"Home took {elapsed:.2f} s to show its content"


# ---------------------------------------------------------------- Train
def progress_state(page) -> tuple[float, str]:
    bar = page.get_by_test_id("stProgress").first
    value = bar.get_by_role("progressbar").get_attribute("aria-valuenow")
    return float(value or 0), bar.inner_text()


def batch_points(page) -> int:
    caption = page.get_by_text(re.compile(r"\d+ batch points")).first.inner_text()
    return int(re.search(r"(\d+) batch points", caption).group(1))


def set_slider(page, label: str, value: int) -> None:
    """Move a Streamlit slider with the keyboard until it shows `value`."""
    thumb = page.get_by_test_id("stSlider").filter(has_text=label).first.locator('input[type="range"]')
    thumb.focus()
    if int(float(thumb.input_value())) == value:  # shown but maybe never sent: move away and back
        page.keyboard.press("ArrowLeft")
    for _ in range(60):
        now = int(float(thumb.input_value()))
        if now == value:
            wait_for_idle(page)
            return
        page.keyboard.press("ArrowRight" if now < value else "ArrowLeft")
    raise AssertionError(f"slider {label!r} did not reach {value}")


@pytest.mark.slow
def test_training_runs_live_and_stops_keeping_its_model(page, server, runs_dir):
    open_page(page, server, "train")
    page.get_by_test_id("stSelectbox").filter(has_text="Preset").click()
    page.get_by_role("option", name="seed001").click()  # a small MLP: Dense 32
    # Wait until the preset's values are on screen: typing while its rerun is still on the way sends
    # the old values of the other controls with the new one, and the preset then overwrites the input.
    page.get_by_text(re.compile(r"Start trains:.*MLP 32\b")).wait_for()
    wait_for_idle(page)
    limit = page.get_by_test_id("stNumberInput").filter(has_text="Training digits").locator("input")
    limit.fill("2000")
    limit.press("Enter")
    page.get_by_text("2,000 digits").wait_for()  # the "Start trains: …" line has the new value
    until_visible(
        lambda: set_slider(page, "Epochs", 20),  # 2000 digits an epoch: long enough to watch
        page.get_by_text(re.compile(r"20 epochs · 2,000 digits")),
    )
    batch = page.get_by_test_id("stSlider").filter(has_text="Batch size").locator('input[type="range"]')

    def smallest_batch():  # batch 16: more batches, a smoother live curve
        batch.focus()
        page.keyboard.press("Home")

    until_visible(smallest_batch, page.get_by_text(re.compile(r"batch 16 · 20 epochs · 2,000 digits")))
    wait_for_idle(page)
    page.get_by_test_id("stTextInput").filter(has_text="Run name").locator("input").fill("browser run")
    page.get_by_role("button", name="Start training").click()

    page.get_by_text(re.compile(r"Epoch \d+/20")).first.wait_for(timeout=180_000)
    first_fraction, first_text = progress_state(page)
    first_points = batch_points(page)
    page.wait_for_function(
        "() => /Epoch ([3-9]|1\\d)\\/20/.test(document.querySelector('[data-testid=\"stProgress\"]')?.innerText)",
        timeout=180_000,
    )
    wait_for_charts(page)
    later_fraction, later_text = progress_state(page)
    assert later_fraction > first_fraction, (first_text, later_text)
    assert batch_points(page) > first_points
    screenshot(page, "train-live")

    page.locator(".st-key-train_stop button").click()
    page.get_by_text("Stopped on request").wait_for(timeout=120_000)
    wait_for_idle(page)
    wait_for_charts(page)
    assert page.get_by_role("button", name="Download model (.keras)").first.is_visible()
    status = json.loads(next(runs_dir.glob("*-browser-run/status.json")).read_text())
    assert status["state"] == "stopped" and 2 <= status["epoch"] < 20
    from mnist_core import runs

    config = next(h for h in runs.list_runs(runs_dir) if h.name == "browser run").config
    assert (config.hidden_units, config.train_limit, config.batch_size, config.epochs) == ((32,), 2000, 16, 20)
    assert next(runs_dir.glob("*-browser-run/model_best.keras")).stat().st_size > 0
    page.get_by_text("Show the model summary").first.click()
    page.get_by_text(re.compile("Total params")).first.wait_for(timeout=120_000)  # loads Keras on first use
    wait_for_idle(page)
    screenshot(page, "train-stopped")


# ---------------------------------------------------------------- Draw
def read_probabilities(page) -> dict[int, float]:
    text = page.locator(".dl-probs").inner_text()
    return {int(d): float(p) / 100 for d, p in re.findall(r"(\d): ([\d.]+)%", text)}


@pytest.mark.slow
def test_drawing_on_the_canvas_shows_a_prediction_and_ten_probabilities(page, server, runs_dir):
    from digit_drawings import template_strokes
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    open_page(page, server, "draw")
    if not STARTER_MODEL_PATH.is_file():  # until the starter model ships: use the trained run
        run_id = finished_run_id(runs_dir)
        page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
        page.get_by_role("option").filter(has_text=re.compile("browser run|browser fallback")).first.click()
        wait_for_idle(page)
        assert run_id
    box = canvas_box(page)
    draw_strokes(page, template_strokes("7", 190, (140, 140)), box)
    page.locator(".dl-answer").wait_for(timeout=120_000)
    wait_for_idle(page)
    wait_for_charts(page)
    digit = int(page.locator(".dl-answer").inner_text())
    probabilities = read_probabilities(page)
    assert sorted(probabilities) == list(range(10))
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=0.01)
    assert max(probabilities, key=probabilities.get) == digit
    heights = page.locator(".dl-bar-fill").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().height)")
    assert len(heights) == 10 and max(range(10), key=heights.__getitem__) == digit  # the bars are drawn to scale
    assert heights[digit] > 50
    assert page.get_by_text("What the model sees").is_visible()
    screenshot(page, "draw")


@pytest.mark.slow
def test_a_stray_dot_beside_the_digit_does_not_change_the_answer(page, server):
    from digit_drawings import template_strokes

    open_page(page, server, "draw")
    box = canvas_box(page)
    draw_strokes(page, template_strokes("5", 150, (130, 150)), box)
    page.locator(".dl-answer").wait_for(timeout=120_000)
    wait_for_idle(page)
    before = read_probabilities(page)
    assert page.locator(".dl-answer").inner_text() == "5"
    draw_strokes(page, [[(255, 255), (256, 256)]], box)  # an accidental tap in the corner
    page.get_by_text("stray dots left out").wait_for(timeout=60_000)
    wait_for_idle(page)
    assert page.locator(".dl-answer").inner_text() == "5"
    after = read_probabilities(page)
    assert max(abs(after[d] - before[d]) for d in range(10)) < 0.02


# ---------------------------------------------------------------- Diagnostics
CELL_JS = """([t, p]) => {  // where cell (true t, predicted p) of the confusion matrix is on screen
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.d2p(p), y: box.top + ya._offset + ya.d2p(t)};
}"""


@pytest.mark.slow
def test_clicking_a_confusion_cell_shows_its_digits(page, server, runs_dir):
    from mnist_core import runs
    from mnist_core.runs import diagnostics

    evaluation = runs.load_run(finished_run_id(runs_dir), runs_dir).evaluation()
    true, predicted, count = diagnostics.top_confusions(evaluation.confusion, limit=1)[0]
    open_page(page, server, "diagnostics")
    page.get_by_test_id("stPlotlyChart").first.scroll_into_view_if_needed()
    wait_for_charts(page)
    title = page.get_by_text(re.compile(rf"True {true}, predicted {predicted}: {count} digit"))

    def click_cell():
        wait_for_idle(page)
        point = page.evaluate(CELL_JS, [true, predicted])
        page.mouse.click(point["x"], point["y"])

    until_visible(click_cell, title, timeout=30_000)
    wait_for_idle(page)
    column = page.get_by_test_id("stColumn").filter(has=title).last
    assert column.locator('[data-testid="stImage"] img').count() == min(count, 40)  # GALLERY_MAX
    captions = column.get_by_test_id("stImageCaption").all_inner_texts()
    assert all(c.startswith(f"p({predicted})") and f"p({true})" in c for c in captions)
    screenshot(page, "diagnostics")


# ---------------------------------------------------------------- run history
@pytest.mark.slow
def test_use_its_settings_fills_the_form_from_the_picked_run(page, server, runs_dir):
    """The history's Use its settings set the form's widgets after they were drawn: Streamlit raised
    StreamlitWidgetAlreadyInstantiatedError on the page instead of filling the form (found in a walk-through)."""
    from mnist_core import runs

    epochs = runs.load_run(finished_run_id(runs_dir), runs_dir).config.epochs
    open_page(page, server, "train")
    set_slider(page, "Epochs", epochs + 1)
    reuse = page.locator(".st-key-train_reuse button")
    until_visible(lambda: select_first_history_row(page), reuse)
    reuse.click()
    wait_for_idle(page)
    assert not page.get_by_test_id("stException").count()
    thumb = page.get_by_test_id("stSlider").filter(has_text="Epochs").first.locator('input[type="range"]')
    playwright_api.expect(thumb).to_have_value(str(epochs), timeout=15_000)


@pytest.mark.slow
def test_rename_then_delete_a_run_with_confirmation(page, server, runs_dir):
    from mnist_core import runs

    finished_run_id(runs_dir)
    count = len(runs.list_runs(runs_dir))
    open_page(page, server, "train")
    field = page.get_by_role("textbox", name="Name", exact=True)
    until_visible(lambda: select_first_history_row(page), field)
    playwright_api.expect(field).not_to_have_value("", timeout=30_000)  # the current name, ready to edit
    field.fill("renamed in the browser")
    field.press("Enter")
    page.locator(".st-key-train_rename_go button").click()
    page.get_by_text("renamed in the browser").first.wait_for()
    wait_for_idle(page)
    assert any(h.name == "renamed in the browser" for h in runs.list_runs(runs_dir))
    page.locator(".st-key-train_delete button").click()
    page.get_by_text("This cannot be undone").wait_for()
    screenshot(page, "train-delete-confirm")
    page.locator(".st-key-train_delete_yes button").click()
    page.get_by_text("This cannot be undone").wait_for(state="detached")
    wait_for_idle(page)
    assert len(runs.list_runs(runs_dir)) == count - 1
