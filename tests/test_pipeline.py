"""The uint8 input pipeline gives the model exactly what a float32 copy of the set would (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.digits import to_unit_float
from mnist_core.training.pipeline import batches, predict_pixels


def pixels(n: int = 70) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 digits whose first pixel is their index (mod 256), labels index % 10."""
    x = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    x[:, 0, 0] = np.arange(n) % 256
    return x, np.arange(n) % 10


def gathered(ds) -> tuple[np.ndarray, np.ndarray]:
    parts = list(ds.as_numpy_iterator())
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_batches_cast_uint8_to_the_floats_to_unit_float_gives_in_order() -> None:
    x, y = pixels()
    images, labels = gathered(batches(x, y, 16))
    assert images.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, to_unit_float(x))
    np.testing.assert_array_equal(labels, y)


def test_shuffled_batches_keep_each_digit_with_its_label_and_reshuffle_every_pass() -> None:
    x, y = pixels()
    ds = batches(x, y, 16, shuffle_seed=3)
    (first, first_labels), (second, _) = gathered(ds), gathered(ds)
    order = np.rint(first[:, 0, 0] * 255).astype(int)
    assert sorted(order) == list(range(70)) and list(order) != list(range(70))
    np.testing.assert_array_equal(first_labels, order % 10)
    assert not np.array_equal(first, second)


def test_float_digits_pass_through_unchanged() -> None:
    x, y = pixels()
    images, _ = gathered(batches(to_unit_float(x), y, 32))
    np.testing.assert_array_equal(images, to_unit_float(x))


def test_augmented_batches_stay_in_the_unit_range_and_differ_from_the_digits() -> None:
    x, y = pixels(32)
    images, labels = gathered(batches(x, y, 32, augment_seed=1))
    assert images.shape == (32, 28, 28) and 0.0 <= images.min() and images.max() <= 1.0
    assert not np.allclose(images, to_unit_float(x))
    np.testing.assert_array_equal(labels, y)


@pytest.mark.parametrize("n", [0, 5, 257])
def test_predict_pixels_equals_predict_on_a_float_copy(n: int) -> None:
    from mnist_core.models import build_model

    model = build_model(TrainingConfig(hidden_units=(8,)))
    x, _ = pixels(n)
    expected = model.predict(to_unit_float(x), verbose=0) if n else np.zeros((0, 10), np.float32)
    np.testing.assert_allclose(predict_pixels(model, x, batch_size=100), expected, atol=1e-6)


def test_the_pipelines_do_without_tf_data_autotuning() -> None:
    """Its model thread, joined when an iterator was destroyed, held the end of 1 run in 4-5 about 5 s."""
    x, y = np.zeros((20, 28, 28), np.uint8), np.zeros(20, np.int64)
    for ds in (batches(x, y, 8, shuffle_seed=0, augment_seed=0), batches(x, None, 8)):
        assert ds.options().autotune.enabled is False
