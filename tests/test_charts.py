"""Charts: each figure holds exactly the data it was given, in the places a reader looks for it."""

import re

import numpy as np
import pytest

from ui import charts


def batch_row(epoch, batch, batches=10, loss=1.0, accuracy=0.5):
    return {"kind": "batch", "epoch": epoch, "batch": batch, "batches": batches, "loss": loss, "accuracy": accuracy}


def epoch_row(epoch, val=True):
    row = {"kind": "epoch", "epoch": epoch, "loss": 1 / epoch, "accuracy": 1 - 0.1 / epoch}
    if val:
        row.update(val_loss=1.2 / epoch, val_accuracy=1 - 0.12 / epoch)
    return row


def traces(fig, name):
    return [t for t in fig.data if t.name == name]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (batch_row(1, 5, 10), 0.5),
        (batch_row(3, 10, 10), 3.0),
        (batch_row(2, 1, 4), 1.25),
        (epoch_row(2), 2.0),
        ({"kind": "batch", "epoch": 2, "batch": 3}, 2.0),  # no batch count: placed at its epoch
    ],
)
def test_epoch_position(row, expected):
    assert charts.epoch_position(row) == pytest.approx(expected)


def test_learning_curves_hold_batch_and_epoch_series_for_loss_and_accuracy():
    batches = [batch_row(e, b, loss=2 / (e * b)) for e in (1, 2) for b in range(1, 11)]
    epochs = [epoch_row(1), epoch_row(2)]
    fig = charts.learning_curves(batches, epochs, epochs_planned=5)
    batch_traces = traces(fig, "train (per batch)")
    assert len(batch_traces) == 2  # loss and accuracy panels
    assert list(batch_traces[0].x) == pytest.approx([charts.epoch_position(r) for r in batches])
    assert list(batch_traces[0].y) == pytest.approx([r["loss"] for r in batches])
    val = traces(fig, "validation")
    assert list(val[0].x) == [1.0, 2.0]
    assert list(val[1].y) == pytest.approx([r["val_accuracy"] for r in epochs])
    assert fig.layout.xaxis.range[1] >= 5  # room for the epochs still to come


def test_learning_curves_before_the_first_point_are_empty_not_broken():
    fig = charts.learning_curves([], [])
    assert all(len(t.x or []) == 0 for t in fig.data)


def test_long_batch_series_are_thinned_but_keep_the_last_point():
    batches = [batch_row(1 + i // 1000, i % 1000 + 1, batches=1000, loss=float(i)) for i in range(5003)]
    fig = charts.learning_curves(batches, [])
    loss = traces(fig, "train (per batch)")[0]
    assert len(loss.x) <= charts.MAX_BATCH_POINTS + 1
    assert loss.y[-1] == 5002.0


def test_runs_overlay_has_one_coloured_line_per_run_and_falls_back_to_train_metrics():
    fig = charts.runs_overlay({"a": [epoch_row(1), epoch_row(2)], "b": [epoch_row(1, val=False)]})
    a, b = traces(fig, "a"), traces(fig, "b")
    assert len(a) == len(b) == 2
    assert list(a[1].y) == pytest.approx([0.88, 0.94])  # validation accuracy
    assert list(b[1].y) == pytest.approx([0.9])  # no validation: train accuracy
    assert a[0].line.color != b[0].line.color


def bar_styles(html: str) -> list[str]:
    return re.findall(r'class="dl-bar-fill" style="([^"]*)"', html)


def test_probability_bars_highlight_the_top_three_in_order():
    p = np.array([0.01, 0.6, 0.02, 0.2, 0.01, 0.1, 0.02, 0.01, 0.02, 0.01])
    html = charts.probability_bars_html(p)
    styles = bar_styles(html)
    assert len(styles) == 10
    heights = [float(re.search(r"height:([\d.]+)%", style).group(1)) for style in styles]
    assert heights == pytest.approx(p * 100, abs=0.05)
    colors = [re.search(r"background:(#\w+)", style).group(1) for style in styles]
    assert (colors[1], colors[3], colors[5]) == charts.TOP_COLORS
    assert {colors[d] for d in (0, 2, 4, 6, 7, 8, 9)} == {charts.MUTED}
    assert re.findall(r'class="dl-bar-digit">(\d)<', html) == [str(d) for d in range(10)]
    assert '<span class="dl-bar-value">60%</span>' in html
    assert 'aria-label="digit 1: 60.0%"' in html  # screen readers get every value


def test_probability_bars_leave_tiny_values_unlabelled_and_keep_heights_in_range():
    p = np.array([1.0000001, 0.001] + [0.0] * 8)
    html = charts.probability_bars_html(p)
    assert "height:100.0%" in html and '<span class="dl-bar-value"></span>' in html


@pytest.mark.parametrize("bad", [np.zeros(9), np.zeros((2, 10))])
def test_probability_bars_refuse_anything_but_ten_values(bad):
    with pytest.raises(ValueError, match="10 values"):
        charts.probability_bars_html(bad)


def test_probability_bars_refuse_nan():
    with pytest.raises(ValueError, match="finite"):
        charts.probability_bars_html(np.full(10, np.nan))


def test_per_class_bars_show_precision_recall_and_f1_for_each_digit():
    rows = [{"digit": d, "precision": 0.9, "recall": 0.8 + d / 100, "f1": 0.85, "support": 10} for d in range(10)]
    fig = charts.per_class_bars(rows)
    assert [t.name for t in fig.data] == ["precision", "recall", "F1"]
    assert list(fig.data[1].y) == pytest.approx([0.8 + d / 100 for d in range(10)])


RACE = """
import importlib, importlib.abc, sys, threading, time
from ui import charts

started = threading.Event()


class SlowPandas(importlib.abc.MetaPathFinder):  # holds pandas half imported, as TensorFlow's import did
    def find_spec(self, name, path, target=None):
        if name == "pandas.core.api":
            started.set()
            time.sleep(1.0)
        return None


sys.meta_path.insert(0, SlowPandas())
threading.Thread(target=importlib.import_module, args=("pandas",)).start()
assert started.wait(30) and not hasattr(sys.modules["pandas"], "Series")
charts.learning_curves([{"step": 1, "epoch": 1, "loss": 1.0, "accuracy": 0.5}], [], epochs_planned=3)
print("built")
"""


def test_a_chart_built_while_another_thread_imports_pandas_waits_for_it() -> None:
    """A cold server's first live curve raised "partially initialized module 'pandas'" while the warm
    start was importing TensorFlow (a fresh interpreter: this one may have pandas already)."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", RACE], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "built", result.stderr[-2000:]
