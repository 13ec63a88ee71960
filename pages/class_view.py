"""Class: for teachers. The lessons made on this server with their class codes (retire or bring back your own),
and a live view of one lesson's class: a row per student with the step reached, runs waiting, training and
done, best test accuracy, last activity and who looks stuck; a student's run opens read-only below."""

import time

import pandas as pd
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.lessons.class_view import STUCK_AFTER_S, class_rows
from mnist_core.lessons.files import LessonError, builtin_names, load_lesson
from mnist_core.lessons.library import made_lessons, set_retired
from ui.app_shell import ensure_app_shell
from ui.formatting import describe_config, format_duration, progress_text
from ui.lesson_maker import lesson_address
from ui.run_outcome import run_outcome
from ui.sign_in import current_person

ensure_app_shell()

KEY = "class_"
REFRESH_S = 3
st.title("Class")
person = current_person()
if person is not None and not person.is_teacher:
    st.info("This page is for teachers: it shows how everyone in a lesson is getting on.", icon=":material/lock:")
    st.stop()
ROOT = runs.runs_dir()
made = made_lessons(ROOT)

st.subheader("Lessons made here")
if not made:
    st.info(
        "No lessons yet. Make one on the **Train** page (Teach with it → Make a lesson from these settings); "
        "the built-in lessons can be watched below as they are.",
        icon=":material/school:",
    )
for item in made:
    own = item.author_id == (person.id if person else None)
    text_col, action_col = st.columns([5, 1], vertical_alignment="center")
    state = " · :orange-badge[retired]" if item.retired else ""
    text_col.markdown(
        f"**{escape_markdown(item.lesson.title)}** · class code **{item.code}** · `{lesson_address(item.link)}` · "
        f"by {escape_markdown(item.author)}{state}"
    )
    if own:
        action_col.button(
            "Bring back" if item.retired else "Retire",
            key=f"{KEY}retire_{item.lesson.name}",
            width="stretch",
            on_click=set_retired,
            args=(ROOT, item.lesson.name, not item.retired, person),
            help="A retired lesson no longer opens for students; their progress and runs stay.",
        )

st.subheader("Watch a lesson")
choices = [m.lesson.name for m in made if not m.retired] + builtin_names()
titles = {m.lesson.name: f"{m.lesson.title} ({m.code})" for m in made} | {
    name: f"{load_lesson(name).title} (built-in)" for name in builtin_names()
}
picked = st.selectbox("Lesson", choices, key=KEY + "lesson", format_func=lambda name: titles.get(name, name))


def _lesson(name: str):
    if name in builtin_names():
        return load_lesson(name)
    return next(m.lesson for m in made if m.lesson.name == name)


try:
    lesson = _lesson(picked)
except (LessonError, StopIteration):
    st.error("That lesson can no longer be read.", icon=":material/error:")
    st.stop()


lesson_steps = len(lesson.steps)


@st.fragment(run_every=REFRESH_S)
def class_table() -> None:
    """The class's rows, read again every few seconds from the progress files and run folders."""
    now = time.time()
    rows = class_rows(ROOT, lesson, runs.list_runs(viewer=person), now)
    if not rows:
        st.info(
            "Nobody has opened this lesson yet. Give your class its code, or its link, to open on the Lessons page.",
            icon=":material/group_off:",
        )
        return
    stuck = sum(row.stuck is not None for row in rows)
    steps = ", ".join(f"step {n}: {sum(r.step == n and not r.finished_lesson for r in rows)}"
                      for n in range(1, lesson_steps + 1))  # fmt: skip
    st.caption(
        f"{len(rows)} students · {sum(row.finished_lesson for row in rows)} finished · {steps} · {stuck} may be "
        f"stuck (a failed run, or nothing for {STUCK_AFTER_S // 60} min) · updated every {REFRESH_S} s"
    )
    st.table(  # a plain table: read by screen readers and keyboards, and printable
        pd.DataFrame(
            [
                {
                    "Student": row.name,
                    "Step": f"{row.step} of {row.steps}" + (" ✓ finished" if row.finished_lesson else ""),
                    "Waiting": row.waiting,
                    "Training": row.training,
                    "Done": row.finished,
                    "Failed": row.failed,
                    "Best test accuracy": "—" if row.best_accuracy is None else f"{row.best_accuracy:.2%}",
                    "Last activity": f"{format_duration(now - row.last_activity)} ago" if row.last_activity else "—",
                    "Stuck?": row.stuck or "",
                }
                for row in rows
            ]
        ).set_index("Student")
    )
    st.session_state[KEY + "runs"] = {row.name: row.run_ids for row in rows}


class_table()


@st.fragment(run_every=REFRESH_S)
def students_run() -> None:
    """One student's run, read-only: its progress while it waits or trains, how it ended after."""
    students = st.session_state.get(KEY + "runs", {})
    with_runs = {name: ids for name, ids in students.items() if ids}
    if not with_runs:
        return
    st.subheader("A student's run")
    student_col, run_col = st.columns(2)
    student = student_col.selectbox("Student", list(with_runs), key=KEY + "student")
    run_id = run_col.selectbox("Run", list(with_runs.get(student, ())), key=KEY + "run")
    try:
        handle = runs.load_run(run_id, viewer=person) if run_id else None
    except runs.RunError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return
    if handle is None:
        return
    st.caption(f"{escape_markdown(handle.name)} · {describe_config(handle.config)} · read-only")
    status = handle.status()
    if status.is_active:
        progress = handle.progress()
        if progress is None:
            st.progress(0.0, text="Waiting for a worker" if status.is_waiting else "Starting: loading the data…")
        else:
            st.progress(progress.fraction, text=progress_text(progress))
    else:
        run_outcome(handle)


students_run()
