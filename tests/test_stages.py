"""The Draw page's preprocessing stages as inline pictures: every image comes back, square, pixel for pixel."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from ui.stages import STAGE_PX, stages_html


def pictures(html: str) -> list[np.ndarray]:
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(uri)))) for uri in uris]


@pytest.mark.parametrize(
    ("shape", "side"),
    [((28, 28), 28), ((20, 13), 20), ((416, 416), 139), ((280, 280), 140), ((168, 168), 168), ((1, 1), 1)],
)
def test_each_stage_is_a_square_png_no_bigger_than_shown(shape, side):
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    (picture,) = pictures(stages_html([(image, "a stage")]))
    assert picture.shape == (side, side) and side <= STAGE_PX


def test_a_small_stage_keeps_every_pixel_centred_on_black():
    image = np.random.default_rng(1).random((20, 14), dtype=np.float32)
    (picture,) = pictures(stages_html([(image, "box")]))
    np.testing.assert_array_equal(picture[:, 3:17], (image * 255).round().astype(np.uint8))
    assert not picture[:, :3].any() and not picture[:, 17:].any()


def test_captions_are_shown_as_text():
    html = stages_html([(np.zeros((28, 28)), "1 · <b>ink</b> & co")])
    assert "<figcaption>1 · &lt;b&gt;ink&lt;/b&gt; &amp; co</figcaption>" in html and "<b>" not in html
