"""For teachers on the Train page: make a lesson from the form as it stands (which controls students see
locked or not at all, its steps and their gates), save it, and hand out its link and class code; or load one
of their lessons back into the form and the maker to edit it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.lessons.files import LessonError
from mnist_core.lessons.library import lesson_from_form, made_lessons, save_lesson
from mnist_core.lessons.schema import ACTIONS, CONTROLS, PAGES, Lesson
from mnist_core.people import Person
from mnist_core.presets import PRESETS
from ui.train_form import KEY as FORM_KEY
from ui.train_form import fill_form

KEY = "maker_"
GATES = {"none": None, "a run reaches an accuracy": "run_accuracy", "an experiment finishes": "experiment_finished",
         "digits kept in My digits": "kept_digits"}  # fmt: skip
STEP_COLUMNS = ["title", "text", "do", "look_at", "question", "gate", "min_accuracy_pct", "knob", "digits"]
FIRST_STEP = {"title": "Train a first model", "text": "Press **Start training** and watch the curves grow.",
              "do": "start_run", "look_at": "train", "question": "Why does the validation curve flatten?",
              "gate": "a run reaches an accuracy", "min_accuracy_pct": 90.0, "knob": None, "digits": None}  # fmt: skip


def lesson_maker(config: TrainingConfig | None, person: Person | None) -> None:
    """The maker under the Train form (teachers, or the operator without sign-in); drawn once it is opened,
    so the page costs nothing more for a teacher who is only training."""
    if not st.toggle("Make a lesson from these settings", key=KEY + "open"):
        return
    with st.container(border=True):
        mine = [m for m in made_lessons(runs.runs_dir()) if m.author_id == (person.id if person else None)]
        if mine:
            pick_col, load_col = st.columns([3, 1], vertical_alignment="bottom")
            picked = pick_col.selectbox(
                "Edit one of your lessons", [m.lesson.name for m in mine], key=KEY + "edit_pick",
                format_func=lambda name: next(f"{m.lesson.title} ({m.code})" for m in mine if m.lesson.name == name),
            )  # fmt: skip
            load_col.button(
                "Load it", key=KEY + "edit_load", icon=":material/edit:", width="stretch",
                on_click=_load, args=(next(m.lesson for m in mine if m.lesson.name == picked),),
            )  # fmt: skip
        if config is None:
            st.info("Fix the settings above first: a lesson starts from settings Digit Lab can train.")
            return
        name_col, title_col, audience_col = st.columns([1, 2, 1])
        name = name_col.text_input("Short name (for its link)", key=KEY + "name", max_chars=40,
                                   placeholder="cnn-week-1", help="Lower-case letters, digits and dashes.")  # fmt: skip
        title = title_col.text_input("Title", key=KEY + "title", max_chars=120, placeholder="A first CNN")
        audience = audience_col.text_input("For", key=KEY + "audience", max_chars=120, placeholder="Year 10")
        shown_preset = st.session_state.get(FORM_KEY + "preset")
        st.session_state.setdefault(KEY + "preset", shown_preset if shown_preset in PRESETS else "quick")
        preset_col, data_col = st.columns(2)
        preset = preset_col.selectbox(
            "Starts from the preset", list(PRESETS), key=KEY + "preset",
            help="The lesson keeps this preset plus whatever the form above changes from it.",
        )  # fmt: skip
        data = data_col.selectbox("Its numbers are for", ["sample", "mnist"], key=KEY + "data",
                                  format_func={"sample": "the embedded sample", "mnist": "full MNIST"}.get)  # fmt: skip
        locked_col, hidden_col = st.columns(2)
        locked = locked_col.multiselect("Locked: shown, cannot change", CONTROLS, key=KEY + "locked",
                                        format_func=_label)  # fmt: skip
        # Both boxes offer every control: options that change with the other box would reset this one's choice.
        hidden = hidden_col.multiselect("Hidden: not shown at all", CONTROLS, key=KEY + "hidden",
                                        format_func=_label)  # fmt: skip
        both = [_label(c) for c in locked if c in hidden]
        if both:
            st.warning(f"Choose locked or hidden for {', '.join(both)}, not both.", icon=":material/warning:")
        st.caption("Steps: one row each, in order. The text is Markdown without links, images or HTML.")
        steps = st.data_editor(
            _steps_frame(),
            key=KEY + "steps",
            num_rows="dynamic",
            width="stretch",
            column_config={
                "title": st.column_config.TextColumn("Title", max_chars=120, required=True),
                "text": st.column_config.TextColumn("What to read and do", max_chars=4000, required=True),
                "do": st.column_config.SelectboxColumn("Do", options=list(ACTIONS), default="read"),
                "look_at": st.column_config.SelectboxColumn("Look at", options=list(PAGES)),
                "question": st.column_config.TextColumn("Question to think about", max_chars=500),
                "gate": st.column_config.SelectboxColumn("Unlocks the next step when", options=list(GATES),
                                                         default="none"),
                "min_accuracy_pct": st.column_config.NumberColumn("Accuracy %", min_value=1, max_value=100),
                "knob": st.column_config.SelectboxColumn("Experiment's knob", options=list(CONTROLS)),
                "digits": st.column_config.NumberColumn("Digits kept", min_value=1, max_value=1000, step=1),
            },
        )  # fmt: skip
        if st.button("Save the lesson", key=KEY + "save", type="primary", icon=":material/save:", disabled=bool(both)):
            controls = {**dict.fromkeys(locked, "locked"), **dict.fromkeys(hidden, "hidden")}
            try:
                lesson = lesson_from_form(name.strip(), title.strip(), audience.strip(), preset, config, controls,
                                          _step_dicts(steps), data=data)  # fmt: skip
                made = save_lesson(runs.runs_dir(), lesson, person)
            except LessonError as error:
                st.error(f"The lesson was not saved: {escape_markdown(str(error))}", icon=":material/error:")
            else:
                st.success(
                    f"Saved **{escape_markdown(made.lesson.title)}**. Students open it with the class code "
                    f"**{made.code}** on the Lessons page, or by its link `{lesson_address(made.link)}`. "
                    "Watch them on the **Class** page.",
                    icon=":material/check_circle:",
                )


def lesson_address(link: str) -> str:
    """The lesson's whole link as this browser reaches the app ('http://host:8501/lessons?lesson=…')."""
    here = (st.context.url or "").rstrip("/")
    base = here.rsplit("/", 1)[0] if here.count("/") > 2 else here
    return f"{base}/lessons{link}"


def _label(control: str) -> str:
    return control.replace("_", " ")


def _steps_frame() -> pd.DataFrame:
    rows = st.session_state.get(KEY + "loaded_steps") or [FIRST_STEP]
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def _step_dicts(frame: pd.DataFrame) -> list[dict]:
    """The editor's rows as the lesson file's steps (empty cells left out, the gate from its columns)."""
    steps = []
    for row in frame.to_dict("records"):
        row = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        if not any(row.get(k) for k in ("title", "text")):
            continue  # an empty row the editor added
        step = {k: row.get(k) for k in ("title", "text", "do", "look_at", "question")}
        kind = GATES.get(row.get("gate") or "none")
        if kind == "run_accuracy":
            pct = row.get("min_accuracy_pct")
            step["gate"] = {"kind": kind, "min_accuracy": None if pct is None else round(float(pct) / 100, 4)}
        elif kind == "experiment_finished":
            step["gate"] = {"kind": kind, "knob": row.get("knob")}
        elif kind == "kept_digits":
            step["gate"] = {"kind": kind, "count": None if row.get("digits") is None else int(row["digits"])}
        steps.append(step)
    return steps


def _load(lesson: Lesson) -> None:
    """A callback (the form above is drawn before the maker): the lesson's settings into the form, its text,
    controls and steps into the maker."""
    fill_form(lesson.config())
    kinds = {kind: label for label, kind in GATES.items()}
    st.session_state.update({
        KEY + "name": lesson.name, KEY + "title": lesson.title, KEY + "audience": lesson.audience,
        KEY + "preset": lesson.preset, KEY + "data": lesson.data,
        KEY + "locked": [c for c, s in lesson.controls.items() if s == "locked"],
        KEY + "hidden": [c for c, s in lesson.controls.items() if s == "hidden"],
        KEY + "loaded_steps": [
            {"title": s.title, "text": s.text, "do": s.do, "look_at": s.look_at, "question": s.question,
             "gate": kinds[s.gate.kind] if s.gate else "none",
             "min_accuracy_pct": s.gate.min_accuracy * 100 if s.gate and s.gate.min_accuracy else None,
             "knob": s.gate.knob if s.gate else None, "digits": s.gate.count if s.gate else None}
            for s in lesson.steps
        ],
    })  # fmt: skip
    st.session_state.pop(KEY + "steps", None)  # the editor starts again from the loaded rows
