"""What one refresh of the Class page costs for a class: STUDENTS people in a lesson with RUNS runs each
(finished, each with its evaluation), read as the page reads them (every run the teacher may see, then
`class_rows`); median and p95 over many refreshes.

    python bench/class_view.py [STUDENTS] [RUNS] [REFRESHES]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_core import runs  # noqa: E402
from mnist_core.lessons.class_view import class_rows  # noqa: E402
from mnist_core.lessons.files import load_lesson  # noqa: E402
from mnist_core.lessons.progress import advance, join  # noqa: E402
from mnist_core.people import Person  # noqa: E402
from mnist_core.runs import queue as run_queue  # noqa: E402
from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation  # noqa: E402


class _Recording:
    """A launcher that starts nothing: the runs stay queued until this script marks them done."""

    def capacity(self, root):
        return 10_000

    def launch(self, files):
        return None


def build_class(root: Path, students: int, runs_each: int):
    lesson = load_lesson("seed001")
    rng = np.random.default_rng(0)
    teacher = Person("https://idp|teacher", name="Teacher", is_teacher=True)
    run_queue.current_launcher = lambda: _Recording()
    for i in range(students):
        person = Person(f"https://idp|s{i}", name=f"Student {i:02d}")
        join(root, person, lesson)
        for _ in range(runs_each):
            handle = runs.start_run(lesson.config(), runs_dir_path=root, lesson=lesson, owner=person)
            labels = np.arange(1000) % 10
            probabilities = rng.dirichlet(np.ones(10), 1000).astype(np.float32)
            save_evaluation(handle.path, evaluate_probabilities(probabilities, labels, np.zeros((1000, 28, 28))))
            now = time.time()
            handle.files.update_status(state="completed", started_at=now - 5, ended_at=now, message="Completed.")
        advance(root, person, lesson, [])
    return lesson, teacher


def main() -> None:
    students, runs_each, refreshes = (int(a) for a in (sys.argv[1:] + ["30", "5", "30"][len(sys.argv[1:]) :]))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        lesson, teacher = build_class(root, students, runs_each)
        times = []
        for _ in range(refreshes):
            start = time.perf_counter()
            rows = class_rows(root, lesson, runs.list_runs(root, viewer=teacher), time.time())
            times.append(time.perf_counter() - start)
        assert len(rows) == students
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"{students} students x {runs_each} runs: one refresh {statistics.median(times) * 1000:.0f} ms median, "
              f"{p95 * 1000:.0f} ms p95 ({refreshes} refreshes)")  # fmt: skip


if __name__ == "__main__":
    main()
