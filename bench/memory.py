"""Peak memory of the real training worker, per preset, on the data the runs find (full MNIST with MNIST_DATA_DIR).

    MNIST_DATA_DIR=../shared/data/mnist nice -n 10 python bench/memory.py [--only quick cnn] [--epochs 1]

Each preset starts as a run through the runs API (`python -m mnist_core.workers.worker RUN_DIR`, the process the
app and `python -m mnist_core train` start); this script samples the worker's /proc files every 0.25 s
until it exits. Columns:
- RSS: the kernel's high-water mark (VmHWM, exact), everything resident, shared libraries included;
- anon: peak resident anonymous memory (smaps_rollup Anonymous, sampled): RSS minus file-backed pages,
  the memory the process itself allocated;
- USS: peak unique set size (Private_Clean + Private_Dirty, sampled): what the machine gets back when
  the worker ends; TensorFlow's shared libraries count here too while no other process maps them.
The worker lowers its own priority to nice 19 (the app's answers come first); on a busy shared machine
that stalls it, so the bench puts it back to the bench's own priority (run the bench under nice):
memory does not depend on priority. The last column splits the anonymous peak by the phase the run's
status.json names: start (importing TensorFlow, loading the digits), fit (training with its validation
and checkpoints), evaluation (the 10,000 test digits and the final status). `--epochs N` caps each
preset's epochs (min_steps off) for a quicker look: the peak comes in the first epoch and the
evaluation, so it rarely changes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.presets import PRESETS  # noqa: E402
from mnist_core.runs import start_run  # noqa: E402

MB = 1024 * 1024


@dataclass(frozen=True)
class Peak:
    """Peak memory of one worker, in bytes."""

    rss: int  # VmHWM
    anon: int  # largest sampled Anonymous
    uss: int  # largest sampled Private_Clean + Private_Dirty
    anon_by_phase: dict[str, int]  # largest sampled Anonymous in each phase() the sampler saw


def run_phase(handle) -> str:
    """start, fit or evaluation: what the run's status says it is doing."""
    try:
        message = handle.status().message
    except Exception:  # status.json being replaced: keep sampling
        return "fit"
    if message.startswith("Training on"):
        return "fit"
    return "evaluation" if message.startswith(("Evaluating", "Completed", "Stopped")) else "start"


def read_kb(path: Path, keys: tuple[str, ...]) -> dict[str, int]:
    """The named 'Key:   123 kB' lines of a /proc file, in bytes (missing keys are absent)."""
    values = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in keys:
            values[key] = int(rest.split()[0]) * 1024
    return values


def sample_until_exit(pid: int, phase=lambda: "run", interval: float = 0.25) -> Peak:
    """Sample /proc/PID until the process is gone; returns the peaks (by `phase()` too)."""
    rss = anon = uss = 0
    by_phase: dict[str, int] = {}
    proc = Path(f"/proc/{pid}")
    while True:
        try:
            rollup = read_kb(proc / "smaps_rollup", ("Anonymous", "Private_Clean", "Private_Dirty"))
            status = read_kb(proc / "status", ("VmHWM",))
        except (OSError, ValueError, IndexError):  # gone (or a zombie with empty files)
            return Peak(rss, anon, uss, by_phase)
        rss = max(rss, status.get("VmHWM", 0))
        anon = max(anon, rollup.get("Anonymous", 0))
        now = phase()
        by_phase[now] = max(by_phase.get(now, 0), rollup.get("Anonymous", 0))
        uss = max(uss, rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0))
        time.sleep(interval)


def wait_for_pid(handle, timeout: float = 30.0) -> int:
    """The worker's pid, once it is recorded."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid = handle.status().pid
        if pid:
            return pid
        time.sleep(0.02)
    raise RuntimeError(f"run {handle.id}: no worker pid after {timeout:.0f} s")


def match_priority(pid: int) -> None:
    """Give the worker this process's nice value, and its session's autogroup (where Linux has one) the
    nice value of this process's autogroup: with autogroups, CPU is shared between sessions first."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    time.sleep(1.0)  # the worker nices itself first thing; come after it
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        group_nice = Path("/proc/self/autogroup").read_text().split()[-1]  # "/autogroup-42 nice 0"
        Path(f"/proc/{pid}/autogroup").write_text(group_nice)
    except OSError as error:  # not allowed here: the run is slower, the peaks the same
        print(f"  (worker stays at its own priority: {error})", file=sys.stderr)


def measure(name: str, runs_dir: str, epochs: int) -> dict:
    config = PRESETS[name].config
    if epochs:
        config = config.replace(epochs=min(epochs, config.epochs), min_steps=0)
    handle = start_run(config, name=f"memory {name}", runs_dir_path=runs_dir)
    pid = wait_for_pid(handle)
    match_priority(pid)
    peak = sample_until_exit(pid, phase=lambda: run_phase(handle))
    status = handle.wait(timeout=300)
    evaluation = handle.evaluation()
    return {
        "preset": name,
        "epochs": len(handle.metrics().epochs),
        "peak": peak,
        "state": status.state,
        "test": evaluation.accuracy if evaluation else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[p for p in PRESETS if p != "starter"])
    parser.add_argument("--epochs", type=int, default=0, help="cap each preset's epochs (0: as the preset says)")
    parser.add_argument("--runs-dir", default=tempfile.mkdtemp(prefix="bench-memory-"))
    args = parser.parse_args()
    print(f"data: {os.environ.get('MNIST_DATA_DIR') or 'default search (embedded sample unless a Keras cache)'}")
    print("| preset | epochs | peak RSS MB | peak anon MB | peak USS MB | test acc | state | anon MB by phase |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name in args.only:
        row = measure(name, args.runs_dir, args.epochs)
        peak = row["peak"]
        phases = ", ".join(f"{phase} {value / MB:.0f}" for phase, value in peak.anon_by_phase.items())
        print(
            f"| {name} | {row['epochs']} | {peak.rss / MB:.0f} | {peak.anon / MB:.0f} | {peak.uss / MB:.0f} "
            f"| {row['test']:.2%} | {row['state']} | {phases} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
