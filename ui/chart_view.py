"""Every chart with its text alternative: `show_chart` draws a Plotly figure and, under it, a collapsed
"as text" section with one sentence per series and the numbers as a table.

A chart is an SVG a screen reader cannot read and a keyboard cannot explore. The sentences (what each
series is, how many points, where it starts and ends, its lowest and highest) come from the figure's own
data, so they can never disagree with the picture. `figure_summary` and `figure_rows` are pure.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app_security.text import escape_markdown

MAX_ROWS = 2_000  # a table row per plotted point, up to this many (batch curves are already thinned)


def show_chart(
    figure: go.Figure,
    key: str,
    *,
    container=None,
    summary: list[str] | None = None,
    rows: list[dict] | None = None,
    **kwargs,
):
    """`st.plotly_chart(figure, key=key, **kwargs)` in `container` (default: here), followed by its text:
    `summary` and `rows` where a chart's layers would read badly (the confusion matrix), else the figure's."""
    where = container if container is not None else st
    shown = where.plotly_chart(figure, key=key, **kwargs)
    with where.expander("Chart as text", icon=":material/table_view:"):
        for line in summary if summary is not None else figure_summary(figure):
            st.markdown(f"- {escape_markdown(line)}")
        rows = rows if rows is not None else figure_rows(figure)
        if rows:
            st.dataframe(rows[:MAX_ROWS], hide_index=True, key=key + "_as_text")
    return shown


def figure_summary(figure: go.Figure) -> list[str]:
    """One plain sentence per trace: its name, its size and its range of values."""
    title = _title(figure)
    lines = [f"{title}."] if title else []
    for number, trace in enumerate(figure.data, start=1):
        name, at = _name(figure, trace, number), _x_title(figure, trace)
        if getattr(trace, "z", None) is not None:
            z = np.asarray(trace.z, dtype=float)
            if z.size:
                lines.append(
                    f"{name}: a grid of {z.shape[0]} rows by {z.shape[1] if z.ndim > 1 else 1} columns, "
                    f"values from {_number(np.nanmin(z))} to {_number(np.nanmax(z))}."
                )
            continue
        x, y = _points(trace)
        if not y:
            continue
        low, high = min(range(len(y)), key=y.__getitem__), max(range(len(y)), key=y.__getitem__)
        lines.append(
            f"{name}: {len(y)} point{'s' if len(y) != 1 else ''}, from {_number(y[0])} at {at}{_number(x[0])} "
            f"to {_number(y[-1])} at {at}{_number(x[-1])}; lowest {_number(y[low])} at {at}{_number(x[low])}, "
            f"highest {_number(y[high])} at {at}{_number(x[high])}."
        )
    return lines or ["The chart has no data yet."]


def figure_rows(figure: go.Figure) -> list[dict]:
    """The plotted numbers as table rows: (series, x, y) per point, or one row per grid row of a heatmap."""
    rows: list[dict] = []
    for number, trace in enumerate(figure.data, start=1):
        name = _name(figure, trace, number)
        if getattr(trace, "z", None) is not None:
            z = np.asarray(trace.z, dtype=float)
            columns = [str(c) for c in (trace.x if trace.x is not None else range(z.shape[1]))]
            for label, values in zip(trace.y if trace.y is not None else range(len(z)), z, strict=False):
                rows.append(
                    {"series": name, "row": str(label), **dict(zip(columns, map(_number, values), strict=False))}
                )
            continue
        x, y = _points(trace)
        rows.extend({"series": name, "x": _number(a), "y": _number(b)} for a, b in zip(x, y, strict=True))
    return rows


def _points(trace) -> tuple[list, list]:
    """A trace's (x, y) with missing values left out; bar charts drawn sideways keep x as the value."""
    xs = list(trace.x) if getattr(trace, "x", None) is not None else []
    ys = list(trace.y) if getattr(trace, "y", None) is not None else []
    if getattr(trace, "orientation", None) == "h":
        xs, ys = ys, xs
    if not xs:
        xs = list(range(1, len(ys) + 1))
    pairs = [(a, float(b)) for a, b in zip(xs, ys, strict=False) if _is_finite(b)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def _is_finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _name(figure: go.Figure, trace, number: int) -> str:
    """The trace's name after its panel's ("Loss: validation") when the figure has more than one panel."""
    name = str(trace.name) if getattr(trace, "name", None) else f"Series {number}"
    panel = _panel_title(figure, getattr(trace, "yaxis", None) or "y")
    return f"{panel}: {name}" if panel else name


def _panel_title(figure: go.Figure, yaxis: str) -> str:
    layout = figure.layout
    axis = layout["yaxis" + yaxis[1:]] if yaxis[1:].isdigit() or yaxis == "y" else None
    if axis is not None and axis.title and axis.title.text:
        return str(axis.title.text)
    if "yaxis2" in layout and layout.yaxis2.anchor:  # side-by-side panels are titled by their annotations
        index = int(yaxis[1:] or 1) - 1
        titles = [a.text for a in layout.annotations or () if a.text]
        return str(titles[index]) if index < len(titles) else ""
    return ""


def _x_title(figure: go.Figure, trace) -> str:
    xaxis = getattr(trace, "xaxis", None) or "x"
    axis = figure.layout["xaxis" + xaxis[1:]]
    text = axis.title.text if axis is not None and axis.title else None
    return f"{text} " if text else ""


def _title(figure: go.Figure) -> str:
    text = figure.layout.title.text if figure.layout.title else None
    return str(text) if text else ""


def _number(value) -> str:
    if isinstance(value, int | np.integer) or (isinstance(value, float | np.floating) and float(value).is_integer()):
        return f"{int(value):,}" if abs(float(value)) < 1e15 else str(value)
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)
