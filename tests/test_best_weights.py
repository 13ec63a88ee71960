"""The best-epoch pick: highest val_accuracy, ties to the lower val_loss, never a diverged epoch."""

import math

import keras
import numpy as np

from mnist_core.training.callbacks import BestWeights


def picker(patience: int = 0) -> tuple[BestWeights, list[float]]:
    """A BestWeights on a one-weight model; the returned list records the weight of every save."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    saved: list[float] = []
    best = BestWeights(lambda m: saved.append(float(m.get_weights()[0][0, 0])), patience=patience)
    best.set_model(model)
    return best, saved


def epoch(best: BestWeights, weight: float, **logs: float) -> None:
    best.model.set_weights([np.array([[weight]], dtype="float32")])
    best.on_epoch_end(int(weight), {"loss": 0.5, **logs})


def test_a_tie_on_accuracy_goes_to_the_lower_validation_loss() -> None:
    best, saved = picker()
    epoch(best, 0, val_accuracy=1.0, val_loss=0.30)  # 40/40 right by luck, still unsure
    epoch(best, 1, val_accuracy=1.0, val_loss=0.05)  # the same 40/40, sure of them
    epoch(best, 2, val_accuracy=1.0, val_loss=0.10)
    epoch(best, 3, val_accuracy=0.975, val_loss=0.01)  # lower loss, but fewer right: accuracy comes first
    assert best.best_epoch == 2 and saved == [0.0, 1.0]
    best.model.set_weights([np.array([[9.0]], dtype="float32")])
    assert best.restore() and best.model.get_weights()[0][0, 0] == 1.0


def test_patience_counts_epochs_without_better_accuracy_even_when_a_tie_is_kept() -> None:
    best, _ = picker(patience=2)
    epoch(best, 0, val_accuracy=0.9, val_loss=0.3)
    epoch(best, 1, val_accuracy=0.9, val_loss=0.2)  # kept, but not an improvement
    assert not best.early_stopped
    epoch(best, 2, val_accuracy=0.9, val_loss=0.1)
    assert best.early_stopped and best.best_epoch == 3


def test_a_diverged_or_unscored_epoch_is_never_best() -> None:
    best, saved = picker()
    best.on_epoch_end(0, {"loss": math.nan, "val_accuracy": 0.1, "val_loss": math.nan})
    best.on_epoch_end(1, {"loss": 0.4})  # no validation logged
    assert best.best_epoch == 0 and saved == [] and not best.restore()
    epoch(best, 2, val_accuracy=0.5)  # no val_loss: still kept on accuracy
    assert best.best_epoch == 3
