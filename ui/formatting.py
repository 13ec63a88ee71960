"""Small helpers the pages share: config <-> form values, run table rows, formatting, uploads.

No Streamlit here (pages stay thin and these stay testable); TensorFlow only where a model is
actually evaluated, and NumPy only inside the functions that need it, so Home (which imports this
module) starts fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_core.config import TrainingConfig
from mnist_core.presets import PRESETS

if TYPE_CHECKING:
    import numpy as np

MAX_LAYERS = 4  # hidden dense layers / conv blocks the sliders offer
UPLOADS_FOLDER = "uploads"  # inside the runs folder: never listed as a run (it has no config.json)


def _options(base: Sequence, *extra: Sequence) -> tuple:
    return tuple(sorted(set(base).union(*map(set, extra))))


_PRESET_CONFIGS = [p.config for p in PRESETS.values()]
WIDTH_OPTIONS = _options(
    (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024), *(c.hidden_units for c in _PRESET_CONFIGS)
)
FILTER_OPTIONS = _options((8, 16, 24, 32, 48, 64, 96, 128, 192, 256), *(c.conv_filters for c in _PRESET_CONFIGS))
DENSE_OPTIONS = _options((0, 32, 64, 128, 256, 512), [c.dense_units for c in _PRESET_CONFIGS])
LR_OPTIONS = _options((1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0), [c.learning_rate for c in _PRESET_CONFIGS])
BATCH_OPTIONS = _options((16, 32, 64, 128, 256, 512, 1024), [c.batch_size for c in _PRESET_CONFIGS])
MAX_EPOCHS = 50  # the slider's end (the engine accepts more from the CLI)


def _nearest(options: Sequence, value: Any) -> Any:
    """`value` if it is an option, else the closest one (a run trained from the CLI may use any value)."""
    return value if value in options else min(options, key=lambda o: abs(o - value))


_LAYER_FIELDS = ("hidden_units", "conv_filters")  # shown as a layer count plus one slider per layer


def config_to_form(config: TrainingConfig) -> dict[str, Any]:
    """The Train page's widget values (keys without the page prefix) for a config."""
    form = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in _LAYER_FIELDS}
    widths = list(config.hidden_units) or [128]
    filters = list(config.conv_filters) or [32]
    form.update(
        {
            "layers": min(len(config.hidden_units), MAX_LAYERS),
            "conv_blocks": min(max(1, len(config.conv_filters)), MAX_LAYERS),
            "dense_units": _nearest(DENSE_OPTIONS, config.dense_units),
            "learning_rate": _nearest(LR_OPTIONS, config.learning_rate),
            "batch_size": _nearest(BATCH_OPTIONS, config.batch_size),
            "epochs": min(config.epochs, MAX_EPOCHS),
        }
    )
    for i in range(MAX_LAYERS):
        form[f"width_{i}"] = _nearest(WIDTH_OPTIONS, widths[min(i, len(widths) - 1)])
        form[f"filters_{i}"] = _nearest(FILTER_OPTIONS, filters[min(i, len(filters) - 1)])
    return form


def form_to_config(form: Mapping[str, Any]) -> TrainingConfig:
    """A validated TrainingConfig from the widget values; raises ConfigError naming the bad field."""
    names = [f.name for f in dataclasses.fields(TrainingConfig) if f.name not in _LAYER_FIELDS]
    values = {name: form[name] for name in names if name in form}
    values["hidden_units"] = tuple(int(form[f"width_{i}"]) for i in range(int(form["layers"])))
    values["conv_filters"] = tuple(int(form[f"filters_{i}"]) for i in range(int(form["conv_blocks"])))
    for name in ("train_limit", "seed"):  # number inputs can be cleared to None
        values[name] = int(values.get(name) or 0)
    return TrainingConfig(**values)


def describe_config(config: TrainingConfig) -> str:
    """One line, e.g. 'MLP 512-512 · relu · dropout 0.2 · adam 1e-3 · batch 128 · 15 epochs'."""
    if config.architecture == "cnn":
        dense = f" + dense {config.dense_units}" if config.dense_units else ""
        model = f"CNN {'-'.join(map(str, config.conv_filters))}{dense}"
    else:
        model = f"MLP {'-'.join(map(str, config.hidden_units)) or 'linear'}"
    parts = [model, config.activation]
    if config.batch_norm:
        parts.append("batch norm")
    if config.dropout:
        parts.append(f"dropout {config.dropout:g}")
    parts += [
        f"{config.optimizer} {config.learning_rate:g}",
        f"batch {config.batch_size}",
        f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}",
    ]
    if config.augmentation:
        parts.append("augmented")
    if config.train_limit:
        parts.append(f"{config.train_limit:,} digits")
    return " · ".join(parts)


def format_duration(seconds: float | None) -> str:
    """'—', '42 s', '3 min 05 s' or '1 h 02 min'."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def best_accuracy(handle) -> tuple[float | None, str]:
    """A run's headline accuracy and what it is: the test evaluation, else its best validation epoch."""
    tested = handle.files.read_evaluation_accuracy()
    if tested is not None:
        return tested, "test"
    values = [v for v in handle.metrics().column("epoch", "val_accuracy") if v is not None]
    return (max(values), "validation") if values else (None, "")


def run_rows(handles: Sequence) -> list[dict[str, Any]]:
    """One row per run for the history table (newest first, as given)."""
    rows = []
    for handle in handles:
        status = handle.status()
        accuracy, kind = best_accuracy(handle)
        try:
            summary = describe_config(handle.config)
        except (FileNotFoundError, ValueError, KeyError):
            summary = "(config unreadable)"
        rows.append(
            {
                "id": handle.id,
                "name": handle.name,
                "status": status.state,
                "config": summary,
                "accuracy": accuracy,
                "accuracy_kind": kind,
                "epochs": f"{status.epoch}/{status.epochs}",
                "duration": format_duration(status.duration_s if status.started_at else None),
                "started": _clock(status.created_at),
            }
        )
    return rows


def _clock(timestamp: float | None) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(timestamp)) if timestamp else "—"


def upscale(image: np.ndarray, size: int = 140) -> np.ndarray:
    """A (h, w) image as a square uint8 image of about `size` px: padded with black to a square, then
    enlarged with nearest-neighbour so pixels stay visible (float input is read as [0, 1])."""
    import numpy as np

    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    h, w = array.shape[:2]
    side = max(h, w, 1)
    square = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = array
    factor = max(1, size // side)
    return np.repeat(np.repeat(square, factor, axis=0), factor, axis=1)


def uploads_dir(runs_root: Path) -> Path:
    """Where uploaded models are kept: a folder in the runs folder, per server."""
    return Path(runs_root) / UPLOADS_FOLDER


def save_upload(data: bytes, runs_root: Path, max_bytes: int) -> Path:
    """Store uploaded model bytes under a generated name (never the user's file name); return the path.

    The name is the content's hash, so uploading the same file twice reuses one file (and one cached
    predictor). Raises ValueError when the file is empty or larger than `max_bytes`.
    """
    from mnist_core.storage import atomic_write_bytes

    if not data:
        raise ValueError("The uploaded file is empty. Upload a Keras model saved with model.save('x.keras').")
    if len(data) > max_bytes:
        raise ValueError(
            f"The uploaded file is {len(data) / 1e6:.1f} MB; models up to {max_bytes / 1e6:.0f} MB are accepted."
        )
    folder = uploads_dir(runs_root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{hashlib.sha256(data).hexdigest()[:16]}.keras"
    if not path.is_file():
        atomic_write_bytes(path, data)
    return path


def file_version(path: str | Path) -> float:
    """A file's modification time (a cache key that changes when the file is replaced); 0 if missing."""
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def read_bytes(path: str | Path) -> bytes:
    """A model file's bytes, for a download button."""
    return Path(path).read_bytes()


@dataclass(frozen=True)
class DataInfo:
    """Which MNIST the app trains on, for banners."""

    kind: str  # "full", "custom", "embedded" or "error"
    source: str  # load_mnist's description, or the DataError message
    n_train: int
    n_test: int

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"


def data_info() -> DataInfo:
    """Describe the dataset load_mnist() finds (loads it once; the result is cached by data)."""
    from mnist_core.data import DataError, load_mnist

    try:
        data = load_mnist()
    except DataError as error:
        return DataInfo("error", str(error), 0, 0)
    return DataInfo(data.kind, data.source, len(data.y_train), len(data.y_test))


def progress_text(progress) -> str:
    """'Epoch 2/5 · batch 120/469 · 3,450 samples/s · 42 s left' for a runs.Progress."""
    parts = [f"Epoch {progress.epoch}/{progress.epochs}", f"batch {progress.batch}/{progress.batches}"]
    if progress.samples_per_s:
        parts.append(f"{progress.samples_per_s:,.0f} samples/s")
    known = progress.eta_s is not None
    parts.append(f"{format_duration(progress.eta_s)} left" if known else "estimating time left…")
    return " · ".join(parts)


def overlay_series(handles: Sequence) -> dict[str, list[dict]]:
    """Epoch rows of several runs keyed by a unique label (the name, plus the id if names repeat)."""
    names = [h.name for h in handles]
    return {
        (name if names.count(name) == 1 else f"{name} ({h.id[:15]})"): h.metrics().epochs
        for name, h in zip(names, handles, strict=True)
    }


def evaluate_model_file(path: str | Path):
    """Evaluate a model file on the test set of load_mnist() -> mnist_core.evaluation.Evaluation."""
    from mnist_core.evaluation import evaluate_model_file as evaluate

    return evaluate(path)[0]


def has_evaluation(handle) -> bool:
    """Whether a run has a stored test-set evaluation (cheap: reads evaluation.json only)."""
    return handle.files.read_evaluation_accuracy() is not None


def example_caption(example) -> str:
    """'p(9) 97% · p(4) 2%' for a mistake, 'p(4) 99%' for a correct answer."""
    if example.correct:
        return f"p({example.predicted}) {example.p_predicted:.0%}"
    return f"p({example.predicted}) {example.p_predicted:.0%} · p({example.true}) {example.p_true:.0%}"


def starter_available() -> bool:
    """Whether the starter model file ships with this install (checked without loading it)."""
    from mnist_core.predict import STARTER_MODEL_PATH

    return file_version(STARTER_MODEL_PATH) > 0
