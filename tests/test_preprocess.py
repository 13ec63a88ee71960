"""canvas_to_mnist: every way a canvas can arrive comes out as an MNIST-like digit."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from digit_drawings import BLACK, TRANSPARENT, WHITE, render_strokes, stroke_coverage, template_strokes
from mnist_core.drawing import preprocess
from mnist_core.drawing.preprocess import CENTRE, canvas_steps, canvas_to_mnist


def _two(height: float = 180, centre=(140, 140)) -> list:
    return template_strokes("2", height, centre, jitter=0.03, seed=1)


def _com(image: np.ndarray) -> tuple[float, float]:
    """Centre of mass (row, col) in pixel-index coordinates, as MNIST's own digits are measured."""
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())


def _assert_mnist_like(out: np.ndarray) -> None:
    assert out.dtype == np.float32 and out.shape == (28, 28)
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert max(height, width) == 20 and min(height, width) <= 20
    com_row, com_col = _com(out)
    assert abs(com_row - CENTRE) <= 0.5 and abs(com_col - CENTRE) <= 0.5


def _assert_same_digit(a: np.ndarray, b: np.ndarray) -> None:
    """Equal up to a fraction of a pixel's shift of an edge (resampling and quantised anti-aliasing)."""
    assert np.abs(a - b).mean() < 0.01 and np.abs(a - b).max() < 0.25


# --- colour modes: the same drawing in any colours gives the same digit ------------------------

_COVERAGE = stroke_coverage(_two(), 280, 20)
_GREY_LIGHT = np.round(_COVERAGE * 255).astype(np.uint8)
COLOUR_MODES = {
    "white on black RGBA": render_strokes(_two(), ink=WHITE, paper=BLACK),
    "black on white RGBA": render_strokes(_two(), ink=BLACK, paper=WHITE),
    "white on transparent": render_strokes(_two(), ink=WHITE, paper=TRANSPARENT),
    "black on transparent (RGB 0 everywhere)": render_strokes(_two(), ink=BLACK, paper=TRANSPARENT),
    "red on transparent, paper RGB garbage": render_strokes(_two(), ink=(200, 30, 30, 255), paper=(90, 200, 7, 0)),
    "blue on yellow RGB": render_strokes(_two(), ink=(20, 40, 220, 255), paper=(250, 240, 60, 255))[..., :3],
    "grey 2-D light on dark": _GREY_LIGHT,
    "grey 2-D dark on light": 255 - _GREY_LIGHT,
    "grey 2-D on mid-grey paper": (100 + _COVERAGE * 120).astype(np.uint8),
}


@pytest.mark.parametrize("mode", COLOUR_MODES)
def test_every_colour_mode_gives_the_same_digit(mode):
    reference = canvas_to_mnist(COLOUR_MODES["white on black RGBA"])
    out = canvas_to_mnist(COLOUR_MODES[mode])
    _assert_mnist_like(out)
    _assert_same_digit(out, reference)


def test_ink_mask_is_the_brush_coverage():
    ink = preprocess.ink_mask(COLOUR_MODES["blue on yellow RGB"])
    assert np.abs(ink - _COVERAGE).max() < 2 / 255 + 1e-6


# --- sizes, positions, strokes -------------------------------------------------------------------

SIZES = [  # (canvas, pen-path height, centre, brush)
    (280, 200, (140, 140), 20),  # the Draw page's usual case
    (280, 60, (40, 230), 10),  # small, in a corner
    (280, 240, (150, 130), 40),  # large, thick brush
    (280, 120, (200, 80), 4),  # thin pen
    (100, 70, (50, 50), 6),  # small canvas
    (900, 500, (300, 600), 30),  # large canvas
]


@pytest.mark.parametrize(("size", "height", "centre", "brush"), SIZES)
def test_any_size_and_position_is_fitted_and_centred(size, height, centre, brush):
    canvas = render_strokes(template_strokes("5", height, centre, seed=2), size, brush)
    _assert_mnist_like(canvas_to_mnist(canvas))


def test_the_same_digit_anywhere_gives_the_same_image():
    outs = [canvas_to_mnist(render_strokes(_two(height=150, centre=c), brush=16)) for c in [(90, 90), (180, 170)]]
    _assert_same_digit(outs[0], outs[1])


def test_tall_thin_one_is_not_stretched():
    steps = canvas_steps(render_strokes(template_strokes("1", 200, (140, 140)), brush=18))
    assert steps.box.shape[0] == 20 and steps.box.shape[1] <= 6  # MNIST keeps a "1" narrow


@pytest.mark.parametrize(("brush", "height"), [(3, 240), (8, 250), (36, 120)])
def test_strokes_are_redrawn_with_mnist_width(brush, height):
    steps = canvas_steps(render_strokes(template_strokes("0", height, (140, 140)), brush=brush))
    low, high = preprocess.STROKE_RANGE
    assert not low - 0.5 < steps.stroke_width < high + 0.5  # the drawing was far from MNIST's widths
    assert steps.target_width in (low, high)
    assert preprocess.stroke_width(steps.centred) == pytest.approx(steps.target_width, abs=0.5)
    assert 60 < steps.centred.sum() < 200  # MNIST digits hold about 100 pixels of ink
    assert steps.centred[14, 14] < 0.1  # the hole of the 0 stays open


def test_steps_are_the_one_path():
    canvas = COLOUR_MODES["white on transparent"]
    steps = canvas_steps(canvas)
    assert np.array_equal(steps.centred, canvas_to_mnist(canvas))
    top, left, bottom, right = steps.bbox
    assert steps.ink.shape == (280, 280) and steps.ink.dtype == np.float32
    assert np.array_equal(steps.crop, steps.ink[top:bottom, left:right])
    row, col = steps.offset
    assert np.array_equal(steps.centred[row : row + steps.box.shape[0], col : col + steps.box.shape[1]], steps.box)
    with pytest.raises(dataclasses.FrozenInstanceError):
        steps.centred = None


# --- edge cases ----------------------------------------------------------------------------------

EMPTY = {
    "transparent": np.zeros((280, 280, 4), np.uint8),
    "white RGBA": np.full((280, 280, 4), 255, np.uint8),
    "one colour RGB": np.full((50, 70, 3), (30, 120, 200), np.uint8),
    "black grey": np.zeros((28, 28), np.uint8),
    "faint noise": np.random.default_rng(0).integers(100, 110, (64, 64), dtype=np.uint8),
    "1x1": np.full((1, 1, 4), 255, np.uint8),
}


@pytest.mark.parametrize("name", EMPTY)
def test_a_canvas_without_ink_gives_none(name):
    assert canvas_to_mnist(EMPTY[name]) is None
    assert canvas_steps(EMPTY[name]) is None


@pytest.mark.parametrize("shape", [(280, 280), (1, 5), (3, 3, 4), (2, 2, 3)])
def test_a_single_dot_or_tiny_image_never_raises(shape):
    image = np.zeros(shape, np.uint8)
    image[(0,) * len(shape[:2])] = 255
    out = canvas_to_mnist(image)
    assert out is None or (out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1)


def test_huge_canvas_works():
    small = stroke_coverage(template_strokes("3", 200, (140, 140), seed=3), 280, 20)
    huge = np.asarray(Image.fromarray(small).resize((4000, 4000), Image.Resampling.BILINEAR))
    out = canvas_to_mnist(np.round(huge * 255).astype(np.uint8))
    _assert_mnist_like(out)
    _assert_same_digit(out, canvas_to_mnist(np.round(small * 255).astype(np.uint8)))


_EXPECTED = "expects a non-empty uint8 image of shape (H, W), (H, W, 3) or (H, W, 4); got"
BAD_INPUTS = [
    (np.zeros((10,)), "got float64 with shape (10,)"),
    (np.zeros((28, 28), np.float32), "got float32 with shape (28, 28)"),
    (np.full((28, 28), np.nan), "got float64 with shape (28, 28)"),
    (np.zeros((28, 28), np.int64), "got int64 with shape (28, 28)"),
    (np.zeros((28, 28, 2), np.uint8), "got uint8 with shape (28, 28, 2)"),
    (np.zeros((28, 28, 5), np.uint8), "got uint8 with shape (28, 28, 5)"),
    (np.zeros((1, 28, 28, 4), np.uint8), "got uint8 with shape (1, 28, 28, 4)"),
    (np.zeros((0, 28, 4), np.uint8), "got uint8 with shape (0, 28, 4)"),
    (np.zeros((28, 0), np.uint8), "got uint8 with shape (28, 0)"),
    (None, "got object with shape ()"),
    ([[0, 255]], "got int64 with shape (1, 2)"),
]


@pytest.mark.parametrize(("image", "message"), BAD_INPUTS)
def test_bad_input_says_what_was_expected(image, message):
    with pytest.raises(ValueError, match="^canvas_to_mnist " + re.escape(_EXPECTED)) as error:
        canvas_to_mnist(image)
    assert str(error.value).endswith(message)
    with pytest.raises(ValueError, match=r"^canvas_steps expects"):
        canvas_steps(image)


# --- conventions, speed, boundaries --------------------------------------------------------------


def test_centre_matches_mnist_convention():
    """MNIST puts the centre of mass at pixel index 14 (not 13.5): measured on its test digits."""
    from mnist_core.data import load_mnist

    x = load_mnist().x_test[:1000].astype(np.float64)
    rows, cols = np.indices((28, 28))
    mass = x.sum(axis=(1, 2))
    com = ((x * rows).sum(axis=(1, 2)) / mass).mean(), ((x * cols).sum(axis=(1, 2)) / mass).mean()
    assert com == pytest.approx((CENTRE, CENTRE), abs=0.1)


def test_fast_enough_for_every_stroke():
    canvas = COLOUR_MODES["white on transparent"]
    canvas_to_mnist(canvas)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        canvas_to_mnist(canvas)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.003  # about 1 ms on an idle core; the fastest call ignores a busy machine


def test_imports_neither_streamlit_nor_tensorflow():
    code = (
        "import sys, mnist_core.drawing.preprocess\n"
        "print(sorted({'streamlit', 'tensorflow', 'keras'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- reference: MNIST digits painted large on a canvas keep their accuracy -----------------------


def _paint(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (28, 28) -> a canvas with the digit upscaled (bilinear) somewhere on it, in some colours."""
    side = int(rng.integers(200, 700))
    scale = int(rng.integers(4 * 28, side + 1))
    big = np.asarray(Image.fromarray(digit).resize((scale, scale), Image.Resampling.BILINEAR))
    canvas = np.zeros((side, side), np.uint8)
    top, left = (int(v) for v in rng.integers(0, side - scale + 1, 2))
    canvas[top : top + scale, left : left + scale] = big
    mode = rng.integers(3)
    if mode == 0:
        return canvas  # grey, light on dark
    if mode == 1:
        return np.repeat(255 - canvas[..., None], 3, axis=2)  # RGB, dark on light
    return np.dstack([np.full((side, side, 3), (30, 60, 200), np.uint8), canvas])  # ink on transparent


def _reference_predictor(data):
    """The starter model if it is there; otherwise a small CNN trained here on 10,000 digits."""
    from mnist_core.drawing import predict

    if predict.STARTER_MODEL_PATH.exists():
        return predict.load_predictor().probabilities
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28)), layers.Reshape((28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data.x_train[:10_000] / np.float32(255), data.y_train[:10_000], epochs=2, batch_size=64, verbose=0)
    return lambda x: model.predict(x, batch_size=500, verbose=0)


@pytest.mark.slow
def test_mnist_digits_painted_on_a_canvas_keep_their_accuracy():
    from mnist_core.data import load_mnist

    data = load_mnist()
    probabilities = _reference_predictor(data)
    x, y = data.x_test[:1000], data.y_test[:1000]
    rng = np.random.default_rng(0)
    painted = np.stack([canvas_to_mnist(_paint(digit, rng)) for digit in x])
    original = (probabilities(x / np.float32(255)).argmax(axis=1) == y).mean()
    through_canvas = (probabilities(painted).argmax(axis=1) == y).mean()
    assert through_canvas >= original - 0.005, (original, through_canvas)


# --- stray specks: an accidental dot far from the digit is left out, the digit's own parts never ---


def _digit_with(extra_strokes: list, name: str = "2", brush: float = 20) -> tuple[np.ndarray, np.ndarray]:
    """(without, with): the template drawn alone, and with `extra_strokes` added, white on transparent."""
    digit = template_strokes(name, 140, (145, 145), seed=2)  # dots below are >15% of its size away
    return render_strokes(digit, brush=brush), render_strokes(digit + extra_strokes, brush=brush)


@pytest.mark.parametrize("dot", [(15, 15), (265, 20), (20, 265), (265, 265), (140, 10)])
@pytest.mark.parametrize("brush", [12, 20, 32])
def test_a_stray_dot_far_from_the_digit_is_left_out(dot, brush):
    alone, dotted = _digit_with([[dot]], brush=brush)
    _assert_same_digit(canvas_to_mnist(dotted), canvas_to_mnist(alone))
    steps = canvas_steps(dotted)
    assert steps.bbox == canvas_steps(alone).bbox
    assert steps.ink[dot[1], dot[0]] > 0.9  # "what the model sees" still shows the dot on the canvas
    assert steps.specks_left_out and not canvas_steps(alone).specks_left_out


def test_several_specks_are_all_left_out():
    alone, dotted = _digit_with([[(15, 15)], [(265, 265)], [(20, 260), (30, 262)]])
    _assert_same_digit(canvas_to_mnist(dotted), canvas_to_mnist(alone))


def test_a_huge_canvas_with_a_stray_dot():
    alone, dotted = _digit_with([[(262, 262)]])
    big = [np.asarray(Image.fromarray(c).resize((3000, 3000), Image.Resampling.BILINEAR)) for c in (alone, dotted)]
    _assert_same_digit(canvas_to_mnist(big[1]), canvas_to_mnist(big[0]))


def _height_and_width(out: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.2), np.flatnonzero(out.max(axis=0) > 0.2)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_a_detached_part_of_the_digit_is_kept():
    # A "5" whose cap was drawn last and does not touch the body, and a "4" whose stem misses the bar
    five = [[(95, 60), (200, 60)], [(100, 80), (95, 150), (150, 140), (200, 175), (195, 225), (140, 245), (90, 230)]]
    four = [[(160, 40), (80, 170), (210, 170)], [(190, 120), (190, 160)], [(190, 185), (190, 260)]]
    for strokes in (five, four):
        steps = canvas_steps(render_strokes(strokes, brush=16))
        lowest_y, highest_y = max(y for s in strokes for _, y in s), min(y for s in strokes for _, y in s)
        assert steps.bbox[0] <= highest_y - 6 and steps.bbox[2] >= lowest_y + 6  # every stroke is in the box
        assert _height_and_width(steps.centred)[0] == 20


def test_a_far_detached_stroke_is_kept_though_small():
    # a 5's cap drawn well above its body (a gap of a quarter of its height): a line, not a tap
    body = [(100, 110), (95, 150), (150, 140), (200, 175), (195, 225), (140, 245), (90, 230)]
    steps = canvas_steps(render_strokes([[(110, 50), (155, 50)], body], brush=10))
    assert steps.bbox[0] <= 50 - 5 and not steps.specks_left_out


def test_two_large_pieces_are_both_kept():
    canvas = render_strokes([[(40, 60), (40, 220)], [(240, 60), (240, 220)]], brush=20)  # far apart, equal size
    left, right = canvas_steps(canvas).bbox[1], canvas_steps(canvas).bbox[3]
    assert left <= 32 and right >= 248


def test_a_scribbled_noisy_canvas_keeps_everything():
    rng = np.random.default_rng(0)
    dots = [[(float(x), float(y))] for x, y in rng.uniform(10, 270, (60, 2))]
    canvas = render_strokes(dots + [[(140, 60), (140, 220)]], brush=6)
    steps = canvas_steps(canvas)
    expected = preprocess.ink_bbox(steps.ink, preprocess.INK_THRESHOLD)
    assert steps.bbox == expected  # more pieces than a digit has: none of them is called a speck
