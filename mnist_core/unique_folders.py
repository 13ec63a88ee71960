"""Give a finished folder a free name, also when several sessions do it at the same moment (issue 13, item 10).

Checking that a name is free and then renaming onto it is a race: two imports of one zip in the
same second pick the same name and the second rename fails with "Directory not empty" (or, onto an
empty folder another start has just made, silently replaces it). Claiming the name with `mkdir`
is atomic: exactly one caller gets each name, and the others move on to the next.
"""

from __future__ import annotations

import itertools
from pathlib import Path

MAX_LENGTH = 64  # run ids are at most this long (runs._create_run_folder cuts them the same way)


def claim_folder(root: Path, stem: str) -> Path:
    """Create and return an empty folder `root/stem`, or `stem-2`, `stem-3`… whichever is free first."""
    for suffix in itertools.count(1):
        path = root / (stem if suffix == 1 else f"{stem}-{suffix}"[:MAX_LENGTH])
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def move_to_free_folder(staging: Path, root: Path, stem: str) -> Path:
    """Rename the folder `staging` to a newly claimed free name in `root`; returns the new path."""
    final = claim_folder(root, stem)
    try:
        staging.rename(final)  # POSIX: atomically replaces the empty folder we own
    except OSError:
        final.rmdir()  # still ours and empty (Windows will not rename onto a folder)
        staging.rename(final)
    return final
