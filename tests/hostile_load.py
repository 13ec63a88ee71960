"""One person's load of hostile uploads through the app's pages, in a process of its own so that its memory is
the server's alone (issue 32): `python tests/hostile_load.py WORKDIR ROUNDS` prints one JSON line.

The pages run as the server runs them (Streamlit's AppTest executes the same scripts); each round sends every
hostile file the issue names to the page that takes it: models with HDF5 shape bombs, encrypted or method-98
weights, a Conv2D reused ten times, a file that is no model, to Draw and Diagnostics; a 13000x13000 canvas
picture to Draw; My digits zips with 100,000 labels, an encrypted PNG, a method-98 PNG; run zips whose
evaluation.npz is encrypted or whose model is a shape bomb, to Train's import. Before the rounds, the same pages
take valid inputs once, so that what a first visit loads (TensorFlow, a model, h5py) counts as the start.
"""

from __future__ import annotations

import gc
import io
import json
import os
import resource
import sys
import time
import types
import zipfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path[:0] = [str(ROOT), str(TESTS)]

import numpy as np  # noqa: E402
from hostile_files import (  # noqa: E402
    ENCRYPTED_FLAG,
    patched_zip,
    png_header_bomb,
    reused_conv_model,
    rewritten,
    shape_bomb_weights,
)
from PIL import Image  # noqa: E402

KERAS = "application/octet-stream"
ZIP = "application/zip"
_canvas_picture: list[bytes | None] = [None]  # what the fake canvas widget hands the Draw page


def rss() -> int:
    """This process's resident memory now, in bytes, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_since_reset() -> int:
    """The resident memory's peak (VmHWM) since the last reset through /proc/self/clear_refs, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def digits_zip(rows: int, picture: bytes, flags: int = 0, method: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("labels.csv", "file,label\n" + "d0.png,7\n" * rows)
        archive.writestr("d0.png", picture)
    data = buffer.getvalue()
    return patched_zip(data, flags, method, "d0.png") if flags or method else data


def run_zips(work: Path, small: Path) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A valid run zip, and run zips whose evaluation.npz is encrypted, packed with method 98, or whose
    model declares 1 GiB of weights."""
    from test_sharing import make_run

    from mnist_core.runs.sharing import export_run_zip

    source = make_run(work / "theirs")
    valid = export_run_zip(source, work / "run.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(valid)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}

    def crafted(**replace: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                key = next((k for k in replace if name.endswith(k)), None)
                archive.writestr(name, replace[key] if key else data)
        return buffer.getvalue()

    npz = next(data for name, data in members.items() if name.endswith("evaluation.npz"))
    bomb = shape_bomb_weights_file(small, work)
    hostile = [
        ("encrypted-npz.zip", crafted(**{"evaluation.npz": patched_zip(npz, ENCRYPTED_FLAG, None, "labels.npy")})),
        ("method-98-npz.zip", crafted(**{"evaluation.npz": patched_zip(npz, 0, 98)})),
        ("bomb-model.zip", crafted(**{"model_best.keras": bomb})),
    ]
    return valid, hostile


def shape_bomb_weights_file(small: Path, work: Path) -> bytes:
    return rewritten(small, work / "bomb.keras", shape_bomb_weights(small, 2**28)).read_bytes()


def hostile_models(work: Path, small: Path) -> list[tuple[str, bytes]]:
    reused = work / "reused.keras"
    reused_conv_model(10).save(reused)

    def odd(flags: int, method: int | None) -> bytes:
        patch = lambda data: patched_zip(data, flags, method, "model.weights.h5")  # noqa: E731
        return rewritten(small, work / "odd.keras", patch=patch).read_bytes()

    return [
        ("bomb.keras", shape_bomb_weights_file(small, work)),
        ("encrypted.keras", odd(ENCRYPTED_FLAG, None)),
        ("method-98.keras", odd(0, 98)),
        ("reused.keras", reused.read_bytes()),
        ("not-a-model.keras", b"PK\x03\x04 this is not a model" * 100),
    ]


def page(name: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def send(at, key: str, name: str, data: bytes, kind: str, refused: bool) -> None:
    at.file_uploader(key=key).upload(name, data, kind)
    at.run()
    assert not at.exception, (name, at.exception)
    if refused:
        assert at.error, f"{name} on {key}: no message"


def models_to(page_name: str, prefix: str, models: list[tuple[str, bytes]], refused: bool) -> None:
    at = page(page_name)
    at.selectbox(key=prefix + "model").set_value("upload").run()
    for name, data in models:
        send(at, prefix + "upload", name, data, KERAS, refused)


def visit(models, drawing, digit_zips, runs, refused: bool) -> None:
    """Every page that takes a file, given each of these once."""
    models_to("draw", "draw_", models, refused)
    models_to("diagnostics", "diag_", models, refused)
    _canvas_picture[0] = drawing
    at = page("draw")
    if refused:
        assert any("picture" in e.value for e in at.error), [e.value for e in at.error]
    _canvas_picture[0] = None
    at = page("my_digits")
    for name, data in digit_zips:
        send(at, "mine_import", name, data, ZIP, refused)
    at = page("train")
    for name, data in runs:
        send(at, "train_import_run", name, data, ZIP, refused)


def main(work: Path, rounds: int) -> dict:
    os.environ["DIGIT_LAB_RUNS_DIR"] = str(work / "runs")
    canvas = types.ModuleType("streamlit_drawable_canvas")
    canvas.st_canvas = lambda **kwargs: types.SimpleNamespace(image_bytes=_canvas_picture[0])
    sys.modules["streamlit_drawable_canvas"] = canvas

    import mnist_core.drawing.predict as predict
    from digit_drawings import render_strokes, template_strokes
    from mnist_core.config import TrainingConfig
    from mnist_core.models import build_model

    small = work / "small.keras"
    build_model(TrainingConfig(hidden_units=(8,), epochs=1)).save(small)
    predict.STARTER_MODEL_PATH = small
    seven = render_strokes(template_strokes("7", 180, (140, 140)), size=280, brush=18, paper=(0, 0, 0, 255))
    digit = png(np.asarray(Image.fromarray(seven).convert("L").resize((28, 28))))
    valid_run, hostile_runs = run_zips(work, small)
    hostile = (
        hostile_models(work, small),
        png_header_bomb(13_000),
        [
            ("many.zip", digits_zip(100_000, digit)),
            ("encrypted.zip", digits_zip(1, digit, ENCRYPTED_FLAG)),
            ("method-98.zip", digits_zip(1, digit, 0, 98)),
        ],
        hostile_runs,
    )

    visit([("mine.keras", small.read_bytes())], png(seven), [("digits.zip", digits_zip(1, digit))],
          [("run.zip", valid_run)], refused=False)  # fmt: skip
    uploads = work / "runs" / "uploads"
    before = sorted(p.name for p in uploads.iterdir())
    start, took, after = rss(), time.monotonic(), []
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) counts from here: the rounds alone
    for _ in range(rounds):
        visit(*hostile, refused=True)
        after.append(rss())
    took = time.monotonic() - took
    peak = peak_since_reset()
    return {
        "start": start,
        "after": after,
        "peak": peak,
        "seconds": took,
        "uploads_before": before,
        "uploads_after": sorted(p.name for p in uploads.iterdir()),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))
