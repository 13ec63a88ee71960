"""Watch it learn: fixed digits, a row of guesses per epoch in watch.json, cheap enough to always run."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnist_core import training
from mnist_core.config import TrainingConfig
from mnist_core.data import load_mnist
from mnist_core.runs import files as run_files
from mnist_core.training.watch import DigitWatcher, fixed_watch_indices, load_watch

TINY = TrainingConfig(hidden_units=(32,), epochs=2, batch_size=64, train_limit=300)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir)


def test_fixed_indices_pick_ten_of_each_digit_from_the_test_set(mnist):
    indices = fixed_watch_indices(labels=mnist.y_test)
    labels = mnist.y_test[indices]
    assert indices.dtype == np.int64 and len(indices) == 100
    assert np.array_equal(labels, np.repeat(np.arange(10), 10))  # sorted by digit: one grid row per digit
    assert len(set(indices.tolist())) == 100
    assert np.array_equal(indices, fixed_watch_indices(labels=mnist.y_test))
    assert not np.array_equal(indices, fixed_watch_indices(seed=1, labels=mnist.y_test))


def test_fixed_indices_take_what_a_small_test_set_has():
    labels = np.array([0, 0, 1, 2, 2, 2])
    indices = fixed_watch_indices(n=20, labels=labels)  # 2 per digit wanted; digit 1 has only one
    assert labels[indices].tolist() == [0, 0, 1, 2, 2]


def fit_watched(tmp_path, mnist, epochs=2, path=None):
    from mnist_core.models import build_model
    from mnist_core.training.watch import WatchDigits

    indices = fixed_watch_indices(labels=mnist.y_test)
    x = mnist.x_train[:300].astype(np.float32) / 255
    watch = WatchDigits(
        path or tmp_path / "watch.json", mnist.x_test[indices] / np.float32(255), mnist.y_test[indices], indices
    )
    model = build_model(TINY)
    model.fit(x, mnist.y_train[:300], epochs=epochs, batch_size=64, callbacks=[watch], verbose=0)
    return model, watch, indices


def test_watch_json_has_a_row_before_training_and_per_epoch(tmp_path, mnist):
    model, _, indices = fit_watched(tmp_path, mnist)
    watch = load_watch(tmp_path)
    assert watch.epochs == [0, 1, 2]
    assert watch.indices == indices.tolist() and watch.source == "MNIST test set"
    assert watch.guesses.shape == watch.confidence.shape == (3, 100)
    np.testing.assert_array_equal(watch.images, mnist.x_test[indices])
    np.testing.assert_array_equal(watch.labels, mnist.y_test[indices])
    expected = model.predict(mnist.x_test[indices] / np.float32(255), verbose=0)
    np.testing.assert_array_equal(watch.guesses[-1], expected.argmax(axis=1))
    np.testing.assert_allclose(watch.confidence[-1], expected.max(axis=1), atol=1e-3)
    assert watch.accuracy[-1] > watch.accuracy[0]  # it learnt something from 300 digits


def test_a_failing_watch_never_stops_training(tmp_path, mnist, capsys):
    _, watch, _ = fit_watched(tmp_path, mnist, epochs=1, path=tmp_path / "missing" / "watch.json")
    assert len(watch.costs) == 2
    assert "WatchDigits: could not record epoch 1" in capsys.readouterr().err


def test_watch_costs_under_one_percent_of_an_epoch(tmp_path, mnist):
    """One row costs less than 1% of a full-MNIST epoch of the `quick` preset model (469 steps of 128)."""
    import tensorflow as tf

    from mnist_core.models import build_model
    from mnist_core.presets import get_preset
    from mnist_core.training.watch import WatchDigits

    model = build_model(get_preset("quick"), steps_per_epoch=469)
    x, y = tf.constant(mnist.x_train[:128] / np.float32(255)), tf.constant(mnist.y_train[:128])
    steps = []
    for _ in range(8):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        steps.append(time.perf_counter() - start)
    watch = WatchDigits(tmp_path / "watch.json", mnist.x_test[:100] / np.float32(255), mnist.y_test[:100])
    watch.set_model(model)
    for epoch in range(5):
        watch.on_epoch_end(epoch)
    epoch_s = 469 * float(np.median(steps[3:]))
    assert float(np.median(watch.costs[1:])) < 0.01 * epoch_s, (watch.costs, epoch_s)


BAD = [
    (np.zeros((5, 28, 27), np.float32), np.zeros(5, int), "images (N, 28, 28) and labels (N,); got (5, 28, 27)"),
    (np.zeros((5, 28, 28), np.float32), np.zeros(4, int), "got (5, 28, 28) and (4,)"),
    (np.zeros((5, 28, 28), np.uint8), np.zeros(5, int), "float images in [0, 1]"),
    (np.full((5, 28, 28), 2, np.float32), np.zeros(5, int), "float images in [0, 1]"),
]


@pytest.mark.parametrize(("images", "labels", "message"), BAD, ids=[m for *_, m in BAD])
def test_watcher_rejects_bad_digits(tmp_path, images, labels, message):
    with pytest.raises(ValueError) as error:
        DigitWatcher(tmp_path / "watch.json", images, labels)
    assert message in str(error.value)


@pytest.mark.parametrize("content", [None, "{", '{"labels": [1]}', '{"labels": [1], "images": "AAAA", "rows": []}'])
def test_load_watch_returns_none_without_a_readable_file(tmp_path, content):
    if content is not None:
        (tmp_path / "watch.json").write_text(content)
    assert load_watch(tmp_path) is None


def test_training_runs_record_the_watch(tmp_path, mnist_dir):
    files = run_files.RunFiles(tmp_path)
    files.write_meta(TINY.replace(epochs=1), "watched", str(mnist_dir))
    files.update_status(state="queued", epochs=1)
    assert training.train(tmp_path) == "completed"
    watch = load_watch(tmp_path)
    assert watch.epochs == [0, 1] and watch.source == "test set" and len(watch.labels) == 100
