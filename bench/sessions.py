"""A class of people without browsers: N WebSocket sessions speaking Streamlit's own protocol to one server.

Starts `streamlit run app.py` on a free port with a runs folder of its own (a fresh server for each N,
unless --same-server) and has one session draw until TensorFlow's model answers, so no timed stroke pays
for the import. Then N people arrive 0.2 s apart, each a WebSocket session speaking as a browser does
(bench/session_client.py): they open Home, then Train (its auto-rerun fragments running), then Draw,
and draw hand-written digit templates stroke by stroke, sending the canvas after each stroke as
streamlit-drawable-canvas does, and thinking for a moment between strokes. Prints a table per N:

- errors (an exception element, a stroke with no answer, a dropped connection, a run not finished in 30 s),
- strokes and p50/p95 from sending a stroke to its run's script_finished (server-side time: loopback),
- the server's CPU (its process's CPU seconds while they were on, in cores, and per session),
- the server's RSS before, at its peak with everyone on (per session and per 50 sessions), and after
  they have left and the server has dropped their sessions (--ttl, `server.disconnectedSessionTTL`).

    python bench/sessions.py [--sessions 10 30 60 100] [--strokes 20] [--seconds 90] [--think 1.0]

Goals: 30 drawing sessions with 0 errors and p95 <= 300 ms at the server; memory growth <= 100 MB per 50
sessions, back within 10% after they leave. The bench's own sessions share the machine's cores with the
server, and so does anything else running: the load average is printed with every table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py must not hide the standard library's queue: this folder goes last on sys.path, not first
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
sys.path.append(str(ROOT / "bench"))

from browser_utils import streamlit_server  # noqa: E402
from session_client import Drawing, connect, drawings, texts  # noqa: E402
from session_client import answer as answer_in  # noqa: E402

ARRIVAL_S = 0.2  # person n arrives n * ARRIVAL_S seconds after the first
HOME_S, TRAIN_S = 2.0, 4.0  # how long a person reads Home and Train before drawing


@dataclass
class Plan:
    """What each person does on one level."""

    strokes: int = 20  # strokes each person draws on Draw
    seconds: float = 90.0  # the level ends this long after the last arrival, strokes done or not
    think: float = 1.0  # mean pause between two strokes, seconds
    home_s: float = HOME_S
    train_s: float = TRAIN_S


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # stroke sent -> its run finished, seconds
    views: list[float] = field(default_factory=list)  # page opened -> its run finished, seconds
    answers: list[tuple[str, str | None, bool]] = field(default_factory=list)  # (drawn, answered, last stroke)
    errors: list[str] = field(default_factory=list)
    auto_reruns: int = 0
    opened: int = 0


async def person(n: int, port: int, pictures: list[Drawing], plan: Plan, until: float, stats: Stats) -> None:
    """Home, Train, then Draw: stroke after stroke, person n starting at template n, until done or `until`."""
    await asyncio.sleep(n * ARRIVAL_S)
    try:
        async with connect(port) as session:
            stats.opened += 1
            for page, dwell in (("", plan.home_s), ("train", plan.train_s)):
                stats.views.append(_checked(await session.open(page), stats).seconds)
                for run in await session.stay(dwell):
                    _checked(run, stats)
            stats.views.append(_checked(await session.open("draw"), stats).seconds)
            stats.auto_reruns += session.auto_reruns
            await draw(session, n, pictures, plan, until, stats)
    except Exception as error:  # every failure is counted and named, none stops the others
        stats.errors.append(f"session {n}: {type(error).__name__}: {error}")


async def draw(session, n: int, pictures: list[Drawing], plan: Plan, until: float, stats: Stats) -> None:
    """`plan.strokes` strokes, template after template from template n, each timed and its answer kept."""
    import random

    rng, strokes = random.Random(n), 0
    for k in range(n, n + plan.strokes):
        picture = pictures[k % len(pictures)]
        for i, value in enumerate(picture.values):
            if strokes == plan.strokes or time.monotonic() >= until:
                return
            run = _checked(await session.draw(value), stats)
            strokes += 1
            stats.latencies.append(run.seconds)
            got = answer_in(run.elements)
            stats.answers.append((picture.digit, got, i == len(picture.values) - 1))
            if got is None:
                stats.errors.append("a stroke got no answer")
            await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)


def _checked(run, stats: Stats):
    stats.errors += run.problems
    return run


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


async def level(port: int, n: int, plan: Plan, pictures: list[Drawing], settle_s: float) -> dict:
    """N people on the server at `port`; their figures, the server's CPU and memory, and the machine's load."""
    pid, stats = server_pid(port), Stats()
    load0, (cpu0, rss0) = os.getloadavg()[0], usage(pid)
    start = time.monotonic()
    until = start + n * ARRIVAL_S + plan.home_s + plan.train_s + plan.seconds
    peak, done = rss0, asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, usage(pid)[1])
            await asyncio.sleep(0.25)

    watcher = asyncio.ensure_future(watch())
    await asyncio.gather(*(person(k, port, pictures, plan, until, stats) for k in range(n)))
    done.set()
    await watcher
    cpu1, rss_open = usage(pid)
    wall, load1 = time.monotonic() - start, os.getloadavg()[0]
    await asyncio.sleep(settle_s)  # everyone has left: the server drops their sessions after its TTL
    return {
        "n": n,
        "stats": stats,
        "cores": (cpu1 - cpu0) / wall,
        "rss_before": rss0,
        "rss_peak": max(peak, rss_open),
        "rss_after": usage(pid)[1],
        "load": (load0, load1),
    }


async def warm_up(port: int, pictures: list[Drawing]) -> None:
    """One session opens every page the people will and draws until TensorFlow's model answers (until then a
    NumPy copy of the starter does): no timed stroke pays for an import, and the server's one-time memory
    (modules, caches shared by all) is in before the first figure is taken."""
    async with connect(port) as session:
        for page in ("", "train", "draw"):
            await session.open(page)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            run = await session.draw(pictures[0].values[-1])
            if answer_in(run.elements) and not any("TensorFlow is still loading" in t for t in texts(run.elements)):
                return
            await asyncio.sleep(1)
    raise RuntimeError("the Draw page did not answer with TensorFlow's model within 180 s")


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


HEADER = (
    "| sessions | errors | strokes | stroke p50 ms | stroke p95 ms | page p95 ms | server CPU, cores | "
    "CPU per session | RSS before MB | RSS peak MB | MB per session | MB per 50 | RSS after MB | load avg |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def table_row(row: dict) -> str:
    s, n = row["stats"], row["n"]
    ms = [1000 * v for v in s.latencies]
    growth = row["rss_peak"] - row["rss_before"]
    back = 100 * (row["rss_after"] - row["rss_before"]) / row["rss_before"]
    return (
        f"| {n} | {len(s.errors)} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
        f"{1000 * percentile(s.views, 95):.0f} | {row['cores']:.2f} | {100 * row['cores'] / n:.1f}% | "
        f"{row['rss_before']:.0f} | {row['rss_peak']:.0f} | {growth / n:.1f} | {50 * growth / n:.0f} | "
        f"{row['rss_after']:.0f} ({back:+.1f}%) | {row['load'][0]:.1f} → {row['load'][1]:.1f} |"
    )


def report_errors(row: dict) -> None:
    errors = row["stats"].errors
    for message in sorted(set(errors))[:5]:
        print(f"  {row['n']} sessions, {errors.count(message)}x: {message[:200]}", flush=True)


def run_levels(
    sessions: list[int], plan: Plan, ttl_s: float, same_server: bool, warm: bool = True, settle_s: float | None = None
) -> list[dict]:
    """Each N against a fresh server (or one shared server), memory read `settle_s` after they left (the TTL
    and 10 s); the rows, printed as they come."""
    pictures, rows = drawings(0), []
    groups = [sessions] if same_server else [[n] for n in sessions]
    for group in groups:
        with (
            tempfile.TemporaryDirectory() as runs,
            streamlit_server(Path(runs), args=("--server.disconnectedSessionTTL", str(int(ttl_s)))) as url,
        ):
            port = int(url.rsplit(":", 1)[1])
            if warm:
                asyncio.run(warm_up(port, pictures))
            for n in group:
                rows.append(asyncio.run(level(port, n, plan, pictures, ttl_s + 10 if settle_s is None else settle_s)))
                print(table_row(rows[-1]), flush=True)
                report_errors(rows[-1])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[10, 30, 60, 100], help="people at once, a level each"
    )
    parser.add_argument("--strokes", type=int, default=20, help="strokes each person draws")
    parser.add_argument("--seconds", type=float, default=90.0, help="a level's time limit after the last arrival")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between strokes, seconds")
    parser.add_argument("--ttl", type=float, default=20.0, help="server.disconnectedSessionTTL (Streamlit: 120)")
    parser.add_argument("--same-server", action="store_true", help="every level on one server, one after another")
    args = parser.parse_args(argv)
    plan = Plan(strokes=args.strokes, seconds=args.seconds, think=args.think)
    print(
        f"{os.cpu_count()} cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the start; "
        f"{plan.strokes} strokes a person, {plan.think:.1f} s mean pause; "
        f"{'one server' if args.same_server else 'a fresh server a level'}, session TTL {args.ttl:.0f} s\n{HEADER}",
        flush=True,
    )
    rows = run_levels(args.sessions, plan, args.ttl, args.same_server)
    print(f"\n{HEADER}\n" + "\n".join(table_row(row) for row in rows))
    return 0 if all(not row["stats"].errors for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
