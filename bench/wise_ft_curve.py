"""Every WiSE-FT alpha of a starter run on the MNIST test set and the pen benchmark: an analysis after the run.

Never use it to choose alpha (scripts/train_starter_pen.py chooses on validation only): it reads the test
set and the benchmark. Batch norm's statistics are mixed with the weights (`--bn measure`: re-measured, as the
second run did).

    python bench/wise_ft_curve.py --run /tmp/candidate --drawings CACHE.npz [--bn mix|measure]

CACHE.npz: the drawings `bench/pen_styles.py --cache CACHE.npz` kept (its defaults, seed 0).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# bench/queue.py must not hide the standard library's queue (TensorFlow imports it): this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def _script():
    spec = importlib.util.spec_from_file_location("train_starter_pen", ROOT / "scripts" / "train_starter_pen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the folder with finetuned.keras")
    parser.add_argument("--drawings", type=Path, required=True, help="bench/pen_styles.py --cache file")
    parser.add_argument("--seed", type=int, default=0, help="the run's --seed (which digits re-measure batch norm)")
    parser.add_argument("--bn", choices=("mix", "measure"), default="mix", help="batch norm's statistics")
    args = parser.parse_args(argv)

    import keras

    from mnist_core.data import load_mnist
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    run, data = _script(), load_mnist()
    _, rest = run.starter_holdout(len(data.x_train))
    x_rest = data.x_train[rest].astype(np.float32) / 255
    x_bn = x_rest[np.random.default_rng(args.seed).choice(len(x_rest), run.BN_IMAGES, replace=False)]
    with np.load(args.drawings) as cache:
        x_pen, labels = cache["x"], cache["labels"]
    x_test = data.x_test.astype(np.float32) / 255
    old, tuned, mixed = (
        keras.saving.load_model(p, compile=False)
        for p in (STARTER_MODEL_PATH, args.run / "finetuned.keras", STARTER_MODEL_PATH)
    )
    print(f"{'alpha':>6}{'MNIST test':>12}{'pen, all':>10}" + "".join(f"{d:>7}" for d in range(10)))
    for alpha in run.ALPHAS:
        run._mix(old, tuned, alpha, mixed, x_bn if args.bn == "measure" else None)
        test = (run._predict(mixed, x_test) == data.y_test).mean()
        right = run._predict(mixed, x_pen) == labels
        digits = "".join(f"{100 * right[labels == d].mean():7.1f}" for d in range(10))
        print(f"{alpha:>6.1f}{100 * test:>11.2f}%{100 * right.mean():>9.2f}%{digits}", flush=True)


if __name__ == "__main__":
    main()
