"""Class accounts: for teachers. Make a class of students without email and print their sign-in codes; give a
student a new code, remove one, let a locked-out class try again, close a class (its codes stop working)."""

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import accounts
from mnist_core.accounts.sheet import sheet_html
from ui.app_shell import ensure_app_shell
from ui.sign_in import current_person

ensure_app_shell()

KEY = "accounts_"
st.title("Class accounts")
person = current_person()
if person is not None and not person.is_teacher:
    st.info("This page is for teachers: it makes and manages class accounts.", icon=":material/lock:")
    st.stop()
if not accounts.class_accounts_on():
    st.info(
        "Class accounts are off. To let students without email sign in with a class code, start Digit Lab with "
        "`DIGIT_LAB_CLASS_ACCOUNTS=1` (see “Class accounts” in the README).",
        icon=":material/badge:",
    )
    st.stop()
FOLDER = accounts.accounts_dir()
state = st.session_state


def _do(action, *args, done: str = "") -> None:
    """Run an engine change from a button; its message (or `done`) shows on the next run."""
    try:
        result = action(FOLDER, *args)
    except accounts.AccountError as error:
        state[KEY + "message"] = ("error", str(error))
        return
    if isinstance(result, accounts.NewCode):
        state[KEY + "fresh"] = (args[0], [result])
    elif isinstance(result, list) and result and isinstance(result[0], accounts.NewCode):
        state[KEY + "fresh"] = (args[0], result)
    state[KEY + "message"] = ("success", done)


def _create() -> None:
    try:
        names = accounts.student_names(state[KEY + "count"] or None, state[KEY + "names"])
        info, codes = accounts.create_class(FOLDER, state[KEY + "class_name"], names, person)
    except accounts.AccountError as error:
        state[KEY + "message"] = ("error", str(error))
        return
    state[KEY + "fresh"] = (info.id, codes)
    state[KEY + "message"] = ("success", f"Made the class {info.name} (class code {info.code}).")


kind, text = state.pop(KEY + "message", (None, ""))
if kind == "error":
    st.error(escape_markdown(text), icon=":material/error:")
elif kind == "success" and text:
    st.success(escape_markdown(text), icon=":material/check_circle:")

if KEY + "fresh" in state:
    class_id, codes = state[KEY + "fresh"]
    info = accounts.load_class(FOLDER, class_id)
    st.subheader("New codes: print them now")
    st.caption("Codes are kept only as hashes: this is the one time they are shown. A new code replaces the old.")
    table = pd.DataFrame({"Number": [c.seat for c in codes], "Name": [c.name for c in codes]})
    table["Code"] = [c.code for c in codes]
    st.dataframe(table, hide_index=True, key=KEY + "codes_table")
    url = urlsplit(st.context.url or "")
    sheet = sheet_html(info, codes, f"{url.scheme}://{url.netloc}" if url.netloc else "")
    left, right = st.columns(2)
    left.download_button(
        "Download the sheet to print", sheet, file_name=f"sign-in-codes-{info.code}.html", mime="text/html",
        icon=":material/print:", type="primary", key=KEY + "sheet",
    )  # fmt: skip
    right.button("Done: hide the codes", key=KEY + "hide", on_click=lambda: state.pop(KEY + "fresh", None))

st.subheader("New class")
with st.form(KEY + "new_class"):
    st.text_input("Class name", key=KEY + "class_name", max_chars=40, placeholder="Year 5 Birch")
    st.text_area("Students' names, one a line (or leave empty and give a number)", key=KEY + "names", height=120)
    st.number_input("Number of students (when no names are given)", min_value=0, step=1, key=KEY + "count")
    st.caption(f"At most {accounts.MAX_STUDENTS} students a class. Each gets a code: their number, then 8 signs.")
    st.form_submit_button("Make the class and its codes", type="primary", on_click=_create)

classes = accounts.list_classes(FOLDER)
st.subheader("Classes")
if not classes:
    st.info("No classes yet: make one above.", icon=":material/groups:")
    st.stop()
for info in classes:
    badge = " · :gray-badge[closed]" if info.closed else ""
    with st.expander(f"{escape_markdown(info.name)} · class code {info.code}{badge}", expanded=not info.closed):
        st.caption(f"{len(info.students)} students · made by {escape_markdown(info.teacher)}")
        if info.closed:
            st.caption("Closed: its codes no longer work. Students' runs and drawings stay.")
            continue
        st.dataframe(
            pd.DataFrame({"Number": [s.seat for s in info.students], "Name": [s.name for s in info.students]}),
            hide_index=True, key=f"{KEY}students_{info.id}",
        )  # fmt: skip
        seats = {s.seat: f"{s.seat}. {s.name}" for s in info.students}
        seat = st.selectbox("Student", list(seats), format_func=seats.get, key=f"{KEY}seat_{info.id}")
        one, two, three = st.columns(3)
        one.button(
            "New code for this student", key=f"{KEY}reset_{info.id}", disabled=seat is None,
            on_click=_do, args=(accounts.reset_code, info.id, seat), kwargs={"done": "A new code is below."},
        )  # fmt: skip
        two.button(
            "Remove this student", key=f"{KEY}remove_{info.id}", disabled=seat is None,
            on_click=_do, args=(accounts.remove_student, info.id, seat), kwargs={"done": "Removed."},
        )  # fmt: skip
        three.button(
            "Let the class try again now", key=f"{KEY}unlock_{info.id}", on_click=_do,
            args=(accounts.let_try_again, info.id), kwargs={"done": "Wrong codes forgotten: the class can sign in."},
            help="After too many wrong codes a class waits 15 minutes; this ends the wait.",
        )  # fmt: skip
        add_col, close_col = st.columns(2)
        more = add_col.number_input("Add students", min_value=1, step=1, key=f"{KEY}more_{info.id}")
        add_col.button(
            "Add them and make their codes", key=f"{KEY}add_{info.id}",
            on_click=_do, args=(accounts.add_students, info.id, more), kwargs={"done": "Added."},
        )  # fmt: skip
        sure = close_col.checkbox("Yes, close this class", key=f"{KEY}sure_{info.id}")
        close_col.button(
            "Close the class", key=f"{KEY}close_{info.id}", disabled=not sure, on_click=_do,
            args=(accounts.close_class, info.id), kwargs={"done": f"Closed {info.name}: its codes no longer work."},
        )  # fmt: skip
