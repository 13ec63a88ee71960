"""Whether a step's gate is passed, decided by the engine from the person's own runs of the lesson and the
digits they kept, never by a page."""

from __future__ import annotations

from collections.abc import Iterable

from mnist_core.lessons.schema import Gate, Lesson
from mnist_core.runs.handle import RunHandle


def gate_text(gate: Gate) -> str:
    """What to reach, in words: 'a run reaches at least 97.0% test accuracy'."""
    if gate.kind == "run_accuracy":
        return f"a run reaches at least {gate.min_accuracy:.1%} test accuracy"
    if gate.kind == "experiment_finished":
        return f"an experiment over {gate.knob.replace('_', ' ')} finishes"
    return f"you keep {gate.count} digits in My digits"


def lesson_runs(runs: Iterable[RunHandle], lesson: Lesson) -> list[RunHandle]:
    """The runs started under `lesson` (config.json's "lesson" entry names it)."""
    return [run for run in runs if run.meta().get("lesson") == lesson.name]


def gate_passed(gate: Gate | None, runs: Iterable[RunHandle], kept_digits: int = 0) -> bool:
    """True for no gate; otherwise whether `runs` (the person's runs of the lesson) and `kept_digits` reach it."""
    if gate is None:
        return True
    if gate.kind == "kept_digits":
        return kept_digits >= gate.count
    finished = [run for run in runs if run.status().state == "completed"]
    if gate.kind == "run_accuracy":
        return any(_accuracy(run) >= gate.min_accuracy for run in finished)
    return _an_experiment_finished(runs, gate.knob)


def best_accuracy(runs: Iterable[RunHandle]) -> float | None:
    """The best test accuracy among the completed runs, None before the first."""
    scores = [_accuracy(run) for run in runs if run.status().state == "completed"]
    scores = [score for score in scores if score >= 0]
    return max(scores) if scores else None


def _accuracy(run: RunHandle) -> float:
    try:
        evaluation = run.evaluation()
    except (OSError, ValueError):  # a damaged evaluation passes no gate
        return -1.0
    return -1.0 if evaluation is None else float(evaluation.accuracy)


def _an_experiment_finished(runs: Iterable[RunHandle], knob: str) -> bool:
    groups: dict[str, list[RunHandle]] = {}
    for run in runs:
        experiment = run.experiment
        if experiment and knob in experiment.get("knobs", ()):
            groups.setdefault(experiment["id"], []).append(run)
    return any(all(run.status().state == "completed" for run in group) for group in groups.values())
