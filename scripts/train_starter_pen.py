"""Fine-tune the starter on MNIST + pen-drawn digits of every style, mix it with the shipped one (WiSE-FT),
and train the digit detector.

    MNIST_DATA_DIR=/path/to/mnist nice -n 19 python scripts/train_starter_pen.py --out DIR
        [--part starter|detector|both] [--base MODEL] [--steps 1800] [--seed 0] [--cache DIR] [--bn mix|measure]

Writes DIR/finetuned.keras, DIR/starter.keras (the candidate: the two mixed), DIR/wise_ft.json (every
alpha's validation scores), and with --part detector DIR/digit_detector.keras and .json (its calibrated
threshold). Nothing in mnist_core/assets changes: a candidate is copied there only when it meets the
ship rule in README ("The starter model"). The recipe (also in README):
- validation, never trained on: 5,000 MNIST training digits (the starter's own held-out 600 first) and
  the training generator's held-out pen digits (other MNIST writers, other seeds);
- fine-tuning: `--base` (default: the shipped starter; to remake the shipped one, the base model that
  README's "The starter model" trains with the CLI), `--steps` batches of 128 = 96 MNIST training digits + 32 pen-drawn
  training digits (digit_drawings.pen_styles through canvas_to_mnist), all with the starter's
  augmentation; Adam, learning rate 3e-4 decaying to 0 (cosine); with `--keep distill` (the default since
  the fourth run) the loss on the MNIST digits adds the base model's own answers, softened at
  temperature 2 (learning without forgetting), and batch norm stays frozen unless `--train-bn` (the
  sixth run, which shipped, let it learn);
- WiSE-FT: θ = (1 - α)·θ_shipped + α·θ_fine-tuned for α = 0, 0.1, ..., 1, batch norm's moving mean
  and variance mixed like every other weight (`--bn measure`: re-measured on 10,000 MNIST training
  digits instead, as the second run did; that cost MNIST accuracy); α is the one with the best pen
  validation accuracy among those with at most 2 more MNIST validation errors than the shipped
  starter (ties: the smaller α).
- detector: mnist_core.drawing.detector.build_detector, 6,000 batches of 64 digits (MNIST, pen-drawn, and pen
  digits painted by digit_drawings.pen_variety's tablet-like pen) + 64 non-digits (32,000 drawings of
  digit_drawings.nondigits.TRAIN_KINDS, half painted by that pen), augmented alike; Adam 1e-3 decaying
  to 0, label smoothing 0.05. Threshold: the 0.5th percentile of its scores on 3,000 held-out pen digits
  (MNIST writers not used for training, and the parametric styles with other seeds; a third by that pen).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from digit_drawings import training_set  # noqa: E402
from mnist_core.drawing import detector  # noqa: E402

MNIST_PER_BATCH, PEN_PER_BATCH = 96, 32
LEARNING_RATE = 3e-4  # Adam, cosine decay to 0 over the run
STARTER_SPLIT_SEED = 0  # the starter preset's seed: its held-out 1% (600 digits) is order[:600] of this shuffle
VALIDATION_MNIST = 5_000  # MNIST training digits held out from fine-tuning (the first 600 the starter never saw)
BN_IMAGES = 10_000  # MNIST training digits (not validation) on which batch norm is re-measured
ALPHAS = tuple(round(0.1 * k, 1) for k in range(11))  # WiSE-FT: 0 is the base, 1 the fine-tuned model
PEN_SIZES = training_set.SetSizes(styles=6_000)  # 8,000 MNIST writers re-drawn, 6,000 style drawings, 2,000 held out
MNIST_SLACK = 2  # errors on the MNIST validation digits allowed beyond the base model's
DETECTOR_STEPS, DETECTOR_HALF = 6_000, 64
DETECTOR_SMOOTHING = 0.05  # label smoothing: keeps the logits of easy drawings from running away
DETECTOR_MNIST = 20_000  # plain MNIST training digits among the detector's digits
DETECTOR_PEN_DIGITS = (6_000, 1_000)  # digits painted by digit_drawings.pen_variety's pen: trained on, held out
DETECTOR_SIZES = training_set.SetSizes(nondigits=48_000)  # non-digits spread over nondigits.TRAIN_KINDS (~670 a kind)
CALIBRATION_QUANTILE = 0.005  # share of held-out pen digits allowed below the threshold
DISTILL_T, DISTILL_WEIGHT = 2.0, 1.0  # --keep distill: the base model's answers on MNIST digits, softened
REAL_BATCH = (72, 24, 32)  # with --pendigits: MNIST, pen-style and real writers' drawings in each batch of 128
REAL_RENDERS = 5  # times each training writer's digit is painted (another brush, size, place, colours, style)
PEN_SLACK = 0.005  # with --pendigits: pen-style validation accuracy allowed below the base model's


def _mixed(parts: list[tuple[np.ndarray, np.ndarray, int]], seed: int):
    """A tf.data pipeline: each batch takes `n` shuffled items of every (x, y, n), concatenated and augmented."""
    import tensorflow as tf

    from mnist_core.training.augment import augment_batch

    streams = [
        tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed + k).repeat().batch(n, drop_remainder=True)
        for k, (x, y, n) in enumerate(parts)
    ]
    joined = tf.data.Dataset.zip(tuple(streams)).map(
        lambda *batches: (tf.concat([b[0] for b in batches], 0), tf.concat([b[1] for b in batches], 0))
    )
    return joined.map(lambda x, y: (augment_batch(x), y)).prefetch(2)


def _schedule(rate: float, steps: int):
    import keras

    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(rate, steps, alpha=0.0))


def starter_holdout(n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """(validation, rest) MNIST training indices: the starter's own held-out 1% first (it never saw those 600),
    then more of the same shuffled order, VALIDATION_MNIST in all; fine-tuning never sees them."""
    order = np.random.default_rng(STARTER_SPLIT_SEED).permutation(n_train)
    return np.sort(order[:VALIDATION_MNIST]), np.sort(order[VALIDATION_MNIST:])


def finetune_starter(
    x_mnist,
    y_mnist,
    pen_x,
    pen_y,
    steps: int,
    seed: int,
    out: Path,
    keep: str = "none",
    train_bn: bool = False,
    base: Path | None = None,
    real: tuple[np.ndarray, np.ndarray] | None = None,
    real_batch: tuple[int, int, int] = REAL_BATCH,
    distill_weight: float = DISTILL_WEIGHT,
) -> None:
    """The base model (default: the shipped starter), fine-tuned on mixed batches (MNIST in every one); saved to
    out/finetuned.keras.

    keep="distill" (the fourth run) guards what the base model knows: its batch norm layers stay in
    inference mode with their statistics (the pen digits do not shift them; `train_bn` lets them learn),
    and on the batch's MNIST digits the loss adds the base model's own answers at temperature
    DISTILL_T (learning without forgetting).
    """
    import keras
    import tensorflow as tf

    base = base or _shipped()
    keras.utils.set_random_seed(seed)
    model = keras.saving.load_model(base, compile=False)
    teacher = keras.saving.load_model(base, compile=False) if keep == "distill" else None
    if teacher is not None and not train_bn:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False  # Keras 3: a frozen batch norm runs on its moving statistics
    optimizer = _schedule(LEARNING_RATE, steps)
    parts = batch_parts(x_mnist, y_mnist, pen_x, pen_y, real, real_batch)
    n_mnist = parts[0][2]
    is_mnist = tf.constant([1.0] * n_mnist + [0.0] * sum(n for _, _, n in parts[1:]))

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, p))
            if teacher is not None:
                kl = _tempered_kl(teacher(x, training=False), p, DISTILL_T)
                loss += distill_weight * tf.reduce_sum(kl * is_mnist) / n_mnist
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    for step, (x, y) in enumerate(_mixed(parts, seed).take(steps)):
        loss = train_step(x, y)
        if (step + 1) % 100 == 0:
            print(f"  batch {step + 1}: loss {float(loss):.4f} at {time.strftime('%H:%M:%S')}", flush=True)
    plain = keras.saving.load_model(base, compile=False)  # saved without the optimizer's state
    plain.set_weights(model.get_weights())
    plain.save(out / "finetuned.keras")


def batch_parts(x_mnist, y_mnist, pen_x, pen_y, real, real_batch=REAL_BATCH) -> list[tuple]:
    """(x, y, per batch) of each source, MNIST first: 96 MNIST + 32 pen, or with real writers' drawings
    (`real` = (x, y)) `real_batch` = (MNIST, pen, real) per batch."""
    if real is None:
        return [(x_mnist, y_mnist.astype(np.int64), MNIST_PER_BATCH), (pen_x, pen_y.astype(np.int64), PEN_PER_BATCH)]
    (mnist, pen, writers) = real_batch
    return [
        (x_mnist, y_mnist.astype(np.int64), mnist),
        (pen_x, pen_y.astype(np.int64), pen),
        (real[0], real[1].astype(np.int64), writers),
    ]


def _tempered_kl(teacher_p, student_p, temperature: float):
    """KL(teacher || student) per row, both softened to `temperature` from probabilities, times T² (Hinton et al.)."""
    import tensorflow as tf

    def log_soft(p):
        z = tf.math.log(tf.maximum(p, 1e-12)) / temperature
        return z - tf.reduce_logsumexp(z, axis=1, keepdims=True)

    log_t, log_s = log_soft(teacher_p), log_soft(student_p)
    return temperature**2 * tf.reduce_sum(tf.exp(log_t) * (log_t - log_s), axis=1)


def _shipped() -> Path:
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    return STARTER_MODEL_PATH


def choose_alpha(x_bn, x_val, y_val, pen_val, pen_val_y, out: Path, base: Path | None = None, real_val=None) -> float:
    """WiSE-FT: mix the base (default: the shipped starter) and fine-tuned weights for each alpha in ALPHAS
    (batch norm's statistics mixed with them, or re-measured on x_bn if it is not None) and pick one by
    `_best_alpha` on validation only. Saves out/starter.keras and out/wise_ft.json."""
    import keras

    base = base or _shipped()
    old = keras.saving.load_model(base, compile=False)
    tuned = keras.saving.load_model(out / "finetuned.keras", compile=False)
    mixed = keras.saving.load_model(base, compile=False)

    def score(model) -> dict:
        errors = int((_predict(model, x_val) != y_val).sum())
        row = {"mnist_val_errors": errors, "pen_val_accuracy": float((_predict(model, pen_val) == pen_val_y).mean())}
        if real_val is not None:
            row["real_val_accuracy"] = float((_predict(model, real_val[0]) == real_val[1]).mean())
        return row

    shipped = score(old)
    rows = []
    for alpha in ALPHAS:
        _mix(old, tuned, alpha, mixed, x_bn)
        rows.append({"alpha": alpha, **score(mixed)})
        print(f"alpha {alpha:.1f}: {rows[-1]}", flush=True)
    best = _best_alpha(rows, shipped)
    _mix(old, tuned, best, mixed, x_bn)
    mixed.save(out / "starter.keras")
    from mnist_core.drawing.predict import load_predictor  # the file is what ships: read back, it must score the same

    saved = load_predictor(out / "starter.keras").probabilities(x_val).argmax(axis=1)
    print(f"alpha {best} read back from starter.keras: {int((saved != y_val).sum())} MNIST validation errors")
    record = {"base": str(base), "shipped": shipped, "rows": rows, "alpha": best}
    record |= {"validation_mnist": len(y_val), "pen": len(pen_val_y)}
    if real_val is not None:
        record["real_writers"] = len(real_val[1])
    (out / "wise_ft.json").write_text(json.dumps(record, indent=1))
    print(f"base model on validation: {shipped}; chosen alpha {best}")
    return best


def _best_alpha(rows: list[dict], base: dict) -> float:
    """Among the alphas with at most MNIST_SLACK more MNIST validation errors than the base (and, with real
    writers, at most PEN_SLACK less pen-style validation accuracy), the one with the best real-writer (else
    pen-style) validation accuracy; ties: the smaller alpha. 0 (the base) when none qualifies."""
    allowed = [r for r in rows if r["mnist_val_errors"] <= base["mnist_val_errors"] + MNIST_SLACK]
    if "real_val_accuracy" in base:
        allowed = [r for r in allowed if r["pen_val_accuracy"] >= base["pen_val_accuracy"] - PEN_SLACK]
    goal = "real_val_accuracy" if "real_val_accuracy" in base else "pen_val_accuracy"
    return max(allowed, key=lambda r: (r[goal], -r["alpha"]))["alpha"] if allowed else 0.0


def _mix(old, tuned, alpha: float, into, x_bn) -> None:
    """into = WiSE-FT mix at alpha; batch norm's statistics mixed too, or re-measured on x_bn when given."""
    from mnist_core.training import weight_mix

    weight_mix.interpolate(old, tuned, alpha, into)
    if x_bn is not None:
        weight_mix.reestimate_batch_norm(into, x_bn)


def _predict(model, x: np.ndarray) -> np.ndarray:
    chunks = [model(x[i : i + 1000], training=False) for i in range(0, len(x), 1000)]
    return np.concatenate([np.asarray(c).argmax(axis=1) for c in chunks])


def report_test(data, out: Path) -> None:
    """MNIST test accuracy of the saved candidate files, read back through the Predictor (the file is what ships)."""
    from mnist_core.drawing.predict import load_predictor

    x_test = data.x_test.astype(np.float32) / 255
    for name in ("finetuned", "starter"):
        test = load_predictor(out / f"{name}.keras").probabilities(x_test).argmax(axis=1)
        print(f"{name}.keras (saved file): MNIST test accuracy {100 * (test == data.y_test).mean():.2f}%")


def build_starter(data, args) -> None:
    """Validation split, pen drawings of the other writers (and real writers' digits with --pendigits),
    fine-tuning, then WiSE-FT's alpha on validation only."""
    val_idx, rest = starter_holdout(len(data.x_train))
    x_rest, y_rest = data.x_train[rest], data.y_train[rest]
    pen = training_set.load_or_build_digits(args.cache, x_rest, y_rest, PEN_SIZES, args.seed, args.workers, "ft")
    real, real_val = real_writers(args) if args.pendigits else (None, None)
    x_mnist = x_rest.astype(np.float32) / 255
    if args.steps:
        tune = (args.steps, args.seed, args.out, args.keep, args.train_bn, args.base, real, args.real_batch)
        tune += (args.distill_weight,)
        finetune_starter(x_mnist, y_rest, pen["x"], pen["y"], *tune)
    bn_rows = np.random.default_rng(args.seed).choice(len(x_mnist), BN_IMAGES, replace=False)
    x_bn = x_mnist[bn_rows] if args.bn == "measure" else None
    x_val = data.x_train[val_idx].astype(np.float32) / 255
    pen_val = (pen["x_cal"], pen["y_cal"])
    choose_alpha(x_bn, x_val, data.y_train[val_idx], *pen_val, args.out, args.base, real_val)
    report_test(data, args.out)


def real_writers(args) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((x, y) of the training writers' digits, each painted REAL_RENDERS times, (x, y) of the validation
    writers' digits drawn by the benchmark's path): the report writers are never read here."""
    from digit_drawings import eval_real, pendigits

    digits = pendigits.read_pendigits(args.pendigits)
    split = pendigits.split_writers([d.writer for d in digits], named=tuple(args.hold_out or ()))
    train = pendigits.by_writers(digits, split.train)
    drawn = training_set.load_or_build_real(args.cache, train, args.renders, args.seed, args.workers, "train")
    if args.more_renders:  # the twelfth run: these digits painted again, other paintings (seed + 50)
        labels, renders = args.more_renders
        chosen = [d for d in train if d.label in labels]
        tag = "train-" + "".join(map(str, labels))
        more = training_set.load_or_build_real(args.cache, chosen, renders, args.seed + 50, args.workers, tag)
        drawn = {"x": np.concatenate([drawn["x"], more["x"]]), "y": np.concatenate([drawn["y"], more["y"]])}
    val = eval_real.drawn_set(pendigits.by_writers(digits, split.validation), args.seed + 100)
    print(
        f"real writers: {len(drawn['y'])} training drawings of writers {split.train}; "
        f"{len(val['y'])} validation drawings of writers {split.validation}",
        flush=True,
    )
    return (drawn["x"], drawn["y"]), (val["x"], val["y"])


def detector_sets(data, arrays: dict, seed: int, cache: Path, workers: int) -> dict:
    """The detector's digits, non-digits and held-out pen digits, float32 (N, 28, 28): {"digits", "others", "cal"}.

    Digits: DETECTOR_MNIST plain MNIST training digits, the training generator's pen digits, and its digits painted
    by the tablet-like pen (`digit_drawings.detector_set`); none of them from the threshold's writers."""
    from digit_drawings import detector_set

    unused = np.setdiff1d(np.arange(len(data.x_train)), arrays["mnist_used"])
    pen = detector_set.load_or_build(cache, data.x_train, data.y_train, unused, *DETECTOR_PEN_DIGITS, seed, workers)
    free = np.setdiff1d(unused, pen["writers_cal"])
    rows = np.random.default_rng(seed).choice(free, DETECTOR_MNIST, replace=False)
    mnist = data.x_train[rows].astype(np.float32) / 255
    x, y = arrays["x"], arrays["y"]
    return {
        "digits": np.concatenate([mnist, x[y >= 0], pen["x"]]),
        "others": x[y < 0],
        "cal": np.concatenate([arrays["x_cal"], pen["x_cal"]]),
    }


def fit_detector(digits: np.ndarray, others: np.ndarray, seed: int):
    """drawing.detector.build_detector trained on balanced batches, label-smoothed; the trained Keras model."""
    import keras

    keras.utils.set_random_seed(seed)
    ones, zeros = np.ones(len(digits), np.float32), np.zeros(len(others), np.float32)
    model = detector.build_detector()
    loss = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=DETECTOR_SMOOTHING)
    model.compile(_schedule(1e-3, DETECTOR_STEPS), loss=loss, metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    batches = _mixed([(digits, ones, DETECTOR_HALF), (others, zeros, DETECTOR_HALF)], seed).map(
        lambda x, y: (x, y[:, None])
    )
    model.fit(batches, steps_per_epoch=DETECTOR_STEPS // 3, epochs=3, verbose=2)
    return model


def train_detector(data, arrays: dict, seed: int, out: Path, cache: Path, workers: int = 2) -> None:
    """Digits against non-digits; threshold from held-out pen digits; saved to out/digit_detector.{keras,json}."""
    sets = detector_sets(data, arrays, seed, cache, workers)
    model = fit_detector(sets["digits"], sets["others"], seed)
    scores = model.predict(sets["cal"], batch_size=1000, verbose=0)[:, 0]
    threshold = float(np.quantile(scores, CALIBRATION_QUANTILE))
    test = model.predict(data.x_test.astype(np.float32) / 255, batch_size=1000, verbose=0)[:, 0]
    how = f"the {100 * CALIBRATION_QUANTILE:.1f}th percentile of its scores on {len(scores):,} held-out pen digits"
    calibration = detector.Calibration(threshold, how)
    model.save(out / "digit_detector.keras")
    flagged = float((test < threshold).mean())
    detector.save_calibration(calibration, out / "digit_detector.json", mnist_test_flagged=flagged)
    print(f"detector threshold {threshold:.3f} ({how}); MNIST test digits flagged: {100 * flagged:.2f}%")


def _batch(text: str) -> tuple[int, int, int]:
    parts = tuple(int(n) for n in text.split(","))
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"--real-batch takes three positive counts (MNIST,pen,real); got {text!r}")
    return parts


def _more_renders(text: str) -> tuple[tuple[int, ...], int]:
    digits, _, times = text.partition(":")
    if not digits.isdigit() or not times.isdigit() or int(times) < 1:
        raise argparse.ArgumentTypeError(f"--more-renders takes DIGITS:N, e.g. 17:5; got {text!r}")
    return tuple(sorted({int(c) for c in digits})), int(times)


def _writer_ids(text: str) -> list[int]:
    return [int(w) for w in text.split(",") if w.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the candidate models")
    parser.add_argument("--part", choices=("both", "starter", "detector"), default="starter")
    parser.add_argument("--steps", type=int, default=1_800, help="fine-tuning batches; 0: reuse out/finetuned.keras")
    parser.add_argument("--bn", choices=("mix", "measure"), default="mix", help="batch norm's statistics when mixing")
    parser.add_argument("--keep", choices=("none", "distill"), default="distill", help="guard MNIST while fine-tuning")
    parser.add_argument("--train-bn", action="store_true", help="with --keep distill: batch norm learns too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--distill-weight", type=float, default=DISTILL_WEIGHT, help="with --keep distill: weight of the base's answers"
    )
    parser.add_argument(
        "--base", type=Path, help="the model to fine-tune and mix back (default: the shipped starter; README: the base)"
    )
    parser.add_argument(
        "--pendigits", type=Path, help="folder of the real writers' pendigits-orig.tra: fine-tune on them too"
    )
    parser.add_argument(
        "--real-batch", type=_batch, default=REAL_BATCH, help="with --pendigits: MNIST,pen,real digits per batch"
    )
    parser.add_argument("--renders", type=int, default=REAL_RENDERS, help="paintings of each real training digit")
    parser.add_argument(
        "--more-renders",
        type=_more_renders,
        help="with --pendigits: DIGITS:N paints those training writers' digits N more times (e.g. 17:5)",
    )
    parser.add_argument(
        "--hold-out", type=_writer_ids, help="with --pendigits: hold out these writers (e.g. 28,6,14,2,19,4) instead"
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/digit_lab_pen_cache"))
    parser.add_argument("--workers", type=int, default=2, help="processes that make the drawings")
    args = parser.parse_args(argv)

    from mnist_core.data import load_mnist

    data = load_mnist()
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part in ("both", "detector"):
        sizes = DETECTOR_SIZES
        arrays = training_set.load_or_build(args.cache, data.x_train, data.y_train, sizes, args.seed, args.workers)
        train_detector(data, arrays, args.seed, args.out, args.cache, args.workers)
        print(f"detector done at {time.perf_counter() - start:.0f} s")
    if args.part in ("both", "starter"):
        build_starter(data, args)
        print(f"starter done at {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
