"""Pen-drawn digits of every handwriting style, and drawings that are not digits: accuracy and "not a digit".

The drawings come from `digit_drawings.style_eval` (hand-made templates of each style, drawn by a
code path of their own) and MNIST *test* digits re-drawn through their skeletons by the same path,
never from the training generator (`digit_drawings.pen_styles`). Non-digits are the detector's
training kinds (new drawings, another code path) and kinds it never saw. Every drawing goes
through `canvas_to_mnist`. Prints, for each model: accuracy per style, per digit and overall; the
share of digits the detector flags; the share of non-digits it flags per kind; and, for reference,
what a threshold on the top probability flags when it flags 1% of the digits.

    python bench/pen_styles.py [--model PATH ...] [--per-style 80] [--mnist 1000] [--per-kind 60]
                               [--detector PATH] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# bench/queue.py must not hide the standard library's queue (TensorFlow imports it): this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from digit_drawings import digit_strokes, nondigits, style_eval, symbols  # noqa: E402
from mnist_core.drawing.preprocess import canvas_to_mnist  # noqa: E402

MNIST_STYLE = "MNIST test writers"


def digit_set(per_style: int, n_mnist: int, seed: int, x_test, y_test) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images float32 (N, 28, 28), labels, style names): every style template, then MNIST test writers."""
    rng = np.random.default_rng(seed)
    images, labels, styles = [], [], []
    for name, style in style_eval.STYLES.items():
        for _ in range(per_style):
            images.append(canvas_to_mnist(style_eval.style_canvas(name, rng)))
            labels.append(style.digit)
            styles.append(name)
    for i in rng.choice(len(x_test), n_mnist, replace=False):
        strokes = digit_strokes(x_test[i], 1.0, (0.0, 0.0))
        images.append(canvas_to_mnist(style_eval.draw(strokes, rng)))
        labels.append(int(y_test[i]))
        styles.append(MNIST_STYLE)
    return np.stack(images), np.array(labels), styles


def nondigit_set(per_kind: int, seed: int) -> tuple[np.ndarray, list[str], list[bool]]:
    """(images, kind names, whether the detector trained on that kind).

    The fourth detector's kinds (`symbols.KINDS`) are drawn last, so the 45 kinds before them are drawn
    exactly as in the benchmark that chose the third detector, and its figures stay comparable."""
    rng = np.random.default_rng(seed + 1)
    images, kinds, trained = [], [], []
    earlier = {k: make for k, make in nondigits.TRAIN_KINDS.items() if k not in symbols.KINDS}
    for group, seen in ((earlier, True), (nondigits.HELD_OUT_KINDS, False), (symbols.KINDS, True)):
        for kind, make in group.items():
            for _ in range(per_kind):
                images.append(canvas_to_mnist(style_eval.shape_canvas(make, rng)))
                kinds.append(kind)
                trained.append(seen)
    return np.stack(images), kinds, trained


def _pct(mask: np.ndarray) -> str:
    return f"{100 * mask.mean():6.2f}%" if mask.size else "      -"


def report_digits(models: dict, labels: np.ndarray, styles: list[str], flagged: np.ndarray) -> None:
    """Accuracy per style, per digit and overall for each model, and the share the detector flags."""
    names = np.array(styles)
    style_rows = [s for s in dict.fromkeys(styles)]
    print(f"{'style':<32}{'n':>6}" + "".join(f"{m:>16}" for m in models) + f"{'not a digit':>14}")
    templates = names != MNIST_STYLE
    rows = [(s, names == s) for s in style_rows] + [(f"digit {d}", labels == d) for d in range(10)]
    rows += [("all styles (templates)", templates), ("all (templates + MNIST writers)", np.ones_like(templates))]
    for title, idx in rows:
        cells = "".join(f"{_pct(correct[idx]):>16}" for correct in models.values())
        print(f"{title:<32}{idx.sum():>6}{cells}{_pct(flagged[idx]):>14}")


def report_nondigits(flagged: np.ndarray, kinds: list[str], trained: list[bool]) -> None:
    names, seen = np.array(kinds), np.array(trained)
    print(f"\n{'not a digit: kind':<32}{'n':>6}{'flagged':>10}")
    for kind in dict.fromkeys(kinds):
        idx = names == kind
        print(f"{kind + ('' if seen[idx][0] else ' (never trained on)'):<32}{idx.sum():>6}{_pct(flagged[idx]):>10}")
    print(f"{'kinds trained on (new drawings)':<32}{seen.sum():>6}{_pct(flagged[seen]):>10}")
    print(f"{'kinds never trained on':<32}{(~seen).sum():>6}{_pct(flagged[~seen]):>10}")
    before = ~np.isin(names, list(symbols.KINDS))
    title = f"the {len(set(names[before]))} kinds before symbols.py"
    print(f"{title:<32}{before.sum():>6}{_pct(flagged[before]):>10}")
    print(f"{'all non-digits':<32}{len(seen):>6}{_pct(flagged):>10}")


def top_probability_baseline(p_digits: np.ndarray, p_others: np.ndarray) -> None:
    """What a threshold on the top probability flags among non-digits when it flags 1% of the digits."""
    cut = np.quantile(p_digits.max(axis=1), 0.01)
    share = _pct(p_others.max(axis=1) < cut)
    print(f"\ntop-probability threshold {cut:.4f} (flags 1% of digits) flags {share} of non-digits")


def drawings(args, data) -> tuple:
    """Both sets, drawn anew or read from --cache (written there after drawing)."""
    if args.cache and args.cache.exists():
        with np.load(args.cache) as c:
            return c["x"], c["labels"], list(c["styles"]), c["x_other"], list(c["kinds"]), list(c["trained"])
    x, labels, styles = digit_set(args.per_style, args.mnist, args.seed, data.x_test, data.y_test)
    x_other, kinds, trained = nondigit_set(args.per_kind, args.seed)
    if args.cache:
        arrays = {"x": x, "labels": labels, "styles": styles, "x_other": x_other, "kinds": kinds, "trained": trained}
        np.savez_compressed(args.cache, **arrays)
    return x, labels, styles, x_other, kinds, trained


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="Keras model file(s); default: the starter")
    parser.add_argument("--per-style", type=int, default=80)
    parser.add_argument("--mnist", type=int, default=1000, help="MNIST test digits re-drawn")
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--detector", type=Path, help="digit detector .keras (its .json beside it); default: shipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="an .npz to keep the drawings in and reuse (same arguments)")
    args = parser.parse_args(argv)

    from mnist_core.data import load_mnist
    from mnist_core.drawing import detector
    from mnist_core.drawing.predict import load_predictor

    data = load_mnist()
    start = time.perf_counter()
    x, labels, styles, x_other, kinds, trained = drawings(args, data)
    print(f"{len(x)} digit drawings, {len(x_other)} non-digit drawings in {time.perf_counter() - start:.0f} s\n")
    found = detector.load_detector(args.detector) if args.detector else detector.load_detector()
    models, x_mnist = {}, data.x_test.astype(np.float32) / 255
    for path in args.model or [None]:
        predictor = load_predictor(path)
        name = f"{Path(path).parent.name}/{Path(path).stem}"[:15] if path else "starter"
        models[name] = predictor.probabilities(x).argmax(axis=1) == labels
        mnist_acc = (predictor.probabilities(x_mnist).argmax(axis=1) == data.y_test).mean()
        print(f"{name}: MNIST test accuracy {100 * mnist_acc:.2f}%")
    print(f"detector threshold {found.calibration.threshold:.3f}: {found.calibration.how}")
    print(f"MNIST test digits flagged as not a digit: {_pct(~found.is_digit(x_mnist))}\n")
    report_digits(models, labels, styles, ~found.is_digit(x))
    report_nondigits(~found.is_digit(x_other), kinds, trained)
    top_probability_baseline(predictor.probabilities(x), predictor.probabilities(x_other))


if __name__ == "__main__":
    main()
