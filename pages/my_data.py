"""My data: what this server keeps for you (runs, drawings, lesson progress, lessons made), where and for how
long; export all of it as one zip, or delete all of it. A teacher (and the operator) can do both for a student."""

import functools
import time

import pandas as pd
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import privacy
from mnist_core.privacy.inventory import KINDS
from mnist_core.privacy.words import NOT_KEPT
from ui.app_shell import ensure_app_shell
from ui.files import export_bytes
from ui.sign_in import current_person

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py

KEY = "mydata_"
PERSON = current_person()  # None with sign-in off: the operator, whose data is the runs without an owner
st.title("My data")
st.caption(
    "Everything this Digit Lab server keeps for you, where it is kept and for how long. Export all of it as one "
    "zip, or delete all of it: waiting and training runs are stopped first, then every file is removed."
)


def whose_data() -> privacy.Holder | None:
    """The person whose data the page shows: yourself, or for a teacher (and the operator) anyone with data here."""
    if PERSON is not None and not PERSON.is_teacher:
        return privacy.Holder(PERSON.id, PERSON.label)
    yourself = privacy.Holder(PERSON.id, f"You ({PERSON.label})") if PERSON else None
    others = [holder for holder in privacy.people_with_data() if PERSON is None or holder.id != PERSON.id]
    choices = [yourself, *others]
    label = lambda h: h.label if h else "You (the operator: the runs without an owner)"  # noqa: E731
    return st.selectbox("Whose data", choices, format_func=label, key=KEY + "whose",
                        help="As a teacher you can export or delete a student's data for them.")  # fmt: skip


def show_result() -> None:
    """What the last delete did, once (it is kept across the rerun that follows it)."""
    done = st.session_state.pop(KEY + "done", None)
    if done is None:
        return
    whose, deletion = done
    stopped = ", ".join(deletion.stopped) or "no run was waiting or training"
    st.success(escape_markdown(
        f"Deleted all of {whose} ({privacy.size_text(deletion.size_bytes)}). Stopped first: {stopped}. "
        f"Removed: {'; '.join(deletion.removed)}."
    ), icon=":material/delete:")  # fmt: skip
    if deletion.still_training:
        st.warning(escape_markdown(
            f"Still stopping, so kept for now: {', '.join(deletion.still_training)}. "
            "Press Delete again in a minute to remove it too."
        ))  # fmt: skip


def delete(person, whose: str) -> None:
    try:
        st.session_state[KEY + "done"] = (whose, privacy.delete_all(person))
    except privacy.PrivacyError as error:
        st.session_state[KEY + "error"] = str(error)
    st.session_state[KEY + "confirm"] = False


holder = whose_data()
person = holder.person() if holder else None
own = holder is None if PERSON is None else holder.id == PERSON.id
whose = "your data" if own else f"{holder.label}'s data"
show_result()
if problem := st.session_state.pop(KEY + "error", None):
    st.error(escape_markdown(problem))
found = privacy.take_inventory(person)
st.subheader("What is kept")
if not found.items:
    st.info(escape_markdown(f"Nothing of {whose} is kept on this server. {NOT_KEPT}"), icon=":material/info:")
    st.stop()
st.markdown(escape_markdown(f"{len(found.items)} items of {whose}, {privacy.size_text(found.size_bytes)} in all:"))
for line in privacy.summary_lines(found)[1:]:
    if not line.startswith("- "):  # the items are the table below
        st.markdown(escape_markdown(line))
st.dataframe(
    pd.DataFrame(
        {
            "What": [KINDS[item.kind] for item in found.items],
            "Name": [item.label for item in found.items],
            "State": [item.state for item in found.items],
            "Size": [privacy.size_text(item.size_bytes) for item in found.items],
            "Last changed": [time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated_at)) for item in found.items],
            "Where on the server": [str(item.paths[0].parent) for item in found.items],
        }
    ),
    hide_index=True,
    key=KEY + "table",
)

st.subheader("Export or delete")
export_col, delete_col = st.columns(2)
too_big = found.size_bytes > privacy.MAX_EXPORT_BYTES
export_col.download_button(
    "Export all my data" if own else f"Export all of {whose}",
    functools.partial(export_bytes, functools.partial(privacy.export_zip, person), ".zip"),
    file_name="digit-lab-my-data.zip",
    mime="application/zip",
    icon=":material/download:",
    on_click="ignore",
    disabled=too_big,
    key=KEY + "export",
    help="One zip: every run folder, your drawings as PNGs, your lesson progress, and a README saying what is what.",
)
if too_big:
    export_col.caption(escape_markdown(
        f"{privacy.size_text(found.size_bytes)} is more than one export holds "
        f"({privacy.size_text(privacy.MAX_EXPORT_BYTES)}); delete some runs first, or ask the operator for a copy."
    ))  # fmt: skip
confirmed = delete_col.checkbox(
    f"Yes, remove all {len(found.items)} items above for good ({privacy.size_text(found.size_bytes)}); "
    "this cannot be undone",
    key=KEY + "confirm",
)
delete_col.button(
    "Delete all my data" if own else f"Delete all of {whose}",
    type="primary",
    icon=":material/delete_forever:",
    disabled=not confirmed,
    on_click=delete,
    args=(person, whose),
    key=KEY + "delete",
)
