"""Cost of a run's extra work (live metrics, stop checks, NaN guard, checkpoints) over a bare fit.

Trains the same model on the same data for the same epochs, alternating bare `model.fit` and
`model.fit` with the run's callbacks, in one process, and prints the time ratio.

    MNIST_DATA_DIR=../shared/data/mnist python bench/train_overhead.py [--preset seed003] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.models import build_model  # noqa: E402
from mnist_core.presets import get_preset  # noqa: E402
from mnist_core.runs.files import RunFiles  # noqa: E402
from mnist_core.training import fit, make_callbacks, make_split  # noqa: E402


def timed_fit(config, split, with_callbacks: bool) -> float:
    steps = -(-len(split.y_train) // config.batch_size)
    model = build_model(config, steps_per_epoch=steps)
    callbacks = []
    if with_callbacks:
        folder = Path(tempfile.mkdtemp(prefix="overhead-"))
        callbacks = make_callbacks(RunFiles(folder), config, steps).all
    fit(
        model,
        split.__class__(split.x_train[:512], split.y_train[:512], split.x_val[:256], split.y_val[:256], ""),
        config.replace(epochs=1),
        [],
    )  # warm-up: tracing and first-call costs stay out of the timing
    start = time.perf_counter()
    fit(model, split, config, callbacks)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="seed003")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = get_preset(args.preset).replace(
        epochs=args.epochs, train_limit=args.train_limit, early_stopping_patience=0
    )
    split = make_split(load_mnist(), config)
    bare, run = [], []
    for _ in range(args.repeats):
        bare.append(timed_fit(config, split, with_callbacks=False))
        run.append(timed_fit(config, split, with_callbacks=True))
        print(f"bare fit {bare[-1]:.2f} s, run fit {run[-1]:.2f} s", flush=True)
    pairs = [r / b for r, b in zip(run, bare, strict=True)]  # each pair ran back to back: less drift
    ratio = statistics.median(pairs)
    print(f"\npreset {args.preset}, {args.epochs} epochs on {len(split.y_train):,} digits, {args.repeats} repeats")
    print(f"median bare model.fit: {statistics.median(bare):.2f} s")
    print(f"median run (callbacks, metrics, checkpoints): {statistics.median(run):.2f} s")
    print(f"pair ratios: {', '.join(f'{p:.3f}' for p in pairs)}")
    print(f"overhead ratio (median of pairs): {ratio:.3f} ({(ratio - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
