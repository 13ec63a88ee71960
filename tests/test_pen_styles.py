"""The pen-style drawings: training and evaluation cover every style, are seeded, and never share a code path."""

from __future__ import annotations

import numpy as np
import pytest

from digit_drawings import nondigits, pen_styles, style_eval, training_set
from mnist_core.drawing.preprocess import canvas_to_mnist

# The handwriting styles issue 14 names, as (training style or skeleton variant, evaluation template).
ISSUE_STYLES = [
    ("7 bar", "7 bar"),
    ("1 flag", "1 flag"),
    ("1 flag", "1 flag base"),
    ("4 one stroke", "4 one stroke, short stem"),
    ("9 straight", "9 straight tail"),
    ("9 hooked", "9 hooked tail"),
    ("9 curled", "9 curled tail"),
    ("2 loop", "2 loop"),
    ("4 open", "4 open"),
    ("4 closed", "4 closed"),
]


@pytest.mark.parametrize(("train", "evaluate"), ISSUE_STYLES)
def test_every_style_of_the_issue_is_trained_and_measured_as_the_same_digit(train, evaluate):
    assert pen_styles.STYLES[train][0] == style_eval.STYLES[evaluate].digit


def test_drawings_are_seeded_and_have_ink():
    for name in pen_styles.STYLES:
        first = pen_styles.style_drawing(name, np.random.default_rng(5))
        assert np.array_equal(first, pen_styles.style_drawing(name, np.random.default_rng(5)))
        assert canvas_to_mnist(first) is not None
    for name in style_eval.STYLES:
        canvas = style_eval.style_canvas(name, np.random.default_rng(5))
        assert canvas.shape == (280, 280, 4) and canvas_to_mnist(canvas) is not None


def test_a_skeleton_gets_the_styles_its_digit_allows():
    vertical = [[(0.0, 0.0), (0.0, 1.0)]]
    found = {len(pen_styles.add_style(vertical, 1, np.random.default_rng(s))) for s in range(40)}
    assert found == {1, 2, 3}  # a 1 alone, with a flag, with a flag and a base
    assert all(len(pen_styles.add_style(vertical, 5, np.random.default_rng(s))) == 1 for s in range(10))


def test_nondigit_kinds_measured_are_never_trained_on_and_every_kind_draws():
    assert not set(nondigits.TRAIN_KINDS) & set(nondigits.HELD_OUT_KINDS)
    for kind in [*nondigits.TRAIN_KINDS, *nondigits.HELD_OUT_KINDS]:
        assert canvas_to_mnist(nondigits.nondigit_drawing(kind, np.random.default_rng(1))) is not None


@pytest.mark.slow  # two worker processes start (spawn): ~15 s
def test_the_training_set_has_digits_non_digits_and_disjoint_calibration_writers():
    x_train = np.zeros((40, 28, 28), np.uint8)
    x_train[:, 6:22, 12:16] = 255  # forty "1"s
    y_train = np.ones(40, np.int64)
    arrays = training_set.build(x_train, y_train, training_set.SetSizes(10, 9, 12, 6), seed=0, workers=1)
    assert arrays["x"].shape[1:] == (28, 28) and arrays["x"].dtype == np.float32
    assert set(np.unique(arrays["y"])) <= {-1, 1, 2, 4, 7, 9} and (arrays["y"] == -1).sum() == 12
    assert len(arrays["x_cal"]) == 6 and (arrays["y_cal"] >= 0).all()
    assert len(np.unique(arrays["mnist_used"])) == 14  # 10 for training + 4 for calibration, none shared


def _imports(module) -> set[str]:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    found |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    return found


def test_the_evaluation_path_never_uses_the_training_generator():
    from digit_drawings import eval_pen, eval_writers

    for module in (style_eval, eval_writers, eval_pen):
        used = " ".join(_imports(module))
        assert "pen_styles" not in used and "training_set" not in used and "render_strokes" not in used


def test_evaluation_drawings_are_seeded_and_every_writer_differs():
    for name in ("7 bar sits low", "9 open loop, long tail", "4 one stroke, short stem", "1 long flag"):
        first = style_eval.style_canvas(name, np.random.default_rng(5))
        assert np.array_equal(first, style_eval.style_canvas(name, np.random.default_rng(5)))
        assert not np.array_equal(first, style_eval.style_canvas(name, np.random.default_rng(6)))


def _points(strokes) -> np.ndarray:
    return np.array([p for stroke in strokes for piece in stroke for p in piece])


@pytest.mark.parametrize("seed", range(20))
def test_each_writer_keeps_the_shape_the_issue_describes(seed):
    from digit_drawings import eval_writers

    rng = np.random.default_rng(seed)
    top, bar = eval_writers.european_seven(rng, bar="low", stem="either")
    assert 0.6 <= _points([bar])[:, 1].mean() <= 0.75  # a bar that sits low
    (path,) = eval_writers.one_stroke_four(rng)
    corner, end, stem_top, foot = path[0][1], path[1][1], path[2][1], path[3][1]
    assert stem_top[1] < min(corner[1], end[1]) and foot[1] == 1.0  # the stem goes up above the bar, then down
    assert 0.06 <= min(corner[1], end[1]) - stem_top[1] <= 0.45  # ... and only a little above it: a short stem
    (ring,), tail = eval_writers.nine(rng, loop="open", tail="straight")
    assert np.hypot(*np.subtract(ring[0], ring[-1])) > 0.05 and tail[0][-1][1] == 1.0  # open loop, long tail
    (first_piece, _), *_ = eval_writers.flagged_one(rng, long=True, base=False)
    flag, top = first_piece[0], first_piece[-1]
    assert 15 <= np.degrees(np.arctan2(flag[1] - top[1], top[0] - flag[0])) <= 60  # a flag at an angle


def test_the_tablet_pen_ends_where_the_pen_lifts_and_its_width_follows_the_pressure_range():
    from digit_drawings import eval_pen

    rng = np.random.default_rng(0)
    path = np.array([[10.0, 10.0], [100.0, 40.0], [60.0, 200.0]])
    events = eval_pen.tablet_events(path, rng, spacing=5.0, smoothing=0.5)
    assert np.array_equal(events[0], path[0]) and np.array_equal(events[-1], path[-1])
    widths = eval_pen.pressure_widths(50, rng, brush=20.0)
    assert (widths >= 20 * eval_pen.PRESSURE[0] * 0.8).all() and (widths <= 20 * eval_pen.PRESSURE[1]).all()
