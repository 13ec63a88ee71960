"""A class at once (issue 15): N people each queue a tiny run within a few seconds; S runs train at a time.

Every run goes through the engine API (`runs.start_run` with its owner), real worker processes train them
(500 digits, 1 epoch, on $MNIST_DATA_DIR if set, else the embedded sample). While runs wait, the Train page
is rendered again and again in this process (Streamlit's AppTest: the server-side time of one page view).
Prints throughput, each person's wait (Start pressed -> run handed to a worker -> first batch), that every
run completed exactly once, the longest wait against what perfect round-robin would give with the same
run lengths, and the Train page's render time.

    python bench/queue.py [--people 30] [--slots 2] [--within 10]

Goals: no run lost or run twice; longest wait <= 1.2x perfect round-robin; Train page p95 <= 1 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/queue.py, as the issue names it: without its folder on sys.path, `import queue` (which
# Streamlit's thread pools need) finds the standard library's module, not this script.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import heapq  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from mnist_core import runs  # noqa: E402
from mnist_core.config import TrainingConfig  # noqa: E402
from mnist_core.people import Person  # noqa: E402
from mnist_core.runs import queue as run_queue  # noqa: E402

TINY = TrainingConfig(hidden_units=(32,), epochs=1, train_limit=500, batch_size=50)


def submit_all(root: Path, people: list[Person], within: float) -> dict[str, float]:
    """Each person presses Start once at a random moment in the first `within` seconds."""
    offsets = sorted(random.Random(0).uniform(0, within) for _ in people)
    start, submitted = time.monotonic(), {}
    for person, offset in zip(people, offsets, strict=True):
        time.sleep(max(0.0, offset - (time.monotonic() - start)))
        handle = runs.start_run(TINY, f"{person.name} tiny", root, owner=person)
        submitted[handle.id] = time.time()
    return submitted


def render_train_page(times: list[float]) -> None:
    """One view of the Train page, server side (app.py, then the page), timed into `times`."""
    from streamlit.testing.v1 import AppTest

    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        began = time.perf_counter()
        at.switch_page("pages/train.py").run()
    except KeyError:  # AppTest cannot follow an st.rerun (a page reruns when a run it shows starts or ends)
        return
    if not at.exception:
        times.append(time.perf_counter() - began)


def ideal_longest_wait(statuses: list) -> float:
    """Perfect round-robin (one run each: first come, first served) with the same run lengths and slots."""
    slots = run_queue.training_slots()
    free = [0.0] * slots
    origin = min(s.queued_at for s in statuses)
    longest = 0.0
    for status in sorted(statuses, key=lambda s: s.queued_at):
        at = max(heapq.heappop(free), status.queued_at - origin)
        longest = max(longest, at - (status.queued_at - origin))
        heapq.heappush(free, at + (status.ended_at - status.handed_at))
    return longest


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--within", type=float, default=10.0)
    args = parser.parse_args()
    os.environ[run_queue.SLOTS_ENV] = str(args.slots)
    root = Path(tempfile.mkdtemp(prefix="bench-queue-")) / "runs"
    os.environ[runs.RUNS_DIR_ENV] = str(root)
    people = [Person(f"bench|{i:02d}", f"p{i:02d}@class.example", f"Person {i:02d}") for i in range(args.people)]
    render_times: list[float] = []
    began = time.time()
    submit_all(root, people, args.within)
    while any(h.status().is_active for h in runs.list_runs(root)):
        if any(h.status().is_waiting for h in runs.list_runs(root)):
            render_train_page(render_times)  # the page is measured while runs wait
        else:
            time.sleep(0.5)
        runs.dispatch(root, blocking=False)
    report(runs.list_runs(root), began, render_times, args)


def report(handles: list, began: float, render_times: list[float], args) -> None:
    statuses = [h.status() for h in handles]
    states = statistics.multimode(s.state for s in statuses)
    claims = [(h.path / "worker.claim").is_file() for h in handles]
    epochs = [len(h.metrics().epochs) for h in handles]  # a run trained twice would have two epoch rows
    waits = [s.handed_at - s.queued_at for s in statuses]
    first_batch = []
    for handle, status in zip(handles, statuses, strict=True):
        rows = handle.metrics().batches
        first_batch.append(status.started_at + rows[0]["t"] - status.queued_at if rows else float("nan"))
    span = max(s.ended_at for s in statuses) - began
    print(f"{len(handles)} runs from {args.people} people, {args.slots} slots, submitted within {args.within:.0f} s")
    print(f"states: {sorted(set(s.state for s in statuses))} (most: {states}); every run claimed: {all(claims)}")
    print(f"trained more than once: {sum(n > 1 for n in epochs)}; never trained: {sum(n == 0 for n in epochs)}")
    print(f"throughput: {len(handles) / span * 60:.1f} runs/min ({span:.0f} s for all)")
    print(f"wait Start -> handed to a worker: p50 {statistics.median(waits):.1f} s, max {max(waits):.1f} s")
    print(f"wait Start -> first batch: p50 {statistics.median(first_batch):.1f} s, max {max(first_batch):.1f} s")
    ideal = ideal_longest_wait(statuses)
    print(f"longest wait vs perfect round-robin: {max(waits):.1f} s / {ideal:.1f} s = {max(waits) / ideal:.2f}x")
    durations = [s.ended_at - s.handed_at for s in statuses]
    print(f"run length (handed -> ended): p50 {statistics.median(durations):.1f} s")
    if render_times:
        print(
            f"Train page render while runs waited ({len(render_times)} renders): "
            f"p50 {statistics.median(render_times) * 1000:.0f} ms, p95 {percentile(render_times, 0.95) * 1000:.0f} ms"
        )
    per_person = sorted(zip((h.owner.label for h in handles), waits, strict=True), key=lambda pair: pair[0])
    print("each person's wait (s): " + ", ".join(f"{name[-2:]}: {wait:.0f}" for name, wait in per_person))


if __name__ == "__main__":
    main()
