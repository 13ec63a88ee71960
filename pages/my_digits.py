"""My digits: the drawings you kept on the Draw page; export, import, and fine-tune a model on them."""

import dataclasses
import functools

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import my_digits, runs
from mnist_core.drawing.predict import ModelLoadError
from mnist_core.my_digits import archive as my_digits_archive
from mnist_core.runs.finetune import MIN_DIGITS, FinetuneError, finetune_report, start_finetune
from ui import charts, files
from ui.app_shell import ensure_app_shell
from ui.damaged_runs import damaged_runs, usable_runs
from ui.formatting import upscale
from ui.live_run import live_run
from ui.model_picker import model_picker
from ui.run_outcome import run_outcome
from ui.sign_in import current_person
from ui.uploads import import_once

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py

KEY = "mine_"
PER_ROW = 12
SHOW_PER_DIGIT = 24  # newest drawings shown per digit (the exports hold all of them)
PERSON = current_person()  # None with sign-in off
FOLDER = my_digits.person_folder(PERSON)  # each person's own digits (the default folder without sign-in)

st.html(f"<style>{charts.PIXELATED_CSS}</style>")
st.title("My digits")
damaged_runs()  # each named in the sidebar with what is wrong and a Delete; pages use usable_runs()
st.caption(
    "Drawings you kept on the Draw page with their right label. Fine-tune a model on them so it learns "
    "the way you write, and see what it gained on your held-out drawings and what it kept on MNIST."
)


def import_upload() -> None:
    """The uploader: each new file is imported once; errors are shown, nothing half-imported."""
    imported = import_once(
        "Import digits (.zip or .npz, up to 20 MB)",
        KEY + "import",
        functools.partial(my_digits_archive.import_file, folder=FOLDER),
        types=["zip", "npz"],
        max_bytes=my_digits_archive.MAX_IMPORT_BYTES,
        what="a .zip or .npz of digits",
        help="A zip of 28×28 PNGs with labels.csv (file,label), or an .npz with 'images' and "
        "'labels', like the exports below.",
    )
    if imported is not None:
        name, added = imported
        st.success(f"Imported {added} digit{'s' if added != 1 else ''} from {name}.", icon=":material/check_circle:")


with st.popover("Import", icon=":material/upload:"):
    import_upload()

samples = my_digits.list_digits(FOLDER)
if not samples:
    st.info("No digits yet — draw on the Draw page and press **Keep**.", icon=":material/draw:")
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/arrow_forward:")
    st.stop()

# ---------------------------------------------------------------- counts and exports
counts = my_digits.label_counts(samples)
st.markdown(
    f"**{len(samples)} digit{'s' if len(samples) != 1 else ''}** · "
    + " · ".join(f"{d}: **{n}**" if n else f":gray[{d}: 0]" for d, n in counts.items())
)
NPZ = "application/octet-stream"
EXPORTS = (  # (label, bytes, file name, type)
    ("Export .zip (PNGs)", functools.partial(files.my_digits_zip, FOLDER), "my_digits.zip", "application/zip"),
    (
        "Export .npz (arrays)",
        functools.partial(files.my_digits_npz, FOLDER),
        "my_digits.npz",
        "application/octet-stream",
    ),
)
for column, (label, data, file_name, mime) in zip(st.columns([1, 1, 3]), EXPORTS, strict=False):
    column.download_button(
        label,
        data,
        file_name=file_name,
        mime=mime,
        icon=":material/download:",
        on_click="ignore",
        key=KEY + file_name.rsplit(".", 1)[1],  # mine_zip, mine_npz
    )


# ---------------------------------------------------------------- fine-tune
def start(path: str, epochs: int) -> None:
    try:
        handle = start_finetune(path, epochs=epochs, my_digits_dir=FOLDER, owner=PERSON)
    except (FinetuneError, ModelLoadError, runs.RunError) as error:
        st.session_state[KEY + "error"] = str(error)
    else:
        st.session_state[KEY + "run_id"] = handle.id


def show_report(handle: runs.RunHandle) -> None:
    """Before/after on held-out My digits and on MNIST test, and each held-out digit."""
    run_outcome(handle)
    report = finetune_report(handle)
    if report is None:
        st.caption("No before/after numbers: the fine-tune ended before it was measured.")
        return
    mine_col, test_col = st.columns(2)
    for column, part, label in ((mine_col, "holdout", "Held-out My digits"), (test_col, "test", "MNIST test set")):
        numbers = getattr(report, part)
        after, before = numbers.after, numbers.before
        column.metric(
            f"{label} ({numbers.n:,})",
            f"{after:.1%}" if after is not None else "—",
            delta=f"{(after - before) * 100:+.1f} points" if None not in (after, before) else None,
            border=True,
            help=f"Before fine-tuning: {before:.1%}" if before is not None else None,
        )
    held_out_table([dataclasses.asdict(row) for row in report.held_out])
    st.page_link(
        "pages/draw.py", label="Draw with the fine-tuned model (pick it on the Draw page)", icon=":material/draw:"
    )


def held_out_table(rows: list[dict]) -> None:
    """Each held-out drawing: its label, the answer before and after, and whether fine-tuning fixed it."""
    if not rows:
        return
    st.markdown(
        f"**Each held-out drawing** ({sum(_change(r) == 'fixed' for r in rows)} fixed, "
        f"{sum(_change(r) == 'broken' for r in rows)} broken)"
    )
    st.dataframe(
        [
            {
                "label": r["label"],
                "before": r["before"],
                "after": r["after"],
                "change": _change(r),
                "confidence before": r["confidence_before"],
                "confidence after": r["confidence_after"],
            }
            for r in rows
        ],
        hide_index=True,
        key=KEY + "held_out",
        column_config={
            "confidence before": st.column_config.NumberColumn(format="percent"),
            "confidence after": st.column_config.NumberColumn(format="percent"),
        },
    )


def _change(row: dict) -> str:
    was, now = row["before"] == row["label"], row["after"] == row["label"]
    return {(False, True): "fixed", (True, False): "broken", (True, True): "right", (False, False): "still wrong"}[
        (was, now)
    ]


st.subheader("Fine-tune on my digits")
trained = [h for h in usable_runs() if h.status().is_finished and h.model_path("best")]
base_col, epochs_col, go_col = st.columns([3, 1, 1], vertical_alignment="bottom")
with base_col:
    base = model_picker(KEY + "base", trained, label="Base model")
if base is None:
    st.info("Train a model on the Train page first: there is nothing to fine-tune.", icon=":material/info:")
else:
    epochs = epochs_col.number_input("Epochs", 1, 20, 3, key=KEY + "epochs")
    reason = (
        f"Fine-tuning needs at least {MIN_DIGITS} of My digits; you have {len(samples)}. Keep a few more "
        "on the Draw page."
        if len(samples) < MIN_DIGITS
        else None
    )
    go_col.button(
        "Start fine-tuning",
        type="primary",
        icon=":material/play_arrow:",
        key=KEY + "start",
        disabled=reason is not None,
        width="stretch",
        on_click=start,
        args=(base.path, int(epochs)),
    )
    if reason:
        st.caption(f":material/block: {reason}")
    else:
        st.caption(
            "About 30% of each digit's drawings are held out to measure the result; the rest train, "
            "mixed 1:3 with MNIST digits so the model does not forget."
        )
error = st.session_state.pop(KEY + "error", None)
if error:
    st.error(escape_markdown(error), icon=":material/error:")
current = st.session_state.get(KEY + "run_id") or next(  # else the latest fine-tune, e.g. after a reload
    (h.id for h in usable_runs() if h.files.finetune_spec() is not None), None
)
if current:
    try:
        handle = runs.load_run(current, viewer=PERSON)
    except runs.RunError:
        handle = None
    if handle is not None and handle.damage() is not None:  # named in the sidebar, with its Delete
        handle = None
    if handle is not None and handle.status().is_active:
        live_run(current, KEY)
    elif handle is not None:
        show_report(handle)


# ---------------------------------------------------------------- gallery
def delete(sample_id: str) -> None:
    try:
        my_digits.delete_digit(sample_id, FOLDER)
    except my_digits.MyDigitsError as error:
        st.session_state[KEY + "error_gallery"] = str(error)


st.subheader("Gallery")
gallery_error = st.session_state.pop(KEY + "error_gallery", None)
if gallery_error:
    st.error(escape_markdown(gallery_error), icon=":material/error:")
for digit in range(10):
    mine = [s for s in samples if s.label == digit][::-1][:SHOW_PER_DIGIT]  # newest first
    if not mine:
        continue
    more = f" (newest {len(mine)} of {counts[digit]})" if counts[digit] > len(mine) else ""
    st.markdown(f"**{digit}** · {counts[digit]}{more}")
    for start_at in range(0, len(mine), PER_ROW):
        for column, sample in zip(st.columns(PER_ROW), mine[start_at : start_at + PER_ROW], strict=False):
            column.image(upscale(sample.image, 56), width=56)
            column.button(
                "",
                icon=":material/delete:",
                key=f"{KEY}del_{sample.id}",
                type="tertiary",
                help=f"Delete this {digit}",
                on_click=functools.partial(delete, sample.id),
            )
