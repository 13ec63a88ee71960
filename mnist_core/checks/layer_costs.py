"""Parameters and output shape of one Keras layer, from its serialised config (used by model_budget).

Shapes leave out the batch axis; channels come last unless a layer says `channels_first`. Every
number is read strictly (`whole_number`): a damaged or crafted value is a `ModelLoadError`.
"""

from __future__ import annotations

import math

from mnist_core.checks.model_load_error import ModelLoadError

MAX_RANK = 8  # dimensions a layer's shape may have
_SAME_SHAPE = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Rescaling",
    "ActivityRegularization", "Identity", "Masking",
}  # fmt: skip
MERGE_LAYERS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
_POOLS = {f"{kind}Pooling{n}D": n for kind in ("Max", "Average") for n in (1, 2, 3)}
_GLOBAL_POOLS = {f"Global{kind}Pooling{n}D" for kind in ("Max", "Average") for n in (1, 2, 3)}
_CONVS = {f"Conv{n}D": n for n in (1, 2, 3)} | {f"Conv{n}DTranspose": n for n in (1, 2, 3)}
_CONVS |= {f"{kind}Conv{n}D": n for kind in ("Depthwise", "Separable") for n in (1, 2)}

Shape = tuple[int, ...]


def layer_cost(kind: str, cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    """(parameters, output shape) of one layer called on `inputs` (shapes without the batch axis);
    kinds not in KNOWN_LAYERS as a wide dense layer."""
    shape = inputs[0]
    if kind in _SAME_SHAPE:
        return 0, shape
    if kind in MERGE_LAYERS:
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
    return 4 * (shape_size(shape) + width + 1) * width, (*shape[:-1], max(channels, width))


def _dense(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    shape, units = inputs[0], whole_number(cfg.get("units"), "units")
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
    multiplier = whole_number(cfg.get("depth_multiplier", 1), "depth_multiplier")
    filters = channels * multiplier if kind.startswith("Depthwise") else whole_number(cfg.get("filters"), "filters")
    groups = whole_number(cfg.get("groups", 1), "groups")
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
    return 0, (shape_size(inputs[0]),)


def _reshape(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    target = [d if d == -1 else whole_number(d, "target_shape") for d in _list(cfg.get("target_shape"))]
    known = math.prod(d for d in target if d != -1)
    total = shape_size(inputs[0])
    return 0, checked_shape(tuple(total // max(1, known) if d == -1 else d for d in target))


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
    pad = 2 * max([0, *(whole_number(p, "padding") for p in flat)])  # the widest side on both sides: never too small
    return 0, (*(s + pad for s in shape[:-1]), shape[-1])


def _normalization(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    return 2 * (inputs[0][-1] if inputs[0] else 1) + 1, inputs[0]


def _prelu(cfg: dict, inputs: list[Shape]) -> tuple[int, Shape]:
    return shape_size(inputs[0]), inputs[0]


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
KNOWN_LAYERS = _SAME_SHAPE | MERGE_LAYERS | set(_RULES) | set(_CONVS) | set(_POOLS) | _GLOBAL_POOLS


def checked_shape(shape: Shape) -> Shape:
    if len(shape) > MAX_RANK:
        raise ModelLoadError(
            f"the model has a layer shape with {len(shape)} dimensions; at most {MAX_RANK} make sense."
        )
    return shape


def _tuple(value: object, rank: int, what: str) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value] * rank
    if len(values) != rank:
        raise ModelLoadError(f"the model's {what} {value!r} does not have {rank} values; save the model again.")
    return tuple(whole_number(v, what) for v in values)


def whole_number(value: object, what: str) -> int:
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


def shape_size(shape: Shape) -> int:
    return math.prod(shape)


def _bias(cfg: dict) -> int:
    return int(bool(cfg.get("use_bias", True)))


def _list(value: object) -> list:
    return value if isinstance(value, list) else []
