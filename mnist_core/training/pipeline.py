"""The input pipeline of training and evaluation: digits stay uint8 until a batch is cast.

A float32 copy of full MNIST is 188 MB (the uint8 pixels are 47 MB), and `model.fit` on NumPy arrays
keeps more copies of it; here each batch is gathered from the uint8 pixels by shuffled indices and
cast to float32 in [0, 1] on its way into the model, so a run holds one uint8 copy of its digits (the
loaded array itself).
"""

from __future__ import annotations

import numpy as np

from mnist_core.digits import NUM_CLASSES

PREFETCH = 2  # batches ready ahead of the model; more only costs memory on a 2-core CPU


def batches(x: np.ndarray, y: np.ndarray | None, batch_size: int, shuffle_seed: int | None = None, augment_seed=None):
    """A tf.data.Dataset of (float32 (B, 28, 28) in [0, 1], labels) batches, or images alone if y is None.

    `x` is uint8 (N, 28, 28) pixels 0..255 (cast per batch) or float (N, 28, 28) in [0, 1] (used as it is).
    `shuffle_seed`: reshuffle the order every pass (None: keep it). `augment_seed`: distort each
    training batch with `augment.augment_batch` (None: no augmentation).
    """
    import tensorflow as tf

    labels = None if y is None else tf.constant(np.asarray(y, dtype=np.int64))
    order = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:  # a buffer of indices (8 bytes a digit), never of images
        order = order.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)

    def gather(index):
        images = unit_float(_take(x, index))
        if augment_seed is not None:
            from mnist_core.training.augment import augment_batch

            images = augment_batch(images, seed=augment_seed)
        return images if labels is None else (images, tf.gather(labels, index))

    ds = order.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(PREFETCH).with_options(_without_autotune())


def _without_autotune():
    """tf.data's autotuning off (the map then runs on as many threads as there are cores, the prefetch is
    PREFETCH): its model thread, joined when an iterator is destroyed, held the end of 1 in 4-5 runs ~5 s
    (after the last batch, before the test evaluation; measured in a warm worker, 20 runs each way). Epochs
    took as long without it (4.5-5.2 s either way for `quick` on full MNIST)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _take(x: np.ndarray, index):
    """The digits at `index` (an int64 tensor), read from the NumPy array itself.

    tf.constant(x) would hold a second copy of the set: 47 MB more for full MNIST (94 MB measured).
    """
    import tensorflow as tf

    images = tf.numpy_function(lambda i: x[i], [index], tf.as_dtype(x.dtype), stateful=False)
    images.set_shape([None, *x.shape[1:]])
    return images


def unit_float(images):
    """A uint8 tensor -> float32 in [0, 1] (as digits.to_unit_float); a float tensor -> float32 unchanged."""
    import tensorflow as tf

    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


def predict_pixels(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(N, 10) float32 probabilities of `model` on uint8 (or [0, 1] float) digits, batch by batch."""
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    return np.asarray(model.predict(batches(x, None, batch_size), verbose=0), dtype=np.float32)
