"""Formatting for the pages: durations, and digits upscaled with their pixels kept sharp."""

import numpy as np
import pytest

from ui import formatting


@pytest.mark.parametrize(
    ("shape", "size", "expected"),
    [((28, 28), 140, (140, 140)), ((20, 5), 100, (100, 100)), ((280, 280), 140, (280, 280))],
)
def test_upscale_pads_to_a_square_and_keeps_pixels_sharp(shape, size, expected):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    big = formatting.upscale(image, size)
    assert big.shape == expected and big.dtype == np.uint8
    if shape == (28, 28):
        assert np.all(big[:5, :5] == big[0, 0])  # one source pixel -> a 5x5 block


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (5.4, "5 s"), (65, "1 min 05 s"), (3725, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert formatting.format_duration(seconds) == text


def test_a_pickers_label_says_whose_run_it_is_when_it_is_not_the_viewers(tmp_path):
    """Issue 32: Draw's picker did not say whose a shared or imported run was."""
    from mnist_core.config import TrainingConfig
    from mnist_core.people import Person
    from mnist_core.runs import RunHandle
    from mnist_core.runs.files import RunFiles

    ana, ben = Person("iss|ana", "ana@school.test", "Ana"), Person("iss|ben", "ben@school.test", "Ben", is_teacher=True)
    files = RunFiles(tmp_path / "20260101-120000-run")
    files.path.mkdir()
    files.write_meta(TrainingConfig(), "wide MLP", None, owner=ana.owner_record())
    files.update_status(state="completed", message="done", created_at=1.0)
    assert formatting.score_label(RunHandle(files.path, ana)) == "wide MLP"
    assert formatting.score_label(RunHandle(files.path, ben)) == "wide MLP · Ana's"
    assert formatting.score_label(RunHandle(files.path, None)) == "wide MLP"  # the operator, without sign-in
