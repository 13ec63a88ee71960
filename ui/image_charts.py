"""Plotly figures for See why, Watch it learn and My digits: arrays in, a `go.Figure` out (no Streamlit).

Grids of small images (filters, activation maps, the 100 watched digits) are tiled into one array
and drawn as a single heatmap: one trace instead of a hundred keeps a figure cheap to build and draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.charts import FONT

DIVERGING = [[0.0, "#2563EB"], [0.5, "#FFFFFF"], [1.0, "#DC2626"]]  # blue: against, white: 0, red: for
GREYS = [[0.0, "#000000"], [1.0, "#FFFFFF"]]  # MNIST's look: bright ink on black
RIGHT, WRONG = "#16A34A", "#DC2626"
MAX_TILES = 32  # first-layer units shown at most


def _image_layout(height: int, width: int | None = None, **extra) -> dict:
    axis = {"visible": False, "fixedrange": True, "constrain": "domain"}
    layout = {
        "height": height,
        "font": FONT,
        "margin": {"l": 5, "r": 5, "t": 30, "b": 5},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {**axis},
        "yaxis": {**axis, "autorange": "reversed", "scaleanchor": "x"},
        **extra,
    }
    if width:
        layout["width"] = width
    return layout


def saliency_figure(image: np.ndarray, saliency: np.ndarray, title: str, height: int = 300) -> go.Figure:
    """Signed saliency (28, 28) as a red/blue heatmap centred on 0, with the input's ink outlined on top."""
    values = np.asarray(saliency, dtype=np.float32)
    limit = float(np.abs(values).max()) or 1.0
    heat = {
        "type": "heatmap",
        "z": values.tolist(),
        "colorscale": DIVERGING,
        "zmin": -limit,
        "zmax": limit,
        "zmid": 0.0,
        "colorbar": {"thickness": 10, "tickvals": [-limit, 0, limit], "ticktext": ["against", "0", "for"]},
        "hovertemplate": "row %{y}, col %{x}<br>%{z:.3g}<extra></extra>",
    }
    ink = {
        "type": "contour",
        "z": np.asarray(image, dtype=np.float32).tolist(),
        "showscale": False,
        "contours": {"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"},
        "hoverinfo": "skip",
        "line": {"color": "rgba(17,24,39,0.55)", "width": 1.5},
        "colorscale": [[0, "#111827"], [1, "#111827"]],
    }
    return go.Figure(
        data=[heat, ink], layout=_image_layout(height, title={"text": title, "x": 0.5, "font": {"size": 14}})
    )


def tile(images: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """Images (N, h, w) side by side in rows of `cols`, separated by NaN gaps: float32 (rows*(h+gap)-gap, ...)."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    rows = -(-n // cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return grid


def tiles_figure(
    images: np.ndarray,
    cols: int = 8,
    diverging: bool = True,
    title: str = "",
    height: int = 320,
    normalise_each: bool = False,
) -> go.Figure:
    """A grid of small images (first-layer weights, activation maps) as one heatmap.

    `diverging` colours weights red/blue around 0 on one shared scale; otherwise greys from each
    image's own range when `normalise_each` (activation maps differ a lot in strength).
    """
    images = np.asarray(images, dtype=np.float32)[:MAX_TILES]
    if normalise_each and len(images):
        low = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - low
        images = np.divide(images - low, span, out=np.zeros_like(images), where=span > 0)
    grid = tile(images, min(cols, max(1, len(images))), gap=max(1, images.shape[1] // 10))
    limit = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
    heat = {
        "type": "heatmap",
        "z": np.where(np.isnan(grid), None, grid).tolist(),
        "showscale": diverging,
        "colorscale": DIVERGING if diverging else GREYS,
        "hoverinfo": "skip",
        **(
            {"zmin": -limit, "zmax": limit, "zmid": 0.0, "colorbar": {"thickness": 10}}
            if diverging
            else {"zmin": 0.0, "zmax": 1.0}
        ),
    }
    return go.Figure(data=[heat], layout=_image_layout(height, title={"text": title, "x": 0.5, "font": {"size": 14}}))


def watch_grid(
    images: np.ndarray,
    labels: np.ndarray,
    guesses: np.ndarray,
    confidence: np.ndarray | None = None,
    cols: int = 10,
    height: int = 560,
) -> go.Figure:
    """The watched digits in a grid, each framed and badged with the model's guess: green right, red wrong.

    images uint8 (N, 28, 28), labels and guesses int (N,), confidence float (N,) for the hover text.
    The digits and frames are one PNG (an Image trace) and the badges two scatter traces: a figure
    of 100 shapes and annotations took over a second to build, too slow to redraw every second.
    """
    labels, guesses = np.asarray(labels), np.asarray(guesses)
    right = guesses == labels
    n, step = len(labels), 28 + WATCH_GAP
    r, c = np.divmod(np.arange(n), cols)
    sure = np.ones(n) if confidence is None else np.asarray(confidence, dtype=float)
    picture = {
        "type": "image",
        "source": _png_uri(_framed(np.asarray(images), right, cols)),
        "dx": 1 / WATCH_ZOOM,
        "dy": 1 / WATCH_ZOOM,
        "x0": -WATCH_GAP / 2,
        "y0": -WATCH_GAP / 2,
        "hoverinfo": "skip",
    }
    x, y = (c * step + 25).tolist(), (r * step + 3).tolist()
    badges = {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "markers+text",
        "showlegend": False,
        "marker": {"symbol": "square", "size": 15, "color": [RIGHT if ok else WRONG for ok in right]},
        "text": [f"<b>{g}</b>" for g in guesses.tolist()],
        "textfont": {"size": 11, "color": "white"},
        "customdata": np.stack([labels, guesses, sure], axis=1).tolist(),
        "hovertemplate": "true %{customdata[0]} · guess %{customdata[1]} (%{customdata[2]:.0%})<extra></extra>",
    }
    layout = _image_layout(height, margin={"l": 5, "r": 5, "t": 5, "b": 5}, hovermode="closest")
    rows = -(-n // cols)
    layout["xaxis"]["range"] = [-WATCH_GAP / 2, cols * step - WATCH_GAP / 2]
    layout["yaxis"]["range"] = [rows * step - WATCH_GAP / 2, -WATCH_GAP / 2]
    layout["yaxis"].pop("autorange")
    return go.Figure(data=[picture, badges], layout=layout)


WATCH_GAP = 4  # pixels between watched digits; the frame is drawn in it
WATCH_ZOOM = 2  # the PNG is enlarged with nearest-neighbour so the browser shows sharp pixels


def _framed(images: np.ndarray, right: np.ndarray, cols: int) -> np.ndarray:
    """uint8 RGB grid of the digits, each in a 2-pixel frame of its colour, enlarged WATCH_ZOOM times."""
    n, step, pad = len(images), 28 + WATCH_GAP, WATCH_GAP // 2
    rows = -(-n // cols)
    grid = np.full((rows * step, cols * step, 3), 255, dtype=np.uint8)
    colours = {True: _rgb(RIGHT), False: _rgb(WRONG)}
    for i, (image, ok) in enumerate(zip(images, right.tolist(), strict=True)):
        top, left = divmod(i, cols)
        top, left = top * step, left * step
        grid[top : top + step, left : left + step] = colours[ok]
        grid[top + pad : top + pad + 28, left + pad : left + pad + 28] = image[..., None]
    return np.repeat(np.repeat(grid, WATCH_ZOOM, axis=0), WATCH_ZOOM, axis=1)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _png_uri(rgb: np.ndarray) -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def accuracy_steps(epochs: Sequence[int], accuracy: Sequence[float], height: int = 200) -> go.Figure:
    """Share of the watched digits guessed right after each epoch (0 = before training)."""
    line = {
        "type": "scatter",
        "x": list(epochs),
        "y": [float(a) for a in accuracy],
        "mode": "lines+markers",
        "line": {"color": "#4F46E5", "width": 2.5},
        "hovertemplate": "epoch %{x}: %{y:.0%}<extra></extra>",
    }
    return go.Figure(
        data=[line],
        layout={
            "height": height,
            "font": FONT,
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "xaxis": {"title": {"text": "epoch"}, "dtick": 1, "gridcolor": "#ECEEF4"},
            "yaxis": {"range": [0, 1.02], "tickformat": ".0%", "gridcolor": "#ECEEF4"},
        },
    )
