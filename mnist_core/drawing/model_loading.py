"""A Keras model file loaded the safe way (safe mode, uncompiled, Keras' errors as `ModelLoadError`), and its
input and output checked against what Digit Lab feeds and reads: one 28x28 grey image in, ten scores out."""

from __future__ import annotations

import functools
import gc
from pathlib import Path

from mnist_core.checks.model_files import ModelLoadError
from mnist_core.digits import NUM_CLASSES, accepted_input
from mnist_core.models import SCALING_LAYER


@functools.cache
def freeze_framework_objects() -> None:
    """Hide the ~400,000 objects TensorFlow and Keras create on import from the garbage collector (once).

    They live as long as the process. Streamlit runs two full collections after every script run
    (`runner.postScriptGC`, and `keras.backend.clear_session()`), each ~0.25 s holding the GIL with
    them tracked, which stalled every user's strokes under load; frozen, a collection takes ~5 ms.
    """
    gc.collect()
    gc.freeze()


def load_keras_model(path: Path):
    """Keras' own loader, in safe mode and uncompiled; its errors become `ModelLoadError`."""
    import keras

    freeze_framework_objects()
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # Keras raises ValueError, TypeError, KeyError, OSError... for bad files
        if "lambda" in str(err).lower():
            raise ModelLoadError(
                f"{path.name}: this model contains a Lambda layer (Python code), which Digit "
                "Lab refuses to load for safety. Rebuild it with standard Keras layers."
            ) from err
        raise ModelLoadError(
            f"{path.name}: Keras could not load this model ({type(err).__name__}: {err}). "
            "It may use custom layers or come from an incompatible Keras version; "
            "re-save it with Keras 3 model.save('model.keras')."
        ) from err


def input_shape_of(model, name: str) -> tuple[int, ...]:
    """The per-image input shape (one of `digits.ACCEPTED_INPUTS`) that a batch is reshaped to."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise ModelLoadError(f"{name}: the model has {len(inputs)} inputs; Digit Lab needs one image input.")
    shape = tuple(inputs[0].shape[1:])
    accepted = accepted_input(shape)
    if accepted is not None:
        return accepted
    raise ModelLoadError(
        f"{name}: the model expects input {shape}; Digit Lab needs a 28×28 grey input "
        "(shape (28, 28), (28, 28, 1) or (784,))."
    )


def check_output(model, name: str) -> None:
    outputs = model.outputs or []
    shape = tuple(outputs[0].shape) if len(outputs) == 1 else None
    if shape is None or len(shape) != 2:
        raise ModelLoadError(
            f"{name}: the model outputs {shape or f'{len(outputs)} tensors'}; Digit Lab needs "
            "one vector of 10 class scores per image."
        )
    if shape[1] != NUM_CLASSES:
        raise ModelLoadError(f"{name}: the model outputs {shape[1]} classes; Digit Lab needs 10 (digits 0–9).")


def has_input_scaling(model) -> bool:
    return any(layer.name == SCALING_LAYER for layer in model.layers)
