"""mnist_core.data: every file format, every bad file's message, the embedded sample, real MNIST."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mnist_core import data
from mnist_core.data import DataError, MnistData, load_mnist, split_validation
from mnist_core.digits import to_unit_float

N_TRAIN, N_TEST = 20, 10


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No MNIST_DATA_DIR and an empty Keras home, so the machine's own setup never leaks in."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


# --- writers: tiny MNIST-shaped files built from known arrays -------------------------------------


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random 28x28 uint8 images and labels cycling 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.int64) % 10


TRAIN, TEST = digits(N_TRAIN, 1), digits(N_TEST, 2)


def idx_images(x: np.ndarray, magic: int = 2051) -> bytes:
    header = np.array([magic, len(x), *x.shape[1:]], dtype=">u4").tobytes()
    return header + x.astype(np.uint8).tobytes()


def idx_labels(y: np.ndarray, magic: int = 2049) -> bytes:
    return np.array([magic, len(y)], dtype=">u4").tobytes() + y.astype(np.uint8).tobytes()


def idx_name(prefix: str, content: str, sep: str = "-") -> str:
    return f"{prefix}-{content}{sep}idx{3 if content == 'images' else 1}-ubyte"


def write_idx(folder: Path, sep: str = "-", gz: bool = True, **override: bytes) -> Path:
    """The four IDX files; `override` replaces one file's bytes, keyed like 'train_images'."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        ("train", "images"): idx_images(TRAIN[0]),
        ("train", "labels"): idx_labels(TRAIN[1]),
        ("t10k", "images"): idx_images(TEST[0]),
        ("t10k", "labels"): idx_labels(TEST[1]),
    }
    for (prefix, content), payload in files.items():
        payload = override.get(f"{'train' if prefix == 'train' else 'test'}_{content}", payload)
        name = idx_name(prefix, content, sep) + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(payload) if gz else payload)
    return folder


def write_npz(path: Path, **override: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"x_train": TRAIN[0], "y_train": TRAIN[1], "x_test": TEST[0], "y_test": TEST[1], **override}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def csv_text(x: np.ndarray, y: np.ndarray, header: bool) -> str:
    rows = [",".join(map(str, [label, *image.ravel()])) for image, label in zip(x, y, strict=True)]
    head = ["label," + ",".join(f"pixel{i}" for i in range(784))] if header else []
    return "\n".join(head + rows) + "\n"


def write_csv(folder: Path, header: bool = False, train_text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mnist_train.csv").write_text(train_text or csv_text(*TRAIN, header))
    (folder / "mnist_test.csv").write_text(csv_text(*TEST, header))
    return folder


def assert_same(loaded: MnistData) -> None:
    for got, want in zip((loaded.x_train, loaded.y_train, loaded.x_test, loaded.y_test), (*TRAIN, *TEST), strict=True):
        np.testing.assert_array_equal(got, want)
    assert loaded.x_train.dtype == np.uint8 and loaded.x_train.shape == (N_TRAIN, 28, 28)
    assert loaded.y_train.dtype == np.int64 and loaded.y_test.dtype == np.int64
    assert loaded.kind == "custom" and not loaded.is_embedded
    assert f"({N_TRAIN:,} train, {N_TEST:,} test)" in loaded.source


# --- every good format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sep, gz",
    [("-", True), ("-", False), (".", True), (".", False)],
    ids=["dash-gz", "dash", "dot-gz", "dot"],
)
def test_idx_folder_loads(tmp_path: Path, sep: str, gz: bool) -> None:
    loaded = load_mnist(write_idx(tmp_path / "mnist", sep=sep, gz=gz))
    assert_same(loaded)
    assert loaded.source.startswith(f"MNIST IDX files in {tmp_path / 'mnist'}")


def test_gz_name_with_raw_idx_content_is_read_raw(tmp_path: Path) -> None:
    folder = write_idx(tmp_path / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(idx_labels(TEST[1]))
    assert_same(load_mnist(folder))


def test_raw_name_with_gzip_content_is_gunzipped(tmp_path: Path) -> None:
    folder = write_idx(tmp_path / "mnist", gz=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(gzip.compress(idx_labels(TEST[1])))
    assert_same(load_mnist(folder))


def test_npz_folder_and_file_load(tmp_path: Path) -> None:
    npz = write_npz(tmp_path / "keras" / "mnist.npz")
    for path in (npz.parent, npz, str(npz)):
        loaded = load_mnist(path)
        assert_same(loaded)
        assert loaded.source.startswith(f"mnist.npz at {npz}")


@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header"])
def test_csv_folder_loads(tmp_path: Path, header: bool) -> None:
    loaded = load_mnist(write_csv(tmp_path / "csv", header=header))
    assert_same(loaded)
    assert "mnist_train.csv, mnist_test.csv" in loaded.source


def test_arrays_are_read_only_and_cached(tmp_path: Path) -> None:
    folder = write_idx(tmp_path / "mnist")
    first = load_mnist(folder)
    assert load_mnist(folder) is first
    with pytest.raises(ValueError, match="read-only"):
        first.x_train[0, 0, 0] = 1


def test_changed_file_is_reloaded(tmp_path: Path) -> None:
    folder = write_idx(tmp_path / "mnist", gz=False)
    assert load_mnist(folder).y_test[0] == 0
    labels = folder / "t10k-labels-idx1-ubyte"
    labels.write_bytes(idx_labels((TEST[1] + 1) % 10))
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    assert load_mnist(folder).y_test[0] == 1


# --- every bad file: one exception type, a message that names the problem -------------------------


def truncated_gzip(tmp: Path) -> Path:
    folder = write_idx(tmp / "m")
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:-40])
    return folder


def one_file(tmp: Path, name: str, content: bytes) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / name).write_bytes(content)
    return tmp


def missing_csv_value(tmp: Path) -> Path:
    text = csv_text(*TRAIN, header=False).splitlines()
    text[2] = text[2].rsplit(",", 1)[0]
    return write_csv(tmp / "c", train_text="\n".join(text))


def edited_csv(tmp: Path, line: int, column: int, value: str) -> Path:
    """A CSV folder whose train file has one field (1-based line and column) replaced."""
    lines = csv_text(*TRAIN, header=False).splitlines()
    fields = lines[line - 1].split(",")
    fields[column - 1] = value
    lines[line - 1] = ",".join(fields)
    return write_csv(tmp / "c", train_text="\n".join(lines))


BAD_CASES = [  # id, build(tmp) -> path to load, fragment the message must contain
    ("truncated", lambda t: write_idx(t / "m", train_images=idx_images(TRAIN[0])[:-100]),
     "train-images-idx3-ubyte.gz: truncated: header says 20 images of 28x28 (15,680 bytes) but the file "
     "holds 15,580. Re-download it."),
    ("trailing-junk", lambda t: write_idx(t / "m", test_labels=idx_labels(TEST[1]) + b"xx"),
     "t10k-labels-idx1-ubyte.gz: 2 bytes of trailing junk"),
    ("labels-as-images", lambda t: write_idx(t / "m", train_images=idx_labels(TRAIN[1])),
     "wrong magic number 2049 (that is a labels file); an MNIST images file starts with 2051"),
    ("wrong-magic", lambda t: write_idx(t / "m", test_labels=idx_labels(TEST[1], magic=1234)),
     "t10k-labels-idx1-ubyte.gz: wrong magic number 1234"),
    ("27x27", lambda t: write_idx(t / "m", train_images=idx_images(TRAIN[0][:, :27, :27])),
     "images are 27x27; MNIST digits are 28x28"),
    ("labels-0-11", lambda t: write_idx(t / "m", train_labels=idx_labels(np.arange(N_TRAIN) % 12)),
     "labels range 0..11 (first bad one at index 10: 10); MNIST labels are digits 0..9"),
    ("count-mismatch", lambda t: write_idx(t / "m", train_labels=idx_labels(TRAIN[1][:-1])),
     "20 images but 19 labels"),
    ("empty-file", lambda t: write_idx(t / "m", gz=False, test_images=b""),
     "t10k-images-idx3-ubyte: empty file (0 bytes)"),
    ("short-header", lambda t: write_idx(t / "m", gz=False, test_images=b"\x00\x00\x08\x03\x00"),
     "truncated header (5 of 16 bytes)"),
    ("gz-not-gzip", lambda t: one_file(write_idx(t / "m"), "train-labels-idx1-ubyte.gz", b"<html>404</html>"),
     "train-labels-idx1-ubyte.gz: named .gz but is not gzip-compressed"),
    ("truncated-gzip", truncated_gzip, "train-images-idx3-ubyte.gz: truncated gzip file"),
    ("missing-idx-file", lambda t: (write_idx(t / "m") / "t10k-labels-idx1-ubyte.gz").unlink() or t / "m",
     "has some MNIST IDX files but not t10k-labels-idx1-ubyte[.gz]"),
    ("csv-missing-value", missing_csv_value,
     "mnist_train.csv: line 3 has 784 values but earlier rows have 785"),
    ("csv-missing-column", lambda t: write_csv(t / "c", train_text="\n".join([",".join(["1"] * 784)] * 3)),
     "mnist_train.csv: rows have 784 columns; expected 785 (label, then 784 pixels)"),
    ("csv-not-a-number", lambda t: edited_csv(t, line=2, column=2, value="abc"),
     "mnist_train.csv: line 2, column 2: 'abc' is not a whole number"),
    ("csv-pixel-300", lambda t: edited_csv(t, line=4, column=9, value="300"),
     "mnist_train.csv: line 4: pixel value 300 is outside 0..255"),
    ("csv-label-12", lambda t: write_csv(t / "c", train_text="12," + ",".join(["0"] * 784)),
     "mnist_train.csv: labels range 12..12"),
    ("csv-only-train", lambda t: one_file(t / "c", "mnist_train.csv", b"0,1"),
     "has mnist_train.csv but not mnist_test.csv"),
    ("npz-missing-key", lambda t: write_npz(t / "mnist.npz", y_test=None),
     "mnist.npz: missing key(s) y_test"),
    ("npz-not-zip", lambda t: one_file(t / "k", "mnist.npz", b"not a zip at all") / "mnist.npz",
     "mnist.npz: not a readable .npz file"),
    ("npz-float-pixels", lambda t: write_npz(t / "mnist.npz", x_test=TEST[0] / 255.0),
     "mnist.npz x_test: pixels have dtype float64; expected whole numbers 0..255"),
    ("npz-bad-shape", lambda t: write_npz(t / "mnist.npz", x_train=TRAIN[0].reshape(N_TRAIN, 14, 56)),
     "x_train: images have shape (20, 14, 56); expected (N, 28, 28)"),
    ("no-such-folder", lambda t: t / "nowhere",
     "nowhere: no such file or folder. For full MNIST, set MNIST_DATA_DIR"),
    ("unknown-folder", lambda t: one_file(t / "u", "notes.txt", b"hi"),
     "no MNIST files found. Expected the four IDX files"),
    ("empty-folder", lambda t: (t / "e").mkdir() or t / "e", "It is empty."),
    ("single-idx-file", lambda t: write_idx(t / "m") / "train-images-idx3-ubyte.gz",
     "is a single file; point at the folder"),
]  # fmt: skip


@pytest.mark.parametrize("build, fragment", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_source_raises_data_error(tmp_path: Path, build, fragment: str) -> None:
    path = build(tmp_path)
    with pytest.raises(DataError) as caught:
        load_mnist(path)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


# --- where the data comes from ----------------------------------------------------------------------


def test_embedded_sample_is_the_offline_default() -> None:
    loaded = load_mnist()
    assert loaded.kind == "embedded" and loaded.is_embedded
    assert loaded.x_train.shape == (4000, 28, 28) and loaded.x_test.shape == (1000, 28, 28)
    assert np.bincount(loaded.y_train).tolist() == [400] * 10
    assert np.bincount(loaded.y_test).tolist() == [100] * 10
    assert "5,000-digit subset" in loaded.source and "MNIST_DATA_DIR" in loaded.source
    train_rows = {row.tobytes() for row in loaded.x_train}
    assert not any(row.tobytes() in train_rows for row in loaded.x_test)
    assert len(set(loaded.y_train[:20].tolist())) > 2  # shuffled, not sorted by label like the file


def test_embedded_split_is_deterministic() -> None:
    first = load_mnist()
    data._load_cached.cache_clear()
    second = load_mnist()
    assert second is not first
    np.testing.assert_array_equal(first.y_train, second.y_train)
    np.testing.assert_array_equal(first.x_test, second.x_test)


def test_env_var_wins_over_keras_cache_and_path_wins_over_env(tmp_path: Path, monkeypatch) -> None:
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", y_test=(TEST[1] + 1) % 10)
    assert "(Keras cache)" in load_mnist().source
    monkeypatch.setenv(data.ENV_VAR, str(write_idx(tmp_path / "env")))
    from_env = load_mnist()
    assert_same(from_env)
    assert from_env.source.endswith("(from MNIST_DATA_DIR)")
    explicit = load_mnist(write_csv(tmp_path / "csv"))
    assert explicit.source.startswith("CSV files")


def test_bad_env_var_raises_instead_of_falling_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(DataError, match="MNIST_DATA_DIR=.*missing: no such file or folder"):
        load_mnist()


def test_broken_keras_cache_falls_back_to_embedded_with_warning(tmp_path: Path) -> None:
    one_file(tmp_path / "keras_home" / "datasets", "mnist.npz", b"junk")
    with pytest.warns(UserWarning, match="Ignoring the Keras MNIST cache"):
        assert load_mnist().is_embedded


def test_real_mnist(mnist_dir: Path) -> None:
    loaded = load_mnist(mnist_dir)
    assert (len(loaded.x_train), len(loaded.x_test)) == (60_000, 10_000)
    assert loaded.kind == "full" and loaded.source.endswith("(60,000 train, 10,000 test)")
    assert loaded.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert loaded.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(loaded.y_train)[:3].tolist() == [5923, 6742, 5958]  # counts from SOURCE.md


def test_import_stays_light() -> None:
    code = (
        "import sys, mnist_core.data as d; d.load_mnist();"
        "heavy = {'tensorflow', 'keras', 'streamlit', 'mlxtend'} & set(sys.modules); assert not heavy, heavy"
    )
    env = {**os.environ, "KERAS_HOME": "/nonexistent"}
    env.pop(data.ENV_VAR, None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parents[1])


# --- helpers for training -----------------------------------------------------------------------------


def test_split_validation_is_seeded_and_complete() -> None:
    x, y = np.arange(100).reshape(100, 1), np.arange(100)
    x_tr, y_tr, x_val, y_val = split_validation(x, y, 0.25, seed=7)
    assert (len(x_tr), len(x_val)) == (75, 25)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(100))
    np.testing.assert_array_equal(x_tr[:, 0], y_tr)
    np.testing.assert_array_equal(split_validation(x, y, 0.25, seed=7)[3], y_val)
    assert not np.array_equal(split_validation(x, y, 0.25, seed=8)[3], y_val)


@given(
    st.lists(st.integers(0, 9), min_size=12, max_size=400),
    st.floats(0.05, 0.95),
    st.integers(0, 2**31 - 1),
)
@settings(max_examples=200, deadline=None)
def test_split_validation_keeps_each_digits_share(labels: list[int], fraction: float, seed: int) -> None:
    """Every digit of train is in validation in its share of train (within one digit), both sides keep it
    when it has two or more, and nothing is lost or doubled."""
    y = np.array(labels)
    n_val = round(len(y) * fraction)
    assume(0 < n_val < len(y))
    x_tr, y_tr, x_val, y_val = split_validation(np.arange(len(y)), y, fraction, seed)
    assert len(y_val) == n_val and sorted(np.concatenate([x_tr, x_val]).tolist()) == list(range(len(y)))
    counts = np.bincount(y, minlength=10)
    if counts[counts > 0].min() >= 2 and np.count_nonzero(counts) <= min(n_val, len(y) - n_val):
        in_val = np.bincount(y_val, minlength=10)
        assert np.all(np.abs(in_val - counts * n_val / len(y)) < 2)
        assert np.all((in_val >= 1) == (counts >= 1)) and np.all(counts - in_val >= (counts >= 1))


def test_a_new_config_validates_on_held_out_train_and_the_seed_notebooks_on_test() -> None:
    from mnist_core.config import TrainingConfig
    from mnist_core.presets import PRESETS

    assert (TrainingConfig().validation, TrainingConfig().validation_fraction) == ("split", 0.1)
    on_test = {name for name, preset in PRESETS.items() if preset.config.validation == "test"}
    assert on_test == {"seed000", "seed001", "seed003"}  # what their notebooks did


@pytest.mark.parametrize(
    "n, fraction, fragment",
    [
        (10, 0.0, "strictly between 0 and 1"),
        (10, 1.0, "strictly between 0 and 1"),
        (10, -0.2, "strictly between 0 and 1"),
        (10, float("nan"), "strictly between 0 and 1"),
        (3, 0.1, "leaves 3 for training and 0 for validation"),
        (3, 0.9, "leaves 0 for training and 3 for validation"),
    ],
)
def test_split_validation_rejects_bad_fractions(n: int, fraction: float, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        split_validation(np.zeros((n, 28, 28)), np.zeros(n), fraction, seed=0)


def test_to_unit_float() -> None:
    x = np.array([[[0, 51, 255]]], dtype=np.uint8).repeat(28, axis=1)
    out = to_unit_float(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out[0, 0].tolist() == [0.0, pytest.approx(0.2), 1.0]
    with pytest.raises(ValueError, match="got dtype float32"):
        to_unit_float(out)
