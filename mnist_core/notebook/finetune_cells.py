"""The cells of a fine-tune's notebook: the base model (`base_model.keras`) nudged on the person's own drawings
(`my_digits.npz`, both beside the notebook in its zip) mixed with MNIST digits, as the fine-tune run did it
(mnist_core.training.finetune): the same held-out drawings, repeats and distortions, MNIST sample, optimizer
and seed; its accuracy on the held-out drawings and on the test set before and after."""

from __future__ import annotations

from mnist_core.config import TrainingConfig
from mnist_core.notebook import cell_code as code
from mnist_core.notebook.cells import Cell, data_cells
from mnist_core.runs.names import FINETUNE_DIGITS

BASE_MODEL = "base_model.keras"
MY_DIGITS = FINETUNE_DIGITS  # the drawings keep the name they have in the run folder

DIGITS = """\
with np.load("{my_digits}") as mine:  # your drawings: uint8 images, labels, which are held out, their ids
    images, labels, holdout = mine["images"] / np.float32(255), mine["labels"].astype("int64"), mine["holdout"]
REPEAT = {repeat}  # each drawing shown this often per epoch; every copy but the first is distorted
MNIST_MIX = {mnist_mix}  # MNIST digits per drawing, so the model does not forget the digits it knew

x_mine, y_mine = np.tile(images[~holdout], (REPEAT, 1, 1)), np.tile(labels[~holdout], REPEAT)
n = int((~holdout).sum())
if REPEAT > 1:
    x_mine[n:] = augment(tf.constant(x_mine[n:], tf.float32), SEED).numpy()
n_mnist = min(len(y_train), round(MNIST_MIX * len(y_mine)))
pick = np.random.default_rng(SEED).choice(len(y_train), n_mnist, replace=False)
x_fit = np.concatenate([x_mine, x_train[pick] / np.float32(255)])
y_fit = np.concatenate([y_mine, y_train[pick]])
x_val, y_val = images[holdout], labels[holdout]  # the held-out drawings measure the fine-tune
print(f"{{n}} drawings x{{REPEAT}} + {{n_mnist:,}} MNIST digits to train on; {{len(y_val)}} drawings held out")
"""

BATCHES = '''\
def batches(x, y, batch_size, shuffle=False):
    """A tf.data pipeline of (float32 images in [0, 1], labels) batches (uint8 pixels are scaled on the way)."""
    images, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)

    def gather(index):
        batch = tf.gather(images, index)
        return (tf.cast(batch, tf.float32) / 255.0 if batch.dtype == tf.uint8 else batch), tf.gather(labels, index)

    return order.batch(batch_size).map(gather, deterministic=True).prefetch(2)


BATCH_SIZE, EPOCHS = {batch_size}, {epochs}
fit_batches = batches(x_fit, y_fit, BATCH_SIZE, shuffle=True)
val_batches = batches(x_val, y_val, 256)
test_batches = batches(x_test, y_test, 256)
'''

BASE = """\
keras.utils.set_random_seed(SEED)
model = keras.saving.load_model("{base_model}", compile=False)
for layer in model.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False  # a few hundred drawings must not move the statistics of 60,000 digits
LEARNING_RATE = {learning_rate!r}
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])


def accuracy_on(x, y):
    return float(np.mean(model.predict(batches(x, y, 256), verbose=0).argmax(axis=1) == y))


before_held_out, before_test = accuracy_on(x_val, y_val), accuracy_on(x_test, y_test)
print(f"before: {{before_held_out:.2%}} of your held-out drawings, {{before_test:.2%}} of the test set")
"""

FIT = """\
start = time.monotonic()
history = model.fit(fit_batches, epochs=EPOCHS, validation_data=val_batches, shuffle=False, verbose=2)
print(f"fine-tuned in {time.monotonic() - start:.0f} s")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
epochs = range(1, len(history.history["loss"]) + 1)
for key, axis in (("loss", left), ("accuracy", right)):
    axis.plot(epochs, history.history[key], label="train (drawings + MNIST)")
    axis.plot(epochs, history.history["val_" + key], label="held-out drawings")
    axis.set_xlabel("epoch")
    axis.set_title(key)
    axis.legend()
plt.show()
"""

AFTER = """\
after_held_out = accuracy_on(x_val, y_val)
print(f"your held-out drawings: {before_held_out:.2%} before, {after_held_out:.2%} after")
"""


def finetune_cells(
    config: TrainingConfig, name: str, source: str, keras_version: str, spec: dict, digits: int
) -> list[Cell]:
    """Every cell of the fine-tune's notebook, in order; `digits` is how many drawings it had."""
    intro = (
        f"# {name}\n\nThis notebook **fine-tunes** a trained model on your own drawings, as the Digit Lab run "
        f"*{name}* did. Keep the three files of its zip together: the model it started from (`{BASE_MODEL}`), "
        f"your {digits} labelled drawings (`{MY_DIGITS}`, 30% of each digit held out to measure the fine-tune) "
        f"and this notebook. It needs only Keras, NumPy and matplotlib, and was written for **Keras "
        f"{keras_version}** with the TensorFlow backend."
    )
    return [
        ("markdown", intro),
        ("code", code.IMPORTS + f"SEED = {config.seed}  # the MNIST sample, shuffling, distortions\n"),
        *data_cells(source),
        ("markdown", "## 2. Your drawings, mixed with MNIST\n\nThe drawings that are not held out are repeated, "
         "every copy but the first randomly distorted, and mixed with a sample of MNIST's training digits so "
         "the model learns your style without forgetting everyone else's."),
        ("code", code.AUGMENT + DIGITS.format(my_digits=MY_DIGITS, repeat=int(spec["repeat"]),
                                              mnist_mix=float(spec["mnist_mix"]))),
        ("markdown", f"## 3. Batches\n\nBatches of {config.batch_size}, reshuffled every epoch."),
        ("code", BATCHES.format(batch_size=config.batch_size, epochs=config.epochs)),
        ("markdown", "## 4. The model it starts from\n\nLoaded as it was trained, its batch-normalisation "
         "statistics frozen, and a small constant learning rate: a nudge, not a new training. Measured first."),
        ("code", BASE.format(base_model=BASE_MODEL, learning_rate=config.learning_rate)),
        ("markdown", "## 5. Fine-tuning\n\n`fit` for `EPOCHS` epochs; the last weights are kept."),
        ("code", FIT),
        ("markdown", "## 6. After\n\nThe same measures again: your held-out drawings, then the test set with its "
         "confusion matrix and the mistakes the model was surest of."),
        ("code", AFTER + code.EVALUATE),
        ("markdown", "## 7. Keep it\n\nThe fine-tuned model loads in Digit Lab (upload it on the Draw page)."),
        ("code", code.SAVE),
    ]  # fmt: skip
