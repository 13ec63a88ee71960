"""The Draw canvas's picture as it arrives from the browser, bounded before it is decoded.

streamlit-drawable-canvas sends the drawing as a PNG; anyone can send any PNG in its place (a
13000x13000 one is 0.9 MB on the wire and 680 MB decoded). Pillow reads a PNG's size from its header
without decoding it, so the bytes and the size are checked against the largest canvas first.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

# The Draw page's largest canvas is 420 CSS px; at a device pixel ratio of 4 its picture is 1,680 px.
MAX_CANVAS_SIDE = 2048
MAX_CANVAS_BYTES = 8 * 2**20  # a 2048-px RGBA PNG of a drawing is well under a megabyte


class CanvasImageError(ValueError):
    """A canvas picture that is not a PNG of a canvas's size; the message says what is wrong."""


def decode_canvas_png(data: bytes, max_side: int = MAX_CANVAS_SIDE) -> np.ndarray:
    """PNG bytes -> uint8 RGBA (H, W, 4), refusing more than `MAX_CANVAS_BYTES`, anything but a PNG and a side
    over `max_side` before any pixel is decoded."""
    if len(data) > MAX_CANVAS_BYTES:
        raise CanvasImageError(
            f"The drawing arrived as {len(data) / 2**20:.1f} MB; a canvas drawing is under "
            f"{MAX_CANVAS_BYTES / 2**20:.0f} MB. Clear the canvas and draw again."
        )
    try:
        with warnings.catch_warnings():  # Pillow warns of a "decompression bomb" from the header: refused below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
        if image.format != "PNG":
            raise CanvasImageError(f"The drawing arrived as {image.format or 'an unknown format'}, not as a PNG.")
        width, height = image.size
        if max(width, height) > max_side or min(width, height) < 1:
            raise CanvasImageError(
                f"The drawing arrived as a {width:,}x{height:,} picture; the canvas is at most {max_side:,} px "
                "on a side. Clear the canvas and draw again."
            )
        return np.asarray(image.convert("RGBA"))
    except CanvasImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise CanvasImageError(
            f"The drawing could not be read ({type(error).__name__}). Clear the canvas and draw again."
        ) from None
