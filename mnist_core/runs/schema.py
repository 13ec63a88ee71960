"""One schema for every file of a run folder: types, ranges, shapes and sizes.

A run folder may come from anyone (an imported zip), so every file read from it is validated here
before a page uses it. A file that fails is reported as `DamagedRunFile` naming the file and what is
wrong; the run then shows as damaged (with a working Delete) and every other run keeps working.
`metrics.jsonl` is the exception: its bad rows are skipped, and only its last `MAX_BYTES` are read.

Pydantic (v2) does the checking: strict types (no "1" for 1, no true for 1), finite numbers,
ranges and lengths declared once per field, and errors that name the field without quoting the
value. Nothing here writes; the run-file owner (runs/files.py) calls these readers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from mnist_core.checks.model_budget import json_depth
from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.runs.names import (  # noqa: F401 - DamagedRunFile re-exported
    CONFIG,
    EVALUATION,
    EVALUATION_ARRAYS,
    FINETUNE_REPORT,
    METRICS,
    STATES,
    STATUS,
    WATCH,
    DamagedRunFile,
)
from mnist_core.runs.results_schema import (  # noqa: F401 - re-exported with the readers
    MAX_HELD_OUT,
    MAX_TEST_DIGITS,
    MAX_WATCH_DIGITS,
    MAX_WATCH_ROWS,
    ClassScore,
    EvaluationSummary,
    FinetuneFile,
    HeldOutRow,
    Scores,
    WatchFile,
    WatchRow,
)
from mnist_core.runs.schema_types import Count, Digit, Seconds, Share, StrictModel, Time  # noqa: F401

MAX_BYTES = {  # per file: a real run's files are far smaller (metrics.jsonl of 500 epochs: ~5 MB)
    CONFIG: 64 * 1024,
    STATUS: 16 * 1024,
    METRICS: 16 * 2**20,
    EVALUATION: 256 * 1024,
    EVALUATION_ARRAYS: 64 * 2**20,
    WATCH: 2 * 2**20,
    FINETUNE_REPORT: 2**20,  # 5,000 of My digits hold out 1,500 rows of ~200 bytes
}
MAX_DEPTH = 8  # JSON nesting: the deepest run file (evaluation.json's per_class) needs 3


class Status(StrictModel):
    """status.json."""

    state: Literal[STATES]  # type: ignore[valid-type]
    message: str = Field("", max_length=4000)
    created_at: Time
    started_at: Time | None = None
    ended_at: Time | None = None
    epoch: Annotated[int, Field(ge=0, le=100_000)] = 0
    epochs: Annotated[int, Field(ge=0, le=100_000)] = 0
    pid: Annotated[int, Field(ge=0, le=2**31)] | None = None
    data_source: str = Field("", max_length=4000)


class Meta(StrictModel):
    """config.json: the TrainingConfig fields, the run's name and where its data came from."""

    config: dict[str, Any]
    name: str = Field(min_length=1, max_length=100)
    data_dir: str | None = Field(None, max_length=4096)
    finetune: dict[str, Any] | None = None
    lesson: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")  # the lesson it was started under

    @field_validator("config")
    @classmethod
    def _a_training_config(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            TrainingConfig.from_dict(value)
        except (ConfigError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"not a valid training config ({str(error)[:200]})") from None
        return value


class _Row(BaseModel):
    """What batch and epoch rows share: any further value is a logged metric, a number (NaN once training diverged)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    __pydantic_extra__: dict[str, float]  # checked in pydantic's core (fast); NaN and inf too: a diverged run logs them
    epoch: Annotated[int, Field(ge=1, le=100_000)]
    t: Seconds | None = None  # seconds since training began


class BatchRow(_Row):
    kind: Literal["batch"]
    batch: Annotated[int, Field(ge=1, le=10**7)]
    step: Annotated[int, Field(ge=1, le=10**10)]
    batches: Annotated[int, Field(ge=1, le=10**7)] | None = None  # readers manage without these three
    seen: Count | None = None
    samples_per_s: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None


class EpochRow(_Row):
    kind: Literal["epoch"]
    epoch_s: Seconds | None = None
    lr: Annotated[float, Field(ge=0, le=1e3, allow_inf_nan=False)] | None = None


_ROW = TypeAdapter(Annotated[BatchRow | EpochRow, Field(discriminator="kind")])


class Metrics(BaseModel):
    """The readable rows of metrics.jsonl, and what was left out."""

    model_config = ConfigDict(frozen=True)
    batches: list[BatchRow]
    epochs: list[EpochRow]
    skipped: int  # rows that were not valid JSON or did not match their kind
    truncated: bool  # the file was longer than MAX_BYTES["metrics.jsonl"]; its beginning was not read


def import_cap(file: str) -> int:
    """The most bytes one file of a run may unpack to on import (a model: the model-file cap)."""
    from mnist_core.checks.model_files import MAX_MODEL_BYTES

    return MAX_MODEL_BYTES if file.endswith(".keras") else MAX_BYTES.get(file, 64 * 1024)


# ---------------------------------------------------------------- readers for the run-file owner
def read_status(path: Path) -> Status:
    """status.json -> `Status`, or `DamagedRunFile`."""
    return _validated(Status, path)


def read_meta(path: Path) -> Meta:
    """config.json -> `Meta` (its config a valid TrainingConfig), or `DamagedRunFile`."""
    return _validated(Meta, path)


def read_evaluation_summary(path: Path) -> EvaluationSummary:
    """evaluation.json -> `EvaluationSummary`, or `DamagedRunFile`."""
    return _validated(EvaluationSummary, path)


def read_watch(path: Path) -> WatchFile:
    """watch.json -> `WatchFile`, or `DamagedRunFile`."""
    return _validated(WatchFile, path)


def read_finetune_report(path: Path) -> FinetuneFile:
    """finetune.json -> `FinetuneFile`, or `DamagedRunFile`."""
    return _validated(FinetuneFile, path)


def checked_raw(path: Path, model: type[BaseModel]) -> dict[str, Any]:
    """A run file's JSON object as stored, once it passes `model`: unknown keys are kept (fields a newer
    version adds, which a writer merging into the file must not drop); `DamagedRunFile` if it fails."""
    return _validated(model, path, raw=True)


def read_metrics(path: Path) -> Metrics:
    """metrics.jsonl's valid rows (its last MAX_BYTES at most: a live run's latest rows matter most);
    bad rows are counted, never raised. Parsed once per version of the file (a 16 MB file costs
    ~2 s of CPU, and pages ask on every rerun); the Metrics returned is shared, so callers never change it."""
    try:
        stat = Path(path).stat()
    except OSError:
        return Metrics(batches=[], epochs=[], skipped=0, truncated=False)
    key, version = str(path), (stat.st_mtime_ns, stat.st_size)
    with _METRICS_LOCK:
        kept = _METRICS.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    metrics = _read_metrics(key)
    with _METRICS_LOCK:  # one version per file (a live run's file grows every batch), the most recent files
        _METRICS.pop(key, None)
        _METRICS[key] = (version, metrics)
        while len(_METRICS) > METRICS_KEPT:
            _METRICS.pop(next(iter(_METRICS)))
    return metrics


METRICS_KEPT = 16  # files whose parsed metrics are kept
_METRICS: dict[str, tuple[tuple[int, int], Metrics]] = {}
_METRICS_LOCK = threading.Lock()


def _read_metrics(path: str) -> Metrics:
    cap = MAX_BYTES[METRICS]
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - cap))
            data = handle.read(cap)
    except OSError:
        return Metrics(batches=[], epochs=[], skipped=0, truncated=False)
    truncated = size > cap
    lines = data.split(b"\n")
    if truncated:
        lines = lines[1:]  # the first line was cut off
    batches, epochs, skipped = [], [], 0
    for line in filter(None, (line.strip() for line in lines)):
        try:  # parsed and checked in one step by pydantic's core (10,000 rows: ~0.15 s)
            row = _ROW.validate_json(line)
        except ValidationError:  # not UTF-8, not JSON, nested too deeply, of no known kind or wrong types
            skipped += 1
            continue
        (batches if row.kind == "batch" else epochs).append(row)
    return Metrics(batches=batches, epochs=epochs, skipped=skipped, truncated=truncated)


# ---------------------------------------------------------------- helpers
def _validated(model: type[BaseModel], path: Path, raw: bool = False) -> Any:
    file = Path(path).name
    cap = MAX_BYTES.get(file, 64 * 1024)
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as error:
        raise DamagedRunFile(f"{file} cannot be read ({error.strerror or error}).") from None
    if len(data) > cap:
        raise DamagedRunFile(f"{file} is larger than {cap:,} bytes; a real one is far smaller.")
    value = _parsed(data, file)
    checked = _checked(model, value, file)
    return value if raw else checked


def _parsed(data: bytes, file: str) -> object:
    """JSON bytes -> value, as `DamagedRunFile` when not UTF-8, not JSON or nested too deeply."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedRunFile(f"{file} is not UTF-8 text.") from None
    except RecursionError:
        raise DamagedRunFile(f"{file} is nested more than {MAX_DEPTH} levels deep.") from None
    except ValueError as error:
        raise DamagedRunFile(f"{file} is not valid JSON ({str(error)[:80]}).") from None
    if json_depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise DamagedRunFile(f"{file} is nested more than {MAX_DEPTH} levels deep.")
    return value


def _checked(model: type[BaseModel], value: object, file: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        where = lambda e: ".".join(str(p)[:40] for p in e["loc"][:4]) or "the file"  # noqa: E731
        problems = [f"{where(e)}: {e['msg'][:300]}" for e in error.errors()[:3]]  # never the value itself
        more = f" (and {error.error_count() - 3} more)" if error.error_count() > 3 else ""
        raise DamagedRunFile(f"{file}: {'; '.join(problems)}{more}.") from None
