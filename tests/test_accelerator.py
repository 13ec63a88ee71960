"""Training on a GPU where there is one, in mixed precision where that helps; nothing needs a GPU (issue 18)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.training.accelerator import FULL, MIXED, training_policy, use_accelerator


@pytest.mark.parametrize(
    ("gpus", "policy"),
    [
        ([], FULL),  # a CPU machine, as CI
        ([{"device_name": "NVIDIA H200", "compute_capability": (9, 0)}], MIXED),
        ([{"device_name": "Tesla T4", "compute_capability": (7, 5)}], MIXED),
        ([{"device_name": "Tesla P100", "compute_capability": (6, 0)}], FULL),  # no tensor cores
        ([{"compute_capability": (8, 0)}, {"compute_capability": (6, 1)}], FULL),  # one old GPU holds back all
        ([{"device_name": "unknown"}], FULL),
    ],
)
def test_mixed_precision_only_on_gpus_with_tensor_cores(gpus: list[dict], policy: str) -> None:
    assert training_policy(gpus) == policy


def test_without_a_gpu_training_stays_float32_on_the_cpu() -> None:
    import keras
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert use_accelerator() == "CPU"
    assert keras.mixed_precision.global_policy().name == FULL


def test_a_model_trained_in_mixed_precision_outputs_float32_and_loads_for_drawing(tmp_path: Path) -> None:
    """What a GPU machine's run saves still answers on a CPU: float32 probabilities that sum to 1."""
    import keras

    from mnist_core.drawing.predict import load_predictor
    from mnist_core.models import build_model

    keras.mixed_precision.set_global_policy(MIXED)
    try:
        model = build_model(TrainingConfig(architecture="cnn", conv_filters=(4,), dense_units=0, batch_norm=True))
        x = np.random.default_rng(0).random((32, 28, 28), dtype=np.float32)
        model.fit(x, np.arange(32) % 10, epochs=1, batch_size=16, verbose=0)
        assert model.layers[-1].compute_dtype == "float32" and model.layers[1].compute_dtype == "float16"
        model.save(tmp_path / "mixed.keras")
    finally:
        keras.mixed_precision.set_global_policy(FULL)
    probabilities = load_predictor(tmp_path / "mixed.keras").probabilities(x[:3])
    assert probabilities.dtype == np.float32 and probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


def requirement_lines(name: str) -> list[str]:
    text = (Path(__file__).resolve().parent.parent / name).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_gpu_requirements_are_the_runtime_ones_with_tensorflow_for_cuda() -> None:
    cpu, gpu = requirement_lines("requirements.txt"), requirement_lines("requirements-gpu.txt")
    assert [line for line in gpu if not line.startswith("tensorflow")] == [
        line for line in cpu if not line.startswith("tensorflow")
    ]
    assert any(line.startswith("tensorflow[and-cuda]") for line in gpu)
    assert not any(line.startswith("tensorflow-cpu") for line in gpu)
