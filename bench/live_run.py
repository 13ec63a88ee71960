"""While a CNN trains: how far behind the live curves are, and how much memory the server holds.

Starts `streamlit run app.py` on a free port (runs folder in a temp dir) and a run of the `cnn`
preset with the engine (on $MNIST_DATA_DIR if set, else the embedded sample; epochs raised so it
outlasts the bench, then stopped). Opens three browser sessions: Train (watching the run), Draw
(one digit drawn: the server loads TensorFlow and the starter model) and Diagnostics (the starter's
confusion matrix). Then, for the given time:

- live-curve lag: every batch row the trainer appends to metrics.jsonl is timestamped when it
  lands in the file (polled every 10 ms); the Train page's "N batch points" caption is
  timestamped by a MutationObserver whenever it changes. A row's lag is the time from landing
  in the file to the first page update that shows it (p50, p95, max over all rows);
- memory: the resident set size (RSS) of the Streamlit server process and of the training
  worker, sampled every 0.5 s (peak and last).

    python bench/live_run.py [--seconds 60]

Targets: live curves <= 1 s behind the training; server <= 1.5 GB RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_utils import (  # noqa: E402
    canvas_box,
    chromium_path,
    draw_strokes,
    launch_chromium,
    open_page,
    streamlit_server,
    wait_for_charts,
)
from load import descendants, percentile, start_training  # noqa: E402

CAPTION_JS = """() => {  // every change of the live caption "N batch points", with the wall-clock time
  window.__points = [];
  const read = () => {
    const m = document.body.innerText.match(/(\\d+) batch points/);
    const n = m ? Number(m[1]) : null;
    const last = window.__points.at(-1);
    if (n !== null && (!last || last[1] !== n)) window.__points.push([Date.now() / 1000, n]);
  };
  read();
  new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def watch_rows(path: Path, landed: list[float], stop: threading.Event) -> None:
    """Append to `landed` the wall-clock time each batch row appears in metrics.jsonl."""
    offset, partial = 0, b""
    while not stop.is_set():
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except OSError:
            chunk = b""
        now = time.time()
        if chunk:
            offset += len(chunk)
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            landed.extend(now for line in lines if b'"kind":"batch"' in line.replace(b" ", b""))
        time.sleep(0.01)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def processes() -> tuple[int | None, int | None]:
    """The pids of the Streamlit server and of the training worker (children of this bench)."""
    server = worker = None
    for pid, command in descendants(os.getpid()).items():
        if "mnist_core.workers.worker" in command:
            worker = pid
        elif "streamlit" in command and "run" in command:
            server = pid
    return server, worker


def open_sessions(browser, url: str):
    """Three sessions: Diagnostics (starter), Draw (one digit drawn), Train (watching the run, last)."""
    from digit_drawings import template_strokes

    pages = {}
    for name in ("diagnostics", "draw", "train"):
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_page(page, url, name, timeout=180_000)
        pages[name] = page
    wait_for_charts(pages["diagnostics"], timeout=180_000)
    draw_strokes(pages["draw"], template_strokes("4", 190, (140, 140)), canvas_box(pages["draw"]))
    pages["draw"].locator(".dl-probs").wait_for(timeout=180_000)
    pages["train"].get_by_text(re.compile(r"\d+ batch points")).first.wait_for(timeout=180_000)
    pages["train"].evaluate(CAPTION_JS)
    return pages


def lags(landed: list[float], shown: list[tuple[float, int]], since: float) -> list[float]:
    """Seconds from each batch row landing (after `since`) to the first page update that counts it."""
    out = []
    for k, t_file in enumerate(landed, start=1):
        if t_file < since:
            continue
        t_page = next((t for t, n in shown if n >= k and t >= t_file - 0.05), None)
        if t_page is not None:
            out.append(max(0.0, t_page - t_file))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to watch (default 60)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        raise SystemExit("needs a system chromium (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "runs") as url:
        handle = start_training(Path(tmp) / "runs")
        landed, stop = [], threading.Event()
        watcher = threading.Thread(target=watch_rows, args=(handle.path / "metrics.jsonl", landed, stop), daemon=True)
        watcher.start()
        peaks, last = {"server": 0.0, "worker": 0.0}, {}
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                pages = open_sessions(browser, url)
                since, end = time.time(), time.monotonic() + args.seconds
                while time.monotonic() < end:
                    server, worker = processes()
                    last = {"server": rss_mb(server) if server else 0.0, "worker": rss_mb(worker) if worker else 0.0}
                    peaks = {k: max(peaks[k], last[k]) for k in peaks}
                    pages["train"].wait_for_timeout(500)
                shown = [tuple(p) for p in pages["train"].evaluate("() => window.__points")]
                browser.close()
        finally:
            stop.set()
            handle.stop()
            handle.wait(timeout=120)
        source = handle.status().data_source
    report(args, lags(landed, shown, since), peaks, last, source)
    return 0


def report(args, delays: list[float], peaks: dict, last: dict, source: str) -> None:
    print(f"cnn run on {source[:70]}; watched for {args.seconds:.0f} s with Train, Draw and Diagnostics open")
    if delays:
        p50, p95 = statistics.median(delays), percentile(delays, 95)
        print(
            f"live curves: {len(delays)} batch rows; file -> on the Train page: p50 {p50:.2f} s, "
            f"p95 {p95:.2f} s, max {max(delays):.2f} s (target <= 1 s: {'OK' if p95 <= 1 else 'MISSED'})"
        )
    else:
        print("live curves: no batch row was shown while watching")
    print(
        f"memory (RSS): server peak {peaks['server']:,.0f} MB, last {last.get('server', 0):,.0f} MB "
        f"(target <= 1,536 MB: {'OK' if peaks['server'] <= 1536 else 'MISSED'}); "
        f"training worker peak {peaks['worker']:,.0f} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
