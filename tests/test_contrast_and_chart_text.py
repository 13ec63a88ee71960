"""Issue 31: our own HTML's text meets WCAG AA contrast on the app's backgrounds, and every chart's text
alternative says what the chart shows, from the figure's own numbers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from ui import charts, stages
from ui.chart_view import figure_rows, figure_summary
from ui.confusion_chart import confusion_text

THEME = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())["theme"]
BACKGROUNDS = (THEME["backgroundColor"], THEME["secondaryBackgroundColor"])
AA_TEXT = 4.5  # WCAG 2.x 1.4.3, normal-size text


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #RRGGBB colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_wcags_known_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


CSS = {"probability bars and answer": charts.PROBABILITY_BARS_CSS, "stage labels": stages.STAGES_CSS}


@pytest.mark.parametrize("name", list(CSS))
def test_every_text_colour_in_our_css_meets_aa_on_every_background(name):
    css = CSS[name]
    colours = re.findall(r"(?<![-\w])color:\s*(#[0-9A-Fa-f]{6})", css)
    assert colours, "no text colour found: the test would check nothing"
    for colour in colours:
        for background in BACKGROUNDS:
            assert contrast(colour, background) >= AA_TEXT, (name, colour, background)
    assert "opacity" not in css, "opacity fades text below its colour's contrast (the stage labels were 0.6)"


def test_the_theme_text_and_answer_colours_meet_aa():
    for colour in (THEME["textColor"], THEME["linkColor"], charts.PRIMARY, charts.TEXT, charts.QUIET_TEXT):
        assert min(contrast(colour, b) for b in BACKGROUNDS) >= AA_TEXT, colour


def test_learning_curves_as_text_name_each_panel_and_its_numbers():
    epochs = [
        {
            "kind": "epoch",
            "epoch": e,
            "loss": 1 / e,
            "accuracy": 0.5 + e / 10,
            "val_loss": 1.2 / e,
            "val_accuracy": 0.45 + e / 10,
        }
        for e in (1, 2, 3)
    ]
    lines = figure_summary(charts.learning_curves([], epochs, epochs_planned=5))
    assert "Loss: validation: 3 points, from 1.2 at epoch 1 to 0.4 at epoch 3" in " ".join(lines)
    assert any(
        line.startswith("Accuracy: train (epoch): 3 points") and "highest 0.8 at epoch 3" in line for line in lines
    )
    rows = figure_rows(charts.learning_curves([], epochs))
    assert {"series": "Accuracy: validation", "x": "2", "y": "0.65"} in rows


def test_an_empty_chart_says_so_and_missing_values_are_left_out():
    assert figure_summary(charts.learning_curves([], [])) == ["The chart has no data yet."]
    epochs = [
        {"kind": "epoch", "epoch": 1, "loss": float("nan"), "accuracy": 0.5},
        {"kind": "epoch", "epoch": 2, "loss": 0.3, "accuracy": 0.6},
    ]
    assert "Loss: train (epoch): 1 point, from 0.3 at epoch 2" in " ".join(
        figure_summary(charts.learning_curves([], epochs))
    )


def test_the_confusion_matrix_as_text_holds_every_count():
    rng = np.random.default_rng(3)
    confusion = np.diag(rng.integers(50, 100, 10)) + rng.integers(0, 3, (10, 10))
    lines, rows = confusion_text(confusion)
    assert f"{int(confusion.sum()):,} test digits, {int(confusion.trace()):,} answered right" in lines[0]
    assert [[row[f"answered {p}"] for p in range(10)] for row in rows] == confusion.tolist()
    assert [row["true digit"] for row in rows] == [str(d) for d in range(10)]
    assert len(confusion_text(np.eye(10, dtype=int))[0]) == 1  # no mistakes: nothing listed as frequent
