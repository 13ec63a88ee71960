"""Accuracy on pen-drawn digits: the canvas resized naively, MNIST's textbook recipe, canvas_to_mnist.

Builds a seeded set of drawings like the Draw page receives: MNIST *test* digits (writers disjoint
from the training writers) re-drawn as pen strokes through their skeletons, plus the hand-written
templates with jitter, at random sizes (ink 30-90% of a 280-pixel canvas), positions, brush widths
(8-40 px), slants and colour modes. Prints accuracy overall and per style bucket, then again for
the first --dots drawings with one stray dot added (a brush-sized tap of the pen anywhere on the
canvas that does not touch the digit), by how far the dot is from the digit.

    python bench/drawn_digits.py [--model PATH] [--n 2000] [--templates 400] [--seed 0]
                                 [--dots 800] [--data DIR] [--save DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digit_drawings as strokes  # noqa: E402
from mnist_core.drawing import preprocess  # noqa: E402

CANVAS = 280  # the Draw page's canvas side, pixels
HEIGHT = (0.3, 0.9)  # ink height as a fraction of the canvas
BRUSH = (8.0, 40.0)  # brush diameter, pixels
SLANT = 0.3  # extra slant, +-
ASPECT = (0.85, 1.15)  # width stretch
JITTER = (0.02, 0.06)  # template key-point jitter, fraction of the height
COLOUR_MODES = ("white on black", "black on white", "colour on transparent")
METHODS = ("naive resize", "textbook", "canvas_to_mnist")


@dataclass(frozen=True)
class Drawing:
    """One drawn digit and the style it was drawn in."""

    canvas: np.ndarray  # uint8 (CANVAS, CANVAS, 4) RGBA
    label: int
    source: str  # "mnist test" or "template"
    height: float  # ink height / canvas side
    brush: float  # brush diameter, pixels
    colour: str  # one of COLOUR_MODES
    paths: list  # the pen strokes, canvas pixels, and the colours they were painted with
    ink: strokes.Colour
    paper: strokes.Colour

    def buckets(self) -> dict[str, str]:
        """Style buckets this drawing belongs to, by dimension."""
        ink_height = self.height * CANVAS
        return {
            "digit": str(self.label),
            "source": self.source,
            "ink height": _bucket(self.height, (0.5, 0.7), ("30-50%", "50-70%", "70-90%")),
            "brush": _bucket(self.brush, (16, 28), ("8-16 px", "16-28 px", "28-40 px")),
            "brush / height": _bucket(self.brush / ink_height, (0.08, 0.15), ("< 0.08", "0.08-0.15", ">= 0.15")),
            "colour": self.colour,
        }


def _bucket(value: float, edges: tuple[float, float], names: tuple[str, str, str]) -> str:
    return names[int(np.searchsorted(edges, value, side="right"))]


def make_set(x_test: np.ndarray, y_test: np.ndarray, n: int, n_templates: int, seed: int) -> list[Drawing]:
    """n drawings of random MNIST test digits plus n_templates template drawings, all seeded."""
    rng = np.random.default_rng(seed)
    drawings = []
    for i in rng.choice(len(x_test), size=n, replace=False):
        drawings.append(_draw(rng, lambda h, s, a, i=i: strokes.digit_strokes(x_test[i], h, (0, 0), s, a),
                              int(y_test[i]), "mnist test"))  # fmt: skip
    names = list(strokes.TEMPLATES)
    for k in range(n_templates):
        name, jitter, jseed = names[k % len(names)], rng.uniform(*JITTER), int(rng.integers(2**31))
        make = lambda h, s, a, name=name, j=jitter, js=jseed: strokes.template_strokes(name, h, (0, 0), s, a, j, js)  # noqa: E731
        drawings.append(_draw(rng, make, strokes.TEMPLATES[name].digit, "template"))
    return drawings


def _draw(rng: np.random.Generator, make, label: int, source: str) -> Drawing:
    """Draw one digit in a random style, anywhere it fits on the canvas."""
    height, brush = rng.uniform(*HEIGHT), rng.uniform(*BRUSH)
    path_height = max(height * CANVAS - brush, 4.0)
    paths = make(path_height, rng.uniform(-SLANT, SLANT), rng.uniform(*ASPECT))
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in paths])
    low, high = points.min(axis=0) - brush / 2, points.max(axis=0) + brush / 2
    shift = [rng.uniform(-low[d], max(CANVAS - high[d], -low[d])) for d in (0, 1)]
    paths = [[(x + shift[0], y + shift[1]) for x, y in p] for p in paths]
    colour = COLOUR_MODES[int(rng.integers(len(COLOUR_MODES)))]
    ink, paper = _colours(rng, colour)
    canvas = strokes.render_strokes(paths, CANVAS, brush, ink, paper)
    return Drawing(canvas, label, source, (high[1] - low[1]) / CANVAS, brush, colour, paths, ink, paper)


def _colours(rng: np.random.Generator, mode: str) -> tuple[strokes.Colour, strokes.Colour]:
    if mode == "white on black":
        return strokes.WHITE, strokes.BLACK
    if mode == "black on white":
        return strokes.BLACK, strokes.WHITE
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return (r, g, b, 255), strokes.TRANSPARENT


def with_stray_dot(drawing: Drawing, rng: np.random.Generator) -> tuple[Drawing, float] | None:
    """The drawing plus one dot of its brush and ink, somewhere it does not touch the digit, and the
    dot's distance from the ink as a fraction of the ink's height; None if no place is free."""
    from scipy import ndimage

    distance = preprocess.ink_distance(drawing.canvas)
    clearance = ndimage.distance_transform_edt(distance == 0)
    free = np.argwhere(clearance > drawing.brush)  # the dot's edge stays at least half a brush away
    if len(free) == 0:
        return None
    y, x = free[rng.integers(len(free))]
    paths = [*drawing.paths, [(float(x), float(y))]]  # a one-point stroke is a dot
    canvas = strokes.render_strokes(paths, CANVAS, drawing.brush, drawing.ink, drawing.paper)
    gap = (clearance[y, x] - drawing.brush / 2) / (drawing.height * CANVAS)
    return dataclasses.replace(drawing, canvas=canvas, paths=paths), gap


def report_stray_dots(drawings: list[Drawing], methods: dict, score, seed: int) -> None:
    """Accuracy of each method on the drawings with a stray dot, overall and by the dot's distance."""
    rng = np.random.default_rng(seed + 1)
    dotted = [d for d in (with_stray_dot(d, rng) for d in drawings) if d is not None]
    labels = np.array([d.label for d, _ in dotted])
    gaps = np.array([gap for _, gap in dotted])
    correct = {m: score(np.stack([f(d.canvas) for d, _ in dotted])) == labels for m, f in methods.items()}
    print(f"\nthe first {len(dotted)} drawings again, each with one stray dot (brush-sized, not touching the digit)")
    print(_row("all, with a stray dot", np.arange(len(dotted)), correct))
    for low, high in ((0, 0.15), (0.15, 0.3), (0.3, 10)):
        idx = np.flatnonzero((gaps >= low) & (gaps < high))
        name = f"dot {low:.0%}-{high:.0%} of digit height away" if high < 10 else f"dot >= {low:.0%} away"
        print(_row(name, idx, correct))


def naive(canvas: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 4) -> float32 (28, 28): the canvas's RGB as grey, resized, no other care."""
    grey = Image.fromarray(canvas[..., :3]).convert("L").resize((28, 28))
    return np.asarray(grey, np.float32) / 255


def textbook(canvas: np.ndarray) -> np.ndarray:
    """MNIST's recipe alone (no stroke-width change): ink, crop, fit 20x20, centre by mass."""
    ink = preprocess.ink_mask(canvas)
    bbox = preprocess.ink_bbox(ink)
    if bbox is None:
        return np.zeros((28, 28), np.float32)
    top, left, bottom, right = bbox
    return preprocess.centre_by_mass(preprocess.fit_box(ink[top:bottom, left:right]))[0]


def ours(canvas: np.ndarray) -> np.ndarray:
    out = preprocess.canvas_to_mnist(canvas)
    return np.zeros((28, 28), np.float32) if out is None else out


def load_scorer(path: str | None):
    """images float32 (N, 28, 28) -> predicted digits, from mnist_core.drawing.predict (Keras as a fallback)."""
    try:
        from mnist_core.drawing.predict import load_predictor
    except ImportError:  # the predictor module is not there yet
        import keras

        model = keras.models.load_model(path)
        return lambda x: model.predict(x, batch_size=500, verbose=0).argmax(axis=1)
    predictor = load_predictor(path)
    return lambda x: predictor.probabilities(x).argmax(axis=1)


def report(drawings: list[Drawing], correct: dict[str, np.ndarray]) -> None:
    """Print accuracy per method, overall and per bucket."""
    print(f"{'bucket':<34}{'n':>6}" + "".join(f"{m:>18}" for m in METHODS))
    rows: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, d in enumerate(drawings):
        for dim, name in d.buckets().items():
            rows[(dim, name)].append(i)
    print(_row("all", np.arange(len(drawings)), correct))
    for (dim, name), idx in sorted(rows.items()):
        print(_row(f"{dim}: {name}", np.array(idx), correct))


def _row(title: str, idx: np.ndarray, correct: dict[str, np.ndarray]) -> str:
    return f"{title:<34}{len(idx):>6}" + "".join(f"{100 * correct[m][idx].mean():>17.2f}%" for m in METHODS)


def save_examples(drawings: list[Drawing], images: dict[str, np.ndarray], folder: Path, count: int = 12) -> None:
    """PNGs of the first `count` drawings: the canvas (on grey) beside what each method made of it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, d in enumerate(drawings[:count]):
        canvas = Image.new("RGBA", (CANVAS, CANVAS), (128, 128, 128, 255))
        canvas.alpha_composite(Image.fromarray(d.canvas))
        tiles = [canvas.convert("L")] + [
            Image.fromarray((images[m][i] * 255).astype(np.uint8)).resize((CANVAS, CANVAS), Image.Resampling.NEAREST)
            for m in METHODS
        ]
        row = Image.new("L", (CANVAS * len(tiles), CANVAS))
        for k, tile in enumerate(tiles):
            row.paste(tile, (k * CANVAS, 0))
        row.save(folder / f"{i:02d}_label{d.label}_{d.colour.replace(' ', '-')}.png")


def print_latency(drawings: list[Drawing], calls: int = 300) -> None:
    """canvas_to_mnist's latency per call over the first `calls` drawings (280x280 RGBA)."""
    times = []
    for d in (drawings * (1 + calls // max(len(drawings), 1)))[:calls]:
        start = time.perf_counter()
        preprocess.canvas_to_mnist(d.canvas)
        times.append(1000 * (time.perf_counter() - start))
    p50, p95 = np.percentile(times, [50, 95])
    print(f"canvas_to_mnist latency over {len(times)} calls: p50 {p50:.2f} ms, p95 {p95:.2f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="Keras model file (default: the starter model)")
    parser.add_argument("--n", type=int, default=2000, help="drawings made from MNIST test digits")
    parser.add_argument("--templates", type=int, default=400, help="drawings made from the templates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dots", type=int, default=800, help="drawings measured again with a stray dot")
    parser.add_argument("--data", help="MNIST folder (default: $MNIST_DATA_DIR, as load_mnist finds it)")
    parser.add_argument("--save", type=Path, help="write example PNGs to this folder")
    args = parser.parse_args(argv)

    from mnist_core.data import load_mnist

    data = load_mnist(args.data)
    start = time.perf_counter()
    drawings = make_set(data.x_test, data.y_test, args.n, args.templates, args.seed)
    print(f"{len(drawings)} drawings from {data.source} in {time.perf_counter() - start:.1f} s")
    labels = np.array([d.label for d in drawings])
    methods = {"naive resize": naive, "textbook": textbook, "canvas_to_mnist": ours}
    images = {m: np.stack([f(d.canvas) for d in drawings]) for m, f in methods.items()}
    print_latency(drawings)
    score = load_scorer(args.model)
    correct = {m: score(x) == labels for m, x in images.items()}
    mnist_acc = (score(data.x_test.astype(np.float32) / 255) == data.y_test).mean()
    print(f"model: {args.model or 'starter'}; accuracy on the MNIST test set itself: {100 * mnist_acc:.2f}%\n")
    report(drawings, correct)
    if args.dots:
        report_stray_dots(drawings[: args.dots], methods, score, args.seed)
    if args.save:
        save_examples(drawings, images, args.save)
        print(f"\nexample PNGs (canvas | {' | '.join(METHODS)}) in {args.save}")


if __name__ == "__main__":
    main()
