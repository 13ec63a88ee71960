"""What a teacher sees of a class in one lesson: a row per student with the step they reached, their runs
(waiting, training, done), best test accuracy, last activity, and whether they look stuck. Built from the
progress files and the run folders alone (status.json and evaluation.json, never a model), so it stays cheap
enough to refresh every few seconds for a class of 30 and more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mnist_core.lessons.gates import lesson_runs
from mnist_core.lessons.progress import Progress, class_progress
from mnist_core.lessons.schema import Lesson
from mnist_core.runs.handle import RunHandle

STUCK_AFTER_S = 10 * 60  # no step and no run for this long, mid-lesson: worth a look


@dataclass(frozen=True)
class StudentRow:
    person_id: str | None
    name: str
    step: int  # 1-based: the step they are on
    steps: int
    done: int  # steps finished
    waiting: int
    training: int
    finished: int  # runs that completed
    failed: int  # runs that failed or were interrupted
    best_accuracy: float | None
    last_activity: float  # unix seconds
    stuck: str | None  # why they look stuck, else None
    run_ids: tuple[str, ...]  # newest first

    @property
    def finished_lesson(self) -> bool:
        return self.done == self.steps


def class_rows(
    runs_root, lesson: Lesson, handles: Iterable[RunHandle], now: float, stuck_after_s: float = STUCK_AFTER_S
) -> list[StudentRow]:
    """A row for each person who opened `lesson` or ran a run under it, most recently active first; `handles`
    are the runs the teacher may see (all of them)."""
    people = {progress.person_id: progress for progress in class_progress(runs_root, lesson)}
    by_person: dict[str | None, list[RunHandle]] = {}
    names: dict[str | None, str] = {}
    for handle in lesson_runs(handles, lesson):
        owner = handle.owner
        by_person.setdefault(owner.id, []).append(handle)
        names.setdefault(owner.id, owner.label or "operator")
    rows = []
    for person_id in people.keys() | by_person.keys():
        progress = people.get(person_id) or Progress(0, (), 0.0, person_id, names.get(person_id, "someone"))
        rows.append(_row(progress, by_person.get(person_id, []), lesson, now, stuck_after_s))
    return sorted(rows, key=lambda row: row.last_activity, reverse=True)


def _row(progress: Progress, handles: list[RunHandle], lesson: Lesson, now: float, stuck_after_s: float) -> StudentRow:
    counts = {"waiting": 0, "training": 0, "finished": 0, "failed": 0}
    times = [progress.updated_at]
    best = None
    latest_state = None
    newest_first = sorted(((h, h.status()) for h in handles), key=lambda pair: pair[1].created_at or 0, reverse=True)
    for handle, status in newest_first:
        kind = {"queued": "waiting", "running": "training", "completed": "finished"}.get(status.state, "failed")
        if status.state == "stopped":
            kind = "finished"
        counts[kind] += 1
        latest_state = latest_state or status.state
        times += [t for t in (status.created_at, status.started_at, status.ended_at) if t]
        if status.state == "completed":
            accuracy = handle.files.read_evaluation_accuracy()
            if accuracy is not None and (best is None or accuracy > best):
                best = accuracy
    last = max(times)
    finished_lesson = len(progress.done) == len(lesson.steps)
    stuck = None
    if not finished_lesson:
        if latest_state in ("failed", "interrupted"):
            stuck = f"their last run {latest_state}"
        elif counts["waiting"] == 0 and counts["training"] == 0 and last and now - last > stuck_after_s:
            stuck = f"no step or run for {int((now - last) // 60)} min"
    return StudentRow(
        person_id=progress.person_id,
        name=progress.person_name,
        step=progress.step + 1,
        steps=len(lesson.steps),
        done=len(progress.done),
        best_accuracy=best,
        last_activity=last,
        stuck=stuck,
        run_ids=tuple(handle.id for handle, _ in newest_first),
        **counts,
    )
