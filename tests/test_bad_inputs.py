"""Every bad input a user can hand Digit Lab, in one table: what they get, and that nothing was lost.

Each case builds its bad input in a fresh folder that already holds a finished run (config, status,
metrics, a model file), calls the public API once and checks two promises:
(a) the exception type and a message that says what is wrong and what to do (or, for drawings, the
    graceful answer), and (b) no file that existed before changed, vanished or gained a neighbour
    (a failed save leaves the old model's bytes and no temp file).
`bench/bad_inputs_table.py` runs the same table to write docs/bad-inputs.md, and each case checks
that its row there still shows the message it gets, so the doc stays true.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import math
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hostile_files import (
    ENCRYPTED_FLAG,
    patched_zip,
    png_header_bomb,
    reused_conv_model,
    rewritten,
    shape_bomb_weights,
)

from mnist_core import training
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.data import DataError, load_mnist
from mnist_core.drawing.canvas_image import CanvasImageError
from mnist_core.drawing.predict import MAX_MODEL_BYTES, ModelLoadError, load_predictor
from mnist_core.drawing.preprocess import canvas_to_mnist
from mnist_core.my_digits import MyDigitsError
from mnist_core.runs import RunError, RunHandle, start_run
from mnist_core.runs.files import RunFiles
from mnist_core.storage import StorageError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "bad-inputs.md"
EXISTING = "20240101-000000-existing"  # the finished run every case starts next to
TINY = TrainingConfig(hidden_units=(8,), epochs=1, batch_size=4)


@dataclass
class World:
    """A case's folder: `root` holds runs/ with one finished run; `mp` patches for this case only."""

    root: Path
    mp: pytest.MonkeyPatch
    runs: Path = field(init=False)
    run: RunHandle = field(init=False)

    def __post_init__(self) -> None:
        self.runs = self.root / "runs"
        files = RunFiles(self.runs / EXISTING)
        files.path.mkdir(parents=True)
        files.write_meta(TINY, "existing run", None)
        files.update_status(state="completed", message="Completed 1 epoch.", created_at=1.7e9, epoch=1, epochs=1)
        files.metrics.write_text('{"kind":"epoch","epoch":1,"loss":0.5,"val_accuracy":0.9}\n')
        files.model_file("best").write_bytes(b"PK\x03\x04 the bytes of a model trained earlier")
        self.run = RunHandle(files.path)


@dataclass(frozen=True)
class Case:
    """One bad input. `setup(world)` builds it and returns the one public call to make."""

    area: str  # data, model, training, drawing
    id: str
    what: str  # the bad input, for people
    setup: Callable[[World], Callable[[], object]]
    error: type[BaseException] | None  # the exception a user gets; None: handled without one
    fragment: str  # part of the message (or of the outcome) that says what is wrong / what to do
    may_change: tuple[str, ...] = ()  # paths (relative to the case folder) the call is meant to write


# ---------------------------------------------------------------- data files
def _digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def _idx(magic: int, array: np.ndarray) -> bytes:
    return np.array([magic, *array.shape], ">u4").tobytes() + array.astype(np.uint8).tobytes()


def idx_folder(w: World, **override: bytes) -> Path:
    """The four raw IDX files (20 train, 10 test); `override` replaces one, keyed like 'train_images'."""
    folder = w.root / "mnist"
    folder.mkdir()
    (xtr, ytr), (xte, yte) = _digits(20, 1), _digits(10, 2)
    files = {"train_images": ("train-images-idx3-ubyte", _idx(2051, xtr)),
             "train_labels": ("train-labels-idx1-ubyte", _idx(2049, ytr)),
             "test_images": ("t10k-images-idx3-ubyte", _idx(2051, xte)),
             "test_labels": ("t10k-labels-idx1-ubyte", _idx(2049, yte))}  # fmt: skip
    for key, (name, payload) in files.items():
        (folder / name).write_bytes(override.get(key, payload))
    return folder


def csv_folder(w: World, edit: Callable[[list[str]], None]) -> Path:
    """mnist_train.csv + mnist_test.csv (label, 784 pixels); `edit` changes the train file's lines."""
    folder = w.root / "csv"
    folder.mkdir()
    for name, (x, y) in (("mnist_train.csv", _digits(20, 1)), ("mnist_test.csv", _digits(10, 2))):
        lines = [",".join(map(str, [label, *image.ravel()])) for image, label in zip(x, y, strict=True)]
        if name == "mnist_train.csv":
            edit(lines)
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def _set_field(lines: list[str], line: int, column: int, value: str) -> None:
    fields = lines[line - 1].split(",")
    fields[column - 1] = value
    lines[line - 1] = ",".join(fields)


def _drop_labels(lines: list[str]) -> None:
    lines[:] = [line.split(",", 1)[1] for line in lines]


def gz_not_gzip(w: World) -> Path:
    """The train labels only as a .gz that is really a web server's error page."""
    folder = idx_folder(w)
    (folder / "train-labels-idx1-ubyte").unlink()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    return folder


def npz_file(w: World, drop: str) -> Path:
    (xtr, ytr), (xte, yte) = _digits(20, 1), _digits(10, 2)
    arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}
    arrays.pop(drop)
    np.savez(w.root / "mnist.npz", **arrays)
    return w.root / "mnist.npz"


def load(path: Path) -> Callable[[], object]:
    return lambda: load_mnist(path)


# ---------------------------------------------------------------- model files
def _keras():
    import keras

    return keras


def _sequential(input_shape: tuple, *body, classes: int = 10):
    keras = _keras()
    layers = keras.layers
    flat = [layers.Flatten()] if len(input_shape) > 1 else []
    return keras.Sequential(
        [
            keras.Input(input_shape),
            *body,
            *flat,
            layers.Dense(16, activation="relu"),
            layers.Dense(classes, activation="softmax"),
        ]
    )


def saved(w: World, name: str, model) -> Path:
    path = w.root / name
    model.save(path)
    return path


def written(w: World, name: str, data: bytes) -> Path:
    path = w.root / name
    path.write_bytes(data)
    return path


def corrupt_zip(w: World) -> Path:
    path = saved(w, "corrupt.keras", _sequential((28, 28)))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    return written(w, "corrupt.keras", bytes(data))


def lambda_model(w: World) -> Path:
    keras = _keras()
    return saved(w, "lambda.keras", _sequential((28, 28), keras.layers.Lambda(lambda x: x * 2)))


def seed_notebook_h5(w: World) -> Path:
    """The seed notebooks' style: a Dense 512-512 on flat 784 inputs, saved whole as legacy HDF5."""
    keras = _keras()
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return saved(w, "seed000.h5", model)


def weights_only_h5(w: World) -> Path:
    """What `model.save_weights('mnist.h5')` wrote in the seed notebooks' Keras 2: weights, no model."""
    import h5py

    path = w.root / "mnist_weights.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = [b"dense", b"dense_1"]
        h5.create_group("dense").create_dataset("kernel", data=np.zeros((784, 512), np.float32))
    return path


def sparse(w: World, name: str, size: int) -> Path:
    path = w.root / name
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def loads(path: Path) -> Callable[[], object]:
    return lambda: load_predictor(path)


def predict_one(path: Path) -> Callable[[], object]:
    def act() -> str:
        predictor = load_predictor(path)
        p = predictor.probabilities(np.zeros((1, 28, 28), np.float32))
        assert p.shape == (1, 10) and math.isclose(float(p.sum()), 1.0, abs_tol=1e-4)
        return f"loads (legacy HDF5, input {predictor.input_shape} fed from 28×28) and predicts 10 probabilities"

    return act


def tiny_predictor(w: World):
    from mnist_core.models import build_model

    path = w.root / "tiny.keras"
    build_model(TINY).save(path)
    return load_predictor(path)


# ---------------------------------------------------------------- training
def in_process_run(w: World, config: TrainingConfig, data: Path) -> Callable[[], object]:
    """A queued run folder; the call trains it here, as the worker would (it fails before Keras loads)."""
    files = RunFiles(w.runs / "20240101-000001-new")
    files.path.mkdir()
    files.write_meta(config, "new", str(data))
    files.update_status(state="queued", message="Waiting…", created_at=1.7e9, epochs=config.epochs)

    def act() -> str:
        try:
            training.train(files.path)
        finally:
            status = files.read_status()
            assert status.state == "failed" and status.message.startswith("Training failed: ")

    return act


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def refuse_writes(w: World, code: int) -> None:
    """The runs folder refuses new files (chmod does not stop root, so patch what the probe calls)."""

    def refuse(self: Path, data: bytes) -> int:
        raise OSError(code, os.strerror(code), str(self))

    w.mp.setattr(Path, "write_bytes", refuse)


class _FullDisk(io.RawIOBase):
    """A binary file that takes `room` bytes and then fails as a full disk does."""

    def __init__(self, file, room: int):
        self.file, self.room = file, room

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def write(self, data) -> int:
        if self.file.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()
        super().close()


def disk_full_for_models(w: World, room: int = 2048) -> None:
    """Any .keras file opened for writing gets `room` bytes, then ENOSPC (Keras writes through open())."""
    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if str(file).endswith(".keras") and "w" in str(mode):
            return _FullDisk(real_open(file, "wb"), room)
        return real_open(file, mode, *args, **kwargs)

    w.mp.setattr(builtins, "open", fake_open)


def save_checkpoint_on_full_disk(w: World) -> Callable[[], object]:
    from mnist_core.models import build_model

    model = build_model(TINY)

    def act() -> None:
        disk_full_for_models(w)
        w.run.files.save_model(model, "best")

    return act


def rename_on_full_disk(w: World) -> Callable[[], object]:
    def act() -> None:
        w.mp.setattr(os, "fsync", no_space)
        w.run.rename("renamed")

    return act


def start_on_full_disk(w: World) -> Callable[[], object]:
    """The empty probe file fits, the run's config.json does not (a nearly full disk)."""

    def act() -> None:
        w.mp.setattr(os, "fsync", no_space)
        start_run(TINY, name="too late", runs_dir_path=w.runs)

    return act


# ---------------------------------------------------------------- drawings
def drawn(image) -> Callable[[], object]:
    """canvas_to_mnist, described as the Draw page shows it."""

    def act() -> str:
        out = canvas_to_mnist(image)
        if out is None:
            return "no digit (None): the Draw page says 'Draw a digit on the canvas…'"
        assert out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1
        return "a 28×28 digit in [0, 1], fitted and centred like MNIST"

    return act


def canvas(fill: int = 0, ink: tuple[slice, slice] | None = None, size: int = 280, channels: int = 4) -> np.ndarray:
    image = np.full((size, size, channels), fill, np.uint8)
    if channels == 4:
        image[..., 3] = 255  # opaque
    if ink is not None:
        image[ink] = 255
    return image


def huge_drawing(size: int = 4096) -> np.ndarray:
    """A '1' on a transparent canvas 15 times the Draw page's."""
    image = np.zeros((size, size, 4), np.uint8)
    image[size // 7 : size * 6 // 7, size * 15 // 32 : size * 17 // 32] = 255
    return image


def nan_for_the_model(w: World) -> Callable[[], object]:
    predictor = tiny_predictor(w)
    return lambda: predictor.probabilities(np.full((1, 28, 28), np.nan, np.float32))


# ---------------------------------------------------------------- the table
_D, _M, _T, _W = "data", "model", "training", "drawing"
_NEW_RUN_STATUS = ("runs/20240101-000001-new/status.json",)

CASES = [
    Case(_D, "idx-truncated", "IDX images file cut short",
         lambda w: load(idx_folder(w, train_images=_idx(2051, _digits(20, 1)[0])[:-100])),
         DataError, "header says 20 images of 28x28 (15,680 bytes) but the file holds 15,580. Re-download it."),
    Case(_D, "idx-wrong-magic", "labels file where the images file should be",
         lambda w: load(idx_folder(w, test_images=_idx(2049, _digits(10, 2)[1]))),
         DataError, "wrong magic number 2049 (that is a labels file); an MNIST images file starts with 2051"),
    Case(_D, "idx-32x32", "IDX images of 32×32 pixels",
         lambda w: load(idx_folder(w, train_images=_idx(2051, np.zeros((20, 32, 32))))),
         DataError, "images are 32x32; MNIST digits are 28x28. Use the MNIST files."),
    Case(_D, "idx-count-mismatch", "20 images but 19 labels",
         lambda w: load(idx_folder(w, train_labels=_idx(2049, _digits(19, 1)[1]))),
         DataError, "20 images but 19 labels; they must match. Re-download it."),
    Case(_D, "idx-label-10", "a label 10 among the digits",
         lambda w: load(idx_folder(w, train_labels=_idx(2049, np.arange(20) % 11))),
         DataError, "MNIST labels are digits 0..9. Use the MNIST label files."),
    Case(_D, "idx-empty-file", "an IDX file of 0 bytes",
         lambda w: load(idx_folder(w, test_labels=b"")),
         DataError, "empty file (0 bytes). Re-download it."),
    Case(_D, "gz-not-gzip", "a .gz file that is an HTML error page",
         lambda w: load(gz_not_gzip(w)),
         DataError, "named .gz but is not gzip-compressed (and not a raw IDX file either). Re-download it."),
    Case(_D, "csv-missing-column", "CSV rows without the label column",
         lambda w: load(csv_folder(w, _drop_labels)),
         DataError, "rows have 784 columns; expected 785 (label, then 784 pixels)"),
    Case(_D, "csv-not-a-number", "a CSV pixel that reads 'abc'",
         lambda w: load(csv_folder(w, lambda lines: _set_field(lines, 2, 5, "abc"))),
         DataError, "line 2, column 5: 'abc' is not a whole number"),
    Case(_D, "npz-missing-key", "mnist.npz without y_test",
         lambda w: load(npz_file(w, "y_test")),
         DataError, "missing key(s) y_test (it has: x_train, y_train, x_test). A Keras-style mnist.npz holds"),
    Case(_D, "no-such-folder", "MNIST folder that does not exist",
         lambda w: load(w.root / "nowhere"),
         DataError, "no such file or folder. For full MNIST, set MNIST_DATA_DIR to a folder holding"),
    Case(_M, "text-as-keras", "a text file named model.keras",
         lambda w: loads(written(w, "model.keras", b"hello, I am a model")),
         ModelLoadError, "is not a Keras .keras file (it is not a zip archive). Save the model with "
                         "model.save('model.keras')"),
    Case(_M, "corrupt-zip", ".keras whose bytes were damaged in transit",
         lambda w: loads(corrupt_zip(w)),
         ModelLoadError, "is a damaged .keras file (corrupt zip"),
    Case(_M, "seed-notebook-h5", "seed-notebook .h5 (whole Dense 512-512 model on 784 inputs)",
         lambda w: predict_one(seed_notebook_h5(w)),
         None, "loads (legacy HDF5, input (784,) fed from 28×28) and predicts 10 probabilities"),
    Case(_M, "seed-notebook-weights-h5", "seed-notebook .h5 written by save_weights",
         lambda w: loads(weights_only_h5(w)),
         ModelLoadError, "holds only weights, not a model. Save the whole model with model.save('model.keras')"),
    Case(_M, "lambda-layer", "a model with a Lambda layer (Python code)",
         lambda w: loads(lambda_model(w)),
         ModelLoadError, "contains a Lambda layer (Python code), which Digit Lab refuses to load for safety. "
                         "Rebuild it with standard Keras layers"),
    Case(_M, "input-32x32x3", "a model for 32×32 colour images",
         lambda w: loads(saved(w, "rgb.keras", _sequential((32, 32, 3)))),
         ModelLoadError, "expects input (32, 32, 3); Digit Lab needs a 28×28 grey input"),
    Case(_M, "5-classes", "a model with 5 outputs",
         lambda w: loads(saved(w, "five.keras", _sequential((28, 28), classes=5))),
         ModelLoadError, "outputs 5 classes; Digit Lab needs 10 (digits 0–9)"),
    Case(_M, "over-size-cap", "a 50 MB + 1 byte .keras file",
         lambda w: loads(sparse(w, "huge.keras", MAX_MODEL_BYTES + 1)),
         ModelLoadError, "Digit Lab loads models up to 50 MB. Use a smaller model"),
    Case(_T, "nan-learning-rate", "learning rate NaN",
         lambda w: lambda: start_run(TrainingConfig(learning_rate=float("nan")), runs_dir_path=w.runs),
         ConfigError, "learning_rate is nan; it must be in [1e-07, 10]."),
    Case(_T, "zero-epochs", "0 epochs",
         lambda w: lambda: start_run(TrainingConfig(epochs=0), runs_dir_path=w.runs),
         ConfigError, "epochs is 0; it must be in [1, 500]."),
    Case(_T, "validation-fraction-0", "validation fraction 0",
         lambda w: lambda: start_run(TrainingConfig(validation="split", validation_fraction=0.0), runs_dir_path=w.runs),
         ConfigError, "validation_fraction is 0.0; it must be in [0.01, 0.9]."),
    Case(_T, "validation-fraction-1", "validation fraction 1",
         lambda w: lambda: start_run(TrainingConfig(validation="split", validation_fraction=1.0), runs_dir_path=w.runs),
         ConfigError, "validation_fraction is 1.0; it must be in [0.01, 0.9]."),
    Case(_T, "batch-larger-than-data", "batch size 64 on 20 training digits (the run fails at once)",
         lambda w: in_process_run(w, TrainingConfig(batch_size=64, epochs=1), idx_folder(w)),
         ValueError, "batch_size 64 is larger than the 18 training digits (20 less the 2 held out for validation); "
                     "choose a batch size of at most 18.",
         _NEW_RUN_STATUS),
    Case(_T, "read-only-runs-dir", "a runs folder on a read-only disk",
         lambda w: refuse_writes(w, errno.EROFS) or (lambda: start_run(TINY, runs_dir_path=w.runs)),
         RunError, "Read-only file system. Make it writable or point DIGIT_LAB_RUNS_DIR at a writable folder."),
    Case(_T, "disk-full-starting", "disk full while a new run writes its status.json",
         start_on_full_disk,
         RunError, "No space left on device. Free some disk space, then try again."),
    Case(_T, "disk-full-checkpoint", "disk full half-way through saving model_best.keras",
         save_checkpoint_on_full_disk,
         StorageError, "model_best.keras: No space left on device. Free some disk space, then try again."),
    Case(_T, "disk-full-rename", "disk full while renaming a run",
         rename_on_full_disk,
         StorageError, "config.json: No space left on device. Free some disk space, then try again."),
    Case(_T, "run-name-dotdot", "run name '../../etc/cron.d/x'",
         lambda w: lambda: start_run(TINY, name="../../etc/cron.d/x", runs_dir_path=w.runs),
         RunError, "is not allowed: use 1-60 letters, digits, spaces and . , ( ) + = # @ - _ (no slashes)."),
    Case(_T, "run-name-markup", "run name '<img src=x onerror=alert(1)>'",
         lambda w: lambda: start_run(TINY, name="<img src=x onerror=alert(1)>", runs_dir_path=w.runs),
         RunError, "is not allowed: use 1-60 letters, digits, spaces"),
    Case(_T, "rename-dotdot", "renaming a finished run to '..\\..\\x'",
         lambda w: lambda: w.run.rename("..\\..\\x"),
         RunError, "is not allowed: use 1-60 letters"),
    Case(_W, "empty-canvas", "an empty (transparent) canvas",
         lambda w: drawn(np.zeros((280, 280, 4), np.uint8)),
         None, "no digit (None): the Draw page says 'Draw a digit on the canvas…'"),
    Case(_W, "all-ink-canvas", "a canvas painted over entirely",
         lambda w: drawn(canvas(fill=255)),
         None, "no digit (None)"),
    Case(_W, "one-dot", "a single dot",
         lambda w: drawn(canvas(ink=(slice(140, 141), slice(140, 141), slice(0, 3)))),
         None, "a 28×28 digit in [0, 1]"),
    Case(_W, "1x1-image", "a 1×1 image",
         lambda w: drawn(np.full((1, 1, 4), 255, np.uint8)),
         None, "no digit (None)"),
    Case(_W, "huge-image", "a 4096×4096 drawing",
         lambda w: drawn(huge_drawing()),
         None, "a 28×28 digit in [0, 1], fitted and centred like MNIST"),
    Case(_W, "nan-canvas", "a float canvas full of NaN",
         lambda w: lambda: canvas_to_mnist(np.full((280, 280), np.nan)),
         ValueError, "expects a non-empty uint8 image of shape (H, W), (H, W, 3) or (H, W, 4); got float64"),
    Case(_W, "nan-to-the-model", "NaN pixels handed to a model",
         nan_for_the_model,
         ValueError, "expects float32 images of shape (N, 28, 28) in [0, 1]; got NaN or infinite values"),
]  # fmt: skip


# ---------------------------------------------------------------- issue 13: model budget, imports, uploads, races
_I = "imports"


def model_config_file(w: World, name: str, config_json: str) -> Path:
    """A .keras zip holding only a config.json: all the model budget needs to refuse it."""
    path = w.root / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config_json)
    return path


def _dense_bomb() -> str:
    layer = {"module": "keras.layers", "registered_name": None}
    layers = [
        {**layer, "class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28], "name": "digit"}},
        {**layer, "class_name": "Flatten", "config": {"name": "flatten"}},
        {**layer, "class_name": "Dense", "config": {"name": "dense", "units": 400_000}},
        {**layer, "class_name": "Dense", "config": {"name": "out", "units": 10}},
    ]
    return json.dumps({"module": "keras", "class_name": "Sequential", "config": {"name": "m", "layers": layers}})


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def digits_npz(w: World, name: str, images: bytes, labels: bytes, suffix: str = ".npy") -> Path:
    path = w.root / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images" + suffix, images)
        archive.writestr("labels" + suffix, labels)
    return path


_INKED = np.zeros((2, 28, 28), np.uint8)
_INKED[:, 10:18, 13:15] = 255
_LABELS = np.array([1, 7])


def npy_claiming(count: int) -> bytes:
    """An .npy of two digits whose header claims `count` of them."""
    return _npy(_INKED).replace(b"(2, 28, 28)", f"({count}, 28, 28)".encode(), 1)


def labels_csv_zip(w: World) -> Path:
    path = w.root / "digits.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("labels.csv", "file,label\n" + "x" * 140_000 + ",1\n")
    return path


def reads_digits(path: Path) -> Callable[[], object]:
    from mnist_core.my_digits.archive import read_import

    def act() -> str:
        images, labels = read_import(path)
        return f"reads {len(labels)} digits (labels {', '.join(map(str, labels))})"

    return act


def upload(w: World, data: bytes) -> Callable[[], object]:
    from mnist_core.runs.uploads import accept_model_upload

    return lambda: accept_model_upload(data, w.runs, MAX_MODEL_BYTES)


def simultaneous_imports(w: World) -> Callable[[], object]:
    """Three sessions import one run zip at the same moment, ten times over (into a folder of their own)."""
    import tempfile
    import threading

    from mnist_core.runs.sharing import import_run_zip

    source = w.root / "shared.zip"
    with zipfile.ZipFile(source, "w") as archive:
        for file in ("config.json", "status.json", "metrics.jsonl"):
            archive.write(w.run.path / file, file)

    def act() -> str:
        errors: list[Exception] = []
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(10):
                start = threading.Barrier(3)

                def one(start: threading.Barrier = start) -> None:
                    start.wait()
                    try:
                        import_run_zip(source, Path(folder))
                    except Exception as error:  # noqa: BLE001 - counted in the outcome
                        errors.append(error)

                threads = [threading.Thread(target=one) for _ in range(3)]
                [t.start() for t in threads]
                [t.join() for t in threads]
            runs = sum(1 for p in Path(folder).iterdir() if (p / "config.json").is_file())
        if errors:
            raise errors[0]
        return f"{runs} runs imported from 30 imports, none failed"

    return act


def heavy_run_zip(w: World, file: str, size: int) -> Callable[[], object]:
    """A small zip of a run whose `file` unpacks to `size` bytes (blank lines compress to almost nothing)."""
    from mnist_core.runs.sharing import import_run_zip

    path = w.root / "heavy.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("config.json", "status.json"):
            archive.write(w.run.path / name, name)
        archive.writestr(file, b"\n" * size)
    return lambda: import_run_zip(path, w.runs)


def schema_breaking_run_zip(w: World) -> Callable[[], object]:
    """A run zip whose evaluation.json parses but is not what a run writes (a number where a list goes)."""
    from mnist_core.runs.sharing import import_run_zip

    path = w.root / "odd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("config.json", "status.json"):
            archive.write(w.run.path / name, name)
        archive.writestr("evaluation.json", '{"loss": 0.1, "accuracy": 0.9, "n": 10, "confusion": 7, "per_class": []}')
    return lambda: import_run_zip(path, w.runs)


CASES += [
    Case(_I, "run-zip-schema", "a run zip whose evaluation.json is valid JSON but not what a run writes",
         schema_breaking_run_zip, RunError, "odd.zip cannot be imported: evaluation.json"),
    Case(_I, "run-zip-100mb-metrics", "a 100 KB run zip whose metrics.jsonl unpacks to 100 MB",
         lambda w: heavy_run_zip(w, "metrics.jsonl", 100 * 2**20),
         RunError, "metrics.jsonl unpacks to 100.0 MB; the limit for one file is 16.0 MB."),
    Case(_I, "run-zip-100mb-evaluation", "a run zip whose evaluation.json unpacks to 100 MB",
         lambda w: heavy_run_zip(w, "evaluation.json", 100 * 2**20),
         RunError, "evaluation.json unpacks to 100.0 MB; the limit for one file is 0.2 MB."),
    Case(_M, "model-dense-400000", "a 1 KB .keras whose config asks for Dense(units=400000)",
         lambda w: loads(model_config_file(w, "wide.keras", _dense_bomb())),
         ModelLoadError, "the model asks for 318,000,010 parameters and 1.5 MB of layer outputs per image; "
         "Digit Lab loads models up to 5,000,000 parameters and 8 MB per image"),
    Case(_M, "model-deep-json", "a .keras whose config.json nests 100,000 lists deep",
         lambda w: loads(model_config_file(w, "deep.keras", "[" * 100_000 + "]" * 100_000)),
         ModelLoadError, "nested more than 64 levels deep"),
    Case(_I, "npz-members-without-npy", "My digits .npz whose members are named images and labels (no .npy)",
         lambda w: reads_digits(digits_npz(w, "mine.npz", _npy(_INKED), _npy(_LABELS), suffix="")),
         None, "reads 2 digits (labels 1, 7)"),
    Case(_I, "npy-header-1e12", "My digits .npz whose images header claims 10^12 digits",
         lambda w: reads_digits(digits_npz(w, "mine.npz", npy_claiming(10**12), _npy(_LABELS))),
         MyDigitsError, "'images' claims shape (1000000000000, 28, 28)"),
    Case(_I, "labels-csv-field-140kb", "My digits zip whose labels.csv has a 140 KB field",
         lambda w: reads_digits(labels_csv_zip(w)),
         MyDigitsError, "labels.csv is not a readable 'file,label' list (field larger than field limit (131072))"),
    Case(_I, "refused-upload-removed", "an uploaded .keras that is not a model (the saved upload is removed)",
         lambda w: upload(w, b"PK\x03\x04 not really a model"),
         ModelLoadError, "is not a Keras .keras file (the zip archive is truncated or damaged)"),
    Case(_I, "simultaneous-imports", "three sessions importing one run zip at the same moment, ten times",
         simultaneous_imports,
         None, "30 runs imported from 30 imports, none failed"),
]  # fmt: skip


# ---------------------------------------------------------------- run folders (damaged files, a full disk mid-run)
_R = "runs"


def damaged_run(
    w: World, file: str, data: bytes | None = None, patch: Callable[[bytes], bytes] | None = None, **changes
) -> Callable[[], object]:
    """A finished run beside the existing one with every run file, `file` replaced by `data` or edited by
    `changes`; the call is what every page asks first: `RunHandle.damage()` (and a status that answers)."""
    from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation
    from mnist_core.training.watch import DigitWatcher

    files = RunFiles(w.runs / "20240101-000002-damaged")
    files.path.mkdir()
    files.write_meta(TINY, "damaged", None)
    files.update_status(state="completed", message="Completed 1 epoch.", created_at=1.7e9, epoch=1, epochs=1)
    files.metrics.write_text('{"kind":"epoch","epoch":1,"t":2.5,"loss":0.5,"val_accuracy":0.9}\n')
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), 20).astype(np.float32)
    save_evaluation(files.path, evaluate_probabilities(probabilities, np.arange(20) % 10, _digits(20, 3)[0]))
    DigitWatcher(files.path / "watch.json", rng.random((10, 28, 28)), np.arange(10)).record(0, probabilities[:10], 0)
    (files.path / "finetune.json").write_text(json.dumps(_FINETUNE))
    path = files.path / file
    if changes:
        data = json.dumps({**json.loads(path.read_text()), **changes}).encode()
    if patch is not None:
        data = patch(path.read_bytes())
    path.write_bytes(data)

    def act() -> str:
        handle = RunHandle(files.path)
        status = handle.status()  # never raises: a damaged status.json reads as "failed"
        assert status.is_finished and w.run.damage() is None and handle.damage() is not None
        return handle.damage()

    return act


_FINETUNE = {"base_model": "base.keras", "train": {"my_digits": 20, "repeat": 5, "mnist": 300},
             "holdout": {"n": 0, "before": None, "after": None}, "test": {"n": 20, "before": 0.5, "after": 0.6},
             "held_out": []}  # fmt: skip


def metrics_with_bad_rows(w: World) -> Callable[[], object]:
    rows = [b'{"kind":"epoch","epoch":1,"t":2.5,"loss":0.5}', b'{"kind":"epoch","epoch":"two","loss":"abc"}',
            b'{"kind":"batch","epoch":[1],"batch":1,"step":1}', b"\xff\xfe not UTF-8",
            b'{"kind":"epoch","epoch":2,"t":1e300}', b'{"kind":"epoch","epoch":2,"t":5.0,"loss":0.4}',
            b'{"kind": "ep']  # fmt: skip
    w.run.files.metrics.write_bytes(b"\n".join(rows))

    def act() -> str:
        metrics = w.run.metrics()
        assert w.run.damage() is None
        return f"reads {len(metrics.epochs)} epoch rows, skips {metrics.skipped} bad ones; the run is not damaged"

    return act


def train_until_the_disk_fills(w: World) -> Callable[[], object]:
    """Trains in this process as the worker would; the first checkpoint finds the disk full."""
    import keras

    import mnist_core.training.tensorboard_log as tensorboard_log

    data = idx_folder(w)
    files = RunFiles(w.runs / "20240101-000001-new")
    files.path.mkdir()
    files.write_meta(TINY, "new", str(data))
    files.update_status(state="queued", message="Waiting…", created_at=1.7e9, epochs=1)
    w.mp.setattr(tensorboard_log, "tensorboard_callback", lambda run_dir: keras.callbacks.Callback())  # no event files

    def act() -> str:
        disk_full_for_models(w)
        with pytest.raises(StorageError):
            training.train(files.path)
        status = RunHandle(files.path).status()  # the worker is gone: the app still reads "failed", not "interrupted"
        assert status.state == "failed"
        return status.message

    return act


_NEW = "runs/20240101-000001-new/"
CASES += [
    Case(_R, "run-accuracy-abc", 'a run whose evaluation.json says "accuracy": "abc"',
         lambda w: damaged_run(w, "evaluation.json", accuracy="abc"),
         None, "evaluation.json: accuracy: Input should be a valid number."),
    Case(_R, "run-time-as-text", "a run whose status.json has started_at 'yesterday'",
         lambda w: damaged_run(w, "status.json", started_at="yesterday"),
         None, "status.json: started_at: Input should be a valid number"),
    Case(_R, "run-time-1e300", "a run whose status.json has ended_at 1e300",
         lambda w: damaged_run(w, "status.json", ended_at=1e300),
         None, "status.json: ended_at: Input should be less than or equal to 4000000000."),
    Case(_R, "run-epoch-as-list", "a run whose status.json has epoch [1, 2]",
         lambda w: damaged_run(w, "status.json", epoch=[1, 2]),
         None, "status.json: epoch: Input should be a valid integer."),
    Case(_R, "run-config-not-json", "a run whose config.json is not JSON",
         lambda w: damaged_run(w, "config.json", b"\x00{garbage"),
         None, "config.json is not valid JSON"),
    Case(_R, "run-config-infinite-width", "a run whose config.json asks for a layer of Infinity units",
         lambda w: damaged_run(w, "config.json", config={**TINY.to_dict(), "hidden_units": [math.inf]}),
         None, "config.json: config: Value error, not a valid training config (hidden_units must be a list"),
    Case(_R, "run-status-not-utf8", "a run whose status.json is not UTF-8",
         lambda w: damaged_run(w, "status.json", b"\xff" * 100),
         None, "status.json is not UTF-8 text."),
    Case(_R, "run-evaluation-300kb", "a run whose evaluation.json is 300 KB",
         lambda w: damaged_run(w, "evaluation.json", b" " * 300_000),
         None, "evaluation.json is larger than 262,144 bytes; a real one is far smaller."),
    Case(_R, "run-npz-label-99", "a run whose evaluation.npz holds label 99",
         lambda w: damaged_run(w, "evaluation.npz", _npz_bytes(labels=np.full(20, 99))),
         None, "evaluation.npz: labels must be digits 0-9; one is 99."),
    Case(_R, "run-npz-disagrees", "a run whose evaluation.npz holds 19 labels for evaluation.json's 20 digits",
         lambda w: damaged_run(w, "evaluation.npz", _npz_bytes(labels=np.arange(19) % 10)),
         None, "evaluation.npz: labels has shape (19,); expected (20,)."),
    Case(_R, "run-watch-label-99", "a run whose watch.json has label 99",
         lambda w: damaged_run(w, "watch.json", labels=[99] * 10),
         None, "watch.json: labels.0: Input should be less than or equal to 9"),
    Case(_R, "run-finetune-text", "a run whose finetune.json says \"holdout\": \"better\"",
         lambda w: damaged_run(w, "finetune.json", holdout="better"),
         None, "finetune.json: holdout: Input should be a valid dictionary"),
    Case(_R, "run-metrics-bad-rows", "metrics.jsonl rows of the wrong types, not UTF-8, torn",
         metrics_with_bad_rows,
         None, "reads 2 epoch rows, skips 5 bad ones; the run is not damaged",
         may_change=(f"runs/{EXISTING}/metrics.jsonl",)),
    Case(_R, "disk-full-mid-run", "the disk fills up while a run saves its first checkpoint",
         train_until_the_disk_fills,
         None, "The disk is full (writing model_best.keras): No space left on device; free space and start again.",
         may_change=tuple(_NEW + f for f in ("status.json", "metrics.jsonl", "watch.json"))),
]  # fmt: skip


# ---------------------------------------------------------------- issue 32: budgets before work, archive errors
def shape_bomb_keras(w: World) -> Path:
    """A 30 KB .keras whose weights file declares a 1 GiB dataset and writes none of it."""
    small = saved(w, "small.keras", _sequential((28, 28)))
    return rewritten(small, w.root / "bomb.keras", shape_bomb_weights(small, 2**28))


def odd_weights_keras(w: World, flags: int, method: int | None) -> Path:
    small = saved(w, "small.keras", _sequential((28, 28)))
    return rewritten(
        small, w.root / "odd.keras", patch=lambda data: patched_zip(data, flags, method, "model.weights.h5")
    )


def reused_conv_keras(w: World) -> Path:
    path = w.root / "reused.keras"
    reused_conv_model(10).save(path)
    return path


def evaluated_apart_with_a_1_s_limit(w: World) -> Callable[[], object]:
    """Diagnostics' evaluation of an upload (a child process) with its time limit cut from 120 s to 1 s."""
    from mnist_core.runs import evaluation_apart

    w.mp.setattr(evaluation_apart, "_FAILED", {})  # not remembered from an earlier run of this case
    path = w.root / "slow.keras"
    reused_conv_model(1).save(path)  # 29 M multiply-adds per digit: within the budget
    data = idx_folder(w)
    return lambda: evaluation_apart.evaluate_apart(path, data, time_limit_s=1.0)


def canvas_png(png: bytes) -> Callable[[], object]:
    from mnist_core.drawing.canvas_image import decode_canvas_png

    return lambda: decode_canvas_png(png)


def my_digits_zip(w: World, labels: str, flags: int = 0, method: int | None = None) -> Path:
    from PIL import Image

    png = io.BytesIO()
    Image.fromarray(_INKED[0]).save(png, format="PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("labels.csv", labels)
        archive.writestr("d0.png", png.getvalue())
    path = w.root / "digits.zip"
    path.write_bytes(patched_zip(buffer.getvalue(), flags, method, "d0.png") if flags or method else buffer.getvalue())
    return path


CASES += [
    Case(_R, "run-npz-encrypted", "a run whose evaluation.npz has an entry flagged encrypted",
         lambda w: damaged_run(w, "evaluation.npz", patch=lambda d: patched_zip(d, ENCRYPTED_FLAG, None, "labels.npy")),
         None, "evaluation.npz: 'labels.npy' is encrypted (password-protected)"),
    Case(_R, "run-npz-method-98", "a run whose evaluation.npz is packed with compression method 98",
         lambda w: damaged_run(w, "evaluation.npz", patch=lambda d: patched_zip(d, method=98)),
         None, "is compressed with method 98, which Digit Lab cannot unpack"),
    Case(_M, "model-hdf5-shape-bomb", "a 30 KB .keras whose weights declare 2^28 floats and write none",
         lambda w: loads(shape_bomb_keras(w)),
         ModelLoadError, "its weights declare more than 58 MB (weight 'layers/dense/vars/bomb' alone 1,024.0 MB)"),
    Case(_M, "model-weights-encrypted", "a .keras whose model.weights.h5 is flagged encrypted",
         lambda w: loads(odd_weights_keras(w, ENCRYPTED_FLAG, None)),
         ModelLoadError, "odd.keras: 'model.weights.h5' is encrypted (password-protected)"),
    Case(_M, "model-weights-method-98", "a .keras whose model.weights.h5 uses compression method 98",
         lambda w: loads(odd_weights_keras(w, 0, 98)),
         ModelLoadError, "'model.weights.h5' is compressed with method 98"),
    Case(_M, "model-conv-reused-10x", "one Conv2D(64) called ten times (41,000 parameters, 290 M multiply-adds)",
         lambda w: loads(reused_conv_keras(w)),
         ModelLoadError, "million multiply-adds per image (a layer called several times counts each time)"),
    Case(_M, "model-slow-to-evaluate", "an uploaded model within the budgets whose test-set evaluation outlasts "
         "the time limit (1 s here, 120 s on the server)",
         evaluated_apart_with_a_1_s_limit,
         ModelLoadError, "took longer than 1 s, so it was stopped"),
    Case(_W, "canvas-png-13000px", "a 13000×13000 PNG sent as the canvas's picture (0.2 MB)",
         lambda w: canvas_png(png_header_bomb(13_000)),
         CanvasImageError, "The drawing arrived as a 13,000x13,000 picture; the canvas is at most 2,048 px"),
    Case(_W, "canvas-not-png", "100 zero bytes sent as the canvas's picture",
         lambda w: canvas_png(b"\x00" * 100),
         CanvasImageError, "The drawing could not be read (UnidentifiedImageError)."),
    Case(_I, "labels-csv-100000-rows", "My digits zip whose labels.csv lists 100,000 digits",
         lambda w: reads_digits(my_digits_zip(w, "file,label\n" + "d0.png,0\n" * 100_000)),
         MyDigitsError, "labels.csv lists more than 5,000 digits, the most My digits keeps"),
    Case(_I, "png-encrypted", "My digits zip whose PNG is flagged encrypted",
         lambda w: reads_digits(my_digits_zip(w, "d0.png,1\n", ENCRYPTED_FLAG)),
         MyDigitsError, "digits.zip: 'd0.png' is encrypted (password-protected)"),
]  # fmt: skip


# ---------------------------------------------------------------- issue 31: class accounts and my data
_A = "accounts"


def a_class(w: World, students: int = 2):
    """A teacher's class of `students` in the case's accounts folder, with the server's token key made."""
    from mnist_core import accounts
    from mnist_core.accounts.tokens import issue_token
    from mnist_core.people import Person

    folder = w.root / "accounts"
    info, _codes = accounts.create_class(folder, "7B", accounts.student_names(students), Person("t", name="Tess"))
    return folder, info, issue_token(folder, {"k": "student", "c": info.id, "s": 1, "v": 1})


def expired_token(w: World):
    from itsdangerous.timed import TimestampSigner

    from mnist_core.accounts.sign_in import person_from_token

    folder, _, token = a_class(w)
    later = TimestampSigner.get_timestamp(TimestampSigner("k")) + 13 * 3600  # a school day and an evening on
    w.mp.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    return lambda: person_from_token(folder, token)


def removed_meanwhile(w: World):
    """Two teachers at one class: one removed student 2; the other's page, opened before, removes them too."""
    from mnist_core import accounts

    folder, info, _ = a_class(w)
    accounts.remove_student(folder, info.id, 2)
    return lambda: accounts.remove_student(folder, info.id, 2)


def _accounts_cases() -> list[Case]:
    from mnist_core import accounts, privacy
    from mnist_core.accounts.codes import parse_class_code, parse_student_code
    from mnist_core.accounts.sign_in import person_from_token
    from mnist_core.people import Person

    def forged(w: World):
        folder, _, token = a_class(w)
        return lambda: person_from_token(folder, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    def retention(w: World):
        w.mp.setenv(privacy.RETENTION_ENV, "forever")
        return lambda: privacy.cleanup(w.runs)

    return [
        Case(_A, "class-10000-students", "a class sheet asked for 10,000 students",
             lambda w: lambda: accounts.create_class(w.root / "accounts", "7B", accounts.student_names(10_000),
                                                     Person("t", name="Tess")),
             accounts.AccountError, "A class holds at most"),
        Case(_A, "class-code-markup", "a class code typed as <b>7B</b>",
             lambda w: lambda: parse_class_code("<b>7B</b>"),
             accounts.CodeError, "holds only letters and digits"),
        Case(_A, "student-code-misread", "a student's code with the letter O for a zero",
             lambda w: lambda: parse_student_code("3-OKXP-QRMT"),
             accounts.CodeError, "Codes never use"),
        Case(_A, "token-forged", "a sign-in cookie whose last characters were changed",
             forged, accounts.TokenError, "changed or made elsewhere"),
        Case(_A, "token-expired", "a sign-in cookie 13 hours old (they last 12)",
             expired_token, accounts.TokenError, "Your sign-in has expired"),
        Case(_A, "class-edited-twice", "two teachers remove the same student at once",
             removed_meanwhile, accounts.AccountError, "another teacher may have removed them"),
        Case(_A, "retention-forever", "DIGIT_LAB_RETENTION_DAYS=forever",
             retention, privacy.PrivacyError, "whole number from 0 (keep forever)"),
        Case(_A, "my-data-of-nobody", "delete all data of an id that has none (../runs)",
             lambda w: lambda: privacy.delete_all(Person(privacy.check_person_id("../runs"))),
             privacy.PrivacyError, "Nothing is kept for someone"),
    ]  # fmt: skip


CASES += _accounts_cases()


def _npz_bytes(**arrays) -> bytes:
    """The damaged run's evaluation.npz with `arrays` replaced."""
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), 20).astype(np.float32)
    stored = {"probabilities": probabilities, "labels": np.arange(20) % 10, "images": _digits(20, 3)[0]}
    buffer = io.BytesIO()
    np.savez(buffer, **{**stored, **arrays})
    return buffer.getvalue()


# ---------------------------------------------------------------- running a case
@dataclass(frozen=True)
class Outcome:
    """What a case did: the exception (or None) and its message (or the outcome text), and what changed."""

    error: BaseException | None
    text: str  # the message, paths shown relative to the case folder
    changed: tuple[str, ...]  # files added, removed or rewritten, relative to the case folder


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` -> a digest of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def shown(text: str, root: Path) -> str:
    """A message with the case folder written as '…' and run ids' times as letters, so it reads
    the same on every machine and every day."""
    text = text.replace(str(root.resolve()), "…").replace(str(root), "…")
    return re.sub(r"\b\d{8}-\d{6}-", "YYYYMMDD-HHMMSS-", text)  # run ids made now


def run_case(case: Case, root: Path, mp: pytest.MonkeyPatch) -> Outcome:
    """Build the case in `root` (empty), make its call once, and report what happened."""
    act = case.setup(World(root, mp))
    before = snapshot(root)
    error, result = None, None
    try:
        result = act()
    except Exception as caught:  # the table says which type is right
        error = caught
    finally:
        mp.undo()  # patches (a full disk, a read-only folder) end with the call
    after = snapshot(root)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    text = str(error) if error is not None else str(result)
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror  # StorageError's sentence, without "[Errno 28]"
    return Outcome(error, shown(text, root), tuple(changed))


def expected_kind(case: Case) -> str:
    return case.error.__name__ if case.error else "no exception"


def doc_rows() -> dict[str, str]:
    """Case id -> its row in docs/bad-inputs.md."""
    if not DOC.is_file():
        return {}
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    return {re.match(r"\| `([^`]+)`", row).group(1): row for row in rows}


def md(text: str) -> str:
    """A table cell: one line; pipes and angle brackets escaped (a run name may look like HTML)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


# ---------------------------------------------------------------- the test
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly_and_changes_nothing(case: Case, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        outcome = run_case(case, tmp_path / "case", mp)
    if case.error is None:
        assert outcome.error is None, f"{case.id}: raised {outcome.error!r}"
    else:
        assert isinstance(outcome.error, case.error), (
            f"{case.id}: expected {case.error.__name__}, got {outcome.error!r}"
        )
    assert case.fragment in outcome.text, outcome.text
    assert set(outcome.changed) <= set(case.may_change), f"{case.id} changed {outcome.changed}"
    row = doc_rows().get(case.id)
    assert row is not None and md(outcome.text) in row, (
        f"docs/bad-inputs.md is out of date for {case.id}: run `python bench/bad_inputs_table.py`"
    )


def test_table_covers_every_area_with_enough_cases() -> None:
    areas = {c.area for c in CASES}
    assert areas == {"data", "model", "training", "drawing", "imports", "runs", "accounts"} and len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    assert set(doc_rows()) == {c.id for c in CASES}, "run `python bench/bad_inputs_table.py`"


def test_a_failed_checkpoint_save_keeps_the_old_model(tmp_path: Path) -> None:
    """(b) spelled out for the most valuable file: the old model's bytes survive, no temp file is left."""
    case = next(c for c in CASES if c.id == "disk-full-checkpoint")
    with pytest.MonkeyPatch.context() as mp:
        outcome = run_case(case, tmp_path, mp)
    run = tmp_path / "runs" / EXISTING
    assert isinstance(outcome.error, StorageError) and outcome.error.errno == errno.ENOSPC
    assert (run / "model_best.keras").read_bytes() == b"PK\x03\x04 the bytes of a model trained earlier"
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "metrics.jsonl", "model_best.keras", "status.json"]
    assert json.loads((run / "status.json").read_text())["state"] == "completed"
    assert not zipfile.is_zipfile(run / "model_best.keras")  # still the old (fake) bytes, not a new model
