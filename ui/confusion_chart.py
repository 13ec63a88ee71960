"""The confusion matrix as a figure: coloured cells, a click target on each, the selected cell framed."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.charts import CORRECT_SCALE, DIGITS, EMPTY_CELL, MISTAKE_SCALE, NUM_CLASSES, figure


def confusion_chart(
    confusion: np.ndarray, normalised: bool = False, selected: tuple[int, int] | None = None, size: int = 520
) -> go.Figure:
    """The confusion matrix: coloured cells, and a square marker on each cell to click.

    Rows are the true digit, columns the predicted one. Correct answers (the diagonal) are blue;
    mistakes orange on their own scale, so rare confusions stay visible. `normalised` shows each
    row as shares of that digit's test examples. The cells are heatmaps (they fill the grid at any
    width); the clicks land on the last trace, a scatter of transparent square markers, because a
    heatmap's clicks do not reach Streamlit's `on_select`.
    """
    counts = np.asarray(confusion, dtype=np.int64)
    if counts.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(f"confusion must be {NUM_CLASSES}x{NUM_CLASSES}, got {counts.shape}.")
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    data = [*_layers(counts, share, normalised), _click_targets(counts, share, size)]
    axis = {
        "tickmode": "array",
        "tickvals": list(range(NUM_CLASSES)),
        "ticktext": DIGITS,
        "showgrid": False,
        "fixedrange": True,
        "constrain": "domain",
        "zeroline": False,
    }
    return figure(
        data,
        size,
        margin={"l": 60, "r": 10, "t": 60, "b": 10},
        showlegend=False,
        shapes=[] if selected is None else [_frame(*selected)],
        clickmode="event+select",
        dragmode=False,
        hovermode="closest",
        xaxis={**axis, "title": {"text": "predicted digit"}, "side": "top", "range": [-0.5, NUM_CLASSES - 0.5]},
        yaxis={**axis, "title": {"text": "true digit"}, "range": [NUM_CLASSES - 0.5, -0.5], "scaleanchor": "x"},
    )


def _layers(counts: np.ndarray, share: np.ndarray, normalised: bool) -> list[dict]:
    """An empty grid, then the diagonal (right answers) and the mistakes, each on its own colour scale."""
    value = share if normalised else counts.astype(float)
    text = [
        [_cell_text(n, s, normalised) if n else "" for n, s in zip(r, q, strict=True)]
        for r, q in zip(counts, share, strict=True)
    ]
    diagonal = np.eye(NUM_CLASSES, dtype=bool)
    layers = [_cells(np.zeros(counts.shape), [[0, EMPTY_CELL], [1, EMPTY_CELL]], None)]
    for mask, scale in ((diagonal, CORRECT_SCALE), (~diagonal, MISTAKE_SCALE)):
        layer_text = [[cell if mask[t][p] else "" for p, cell in enumerate(row)] for t, row in enumerate(text)]
        layers.append(_cells(np.where(mask & (counts > 0), value, np.nan), scale, layer_text))
    return layers


def _frame(true: int, predicted: int) -> dict:
    """A dark frame around the selected cell."""
    x, y = predicted - 0.5, true - 0.5
    line = {"color": "#111827", "width": 3}
    return {"type": "rect", "x0": x, "x1": x + 1, "y0": y, "y1": y + 1, "line": line, "layer": "above"}


def _cell_text(count: int, share: float, normalised: bool) -> str:
    if not normalised:
        return f"{count:,}"
    return f"{share:.0%}" if share >= 0.005 else "<1%"


def _cells(z: np.ndarray, scale: list, text) -> dict:
    """One layer of coloured cells (NaN cells are transparent), its colours running from 0 to its maximum."""
    top = float(np.nanmax(z)) if np.any(~np.isnan(z)) else 0.0
    layer = {
        "type": "heatmap",
        "z": np.where(np.isnan(z), None, z).tolist(),
        "x": list(range(NUM_CLASSES)),
        "y": list(range(NUM_CLASSES)),
        "colorscale": scale,
        "zmin": 0,
        "zmax": max(top, 1e-9),
        "zauto": False,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hoverinfo": "skip",
    }
    if text is not None:
        layer.update(text=text, texttemplate="%{text}", textfont={"size": 12})
    return layer


def _click_targets(counts: np.ndarray, share: np.ndarray, size: int) -> dict:
    """A transparent square marker on every cell: what a click selects (with the hover text)."""
    t, p = np.divmod(np.arange(NUM_CLASSES * NUM_CLASSES), NUM_CLASSES)
    return {
        "type": "scatter",
        "x": p.tolist(),
        "y": t.tolist(),
        "mode": "markers",
        "showlegend": False,
        "name": "cells",
        "customdata": np.stack([t, p, counts[t, p], share[t, p]], axis=1).tolist(),
        "hovertemplate": (
            "true %{customdata[0]} → predicted %{customdata[1]}<br>"
            "%{customdata[2]:,} digits (%{customdata[3]:.1%} of this row)"
            "<br><i>click to see them</i><extra></extra>"
        ),
        "marker": {"symbol": "square", "size": _cell_pixels(size), "color": "rgba(0,0,0,0)", "line": {"width": 0}},
        "selected": {"marker": {"opacity": 1}},
        "unselected": {"marker": {"opacity": 1}},
    }


def _cell_pixels(size: int) -> int:
    """Click-target marker size for a cell of a `size`-pixel figure (the cells themselves scale)."""
    return max(8, int((size - 70) / NUM_CLASSES * 0.95))


def confusion_text(confusion: np.ndarray) -> tuple[list[str], list[dict]]:
    """The matrix as words and as a table, for `ui.chart_view.show_chart`: what its rows and columns are,
    how many were right, the most frequent mistakes; one table row per true digit."""
    from mnist_core.runs.diagnostics import top_confusions

    counts = np.asarray(confusion, dtype=np.int64)
    total, right = int(counts.sum()), int(counts.trace())
    lines = [
        f"Rows are the true digit, columns the digit the model answered: {total:,} test digits, "
        f"{right:,} answered right ({right / max(total, 1):.2%})."
    ]
    if mistakes := top_confusions(counts, limit=5):
        lines.append("Most frequent mistakes: " + "; ".join(f"{t} taken for {p} ({n:,})" for t, p, n in mistakes) + ".")
    rows = [
        {"true digit": str(t), **{f"answered {p}": int(counts[t, p]) for p in range(NUM_CLASSES)}}
        for t in range(NUM_CLASSES)
    ]
    return lines, rows
