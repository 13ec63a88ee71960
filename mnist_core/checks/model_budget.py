"""What a model will cost before Keras builds it: parameters and activation memory, read from its config.

A 25 KB file can ask for `Dense(units=400000)`; Keras would then allocate gigabytes while loading
it. This module walks the layer configs (the `config.json` of a `.keras` zip, or the `model_config`
attribute of a legacy .h5) with plain Python, estimates what the model needs and refuses it with a
`ModelLoadError` when that is over the budget. It never imports Keras or TensorFlow.

Layers it does not know are estimated conservatively (as if they were a wide dense layer), so an
unusual model may be refused that Keras could have run, never the other way round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mnist_core.checks.layer_costs import (
    KNOWN_LAYERS,
    MERGE_LAYERS,
    Shape,
    checked_shape,
    layer_cost,
    shape_size,
    whole_number,
)
from mnist_core.checks.model_load_error import ModelLoadError

MAX_PARAMETERS = 5_000_000  # 20 MB of float32 weights; a trained model this size with Adam state is ~60 MB
MAX_ACTIVATION_BYTES = 8 * 2**20  # float32 outputs of every layer for one image, summed (conservative for inference)
# Compute per image, counting every call of a shared layer (parameters count once, compute does not).
# The starter needs 8.1 M; the widest a learner could train before (conv 256-512) needed 230 M.
MAX_MULTIPLY_ADDS = 60_000_000
MAX_JSON_DEPTH = 64  # real Keras configs nest ~20 deep (a model inside a model); deeper is crafted
PREDICTION_CHUNK_BYTES = 256 * 2**20  # activation memory one prediction chunk may take
BYTES_PER_VALUE = 4  # float32
_IMAGE_SIDE = 28  # what Digit Lab feeds a dimension left open (None)
_MODELS = {"Sequential", "Functional", "Model"}


@dataclass(frozen=True)
class ModelSize:
    """What a model needs: weights, and float32 layer outputs for one image (bytes)."""

    parameters: int
    activation_bytes: int
    unknown_layers: tuple[str, ...] = ()  # class names estimated conservatively
    multiply_adds: int = 0  # per image, every call of every layer


def parse_config(raw: bytes | str, name: str) -> object:
    """JSON text -> value, refusing text nested deeper than `MAX_JSON_DEPTH` with a `ModelLoadError`."""
    try:
        value = json.loads(raw)
    except RecursionError:
        value = None
        depth = MAX_JSON_DEPTH + 1
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{name}: the model's config is not valid JSON ({err}). Save the model again.") from err
    else:
        depth = json_depth(value, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise ModelLoadError(
            f"{name}: the model's config is nested more than {MAX_JSON_DEPTH} levels deep, which no Keras model "
            "needs; refusing it. Save the model with model.save('model.keras')."
        )
    return value


def json_depth(value: object, limit: int) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), counting no further than `limit` + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_budget(config: object, name: str) -> ModelSize:
    """The model's size, or a `ModelLoadError` that states it when it is over the budget."""
    try:
        size = estimate(config)
    except ModelLoadError as err:
        raise ModelLoadError(f"{name}: {err}") from None
    params, mb = size.parameters, size.activation_bytes / 2**20
    rough = f" (layers {', '.join(size.unknown_layers)} estimated at their largest)" if size.unknown_layers else ""
    if params > MAX_PARAMETERS or size.activation_bytes > MAX_ACTIVATION_BYTES:
        raise ModelLoadError(
            f"{name}: the model asks for {params:,} parameters and {mb:,.1f} MB of layer outputs per image{rough}; "
            f"Digit Lab loads models up to {MAX_PARAMETERS:,} parameters and {MAX_ACTIVATION_BYTES / 2**20:.0f} MB "
            "per image. Use fewer or narrower layers (fewer units or filters), or pool earlier."
        )
    if size.multiply_adds > MAX_MULTIPLY_ADDS:
        raise ModelLoadError(
            f"{name}: the model needs {size.multiply_adds / 1e6:,.0f} million multiply-adds per image{rough} "
            "(a layer called several times counts each time); Digit Lab runs models up to "
            f"{MAX_MULTIPLY_ADDS / 1e6:,.0f} million, so that one person's model cannot hold the shared server. "
            "Use fewer or narrower layers, call shared layers fewer times, or pool earlier."
        )
    return size


def prediction_chunk(activation_bytes: int, most: int = 512) -> int:
    """Images per prediction call so that one chunk's activations stay within `PREDICTION_CHUNK_BYTES`."""
    return max(1, min(most, PREDICTION_CHUNK_BYTES // max(1, activation_bytes)))


def estimate(config: object) -> ModelSize:
    """Parameters and activation bytes per image of a serialised Keras model (Sequential or Functional)."""
    walk = _Walk()
    if not isinstance(config, dict):
        raise ModelLoadError("the model's config is not a Keras model description. Save the model again.")
    walk.model(config, None)
    return ModelSize(walk.params, walk.values * BYTES_PER_VALUE, tuple(sorted(walk.unknown)), walk.multiply_adds)


class _Walk:
    """Accumulates parameters and activation values over the layers it visits."""

    def __init__(self) -> None:
        self.params = 0
        self.values = 0
        self.multiply_adds = 0
        self.unknown: set[str] = set()

    def model(self, node: dict, shape: Shape | None) -> Shape | None:
        cfg = _dict(node.get("config"))
        layers = [layer for layer in _list(cfg.get("layers")) if isinstance(layer, dict)]
        if shape is None:
            shape = _shape(cfg.get("build_input_shape")) or _shape(_dict(node.get("build_config")).get("input_shape"))
        if node.get("class_name") == "Sequential":
            for layer in layers:
                shape = self.layer(layer, [shape] if shape is not None else [])
            return shape
        outputs: dict[str, Shape] = {}
        for layer in layers:
            calls = _list(layer.get("inbound_nodes")) or [None]
            for call in calls:
                inputs = _call_inputs(call, outputs)
                if call is None and shape is not None and not inputs:
                    inputs = [shape]
                out = self.layer(layer, inputs, count_params=call is calls[0])
                if out is not None:
                    outputs[str(layer.get("name", _dict(layer.get("config")).get("name")))] = out
        ends = _list(cfg.get("output_layers"))
        while ends and isinstance(ends[0], list):  # [["dense", 0, 0], ...] for several outputs
            ends = ends[0]
        last = ends[0] if ends else None
        return outputs.get(str(last))

    def layer(self, node: dict, inputs: list[Shape], count_params: bool = True) -> Shape | None:
        """Count one layer called on `inputs` (shapes without the batch axis); returns its output shape."""
        kind = str(node.get("class_name"))
        cfg = _dict(node.get("config"))
        stated = _shape(_dict(node.get("build_config")).get("input_shape"))
        own = _shape(cfg.get("batch_shape")) or _shape(cfg.get("batch_input_shape"))
        if own is not None and (kind == "InputLayer" or not inputs):
            inputs = [own]
            self.values += shape_size(own)
            if kind == "InputLayer":
                return own
        if kind in _MODELS:
            return self.model(node, inputs[0] if inputs else stated)
        if not inputs:
            inputs = [stated] if stated is not None else []
        if not inputs:
            raise ModelLoadError(f"the model's layer {cfg.get('name', kind)!r} has no input shape; save it again.")
        params, out = layer_cost(kind, cfg, inputs)
        if stated is not None and stated != inputs[0] and kind not in MERGE_LAYERS | {"Concatenate"}:
            params = max(params, layer_cost(kind, cfg, [stated])[0])  # Keras builds a layer from its stated shape
        if kind not in KNOWN_LAYERS and kind != "InputLayer":
            self.unknown.add(kind)
        self.params += params if count_params else 0
        self.values += shape_size(out)
        self.multiply_adds += params * _positions(out, cfg) + shape_size(out)  # every call computes
        return out


def _positions(out: Shape, cfg: dict) -> int:
    """Where a layer's weights are applied: its output's values per channel (one for a flat output)."""
    channels = out[0] if cfg.get("data_format") == "channels_first" and out else (out[-1] if out else 1)
    return max(1, shape_size(out) // max(1, channels))


def _call_inputs(call: object, outputs: dict[str, Shape]) -> list[Shape]:
    """Input shapes of one call of a functional layer (Keras 3 `__keras_tensor__` or Keras 2 name lists)."""
    found: list[Shape] = []
    stack = [call]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("class_name") == "__keras_tensor__":
                tensor = _dict(node.get("config"))
                history = _list(tensor.get("keras_history"))
                known = outputs.get(str(history[0])) if history else None
                shape = known or _shape(tensor.get("shape"))
                found += [shape] if shape is not None else []
            else:
                stack += list(node.values())
        elif isinstance(node, list):
            if node and isinstance(node[0], str) and node[0] in outputs:
                found.append(outputs[node[0]])
            else:
                stack += node
    return found


def _shape(value: object) -> Shape | None:
    """A batch shape from a config ([null, 28, 28]) -> (28, 28); open dimensions become 28."""
    if not isinstance(value, list) or not value or isinstance(value[0], list):
        return None
    return checked_shape(tuple(_IMAGE_SIDE if d is None else whole_number(d, "shape") for d in value[1:]))


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def training_parameters(cfg) -> int:
    """Parameters of the model `models.build_model(cfg)` builds (a TrainingConfig), without building it."""
    return _training_costs(cfg)[0]


def training_multiply_adds(cfg) -> int:
    """Multiply-adds per image of the weights of the model `models.build_model(cfg)` builds, without building it."""
    return _training_costs(cfg)[1]


def _training_costs(cfg) -> tuple[int, int]:
    params, macs, width, bn = 0, 0, 28 * 28, cfg.batch_norm
    if cfg.architecture == "cnn":
        channels, side = 1, 28
        for filters in cfg.conv_filters:
            params += 9 * channels * filters + (4 * filters if bn else filters)
            macs += 9 * channels * filters * side * side  # a 3x3 "same" conv at every position, before pooling
            channels, side = filters, side // 2 if side >= 6 else side
        width, hidden = side * side * channels, [cfg.dense_units] if cfg.dense_units else []
    else:
        hidden = list(cfg.hidden_units)
    for units in hidden:
        params += width * units + (4 * units if bn else units)
        macs += width * units
        width = units
    return params + width * 10 + 10, macs + width * 10
