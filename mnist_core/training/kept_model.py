"""A warm worker's last model, kept for its next run of the same shape, so its traced steps are kept too.

Every new Keras model traces its train, validation and predict steps again on first use (~0.5 s of a `quick`
run's Start -> first batch, more at its end). A warm worker that trains one class's runs in turn mostly trains
the same config with other seeds. Here such a run gets the last run's model, with every variable (weights,
dropout seed states, the optimizer's step count and moments) set to those of the model `build_model` makes
for the new run, so it trains exactly as that fresh model would, on the steps already traced.

Only warm workers keep a model (`keep_models()`); a single-run process builds afresh and keeps nothing.
"""

from __future__ import annotations

import dataclasses

from mnist_core.config import TrainingConfig

_KEEP = False
_kept: tuple[tuple, object] | None = None  # (shape key, compiled keras.Model)


def keep_models() -> None:
    """From now on this process keeps its last model for the next run of the same shape."""
    global _KEEP
    _KEEP = True


def model_for(config: TrainingConfig, steps_per_epoch: int):
    """A compiled model for `config`, trained from the same start as `build_model(config, steps_per_epoch)`'s."""
    global _kept
    import keras

    from mnist_core.models import build_model

    fresh = build_model(config, steps_per_epoch)
    if not _KEEP:
        return fresh
    key = _shape_key(config, steps_per_epoch, keras.mixed_precision.global_policy().name)
    if _kept is not None and _kept[0] == key and _take_state(_kept[1], fresh):
        return _kept[1]
    _kept = (key, fresh)
    return fresh


def _shape_key(config: TrainingConfig, steps_per_epoch: int, policy: str) -> tuple:
    """What the traced steps depend on: every setting but the seed (the learning-rate schedule's length
    included, through the steps per epoch), and the precision policy."""
    return (dataclasses.replace(config, seed=0), steps_per_epoch, policy)


def _take_state(kept, fresh) -> bool:
    """Set every variable of `kept` (and of its optimizer) to `fresh`'s; False (nothing set) if they differ in
    number or shape, as they never should for one key."""
    targets = [*kept.variables, *kept.optimizer.variables]
    sources = [*fresh.variables, *fresh.optimizer.variables]
    if len(targets) != len(sources) or any(
        a.shape != b.shape or a.dtype != b.dtype for a, b in zip(targets, sources, strict=True)
    ):
        return False
    for target, source in zip(targets, sources, strict=True):
        target.assign(source)
    kept.reset_metrics()
    return True
