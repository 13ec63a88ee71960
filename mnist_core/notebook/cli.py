"""`python -m mnist_core export-notebook RUN_OR_EXPERIMENT --out FILE.ipynb [--py FILE.py] [--zip FILE.zip]`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from mnist_core.notebook.export import ExportError, export_experiment_notebook, export_notebook, export_zip
from mnist_core.runs import load_run


def add_parser(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser("export-notebook", help="a finished run as a runnable Keras 3 notebook and script")
    command.add_argument(
        "run", metavar="RUN", help="a run's id (`python -m mnist_core runs` lists them), or an experiment's id"
    )
    command.add_argument("--out", type=Path, help="write the notebook here (.ipynb)")
    command.add_argument("--py", type=Path, help="write the same cells as a py:percent script here")
    command.add_argument(
        "--zip", type=Path, help="write one zip: notebook, script and, for a fine-tune, its base model and drawings"
    )
    command.add_argument("--runs-dir", help="runs folder (default: $DIGIT_LAB_RUNS_DIR or ./runs)")


def cmd_export_notebook(args: argparse.Namespace) -> int:
    if re.fullmatch(r"[0-9a-f]{12}", args.run):  # an experiment's id: its grid as one notebook
        from mnist_core.runs.experiments import load_experiment

        if args.zip:
            raise ExportError("An experiment exports as one notebook (--out) and/or script (--py), not a zip.")
        if not (args.out or args.py):
            raise ExportError("Say where to write the notebook: --out FILE.ipynb and/or --py FILE.py.")
        for path in export_experiment_notebook(load_experiment(args.run, args.runs_dir), args.out, args.py):
            print(f"wrote {path}")
        return 0
    handle = load_run(args.run, args.runs_dir)
    written = [export_zip(handle, args.zip)] if args.zip else []
    if args.out or args.py or not written:
        written += export_notebook(handle, args.out, args.py)
    for path in written:
        print(f"wrote {path}")
    return 0
