"""WiSE-FT weight mixing: the ends are the two models, the middle is the average; batch norm is re-measured."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.training.weight_mix import interpolate, reestimate_batch_norm

keras = pytest.importorskip("keras")
SMALL = TrainingConfig(architecture="cnn", conv_filters=(4, 8), dense_units=8, batch_norm=True)


def _model(seed: int):
    from dataclasses import replace

    from mnist_core.models import build_model

    return build_model(replace(SMALL, seed=seed))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_the_mix_is_the_weighted_average_of_every_weight(alpha):
    old, tuned, mixed = _model(1), _model(2), _model(3)
    interpolate(old, tuned, alpha, mixed)
    for w0, w1, w in zip(old.get_weights(), tuned.get_weights(), mixed.get_weights(), strict=True):
        np.testing.assert_allclose(w, (1 - alpha) * w0 + alpha * w1, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("alpha", "message"), [(1.5, "between 0"), (-0.1, "between 0")])
def test_a_bad_alpha_is_refused_with_a_message(alpha, message):
    with pytest.raises(ValueError, match=message):
        interpolate(_model(1), _model(2), alpha, _model(3))


def test_models_of_different_shapes_are_refused():
    other = TrainingConfig(architecture="cnn", conv_filters=(4, 16), dense_units=8, batch_norm=True)
    from mnist_core.models import build_model

    with pytest.raises(ValueError, match="one architecture"):
        interpolate(_model(1), build_model(other), 0.5, _model(3))


def test_after_re_measuring_each_batch_norm_layer_normalises_its_own_inputs():
    model = _model(4)
    images = np.random.default_rng(0).random((2_500, 28, 28), dtype=np.float32)  # more than one CHUNK
    assert reestimate_batch_norm(model, images) == 3  # two conv blocks and the dense layer
    h = images
    for layer in model.layers:
        out = keras.ops.convert_to_numpy(layer(h, training=False))
        if isinstance(layer, keras.layers.BatchNormalization):  # fresh gamma 1, beta 0: mean 0, variance v/(v+eps)
            flat, v = out.reshape(-1, out.shape[-1]), keras.ops.convert_to_numpy(layer.moving_variance)
            np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-3)
            np.testing.assert_allclose(flat.var(axis=0), v / (v + layer.epsilon), rtol=5e-3)
        h = out
