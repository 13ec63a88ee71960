"""Experiments: one or two knobs, a few values each, one run per combination.

The seed notebooks teach by experiment ("batch 10 vs 128 × epochs 2 vs 5", "32, 64, 512 or 784 hidden
units?", "does normalising the inputs help?"). An experiment is no more than runs that carry the same
"experiment" entry in their config.json ({"id", "name", "knobs", "values"}): they queue through the fair
queue like any run (holding one place of their owner's limit), and are stopped, shared and exported
together. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import itertools
import re
import secrets
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core import runs
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.config_text import format_field, parse_field
from mnist_core.people import Person
from mnist_core.storage import atomic_path

if TYPE_CHECKING:
    from mnist_core.lessons.schema import Lesson

KNOBS = (  # what an experiment may vary: the notebooks' lessons first
    "batch_size", "epochs", "hidden_units", "scaling", "learning_rate", "optimizer", "dropout", "batch_norm",
    "augmentation", "activation", "conv_filters", "dense_units", "architecture", "lr_schedule", "train_limit", "seed",
)  # fmt: skip
MAX_KNOBS, MAX_VALUES, MAX_RUNS = 2, 6, 16
_ID_RE = re.compile(r"^[0-9a-f]{12}$")


class ExperimentError(ValueError):
    """An experiment that cannot be planned or found; the message says what to change."""


@dataclass(frozen=True)
class Cell:
    """One combination of an experiment and how its run did."""

    values: dict[str, str]  # knob -> value, as typed
    run: runs.RunHandle
    state: str
    accuracy: float | None  # test accuracy, else the best validation accuracy, else None
    duration_s: float


@dataclass(frozen=True)
class Experiment:
    """The runs of one experiment, in the order of their combinations."""

    id: str
    name: str
    knobs: tuple[str, ...]
    runs: tuple[runs.RunHandle, ...]

    @property
    def is_active(self) -> bool:
        return any(handle.status().is_active for handle in self.runs)

    @property
    def can_manage(self) -> bool:
        return all(handle.can_manage for handle in self.runs)

    @property
    def shared(self) -> bool:
        return all(handle.shared for handle in self.runs)

    def stop(self) -> None:
        """Stop the runs that train and cancel those that wait."""
        for handle in self.runs:
            if handle.status().is_active:
                handle.stop()

    def share(self, shared: bool = True) -> None:
        for handle in self.runs:
            handle.share(shared)

    def cells(self) -> list[Cell]:
        return [_cell(handle) for handle in self.runs]


def plan(base: TrainingConfig, knobs: Mapping[str, Sequence[str]]) -> list[tuple[dict[str, str], TrainingConfig]]:
    """Every combination of the knobs' values (as text, like a shared link's) applied to `base`, checked."""
    if not 1 <= len(knobs) <= MAX_KNOBS:
        raise ExperimentError(f"Pick one or two knobs to vary (you picked {len(knobs)}).")
    values = {}
    for knob, texts in knobs.items():
        if knob not in KNOBS:
            raise ExperimentError(f"{knob!r} cannot be varied in an experiment; choose from {', '.join(KNOBS)}.")
        texts = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
        if not 2 <= len(texts) <= MAX_VALUES:
            raise ExperimentError(f"Give {knob} between 2 and {MAX_VALUES} different values (it has {len(texts)}).")
        values[knob] = texts
    combinations = list(itertools.product(*values.values()))
    if len(combinations) > MAX_RUNS:
        raise ExperimentError(f"That is {len(combinations)} runs; an experiment has at most {MAX_RUNS}.")
    return [_combination(base, dict(zip(values, combo, strict=True))) for combo in combinations]


def _combination(base: TrainingConfig, chosen: dict[str, str]) -> tuple[dict[str, str], TrainingConfig]:
    changes = {}
    for knob, text in chosen.items():
        try:
            changes[knob] = parse_field(knob, text)
        except ValueError as error:
            raise ExperimentError(f"{knob}={text!r}: {error}.") from error
    try:
        return chosen, base.replace(**changes)
    except (ConfigError, ValueError) as error:
        raise ExperimentError(f"{', '.join(f'{k}={v}' for k, v in chosen.items())}: {error}") from error


def start_experiment(
    base: TrainingConfig,
    knobs: Mapping[str, Sequence[str]],
    name: str | None = None,
    runs_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    owner: Person | None = None,
    lesson: Lesson | None = None,
) -> Experiment:
    """Queue one run per combination; they hold one place of the owner's queue limit. All or nothing. Under a
    `lesson`, varying a control it locks or hides is refused before anything is queued."""
    if lesson is not None and (fixed := [knob for knob in knobs if knob in lesson.fixed()]):
        from mnist_core.lessons.locks import LessonLockError

        raise LessonLockError(
            f"The lesson {lesson.title!r} fixes {', '.join(k.replace('_', ' ') for k in fixed)}: an experiment "
            "cannot vary it. Vary one of the settings the lesson shows unlocked."
        )
    combinations = plan(base, knobs)
    name = runs.validate_name(name or " × ".join(knobs).replace("×", "x"))
    entry = {"id": secrets.token_hex(6), "name": name, "knobs": list(knobs)}
    started: list[runs.RunHandle] = []
    try:
        for values, config in combinations:
            label = f"{name} ({', '.join(f'{k}={v}' for k, v in values.items())})"[:60].strip()
            label = re.sub(r"[^\w .,()+=#@-]", "", label) or name
            experiment = {**entry, "values": values}
            started.append(
                runs.start_run(config, label, runs_dir, data_dir, owner=owner, experiment=experiment, lesson=lesson)
            )
    except BaseException:
        for handle in started:  # all or nothing: a half-queued experiment is cancelled and removed
            handle.stop()
            if handle.status().is_finished:
                handle.delete()
        raise
    return Experiment(entry["id"], name, tuple(knobs), tuple(started))


def list_experiments(runs_dir: str | Path | None = None, viewer: Person | None = None) -> list[Experiment]:
    """The experiments `viewer` may see, newest first."""
    groups: dict[str, list[runs.RunHandle]] = {}
    for handle in runs.list_runs(runs_dir, viewer):
        experiment = handle.experiment
        if experiment is not None and _ID_RE.match(experiment["id"]):
            groups.setdefault(experiment["id"], []).append(handle)
    found = []
    for experiment_id, handles in groups.items():
        handles.sort(key=lambda h: h.id)
        entry = handles[0].experiment
        knobs = (
            tuple(str(k) for k in entry.get("knobs", ()) if k in KNOBS) if isinstance(entry.get("knobs"), list) else ()
        )
        found.append(Experiment(experiment_id, str(entry.get("name") or experiment_id)[:60], knobs, tuple(handles)))
    return sorted(found, key=lambda e: e.runs[0].id, reverse=True)


def load_experiment(experiment_id: str, runs_dir: str | Path | None = None, viewer: Person | None = None) -> Experiment:
    for experiment in list_experiments(runs_dir, viewer):
        if experiment.id == experiment_id:
            return experiment
    raise ExperimentError(f"No experiment {experiment_id!r} that you can see.")


def export_experiment_zip(experiment: Experiment, path: str | Path) -> Path:
    """One zip holding each finished run's zip (import them one by one on the Train page)."""
    from mnist_core.runs.sharing import export_run_zip

    with atomic_path(path, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for handle in experiment.runs:
            if handle.status().is_finished:
                inner = Path(tmp).with_name(f".{handle.id}.zip")
                try:
                    export_run_zip(handle, inner)
                    archive.write(inner, f"{handle.id}.zip")
                finally:
                    inner.unlink(missing_ok=True)
    return Path(path)


def _cell(handle: runs.RunHandle) -> Cell:
    status = handle.status()
    entry = handle.experiment or {}
    values = entry.get("values") if isinstance(entry.get("values"), dict) else {}
    accuracy = handle.files.read_evaluation_accuracy()
    if accuracy is None:
        scores = [v for v in handle.metrics().column("epoch", "val_accuracy") if isinstance(v, float)]
        accuracy = max(scores) if scores else None
    values = {str(k)[:40]: format_field(v) if not isinstance(v, str) else v[:40] for k, v in values.items()}
    return Cell(values, handle, status.state, accuracy, status.duration_s)
