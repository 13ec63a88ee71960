"""`python -m mnist_core tensorboard`: event files for the runs that lack them, then the command to view them all."""

from __future__ import annotations

import argparse

from mnist_core.runs import list_runs, runs_dir


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `tensorboard` subcommand."""
    parser = commands.add_parser(
        "tensorboard", help="write TensorBoard event files for runs that have none (imported or older runs)"
    )
    parser.add_argument("--runs-dir")


def cmd_tensorboard(args: argparse.Namespace) -> int:
    from mnist_core.training.tensorboard_log import write_from_metrics  # loads TensorFlow: only for this command

    finished = [handle for handle in list_runs(args.runs_dir) if handle.status().is_finished]
    written = [handle for handle in finished if write_from_metrics(handle.path)]
    for handle in written:
        print(f"wrote {handle.path}/tensorboard from its metrics.jsonl")
    skipped = len(finished) - len(written)
    print(f"{len(written)} run(s) given event files; {skipped} already had them or have no epochs.")
    print(f"View every run: tensorboard --logdir {runs_dir(args.runs_dir)}  (pip install tensorboard)")
    return 0
