"""Lessons: pick a lesson, follow its steps (where I am, what's next, what's done); a step's gate is checked by
the engine from this person's own runs and drawings, and progress is kept on the server."""

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import my_digits, runs
from mnist_core.lessons.files import LessonError, builtin_names, load_lesson
from mnist_core.lessons.gates import best_accuracy, gate_passed, gate_text, lesson_runs
from mnist_core.lessons.progress import advance, join, read_progress
from ui.app_shell import ensure_app_shell
from ui.lesson_controls import close_lesson, current_lesson, open_lesson
from ui.sign_in import current_person
from ui.train_form import fill_form, lesson_from_url

ensure_app_shell()

st.title("Lessons")
person = current_person()
ROOT = runs.runs_dir()
PAGES = {"train": "pages/train.py", "draw": "pages/draw.py", "my_digits": "pages/my_digits.py",
         "diagnostics": "pages/diagnostics.py"}  # fmt: skip

if problem := lesson_from_url():  # a lesson's link opens it
    st.warning(f"{escape_markdown(problem)} Pick one below.", icon=":material/help:")

lesson = current_lesson()
if lesson is None:
    st.caption(
        "A lesson sets the Train page's starting point, shows only the controls it needs and says what to do next."
    )
    with st.form("lesson_code_form", border=True):
        code_col, open_col = st.columns([3, 1], vertical_alignment="bottom")
        code = code_col.text_input("Class code", max_chars=20, placeholder="e.g. K7QM2X", key="lesson_code",
                                   help="The six letters and digits your teacher gave you.")  # fmt: skip
        if open_col.form_submit_button("Open", icon=":material/login:", width="stretch") and code.strip():
            try:
                opened = open_lesson(code)
            except LessonError as error:
                st.error(escape_markdown(str(error)), icon=":material/error:")
            else:
                fill_form(opened.config())
                st.query_params["lesson"] = opened.name
                st.rerun()
    for name in builtin_names():
        item = load_lesson(name)
        with st.container(border=True):
            st.markdown(
                f"**{item.title}**  \n{item.audience} · {len(item.steps)} steps"  # checked lesson text
            )
            if st.button("Open this lesson", key=f"lesson_open_{name}", icon=":material/school:"):
                st.query_params["lesson"] = name
                st.rerun()
    st.stop()

join(ROOT, person, lesson)  # the teacher's class view lists this person from now on
mine = lesson_runs(runs.list_runs(viewer=person), lesson)
kept = len(my_digits.list_digits(my_digits.person_folder(person)))
progress = read_progress(ROOT, person, lesson)
st.subheader(lesson.title)
st.caption(f"For: {lesson.audience}. Starts from the {lesson.preset} preset.")
st.progress(len(progress.done) / len(lesson.steps), text=f"{len(progress.done)} of {len(lesson.steps)} steps done")
for number, step in enumerate(lesson.steps):
    mark = (
        ":material/check_circle:"
        if number in progress.done
        else (":material/arrow_forward:" if number == progress.step else ":material/lock:")
    )
    st.markdown(f"{mark} {'**' if number == progress.step else ''}{number + 1}. {step.title}"
                f"{'**' if number == progress.step else ''}")  # fmt: skip

step = lesson.steps[progress.step]
with st.container(border=True):
    st.markdown(f"#### Step {progress.step + 1}: {step.title}")
    st.markdown(step.text)  # checked when the lesson was read: Markdown without links, images or HTML
    if step.question:
        st.info(f"**Think:** {step.question}", icon=":material/psychology:")
    if step.look_at and step.look_at in PAGES:
        st.page_link(
            PAGES[step.look_at], label=f"Go to {step.look_at.replace('_', ' ').title()}", icon=":material/open_in_new:"
        )
    if step.gate:
        done = gate_passed(step.gate, mine, kept)
        st.caption(f"{':material/check: Done' if done else ':material/flag: To move on'}: {gate_text(step.gate)}.")
    best = best_accuracy(mine)
    if best is not None:
        st.caption(f"Your best test accuracy in this lesson so far: {best:.2%} ({len(mine)} runs).")
    if not progress.is_finished(lesson):
        if st.button("Next step" if not step.gate else "Check and move on", type="primary", key="lesson_next"):
            moved = advance(ROOT, person, lesson, mine, kept)
            if moved == progress:
                st.warning(f"Not yet: {gate_text(step.gate)}.", icon=":material/hourglass_top:")
            else:
                st.rerun()
    else:
        st.success("You finished this lesson.", icon=":material/celebration:")
if st.button("Close the lesson (all controls back)", key="lesson_close"):
    close_lesson()
    st.query_params.pop("lesson", None)
    st.rerun()
