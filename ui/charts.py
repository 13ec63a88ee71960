"""Charts for Digit Lab: plain data in, a `go.Figure` (or, for the Draw page's bars, HTML) out.

Every function here is pure (no Streamlit, no I/O): the pages pass rows from `metrics.jsonl`,
probabilities or a confusion matrix, and show the figure with `st.plotly_chart` (`st.html`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

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


LEGEND_BELOW = {"orientation": "h", "y": -0.25, "x": 0.5, "xanchor": "center"}


def _figure(data: list[dict], height: int, margin: dict | None = None, **layout) -> go.Figure:
    """One Figure built in a single call with the shared look (white, light grid, compact margins).

    Figures are built from plain dicts in one constructor call, with no `template=` and no
    `update_*` passes: each of those re-validates the figure, which made a chart cost 0.1-0.3 s,
    too slow for curves redrawn every second. Streamlit's chart
    theme styles the rest in the browser.
    """
    base = {
        "height": height,
        "font": FONT,
        "hoverlabel": {"font_size": 13},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "margin": margin or {"l": 50, "r": 20, "t": 40, "b": 45},
    }
    return go.Figure(data=data, layout={**base, **layout})


def _axis(**extra) -> dict:
    return {"gridcolor": GRID, "zeroline": False, **extra}


def _side_by_side(titles: tuple[str, str], x: dict, y1: dict, y2: dict) -> dict:
    """Layout of two panels side by side (what make_subplots(1, 2) builds, without its cost)."""
    return {
        "xaxis": _axis(domain=[0, 0.455], anchor="y", **x),
        "yaxis": _axis(anchor="x", **y1),
        "xaxis2": _axis(domain=[0.545, 1], anchor="y2", **x),
        "yaxis2": _axis(anchor="x2", **y2),
        "annotations": [
            {
                "text": title,
                "x": x0,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 15},
            }
            for title, x0 in zip(titles, (0.2275, 0.7725), strict=True)
        ],
    }


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


def _line(rows: Sequence[Mapping], key: str, panel: int, **style) -> dict:
    x, y = _series(rows, key)
    axes = {"xaxis": "x", "yaxis": "y"} if panel == 1 else {"xaxis": "x2", "yaxis": "y2"}
    return {"type": "scatter", "x": x, "y": y, "showlegend": panel == 1, **axes, **style}


def learning_curves(
    batches: Sequence[Mapping],
    epochs: Sequence[Mapping],
    epochs_planned: int | None = None,
    height: int = 360,
) -> go.Figure:
    """Loss and accuracy side by side: per-batch train (thin), per-epoch train and validation.

    `batches`/`epochs` are metrics.jsonl rows. With `epochs_planned` the x axis spans the whole
    run, so a live curve grows into the space it will fill.
    """
    thin = _thin(batches)
    data = []
    for panel, key in ((1, "loss"), (2, "accuracy")):
        data.append(
            _line(
                thin,
                key,
                panel,
                mode="lines",
                name="train (per batch)",
                legendgroup="batch",
                line={"color": "rgba(79,70,229,0.35)", "width": 1.5},
                hovertemplate="epoch %{x:.2f}<br>%{y:.4f}<extra>batch</extra>",
            )
        )
        for prefix, name, color in (("", "train (epoch)", PRIMARY), ("val_", "validation", SECONDARY)):
            data.append(
                _line(
                    epochs,
                    prefix + key,
                    panel,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    line={"color": color, "width": 2.5},
                    marker={"size": 8},
                    hovertemplate=f"epoch %{{x:.0f}}<br>%{{y:.4f}}<extra>{name}</extra>",
                )
            )
    x = {"title": {"text": "epoch"}}
    if epochs_planned:
        x["range"] = [0, max(1, epochs_planned) * 1.02]
    layout = _side_by_side(("Loss", "Accuracy"), x, {}, {"tickformat": ".0%"})
    return _figure(data, height, legend=LEGEND_BELOW, uirevision="curves", **layout)


def runs_overlay(runs: Mapping[str, Sequence[Mapping]], height: int = 360) -> go.Figure:
    """Validation loss and accuracy per epoch of several runs (name -> epoch rows), one colour each."""
    data = []
    for i, (name, rows) in enumerate(runs.items()):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        for panel, key in ((1, "loss"), (2, "accuracy")):
            use = "val_" + key if any(r.get("val_" + key) is not None for r in rows) else key
            data.append(
                _line(
                    rows,
                    use,
                    panel,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    line={"color": color, "width": 2.5},
                    marker={"size": 7},
                    hovertemplate=f"{name}<br>epoch %{{x:.0f}}: %{{y:.4f}}<extra></extra>",
                )
            )
    layout = _side_by_side(
        ("Validation loss", "Validation accuracy"), {"title": {"text": "epoch"}}, {}, {"tickformat": ".1%"}
    )
    return _figure(data, height, legend=LEGEND_BELOW, **layout)


def probability_bars_html(probabilities: Sequence[float], top: int = 3) -> str:
    """Ten bars, one per digit, as plain HTML: the `top` most likely coloured from strong to light.

    The Draw page redraws these on every stroke. As a Plotly figure they cost the browser ~0.2 s of
    CPU per answer (measured: about a quarter of the page's browser work per stroke); divs cost little.
    Style them with `PROBABILITY_BARS_CSS`.
    """
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    if p.shape != (NUM_CLASSES,):
        raise ValueError(f"probabilities must hold {NUM_CLASSES} values, got {p.shape[0]}.")
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities must be finite numbers.")
    p = np.clip(p, 0.0, 1.0)
    order = np.argsort(-p, kind="stable")[:top]
    colors = [MUTED] * NUM_CLASSES
    for rank, digit in enumerate(order):
        colors[digit] = TOP_COLORS[min(rank, len(TOP_COLORS) - 1)]
    bars = "".join(
        f'<div class="dl-bar" role="listitem" title="digit {d}: {v:.2%}" aria-label="digit {d}: {v:.1%}">'
        f'<div class="dl-bar-track"><span class="dl-bar-value">{f"{v:.0%}" if v >= 0.005 else ""}</span>'
        f'<div class="dl-bar-fill" style="height:{v * 100:.1f}%;background:{color}"></div></div>'
        f'<span class="dl-bar-digit">{d}</span></div>'
        for d, (v, color) in enumerate(zip(p, colors, strict=True))
    )
    return f'<div class="dl-bars" role="list" aria-label="probability of each digit">{bars}</div>'


PROBABILITY_BARS_CSS = """
.dl-bars { display: flex; gap: 0.45rem; height: 190px; padding: 1.4rem 0.2rem 0; margin-bottom: 0.4rem; }
.dl-bar { flex: 1; display: flex; flex-direction: column; align-items: stretch; min-width: 0; }
.dl-bar-track { flex: 1; display: flex; flex-direction: column; justify-content: flex-end;
                border-bottom: 1px solid #9CA3AF; }
.dl-bar-fill { border-radius: 3px 3px 0 0; min-height: 1px; }
.dl-bar-value { font-size: 0.8rem; color: #374151; text-align: center; line-height: 1.3; white-space: nowrap; }
.dl-bar-digit { font-size: 0.95rem; font-weight: 600; color: #374151; text-align: center; padding-top: 0.15rem; }
"""


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
    value = share if normalised else counts.astype(float)
    text = [
        [_cell_text(n, s, normalised) if n else "" for n, s in zip(r, q, strict=True)]
        for r, q in zip(counts, share, strict=True)
    ]
    diagonal = np.eye(NUM_CLASSES, dtype=bool)
    data = [_cells(np.zeros(counts.shape), [[0, "#F3F4F8"], [1, "#F3F4F8"]], None)]
    for mask, scale in ((diagonal, [[0, "#E0E7FF"], [1, "#3730A3"]]), (~diagonal, [[0, "#FFEDD5"], [1, "#C2410C"]])):
        layer_text = [[cell if mask[t][p] else "" for p, cell in enumerate(row)] for t, row in enumerate(text)]
        data.append(_cells(np.where(mask & (counts > 0), value, np.nan), scale, layer_text))
    data.append(_click_targets(counts, share, size))
    shapes = []
    if selected is not None:
        t0, p0 = selected
        shapes.append(
            {
                "type": "rect",
                "x0": p0 - 0.5,
                "x1": p0 + 0.5,
                "y0": t0 - 0.5,
                "y1": t0 + 0.5,
                "line": {"color": "#111827", "width": 3},
                "layer": "above",
            }
        )
    axis = {
        "tickmode": "array",
        "tickvals": list(range(NUM_CLASSES)),
        "ticktext": DIGITS,
        "showgrid": False,
        "fixedrange": True,
        "constrain": "domain",
        "zeroline": False,
    }
    return _figure(
        data,
        size,
        margin={"l": 60, "r": 10, "t": 60, "b": 10},
        showlegend=False,
        shapes=shapes,
        clickmode="event+select",
        dragmode=False,
        hovermode="closest",
        xaxis={**axis, "title": {"text": "predicted digit"}, "side": "top", "range": [-0.5, NUM_CLASSES - 0.5]},
        yaxis={**axis, "title": {"text": "true digit"}, "range": [NUM_CLASSES - 0.5, -0.5], "scaleanchor": "x"},
    )


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


def per_class_bars(per_class: Sequence[Mapping], height: int = 320) -> go.Figure:
    """Precision, recall and F1 of each digit as grouped bars."""
    digits = [str(row["digit"]) for row in per_class]
    data = [
        {
            "type": "bar",
            "x": digits,
            "y": [float(row[key]) for row in per_class],
            "name": label,
            "marker": {"color": color},
            "hovertemplate": f"digit %{{x}}<br>{label}: %{{y:.2%}}<extra></extra>",
        }
        for key, label, color in (
            ("precision", "precision", "#818CF8"),
            ("recall", "recall", SECONDARY),
            ("f1", "F1", PRIMARY),
        )
    ]
    low = min([float(row[k]) for row in per_class for k in ("precision", "recall", "f1")] or [0.0])
    return _figure(
        data,
        height,
        barmode="group",
        bargap=0.25,
        legend={"orientation": "h", "y": 1.12, "x": 0.5, "xanchor": "center"},
        xaxis=_axis(type="category", title={"text": "digit"}),
        yaxis=_axis(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%"),
    )
