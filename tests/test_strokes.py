"""The pen-stroke renderer, MNIST digits re-drawn as strokes, and the hand-written templates."""

from __future__ import annotations

import numpy as np
import pytest

from digit_drawings import (
    BLACK,
    TEMPLATES,
    TRANSPARENT,
    WHITE,
    digit_strokes,
    place_strokes,
    render_strokes,
    template_strokes,
    trace_skeleton,
)
from mnist_core.drawing.preprocess import canvas_to_mnist

# --- render_strokes ------------------------------------------------------------------------------


def test_canvas_is_rgba_with_paper_where_nothing_was_drawn():
    canvas = render_strokes([[(50, 50), (200, 50)]], size=280, brush=10, ink=(200, 10, 10, 255), paper=TRANSPARENT)
    assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
    assert (canvas[200:, :] == 0).all()  # transparent paper is (0, 0, 0, 0), as the browser canvas gives
    assert tuple(canvas[50, 120]) == (200, 10, 10, 255)


def test_brush_is_round_and_anti_aliased():
    canvas = render_strokes([[(100, 100)]], size=200, brush=40, ink=WHITE, paper=BLACK)
    coverage = canvas[..., 0] / 255.0
    assert coverage.sum() == pytest.approx(np.pi * 20**2, rel=0.03)  # a dot is a disk of the brush's size
    assert ((coverage > 0.05) & (coverage < 0.95)).any()  # soft edges
    line = render_strokes([[(20, 100), (180, 100)]], size=200, brush=12, ink=WHITE, paper=BLACK)
    assert (line[:, 100, 0] / 255.0).sum() == pytest.approx(12, abs=0.3)  # stroke width equals the brush


def test_black_on_white_is_the_negative_of_white_on_black():
    path = [[(30, 40), (120, 160), (200, 60)]]
    light = render_strokes(path, brush=15, ink=WHITE, paper=BLACK).astype(int)
    dark = render_strokes(path, brush=15, ink=BLACK, paper=WHITE).astype(int)
    assert np.abs(light[..., :3] + dark[..., :3] - 255).max() <= 1


@pytest.mark.parametrize(("size", "brush"), [(0, 10), (280, 0), (280, -3)])
def test_bad_canvas_or_brush_is_refused(size, brush):
    with pytest.raises(ValueError, match="render_strokes needs size >= 1 and brush > 0"):
        render_strokes([[(1, 1)]], size=size, brush=brush)


# --- placing and tracing -------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "centre", "slant"), [(100, (140, 140), 0.0), (230, (120, 150), 0.3)])
def test_place_strokes_sets_height_and_centre(height, centre, slant):
    placed = place_strokes([[(0, 0), (0.5, 1)], [(0.2, 0.5), (0.6, 0.5)]], height, centre, slant)
    points = np.concatenate([np.array(s) for s in placed])
    assert points[:, 1].max() - points[:, 1].min() == pytest.approx(height)
    assert (points.max(axis=0) + points.min(axis=0))[1] / 2 == pytest.approx(centre[1])


def _image(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows])


SKELETONS = {  # picture -> number of paths
    "line": (["......", ".####.", "......"], 1),
    "staircase": (["#...", ".#..", ".##.", "..##"], 1),
    "T": (["#####", "..#..", "..#..", "..#.."], 3),
    "ring": ([".###.", "#...#", "#...#", ".###."], 1),
    "dot": (["...", ".#.", "..."], 1),
}


@pytest.mark.parametrize("name", SKELETONS)
def test_trace_skeleton_follows_every_pixel_once(name):
    picture, n_paths = SKELETONS[name]
    skel = _image(picture)
    paths = trace_skeleton(skel)
    assert len(paths) == n_paths
    visited = {tuple(p) for path in paths for p in path}
    assert visited == {tuple(p) for p in np.argwhere(skel)}
    for path in paths:  # consecutive points are neighbours
        assert (np.abs(np.diff(path, axis=0)) <= 1).all()


def test_mnist_digit_redrawn_looks_like_itself():
    from mnist_core.data import load_mnist

    similarity = []
    for digit in load_mnist().x_test[:20]:
        paths = digit_strokes(digit, height=200, centre=(140, 140))
        redrawn = canvas_to_mnist(render_strokes(paths, brush=22))
        similarity.append(np.corrcoef(redrawn.ravel(), canvas_to_mnist(digit).ravel())[0, 1])
    # Same shape, pen-width strokes: close but not equal (a filled loop has no skeleton loop).
    assert min(similarity) > 0.4 and np.mean(similarity) > 0.7


def test_blank_digit_has_no_strokes():
    assert digit_strokes(np.zeros((28, 28), np.uint8), 100, (50, 50)) == []


# --- templates -----------------------------------------------------------------------------------


def test_every_digit_has_a_template_and_the_variants_people_draw():
    assert {t.digit for t in TEMPLATES.values()} == set(range(10))
    assert {"1 flag", "1 flag base", "7 bar", "4 open"} <= set(TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders_inside_the_canvas(name):
    paths = template_strokes(name, 180, (140, 140), slant=0.2, jitter=0.05, seed=7)
    canvas = render_strokes(paths, brush=18)
    assert canvas[..., 3].any()
    points = np.concatenate([np.array(p) for p in paths])
    assert points.min() >= 140 - 180 and points.max() <= 140 + 180
    assert canvas_to_mnist(canvas) is not None


def test_templates_are_deterministic_given_a_seed():
    a = template_strokes("8", 200, (140, 140), jitter=0.05, seed=3)
    b = template_strokes("8", 200, (140, 140), jitter=0.05, seed=3)
    c = template_strokes("8", 200, (140, 140), jitter=0.05, seed=4)
    assert a == b and a != c
    assert template_strokes("8", 200, (140, 140)) == template_strokes("8", 200, (140, 140), seed=9)  # no jitter


def test_unknown_template_lists_the_names():
    with pytest.raises(ValueError, match=r"unknown template 'ten'; choose one of \['0', "):
        template_strokes("ten", 100, (50, 50))


def test_jitter_leaves_the_templates_unchanged():
    before = {name: t.strokes for name, t in TEMPLATES.items()}
    template_strokes("5", 100, (50, 50), jitter=0.1, seed=1)
    assert before == {name: t.strokes for name, t in TEMPLATES.items()}
