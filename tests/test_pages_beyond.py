"""Issue 7's pages, run with AppTest: Teach it and See why on Draw, My digits, Watch it learn and Share on Train."""

from __future__ import annotations

import numpy as np
import pytest
from test_pages import drawn_digit, fake_canvas, make_run, open_app, runs_root, starter, tiny_model  # noqa: F401

from mnist_core import my_digits


@pytest.fixture
def mine(runs_root, monkeypatch):  # noqa: F811
    folder = runs_root.parent / "mine"
    monkeypatch.setenv(my_digits.MY_DIGITS_ENV, str(folder))
    return folder


def a_digit(label: int = 3) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[6:22, 10 + label % 5:14 + label % 5] = 1.0
    return image


# ---------------------------------------------------------------- Draw: Teach it, See why
def test_keep_stores_the_drawing_with_the_corrected_label(mine, starter, monkeypatch):  # noqa: F811
    fake_canvas(monkeypatch, drawn_digit())
    at = open_app("draw")
    picker = next(s for s in at.selectbox if s.label == "The right digit")
    wrong = (picker.value + 1) % 10
    picker.set_value(wrong).run()
    keep = at.button(key="draw_keep")
    assert keep.label == f"Keep in My digits as a {wrong}"
    keep.click().run()
    assert not at.exception
    assert [s.label for s in my_digits.list_digits()] == [wrong]
    assert f"Kept as a {wrong}" in at.toast[0].value


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
    assert "digits.zip" in at.error[0].value
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
