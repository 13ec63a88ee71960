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
import math
from dataclasses import dataclass

from mnist_core.model_files import ModelLoadError

MAX_PARAMETERS = 5_000_000  # 20 MB of float32 weights; a trained model this size with Adam state is ~60 MB
MAX_ACTIVATION_BYTES = 8 * 2**20  # float32 outputs of every layer for one image, summed (conservative for inference)
MAX_JSON_DEPTH = 64  # real Keras configs nest ~20 deep (a model inside a model); deeper is crafted
PREDICTION_CHUNK_BYTES = 256 * 2**20  # activation memory one prediction chunk may take
BYTES_PER_VALUE = 4  # float32
MAX_RANK = 8  # dimensions a layer's shape may have
_IMAGE_SIDE = 28  # what Digit Lab feeds a dimension left open (None)
_MODELS = {"Sequential", "Functional", "Model"}
_SAME_SHAPE = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Rescaling",
    "ActivityRegularization", "Identity", "Masking",
}  # fmt: skip
_MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
_POOLS = {f"{kind}Pooling{n}D": n for kind in ("Max", "Average") for n in (1, 2, 3)}
_GLOBAL_POOLS = {f"Global{kind}Pooling{n}D" for kind in ("Max", "Average") for n in (1, 2, 3)}
_CONVS = {f"Conv{n}D": n for n in (1, 2, 3)} | {f"Conv{n}DTranspose": n for n in (1, 2, 3)}
_CONVS |= {f"{kind}Conv{n}D": n for kind in ("Depthwise", "Separable") for n in (1, 2)}

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ModelSize:
    """What a model needs: weights, and float32 layer outputs for one image (bytes)."""

    parameters: int
    activation_bytes: int
    unknown_layers: tuple[str, ...] = ()  # class names estimated conservatively


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
    if params > MAX_PARAMETERS or size.activation_bytes > MAX_ACTIVATION_BYTES:
        rough = f" (layers {', '.join(size.unknown_layers)} estimated at their largest)" if size.unknown_layers else ""
        raise ModelLoadError(
            f"{name}: the model asks for {params:,} parameters and {mb:,.1f} MB of layer outputs per image{rough}; "
            f"Digit Lab loads models up to {MAX_PARAMETERS:,} parameters and {MAX_ACTIVATION_BYTES / 2**20:.0f} MB "
            "per image. Use fewer or narrower layers (fewer units or filters), or pool earlier."
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
    return ModelSize(walk.params, walk.values * BYTES_PER_VALUE, tuple(sorted(walk.unknown)))


class _Walk:
    """Accumulates parameters and activation values over the layers it visits."""

    def __init__(self) -> None:
        self.params = 0
        self.values = 0
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
            self.values += _size(own)
            if kind == "InputLayer":
                return own
        if kind in _MODELS:
            return self.model(node, inputs[0] if inputs else stated)
        if not inputs:
            inputs = [stated] if stated is not None else []
        if not inputs:
            raise ModelLoadError(f"the model's layer {cfg.get('name', kind)!r} has no input shape; save it again.")
        params, out = _layer(kind, cfg, inputs)
        if stated is not None and stated != inputs[0] and kind not in _MERGES | {"Concatenate"}:
            params = max(params, _layer(kind, cfg, [stated])[0])  # Keras builds a layer from its stated shape
        if kind not in _KNOWN:
            self.unknown.add(kind)
        self.params += params if count_params else 0
        self.values += _size(out)
        return out


def _layer(kind: str, cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    """(parameters, output shape) of one layer; unknown kinds as a wide dense layer."""
    shape = inputs[0]
    if kind in _SAME_SHAPE:
        return 0, shape
    if kind in _MERGES:
        return 0, tuple(max(dims) for dims in zip(*inputs, strict=False)) if inputs else shape
    rule = _RULES.get(kind)
    if rule is not None:
        return rule(cfg, inputs)
    if kind in _CONVS:
        return _conv(kind, cfg, shape)
    if kind in _POOLS:
        return 0, _pool(cfg, shape, _POOLS[kind])
    if kind in _GLOBAL_POOLS:
        return 0, (shape[-1],) if len(shape) > 1 else shape
    width = max([1, *_ints(cfg)])
    channels = shape[-1] if shape else 1
    return 4 * (_size(shape) + width + 1) * width, (*shape[:-1], max(channels, width))


def _dense(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    shape, units = inputs[0], _int(cfg.get("units"), "units")
    return (shape[-1] if shape else 1) * units + units * _bias(cfg), (*shape[:-1], units)


def _conv(kind: str, cfg: dict, shape: Shape) -> tuple[int, Shape]:
    rank = _CONVS[kind]
    first = cfg.get("data_format") == "channels_first"
    shape = (*shape[1:], shape[0]) if first and shape else shape
    if len(shape) != rank + 1:
        raise ModelLoadError(f"{kind} {cfg.get('name', '')!r} is given a {len(shape)}-D input; save the model again.")
    spatial, channels = shape[:-1], shape[-1]
    kernel = _tuple(cfg.get("kernel_size"), rank, "kernel_size")
    window = math.prod(kernel)
    multiplier = _int(cfg.get("depth_multiplier", 1), "depth_multiplier")
    filters = channels * multiplier if kind.startswith("Depthwise") else _int(cfg.get("filters"), "filters")
    groups = _int(cfg.get("groups", 1), "groups")
    if kind.startswith("Depthwise"):
        params = window * channels * multiplier
    elif kind.startswith("Separable"):
        params = window * channels * multiplier + channels * multiplier * filters
    else:
        params = window * (channels // max(1, min(groups, channels))) * filters
    strides = _tuple(cfg.get("strides", 1), rank, "strides")
    dilation = _tuple(cfg.get("dilation_rate", 1), rank, "dilation_rate")
    same = cfg.get("padding") != "valid"
    if kind.endswith("Transpose"):
        out = [s * st + (0 if same else max(k - st, 0)) for s, k, st in zip(spatial, kernel, strides, strict=True)]
    else:
        reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
        out = [_steps(s, r, st, same) for s, r, st in zip(spatial, reach, strides, strict=True)]
    out_shape = (*out, filters)
    return params + filters * _bias(cfg), (out_shape[-1], *out_shape[:-1]) if first else out_shape


def _pool(cfg: dict, shape: Shape, rank: int) -> Shape:
    size = _tuple(cfg.get("pool_size", 2), rank, "pool_size")
    strides = _tuple(cfg.get("strides") or size, rank, "strides")
    same = cfg.get("padding") == "same"
    first = cfg.get("data_format") == "channels_first"
    spatial = shape[1:] if first else shape[:-1]
    out = [_steps(s, k, st, same) for s, k, st in zip(spatial, size, strides, strict=False)]
    return (shape[0], *out) if first else (*out, shape[-1])


def _steps(length: int, window: int, stride: int, same: bool) -> int:
    return max(1, -(-length // stride) if same else (length - window) // stride + 1)


def _flatten(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    return 0, (_size(inputs[0]),)


def _reshape(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    target = [d if d == -1 else _int(d, "target_shape") for d in _list(cfg.get("target_shape"))]
    known = math.prod(d for d in target if d != -1)
    total = _size(inputs[0])
    return 0, _checked(tuple(total // max(1, known) if d == -1 else d for d in target))


def _batch_norm(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    shape, axes = inputs[0], cfg.get("axis", -1)
    features = math.prod(shape[_axis(a, shape)] for a in (axes if isinstance(axes, list) else [axes]))
    return 2 * features + features * (bool(cfg.get("center", True)) + bool(cfg.get("scale", True))), shape


def _layer_norm(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    features = inputs[0][-1] if inputs[0] else 1
    return features * (bool(cfg.get("center", True)) + bool(cfg.get("scale", True))), inputs[0]


def _concatenate(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    first = list(inputs[0])
    index = _axis(cfg.get("axis", -1), inputs[0])
    first[index] = sum(s[index] for s in inputs if len(s) == len(first))
    return 0, tuple(first)


def _axis(axis: object, shape: Shape) -> int:
    """A config's axis (counted with the batch axis, or from the end) -> an index into `shape`."""
    if isinstance(axis, bool) or not isinstance(axis, int) or not -len(shape) <= axis <= len(shape) or axis == 0:
        raise ModelLoadError(f"the model has axis {str(axis)[:40]!r} for a {len(shape)}-D shape; save it again.")
    return axis - 1 if axis > 0 else axis


def _upsampling(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    shape = inputs[0]
    size = _tuple(cfg.get("size", 2), len(shape) - 1, "size")
    return 0, (*(s * k for s, k in zip(shape[:-1], size, strict=True)), shape[-1])


def _zero_padding(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    shape, padding = inputs[0], cfg.get("padding", 1)
    flat = [p for item in _list(padding) or [padding] for p in (_list(item) or [item])]
    pad = 2 * max([0, *(_int(p, "padding") for p in flat)])  # the widest side on both sides: never too small
    return 0, (*(s + pad for s in shape[:-1]), shape[-1])


def _normalization(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    return 2 * (inputs[0][-1] if inputs[0] else 1) + 1, inputs[0]


def _prelu(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    return _size(inputs[0]), inputs[0]


_RULES = {
    "Dense": _dense,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Concatenate": _concatenate,
    "UpSampling1D": _upsampling,
    "UpSampling2D": _upsampling,
    "ZeroPadding1D": _zero_padding,
    "ZeroPadding2D": _zero_padding,
    "Normalization": _normalization,
    "PReLU": _prelu,
}
_KNOWN = _SAME_SHAPE | _MERGES | set(_RULES) | set(_CONVS) | set(_POOLS) | _GLOBAL_POOLS | _MODELS | {"InputLayer"}


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
    return _checked(tuple(_IMAGE_SIDE if d is None else _int(d, "shape") for d in value[1:]))


def _checked(shape: Shape) -> Shape:
    if len(shape) > MAX_RANK:
        raise ModelLoadError(
            f"the model has a layer shape with {len(shape)} dimensions; at most {MAX_RANK} make sense."
        )
    return shape


def _tuple(value: object, rank: int, what: str) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value] * rank
    if len(values) != rank:
        raise ModelLoadError(f"the model's {what} {value!r} does not have {rank} values; save the model again.")
    return tuple(_int(v, what) for v in values)


def _int(value: object, what: str) -> int:
    """A whole number from the config; anything else is a damaged or crafted file."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**40:
        raise ModelLoadError(f"the model's {what} is {str(value)[:40]!r}, not a sensible whole number; save it again.")
    return value


def _ints(cfg: dict) -> list[int]:
    """Every whole number in a layer config's own values (not nested configs), for unknown layers."""
    found = []
    for key, value in cfg.items():
        if key == "seed":
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                found.append(min(abs(item), 2**40))
    return found


def _size(shape: Shape) -> int:
    return math.prod(shape)


def _bias(cfg: dict) -> int:
    return int(bool(cfg.get("use_bias", True)))


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def training_parameters(cfg) -> int:
    """Parameters of the model `models.build_model(cfg)` builds (a TrainingConfig), without building it."""
    params, width, bn = 0, 28 * 28, cfg.batch_norm
    if cfg.architecture == "cnn":
        channels, side = 1, 28
        for filters in cfg.conv_filters:
            params += 9 * channels * filters + (4 * filters if bn else filters)
            channels, side = filters, side // 2 if side >= 6 else side
        width, hidden = side * side * channels, [cfg.dense_units] if cfg.dense_units else []
    else:
        hidden = list(cfg.hidden_units)
    for units in hidden:
        params += width * units + (4 * units if bn else units)
        width = units
    return params + width * 10 + 10
