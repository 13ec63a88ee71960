"""The training queue on a Celery pool of 1, 2 and 4 local workers (issue 16): throughput, queue latency, RSS.

For each worker count: a fresh redis-server and runs folder, N `python -m mnist_core worker` processes
(concurrency 1 each, the embedded digits), then 30 tiny runs (8 hidden units, 1 epoch, 200 digits) from
10 people queued at once through the engine API, as the app does with $DIGIT_LAB_BROKER set. Measured:

- throughput: runs completed per minute, first submit to last end, and its ratio to 1 worker; one run's
  time from its hand-out to its end (p50: fork, TensorFlow import, data, training, evaluation, saving);
- queue latency: submit -> first batch row in the run's metrics.jsonl (polled every 0.25 s), p50/p95/max.
  Most of a tiny run is its fresh child importing TensorFlow, so this is the floor a class waits;
- worker RSS: each worker's parent (Celery, no TensorFlow) and its training child, peak of 1 s samples;
- that every run completed exactly once (one claim, one epoch of metrics).

    nice -n 10 python bench/workers.py [--runs 30] [--people 10] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pool_utils import PoolWorker, RedisServer, worker_env  # noqa: E402

from mnist_core import runs  # noqa: E402
from mnist_core.config import TrainingConfig  # noqa: E402
from mnist_core.people import Person  # noqa: E402
from mnist_core.runs.files import CLAIM  # noqa: E402

TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=200, batch_size=50)
PAGE = 4096


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(") ", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def watch(handles, workers, deadline: float) -> tuple[dict[str, float], dict[str, float]]:
    """Until every run ends: when each run's first batch landed, and the peak RSS of parents and children."""
    first_batch: dict[str, float] = {}
    peak = {"parent": 0.0, "child": 0.0}
    last_rss = 0.0
    while time.time() < deadline:
        now = time.time()
        for h in handles:
            if h.id not in first_batch and h.files.metrics.is_file() and h.files.metrics.stat().st_size:
                first_batch[h.id] = now
        if now - last_rss >= 1.0:
            last_rss = now
            for w in workers:
                peak["parent"] = max(peak["parent"], rss_mb(w.process.pid))
                peak["child"] = max([peak["child"], *(rss_mb(c) for c in children(w.process.pid))])
        if all(h.status().is_finished for h in handles):
            return first_batch, peak
        time.sleep(0.25)
    raise SystemExit(f"runs still unfinished after the deadline: {[h.id for h in handles if h.status().is_active]}")


def measure(count: int, n_runs: int, n_people: int, tmp: Path) -> dict[str, float]:
    redis = RedisServer(tmp).start()
    root = tmp / "runs"
    root.mkdir()
    env = worker_env(redis.url, root)
    os.environ.update(DIGIT_LAB_BROKER=redis.url, DIGIT_LAB_HEARTBEAT_TIMEOUT=env["DIGIT_LAB_HEARTBEAT_TIMEOUT"])
    os.environ["DIGIT_LAB_QUEUE_PER_PERSON"] = str(n_runs)
    workers = [PoolWorker(f"w{i + 1}", env, tmp) for i in range(count)]
    try:
        for worker in workers:
            worker.start()
        people = [Person(f"https://idp|p{i}", f"p{i}@school.example", f"P{i}") for i in range(n_people)]
        start = time.time()
        handles = [runs.start_run(TINY, runs_dir_path=root, owner=people[i % n_people]) for i in range(n_runs)]
        first_batch, peak = watch(handles, workers, start + 120 * n_runs)
        return summarize(handles, first_batch, peak, start, count)
    finally:
        for worker in workers:
            worker.stop()
        redis.kill()


def summarize(handles, first_batch, peak, start: float, count: int) -> dict[str, float]:
    statuses = [h.status() for h in handles]
    once = all(
        s.state == "completed" and (h.path / CLAIM).is_file() and len(h.metrics().epochs) == 1
        for h, s in zip(handles, statuses, strict=True)
    )
    waits = sorted(first_batch[h.id] - s.queued_at for h, s in zip(handles, statuses, strict=True))
    elapsed = max(s.ended_at for s in statuses) - start
    service = statistics.median(s.ended_at - s.handed_at for s in statuses)  # fork, TensorFlow, data, fit, save
    return {
        "workers": count,
        "runs_per_min": len(handles) / elapsed * 60,
        "elapsed_s": elapsed,
        "run_s": service,
        "latency_p50": statistics.median(waits),
        "latency_p95": waits[min(len(waits) - 1, int(0.95 * len(waits)))],
        "latency_max": waits[-1],
        "parent_mb": peak["parent"],
        "child_mb": peak["child"],
        "once": once,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.runs} tiny runs from {args.people} people; load {os.getloadavg()[0]:.1f}")
    print(
        "| workers | runs/min | vs 1 worker | one run p50 | submit → 1st batch p50/p95/max | RSS parent, child | once |"
    )
    print("|---|---|---|---|---|---|---|")
    base = None
    for count in args.workers:
        with tempfile.TemporaryDirectory(prefix="digit-lab-workers-") as tmp:
            row = measure(count, args.runs, args.people, Path(tmp))
        base = base or row["runs_per_min"] / row["workers"]
        print(
            f"| {count} | {row['runs_per_min']:.1f} | {row['runs_per_min'] / base:.2f}x | {row['run_s']:.0f} s | "
            f"{row['latency_p50']:.0f} / {row['latency_p95']:.0f} / {row['latency_max']:.0f} s | "
            f"{row['parent_mb']:.0f} MB, {row['child_mb']:.0f} MB | {'yes' if row['once'] else 'NO'} |",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
