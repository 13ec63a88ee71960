"""Where a run trains: on the GPU when TensorFlow sees one, in mixed precision where that helps; else the CPU.

TensorFlow places every op on a visible GPU by itself (install `requirements-gpu.txt` for a CUDA build);
what is left to choose is the number format. GPUs with tensor cores (compute capability 7.0 and up:
V100, T4, A100, H100, ...) multiply float16 several times faster than float32, so a run there trains
under Keras' "mixed_float16" policy: float16 math, float32 weights, a float32 output layer
(models.build_model) and loss scaling. Everywhere else, and on every CPU, the policy stays float32.
Nothing here requires a GPU.
"""

from __future__ import annotations

MIXED_PRECISION_FROM = (7, 0)  # compute capability of the first GPUs with tensor cores (Volta)
MIXED, FULL = "mixed_float16", "float32"


def training_policy(gpus: list[dict]) -> str:
    """The Keras dtype policy for GPUs described by `tf.config.experimental.get_device_details` dicts.

    MIXED when there is at least one GPU and every one has tensor cores, else FULL (no GPU, or one too
    old for float16 to pay off).
    """
    capabilities = [tuple(gpu.get("compute_capability") or (0, 0)) for gpu in gpus]
    return MIXED if capabilities and all(c >= MIXED_PRECISION_FROM for c in capabilities) else FULL


def use_accelerator() -> str:
    """Set the dtype policy for this process's training and say where it trains, e.g. 'CPU' or
    'GPU (NVIDIA H200), mixed precision'."""
    import keras
    import tensorflow as tf

    gpus = [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]
    policy = training_policy(gpus)
    keras.mixed_precision.set_global_policy(policy)
    if not gpus:
        return "CPU"
    names = ", ".join(sorted({str(gpu.get("device_name", "GPU")) for gpu in gpus}))
    return f"GPU ({names}){', mixed precision' if policy == MIXED else ''}"
