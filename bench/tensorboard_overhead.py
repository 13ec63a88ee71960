"""Cost of writing TensorBoard event files during a run: epoch time with and without the writer.

Trains the quick preset's model on a fixed slice of MNIST (default 20,000 digits x 2 epochs) with
the run's own callbacks, alternating: without TensorBoard, with `tensorboard_log.TensorBoardLog`
and, when the `tensorboard` package can be imported, with `keras.callbacks.TensorBoard(update_freq=
"epoch", profile_batch=0, histogram_freq=0)` for comparison. Prints the median epoch time of each,
their ratio and the time spent inside the writer's own hooks (immune to the noise of a shared CPU).

    MNIST_DATA_DIR=../shared/data/mnist python bench/tensorboard_overhead.py [--limit 20000] [--repeats 3]
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

import keras  # noqa: E402

from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.models import build_model  # noqa: E402
from mnist_core.presets import get_preset  # noqa: E402
from mnist_core.runs.files import RunFiles  # noqa: E402
from mnist_core.training import Split, fit, make_callbacks, make_split, steps_per_epoch  # noqa: E402
from mnist_core.training.tensorboard_log import TensorBoardLog  # noqa: E402


class EpochClock(keras.callbacks.Callback):
    """Wall time and process CPU time of each epoch (validation included). On a shared machine the CPU
    time is the steadier measure: waiting for other people's processes does not count in it."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self.cpu: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)
        self.cpu.append(time.process_time() - self._cpu)


class HookClock(keras.callbacks.Callback):
    """Runs another callback and adds up the time spent in its hooks."""

    def __init__(self, inner: keras.callbacks.Callback):
        super().__init__()
        self.inner, self.spent = inner, 0.0

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.inner.set_params(params)


def _timed_hook(name: str):
    def hook(self, *args, **kwargs):
        start = time.perf_counter()
        getattr(self.inner, name)(*args, **kwargs)
        self.spent += time.perf_counter() - start

    return hook


for _name in ("train_begin", "train_end", "epoch_begin", "epoch_end", "test_begin", "test_end"):
    setattr(HookClock, f"on_{_name}", _timed_hook(f"on_{_name}"))
for _name in ("train_batch_begin", "train_batch_end", "test_batch_begin", "test_batch_end"):
    setattr(HookClock, f"on_{_name}", _timed_hook(f"on_{_name}"))


def writer(variant: str, folder: Path) -> keras.callbacks.Callback | None:
    if variant == "ours":
        return TensorBoardLog(folder / "tensorboard")
    if variant == "keras":
        return keras.callbacks.TensorBoard(
            str(folder / "tensorboard"), update_freq="epoch", profile_batch=0, histogram_freq=0
        )
    return None


def timed_fit(config, split: Split, variant: str) -> tuple[list[float], list[float], float]:
    """(epoch wall times, epoch CPU times, seconds inside the TensorBoard writer's hooks) of one fit."""
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, steps_per_epoch=steps_per_epoch(split, config))
    small = Split(split.x_train[:512], split.y_train[:512], split.x_val[:256], split.y_val[:256], "")
    fit(model, small, config.replace(epochs=1), [])  # warm-up: tracing stays out of the timing
    folder = Path(tempfile.mkdtemp(prefix="tb-overhead-"))
    clock, extra = EpochClock(), writer(variant, folder)
    hooks = HookClock(extra) if extra is not None else None
    callbacks = make_callbacks(RunFiles(folder), config, steps_per_epoch(split, config)).all
    fit(model, split, config, [clock, *callbacks, *([hooks] if hooks else [])])
    return clock.times, clock.cpu, hooks.spent if hooks else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=20_000, help="training digits (a fixed seeded slice)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = get_preset(args.preset).replace(epochs=args.epochs, train_limit=args.limit, early_stopping_patience=0)
    data = load_mnist()
    split = make_split(data, config)
    variants = ["none", "ours"]
    try:
        import tensorboard  # noqa: F401

        variants.append("keras")
    except ImportError:
        print("(the tensorboard package is not installed: keras.callbacks.TensorBoard is not measured)")
    wall, cpu, spent = ({v: [] for v in variants} for _ in range(3))
    for repeat in range(args.repeats):
        for variant in variants:  # alternating, so drift in the machine's load hits every variant alike
            times, cpu_times, inside = timed_fit(config, split, variant)
            wall[variant] += times
            cpu[variant] += cpu_times
            spent[variant].append(inside)
            shown = ", ".join(f"{t:.2f} s ({c:.2f} s CPU)" for t, c in zip(times, cpu_times, strict=True))
            print(f"repeat {repeat + 1} {variant:5}: epochs {shown}", flush=True)
    print(f"\npreset {args.preset}, {args.epochs} epochs on {len(split.y_train):,} digits ({data.kind} MNIST), "
          f"{args.repeats} repeats per variant ({len(wall['none'])} epochs each), median epoch:")  # fmt: skip
    for variant in variants:
        median, median_cpu = statistics.median(wall[variant]), statistics.median(cpu[variant])
        ratio, ratio_cpu = median / statistics.median(wall["none"]), median_cpu / statistics.median(cpu["none"])
        inside = sum(spent[variant]) / len(wall[variant])
        print(
            f"{variant:5} wall {median:6.2f} s (ratio {ratio:.4f}, {(ratio - 1) * 100:+.2f}%)  "
            f"CPU {median_cpu:6.2f} s (ratio {ratio_cpu:.4f}, {(ratio_cpu - 1) * 100:+.2f}%)  "
            f"inside the writer {inside * 1000:.1f} ms/epoch ({inside / median * 100:.3f}% of the epoch)"
        )
    spread = min(wall["none"]), max(wall["none"])
    print(
        f"(epochs without a writer took {spread[0]:.2f}..{spread[1]:.2f} s: on a shared machine the ratios swing by "
        "more than 1%, while the time inside the writer is what it adds to each epoch)"
    )


if __name__ == "__main__":
    main()
