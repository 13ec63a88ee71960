"""mnist_core.models: every architecture, scaling and optimizer builds what the config says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.models import SCALING_LAYER, batch_norm_momentum, build_model, build_optimizer, describe, summary_text

keras = pytest.importorskip("keras")

TINY_MLP = TrainingConfig(hidden_units=(16,))
TINY_CNN = TrainingConfig(architecture="cnn", conv_filters=(4, 8), dense_units=16)
PIXELS = np.linspace(0.0, 1.0, 28 * 28, dtype=np.float32).reshape(1, 28, 28)


def layer_kinds(model) -> list[str]:
    return [layer.__class__.__name__ for layer in model.layers]


@pytest.mark.parametrize("base", [TINY_MLP, TINY_CNN], ids=["mlp", "cnn"])
@pytest.mark.parametrize(("scaling", "low", "high"), [("unit", 0, 1), ("centered", -0.5, 0.5), ("raw", 0, 255)])
def test_model_takes_unit_pixels_and_scales_inside(base: TrainingConfig, scaling: str, low: float, high: float):
    model = build_model(base.replace(scaling=scaling))
    assert model.layers[0].name == SCALING_LAYER
    assert tuple(model.input_shape) == (None, 28, 28)
    scaled = np.asarray(model.get_layer(SCALING_LAYER)(PIXELS))
    assert scaled.min() == pytest.approx(low) and scaled.max() == pytest.approx(high)
    probabilities = np.asarray(model(np.concatenate([PIXELS, PIXELS[:, ::-1]])))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_model_is_compiled_for_integer_labels() -> None:
    model = build_model(TINY_MLP)
    logs = model.train_on_batch(np.repeat(PIXELS, 4, axis=0), np.array([0, 3, 7, 9]), return_dict=True)
    assert set(logs) >= {"loss", "accuracy"} and np.isfinite(logs["loss"])


def test_mlp_has_the_configured_dense_layers() -> None:
    model = build_model(TrainingConfig(hidden_units=(32, 16, 8), dropout=0.3, batch_norm=True))
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense == [32, 16, 8, 10]
    assert layer_kinds(model).count("BatchNormalization") == 3 and layer_kinds(model).count("Dropout") == 3


def test_mlp_without_hidden_layers_is_a_linear_classifier() -> None:
    model = build_model(TrainingConfig(hidden_units=()))
    assert [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"] == [10]
    assert model.count_params() == 28 * 28 * 10 + 10


@pytest.mark.parametrize("filters", [(4,), (4, 8), (4, 4, 4, 4)], ids=["1-block", "2-blocks", "4-blocks"])
def test_cnn_has_the_configured_conv_blocks(filters: tuple[int, ...]) -> None:
    model = build_model(TINY_CNN.replace(conv_filters=filters, batch_norm=True))
    convs = [layer.filters for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert convs == list(filters)
    assert layer_kinds(model).count("BatchNormalization") == len(filters) + 1  # + the dense layer's
    assert np.asarray(model(PIXELS)).shape == (1, 10)  # four 2x2 pools must not shrink 28 px to nothing


def test_cnn_without_dense_layer() -> None:
    model = build_model(TINY_CNN.replace(dense_units=0))
    assert [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"] == [10]


@pytest.mark.parametrize(
    ("name", "cls"), [("adam", "Adam"), ("adamw", "AdamW"), ("sgd", "SGD"), ("rmsprop", "RMSprop")]
)
def test_optimizer_by_name_with_its_learning_rate(name: str, cls: str) -> None:
    optimizer = build_optimizer(TrainingConfig(optimizer=name, learning_rate=0.02), steps_per_epoch=10)
    assert optimizer.__class__.__name__ == cls
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


def test_warmup_cosine_rises_to_the_peak_then_decays_to_zero() -> None:
    config = TrainingConfig(learning_rate=0.01, lr_schedule="warmup_cosine", epochs=5)
    schedule = build_optimizer(config, steps_per_epoch=20)._learning_rate
    rates = [float(schedule(step)) for step in range(0, 101)]
    peak = int(np.argmax(rates))
    assert rates[0] < 0.01 / 2 and max(rates) == pytest.approx(0.01)
    assert 0 < peak < 50
    assert rates[-1] == pytest.approx(0.0, abs=1e-6)
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))


@pytest.mark.parametrize(("steps_per_epoch", "epochs"), [(1, 1), (2, 1), (1, 2)])
def test_warmup_cosine_works_for_the_shortest_runs(steps_per_epoch: int, epochs: int) -> None:
    config = TrainingConfig(learning_rate=0.01, lr_schedule="warmup_cosine", epochs=epochs)
    schedule = build_optimizer(config, steps_per_epoch=steps_per_epoch)._learning_rate
    rates = [float(schedule(step)) for step in range(4)]
    assert all(np.isfinite(rates)) and max(rates) <= 0.01 + 1e-9


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    first = build_model(TINY_MLP.replace(seed=3)).get_weights()[0]
    again = build_model(TINY_MLP.replace(seed=3)).get_weights()[0]
    other = build_model(TINY_MLP.replace(seed=4)).get_weights()[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        TINY_MLP.replace(scaling="centered", dropout=0.2, optimizer="adamw", lr_schedule="warmup_cosine"),
        TINY_CNN.replace(batch_norm=True, scaling="raw", optimizer="rmsprop"),
    ],
    ids=["mlp", "cnn"],
)
def test_saved_model_loads_in_safe_mode_and_predicts_the_same(tmp_path: Path, config: TrainingConfig) -> None:
    model = build_model(config, steps_per_epoch=3)
    model.train_on_batch(np.repeat(PIXELS, 4, axis=0), np.array([1, 2, 3, 4]))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(PIXELS)), np.asarray(model(PIXELS)), rtol=1e-5, atol=1e-6)
    assert loaded.get_layer(SCALING_LAYER) is not None


@pytest.mark.parametrize(
    ("total_steps", "momentum"), [(1, 0.0), (10, 0.0), (32, 1 - 10 / 32), (50, 0.8), (100, 0.9), (469, 0.9)]
)
def test_batch_norm_momentum_follows_the_length_of_the_run(total_steps: int, momentum: float) -> None:
    assert batch_norm_momentum(total_steps) == pytest.approx(momentum)


def test_batch_norm_layers_get_the_momentum_of_the_run() -> None:
    def momenta(config: TrainingConfig, steps_per_epoch: int) -> list[float]:
        model = build_model(config, steps_per_epoch=steps_per_epoch)
        return [layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]

    short = TINY_CNN.replace(batch_norm=True, epochs=1)  # two conv blocks and a dense layer: 3 batch norms
    assert momenta(short, 32) == pytest.approx([1 - 10 / 32] * 3)  # one epoch of the embedded sample
    assert momenta(short, 469) == pytest.approx([0.9] * 3)  # one epoch of full MNIST
    assert momenta(short.replace(min_steps=250), 32) == pytest.approx([0.9] * 3)  # min_steps: 8 epochs


def test_describe_and_summary() -> None:
    mlp, cnn = build_model(TINY_MLP), build_model(TINY_CNN)
    assert describe(mlp) == f"MLP, 2 dense layers, {mlp.count_params():,} parameters"
    assert describe(cnn) == f"CNN, 2 conv + 2 dense layers, {cnn.count_params():,} parameters"
    logistic = build_model(TINY_MLP.replace(hidden_units=()))
    assert describe(logistic) == f"MLP, 1 dense layer, {logistic.count_params():,} parameters"
    text = summary_text(cnn)
    assert SCALING_LAYER in text and "Total params" in text


def test_the_first_train_step_is_traced_once_and_makes_nothing() -> None:
    """build_model makes the optimizer's slots and the metrics' variables up front: a train step that made
    them would be traced twice (TensorFlow traces a variable-making function again), ~0.45 s of every run."""
    from mnist_core.training.pipeline import batches

    model = build_model(TrainingConfig(architecture="cnn", conv_filters=(4,), dense_units=0, epochs=1))
    before = len(model.variables) + len(model.optimizer.variables) + len(model.metrics_variables)
    traces = []
    step = model.train_step
    model.train_step = lambda data: traces.append(1) or step(data)
    x, y = np.zeros((40, 28, 28), np.uint8), np.arange(40) % 10
    model.fit(batches(x, y, 16), epochs=2, shuffle=False, verbose=0)
    assert len(traces) == 1
    assert len(model.variables) + len(model.optimizer.variables) + len(model.metrics_variables) == before
