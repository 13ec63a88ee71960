"""The detector's training pen and its extra drawings: seeded, inked, honest about what they hold out."""

from __future__ import annotations

import numpy as np
import pytest

from digit_drawings import detector_set, doodles, nondigits, pen_variety, symbols
from mnist_core.drawing.preprocess import canvas_to_mnist

SQUARE = [[(10.0, 10.0), (90.0, 10.0), (90.0, 90.0), (10.0, 90.0), (10.0, 10.0)]]


def test_resampling_keeps_both_ends_and_spaces_points_unevenly():
    line = np.array([[0.0, 0.0], [100.0, 0.0]])
    points = pen_variety.resample(line, np.random.default_rng(0), 5.0)
    assert np.allclose(points[0], line[0]) and np.allclose(points[-1], line[-1])
    gaps = np.diff(points[:, 0])
    assert (gaps > 0).all() and gaps.std() > 0.5


def test_round_corners_keeps_the_ends_and_cuts_only_corners():
    stroke = np.asarray(SQUARE[0][:3])
    cut = pen_variety.round_corners(stroke, 0.25)
    assert np.allclose(cut[0], stroke[0]) and np.allclose(cut[-1], stroke[-1])
    assert not any(np.allclose(p, stroke[1]) for p in cut)  # the corner itself is gone
    assert np.array_equal(pen_variety.round_corners(stroke, 0.0), stroke)


@pytest.mark.parametrize("n", [1, 2, 5, 200])
def test_pressure_thins_the_line_but_never_erases_it(n):
    widths = pen_variety.pressure(n, np.random.default_rng(n))
    assert widths.shape == (n,) and (widths >= 0.15).all() and (widths <= 1).all()


def test_the_pen_is_seeded_and_paints_white_ink_on_black():
    first = pen_variety.pen_canvas(SQUARE, np.random.default_rng(3), 100, 6.0)
    assert np.array_equal(first, pen_variety.pen_canvas(SQUARE, np.random.default_rng(3), 100, 6.0))
    assert first.shape == (100, 100, 4) and (first[..., 3] == 255).all() and first[..., 0].max() == 255
    assert canvas_to_mnist(first) is not None


@pytest.mark.parametrize("module", [doodles, symbols])
def test_new_kinds_are_training_kinds_never_held_out_ones(module):
    assert set(module.KINDS) <= set(nondigits.TRAIN_KINDS)
    assert not set(module.KINDS) & set(nondigits.HELD_OUT_KINDS)
    held_out_letters = {name.split()[-1].upper() for name in nondigits.HELD_OUT_KINDS if name.startswith("letter")}
    letters = getattr(module, "MORE_LETTERS", {}) | getattr(module, "LETTERS", {}) | getattr(module, "WORD_LETTERS", {})
    assert not {k.upper() for k in letters} & held_out_letters  # no small w or k either, not even in a word


def test_no_new_kind_is_a_digit_or_a_held_out_kind_by_another_name():
    digit_like = {"S", "Z", "O", "I", "l", "b", "G", "g", "q", "T", "J", "d"}  # letters people read as digits
    assert not digit_like & set(symbols.LETTERS)
    assert not set(doodles.KINDS) & set(symbols.KINDS)


@pytest.mark.parametrize("kind", [*doodles.KINDS, *symbols.KINDS])
def test_every_new_kind_draws_with_both_pens(kind):
    for seed in range(4):  # PEN_SHARE = 0.5: both pens among four seeds
        assert canvas_to_mnist(nondigits.nondigit_drawing(kind, np.random.default_rng(seed))) is not None


@pytest.mark.slow  # a drawing process starts (spawn): ~10 s
def test_the_pen_digits_hold_out_their_threshold_writers():
    x_train = np.zeros((60, 28, 28), np.uint8)
    x_train[:, 6:22, 12:16] = 255  # sixty "1"s
    y_train = np.ones(60, np.int64)
    unused = np.arange(10, 60)
    sets = detector_set.build(x_train, y_train, unused, 9, 6, seed=0, workers=1)
    assert sets["x"].shape[1:] == (28, 28) and len(sets["x"]) == 9 and len(sets["x_cal"]) == 6
    assert set(sets["writers_cal"]) <= set(unused) and len(sets["writers_cal"]) == 4
    assert set(sets["y"]) <= set(range(10)) and set(sets["y_cal"]) <= set(range(10))


def test_the_detectors_training_drawings_never_use_the_evaluation_path():
    import ast
    import inspect

    for module in (pen_variety, doodles, symbols, detector_set, nondigits):
        tree = ast.parse(inspect.getsource(module))
        used = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        used |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not any(name in " ".join(used) for name in ("style_eval", "eval_pen", "eval_writers", "templates"))
