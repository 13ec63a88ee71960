"""Command line: `python -m mnist_core train|runs|evaluate|presets|download|tensorboard|worker|lesson|
export-notebook|data` on the app's code paths; each command group beside this module."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path

from mnist_core.accounts.cli import add_parser as add_accounts_parser
from mnist_core.accounts.cli import cmd_accounts
from mnist_core.cli.download import add_parser as add_download_parser
from mnist_core.cli.download import cmd_download
from mnist_core.cli.tensorboard import add_parser as add_tensorboard_parser
from mnist_core.cli.tensorboard import cmd_tensorboard
from mnist_core.cli.worker import add_parser as add_worker_parser
from mnist_core.cli.worker import cmd_worker
from mnist_core.config import FIELD_HELP, ConfigError, TrainingConfig
from mnist_core.config_text import parse_field
from mnist_core.lessons.cli import add_parser as add_lesson_parser
from mnist_core.lessons.cli import cmd_lesson
from mnist_core.lessons.files import load_lesson
from mnist_core.notebook.cli import add_parser as add_notebook_parser
from mnist_core.notebook.cli import cmd_export_notebook
from mnist_core.presets import PRESETS, get_preset
from mnist_core.privacy.cli import add_parser as add_data_parser
from mnist_core.privacy.cli import cmd_data
from mnist_core.runs import RunError, RunHandle, dispatch, list_runs, load_run, start_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description="Digit Lab engine.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model as a run (Ctrl-C stops it and keeps it)")
    train.add_argument("--preset", choices=list(PRESETS), help="starting configuration (default: quick)")
    train.add_argument(
        "--lesson", metavar="NAME_OR_FILE", help="start from a lesson's settings; what it locks or hides cannot change"
    )
    train.add_argument("--name", help="run name (default: architecture and time)")
    train.add_argument("--runs-dir", help="runs folder (default: $DIGIT_LAB_RUNS_DIR or ./runs)")
    train.add_argument("--data-dir", help="MNIST folder or file (default: $MNIST_DATA_DIR, else embedded)")
    train.add_argument("--export", metavar="PATH", help="save the model (no optimizer state) here at the end")
    train.add_argument(
        "--export-which",
        choices=("best", "final"),
        default="best",
        help="which weights --export saves: the best epoch by validation accuracy (default) or the "
        "last epoch (when the validation set is too small to rank epochs)",
    )
    for field in dataclasses.fields(TrainingConfig):
        flag = "--" + field.name.replace("_", "-")
        train.add_argument(flag, dest=field.name, metavar="VALUE", help=FIELD_HELP.get(field.name, ""))
    runs = commands.add_parser("runs", help="table of runs")
    runs.add_argument("--runs-dir")
    evaluate = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a run or .keras file")
    evaluate.add_argument("target", metavar="RUN_OR_MODEL_PATH")
    evaluate.add_argument("--runs-dir")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument(
        "--save",
        action="store_true",
        help="keep a model file's test-set probabilities next to it (MODEL.evaluation.npz), "
        "so Diagnostics shows it without evaluating again",
    )
    commands.add_parser("presets", help="list the presets")
    add_download_parser(commands)  # python -m mnist_core download
    add_tensorboard_parser(commands)  # python -m mnist_core tensorboard
    add_worker_parser(commands)  # python -m mnist_core worker
    add_lesson_parser(commands)
    add_notebook_parser(commands)
    add_accounts_parser(commands)
    add_data_parser(commands)  # python -m mnist_core data
    return parser


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    """The preset with every option given on the command line applied; an explicit --epochs without
    --min-steps turns the preset's step budget off, so the run trains exactly that many epochs."""
    changes = {}
    for field in dataclasses.fields(TrainingConfig):
        text = getattr(args, field.name, None)
        if text is not None:
            try:
                changes[field.name] = parse_field(field.name, text)
            except ValueError:
                raise ConfigError(f"--{field.name.replace('_', '-')} {text!r} is not a valid value.") from None
    if "epochs" in changes:  # --epochs N means N epochs: the preset's step budget would add more on small data
        changes.setdefault("min_steps", 0)
    if getattr(args, "lesson", None):
        if args.preset:
            raise ConfigError("Give --preset or --lesson, not both: a lesson names its own starting settings.")
        return load_lesson(args.lesson).config().replace(**changes)
    return get_preset(args.preset or "quick").replace(**changes)


def _bar(handle: RunHandle) -> str:
    if handle.status().is_waiting:
        from mnist_core.runs.queue_view import queue_places

        place = queue_places(handle.path.parent).get(handle.id)
        where = f"{place.place} of {place.waiting}, starts in about {place.eta_s:.0f}s" if place else "starting"
        return f"waiting in the training queue: {where} ({place.training if place else 0} training now)"
    progress = handle.progress()
    if progress is None:
        return "starting…"
    filled = int(progress.fraction * 30)
    eta = f", {progress.eta_s:.0f}s left" if progress.eta_s is not None else ""
    rows = handle.metrics()
    last = rows.epochs[-1] if rows.epochs else {}
    val = f", val acc {last['val_accuracy']:.4f}" if "val_accuracy" in last else ""
    return (
        f"[{'#' * filled}{'.' * (30 - filled)}] epoch {progress.epoch}/{progress.epochs} "
        f"batch {progress.batch}/{progress.batches}, {progress.samples_per_s:,.0f} samples/s{eta}{val}"
    )


def _follow(handle: RunHandle) -> int:
    """Show a progress line until the run ends; Ctrl-C asks it to stop and waits."""
    interactive, last_line = sys.stdout.isatty(), ""
    try:
        while handle.status().is_active:
            dispatch(handle.path.parent, blocking=False)  # a slot freed by a crashed run is used at once
            line = _bar(handle)
            if interactive:
                print("\r" + line.ljust(110), end="", flush=True)
            elif line.split(" batch")[0] != last_line.split(" batch")[0]:  # a line per epoch in logs
                print(line, flush=True)
            last_line = line
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping (the run keeps its best weights)…", flush=True)
        handle.stop()
        handle.wait(timeout=120)
    status = handle.status()
    print(f"\n{status.state}: {status.message}\nrun folder: {handle.path}")
    return 0 if status.state in ("completed", "stopped") else 1


def export_model(source: Path, target: Path) -> None:
    """Save an inference-only copy of a model (no optimizer state: a third of the size)."""
    import keras

    from mnist_core.storage import atomic_save

    model = keras.saving.load_model(source, safe_mode=True, compile=False)
    atomic_save(target, lambda tmp: model.save(tmp), suffix=".keras")


def cmd_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    lesson = load_lesson(args.lesson) if args.lesson else None
    with _worker_ends_with_the_command():
        handle = start_run(config, name=args.name, runs_dir_path=args.runs_dir, data_dir=args.data_dir, lesson=lesson)
    start = f"lesson {lesson.name}" if lesson else f"preset {args.preset or 'quick'}"
    print(f"Run {handle.id} queued ({start}): {config.to_json()}")
    code = _follow(handle)
    source = handle.model_path(args.export_which) if args.export else None
    if source:
        export_model(source, Path(args.export))
        print(f"{args.export_which} model exported (weights only, no optimizer state) to {args.export}")
    return code


@contextlib.contextmanager
def _worker_ends_with_the_command():
    """The worker `train` starts does not wait 120 s in the background for another run after the command ends
    (unless $DIGIT_LAB_WORKER_LINGER_S says so): it inherits this while the run is handed out."""
    from mnist_core.workers.warm import LINGER_ENV

    set_here = LINGER_ENV not in os.environ
    if set_here:
        os.environ[LINGER_ENV] = "0"
    try:
        yield
    finally:
        if set_here:
            os.environ.pop(LINGER_ENV, None)


def cmd_runs(args: argparse.Namespace) -> int:
    handles = list_runs(args.runs_dir)
    if not handles:
        print("No runs yet. Start one with: python -m mnist_core train --preset quick")
        return 0
    print(f"{'id':44} {'state':11} {'epochs':>6} {'test acc':>8} {'time':>7}  name")
    for handle in handles:
        status, accuracy = handle.status(), handle.files.read_evaluation_accuracy()
        acc = f"{accuracy:.2%}" if accuracy is not None else "-"
        print(
            f"{handle.id:44} {status.state:11} {status.epoch:>3}/{status.epochs:<2} {acc:>8} "
            f"{status.duration_s:6.0f}s  {handle.name}"
        )
        if (problem := handle.damage()) is not None:  # listed, named, never a traceback
            print(f"{'':44} damaged: {problem}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.suffix in (".keras", ".h5"):
        from mnist_core.runs.evaluation import evaluate_model_file

        evaluation, source = evaluate_model_file(target, args.data_dir, save=args.save)
    else:
        handle = RunHandle(target) if target.is_dir() else load_run(args.target, args.runs_dir)
        evaluation = handle.evaluation()
        if evaluation is None:
            problem = handle.damage()
            why = f"is damaged: {problem}" if problem else f"has no evaluation yet ({handle.status().state})."
            print(f"Run {handle.id} {why}", file=sys.stderr)
            return 1
        source = handle.status().data_source
    print(f"test accuracy {evaluation.accuracy:.2%}, loss {evaluation.loss:.4f} on {evaluation.n:,} digits ({source})")
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(evaluation.confusion):
        print(f"{digit:>4} " + "".join(f"{count:>6}" for count in row))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for preset in PRESETS.values():
        print(
            f"{preset.name:8} {preset.expected_accuracy:6.1%} full MNIST {preset.expected_embedded:6.1%} embedded  "
            f"{preset.description}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"train": cmd_train, "runs": cmd_runs, "evaluate": cmd_evaluate, "presets": cmd_presets}
    commands["download"] = cmd_download
    commands["tensorboard"] = cmd_tensorboard
    commands["worker"] = cmd_worker
    commands["lesson"] = cmd_lesson
    commands["export-notebook"] = cmd_export_notebook
    commands["accounts"] = cmd_accounts
    commands["data"] = cmd_data
    try:
        return commands[args.command](args)
    except (ConfigError, RunError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
