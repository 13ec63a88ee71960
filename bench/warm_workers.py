"""Warm workers against one process per run, in one run of this script on the same cores: a class's worth of
`quick` runs (one per person, all queued at once) through the default local launcher, then single runs
started on an idle warm worker.

- throughput: runs per minute, first Start to last end, cold (a fresh process per run: DIGIT_LAB_WORKER_RUNS=1,
  no lingering) and warm (the defaults), and their ratio;
- overhead of a run: its wall time from hand-out to end minus its training time (first batch to last batch),
  as a share of the wall time (p50);
- Start -> first batch row in metrics.jsonl for a run started while a warm worker waits (p50/p95 of REPEATS).

    nice -n 10 python bench/warm_workers.py [--people 30] [--repeats 10] [--data DIR]
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
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT)]

from mnist_core import runs  # noqa: E402
from mnist_core.people import Person  # noqa: E402
from mnist_core.presets import PRESETS  # noqa: E402
from mnist_core.workers import warm  # noqa: E402

QUICK = PRESETS["quick"].config


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def first_batch_s(handle: runs.RunHandle, started: float, timeout_s: float = 300) -> float:
    while not handle.metrics().batches:
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{handle.name}: no batch after {timeout_s} s")
        time.sleep(0.01)
    return time.monotonic() - started


def overhead_share(handle: runs.RunHandle) -> float:
    """(wall - training) / wall, wall from the hand-out to the end, training from the first to the last batch."""
    status, rows = handle.status(), handle.metrics().batches
    wall = status.ended_at - status.handed_at
    training = rows[-1]["t"] - rows[0]["t"] if len(rows) > 1 else 0.0
    return max(0.0, wall - training) / wall


def class_of_runs(root: Path, people: int, data: str | None) -> tuple[float, list[float], set[int]]:
    """Everyone presses Start at once: runs/min, each run's overhead share, the worker pids that trained."""
    start = time.monotonic()
    handles = [
        runs.start_run(QUICK, name=f"p{i}", runs_dir_path=root, data_dir=data, owner=Person(f"idp|p{i}", name=f"P{i}"))
        for i in range(people)
    ]
    statuses = [handle.wait(timeout=3600) for handle in handles]
    took = time.monotonic() - start
    assert all(s.state == "completed" for s in statuses), [s.message for s in statuses if s.state != "completed"]
    return people / took * 60, [overhead_share(h) for h in handles], {s.pid for s in statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--data", default=os.environ.get("MNIST_DATA_DIR"))
    args = parser.parse_args()
    print(f"{args.people} people's quick runs, {runs.queue.training_slots()} training slots, data {args.data}")
    results = {}
    for mode, env in (("cold", {warm.RUNS_ENV: "1", warm.LINGER_ENV: "0"}), ("warm", {warm.LINGER_ENV: "120"})):
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with tempfile.TemporaryDirectory(prefix=f"digit-lab-{mode}-") as folder:
                rate, shares, pids = class_of_runs(Path(folder), args.people, args.data)
                results[mode] = rate
                print(f"{mode}: {rate:.1f} runs/min, overhead p50 {100 * statistics.median(shares):.0f}% of a run's "
                      f"wall time, {len(pids)} worker processes")  # fmt: skip
                if mode == "warm":
                    waits = []
                    for i in range(args.repeats):
                        deadline = time.monotonic() + 60
                        while not list((Path(folder) / warm.FOLDER).glob("*.idle")):
                            assert time.monotonic() < deadline, "no warm worker waiting"
                            time.sleep(0.02)
                        started = time.monotonic()
                        handle = runs.start_run(QUICK, name=f"w{i}", runs_dir_path=folder, data_dir=args.data)
                        waits.append(first_batch_s(handle, started))
                        handle.wait(timeout=600)
                    print(f"warm: Start -> first batch p50 {statistics.median(waits):.2f} s, p95 {p95(waits):.2f} s "
                          f"({args.repeats} runs)")  # fmt: skip
                    for offer in (Path(folder) / warm.FOLDER).glob("*.idle"):  # let the waiting workers go
                        os.kill(int(offer.stem.rsplit("-", 1)[1]), 15)
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    print(f"warm / cold throughput: {results['warm'] / results['cold']:.2f}x")


if __name__ == "__main__":
    main()
