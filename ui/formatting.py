"""Text and pictures for the pages: one-line settings, durations, progress, run rows, upscaled digits.

Pure functions (no Streamlit): pages show what these return. NumPy only inside the function that needs it,
so Home (which imports this module) starts fast.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mnist_core.config import TrainingConfig

if TYPE_CHECKING:
    import numpy as np


def describe_config(config: TrainingConfig) -> str:
    """One line, e.g. 'MLP 512-512 · relu · dropout 0.2 · adam 1e-3 · batch 128 · 15 epochs'."""
    if config.architecture == "cnn":
        dense = f" + dense {config.dense_units}" if config.dense_units else ""
        model = f"CNN {'-'.join(map(str, config.conv_filters))}{dense}"
    else:
        model = f"MLP {'-'.join(map(str, config.hidden_units)) or 'linear'}"
    parts = [model, config.activation]
    if config.batch_norm:
        parts.append("batch norm")
    if config.dropout:
        parts.append(f"dropout {config.dropout:g}")
    parts += [
        f"{config.optimizer} {config.learning_rate:g}",
        f"batch {config.batch_size}",
        f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}",
    ]
    if config.min_steps:  # the epochs are a floor then: "at least 1 epoch and 600 steps"
        parts[-1] = f"at least {parts[-1]} and {config.min_steps:,} steps"
    if config.augmentation:
        parts.append("augmented")
    if config.train_limit:
        parts.append(f"{config.train_limit:,} digits")
    return " · ".join(parts)


def plan_text(plan, config: TrainingConfig) -> str:
    """'4,000 training digits in batches of 128: 32 steps an epoch, 8 epochs (256 steps; at least 250).'"""
    text = (
        f"{plan.digits:,} training digits in batches of {config.batch_size}: {plan.steps_per_epoch:,} "
        f"step{'s' if plan.steps_per_epoch != 1 else ''} an epoch, {plan.epochs} epoch{'s' if plan.epochs != 1 else ''}"
    )
    if config.min_steps:
        return text + f" ({plan.steps:,} steps; at least {config.min_steps:,})."
    return text + f" ({plan.steps:,} steps)."


def steps_warning(plan, config: TrainingConfig) -> str | None:
    """When *At least this many steps* asks for more than the most epochs a run may have."""
    from mnist_core.config import MAX_EPOCHS

    if not config.min_steps or plan.steps >= config.min_steps:
        return None
    return (
        f"**Fewer steps than asked.** At least {config.min_steps:,} steps would need "
        f"{-(-config.min_steps // plan.steps_per_epoch):,} epochs of {plan.steps_per_epoch:,} steps; a run trains "
        f"at most {MAX_EPOCHS} epochs, so this one stops after {plan.steps:,} steps. Lower *At least this many "
        "steps* or use smaller batches."
    )


def batch_norm_hint(plan, config: TrainingConfig) -> str | None:
    """A short lesson when a batch-norm run is too short for its test-time statistics to settle."""
    from mnist_core.models import BN_SETTLED_STEPS

    if not config.batch_norm or plan.steps >= BN_SETTLED_STEPS:
        return None
    return (
        f"**Few steps for batch norm.** This run trains for only {plan.steps} steps. Batch norm tests with "
        "averages of the batches it saw while training; after so few steps they lag behind the weights, so "
        "expect test accuracy below the training accuracy on the curve. For at least "
        f"{BN_SETTLED_STEPS} steps, add epochs, use smaller batches or raise *At least this many steps*."
    )


def preset_expectation(preset, data) -> str:
    """What a preset is and the test accuracy to expect on the data this app trains on (a DataInfo)."""
    expected = f"**{preset.name}**: {preset.description}. Expected test accuracy about "
    if data.is_embedded:
        return (
            expected + f"**{preset.expected_embedded:.1%}** on the embedded sample ({data.n_train:,} training "
            f"digits), {preset.expected_accuracy:.1%} on full MNIST "
            f"({preset.expected_from})."
        )
    return expected + f"**{preset.expected_accuracy:.1%}** on full MNIST; source: {preset.expected_from}."


def format_duration(seconds: float | None) -> str:
    """'—', '42 s', '3 min 05 s' or '1 h 02 min'."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def best_accuracy(handle) -> tuple[float | None, str]:
    """A run's headline accuracy and what it is: the test evaluation, else its best validation epoch."""
    tested = handle.files.read_evaluation_accuracy()
    if tested is not None:
        return tested, "test"
    values = [v for v in handle.metrics().column("epoch", "val_accuracy") if v is not None]
    return (max(values), "validation") if values else (None, "")


def has_evaluation(handle) -> bool:
    """Whether a run has a stored test-set evaluation (cheap: reads evaluation.json only)."""
    return handle.files.read_evaluation_accuracy() is not None


def run_rows(handles: Sequence) -> list[dict[str, Any]]:
    """One row per run for the history table (newest first, as given)."""
    rows = []
    for handle in handles:
        status = handle.status()
        accuracy, kind = best_accuracy(handle)
        try:
            summary = describe_config(handle.config)
        except (FileNotFoundError, ValueError, KeyError):
            summary = "(config unreadable)"
        rows.append(
            {
                "id": handle.id,
                "name": handle.name,
                "status": status.state,
                "config": summary,
                "accuracy": accuracy,
                "accuracy_kind": kind,
                "epochs": f"{status.epoch}/{status.epochs}",
                "duration": format_duration(status.duration_s if status.started_at else None),
                "started": _clock(status.created_at),
                "by": _by(handle),
            }
        )
    return rows


def _by(handle) -> str:
    """Whose run, for people who see others' runs (sign-in on): "you", a name, or "shared by" a name."""
    viewer, owner = getattr(handle, "viewer", None), handle.owner
    if viewer is None:
        return ""
    if owner.id == viewer.id:
        return "you" + (" · shared" if handle.shared else "")
    return owner.label if owner.id else "(no owner)"


def _clock(timestamp: float | None) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(timestamp)) if timestamp else "—"


def upscale(image: np.ndarray, size: int = 140) -> np.ndarray:
    """A (h, w) image as a square uint8 image of about `size` px: padded with black to a square, then
    enlarged with nearest-neighbour so pixels stay visible (float input is read as [0, 1])."""
    import numpy as np

    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    h, w = array.shape[:2]
    side = max(h, w, 1)
    square = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = array
    factor = max(1, size // side)
    return np.repeat(np.repeat(square, factor, axis=0), factor, axis=1)


def progress_text(progress) -> str:
    """'Epoch 2/5 · batch 120/469 · 3,450 samples/s · 42 s left' for a runs.Progress."""
    parts = [f"Epoch {progress.epoch}/{progress.epochs}", f"batch {progress.batch}/{progress.batches}"]
    if progress.samples_per_s:
        parts.append(f"{progress.samples_per_s:,.0f} samples/s")
    known = progress.eta_s is not None
    parts.append(f"{format_duration(progress.eta_s)} left" if known else "estimating time left…")
    return " · ".join(parts)


def overlay_series(handles: Sequence) -> dict[str, list[dict]]:
    """Epoch rows of several runs keyed by a unique label (the name, plus the id if names repeat)."""
    names = [h.name for h in handles]
    return {
        (name if names.count(name) == 1 else f"{name} ({h.id[:15]})"): h.metrics().epochs
        for name, h in zip(names, handles, strict=True)
    }


def example_caption(example) -> str:
    """'p(9) 97% · p(4) 2%' for a mistake, 'p(4) 99%' for a correct answer."""
    if example.correct:
        return f"p({example.predicted}) {example.p_predicted:.0%}"
    return f"p({example.predicted}) {example.p_predicted:.0%} · p({example.true}) {example.p_true:.0%}"


def score_label(handle) -> str:
    """A run's name with its headline accuracy, e.g. 'wide MLP (98.1% test)', for pickers; someone else's
    run (a classmate's shared one, or any run a teacher sees) says whose: 'wide MLP (98.1% test) · Ana's'."""
    accuracy, kind = best_accuracy(handle)
    label = f"{handle.name} ({accuracy:.1%} {kind})" if accuracy is not None else handle.name
    owner, viewer = handle.owner, handle.viewer
    if viewer is not None and owner.id is not None and owner.id != viewer.id:
        label += f" · {owner.label}'s"
    return label
