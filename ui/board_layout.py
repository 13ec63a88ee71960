"""The Draw page's layout on any screen: how wide the page is (measured in the browser), how big the canvas
can be, and whether the answer fits beside it or goes under it.

Streamlit gives a fixed-size component no way to shrink, and its columns split whatever width there is:
on a tablet beside the sidebar a 280 px canvas in a column got 175 px and its right third was hidden. So
the page measures its own width and sizes the canvas to it (preprocessing is size-independent).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

DEFAULT_CANVAS_PX = 280  # until the browser has said how wide the page is: fits every phone
MIN_CANVAS_PX, MAX_CANVAS_PX = 280, 420  # the square's side; bigger is easier to draw on with a finger
ANSWER_MIN_PX = 320  # the least width the answer needs beside the canvas, else it goes under it
GAP_PX = 48  # Streamlit's "large" gap between the canvas and the answer (3rem)
EDGE_PX = 32  # left free beside a full-width canvas, so a finger can still scroll the page
STEP_PX = 8  # widths are reported in steps of this, so a scroll bar coming and going changes nothing

_WIDTH_JS = f"""
export default function (component) {{
  const {{ setStateValue, parentElement }} = component;
  const host = parentElement.host ?? parentElement;
  let sent = -1;
  const report = () => {{
    const width = Math.floor(host.getBoundingClientRect().width / {STEP_PX}) * {STEP_PX};
    if (width > 0 && width !== sent) {{ sent = width; setStateValue("width", width); }}
  }};
  const observer = new ResizeObserver(report);
  observer.observe(host);
  report();
  return () => observer.disconnect();
}}
"""
_width_probe = st.components.v2.component(
    "digit_lab.width_probe", html='<div class="dl-width-probe"></div>', js=_WIDTH_JS, isolate_styles=False
)


@dataclass(frozen=True)
class BoardLayout:
    """Where the canvas goes and how big it is."""

    canvas_px: int  # the square canvas's side, in CSS pixels
    answer_px: int | None  # the answer's width under the canvas; None: beside it, in the rest of the row

    @property
    def side_by_side(self) -> bool:
        return self.answer_px is None


def board_layout(width: int | None) -> BoardLayout:
    """The layout for a page `width` CSS pixels wide (None: not measured yet, a canvas that fits any phone)."""
    if width is None:
        return BoardLayout(DEFAULT_CANVAS_PX, answer_px=None)
    beside = width - GAP_PX - ANSWER_MIN_PX
    if beside >= MIN_CANVAS_PX:
        return BoardLayout(_steps(min(beside, MAX_CANVAS_PX)), answer_px=None)
    return BoardLayout(_steps(max(min(width - EDGE_PX, MAX_CANVAS_PX), 0)), answer_px=width)


def _steps(px: int) -> int:
    return px // STEP_PX * STEP_PX


def page_width(key: str) -> int | None:
    """The width of the place this is called in, in CSS pixels, as the browser measures it (None until it has).

    A change of width (a tablet turned round, a sidebar opened) reruns the fragment this is in."""
    width = _width_probe(key=key, on_width_change=lambda: None, default={"width": None}, height=0)
    return width.get("width") if hasattr(width, "get") else getattr(width, "width", None)


def board_slots(layout: BoardLayout):
    """Two containers, (canvas, answer), in one row that wraps: the answer beside the canvas, or, as wide as
    the page, under it. Always the same elements, so a new layout resizes the canvas instead of replacing it
    (and its drawing)."""
    row = st.container(horizontal=True, gap="large")
    return row.container(width=layout.canvas_px), row.container(width=layout.answer_px or "stretch")
