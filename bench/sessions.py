"""A class of people without browsers: N WebSocket sessions speaking Streamlit's own protocol to one server.

Starts `streamlit run app.py` on a free port (a runs folder of its own), then opens N sessions the way
a browser does (a WebSocket to /_stcore/stream, `BackMsg.rerun_script` for a page, every `ForwardMsg`
read and parsed). Most sessions open Draw and draw hand-written digit templates stroke by stroke: after
each stroke they send the canvas as streamlit-drawable-canvas does on pen-up (its `drawing` state, a PNG
data URL, as a fragment rerun of the canvas's fragment), wait for the answer and think for a moment; one
in five opens Home or Train instead and reloads it now and then. Prints:

- errors (a stroke or page with no answer in time, an exception element, a dropped connection),
- p50/p95 from sending a stroke to the server's last message of that rerun (server-side time: loopback),
- server CPU per session (its process's CPU seconds while they draw, per session and second),
- server memory (RSS) before, with the sessions open (growth per 50 sessions) and after they have left.

    python bench/sessions.py [--sessions 10 30] [--seconds 30] [--think 1.0]

Goals: 30 drawing sessions with 0 errors and p95 <= 300 ms at the server; memory growth <= 100 MB per 50
sessions, back within 10% after they leave. The bench and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_utils import streamlit_server  # noqa: E402

DIGITS = ["4", "7", "1 flag", "5", "3", "2", "8", "6", "9", "0"]  # templates of digit_drawings
CANVAS = "streamlit-drawable-canvas.streamlit_drawable_canvas"
ANSWERS = ('class="dl-answer"', 'class="dl-not-digit"')
TIMEOUT_S = 30.0
ARRIVAL_S = 0.2  # session n opens n * ARRIVAL_S seconds after the first


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    strokes: int = 0
    views: int = 0


def canvas_png(strokes) -> str:
    """Strokes so far -> the PNG data URL the canvas sends (280 px, white on black, brush 18)."""
    from PIL import Image

    from digit_drawings import render_strokes

    rgba = render_strokes(strokes, size=280, brush=18, paper=(0, 0, 0, 255))
    out = io.BytesIO()
    Image.fromarray(rgba).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def drawings(seed: int) -> list[list[str]]:
    """Per digit template, the data URL after each of its strokes (made once, shared by every session)."""
    from digit_drawings import template_strokes

    rng = random.Random(seed)
    out = []
    for name in DIGITS:
        strokes = template_strokes(name, rng.uniform(150, 220), (140 + rng.uniform(-20, 20), 140))
        out.append([canvas_png(strokes[: k + 1]) for k in range(len(strokes))])
    return out


class Session:
    """One person's WebSocket session, reading every ForwardMsg as a browser would."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.canvas_id = ""
        self.fragment = ""

    async def rerun(self, page: str = "", widgets: dict[str, str] | None = None, fragment: str = "") -> list:
        """Send a rerun (a page, a fragment, widget states as JSON) and read until its script run ends."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_name = page
        message.rerun_script.fragment_id = fragment
        for widget_id, value in (widgets or {}).items():
            state = message.rerun_script.widget_states.widgets.add()
            state.id, state.json_value = widget_id, value
        await self.ws.send(message.SerializeToString())
        return await self._until_finished()

    async def _until_finished(self) -> list:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        elements = []
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT_S))
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                elements.append(reply.delta)
                self._note_canvas(reply.delta)
            elif kind == "script_finished" and reply.script_finished != 2:  # 2: ended early for another rerun
                return elements

    def _note_canvas(self, delta) -> None:
        element = delta.new_element
        if element.WhichOneof("type") == "bidi_component" and element.bidi_component.component_name == CANVAS:
            self.canvas_id, self.fragment = element.bidi_component.id, delta.fragment_id


def problems(elements: list) -> list[str]:
    """Exception elements a rerun showed (a traceback on the page)."""
    return [d.new_element.exception.message for d in elements if d.new_element.WhichOneof("type") == "exception"]


def answered(elements: list) -> bool:
    bodies = [d.new_element.html.body for d in elements if d.new_element.WhichOneof("type") == "html"]
    return any(a in body for body in bodies for a in ANSWERS)


async def drawer(session: Session, pictures: list[list[str]], until: float, think: float, stats: Stats, rng) -> None:
    """Draw digit after digit, stroke by stroke, until `until`; each stroke timed from send to the run's end."""
    await session.rerun("draw")
    if not session.canvas_id:
        raise RuntimeError("the Draw page showed no canvas")
    while time.monotonic() < until:
        for picture in rng.sample(pictures, len(pictures)):
            for url in picture:
                value = json.dumps({"drawing": {"raw": {"objects": [], "background": "#000000"}, "data": url}})
                start = time.perf_counter()
                elements = await session.rerun("draw", {session.canvas_id: value}, session.fragment)
                stats.latencies.append(time.perf_counter() - start)
                stats.strokes += 1
                stats.errors += problems(elements)
                if not answered(elements):
                    stats.errors.append("a stroke got no answer")
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
                if time.monotonic() >= until:
                    return


async def viewer(session: Session, until: float, stats: Stats, rng) -> None:
    """Open Home or Train and reload it every few seconds, as a person reading it would."""
    while time.monotonic() < until:
        elements = await session.rerun(rng.choice(["", "train"]))
        stats.views += 1
        stats.errors += problems(elements)
        await asyncio.sleep(rng.uniform(2, 5))


async def person(n: int, port: int, pictures, until: float, think: float, stats: Stats, opened: list) -> None:
    import websockets

    rng = random.Random(n)
    await asyncio.sleep(n * ARRIVAL_S)
    url = f"ws://localhost:{port}/_stcore/stream"
    try:
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**26, open_timeout=30) as ws:
            opened.append(n)
            session = Session(ws)
            if n % 5 == 4:
                await viewer(session, until, stats, rng)
            else:
                await drawer(session, pictures, until, think, stats, rng)
    except Exception as error:  # every failure is counted and named, none stops the others
        stats.errors.append(f"session {n}: {type(error).__name__}: {error}")


def server_pid(port: int) -> int:
    """The pid of the Streamlit server started for `port` (found by its command line in /proc)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(words) and str(port).encode() in words:
                return int(entry.name)
    raise RuntimeError(f"no Streamlit server for port {port} in /proc")


def usage(pid: int) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of the server process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return (int(fields[11]) + int(fields[12])) / ticks, pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def one_level(port: int, pid: int, n: int, seconds: float, think: float, pictures) -> dict:
    """N people for `seconds` (after they have all arrived); their figures and the server's."""
    stats, opened = Stats(), []
    cpu0, rss0 = usage(pid)
    start = time.monotonic()
    until = start + n * ARRIVAL_S + seconds
    peak = rss0

    async def watch() -> None:
        nonlocal peak
        while time.monotonic() < until:
            peak = max(peak, usage(pid)[1])
            await asyncio.sleep(0.5)

    await asyncio.gather(watch(), *(person(k, port, pictures, until, think, stats, opened) for k in range(n)))
    cpu1, rss_open = usage(pid)
    await asyncio.sleep(10)  # sessions closed: let the server drop their state
    _, rss_after = usage(pid)
    return {
        "n": n,
        "stats": stats,
        "cpu_per_session_s": (cpu1 - cpu0) / max(1, len(opened)) / (time.monotonic() - 10 - start),
        "rss_before": rss0,
        "rss_peak": max(peak, rss_open),
        "rss_after": rss_after,
    }


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else float("nan"))


def report(row: dict) -> None:
    s = row["stats"]
    ms = [1000 * v for v in s.latencies]
    growth = row["rss_peak"] - row["rss_before"]
    print(
        f"{row['n']:>4} sessions: {len(s.errors)} errors, {s.strokes} strokes, {s.views} page views; "
        f"stroke -> answer p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms; "
        f"server CPU {100 * row['cpu_per_session_s']:.1f}% of a core per session; "
        f"RSS {row['rss_before']:.0f} -> {row['rss_peak']:.0f} MB (+{growth:.0f}, {50 * growth / row['n']:.0f} MB "
        f"per 50 sessions), {row['rss_after']:.0f} MB after they left "
        f"({100 * (row['rss_after'] - row['rss_before']) / row['rss_before']:+.1f}%)",
        flush=True,
    )
    for message in sorted(set(s.errors))[:5]:
        print(f"      error: {message[:200]}")


async def warm_up(port: int, pictures) -> None:
    """One session draws until TensorFlow's model answers (until then a NumPy copy of the starter does, while
    the server imports TensorFlow in the background): nothing timed pays for the import."""
    import websockets

    url = f"ws://localhost:{port}/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**26, open_timeout=30) as ws:
        session = Session(ws)
        await session.rerun("draw")
        value = json.dumps({"drawing": {"raw": {"objects": []}, "data": pictures[0][-1]}})
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            elements = await session.rerun("draw", {session.canvas_id: value}, session.fragment)
            texts = [d.new_element.markdown.body for d in elements if d.new_element.WhichOneof("type") == "markdown"]
            if answered(elements) and not any("TensorFlow is still loading" in t for t in texts):
                return
            await asyncio.sleep(1)
    raise RuntimeError("the Draw page did not answer with TensorFlow's model within 180 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 30], help="people at once, one level each")
    parser.add_argument("--seconds", type=float, default=30.0, help="time each level draws after all arrived")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between strokes, seconds")
    args = parser.parse_args(argv)
    pictures = drawings(0)
    with tempfile.TemporaryDirectory() as runs, streamlit_server(Path(runs)) as url:
        port = int(url.rsplit(":", 1)[1])
        pid = server_pid(port)
        asyncio.run(warm_up(port, pictures))
        print(f"server pid {pid}, {os.cpu_count()} cores; {args.seconds:.0f} s of drawing a level", flush=True)
        for n in args.sessions:
            report(asyncio.run(one_level(port, pid, n, args.seconds, args.think, pictures)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
