"""One person's Streamlit session without a browser: a WebSocket speaking Streamlit's own protocol.

What the browser does, message for message: it opens /_stcore/stream (subprotocol "streamlit"), asks
for a page with a `BackMsg.rerun_script` (page name, query string, the widget states it holds), reads
every `ForwardMsg` until that run's `script_finished`, and keeps each `auto_rerun` fragment running at
its interval (`is_auto_rerun`) until a `stop_auto_rerun` or another page. On Draw, lifting the pen makes
streamlit-drawable-canvas set its `drawing` state to `{"raw": <Fabric.js JSON>, "data": <PNG data URL>}`,
which the browser sends as the component's JSON widget state in a rerun of the canvas's fragment.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import re
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

CANVAS = "streamlit-drawable-canvas.streamlit_drawable_canvas"
DIGIT = re.compile(r'aria-label="predicted digit">(\d)<')
NOT_DIGIT = 'class="dl-not-digit"'
TIMEOUT_S = 30.0  # a run with no script_finished by then counts as an error
CANVAS_PX, BRUSH = 280, 18  # the Draw page's square and default brush on a wide screen
TEMPLATES = ["4", "7", "1 flag", "5", "3", "2", "8", "6", "9", "0"]  # digit_drawings' templates
FINISHED_WITH_COMPILE_ERROR, FINISHED_EARLY_FOR_RERUN = 1, 2  # ForwardMsg.ScriptFinishedStatus


@dataclass(frozen=True)
class Drawing:
    """A digit drawn stroke by stroke: the canvas component's state after each stroke."""

    digit: str  # the digit the template draws
    values: tuple[str, ...]  # JSON widget state after stroke 1, 2, ...


@dataclass(frozen=True)
class RunResult:
    """What one script run sent back: its new elements and whether it ended as a run should."""

    elements: list
    seconds: float  # from sending the BackMsg to its script_finished
    problems: list[str]  # exception elements, compile errors, a page not found


def fabric_path(stroke: Sequence[tuple[float, float]], brush: float) -> dict:
    """A freedraw stroke as the Fabric.js path object the canvas puts in its JSON (`raw`)."""
    (x0, y0), *rest = stroke
    path = [["M", x0, y0], *(["L", x, y] for x, y in rest)]
    xs, ys = [x for x, _ in stroke], [y for _, y in stroke]
    return {
        "type": "Path",
        "version": "6.0.0",
        "left": min(xs) - brush / 2,
        "top": min(ys) - brush / 2,
        "width": max(xs) - min(xs),
        "height": max(ys) - min(ys),
        "fill": None,
        "stroke": "#FFFFFF",
        "strokeWidth": brush,
        "strokeLineCap": "round",
        "strokeLineJoin": "round",
        "path": path,
    }


def canvas_value(strokes: Sequence[Sequence[tuple[float, float]]], size: int = CANVAS_PX, brush: int = BRUSH) -> str:
    """The canvas component's JSON widget state once `strokes` are drawn (white on black, as on Draw)."""
    from PIL import Image

    from digit_drawings import render_strokes

    rgba = render_strokes(strokes, size=size, brush=brush, paper=(0, 0, 0, 255))
    png = io.BytesIO()
    Image.fromarray(rgba).save(png, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    raw = {"version": "6.0.0", "objects": [fabric_path(s, brush) for s in strokes], "background": "#000000"}
    return json.dumps({"drawing": {"raw": raw, "data": url}})


def drawings(seed: int = 0) -> list[Drawing]:
    """Each digit template at a random size and place, stroke by stroke (made once, shared by all sessions)."""
    from digit_drawings import template_strokes

    rng = random.Random(seed)
    out = []
    for name in TEMPLATES:
        strokes = template_strokes(name, rng.uniform(150, 220), (140 + rng.uniform(-20, 20), 140))
        out.append(Drawing(name[0], tuple(canvas_value(strokes[: k + 1]) for k in range(len(strokes)))))
    return out


def answer(elements: list) -> str | None:
    """The Draw page's answer in a run's elements: a digit, "not a digit", or None when it showed none."""
    for delta in elements:
        if delta.new_element.WhichOneof("type") == "html":
            body = delta.new_element.html.body
            if found := DIGIT.search(body):
                return found.group(1)
            if NOT_DIGIT in body:
                return "not a digit"
    return None


def texts(elements: list) -> list[str]:
    """The markdown (captions, info boxes) a run showed."""
    return [d.new_element.markdown.body for d in elements if d.new_element.WhichOneof("type") == "markdown"]


class Session:
    """One browser tab's conversation with the server."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.page = ""
        self.widgets: dict[str, str] = {}  # widget id -> JSON value, as the browser's widget manager holds them
        self.canvas_id = ""
        self.canvas_fragment = ""
        self.auto: dict[str, tuple[float, float]] = {}  # fragment id -> (interval s, next due, monotonic)
        self.auto_reruns = 0

    async def open(self, page: str) -> RunResult:
        """Go to a page, as a click in the sidebar does: its widgets and timers start afresh."""
        self.page, self.widgets, self.auto = page, {}, {}
        return await self.rerun()

    async def draw(self, value: str) -> RunResult:
        """Lift the pen on the canvas: its state changes and its fragment reruns."""
        if not self.canvas_id:
            raise RuntimeError("no canvas on this page to draw on")
        self.widgets[self.canvas_id] = value
        return await self.rerun(self.canvas_fragment)

    async def stay(self, seconds: float) -> list[RunResult]:
        """Keep the page open for `seconds`, running its auto-rerun fragments when they are due."""
        until, results = time.monotonic() + seconds, []
        while (now := time.monotonic()) < until:
            due = min((next_at for _, next_at in self.auto.values()), default=until)
            if due > now:
                await asyncio.sleep(min(due, until) - now)
                continue
            fragment = min(self.auto, key=lambda f: self.auto[f][1])
            self.auto[fragment] = (self.auto[fragment][0], now + self.auto[fragment][0])
            results.append(await self.rerun(fragment, auto=True))
            self.auto_reruns += 1
        return results

    async def rerun(self, fragment: str = "", auto: bool = False) -> RunResult:
        """Send a rerun of the page (or one fragment) and read until its script run has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_name, state.fragment_id, state.is_auto_rerun = "", self.page, fragment, auto
        for widget_id, value in self.widgets.items():
            widget = state.widget_states.widgets.add()
            widget.id, widget.json_value = widget_id, value
        start = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        elements, problems = await self._until_finished()
        return RunResult(elements, time.perf_counter() - start, problems)

    async def _until_finished(self) -> tuple[list, list[str]]:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        elements, problems = [], []
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT_S))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                elements.append(reply.delta)
                self._note(reply.delta, problems)
            elif kind == "auto_rerun":
                interval = reply.auto_rerun.interval
                self.auto[reply.auto_rerun.fragment_id] = (interval, time.monotonic() + interval)
            elif kind == "stop_auto_rerun":
                for fragment in reply.stop_auto_rerun.fragment_ids or list(self.auto):
                    self.auto.pop(fragment, None)
            elif kind == "page_not_found":
                problems.append(f"page not found: {reply.page_not_found.page_name!r}")
            elif kind == "session_event" and reply.session_event.HasField("script_compilation_exception"):
                problems.append(f"compile error: {reply.session_event.script_compilation_exception.message}")
            elif kind == "script_finished" and reply.script_finished != FINISHED_EARLY_FOR_RERUN:
                if reply.script_finished == FINISHED_WITH_COMPILE_ERROR:
                    problems.append("the script did not compile")
                return elements, problems

    def _note(self, delta, problems: list[str]) -> None:
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            problems.append(
                f"exception on {self.page or 'home'}: {element.exception.type}: {element.exception.message}"
            )
        elif kind == "bidi_component" and element.bidi_component.component_name == CANVAS:
            self.canvas_id, self.canvas_fragment = element.bidi_component.id, delta.fragment_id


@asynccontextmanager
async def connect(port: int):
    """A WebSocket session to the server on localhost:`port`, closed on leaving."""
    import websockets

    url = f"ws://localhost:{port}/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**26, open_timeout=30) as ws:
        yield Session(ws)
