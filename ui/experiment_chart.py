"""The comparison of an experiment's runs: a heatmap of test accuracy over two knobs, bars over one."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ui.charts import CORRECT_SCALE, PRIMARY, axis, figure


def experiment_chart(knobs: Sequence[str], cells: Sequence) -> go.Figure:
    """`cells`: the experiment's Cells (values, accuracy, duration_s). Runs without an accuracy yet are blank."""
    if len(knobs) == 2:
        return _heatmap(knobs, cells)
    knob = knobs[0]
    labels = [cell.values.get(knob, "?") for cell in cells]
    accuracies = [cell.accuracy for cell in cells]
    bars = {
        "type": "bar",
        "x": labels,
        "y": accuracies,
        "marker": {"color": PRIMARY},
        "text": [f"{a:.2%}" if a is not None else "…" for a in accuracies],
        "textposition": "outside",
        "hovertemplate": f"{knob}=%{{x}}<br>accuracy %{{y:.2%}}<extra></extra>",
    }
    low = min([a for a in accuracies if a is not None] or [0.9])
    return figure(
        [bars],
        300,
        xaxis=axis(title={"text": knob}, type="category"),
        yaxis=axis(title={"text": "test accuracy"}, tickformat=".1%", range=[max(0, low - 0.05), 1.0]),
    )


def _heatmap(knobs: Sequence[str], cells: Sequence) -> go.Figure:
    rows_knob, cols_knob = knobs
    rows = list(dict.fromkeys(cell.values.get(rows_knob, "?") for cell in cells))
    cols = list(dict.fromkeys(cell.values.get(cols_knob, "?") for cell in cells))
    z = [[None] * len(cols) for _ in rows]
    text = [[""] * len(cols) for _ in rows]
    for cell in cells:
        r, c = rows.index(cell.values.get(rows_knob, "?")), cols.index(cell.values.get(cols_knob, "?"))
        z[r][c] = cell.accuracy
        text[r][c] = f"{cell.accuracy:.2%}<br>{cell.duration_s:.0f} s" if cell.accuracy is not None else cell.state
    heatmap = {
        "type": "heatmap",
        "x": cols,
        "y": rows,
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "colorscale": CORRECT_SCALE,
        "colorbar": {"title": {"text": "accuracy"}, "tickformat": ".1%"},
        "hovertemplate": f"{rows_knob}=%{{y}}, {cols_knob}=%{{x}}<br>%{{text}}<extra></extra>",
        "xgap": 2,
        "ygap": 2,
    }
    return figure(
        [heatmap],
        120 + 70 * len(rows),
        xaxis=axis(title={"text": cols_knob}, type="category", side="top"),
        yaxis=axis(title={"text": rows_knob}, type="category", autorange="reversed"),
    )
