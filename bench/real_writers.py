"""Real writers the model never saw: per-digit, per-writer and per-colour-mode accuracy, and "not a digit".

Reads the UCI pendigits trajectories (`--pendigits`, the shared folder), keeps the writers that the
starter's training script holds out (`digit_drawings.pendigits.split_writers`: three that choose among
candidates, three that only report), draws every digit of theirs once in each of the canvas's three
colour modes with a random brush, size and place (`digit_drawings.eval_real`), and runs each drawing
through `canvas_to_mnist` and the model, as the Draw page does. Also prints the MNIST test accuracy
(when MNIST is there) and the share of these real digits the detector calls "not a digit".

    python bench/real_writers.py [--pendigits ../shared/data/pendigits] [--model PATH ...]
                                 [--writers held-out|validation|report|train] [--hold-out 28,6,14,2,19,4]
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

from digit_drawings import eval_real, pendigits  # noqa: E402

DEFAULT_PENDIGITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pendigits"


def _pct(mask: np.ndarray) -> str:
    return f"{100 * mask.mean():6.2f}%" if mask.size else "      -"


def held_out_set(folder: Path, which: str, seed: int, named=()) -> tuple[dict, pendigits.WriterSplit]:
    """The drawings of the chosen writers (every digit in every colour mode) and the split they come from."""
    digits = pendigits.read_pendigits(folder)
    split = pendigits.split_writers([d.writer for d in digits], named=tuple(named))
    writers = {"held-out": split.held_out, "validation": split.validation, "report": split.report}
    chosen = writers.get(which, split.train)
    return eval_real.drawn_set(pendigits.by_writers(digits, chosen), seed), split


def report(correct: dict[str, np.ndarray], drawn: dict, split: pendigits.WriterSplit, flagged: np.ndarray) -> None:
    """One row per digit, writer, colour mode and overall; a column per model and the detector's flagged share."""
    role = {w: "chooses" for w in split.validation} | {w: "reports" for w in split.report}
    rows = [(f"digit {d}", drawn["y"] == d) for d in range(10)]
    rows += [(f"writer {w} ({role.get(int(w), 'trained')})", drawn["writer"] == w) for w in np.unique(drawn["writer"])]
    rows += [(mode, drawn["mode"] == k) for k, mode in enumerate(eval_real.MODES)]
    for title, writers in (("writers that choose", split.validation), ("writers that only report", split.report)):
        rows.append((title, np.isin(drawn["writer"], writers)))
    rows.append(("all", np.ones(len(drawn["y"]), bool)))
    print(f"{'real digits':<30}{'n':>6}" + "".join(f"{m:>16}" for m in correct) + f"{'not a digit':>14}")
    for title, idx in rows:
        if idx.any():
            cells = "".join(f"{_pct(c[idx]):>16}" for c in correct.values())
            print(f"{title:<30}{idx.sum():>6}{cells}{_pct(flagged[idx]):>14}")


def mnist_test_accuracy(predictor) -> str:
    """The model's MNIST test accuracy, or a note when MNIST is not on this machine."""
    from mnist_core.data import load_mnist

    data = load_mnist()
    if len(data.x_test) < 10_000:
        return f"MNIST test: only the embedded sample here ({len(data.x_test)} digits), set MNIST_DATA_DIR"
    hits = predictor.probabilities(data.x_test.astype(np.float32) / 255).argmax(axis=1) == data.y_test
    return f"MNIST test accuracy {100 * hits.mean():.2f}%"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pendigits", type=Path, default=DEFAULT_PENDIGITS, help="folder of pendigits-orig.tra")
    parser.add_argument("--model", action="append", help="Keras model file(s); default: the starter")
    parser.add_argument("--writers", choices=("held-out", "validation", "report", "train"), default="held-out")
    parser.add_argument("--detector", type=Path, help="digit detector .keras (its .json beside it); default: shipped")
    parser.add_argument("--hold-out", help="writer ids held out instead of the default split, e.g. 28,6,14,2,19,4")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from mnist_core.drawing import detector
    from mnist_core.drawing.predict import load_predictor

    if not pendigits.is_reference_file(args.pendigits):
        print(f"note: {args.pendigits} is not the pendigits file README's figures were measured on")
    start = time.perf_counter()
    named = [int(w) for w in args.hold_out.split(",")] if args.hold_out else []
    drawn, split = held_out_set(args.pendigits, args.writers, args.seed, named)
    seconds = time.perf_counter() - start
    print(f"{len(drawn['y'])} drawings of {len(np.unique(drawn['writer']))} writers in {seconds:.0f} s")
    correct = {}
    for path in args.model or [None]:
        predictor = load_predictor(path)
        name = f"{Path(path).parent.name}/{Path(path).stem}"[:15] if path else "starter"
        correct[name] = predictor.probabilities(drawn["x"]).argmax(axis=1) == drawn["y"]
        print(f"{name}: {mnist_test_accuracy(predictor)}")
    found = detector.load_detector(args.detector) if args.detector else detector.load_detector()
    print(f"detector threshold {found.calibration.threshold:.3f}\n")
    report(correct, drawn, split, ~found.is_digit(drawn["x"]))


if __name__ == "__main__":
    main()
