"""Issue 7's pages, run with AppTest: Teach it and See why on Draw, My digits, Watch it learn and Share on Train."""

from __future__ import annotations

import numpy as np
import pytest
from test_pages import drawn_digit, fake_canvas, make_run, open_app, runs_root, starter, tiny_model  # noqa: F401

from app_security.text import escape_markdown
from mnist_core import my_digits
from mnist_core.config import TrainingConfig
from ui.share import config_to_query


@pytest.fixture
def mine(runs_root, monkeypatch):  # noqa: F811
    folder = runs_root.parent / "mine"
    monkeypatch.setenv(my_digits.MY_DIGITS_ENV, str(folder))
    return folder


def a_digit(label: int = 3) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[6:22, 10 + label % 5 : 14 + label % 5] = 1.0
    return image


# ---------------------------------------------------------------- Draw: Teach it, See why
def test_one_click_under_a_wrong_answer_keeps_the_drawing_with_the_right_label(mine, starter, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    wrong = next(p for p in at.pills if p.label == "That's wrong, it's a")
    predicted = next(d for d in range(10) if d not in list(map(int, wrong.options)))
    right = (predicted + 1) % 10
    wrong.set_value(right).run()  # one click
    assert not at.exception
    assert [s.label for s in my_digits.list_digits()] == [right]
    assert f"Kept as a {right}: 1 in My digits." in at.toast[0].value
    assert next(p for p in at.pills if p.label == "That's wrong, it's a").value is None  # ready for another


def test_a_right_answer_is_kept_as_it_was_read(mine, starter, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    keep = at.button(key="draw_keep")
    predicted = int(keep.label.rsplit(" ", 1)[1])
    keep.click().run()
    assert not at.exception
    assert [s.label for s in my_digits.list_digits()] == [predicted]


def test_see_why_shows_saliency_and_mlp_weights_when_opened(mine, starter, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    charts_closed = len(at.get("plotly_chart"))
    at.expander[0].proto  # noqa: B018 - the expander is there
    at.session_state["draw_why"] = True  # opened
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts_closed + 3  # two saliency maps + the first-layer units
    assert any("units look for" in m.value for m in at.markdown)


# ---------------------------------------------------------------- My digits
def test_my_digits_empty_state(mine):
    at = open_app("my_digits")
    assert "No digits yet" in at.info[0].value
    assert not at.get("image")


def test_gallery_shows_kept_digits_and_deletes_one(mine):
    first = my_digits.add_digit(a_digit(3), 3)
    my_digits.add_digit(a_digit(7), 7)
    at = open_app("my_digits")
    assert len(at.get("image")) == 2
    assert any("2 digits" in m.value for m in at.markdown)
    at.button(key=f"mine_del_{first}").click().run()
    assert not at.exception
    assert [s.label for s in my_digits.list_digits()] == [7]
    assert len(at.get("image")) == 1


def test_a_bad_import_says_why(mine):
    my_digits.add_digit(a_digit(1), 1)
    at = open_app("my_digits")
    at.file_uploader(key="mine_import").upload("digits.zip", b"not a zip at all", "application/zip")
    at.run()
    assert not at.exception
    assert escape_markdown("digits.zip") in at.error[0].value  # shown as text
    assert len(my_digits.list_digits()) == 1


def test_fine_tune_is_disabled_under_ten_digits(mine, starter):  # noqa: F811
    for label in range(9):
        my_digits.add_digit(a_digit(label), label)
    at = open_app("my_digits")
    assert at.button(key="mine_start").disabled
    assert any("at least 10" in c.value for c in at.caption)
    my_digits.add_digit(a_digit(9), 9)
    at.run()
    assert not at.button(key="mine_start").disabled


# ---------------------------------------------------------------- Train: Share, Watch it learn
def test_train_restores_every_setting_from_the_url(runs_root):  # noqa: F811
    config = TrainingConfig(
        architecture="mlp",
        hidden_units=(256, 64),
        dropout=0.3,
        optimizer="sgd",
        learning_rate=0.01,
        batch_size=64,
        epochs=7,
        augmentation=True,
        seed=42,
    )
    at = open_app()
    at.query_params.update({**config_to_query(config), "dropout": "banana"})
    at.switch_page("pages/train.py").run()
    assert not at.exception
    state = at.session_state
    assert state["train_architecture"] == "mlp"
    assert (state["train_layers"], state["train_width_0"], state["train_width_1"]) == (2, 256, 64)
    assert (state["train_optimizer"], state["train_learning_rate"], state["train_batch_size"]) == ("sgd", 0.01, 64)
    assert (state["train_epochs"], state["train_augmentation"], state["train_seed"]) == (7, True, 42)
    assert any(escape_markdown("dropout='banana'") in w.value for w in at.warning)  # shown as text


def test_a_link_names_the_preset_it_is_or_says_custom_settings(runs_root):  # noqa: F811
    """Issue 32: the preset box used to keep "quick" while a link filled the form with other settings."""
    from mnist_core.presets import PRESETS

    for config, box in [(TrainingConfig(hidden_units=(96,), epochs=3), "custom"), (PRESETS["cnn"].config, "cnn")]:
        at = open_app()
        at.query_params.update(config_to_query(config))
        at.switch_page("pages/train.py").run()
        assert not at.exception
        assert at.selectbox(key="train_preset").value == box
        if box == "custom":
            assert at.selectbox(key="train_preset").format_func(box) == "Custom settings"
            assert any("**Custom settings**" in i.value for i in at.info)
            at.selectbox(key="train_preset").set_value("seed001").run()  # a preset still fills the form
            assert at.session_state["train_architecture"] == PRESETS["seed001"].config.architecture
            assert at.session_state["train_epochs"] == PRESETS["seed001"].config.epochs


@pytest.mark.parametrize(
    ("query", "field", "shown"),
    [
        ({"dropout": "0.9"}, "dropout", 0.7),
        ({"early_stopping_patience": "50"}, "early_stopping_patience", 10),
        ({"validation": "split", "validation_fraction": "0.9"}, "validation_fraction", 0.5),
        ({"epochs": "500"}, "epochs", 50),
        ({"train_limit": "10000000"}, "train_limit", 60_000),
        ({"learning_rate": "10"}, "learning_rate", 1.0),
        ({"batch_size": "60000"}, "batch_size", 1024),
    ],
    ids=lambda v: str(v)[:30],
)
def test_a_shared_link_beyond_the_sliders_is_clamped_with_a_warning(runs_root, query, field, shown):  # noqa: F811
    at = open_app()
    at.query_params.update(query)
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert at.session_state[f"train_{field}"] == pytest.approx(shown)
    warning = escape_markdown(f"{field}={query[field]}")
    assert any(warning in w.value and "beyond what the Train form offers" in w.value for w in at.warning)
    at.run()  # and it stays working on the next rerun
    assert not at.exception


def test_a_stale_url_of_this_session_does_not_move_a_slider_back(runs_root):  # noqa: F811
    """While a slider moves, a rerun can carry the URL of an earlier value: it must not be applied."""
    at = open_app("train")
    at.slider(key="train_epochs").set_value(17).run()
    stale = {k: v for k, v in at.query_params.items()}
    assert stale.get("epochs") in ("17", ["17"])
    at.slider(key="train_epochs").set_value(20).run()
    at.query_params.clear()
    at.query_params.update(stale)  # the browser still had the URL of the 17
    at.run()
    assert not at.exception
    assert at.session_state["train_epochs"] == 20


def test_watch_grid_of_a_finished_run_replays_each_epoch(runs_root):  # noqa: F811
    from mnist_core.training.watch import WATCH_NAME, DigitWatcher

    files = make_run(runs_root, "watched", name="watched run")
    labels = np.repeat(np.arange(10), 10)
    watcher = DigitWatcher(files.path / WATCH_NAME, np.random.default_rng(0).random((100, 28, 28)), labels)
    for epoch, right in enumerate((10, 60, 95)):  # guesses get better epoch by epoch
        probabilities = np.full((100, 10), 0.01)
        probabilities[np.arange(100), np.where(np.arange(100) < right, labels, (labels + 1) % 10)] = 0.91
        watcher.record(epoch, probabilities, 0.001)
    at = open_app("train")
    assert not at.exception
    assert at.select_slider(key="train_current_watch_epoch").value == 2
    assert any(m.label == "Right after epoch 2" and m.value == "95 of 100" for m in at.metric)
    at.select_slider(key="train_current_watch_epoch").set_value(0).run()
    assert any(m.label == "Right after epoch 0" and m.value == "10 of 100" for m in at.metric)
    assert at.get("download_button")  # Export as zip


def test_export_then_import_a_run_and_a_bad_zip_is_a_message(runs_root):  # noqa: F811
    from mnist_core import runs
    from ui.files import run_zip

    files = make_run(runs_root, "shared", name="shared run")
    data = run_zip(files.path.name)
    at = open_app("train")
    at.file_uploader(key="train_import_run").upload("bad.zip", b"PK nothing", "application/zip")
    at.run()
    assert not at.exception and escape_markdown("bad.zip") in at.error[0].value
    at.file_uploader(key="train_import_run").upload("run.zip", data, "application/zip")
    at.run()
    assert not at.exception
    assert sorted(h.name for h in runs.list_runs()) == ["shared run", "shared run (imported)"]


def test_a_finished_run_exports_as_a_notebook_and_a_fine_tune_says_why_not(runs_root):  # noqa: F811
    """Issue 28: Export as notebook / as script beside Export as zip; a fine-tune exports its notebook as a zip,
    and a run with no notebook keeps the button, disabled, with the reason as its help."""
    import nbformat

    from ui.files import run_notebook_file

    files = make_run(runs_root, "home", name="take it home")
    at = open_app("train")
    assert not at.exception
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    for label in ("Export as zip", "Export as notebook", "Export as script"):
        assert label in buttons and not buttons[label].disabled, sorted(buttons)
    nbformat.validate(nbformat.reads(run_notebook_file(files.path.name, ".ipynb").decode(), as_version=4))
    assert b"# %% [markdown]" in run_notebook_file(files.path.name, ".py")

    files.update_meta(finetune={"base_model": "/etc/passwd"})  # a crafted fine-tune: its "base" is no model
    at = open_app("train")
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    zipped = buttons["Export as notebook (zip)"]  # a fine-tune's notebook comes with its base model and drawings
    assert zipped.disabled and "names a base model outside Digit Lab's folders" in zipped.help
    assert "Export as script" not in buttons and not buttons["Export as zip"].disabled


def test_a_link_with_many_bad_parameters_gives_one_warning_and_steps_beyond_the_cap_say_so(runs_root):  # noqa: F811
    """Issue 32: 150 parameters once gave 101 banners; min_steps=100000&epochs=1 gave no word at all."""
    at = open_app()
    at.query_params.update({f"knob{i}": "1" for i in range(150)})
    at.switch_page("pages/train.py").run()
    assert not at.exception
    link_warnings = [w.value for w in at.warning if w.value.startswith("From the link")]
    assert len(link_warnings) == 1, link_warnings
    assert "101 settings were not used as written" in link_warnings[0] and "…and 95 more." in link_warnings[0]

    at = open_app()
    at.query_params.update({"min_steps": "100000", "epochs": "1", "batch_size": "1024"})  # short of it on any data
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("Fewer steps than asked" in w.value and "at most 500 epochs" in w.value for w in at.warning)
    assert any("at least 1 epoch and 100,000 steps" in c.value for c in at.caption)
