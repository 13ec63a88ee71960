"""How long one prediction takes: model.predict against the Predictor's compiled path, and canvas -> answer.

    python bench/predict_latency.py [--model PATH] [--calls 300]

Uses the starter model, or `--model`; when there is no starter model yet it builds the `cnn`
preset's model (untrained: latency does not depend on the weights). Rows are timed in interleaved
rounds, so load from other processes falls on all of them alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# bench/queue.py must not hide the standard library's queue (TensorFlow imports it): this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from mnist_core.drawing.predict import STARTER_MODEL_PATH, load_predictor  # noqa: E402

WARMUP = 10
SEVEN = [(60, 50), (220, 50), (130, 240)]  # a "7" on a 280x280 canvas, as canvas points


def drawn_seven(size: int = 280, brush: int = 20) -> np.ndarray:
    """uint8 (size, size, 4): white strokes on a transparent canvas, like streamlit-drawable-canvas returns."""
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line(SEVEN, fill=(255, 255, 255, 255), width=brush, joint="curve")
    return np.asarray(canvas)


def model_path(arg: str | None, scratch: Path) -> Path:
    """--model, else the starter model, else a freshly built `cnn` preset model saved in `scratch`."""
    if arg:
        return Path(arg)
    if STARTER_MODEL_PATH.exists():
        return STARTER_MODEL_PATH
    from mnist_core.models import build_model
    from mnist_core.presets import get_preset

    print(f"no starter model at {STARTER_MODEL_PATH}; timing an untrained `cnn` preset model")
    path = scratch / "cnn_preset.keras"
    build_model(get_preset("cnn")).save(path)
    return path


def graph_functions(model):
    """The model as plain tf.function graphs, without and with XLA, for comparison."""
    import tensorflow as tf

    spec = [tf.TensorSpec((None, 28, 28), tf.float32)]
    plain = tf.function(lambda x: model(x, training=False), input_signature=spec).get_concrete_function()
    xla = tf.function(lambda x: model(x, training=False), input_signature=spec, jit_compile=True)
    return plain, xla.get_concrete_function()


def rows(predictor, image: np.ndarray, rgba: np.ndarray) -> dict:
    """name -> a no-argument call to time."""
    import tensorflow as tf

    model, batch = predictor.model, image[None]
    plain, xla = graph_functions(model)
    calls = {
        "model.predict(x, verbose=0)": lambda: model.predict(batch, verbose=0),
        "model(x, training=False)": lambda: model(batch, training=False),
        "tf.function graph, no XLA": lambda: plain(tf.constant(batch)).numpy(),
        "tf.function graph + XLA": lambda: xla(tf.constant(batch)).numpy(),
        "Predictor.probabilities(x)": lambda: predictor.probabilities(image),
    }
    try:
        from mnist_core.drawing.preprocess import canvas_to_mnist
    except ImportError:
        print("note: mnist_core.drawing.preprocess.canvas_to_mnist not available; skipping the canvas row")
    else:
        calls["canvas_to_mnist(rgba) + probabilities"] = lambda: predictor.probabilities(canvas_to_mnist(rgba))
        calls["Predictor.is_digit(x) (digit detector)"] = lambda: predictor.is_digit(image)
        calls["canvas_to_mnist(rgba) + predict() (is_digit too)"] = lambda: predictor.predict(canvas_to_mnist(rgba))
    return calls


def measure(calls: dict, n: int) -> dict[str, np.ndarray]:
    """Seconds per call for each row, over `n` interleaved rounds after a warm-up."""
    for call in calls.values():
        for _ in range(WARMUP):
            call()
    times = {name: np.empty(n) for name in calls}
    for i in range(n):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name][i] = time.perf_counter() - start
    return times


def report(times: dict[str, np.ndarray]) -> None:
    baseline = np.median(times["model.predict(x, verbose=0)"])
    print(f"\n| {'call (one 28x28 image)':<48} | p50 ms | p95 ms | vs model.predict |")
    print(f"|{'-' * 50}|-------:|-------:|-----------------:|")
    for name, t in times.items():
        p50, p95 = np.median(t), np.percentile(t, 95)
        print(f"| {name:<48} | {p50 * 1e3:6.2f} | {p95 * 1e3:6.2f} | {baseline / p50:15.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a .keras model file (default: the starter model)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per row (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = model_path(args.model, Path(scratch))
        start = time.perf_counter()
        predictor = load_predictor(path)
        print(f"{predictor.description}; loaded and warmed up in {time.perf_counter() - start:.2f} s")
        rgba = drawn_seven()
        image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
        report(measure(rows(predictor, image, rgba), args.calls))
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(f"\n{os.cpu_count()} CPUs, TensorFlow intra-op threads: {threads}")


if __name__ == "__main__":
    main()
