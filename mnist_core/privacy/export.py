"""Export everything kept for a person as one zip: their run folders, drawings, lesson progress and lessons made,
with `inventory.json` and `README.txt` saying what each part is and where it was kept.

The zip is written file by file into a temporary file beside the target and moved there when complete
(storage.atomic_path), so memory stays flat and a crash leaves no half zip; a person's data above
MAX_EXPORT_BYTES is refused before anything is written.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

from mnist_core.people import Person
from mnist_core.privacy.inventory import KINDS, Inventory, Item, PrivacyError, take_inventory
from mnist_core.privacy.words import summary_lines
from mnist_core.storage import atomic_path

MAX_EXPORT_BYTES = 1 << 30  # 1 GiB of files: hundreds of runs; more is a job for the operator's own copy
FOLDERS = {"run": "runs", "digits": "my_digits", "progress": "lesson_progress", "lesson": "lessons_made"}


def export_zip(
    person: Person | None,
    path: str | Path,
    runs_root: str | Path | None = None,
    digits_root: str | Path | None = None,
) -> Inventory:
    """Write all of `person`'s data into a zip at `path`; returns what it holds. PrivacyError if there is
    nothing to export or it is larger than MAX_EXPORT_BYTES."""
    found = take_inventory(person, runs_root, digits_root)
    if not found.items:
        raise PrivacyError(f"Nothing is kept for {_who(person)} on this server, so there is nothing to export.")
    if found.size_bytes > MAX_EXPORT_BYTES:
        raise PrivacyError(
            f"{_who(person).capitalize()} has {found.size_bytes / 1e9:.1f} GB of data, more than the "
            f"{MAX_EXPORT_BYTES / 1e9:.1f} GB one export holds; delete some runs first, or ask the operator "
            "to copy the folders listed under 'Where'."
        )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "\n".join(summary_lines(found)) + "\n")
        archive.writestr("inventory.json", json.dumps(_record(found), indent=1))
        for item in found.items:
            for source, name in _members(item):
                archive.write(source, name)
    return found


def _members(item: Item) -> list[tuple[Path, str]]:
    """(file on disk, name in the zip) for every regular file of `item` (links are left out)."""
    top = FOLDERS[item.kind]
    members = []
    for path in item.paths:
        if path.is_file() and not path.is_symlink():
            members.append((path, f"{top}/{path.name}"))
        elif path.is_dir():
            base = f"{top}/{path.name}" if item.kind == "run" else top
            for folder, _, names in os.walk(path):
                for name in sorted(names):
                    source = Path(folder, name)
                    if source.is_file() and not source.is_symlink():
                        members.append((source, f"{base}/{source.relative_to(path).as_posix()}"))
    return members


def _record(found: Inventory) -> dict:
    person = found.person
    return {
        "format": "digit-lab-my-data",
        "version": 1,
        "exported_at": time.time(),
        "person": person.owner_record() if person else {"id": None, "name": "operator"},
        "items": [
            {"kind": KINDS[item.kind], "what": item.label, "state": item.state, "bytes": item.size_bytes,
             "updated_at": item.updated_at, "kept_in": [str(path) for path in item.paths]}
            for item in found.items
        ],
    }  # fmt: skip


def _who(person: Person | None) -> str:
    return person.label if person else "the operator"
