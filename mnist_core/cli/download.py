"""`python -m mnist_core download`: full MNIST into the Keras cache, with a progress bar on the terminal."""

from __future__ import annotations

import argparse
import os
import sys

from mnist_core.data import ENV_VAR
from mnist_core.data.download import KERAS_URL, URL_ENV, DownloadError, download_mnist

BAR_WIDTH = 30


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `download` subcommand and its options."""
    parser = commands.add_parser("download", help="download full MNIST (11 MB) into the Keras cache, hash-checked")
    parser.add_argument("--url", help=f"address of mnist.npz (default: ${URL_ENV}, else {KERAS_URL})")
    parser.add_argument("--force", action="store_true", help="download again even if the file is already there")


class TerminalBar:
    """A progress callback: one redrawn line on a terminal, a line per 10% in a log."""

    def __init__(self, interactive: bool):
        self.interactive, self.shown = interactive, -1

    def __call__(self, done: int, total: int | None) -> None:
        step = int(done * 100 / total) if total else done // (1 << 20)  # percent, else whole MB
        step = step if self.interactive or not total else step // 10 * 10
        if step == self.shown:
            return
        self.shown = step
        if total:
            filled = int(BAR_WIDTH * done / total)
            line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done / 1e6:.1f} / {total / 1e6:.1f} MB"
        else:  # the server did not say how much is coming
            line = f"{done / 1e6:.1f} MB downloaded"
        print("\r" + line if self.interactive else line, end="" if self.interactive else "\n", flush=True)

    def end(self) -> None:
        if self.interactive and self.shown >= 0:
            print(flush=True)


def cmd_download(args: argparse.Namespace) -> int:
    bar = TerminalBar(sys.stdout.isatty())
    try:
        result = download_mnist(url=args.url, progress=bar, force=args.force)
    except DownloadError as error:
        bar.end()
        print(f"error: {error}", file=sys.stderr)
        return 1
    bar.end()
    digits = f"{result.n_train:,} training and {result.n_test:,} test digits"
    if result.downloaded:
        print(f"Full MNIST saved to {result.path} ({result.size:,} bytes, SHA-256 checked): {digits}.")
    else:
        print(f"Full MNIST is already at {result.path} (SHA-256 checked): {digits}. Use --force to download again.")
    if os.environ.get(ENV_VAR, "").strip():
        print(f"Note: {ENV_VAR} is set, so Digit Lab reads that folder rather than this file.")
    return 0
