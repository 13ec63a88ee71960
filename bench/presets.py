"""Train every preset on one dataset through the runs API and print a table for the README.

    MNIST_DATA_DIR=../shared/data/mnist python bench/presets.py [--only quick cnn] [--runs-dir DIR]
    python bench/presets.py --data embedded      # the 5,000-digit sample a fresh install trains on

Wall time is the training itself (model.fit, from the first to the last epoch row), on this
machine; the run's data loading and test evaluation come on top. With --data embedded the runs see
neither MNIST_DATA_DIR nor a Keras cache, exactly as on a fresh install.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.presets import PRESETS  # noqa: E402
from mnist_core.runs import start_run  # noqa: E402


def run_preset(name: str, runs_dir: str, embedded: bool) -> dict:
    preset = PRESETS[name]
    handle = start_run(preset.config, name=f"bench {name}", runs_dir_path=runs_dir)
    status = handle.wait()
    epochs = handle.metrics().epochs
    evaluation = handle.evaluation()
    last = epochs[-1] if epochs else {}
    return {
        "preset": name,
        "state": status.state,
        "epochs": len(epochs),
        "wall_s": last.get("t", float("nan")),
        "val": last.get("val_accuracy", float("nan")),
        "test": evaluation.accuracy if evaluation else float("nan"),
        "expected": preset.expected_embedded if embedded else preset.expected_accuracy,
    }


def use_embedded_sample() -> None:
    """Hide every source of full MNIST from the worker processes (they inherit this environment)."""
    os.environ.pop("MNIST_DATA_DIR", None)
    os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="bench-no-keras-cache-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[p for p in PRESETS if p != "starter"])
    parser.add_argument("--runs-dir", default=tempfile.mkdtemp(prefix="bench-presets-"))
    parser.add_argument("--data", choices=("env", "embedded"), default="env", help="embedded: the 5,000-digit sample")
    args = parser.parse_args()
    embedded = args.data == "embedded"
    if embedded:
        use_embedded_sample()
    print("| preset | epochs | wall s | val acc | test acc | stated |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in args.only:
        row = run_preset(name, args.runs_dir, embedded)
        print(
            f"| {row['preset']} | {row['epochs']} | {row['wall_s']:.0f} | {row['val']:.2%} | {row['test']:.2%} "
            f"| {row['expected']:.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
