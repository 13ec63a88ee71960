"""A launcher for tests: records the runs the queue hands out instead of starting worker processes."""

from __future__ import annotations

from pathlib import Path

from mnist_core.run_files import RunFiles


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
    from mnist_core import run_queue

    monkeypatch.setattr(run_queue, "current_launcher", lambda: launcher)
    return launcher
