"""The pages, run for real with Streamlit's AppTest (runs folder in tmp_path, slow services patched)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from queue_utils import RecordingLauncher, use_launcher
from streamlit.testing.v1 import AppTest

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.presets import PRESETS
from mnist_core.runs import evaluation_apart
from mnist_core.runs.diagnostics import cell_title
from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation
from mnist_core.runs.files import RunFiles
from mnist_core.storage import append_jsonl
from ui import data_banner, train_form, uploads

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(root))
    st.cache_data.clear()
    st.cache_resource.clear()
    return root


def open_app(page: str | None = None) -> AppTest:
    """app.py (navigation and sidebar), then `page` if given, each run once."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def fake_evaluation(n: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    logits = rng.normal(size=(n, 10))
    logits[np.arange(n), labels] += 3.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return evaluate_probabilities(probabilities, labels, rng.integers(0, 255, (n, 28, 28), dtype=np.uint8))


def make_run(
    root: Path,
    slug: str,
    state: str = "completed",
    name: str | None = None,
    epochs_done: int = 2,
    evaluated: bool = True,
    pid: int | None = None,
    config: TrainingConfig | None = None,
) -> RunFiles:
    """A run folder as the worker leaves it (without a model file)."""
    config = config or TrainingConfig(hidden_units=(32,), epochs=3)
    files = RunFiles(root / f"20260101-12000{len(list(root.glob('*'))) if root.exists() else 0}-{slug}")
    files.path.mkdir(parents=True)
    files.write_meta(config, name or slug, None)
    now = time.time()
    files.update_status(
        state=state,
        message=f"{state} for a test",
        created_at=now - 60,
        started_at=now - 50,
        ended_at=None if state == "running" else now,
        epoch=epochs_done,
        epochs=config.epochs,
        pid=pid,
        data_source="test digits",
    )
    rows = [
        {
            "kind": "batch",
            "epoch": e,
            "batch": b,
            "batches": 4,
            "step": (e - 1) * 4 + b,
            "seen": b * 128,
            "samples_per_s": 1000.0,
            "t": e * 4 + b,
            "loss": 2.0 / (e * b),
            "accuracy": 0.5 + 0.1 * e,
        }
        for e in range(1, epochs_done + 1)
        for b in range(1, 5)
    ]
    rows += [
        {
            "kind": "epoch",
            "epoch": e,
            "t": e * 5,
            "loss": 1 / e,
            "accuracy": 0.8,
            "val_loss": 1.1 / e,
            "val_accuracy": 0.8 + 0.05 * e,
            "lr": 1e-3,
        }
        for e in range(1, epochs_done + 1)
    ]
    append_jsonl(files.metrics, rows)
    if evaluated:
        save_evaluation(files.path, fake_evaluation())
    return files


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained 8-unit Digit Lab model: loads like the starter model, answers without confidence."""
    from mnist_core.models import build_model

    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    build_model(TrainingConfig(hidden_units=(8,), epochs=1)).save(path)
    return path


@pytest.fixture
def starter(tiny_model, monkeypatch):
    """Point the starter model at the tiny model (the real one may not be built yet)."""
    import mnist_core.drawing.predict as predict

    monkeypatch.setattr(predict, "STARTER_MODEL_PATH", tiny_model)
    return tiny_model


@pytest.fixture
def live_worker():
    """A process that `runs` takes for a live worker (its command line mentions mnist_core)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "mnist_core"])
    yield process.pid
    process.kill()
    process.wait()


# ---------------------------------------------------------------- Home
def test_home_renders_with_links_to_every_page(runs_root):
    at = open_app()
    assert at.title[0].value == "Digit Lab"
    assert {link.proto.page for link in at.get("page_link")} >= {"train", "draw", "diagnostics"}


def test_home_says_how_to_get_full_mnist_when_on_the_embedded_sample(runs_root, monkeypatch):
    info = data_banner.DataInfo("embedded", "Embedded sample", 4000, 1000)
    monkeypatch.setattr(data_banner, "data_info", lambda: info)
    at = open_app()
    assert "MNIST_DATA_DIR" in at.warning[0].value
    assert "4,000" in at.warning[0].value


def test_home_shows_a_data_error_without_a_traceback(runs_root, monkeypatch):
    info = data_banner.DataInfo("error", "MNIST_DATA_DIR=/nope: no such file or folder.", 0, 0)
    monkeypatch.setattr(data_banner, "data_info", lambda: info)
    at = open_app()
    assert "/nope" in at.error[0].value


def test_home_shows_the_run_in_training(runs_root, live_worker):
    make_run(runs_root, "live", state="running", name="night run", pid=live_worker, evaluated=False)
    at = open_app()
    assert any("night run" in m.value for m in at.markdown)
    assert at.get("progress")


# ---------------------------------------------------------------- Train
def test_train_empty_state_and_default_preset(runs_root):
    at = open_app("train")
    assert any("No runs yet" in i.value for i in at.info)
    assert at.selectbox(key="train_preset").value == "quick"
    assert at.segmented_control(key="train_architecture").value == "cnn"


@pytest.fixture
def embedded_data(tmp_path, monkeypatch):
    """The data of a fresh clone: no MNIST_DATA_DIR and no Keras cache, so the embedded sample."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def test_train_states_what_the_preset_reaches_on_the_embedded_sample(runs_root, embedded_data):
    at = open_app("train")
    quick = PRESETS["quick"]
    assert (
        f"Expected test accuracy about **{quick.expected_embedded:.1%}** on the embedded sample (4,000 "
        in (infos(at)[0])
    )
    assert any(
        "3,600 training digits in batches of 128: 29 steps an epoch, 9 epochs (261 steps; at least 250)." in c.value
        for c in at.caption
    )
    assert not any("Few steps for batch norm" in text for text in infos(at))


def test_a_batch_norm_run_too_short_to_settle_gets_a_hint(runs_root, embedded_data):
    at = open_app("train")
    at.toggle(key="train_batch_norm").set_value(True).run()  # quick itself has none (issue 18: it costs 40% a step)
    at.number_input(key="train_min_steps").set_value(0).run()
    (hint,) = [text for text in infos(at) if "Few steps for batch norm" in text]
    assert "only 29 steps" in hint and "At least this many steps" in hint
    at.slider(key="train_epochs").set_value(4).run()  # 116 steps: enough
    assert not any("Few steps for batch norm" in text for text in infos(at))
    at.slider(key="train_epochs").set_value(1).run()
    at.toggle(key="train_batch_norm").set_value(False).run()  # no batch norm, nothing to settle
    assert not any("Few steps for batch norm" in text for text in infos(at))


def test_train_states_the_full_mnist_figure_on_full_mnist(runs_root, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DATA_DIR", str(mnist_dir))
    at = open_app("train")
    assert f"Expected test accuracy about **{PRESETS['quick'].expected_accuracy:.1%}** on full MNIST" in infos(at)[0]
    at.number_input(key="train_min_steps").set_value(0).run()  # one epoch of 54,000 (10% held out) is 422 steps
    assert any("54,000 training digits in batches of 128: 422 steps an epoch, 1 epoch (422 steps)." in c.value
               for c in at.caption)  # fmt: skip
    assert not any("Few steps for batch norm" in text for text in infos(at))


def test_train_says_when_the_test_set_picks_the_epoch(runs_root, embedded_data):
    at = open_app("train")
    assert at.radio(key="train_validation").value == "split"  # quick: the honest default
    assert not any("optimistic" in c.value for c in at.caption)
    at.selectbox(key="train_preset").set_value("seed000").run()  # its notebook validated on the test set
    assert at.radio(key="train_validation").value == "test"
    assert any("the test accuracy reported afterwards is optimistic" in c.value for c in at.caption)


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_fills_every_control(runs_root, name):
    at = open_app("train")
    at.selectbox(key="train_preset").set_value(name).run()
    config = PRESETS[name].config
    state = at.session_state
    assert state["train_architecture"] == config.architecture
    assert state["train_optimizer"] == config.optimizer
    assert state["train_learning_rate"] == pytest.approx(config.learning_rate)
    assert state["train_batch_size"] == config.batch_size
    assert state["train_epochs"] == config.epochs
    assert state["train_validation"] == config.validation
    if config.architecture == "mlp":
        widths = [at.select_slider(key=f"train_width_{i}").value for i in range(len(config.hidden_units))]
        assert tuple(widths) == config.hidden_units
    else:
        filters = [at.select_slider(key=f"train_filters_{i}").value for i in range(len(config.conv_filters))]
        assert tuple(filters) == config.conv_filters
    assert (
        train_form.form_to_config(
            {k[6:]: state[k] for k in state if k.startswith("train_") and k[6:] in train_form.config_to_form(config)}
        )
        == config
    )


def test_start_sends_the_form_config_and_shows_queue_errors(runs_root, monkeypatch):
    seen = []

    def full(config, name=None, **kwargs):
        seen.append((config, name))
        raise runs.RunQueueFullError("You already have 3 runs waiting in the queue, the most it holds per person.")

    monkeypatch.setattr(runs, "start_run", full)
    at = open_app("train")
    at.selectbox(key="train_preset").set_value("seed001").run()
    at.text_input(key="train_name").input("my run").run()
    at.button(key="train_start").click().run()
    assert not at.exception
    assert "the most it holds per person" in at.error[0].value
    assert seen == [(PRESETS["seed001"].config, "my run")]


def test_a_config_error_is_shown_not_raised(runs_root, monkeypatch):
    def bad(form):
        raise ConfigError("dropout is 1.5; it must be in [0, 1).")

    monkeypatch.setattr(train_form, "form_to_config", bad)
    at = open_app("train")
    assert not at.exception
    assert at.error[0].value == "dropout is 1.5; it must be in [0, 1)."  # at once, before Start
    assert at.button(key="train_start").disabled


def test_a_bad_run_name_is_a_message(runs_root, monkeypatch):
    use_launcher(monkeypatch, RecordingLauncher())
    at = open_app("train")
    at.text_input(key="train_name").input("../../etc").run()
    at.button(key="train_start").click().run()
    assert "is not allowed" in at.error[0].value
    assert runs.list_runs() == []


def test_finished_run_shows_its_outcome_curves_and_history(runs_root):
    make_run(runs_root, "old", name="first try")
    make_run(runs_root, "new", state="stopped", name="second try")
    at = open_app("train")
    assert "second try" in at.warning[0].value  # the newest run, stopped
    assert at.get("plotly_chart")
    table = at.dataframe(key="train_history").value
    assert list(table["name"]) == ["second try", "first try"]
    assert set(table["status"]) == {"stopped", "completed"}


def test_live_run_shows_progress_and_stop_requests_a_stop(runs_root, live_worker):
    files = make_run(runs_root, "live", state="running", name="live one", pid=live_worker, evaluated=False)
    at = open_app("train")
    assert not at.button(key="train_start").disabled  # Start queues another run behind it
    progress = at.get("progress")[0]
    assert "Epoch" in progress.proto.text and "samples/s" in progress.proto.text
    at.button(key="train_stop").click().run()
    assert files.stop_flag.exists()
    assert at.button(key="train_stop").disabled  # "Stopping…"


# ---------------------------------------------------------------- Draw
def fake_canvas(monkeypatch, image) -> None:
    """Replace streamlit-drawable-canvas with a module whose canvas always returns `image`."""
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: types.SimpleNamespace(image_bytes=png_bytes(image))
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)


def png_bytes(image: np.ndarray | None) -> bytes | None:
    """What streamlit-drawable-canvas hands the page: the drawing as PNG bytes."""
    if image is None:
        return None
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def drawn_digit() -> np.ndarray:
    from digit_drawings import render_strokes, template_strokes

    return render_strokes(template_strokes("7", 180, (140, 140)), size=280, brush=18, paper=(0, 0, 0, 255))


def test_draw_with_an_empty_canvas_says_what_to_do(runs_root, starter, monkeypatch):
    fake_canvas(monkeypatch, None)
    at = open_app("draw")
    assert any("Draw a digit" in i.value for i in at.info)


def test_drawing_shows_the_digit_probabilities_and_what_the_model_sees(runs_root, starter, monkeypatch):
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    html = " ".join(h.value for h in at.get("html"))
    assert 'class="dl-answer"' in html
    assert html.count("<span>") == 10  # all ten probabilities as text
    assert html.count('class="dl-bar"') == 10  # and as bars
    assert html.count('<figure class="dl-stage"><img src="data:image/png;base64,') == 4  # the preprocessing stages
    assert "4 · Centred 28×28: the model&#x27;s input" in html
    assert any("unsure" in w.value for w in at.warning)  # an untrained model is never sure


def test_the_wrong_answer_choices_follow_each_new_answer(runs_root, monkeypatch):
    from digit_drawings import render_strokes, template_strokes

    def drawing(digit):
        return render_strokes(template_strokes(digit, 180, (140, 140)), size=280, brush=18, paper=(0, 0, 0, 255))

    canvas = {"image": drawing("7")}  # the real starter model: it reads these two drawings right
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: types.SimpleNamespace(image_bytes=png_bytes(canvas["image"]))
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    at = open_app("draw")
    wrong = lambda: next(p for p in at.pills if p.label == "That's wrong, it's a")  # noqa: E731
    choices = lambda: [int(o) for o in wrong().options]  # noqa: E731
    assert 7 not in choices() and len(choices()) == 9
    canvas["image"] = drawing("1")
    at.run()
    assert 1 not in list(map(int, wrong().options)) and 7 in list(
        map(int, wrong().options)
    )  # a new answer: the others to pick
    assert at.button(key="draw_keep").label == "Right: keep it as a 1"
    canvas["image"] = None
    at.run()
    assert not at.pills  # nothing to correct on an empty canvas
    canvas["image"] = drawing("1")
    at.run()
    assert not at.exception and wrong().value is None and 1 not in choices()


def test_a_bad_upload_is_an_error_and_the_page_keeps_working(runs_root, starter, monkeypatch):
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    at.selectbox(key="draw_model").set_value("upload").run()
    at.file_uploader(key="draw_upload").upload("evil.keras", b"this is not a model", "application/octet-stream")
    at.run()
    assert not at.exception
    assert escape_markdown("evil.keras is not a Keras .keras file") in at.error[0].value  # the user's name, as text
    assert any("until then the starter model answers" in i.value for i in at.info)
    assert any('class="dl-answer"' in h.value for h in at.get("html"))  # still predicting
    assert list(uploads.uploads_dir(runs_root).iterdir()) == []  # a refused upload is removed (issue 13)


def test_draw_without_a_starter_model_explains(runs_root, monkeypatch, tmp_path):
    import mnist_core.drawing.predict as predict

    monkeypatch.setattr(predict, "STARTER_MODEL_PATH", tmp_path / "missing.keras")
    at = open_app("draw")
    assert "starter model is missing" in at.error[0].value


# ---------------------------------------------------------------- Diagnostics
def test_diagnostics_with_nothing_to_inspect(runs_root, monkeypatch, tmp_path):
    import mnist_core.drawing.predict as predict

    monkeypatch.setattr(predict, "STARTER_MODEL_PATH", tmp_path / "missing.keras")
    at = open_app("diagnostics")
    assert "Train one on the Train page; or upload a model of your own below." in at.info[0].value
    assert at.selectbox(key="diag_model").options == ["Upload a .keras file…"]
    assert "Upload a model to see how it does" in at.info[1].value
    assert not at.get("plotly_chart") and not at.exception


def test_diagnostics_of_an_uploaded_model_and_of_a_bad_upload(runs_root, starter, monkeypatch):
    real = evaluation_apart.evaluate_apart
    monkeypatch.setattr(evaluation_apart, "evaluate_apart", lambda path: (fake_evaluation(), "faked"))
    at = open_app("diagnostics")
    at.selectbox(key="diag_model").set_value("upload").run()
    at.file_uploader(key="diag_upload").upload("mine.keras", starter.read_bytes(), "application/octet-stream")
    at.run()
    assert not at.exception
    assert at.metric[0].value == f"{fake_evaluation().accuracy:.2%}"  # evaluate_apart faked: it "loads"
    assert not any(s.value == "Training curves" for s in at.subheader)  # an upload has no run behind it

    monkeypatch.setattr(evaluation_apart, "evaluate_apart", real)
    at.file_uploader(key="diag_upload").upload("evil2.keras", b"still not a model", "application/octet-stream")
    at.run()
    assert not at.exception
    assert escape_markdown("evil2.keras is not a Keras .keras file") in at.error[0].value  # the user's name, as text
    assert not at.get("plotly_chart")


def test_diagnostics_of_the_starter_model_when_there_are_no_runs(runs_root, starter, monkeypatch):
    monkeypatch.setattr(evaluation_apart, "evaluate_apart", lambda path: (fake_evaluation(), "faked"))
    at = open_app("diagnostics")
    assert "Train one on the Train page, or pick the starter model" in at.info[0].value
    assert at.selectbox(key="diag_model").value == "starter"
    assert at.metric[0].label == "Test accuracy"


def test_diagnostics_of_a_run_and_a_confusion_cell(runs_root, starter):
    files = make_run(runs_root, "good", name="good run")
    make_run(runs_root, "unfinished", state="failed", evaluated=False)
    at = open_app("diagnostics")
    assert at.selectbox(key="diag_model").value == files.path.name  # runs with an evaluation only, newest first
    evaluation = fake_evaluation()
    assert at.metric[0].value == f"{evaluation.accuracy:.2%}"
    t, p = next((t, p) for t in range(10) for p in range(10) if t != p and evaluation.confusion[t, p])
    at.session_state["diag_cell"] = (files.path.name, t, p)
    at.run()
    assert any(m.value.startswith(f"**True {t}, predicted {p}:") for m in at.markdown)
    gallery = at.get("image")[0].proto.imgs
    assert len(gallery) == evaluation.confusion[t, p]
    at.segmented_control(key="diag_scale").set_value("normalised").run()
    assert not at.exception


def test_diagnostics_cells_by_keyboard_and_the_matrix_as_text(runs_root, starter):
    """Issue 31: the matrix takes clicks only, so any filled cell can be picked from a list too, and every chart
    has a text alternative: the matrix's says what rows and columns are and holds each count."""
    files = make_run(runs_root, "good", name="good run")
    at = open_app("diagnostics")
    evaluation = fake_evaluation()
    picker = at.selectbox(key=f"diag_pick_cell_{files.path.name}")
    filled = [(t, p) for t in range(10) for p in range(10) if evaluation.confusion[t, p]]
    assert picker.options == [cell_title(evaluation.confusion, t, p) for t, p in filled]
    t, p = next((t, p) for t, p in filled if t != p)
    picker.set_value((t, p)).run()
    assert at.session_state["diag_cell"] == (files.path.name, t, p)
    assert any(m.value.startswith(f"**True {t}, predicted {p}:") for m in at.markdown)
    as_text = [e for e in at.expander if e.label == "Chart as text"]
    assert len(as_text) >= 3  # the matrix, the per-digit bars, the training curves
    assert any("Rows are the true digit" in m.value for m in as_text[0].markdown)
    table = as_text[0].dataframe[0].value
    assert int(table.iloc[t][f"answered {p}"]) == int(evaluation.confusion[t, p])
