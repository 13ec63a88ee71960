"""Figures made of digit images, for See why and Watch it learn: arrays in, a `go.Figure` out (no Streamlit).

Grids of small images (filters, activation maps, the 100 watched digits) are tiled into one array
and drawn as a single heatmap: one trace instead of a hundred keeps a figure cheap to build and draw.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.charts import DIVERGING, GREYS, RIGHT, WRONG, figure

MAX_TILES = 32  # first-layer units shown at most


def _image_layout(**extra) -> dict:
    """Axes for a picture: hidden, square pixels, row 0 at the top."""
    axis = {"visible": False, "fixedrange": True, "constrain": "domain"}
    return {"xaxis": {**axis}, "yaxis": {**axis, "autorange": "reversed", "scaleanchor": "x"}, **extra}


def _titled(title: str) -> dict:
    return {"title": {"text": title, "x": 0.5, "font": {"size": 14}}}


IMAGE_MARGIN = {"l": 5, "r": 5, "t": 30, "b": 5}


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
    return figure([heat, ink], height, margin=IMAGE_MARGIN, **_image_layout(**_titled(title)))


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
    return figure([heat], height, margin=IMAGE_MARGIN, **_image_layout(**_titled(title)))


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
    right, step = guesses == labels, 28 + WATCH_GAP
    sure = np.ones(len(labels)) if confidence is None else np.asarray(confidence, dtype=float)
    picture = {
        "type": "image",
        "source": _png_uri(_framed(np.asarray(images), right, cols)),
        "dx": 1 / WATCH_ZOOM,
        "dy": 1 / WATCH_ZOOM,
        "x0": -WATCH_GAP / 2,
        "y0": -WATCH_GAP / 2,
        "hoverinfo": "skip",
    }
    layout = _image_layout(hovermode="closest")
    rows = -(-len(labels) // cols)
    layout["xaxis"]["range"] = [-WATCH_GAP / 2, cols * step - WATCH_GAP / 2]
    layout["yaxis"]["range"] = [rows * step - WATCH_GAP / 2, -WATCH_GAP / 2]
    layout["yaxis"].pop("autorange")
    badges = _badges(labels, guesses, sure, cols)
    return figure([picture, badges], height, margin={"l": 5, "r": 5, "t": 5, "b": 5}, **layout)


def _badges(labels: np.ndarray, guesses: np.ndarray, sure: np.ndarray, cols: int) -> dict:
    """The guess in each digit's top-right corner, on a green (right) or red (wrong) square, with hover text."""
    r, c = np.divmod(np.arange(len(labels)), cols)
    step = 28 + WATCH_GAP
    return {
        "type": "scatter",
        "x": (c * step + 25).tolist(),
        "y": (r * step + 3).tolist(),
        "mode": "markers+text",
        "showlegend": False,
        "marker": {"symbol": "square", "size": 15, "color": [RIGHT if ok else WRONG for ok in guesses == labels]},
        "text": [f"<b>{g}</b>" for g in guesses.tolist()],
        "textfont": {"size": 11, "color": "white"},
        "customdata": np.stack([labels, guesses, sure], axis=1).tolist(),
        "hovertemplate": "true %{customdata[0]} · guess %{customdata[1]} (%{customdata[2]:.0%})<extra></extra>",
    }


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
