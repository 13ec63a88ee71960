"""`python -m mnist_core lesson list|show NAME`: the built-in lessons, or a teacher's file, as text."""

from __future__ import annotations

import argparse

from mnist_core.lessons.files import builtin_names, load_lesson
from mnist_core.lessons.gates import gate_text
from mnist_core.lessons.schema import Lesson


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `lesson` subcommand and its two actions."""
    lesson = commands.add_parser("lesson", help="the built-in lessons, or a lesson file, as text")
    actions = lesson.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the built-in lessons")
    show = actions.add_parser("show", help="one lesson: its settings, what it locks and hides, its steps")
    show.add_argument("lesson", metavar="NAME_OR_FILE")


def cmd_lesson(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name in builtin_names():
            lesson = load_lesson(name)
            print(f"{name:8} {len(lesson.steps)} steps  {lesson.title} ({lesson.audience})")
        return 0
    print(describe(load_lesson(args.lesson)))
    return 0


def describe(lesson: Lesson) -> str:
    """A lesson as plain text: title, settings, controls by state, numbered steps with their gates."""
    lines = [f"{lesson.title} ({lesson.name})", f"for: {lesson.audience}", f"starts from: {lesson.preset}"]
    lines += [f"  {name} = {value}" for name, value in lesson.overrides.items()]
    for state in ("locked", "hidden"):
        names = [name for name, said in lesson.controls.items() if said == state]
        lines.append(f"{state}: {', '.join(names) if names else 'nothing'}")
    for number, step in enumerate(lesson.steps, 1):
        lines += ["", f"{number}. {step.title}" + (f" (on {step.look_at})" if step.look_at else "")]
        lines += ["   " + line for line in step.text.strip().splitlines()]
        if step.question:
            lines.append(f"   Think: {step.question}")
        if step.gate:
            lines.append(f"   Next step unlocks when {gate_text(step.gate)}.")
    return "\n".join(lines)
