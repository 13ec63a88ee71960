"""What the model sees, on the Draw page: the preprocessing stages as one row of sharp-pixel pictures.

Plain HTML with the images inline, at their own size (28x28, 20x20, a crop; the browser enlarges them
with `image-rendering: pixelated`): four `st.image` calls cost the server an enlarged PNG each (about
80 ms in all under load, in the stroke's path) and the browser four more requests after every stroke.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np

from ui.charts import QUIET_TEXT
from ui.formatting import upscale

STAGE_PX = 168  # each stage is shown this big
STAGES_CSS = f"""
.dl-stages {{ display: flex; flex-wrap: wrap; gap: 1rem; }}
.dl-stage {{ width: {STAGE_PX}px; margin: 0; }}
.dl-stage img {{ width: {STAGE_PX}px; height: {STAGE_PX}px; display: block; image-rendering: pixelated;
  border-radius: 4px; }}
.dl-stage figcaption {{ font-size: 0.875rem; color: {QUIET_TEXT}; margin-top: 0.25rem; }}
"""


def stages_html(stages: Sequence[tuple[np.ndarray, str]]) -> str:
    """(image, caption) pairs -> one wrapping row of figures; images (h, w) in [0, 1] or uint8, any size
    (one as big as the canvas is thinned to about `STAGE_PX`). Style with `STAGES_CSS`."""
    figures = []
    for image, caption in stages:
        square = upscale(image, 1)  # padded to a square, uint8, not enlarged
        step = -(-len(square) // STAGE_PX)
        text = html.escape(caption)
        figures.append(
            f'<figure class="dl-stage"><img src="{png_uri(square[::step, ::step])}" alt="{text}">'
            f"<figcaption>{text}</figcaption></figure>"
        )
    return f'<div class="dl-stages">{"".join(figures)}</div>'


def png_uri(grey: np.ndarray) -> str:
    """A uint8 (h, w) image as a data: URI of a greyscale PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(grey), mode="L").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
