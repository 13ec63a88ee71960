"""image_charts: grids tile the right pixels, colours say right/wrong, saliency is centred on 0."""

from __future__ import annotations

import numpy as np
import pytest

from ui import image_charts


def test_tile_places_each_image_in_reading_order_with_gaps():
    images = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    grid = image_charts.tile(images, cols=2, gap=1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    for i, image in enumerate(images):
        r, c = divmod(i, 2)
        np.testing.assert_array_equal(grid[r * 3 : r * 3 + 2, c * 4 : c * 4 + 3], image)
    assert np.isnan(grid[2]).all() and np.isnan(grid[6:, 4:]).all()  # a gap row, the empty last cell


def test_watch_grid_marks_right_guesses_green_and_wrong_ones_red():
    labels = np.repeat(np.arange(10), 10)
    guesses = labels.copy()
    guesses[[3, 50]] = 9
    figure = image_charts.watch_grid(np.zeros((100, 28, 28), np.uint8), labels, guesses)
    badges = figure.data[1]
    assert [i for i, c in enumerate(badges.marker.color) if c == image_charts.WRONG] == [3, 50]
    assert list(badges.marker.color).count(image_charts.RIGHT) == 98
    assert badges.text[3] == "<b>9</b>"
    framed = image_charts._framed(np.zeros((100, 28, 28), np.uint8), guesses == labels, 10)
    zoom, step = image_charts.WATCH_ZOOM, 28 + image_charts.WATCH_GAP
    assert tuple(framed[0, 3 * step * zoom]) == image_charts._rgb(image_charts.WRONG)  # digit 3's frame
    assert tuple(framed[0, 0]) == image_charts._rgb(image_charts.RIGHT)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 300.0])
def test_saliency_colours_are_symmetric_around_zero(scale):
    saliency = np.zeros((28, 28), np.float32)
    saliency[10, 10], saliency[5, 5] = 2 * scale, -scale
    heat = image_charts.saliency_figure(np.zeros((28, 28)), saliency, "Why 3").data[0]
    assert heat.zmin == pytest.approx(-2 * scale) and heat.zmax == pytest.approx(2 * scale)


def test_tiles_figure_caps_the_units_shown():
    figure = image_charts.tiles_figure(np.random.default_rng(0).normal(size=(128, 28, 28)), cols=8)
    rows = len(figure.data[0].z)
    assert rows == 4 * 28 + 3 * 2  # 32 units in 4 rows of 8, 2-pixel gaps
