"""Predictor: agrees with model.predict for every model shape, caches per file, refuses bad and unsafe files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_core.checks import model_files
from mnist_core.drawing import predict
from mnist_core.drawing.predict import MAX_MODEL_BYTES, ModelLoadError, Prediction, load_predictor

keras = pytest.importorskip("keras")
layers = keras.layers


def _mlp(input_shape=(28, 28), scaling=True, softmax=True, classes=10):
    """A tiny dense model; with `scaling`, a Digit Lab model (input_scaling layer, centred inputs)."""
    first = [layers.Rescaling(1.0, -0.5, name="input_scaling")] if scaling else []
    flat = [layers.Flatten()] if len(input_shape) > 1 else []
    return keras.Sequential(
        [
            keras.Input(input_shape),
            *first,
            *flat,
            layers.Dense(16, activation="relu"),
            layers.Dense(classes, activation="softmax" if softmax else None),
        ]
    )


def _cnn(input_shape=(28, 28), scaling=True, softmax=True):
    """A tiny conv model with batch norm and pooling."""
    first = [layers.Rescaling(1.0, name="input_scaling"), layers.Reshape((28, 28, 1))] if scaling else []
    return keras.Sequential(
        [
            keras.Input(input_shape),
            *first,
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax" if softmax else None),
        ]
    )


def _functional_softmax_layer():
    """A functional CNN on (28, 28, 1) ending in a separate Softmax layer."""
    inputs = keras.Input((28, 28, 1))
    x = layers.Flatten()(layers.Conv2D(2, 3)(inputs))
    return keras.Model(inputs, layers.Softmax()(layers.Dense(10)(x)))


def _save(model, path: Path) -> Path:
    model.save(path)
    return path


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


GOOD_MODELS = {  # id: (build, file name, input_scale, (a, b): how the model wants x -> a * x + b, logits?)
    "mlp-digit-lab": (_mlp, "m.keras", None, (1, 0), False),
    "cnn-digit-lab-logits": (lambda: _cnn(softmax=False), "m.keras", None, (1, 0), True),
    "mlp-784-raw-logits": (lambda: _mlp((784,), scaling=False, softmax=False), "m.keras", "raw", (255, 0), True),
    "cnn-28x28x1-centered": (lambda: _cnn((28, 28, 1), scaling=False), "m.keras", "centered", (1, -0.5), False),
    "functional-softmax-layer": (_functional_softmax_layer, "m.keras", None, (1, 0), False),
    "legacy-h5-784": (lambda: _mlp((784,), scaling=False), "m.h5", None, (1, 0), False),
}


@pytest.mark.parametrize("case", GOOD_MODELS.values(), ids=GOOD_MODELS.keys())
def test_probabilities_match_model_predict(tmp_path, case):
    build, name, input_scale, (a, b), logits = case
    model = build()
    predictor = load_predictor(_save(model, tmp_path / name), input_scale=input_scale)
    x = _images(5)
    reference = model.predict((a * x + b).reshape(-1, *model.inputs[0].shape[1:]), verbose=0)
    expected = _softmax(reference) if logits else reference
    batch, single = predictor.probabilities(x), predictor.probabilities(x[0])
    assert batch.dtype == single.dtype == np.float32
    assert batch.shape == (5, 10) and single.shape == (1, 10)
    np.testing.assert_allclose(batch, expected, atol=1e-5)
    np.testing.assert_allclose(single, expected[:1], atol=1e-5)  # the one-image (XLA) path
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, atol=1e-5)
    assert predictor.outputs_logits == logits


def test_predict_and_metadata(tmp_path):
    predictor = load_predictor(_save(_cnn(), tmp_path / "cnn.keras"))
    image = _images(1)[0]
    p = predictor.predict(image)
    probs = predictor.probabilities(image)[0]
    assert isinstance(p, Prediction)
    assert p.digit == int(np.argmax(probs)) and p.confidence == pytest.approx(float(probs.max()))
    assert [d for d, _ in p.top3] == list(np.argsort(probs)[::-1][:3])
    assert p.top3[0] == (p.digit, p.confidence)
    assert predictor.input_scale == "model" and predictor.input_shape == (28, 28)
    assert predictor.description.startswith("CNN, 1 conv + 1 dense layers,")
    assert predictor.num_params == predictor.model.count_params()
    assert "input_scaling" in predictor.summary() and predictor.path == (tmp_path / "cnn.keras").resolve()
    assert predictor.probabilities(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


def test_cache_returns_same_predictor_until_the_file_changes(tmp_path):
    path = _save(_mlp(), tmp_path / "m.keras")
    first = load_predictor(path)
    assert load_predictor(str(path)) is first
    assert load_predictor(tmp_path / "." / "m.keras") is first
    _save(_cnn(), path)  # the file is replaced: new size and mtime
    second = load_predictor(path)
    assert second is not first and second.description.startswith("CNN")
    assert load_predictor(path) is second


def test_starter_model_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setattr(predict, "STARTER_MODEL_PATH", tmp_path / "starter.keras")
    with pytest.raises(ModelLoadError, match="the starter model is missing"):
        load_predictor()
    _save(_mlp(), tmp_path / "starter.keras")
    assert load_predictor().path == tmp_path / "starter.keras"


BAD_INPUTS = [  # (images, message fragment)
    (np.zeros((1, 28, 28), np.uint8), "got dtype uint8 (divide uint8 pixels by 255)"),
    (np.zeros((1, 28, 28), np.int64), "got dtype int64"),
    (np.full((1, 28, 28), np.nan, np.float32), "got NaN or infinite values"),
    (np.full((2, 28, 28), np.inf, np.float32), "got NaN or infinite values"),
    (np.zeros((1, 784), np.float32), "got shape (1, 784)"),
    (np.zeros((28, 28, 1), np.float32), "got shape (28, 28, 1)"),
    (np.full((1, 28, 28), 255.0, np.float32), "got values in [255, 255]"),
]


@pytest.fixture(scope="module")
def small_predictor(tmp_path_factory):
    return load_predictor(_save(_mlp(), tmp_path_factory.mktemp("small") / "m.keras"))


@pytest.mark.parametrize(("images", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_probabilities_rejects_bad_images(small_predictor, images, message):
    with pytest.raises(ValueError, match="expects float32 images of shape \\(N, 28, 28\\) in \\[0, 1\\]") as err:
        small_predictor.probabilities(images)
    assert message in str(err.value)


def test_predict_wants_one_image_and_input_scale_is_checked(small_predictor, tmp_path):
    with pytest.raises(ValueError, match=r"predict\(\) takes one image of shape \(28, 28\); got shape \(2, 28, 28\)"):
        small_predictor.predict(_images(2))
    with pytest.raises(ValueError, match="input_scale must be one of"):
        load_predictor(tmp_path / "m.keras", input_scale="zscore")


def _edit_keras(path: Path, edit) -> Path:
    """Rewrite the config.json inside a .keras zip with `edit(config)`."""
    with zipfile.ZipFile(path) as src:
        files = {name: src.read(name) for name in src.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in files.items():
            dst.writestr(name, data)
    return path


def _flip_bytes(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    return path


def _lambda_model():
    return keras.Sequential([keras.Input((28, 28)), layers.Lambda(lambda x: x * 2), layers.Flatten(), layers.Dense(10)])


def _drop_config(p: Path) -> Path:
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("model.weights.h5", b"")
    return p


def _sparse(p: Path, size: int) -> Path:
    with open(p, "wb") as f:
        f.truncate(size)
    return p


def _use_module_os(config: dict) -> None:
    config["config"]["layers"][1]["module"] = "os"


BAD_FILES = [  # (id, make(tmp_path) -> path, message fragment)
    ("missing", lambda d: d / "nope.keras", "model file not found"),
    ("text", lambda d: _write(d / "t.keras", b"hello"), "is not a Keras .keras file (it is not a zip archive)"),
    ("truncated", lambda d: _truncate(_save(_mlp(), d / "t.keras")), "the zip archive is truncated or damaged"),
    ("corrupt", lambda d: _flip_bytes(_save(_mlp(), d / "c.keras")), "is a damaged .keras file (corrupt zip"),
    ("no-config", lambda d: _drop_config(d / "z.keras"), "is a zip archive but not a Keras model"),
    ("text-h5", lambda d: _write(d / "t.h5", b"hello"), "is not an HDF5 file"),
    ("weights-h5", lambda d: _weights_only(d), "holds only weights, not a model"),
    ("lambda", lambda d: _save(_lambda_model(), d / "l.keras"), "this model contains a Lambda layer (Python code)"),
    ("lambda-h5", lambda d: _save(_lambda_model(), d / "l.h5"), "this model contains a Lambda layer (Python code)"),
    ("custom-module", lambda d: _edit_keras(_save(_mlp(), d / "o.keras"), _use_module_os), "code from module 'os'"),
    (
        "rgb-32",
        lambda d: _save(_cnn((32, 32, 3), scaling=False), d / "rgb.keras"),
        "expects input (32, 32, 3); Digit Lab needs a 28×28 grey input",
    ),
    ("5-classes", lambda d: _save(_mlp(classes=5), d / "five.keras"), "outputs 5 classes; Digit Lab needs 10"),
    ("too-large", lambda d: _sparse(d / "big.keras", MAX_MODEL_BYTES + 1), "Digit Lab loads models up to 50 MB"),
    ("folder", lambda d: _mkdir(d / "dir.keras"), "is a folder; Digit Lab loads a single .keras file"),
    ("pickle", lambda d: _write(d / "m.pkl", b"\x80\x04."), "unsupported file type '.pkl'"),
]


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def _truncate(p: Path) -> Path:
    return _write(p, p.read_bytes()[: p.stat().st_size // 2])


def _mkdir(p: Path) -> Path:
    p.mkdir()
    return p


def _weights_only(d: Path) -> Path:
    _mlp().save_weights(d / "w.weights.h5")
    return d / "w.weights.h5"


@pytest.mark.parametrize(("make", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_files_raise_model_load_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ModelLoadError) as err:
        load_predictor(path)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


def _payload_model(sentinel: Path):
    """A Lambda whose marshalled code creates `sentinel` when Keras builds the layer."""
    payload = eval(f"lambda x: (__import__('pathlib').Path({str(sentinel)!r}).touch(), x)[1]")  # noqa: S307
    return keras.Sequential([keras.Input((28, 28)), layers.Lambda(payload), layers.Flatten(), layers.Dense(10)])


@pytest.mark.parametrize("pre_scan", [True, False], ids=["digit-lab-scan", "keras-safe-mode-alone"])
def test_crafted_file_cannot_run_code(tmp_path, monkeypatch, pre_scan):
    from keras.src.utils import python_utils

    sentinel = tmp_path / "pwned"
    path = _save(_payload_model(sentinel), tmp_path / "evil.keras")
    sentinel.unlink(missing_ok=True)  # building the model ran the payload once; start clean
    with zipfile.ZipFile(path) as z:
        code = json.loads(z.read("config.json"))["config"]["layers"][1]["config"]["function"]["config"]["code"]
    python_utils.func_load(code)(np.zeros(1))  # control: the marshalled code really does create the file
    assert sentinel.exists()
    sentinel.unlink()
    if not pre_scan:  # prove the second line of defence holds on its own
        monkeypatch.setattr(model_files, "_check_config", lambda config, name: None)
    with pytest.raises(ModelLoadError, match="contains a Lambda layer"):
        load_predictor(path)
    assert not sentinel.exists()


def test_import_is_cheap_and_never_loads_streamlit():
    code = "import sys, mnist_core.drawing.predict; print('streamlit' in sys.modules, 'tensorflow' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert out.stdout.split() == ["False", "False"]
