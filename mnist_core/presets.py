"""Named starting points for the Train page and the CLI, each with the number it must reproduce.

The seed presets reproduce the team's seed notebooks; `quick` and `cnn` are tuned for a
2-core CPU. `bench/presets.py` trains them all on full MNIST and prints the table in README.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.config import TrainingConfig


@dataclass(frozen=True)
class Preset:
    """A named TrainingConfig and what it is known to reach."""

    name: str
    description: str  # one line for people
    config: TrainingConfig
    expected_accuracy: float  # the reference number on full MNIST, 0..1
    expected_from: str  # where that number comes from


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "seed000",
            "Dense 512-512 relu, dropout 0.2, adam, early stopping (patience 2), up to 15 epochs",
            TrainingConfig(
                hidden_units=(512, 512),
                dropout=0.2,
                optimizer="adam",
                batch_size=128,
                epochs=15,
                early_stopping_patience=2,
                validation="test",
            ),
            0.980,
            "seed notebook 000 (test set)",
        ),
        Preset(
            "seed001",
            "Dense 32 relu, rmsprop, batch 128, 5 epochs, seed 1337",
            TrainingConfig(hidden_units=(32,), optimizer="rmsprop", batch_size=128, epochs=5, seed=1337),
            0.95,
            "seed notebook 001 (test set)",
        ),
        Preset(
            "seed002",
            "Dense 128 relu, plain SGD (lr 0.01), batch 128, 20 epochs, 75/25 split of train",
            TrainingConfig(
                hidden_units=(128,),
                optimizer="sgd",
                learning_rate=0.01,
                batch_size=128,
                epochs=20,
                validation="split",
                validation_fraction=0.25,
            ),
            0.926,
            "seed notebook 002 (held-out quarter of train)",
        ),
        Preset(
            "seed003",
            "Dense 64-64 relu, adam, batch 32, 5 epochs, inputs in [-0.5, 0.5]",
            TrainingConfig(hidden_units=(64, 64), optimizer="adam", batch_size=32, epochs=5, scaling="centered"),
            0.972,
            "seed notebook 003 (test set)",
        ),
        Preset(
            "quick",
            "Small CNN (16-32 filters), batch norm, warm-up + cosine, one epoch: about 98.7%",
            TrainingConfig(
                architecture="cnn",
                conv_filters=(16, 32),
                dense_units=64,
                batch_norm=True,
                optimizer="adam",
                learning_rate=3e-3,
                lr_schedule="warmup_cosine",
                batch_size=128,
                epochs=1,
            ),
            0.980,
            "target: >=98.0% test in <=15 s on 2 CPU cores",
        ),
        Preset(
            "cnn",
            "CNN 32-64-128 with batch norm, dropout, warm-up + cosine learning rate",
            TrainingConfig(
                architecture="cnn",
                conv_filters=(32, 64, 128),
                dense_units=128,
                batch_norm=True,
                dropout=0.25,
                optimizer="adam",
                learning_rate=3e-3,
                lr_schedule="warmup_cosine",
                batch_size=128,
                epochs=4,
            ),
            0.995,
            "target: >=99.5% test in <=60 s on 2 CPU cores",
        ),
        Preset(
            "starter",
            "The shipped starter model: CNN 32-64-128, dense 256, augmentation for drawn digits",
            TrainingConfig(
                architecture="cnn",
                conv_filters=(32, 64, 128),
                dense_units=256,
                batch_norm=True,
                dropout=0.3,
                optimizer="adam",
                learning_rate=2e-3,
                lr_schedule="warmup_cosine",
                batch_size=128,
                epochs=40,
                augmentation=True,
                validation="split",
                validation_fraction=0.01,
            ),
            0.996,
            "target: >=99.6% test (validation on a held-out 1% of train, never the test set)",
        ),
    )
}


def get_preset(name: str) -> TrainingConfig:
    """The TrainingConfig of preset `name`."""
    try:
        return PRESETS[name].config
    except KeyError:
        raise ValueError(f"Unknown preset {name!r}; choose one of: {', '.join(PRESETS)}.") from None
