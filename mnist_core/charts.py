"""Plotly figures for Digit Lab: plain data in, a `go.Figure` out (no Streamlit, no I/O).

Every function here is pure: the pages pass rows from `metrics.jsonl`, probabilities or a
confusion matrix, and show the figure with `st.plotly_chart`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

NUM_CLASSES = 10
DIGITS = [str(d) for d in range(NUM_CLASSES)]
MAX_BATCH_POINTS = 1500  # per-batch curves are thinned beyond this, so a long run stays smooth

PRIMARY = "#4F46E5"  # indigo: train, the chosen answer
SECONDARY = "#F97316"  # orange: validation, mistakes
TOP_COLORS = ("#4F46E5", "#818CF8", "#C7D2FE")  # 1st, 2nd, 3rd most likely digit
MUTED = "#D1D5DB"
GRID = "#ECEEF4"
RUN_COLORS = ("#4F46E5", "#F97316", "#10B981", "#E11D48", "#0EA5E9", "#A855F7", "#EAB308", "#64748B")
FONT = {"family": "Inter, 'Source Sans Pro', sans-serif", "size": 13}


def _base_layout(fig: go.Figure, height: int, margin: dict | None = None, **extra) -> go.Figure:
    """Shared look: white background, light grid, a compact margin."""
    fig.update_layout(
        height=height, template="plotly_white", font=FONT, hoverlabel={"font_size": 13},
        margin=margin or {"l": 50, "r": 20, "t": 40, "b": 45}, **extra,
    )
    fig.update_xaxes(gridcolor=GRID, zeroline=False)
    fig.update_yaxes(gridcolor=GRID, zeroline=False)
    return fig


def epoch_position(row: Mapping) -> float:
    """Where a metrics row sits on an epoch axis: a batch row mid-epoch, an epoch row at its end."""
    if row.get("kind") == "batch" and row.get("batches"):
        return float(row["epoch"]) - 1 + float(row["batch"]) / float(row["batches"])
    return float(row.get("epoch", 0))


def _thin(rows: Sequence[Mapping], limit: int = MAX_BATCH_POINTS) -> Sequence[Mapping]:
    """Every k-th row (always keeping the last) so at most ~`limit` points are drawn."""
    if len(rows) <= limit:
        return rows
    step = -(-len(rows) // limit)
    return [*rows[::step], rows[-1]] if (len(rows) - 1) % step else rows[::step]


def _series(rows: Sequence[Mapping], key: str) -> tuple[list[float], list[float]]:
    points = [(epoch_position(r), float(r[key])) for r in rows if r.get(key) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def learning_curves(
    batches: Sequence[Mapping], epochs: Sequence[Mapping], epochs_planned: int | None = None,
    height: int = 360,
) -> go.Figure:
    """Loss and accuracy side by side: per-batch train (thin), per-epoch train and validation.

    `batches`/`epochs` are metrics.jsonl rows. With `epochs_planned` the x axis spans the whole
    run, so a live curve grows into the space it will fill.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.09)
    thin = _thin(batches)
    for col, key in ((1, "loss"), (2, "accuracy")):
        legend = col == 1
        x, y = _series(thin, key)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="train (per batch)", legendgroup="batch",
                                 showlegend=legend, line={"color": "rgba(79,70,229,0.35)", "width": 1.5},
                                 hovertemplate="epoch %{x:.2f}<br>%{y:.4f}<extra>batch</extra>"),
                      row=1, col=col)
        for prefix, name, color, dash in (("", "train (epoch)", PRIMARY, "solid"),
                                          ("val_", "validation", SECONDARY, "solid")):
            x, y = _series(epochs, prefix + key)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=legend, line={"color": color, "width": 2.5, "dash": dash},
                                     marker={"size": 8},
                                     hovertemplate=f"epoch %{{x:.0f}}<br>%{{y:.4f}}<extra>{name}</extra>"),
                          row=1, col=col)
    if epochs_planned:
        fig.update_xaxes(range=[0, max(1, epochs_planned) * 1.02])
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    return _base_layout(fig, height, legend={"orientation": "h", "y": -0.22, "x": 0.5, "xanchor": "center"},
                        uirevision="curves")


def runs_overlay(runs: Mapping[str, Sequence[Mapping]], height: int = 360) -> go.Figure:
    """Validation loss and accuracy per epoch of several runs (name -> epoch rows), one colour each."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Validation loss", "Validation accuracy"),
                        horizontal_spacing=0.09)
    for i, (name, rows) in enumerate(runs.items()):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        for col, key in ((1, "loss"), (2, "accuracy")):
            use = "val_" + key if any(r.get("val_" + key) is not None for r in rows) else key
            x, y = _series(rows, use)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=col == 1, line={"color": color, "width": 2.5},
                                     marker={"size": 7},
                                     hovertemplate=f"{name}<br>epoch %{{x:.0f}}: %{{y:.4f}}<extra></extra>"),
                          row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    return _base_layout(fig, height, legend={"orientation": "h", "y": -0.22, "x": 0.5, "xanchor": "center"})


def probability_bars(probabilities: Sequence[float], top: int = 3, height: int = 260) -> go.Figure:
    """Ten bars, one per digit, the `top` most likely coloured from strong to light."""
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    if p.shape != (NUM_CLASSES,):
        raise ValueError(f"probabilities must hold {NUM_CLASSES} values, got {p.shape[0]}.")
    order = np.argsort(-p, kind="stable")[:top]
    colors = [MUTED] * NUM_CLASSES
    for rank, digit in enumerate(order):
        colors[digit] = TOP_COLORS[min(rank, len(TOP_COLORS) - 1)]
    fig = go.Figure(go.Bar(
        x=DIGITS, y=p, marker={"color": colors, "line": {"width": 0}},
        text=[f"{v:.0%}" if v >= 0.005 else "" for v in p], textposition="outside", cliponaxis=False,
        hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
    ))
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", showgrid=True)
    fig.update_xaxes(type="category", title_text="digit", showgrid=False)
    return _base_layout(fig, height, showlegend=False, bargap=0.25,
                        margin={"l": 45, "r": 10, "t": 20, "b": 40})


def confusion_chart(confusion: np.ndarray, normalised: bool = False,
                    selected: tuple[int, int] | None = None, size: int = 520) -> go.Figure:
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
    value = share if normalised else counts.astype(float)
    text = np.where(counts > 0, [[_cell_text(n, s, normalised) for n, s in zip(r, q, strict=True)]
                                 for r, q in zip(counts, share, strict=True)], "")
    diagonal = np.eye(NUM_CLASSES, dtype=bool)
    fig = go.Figure(_cells(np.zeros(counts.shape), [[0, "#F3F4F8"], [1, "#F3F4F8"]], text=None))
    for mask, scale in ((diagonal, [[0, "#E0E7FF"], [1, "#3730A3"]]), (~diagonal, [[0, "#FFEDD5"], [1, "#C2410C"]])):
        fig.add_trace(_cells(np.where(mask & (counts > 0), value, np.nan), scale, np.where(mask, text, "")))
    t, p = np.divmod(np.arange(NUM_CLASSES * NUM_CLASSES), NUM_CLASSES)
    fig.add_trace(go.Scatter(
        x=p, y=t, mode="markers", showlegend=False, name="cells",
        customdata=np.stack([t, p, counts[t, p], share[t, p]], axis=1).tolist(),
        hovertemplate=("true %{customdata[0]} → predicted %{customdata[1]}<br>"
                       "%{customdata[2]:,} digits (%{customdata[3]:.1%} of this row)"
                       "<br><i>click to see them</i><extra></extra>"),
        marker={"symbol": "square", "size": _cell_pixels(size), "color": "rgba(0,0,0,0)", "line": {"width": 0}},
        selected={"marker": {"opacity": 1}}, unselected={"marker": {"opacity": 1}},
    ))
    if selected is not None:
        t0, p0 = selected
        fig.add_shape(type="rect", x0=p0 - 0.5, x1=p0 + 0.5, y0=t0 - 0.5, y1=t0 + 0.5,
                      line={"color": "#111827", "width": 3}, layer="above")
    axis = {"tickmode": "array", "tickvals": list(range(NUM_CLASSES)), "ticktext": DIGITS, "showgrid": False,
            "fixedrange": True, "constrain": "domain"}
    fig.update_xaxes(title_text="predicted digit", side="top", range=[-0.5, NUM_CLASSES - 0.5], **axis)
    fig.update_yaxes(title_text="true digit", range=[NUM_CLASSES - 0.5, -0.5], scaleanchor="x", **axis)
    return _base_layout(fig, size, showlegend=False, clickmode="event+select", dragmode=False,
                        hovermode="closest", margin={"l": 60, "r": 10, "t": 60, "b": 10}, plot_bgcolor="white")


def _cell_text(count: int, share: float, normalised: bool) -> str:
    if not normalised:
        return f"{count:,}"
    return f"{share:.0%}" if share >= 0.005 else "<1%"


def _cells(z: np.ndarray, scale: list, text) -> go.Heatmap:
    """One layer of coloured cells (NaN cells are transparent)."""
    return go.Heatmap(z=z, x=list(range(NUM_CLASSES)), y=list(range(NUM_CLASSES)), colorscale=scale,
                      zmin=0, showscale=False, xgap=2, ygap=2, hoverinfo="skip", text=text,
                      texttemplate="%{text}" if text is not None else None, textfont={"size": 12})


def _cell_pixels(size: int) -> int:
    """Click-target marker size for a cell of a `size`-pixel figure (the cells themselves scale)."""
    return max(8, int((size - 70) / NUM_CLASSES * 0.95))


def per_class_bars(per_class: Sequence[Mapping], height: int = 320) -> go.Figure:
    """Precision, recall and F1 of each digit as grouped bars."""
    fig = go.Figure()
    for key, color in (("precision", "#818CF8"), ("recall", SECONDARY), ("f1", PRIMARY)):
        values = [float(row[key]) for row in per_class]
        fig.add_trace(go.Bar(x=[str(row["digit"]) for row in per_class], y=values, name=key.upper()
                             if key == "f1" else key, marker_color=color,
                             hovertemplate=f"digit %{{x}}<br>{key}: %{{y:.2%}}<extra></extra>"))
    low = min([float(row[k]) for row in per_class for k in ("precision", "recall", "f1")] or [0.0])
    fig.update_yaxes(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%")
    fig.update_xaxes(type="category", title_text="digit")
    return _base_layout(fig, height, barmode="group", bargap=0.25,
                        legend={"orientation": "h", "y": 1.12, "x": 0.5, "xanchor": "center"})
