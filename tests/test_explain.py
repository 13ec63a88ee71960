"""See why: saliency checked against finite differences and on a trained CNN, filters, activation maps."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.drawing.explain import activation_maps, first_layer_filters, saliency

CNN = TrainingConfig(
    architecture="cnn",
    conv_filters=(8, 16),
    dense_units=32,
    batch_norm=True,
    epochs=2,
    batch_size=64,
    scaling="centered",
)
MLP = TrainingConfig(hidden_units=(16,), scaling="raw")


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def trained_cnn(mnist):
    """A small CNN trained for 2 epochs on 2,000 digits (~95% on the test set)."""
    from mnist_core.models import build_model

    model = build_model(CNN, steps_per_epoch=32)
    model.fit(mnist.x_train[:2000] / np.float32(255), mnist.y_train[:2000], epochs=2, batch_size=64, verbose=0)
    return model


def smooth_linear_cnn():
    """A Digit Lab-shaped CNN with smooth activations and raw scores (no softmax) for finite differences."""
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Rescaling(1.0, -0.5, name="input_scaling"),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="tanh"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def test_saliency_is_gradient_times_input_by_finite_differences(mnist):
    model = smooth_linear_cnn()
    image = (mnist.x_test[0] / 255).astype(np.float64)
    result = saliency(model, image.astype(np.float32), 7)
    assert result.dtype == np.float32 and result.shape == (28, 28)
    assert np.all(result[image == 0] == 0)
    eps = 1e-2
    for r, c in np.argwhere(image > 0.5)[::25]:
        up, down = image.copy(), image.copy()
        up[r, c] += eps
        down[r, c] -= eps
        scores = np.asarray(model(np.stack([up, down]).astype(np.float32)))[:, 7]
        expected = (scores[0] - scores[1]) / (2 * eps) * image[r, c]
        assert result[r, c] == pytest.approx(expected, rel=0.05, abs=1e-3)


def test_saliency_uses_the_logits_under_a_softmax(trained_cnn, mnist):
    """Peeling the softmax off gives the same answer as a copy of the model that ends in raw scores."""
    import keras

    config = trained_cnn.get_config()
    config["layers"][-1]["config"]["activation"] = "linear"
    raw = keras.Sequential.from_config(config)
    raw.set_weights(trained_cnn.get_weights())
    image = mnist.x_test[1] / np.float32(255)
    np.testing.assert_allclose(saliency(trained_cnn, image, 2), saliency(raw, image, 2), atol=1e-5)


def test_saliency_of_a_trained_model_points_at_the_ink_that_matters(trained_cnn, mnist):
    """Pixel flipping (Samek et al. 2017): erasing the 30 ink pixels with the most credit for the answer
    lowers its probability more than erasing 30 random ink pixels."""
    images = mnist.x_test[:30] / np.float32(255)
    answers = trained_cnn.predict(images, verbose=0).argmax(axis=1)
    rng = np.random.default_rng(0)
    guided, random = [], []
    for image, answer in zip(images, answers, strict=True):
        credit = saliency(trained_cnn, image, int(answer))
        ink = np.flatnonzero(image.ravel() > 0.1)
        assert np.abs(credit.ravel()[ink]).mean() > 10 * np.abs(np.delete(credit.ravel(), ink)).mean()
        top = np.argsort(credit.ravel())[::-1][:30]
        for chosen, out in ((top, guided), (rng.choice(ink, 30, replace=False), random)):
            erased = image.ravel().copy()
            erased[chosen] = 0
            out.append(float(np.asarray(trained_cnn(erased.reshape(1, 28, 28), training=False))[0, answer]))
    guided, random = np.array(guided), np.array(random)
    assert np.mean(guided < random) >= 0.8 and guided.mean() < random.mean() - 0.1, (guided, random)


def test_saliency_through_a_predictor_matches_the_model(trained_cnn, mnist, tmp_path):
    from mnist_core.drawing.predict import load_predictor

    trained_cnn.save(tmp_path / "m.keras")
    predictor = load_predictor(tmp_path / "m.keras")
    image = mnist.x_test[3] / np.float32(255)
    np.testing.assert_allclose(saliency(predictor, image, 0), saliency(trained_cnn, image, 0), atol=1e-5)


def test_first_layer_filters_of_a_cnn_and_an_mlp():
    from mnist_core.models import build_model

    cnn = build_model(CNN)
    filters = first_layer_filters(cnn)
    kernel = cnn.layers[2].kernel.numpy()
    assert filters.shape == (8, 3, 3) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters[5], kernel[:, :, 0, 5])
    mlp = build_model(MLP)
    weights = first_layer_filters(mlp)
    assert weights.shape == (16, 28, 28)
    np.testing.assert_array_equal(weights[3].ravel(), mlp.layers[2].kernel.numpy()[:, 3])


def conv_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'same' 3x3 cross-correlation of (28, 28) with (3, 3, 1, k), by plain loops."""
    padded = np.pad(image, 1)
    out = np.zeros((kernel.shape[-1], 28, 28))
    for k in range(kernel.shape[-1]):
        for r in range(28):
            for c in range(28):
                out[k, r, c] = np.sum(padded[r : r + 3, c : c + 3] * kernel[:, :, 0, k])
    return out


def test_activation_maps_equal_the_convolution_of_the_scaled_image(trained_cnn, mnist):
    image = mnist.x_test[4] / np.float32(255)
    raw = activation_maps(trained_cnn, image, activated=False)
    kernel = trained_cnn.get_layer(index=2).kernel.numpy()
    np.testing.assert_allclose(raw, conv_reference(image - 0.5, kernel), atol=1e-4)  # scaling="centered"
    maps = activation_maps(trained_cnn, image)
    assert maps.shape == (8, 28, 28) and maps.min() >= 0 and not np.allclose(maps, np.maximum(raw, 0))  # BN, relu


BAD_IMAGES = [
    (np.zeros((28, 28, 1), np.float32), 1, ValueError, "one (28, 28) image; got shape (28, 28, 1)"),
    (np.zeros((28, 28), np.uint8), 1, ValueError, "got dtype uint8"),
    (np.full((28, 28), np.nan, np.float32), 1, ValueError, "NaN or infinite"),
    (np.full((28, 28), 255, np.float32), 1, ValueError, "values in [0, 1]; got [255, 255]"),
    (np.zeros((28, 28), np.float32), 10, ValueError, "target must be a digit 0-9; got 10"),
    (np.zeros((28, 28), np.float32), "3", ValueError, "got '3'"),
]


@pytest.mark.parametrize(("image", "target", "error", "message"), BAD_IMAGES, ids=[m for *_, m in BAD_IMAGES])
def test_saliency_rejects_bad_input(trained_cnn, image, target, error, message):
    with pytest.raises(error) as raised:
        saliency(trained_cnn, image, target)
    assert message in str(raised.value)


def unsupported_models():
    import keras

    rgb = keras.Sequential(
        [keras.Input((28, 28, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)],
        name="rgb",
    )
    bn_first = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(10)],
        name="bn_first",
    )
    return rgb, bn_first


def test_unsupported_models_get_clear_errors():
    from mnist_core.models import build_model

    rgb, bn_first = unsupported_models()
    image = np.zeros((28, 28), np.float32)
    with pytest.raises(ValueError, match=r"'rgb' takes input \(28, 28, 3\); explanations need one 28x28 grey"):
        saliency(rgb, image, 1)
    with pytest.raises(ValueError, match="this model's is BatchNormalization"):
        first_layer_filters(bn_first)
    with pytest.raises(ValueError, match="activation_maps needs a CNN; 'digit_lab_mlp' has no Conv2D"):
        activation_maps(build_model(MLP), image)
    with pytest.raises(TypeError, match="Expected a keras.Model or a Predictor .*; got str"):
        first_layer_filters("model.keras")
