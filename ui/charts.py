"""Charts for Digit Lab, and the one palette every figure and the Draw page's HTML use.

Plain data in, a `go.Figure` (or, for the Draw page's probability bars, HTML) out. Every function here
is pure (no Streamlit, no I/O): the pages pass rows from `metrics.jsonl`, probabilities or per-class
scores, and show the figure with `st.plotly_chart` (`st.html`). The confusion matrix and the figures
made of digit images live beside this module and take their colours from it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_core.digits import NUM_CLASSES  # noqa: E402

DIGITS = [str(d) for d in range(NUM_CLASSES)]
MAX_BATCH_POINTS = 1500  # per-batch curves are thinned beyond this, so a long run stays smooth

# ---------------------------------------------------------------- the palette
PRIMARY = "#4F46E5"  # indigo: train, the chosen answer
PRIMARY_FAINT = "rgba(79,70,229,0.35)"  # PRIMARY, see-through: the noisy per-batch curve
LIGHT = "#818CF8"  # a lighter indigo: the runner-up, precision
SECONDARY = "#F97316"  # orange: validation, mistakes
TOP_COLORS = (PRIMARY, LIGHT, "#C7D2FE")  # 1st, 2nd, 3rd most likely digit
MUTED = "#D1D5DB"
GRID = "#ECEEF4"
TEXT = "#374151"  # labels drawn in HTML
QUIET_TEXT = "#5B6070"  # small print drawn in HTML: 6.3:1 on white, past WCAG AA's 4.5:1
RIGHT, WRONG = "#16A34A", "#DC2626"  # a guess that is right / wrong
EMPTY_CELL = "#F3F4F8"  # a confusion-matrix cell no digit fell in
CORRECT_SCALE = [[0, "#E0E7FF"], [1, "#3730A3"]]  # indigo, light to dark: right answers
MISTAKE_SCALE = [[0, "#FFEDD5"], [1, "#C2410C"]]  # orange, light to dark: mistakes
RUN_COLORS = (PRIMARY, SECONDARY, "#10B981", "#E11D48", "#0EA5E9", "#A855F7", "#EAB308", "#64748B")
DIVERGING = [[0.0, "#2563EB"], [0.5, "#FFFFFF"], [1.0, WRONG]]  # blue: against, white: 0, red: for
GREYS = [[0.0, "#000000"], [1.0, "#FFFFFF"]]  # MNIST's look: bright ink on black
FONT = {"family": "Inter, 'Source Sans Pro', sans-serif", "size": 13}
LEGEND_BELOW = {"orientation": "h", "y": -0.25, "x": 0.5, "xanchor": "center"}


def figure(data: list[dict], height: int, margin: dict | None = None, **layout) -> go.Figure:
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
    _wait_for_pandas()
    return go.Figure(data=data, layout={**base, **layout})


def _wait_for_pandas() -> None:
    """Plotly's validators peek at sys.modules["pandas"] without importing it. While another thread (the warm
    start importing TensorFlow) is still importing pandas, that entry is half made and go.Figure raised
    "partially initialized module 'pandas' has no attribute 'Series'" on a cold server's first live curve.
    Importing it here waits for that import to finish; when nobody has started one, nothing is imported."""
    if "pandas" in sys.modules:
        import pandas  # noqa: F401


def axis(**extra) -> dict:
    """An axis with the shared look (light grid, no zero line), plus `extra`."""
    return {"gridcolor": GRID, "zeroline": False, **extra}


def _side_by_side(titles: tuple[str, str], x: dict, y1: dict, y2: dict) -> dict:
    """Layout of two panels side by side (what make_subplots(1, 2) builds, without its cost)."""
    return {
        "xaxis": axis(domain=[0, 0.455], anchor="y", **x),
        "yaxis": axis(anchor="x", **y1),
        "xaxis2": axis(domain=[0.545, 1], anchor="y2", **x),
        "yaxis2": axis(anchor="x2", **y2),
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
    data = []
    for panel, key in ((1, "loss"), (2, "accuracy")):
        data.append(_batch_line(_thin(batches), key, panel))
        for prefix, name, color in (("", "train (epoch)", PRIMARY), ("val_", "validation", SECONDARY)):
            hover = f"epoch %{{x:.0f}}<br>%{{y:.4f}}<extra>{name}</extra>"
            data.append(_marked_line(epochs, prefix + key, panel, name, color, hover, marker_size=8))
    x = {"title": {"text": "epoch"}}
    if epochs_planned:
        x["range"] = [0, max(1, epochs_planned) * 1.02]
    layout = _side_by_side(("Loss", "Accuracy"), x, {}, {"tickformat": ".0%"})
    return figure(data, height, legend=LEGEND_BELOW, uirevision="curves", **layout)


def runs_overlay(runs: Mapping[str, Sequence[Mapping]], height: int = 360) -> go.Figure:
    """Validation loss and accuracy per epoch of several runs (name -> epoch rows), one colour each."""
    data = []
    for i, (name, rows) in enumerate(runs.items()):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        for panel, key in ((1, "loss"), (2, "accuracy")):
            use = "val_" + key if any(r.get("val_" + key) is not None for r in rows) else key
            hover = f"{name}<br>epoch %{{x:.0f}}: %{{y:.4f}}<extra></extra>"
            data.append(_marked_line(rows, use, panel, name, color, hover, marker_size=7))
    layout = _side_by_side(
        ("Validation loss", "Validation accuracy"), {"title": {"text": "epoch"}}, {}, {"tickformat": ".1%"}
    )
    return figure(data, height, legend=LEGEND_BELOW, **layout)


def _batch_line(rows: Sequence[Mapping], key: str, panel: int) -> dict:
    """The noisy per-batch training curve, thin and see-through."""
    line = {"color": PRIMARY_FAINT, "width": 1.5}
    hover = "epoch %{x:.2f}<br>%{y:.4f}<extra>batch</extra>"
    return _line(
        rows, key, panel, mode="lines", name="train (per batch)", legendgroup="batch", line=line, hovertemplate=hover
    )


def _marked_line(
    rows: Sequence[Mapping], key: str, panel: int, name: str, color: str, hover: str, marker_size: int
) -> dict:
    """A per-epoch curve: a thick line with a marker on each epoch."""
    style = {"line": {"color": color, "width": 2.5}, "marker": {"size": marker_size}, "hovertemplate": hover}
    return _line(rows, key, panel, mode="lines+markers", name=name, legendgroup=name, **style)


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


PROBABILITY_BARS_CSS = f"""
.dl-bars {{ display: flex; gap: 0.45rem; height: 190px; padding: 1.4rem 0.2rem 0; margin-bottom: 0.4rem; }}
.dl-bar {{ flex: 1; display: flex; flex-direction: column; align-items: stretch; min-width: 0; }}
.dl-bar-track {{ flex: 1; display: flex; flex-direction: column; justify-content: flex-end;
                border-bottom: 1px solid #9CA3AF; }}
.dl-bar-fill {{ border-radius: 3px 3px 0 0; min-height: 1px; }}
.dl-bar-value {{ font-size: 0.8rem; color: {TEXT}; text-align: center; line-height: 1.3; white-space: nowrap; }}
.dl-bar-digit {{ font-size: 0.95rem; font-weight: 600; color: {TEXT}; text-align: center; padding-top: 0.15rem; }}
.dl-verdict {{ display: flex; align-items: center; gap: 1.5rem 2.5rem; flex-wrap: wrap; }}
.dl-answer {{ font-size: 6.5rem; font-weight: 800; line-height: 1; color: {PRIMARY}; min-width: 5rem;
              text-align: center; }}
.dl-not-digit {{ font-size: 2.2rem; font-weight: 800; line-height: 1.2; color: {TEXT}; }}
.dl-guess {{ font-size: 0.85rem; color: {QUIET_TEXT}; padding-top: 0.3rem; }}
.dl-sure {{ font-size: 1.75rem; font-weight: 700; line-height: 1.3; }}
.dl-next {{ font-size: 1rem; color: {TEXT}; padding-top: 0.3rem; }}
.dl-probs {{ font-size: 0.85rem; color: {QUIET_TEXT}; display: flex; flex-wrap: wrap; gap: 0.2rem 0.8rem; }}
"""  # the Draw page's answer: its digit, how sure, the bars and the ten values
PIXELATED_CSS = "[data-testid='stImage'] img { image-rendering: pixelated; border-radius: 4px; }"  # digits stay sharp


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
            ("precision", "precision", LIGHT),
            ("recall", "recall", SECONDARY),
            ("f1", "F1", PRIMARY),
        )
    ]
    low = min([float(row[k]) for row in per_class for k in ("precision", "recall", "f1")] or [0.0])
    return figure(
        data,
        height,
        barmode="group",
        bargap=0.25,
        legend={"orientation": "h", "y": 1.12, "x": 0.5, "xanchor": "center"},
        xaxis=axis(type="category", title={"text": "digit"}),
        yaxis=axis(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%"),
    )


def accuracy_steps(epochs: Sequence[int], accuracy: Sequence[float], height: int = 200) -> go.Figure:
    """Share of the watched digits guessed right after each epoch (0 = before training)."""
    line = {
        "type": "scatter",
        "x": list(epochs),
        "y": [float(a) for a in accuracy],
        "mode": "lines+markers",
        "line": {"color": PRIMARY, "width": 2.5},
        "hovertemplate": "epoch %{x}: %{y:.0%}<extra></extra>",
    }
    return figure(
        [line],
        height,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        xaxis=axis(title={"text": "epoch"}, dtick=1),
        yaxis=axis(range=[0, 1.02], tickformat=".0%"),
    )
