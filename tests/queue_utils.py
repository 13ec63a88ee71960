"""A launcher for tests: records the runs the queue hands out instead of starting worker processes."""

from __future__ import annotations

from pathlib import Path

from mnist_core.runs.files import RunFiles


class RecordingLauncher:
    """Capacity `slots`; `launched` lists the run ids in the order they were handed out."""

    def __init__(self, slots: int = 1):
        self.slots = slots
        self.launched: list[str] = []

    def capacity(self, root: Path) -> int:
        return self.slots

    def launch(self, files: RunFiles) -> None:
        self.launched.append(files.path.name)


def use_launcher(monkeypatch, launcher: RecordingLauncher) -> RecordingLauncher:
    from mnist_core.runs import queue as run_queue

    monkeypatch.setattr(run_queue, "current_launcher", lambda: launcher)
    return launcher


def stop_everything(root: Path, grace_s: float = 10.0) -> None:
    """After a test: cancel the waiting runs, ask the training ones to stop, and kill what is left, so no worker
    outlives the test (the queue's own hand-outs start workers that are not the test's children)."""
    import os
    import signal
    import time

    from mnist_core import runs

    if not Path(root).is_dir():
        return
    for handle in runs.list_runs(root):
        status = handle.status()
        if status.is_waiting:
            handle.files.update_status(state="stopped", message="Stopped at the end of a test.")
        elif status.is_active:
            handle.files.request_stop()
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(h.status().is_active for h in runs.list_runs(root)):
        time.sleep(0.2)
    for handle in runs.list_runs(root):
        pid = handle.files.read_status().pid if handle.files.read_status() else None
        if pid and handle.status().is_active:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
