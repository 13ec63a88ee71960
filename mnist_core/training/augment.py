"""Random distortions that make MNIST digits look like the ways people draw.

Each image gets one random affine map (rotation, scale, shear, shift) and a random change of
stroke width (a blend with a 3x3 dilation or erosion). Works on float32 (N, 28, 28) in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random distortions (uniform in +-value unless stated)."""

    rotation_deg: float = 12.0  # rotation in degrees
    scale: tuple[float, float] = (0.85, 1.15)  # zoom factor range
    shear: float = 0.15  # horizontal shear (slant), in x per y
    shift_px: float = 2.5  # translation in pixels
    thicken_p: float = 0.35  # chance of a thicker stroke
    thin_p: float = 0.2  # chance of a thinner stroke


DEFAULT = Augmentation()


def augment_batch(images, aug: Augmentation = DEFAULT, seed=None):
    """float32 (N, 28, 28) -> float32 (N, 28, 28), randomly distorted (tf ops, graph-safe)."""
    import tensorflow as tf

    x = tf.expand_dims(images, -1)
    x = _random_affine(x, aug, seed)
    x = _random_stroke_width(x, aug, seed)
    return tf.clip_by_value(tf.squeeze(x, -1), 0.0, 1.0)


def _random_affine(x, aug: Augmentation, seed):
    """One random affine map per image, about the image centre (bilinear)."""
    import tensorflow as tf

    n = tf.shape(x)[0]
    uniform = lambda low, high, salt: tf.random.uniform([n], low, high, seed=_salted(seed, salt))  # noqa: E731
    angle = uniform(-1.0, 1.0, 1) * (aug.rotation_deg * math.pi / 180)
    zoom = uniform(aug.scale[0], aug.scale[1], 2)
    shear = uniform(-aug.shear, aug.shear, 3)
    dx, dy = uniform(-aug.shift_px, aug.shift_px, 4), uniform(-aug.shift_px, aug.shift_px, 5)
    # The transform maps output (x, y) to input coordinates: the inverse of the forward distortion.
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    a0, a1 = cos, -sin + shear * cos
    b0, b1 = sin, cos + shear * sin
    c = 13.5  # centre of a 28-pixel image in pixel-centre coordinates
    a2 = c - a0 * (c + dx) - a1 * (c + dy)
    b2 = c - b0 * (c + dx) - b1 * (c + dy)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=transforms,
        output_shape=tf.shape(x)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def _random_stroke_width(x, aug: Augmentation, seed):
    """Blend each image with its dilation (thicker) or erosion (thinner) by a random amount."""
    import tensorflow as tf

    n = tf.shape(x)[0]
    pick = tf.random.uniform([n, 1, 1, 1], seed=_salted(seed, 6))
    amount = tf.random.uniform([n, 1, 1, 1], 0.3, 1.0, seed=_salted(seed, 7))
    dilated = tf.nn.max_pool2d(x, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    thick = tf.cast(pick < aug.thicken_p, x.dtype) * amount
    thin = tf.cast((pick >= aug.thicken_p) & (pick < aug.thicken_p + aug.thin_p), x.dtype) * amount * 0.6
    return x + thick * (dilated - x) + thin * (eroded - x)


def _salted(seed, salt: int):
    return None if seed is None else seed * 31 + salt
