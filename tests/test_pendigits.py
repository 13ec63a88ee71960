"""Real writers' trajectories: the UNIPEN reader, the split by writer, and the two painters (training, benchmark)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digit_drawings import eval_real, pendigits, real_training
from mnist_core.drawing.preprocess import canvas_to_mnist

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pendigits"


def unipen(digits: list[tuple[int, int, list[list[tuple[int, int]]]]]) -> str:
    """UNIPEN text as pendigits writes it: a .SEGMENT and .COMMENT per digit, .PEN_DOWN/.PEN_UP per stroke."""
    lines = [".INCLUDE dene.doc", "", '.LEXICON "0" "1"', ".HIERARCHY DIGIT", ""]
    for k, (label, writer, strokes) in enumerate(digits):
        lines += [f'.SEGMENT DIGIT {k} ? "{label}"', f".COMMENT {label} {writer} {k}"]
        for stroke in strokes:
            lines += [".PEN_DOWN", *(f" {x} {y}" for x, y in stroke), ".PEN_UP"]
        lines += [".DT 100", ""]
    return "\n".join(lines)


SEVEN = [[(100, 400), (300, 400), (150, 100)], [(150, 250), (280, 250)]]  # a crossed 7, y up as the tablet gives it
ONE = [[(200, 100), (210, 400)]]


def test_a_digit_is_read_in_a_unit_box_with_y_down_and_its_strokes_kept_apart(tmp_path):
    (tmp_path / pendigits.FILE_NAME).write_text(unipen([(7, 4, SEVEN), (1, 9, ONE)]))
    seven, one = pendigits.read_pendigits(tmp_path)
    assert (seven.label, seven.writer, len(seven.strokes)) == (7, 4, 2)
    top = seven.strokes[0]
    assert top[0].tolist() == [0.0, 0.0] and top[1].tolist() == [2 / 3, 0.0]  # the bar on top: y down, taller side 1
    assert np.allclose(top[2], [1 / 6, 1.0])
    assert (one.label, one.writer) == (1, 9) and one.strokes[0][:, 1].max() == 1.0
    assert not pendigits.is_reference_file(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no pendigits-orig.tra in"),
        (b"\xff\xfe not text", "is not UNIPEN text of digits"),
        (b".COMMENT x y 3\n.PEN_DOWN\n 1 2\n.PEN_UP\n", "is not UNIPEN text of digits"),
        (b".INCLUDE dene.doc\n", "has no digits labelled 0-9 with writer ids"),
        (unipen([(12, 4, ONE)]).encode(), "has no digits labelled 0-9 with writer ids"),
    ],
)
def test_a_missing_or_other_file_is_refused_with_what_is_wrong(tmp_path, content, message):
    if content is not None:
        (tmp_path / pendigits.FILE_NAME).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        pendigits.read_pendigits(tmp_path)


def test_a_file_far_larger_than_pendigits_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(pendigits, "MAX_BYTES", 100)
    (tmp_path / pendigits.FILE_NAME).write_text(unipen([(1, 1, ONE)] * 10))
    with pytest.raises(ValueError, match="more than 100"):
        pendigits.read_pendigits(tmp_path)


def test_writers_are_split_whole_and_the_split_is_the_same_every_time():
    split = pendigits.split_writers(list(range(1, 31)) * 3)
    parts = [set(split.train), set(split.validation), set(split.report)]
    assert [len(p) for p in parts] == [24, 3, 3]
    assert set().union(*parts) == set(range(1, 31)) and sum(len(p) for p in parts) == 30  # disjoint, every writer
    assert split == pendigits.split_writers(list(range(30, 0, -1)))
    assert split.held_out == split.validation + split.report


def test_the_shared_file_is_the_one_the_figures_come_from():
    """The shared pendigits file (CI has it beside the repository, as every developer does)."""
    digits = pendigits.read_pendigits(SHARED)
    assert len(digits) == 7_494 and len({d.writer for d in digits}) == 30 and pendigits.is_reference_file(SHARED)
    split = pendigits.split_writers([d.writer for d in digits])
    assert (split.validation, split.report) == ((3, 12, 27), (5, 11, 22))  # what docs/STARTER-PEN.md names


def test_a_slash_crosses_a_zero_through_its_middle():
    ring = [[(0.5 + 0.4 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 30)]]
    for seed in range(20):
        slashed = real_training.slash(ring, np.random.default_rng(seed))
        (a, b) = np.asarray(slashed[-1])
        assert len(slashed) == 2 and abs((a + b)[0] / 2 - 0.5) < 0.25 and abs((a + b)[1] / 2 - 0.5) < 0.25
        assert np.hypot(*(b - a)) > 0.6  # across the ring, not a tick


@pytest.mark.parametrize("seed", range(6))
def test_a_training_drawing_of_a_real_digit_is_a_canvas_the_page_would_read(tmp_path, seed):
    (tmp_path / pendigits.FILE_NAME).write_text(unipen([(7, 4, SEVEN)]))
    (seven,) = pendigits.read_pendigits(tmp_path)
    canvas = real_training.real_drawing(seven.strokes, 7, np.random.default_rng(seed))
    assert canvas.shape == (real_training.CANVAS, real_training.CANVAS, 4) and canvas.dtype == np.uint8
    image = canvas_to_mnist(canvas)
    assert image.shape == (28, 28) and image.max() > 0.5  # ink found, whatever the colour mode


def test_the_benchmark_draws_every_digit_once_in_each_colour_mode(tmp_path):
    (tmp_path / pendigits.FILE_NAME).write_text(unipen([(7, 4, SEVEN), (1, 9, ONE)]))
    drawn = eval_real.drawn_set(pendigits.read_pendigits(tmp_path), seed=0)
    assert drawn["x"].shape == (6, 28, 28) and drawn["y"].tolist() == [7, 7, 7, 1, 1, 1]
    assert drawn["writer"].tolist() == [4, 4, 4, 9, 9, 9] and drawn["mode"].tolist() == [0, 1, 2] * 2
    assert all(image.max() > 0.5 for image in drawn["x"])


def test_named_writers_can_be_held_out_instead_and_unknown_ones_are_refused():
    split = pendigits.split_writers(range(1, 31), named=(28, 6, 14, 2, 19, 4))
    assert (split.validation, split.report) == ((6, 14, 28), (2, 4, 19)) and len(split.train) == 24
    for named in ((31, 2), (5, 5), (5,)):
        with pytest.raises(ValueError, match="hold out at least two distinct writers of 1-30"):
            pendigits.split_writers(range(1, 31), named=named)
