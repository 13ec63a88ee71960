"""`python -m mnist_core accounts add-teacher|reset-teacher|remove-teacher|teachers|classes`: the operator's
side of class accounts. A teacher's password is printed once, here, and kept only as a hash."""

from __future__ import annotations

import argparse
import time

from mnist_core.accounts.classes import list_classes
from mnist_core.accounts.store import SWITCH_ENV, accounts_dir, class_accounts_on
from mnist_core.accounts.teachers import add_teacher, list_teachers, remove_teacher, reset_teacher


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `accounts` subcommand and its actions."""
    accounts = commands.add_parser("accounts", help="teacher accounts and classes (class accounts)")
    accounts.add_argument(
        "--accounts-dir", help="accounts folder (default: $DIGIT_LAB_ACCOUNTS_DIR, else accounts/ beside runs/)"
    )
    actions = accounts.add_subparsers(dest="action", required=True)
    for name, text in (
        ("add-teacher", "a teacher account; prints its password once"),
        ("reset-teacher", "a new password for a teacher (the old one stops working); prints it once"),
        ("remove-teacher", "a teacher can no longer sign in (their classes and runs stay)"),
    ):
        actions.add_parser(name, help=text).add_argument("name", metavar="NAME")
    actions.add_parser("teachers", help="the teacher accounts")
    actions.add_parser("classes", help="the classes, with their codes and number of students")


def cmd_accounts(args: argparse.Namespace) -> int:
    folder = accounts_dir(args.accounts_dir)
    if args.action in ("add-teacher", "reset-teacher"):
        password = (add_teacher if args.action == "add-teacher" else reset_teacher)(folder, args.name)
        print(f"Teacher {args.name!r}: password {password} (shown only now; write it down or hand it over).")
        if not class_accounts_on():
            print(f"Teachers sign in with it once the app runs with {SWITCH_ENV}=1.")
        return 0
    if args.action == "remove-teacher":
        remove_teacher(folder, args.name)
        print(f"Teacher {args.name!r} can no longer sign in.")
        return 0
    if args.action == "teachers":
        rows = list_teachers(folder)
        print("\n".join(t.name for t in rows) if rows else "No teacher accounts yet: add one with add-teacher NAME.")
        return 0
    for info in list_classes(folder) or []:
        state = "closed" if info.closed else "open"
        made = time.strftime("%Y-%m-%d", time.localtime(info.created_at))
        print(f"{info.code}  {state:6} {len(info.students):3} students  {made}  {info.name} (by {info.teacher})")
    if not list_classes(folder):
        print("No classes yet: teachers make them on the Class accounts page.")
    return 0
