"""The model budget: sizes estimated from a model's config agree with Keras, and model bombs cost nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mnist_core.checks.model_budget import (
    MAX_ACTIVATION_BYTES,
    MAX_JSON_DEPTH,
    MAX_PARAMETERS,
    ModelSize,
    estimate,
    parse_config,
    prediction_chunk,
    training_parameters,
)
from mnist_core.checks.model_files import ModelLoadError, check_model_file
from mnist_core.config import ConfigError, TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "mnist_core" / "assets" / "starter.keras"


def keras_config(path: Path) -> object:
    return parse_config(zipfile.ZipFile(path).read("config.json"), path.name)


def reference(model) -> ModelSize:
    """Keras' own count, and the summed float32 outputs of every layer (and the input) for one image."""
    return ModelSize(model.count_params(), 4 * _values(model))


def _values(model) -> int:
    """The input and every layer's output, looking inside nested models (they hold their layers' outputs)."""
    import math

    total = math.prod(model.inputs[0].shape[1:])
    for layer in (layer for layer in model.layers if type(layer).__name__ != "InputLayer"):
        if hasattr(layer, "layers"):
            total += _values(layer)
        else:
            outputs = layer.output if isinstance(layer.output, list) else [layer.output]
            total += sum(math.prod(o.shape[1:]) for o in outputs)
    return total


def _models():
    import keras

    L = keras.layers  # noqa: N806
    seq = keras.Sequential
    inp = keras.Input((28, 28, 1))
    a, b = L.Conv2D(6, 3, padding="same")(inp), L.SeparableConv2D(6, 3, padding="same", depth_multiplier=2)(inp)
    merged = L.Concatenate()([L.Add()([a, b]), L.DepthwiseConv2D(3, padding="same")(a)])
    functional = keras.Model(inp, L.Dense(10)(L.GlobalAveragePooling2D()(L.MaxPooling2D()(merged))))
    inner = seq([keras.Input((784,)), L.Dense(32), L.BatchNormalization(), L.Activation("relu")])
    return {
        "mlp": seq(
            [keras.Input((28, 28)), L.Rescaling(1 / 255), L.Flatten(), L.Dense(64), L.Dropout(0.2), L.Dense(10)]
        ),
        "cnn": seq(
            [
                keras.Input((28, 28)),
                L.Reshape((28, 28, 1)),
                L.Conv2D(8, 5, strides=2, padding="valid"),
                L.BatchNormalization(),
                L.AveragePooling2D(2),
                L.Conv2D(16, 3, dilation_rate=2, use_bias=False),
                L.Flatten(),
                L.Dense(10, activation="softmax"),
            ]
        ),
        "conv1d": seq([keras.Input((28, 28)), L.Conv1D(12, 3), L.MaxPooling1D(3), L.GlobalMaxPooling1D(), L.Dense(10)]),
        "functional": functional,
        "nested": seq([keras.Input((28, 28)), L.Flatten(), inner, L.Dense(10)]),
        "upsampled": seq(
            [keras.Input((28, 28, 1)), L.UpSampling2D(2), L.ZeroPadding2D(1), L.Conv2D(4, 3), L.Flatten(), L.Dense(10)]
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mlp", "cnn", "conv1d", "functional", "nested", "upsampled"])
def test_the_estimate_matches_keras_on_real_models(tmp_path: Path, kind: str) -> None:
    model = _models()[kind]
    model.save(tmp_path / "m.keras")
    size = estimate(keras_config(tmp_path / "m.keras"))
    assert size.parameters == model.count_params()
    assert size.activation_bytes == reference(model).activation_bytes
    assert size.unknown_layers == ()


@pytest.mark.slow
def test_a_legacy_h5_model_is_estimated_from_its_model_config(tmp_path: Path) -> None:
    import h5py
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512), keras.layers.Dense(10)])
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as h5:
        assert estimate(parse_config(h5.attrs["model_config"], "m.h5")).parameters == model.count_params()
    check_model_file(tmp_path / "m.h5", (tmp_path / "m.h5").stat().st_size)


def test_the_starter_model_passes_with_a_wide_margin() -> None:
    size = estimate(keras_config(STARTER))
    assert 380_000 < size.parameters < MAX_PARAMETERS / 10
    assert size.activation_bytes < MAX_ACTIVATION_BYTES / 10
    check_model_file(STARTER, STARTER.stat().st_size)


# The widest models TrainingConfig allows; each must fit the budget or be refused by TrainingConfig itself.
EXTREMES = [
    dict(hidden_units=(4096,) * 8),
    dict(hidden_units=(4096,)),
    dict(hidden_units=(1024,) * 4, batch_norm=True),  # the Train form's widest MLP
    dict(architecture="cnn", conv_filters=(512,) * 4, dense_units=4096, batch_norm=True),
    dict(architecture="cnn", conv_filters=(512,) * 3, dense_units=0, batch_norm=True),
    dict(
        architecture="cnn", conv_filters=(256,) * 4, dense_units=512, batch_norm=True, dropout=0.5
    ),  # the form's widest
    dict(architecture="cnn", conv_filters=(1,), dense_units=4096),
]


@pytest.mark.slow
@pytest.mark.parametrize("fields", EXTREMES, ids=lambda f: json.dumps(f)[:60])
def test_training_config_limits_and_the_budget_agree(tmp_path: Path, fields: dict) -> None:
    from mnist_core.models import build_model

    try:
        cfg = TrainingConfig(**fields)
    except ConfigError as err:
        assert re.search(
            r"parameters; Digit Lab trains and loads models up to 5,000,000"
            r"|million multiply-adds per image; Digit Lab trains and runs models up to 60 million",
            str(err),
        )
        return
    model = build_model(cfg)
    assert training_parameters(cfg) == model.count_params()
    model.save(tmp_path / "m.keras")
    size = estimate(keras_config(tmp_path / "m.keras"))
    assert size.parameters == model.count_params() <= MAX_PARAMETERS
    assert size.activation_bytes <= MAX_ACTIVATION_BYTES


def test_over_wide_training_configs_are_refused_with_the_count() -> None:
    with pytest.raises(ConfigError, match=r"this model would have 120,\d{3},\d{3} parameters"):
        TrainingConfig(hidden_units=(4096,) * 8)


# ---------------------------------------------------------------- model bombs
def _layer(kind: str, **config) -> dict:
    return {"module": "keras.layers", "class_name": kind, "config": {"name": kind.lower(), **config}}


def bomb(tmp_path: Path, name: str, layers: list[dict]) -> Path:
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "bomb", "layers": layers}}
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
    return path


INPUT = _layer("InputLayer", batch_shape=[None, 28, 28])
BOMBS = {
    "dense-400000": [INPUT, _layer("Flatten"), _layer("Dense", units=400_000), _layer("Dense", units=10)],
    "conv-1024x6": [INPUT, _layer("Reshape", target_shape=[28, 28, 1])]
    + [_layer("Conv2D", filters=1024, kernel_size=[3, 3], padding="same") for _ in range(6)]
    + [_layer("Flatten"), _layer("Dense", units=10)],
    "conv-1024-activations": [  # few parameters, 9.2 MB of outputs per image
        INPUT,
        _layer("Reshape", target_shape=[28, 28, 1]),
        _layer("Conv2D", filters=1024, kernel_size=[1, 1]),
        _layer("DepthwiseConv2D", kernel_size=[1, 1]),
        _layer("DepthwiseConv2D", kernel_size=[1, 1]),
        _layer("GlobalAveragePooling2D"),
        _layer("Dense", units=10),
    ],
    "upsampling-100x": [INPUT, _layer("Reshape", target_shape=[28, 28, 1]), _layer("UpSampling2D", size=[100, 100])],
    "unknown-layer": [INPUT, _layer("Flatten"), _layer("Embedding", input_dim=10_000_000, output_dim=64)],
    "stated-shape": [
        INPUT,
        _layer("Flatten"),
        {**_layer("Dense", units=4096), "build_config": {"input_shape": [None, 1_000_000]}},
        _layer("Dense", units=10),
    ],
}

PROBE = """
import json, sys, time, resource
from pathlib import Path
def peak_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
from mnist_core.checks.model_files import ModelLoadError, check_model_file
before = peak_mb()
path = Path(sys.argv[1])
start = time.perf_counter()
try:
    check_model_file(path, path.stat().st_size)
    message = None
except ModelLoadError as err:
    message = str(err)
print(json.dumps({"seconds": time.perf_counter() - start, "grew_mb": peak_mb() - before, "message": message}))
"""


def probe(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_model_bombs_are_refused_at_once_and_cost_no_memory(tmp_path: Path, case: str) -> None:
    result = probe(bomb(tmp_path, f"{case}.keras", BOMBS[case]))
    assert result["message"] is not None, "the bomb was accepted"
    assert "Digit Lab loads models up to 5,000,000 parameters and 8 MB per image" in result["message"]
    assert result["seconds"] < 0.5 and result["grew_mb"] < 100, result


SERVER_PROBE = """
import json, sys, time
from pathlib import Path
import keras, tensorflow  # a server process has both loaded, as the Draw page does
from mnist_core.drawing.predict import ModelLoadError, load_predictor
def peak_mb():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) / 1024
before = peak_mb()
start = time.perf_counter()
try:
    load_predictor(Path(sys.argv[1]))
    message = None
except ModelLoadError as err:
    message = str(err)
print(json.dumps({"seconds": time.perf_counter() - start, "grew_mb": peak_mb() - before, "message": message}))
"""


@pytest.mark.slow
def test_load_predictor_in_a_server_like_process_refuses_the_bomb_cheaply(tmp_path: Path) -> None:
    path = bomb(tmp_path, "wide.keras", BOMBS["dense-400000"])
    out = subprocess.run(
        [sys.executable, "-c", SERVER_PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "318,000,010 parameters" in result["message"]
    assert result["seconds"] < 0.5 and result["grew_mb"] < 100, result


def test_the_message_states_the_size_and_what_to_do(tmp_path: Path) -> None:
    path = bomb(tmp_path, "wide.keras", BOMBS["dense-400000"])
    with pytest.raises(ModelLoadError) as err:
        check_model_file(path, path.stat().st_size)
    assert str(err.value) == (
        "wide.keras: the model asks for 318,000,010 parameters and 1.5 MB of layer outputs per image; Digit Lab "
        "loads models up to 5,000,000 parameters and 8 MB per image. Use fewer or narrower layers (fewer units or "
        "filters), or pool earlier."
    )


# ---------------------------------------------------------------- deep or odd JSON
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_deeply_nested_json_is_refused_with_a_message(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "[" * depth + "]" * depth)
    with pytest.raises(ModelLoadError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        check_model_file(path, path.stat().st_size)


@pytest.mark.parametrize(
    "layers",
    [
        [INPUT, _layer("Dense", units="abc")],
        [INPUT, _layer("Dense", units=-3)],
        [INPUT, _layer("Dense", units=10**30)],
        [INPUT, _layer("Conv2D", filters=4, kernel_size=[3, 3])],  # 2-D input to a Conv2D
        [INPUT, _layer("Reshape", target_shape=[1] * 20)],
        [INPUT, _layer("Concatenate", axis=7)],
        [_layer("Dense", units=3)],  # no input shape anywhere
    ],
)
def test_damaged_layer_configs_give_a_model_load_error(tmp_path: Path, layers: list[dict]) -> None:
    path = bomb(tmp_path, "odd.keras", layers)
    with pytest.raises(ModelLoadError, match=r"^odd.keras: "):
        check_model_file(path, path.stat().st_size)


def test_prediction_chunks_shrink_for_heavy_models() -> None:
    assert prediction_chunk(600_000) == 447 and prediction_chunk(1_000) == 512 and prediction_chunk(8 * 2**20) == 32
