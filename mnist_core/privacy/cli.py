"""`python -m mnist_core data people|show|export|delete|cleanup`: what the server keeps for a person, one zip of
it, deleting it, and the retention cleanup. Without --person, the operator's data (the runs without an owner)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mnist_core.people import Person
from mnist_core.privacy import (
    RETENTION_ENV,
    check_person_id,
    cleanup,
    delete_all,
    export_zip,
    people_with_data,
    retention_text,
    size_text,
    summary_lines,
    take_inventory,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `data` subcommand and its actions."""
    data = commands.add_parser("data", help="what is kept for a person; export or delete it; the retention cleanup")
    actions = data.add_subparsers(dest="action", required=True)
    people = actions.add_parser("people", help="who has data on this server, with their ids")
    people.add_argument("--runs-dir")
    for name, text in (("show", "what is kept, where, for how long"), ("export", "all of it as one zip"),
                       ("delete", "all of it: runs stopped first, then every file removed")):  # fmt: skip
        action = actions.add_parser(name, help=text)
        action.add_argument("--person", metavar="ID", help="their id (see `data people`); default: the operator")
        action.add_argument("--runs-dir")
        action.add_argument("--digits-dir", help="My digits folder (default: $DIGIT_LAB_MY_DIGITS_DIR)")
    actions.choices["export"].add_argument("--out", metavar="FILE.zip", required=True)
    actions.choices["delete"].add_argument("--yes", action="store_true", help="really delete (nothing can undo it)")
    clean = actions.add_parser("cleanup", help=f"remove people's data untouched for ${RETENTION_ENV} days")
    clean.add_argument("--runs-dir")
    clean.add_argument("--digits-dir")
    clean.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")


def cmd_data(args: argparse.Namespace) -> int:
    if args.action == "people":
        return _people(args)
    if args.action == "cleanup":
        return _cleanup(args)
    person = _person(args.person, args.runs_dir)
    if args.action == "show":
        print("\n".join(summary_lines(take_inventory(person, args.runs_dir, args.digits_dir))))
        return 0
    if args.action == "export":
        found = export_zip(person, Path(args.out), args.runs_dir, args.digits_dir)
        print(f"Exported {len(found.items)} item(s), {size_text(found.size_bytes)} of files, to {args.out}")
        return 0
    if not args.yes:
        print("Nothing deleted: add --yes to delete all of it (first see it with `data show`).", file=sys.stderr)
        return 2
    done = delete_all(person, args.runs_dir, args.digits_dir)
    print(f"Stopped: {', '.join(done.stopped) or 'nothing was waiting or training'}")
    print(f"Removed ({size_text(done.size_bytes)}): " + "; ".join(done.removed))
    if done.still_training:
        print(f"Still stopping, kept for now: {', '.join(done.still_training)}. Run delete again in a minute.")
        return 1
    return 0


def _person(person_id: str | None, runs_dir: str | None) -> Person | None:
    """The person of --person (their name from the server's records), or None: the operator."""
    if person_id is None:
        return None
    person_id = check_person_id(person_id)
    known = {holder.id: holder for holder in people_with_data(runs_dir)}
    return known[person_id].person() if person_id in known else Person(person_id, name=person_id[:100])


def _people(args: argparse.Namespace) -> int:
    holders = people_with_data(args.runs_dir)
    if not holders:
        print("No signed-in person has runs or lesson progress here (the operator's data: `data show`).")
    for holder in holders:
        print(f"{holder.label:30} {holder.id}")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    print(retention_text())
    removals = cleanup(args.runs_dir, args.digits_dir, dry_run=args.dry_run)
    verb = "Would remove" if args.dry_run else "Removed"
    for removal in removals:
        print(f"{verb} {removal.what}: {removal.path}")
    print(f"{verb} {len(removals)} item(s).")
    return 0
