"""The confusion matrix figure: a click target and a count on every cell, right answers and mistakes apart."""

import numpy as np
import pytest

from ui.confusion_chart import confusion_chart


def confusion_example():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, size=(10, 10))
    counts[np.diag_indices(10)] = rng.integers(80, 120, size=10)
    counts[3, 5] = 0
    return counts


def click_layer(fig):
    (scatter,) = [t for t in fig.data if t.type == "scatter"]
    return scatter


def cell_texts(fig):
    """(true, predicted) -> the text written in that cell (diagonal and mistakes layers)."""
    out = {}
    for heatmap in [t for t in fig.data if t.type == "heatmap" and t.text is not None]:
        for t in range(10):
            for p in range(10):
                if heatmap.text[t][p]:
                    out[(t, p)] = heatmap.text[t][p]
    return out


def test_confusion_chart_has_one_square_click_target_per_cell_with_its_count():
    counts = confusion_example()
    fig = confusion_chart(counts)
    scatter = click_layer(fig)
    assert scatter.marker.symbol == "square"
    cells = {(int(t), int(p)): int(n) for t, p, n, _ in scatter.customdata}
    assert cells == {(t, p): int(counts[t, p]) for t in range(10) for p in range(10)}
    assert [(int(x), int(y)) for x, y in zip(scatter.x, scatter.y, strict=True)] == [
        (p, t) for t in range(10) for p in range(10)
    ]
    texts = cell_texts(fig)
    assert texts == {(t, p): f"{counts[t, p]:,}" for t in range(10) for p in range(10) if counts[t, p]}


def test_confusion_chart_colours_correct_answers_and_mistakes_apart():
    counts = confusion_example()
    base, diagonal, mistakes = (t for t in confusion_chart(counts).data if t.type == "heatmap")
    z_diag, z_wrong = np.array(diagonal.z, dtype=float), np.array(mistakes.z, dtype=float)
    assert np.array_equal(np.diag(z_diag), np.diag(counts).astype(float))
    assert np.isnan(np.diag(z_wrong)).all() and np.isnan(z_diag[0, 1])
    assert np.isnan(z_wrong[3, 5])  # a zero cell stays uncoloured
    assert z_wrong[4, 9] == counts[4, 9]
    assert (diagonal.zmin, diagonal.zmax) == (0, np.diag(counts).max())  # colours from zero, per layer
    assert mistakes.zmax == np.where(np.eye(10, dtype=bool), 0, counts).max()


def test_confusion_chart_normalised_shows_row_shares():
    counts = confusion_example()
    texts = cell_texts(confusion_chart(counts, normalised=True))
    assert texts[(2, 2)] == f"{counts[2, 2] / counts[2].sum():.0%}"


def test_confusion_chart_marks_the_selected_cell():
    fig = confusion_chart(confusion_example(), selected=(4, 9))
    (frame,) = fig.layout.shapes
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (8.5, 9.5, 3.5, 4.5)
    assert not confusion_chart(confusion_example()).layout.shapes


def test_confusion_chart_refuses_a_wrong_shape():
    with pytest.raises(ValueError, match="10x10"):
        confusion_chart(np.zeros((9, 9)))
