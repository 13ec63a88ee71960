"""My digits: the drawings you kept on the Draw page; export, import, and fine-tune a model on them."""

import functools

import streamlit as st

from mnist_core import my_digits, runs
from mnist_core.finetune import MIN_DIGITS, FinetuneError, finetune_report, start_finetune
from mnist_core.predict import STARTER_MODEL_PATH, ModelLoadError
from ui import charts, files
from ui.formatting import best_accuracy, format_duration, progress_text, upscale

if "app_shell" not in st.session_state:  # opened by URL on a fresh server: see pages/home.py
    st.switch_page("app.py", query_params={"page": "my_digits"})

KEY = "mine_"
PER_ROW = 12
SHOW_PER_DIGIT = 24  # newest drawings shown per digit (the exports hold all of them)
STARTER = "starter"

st.html(f"<style>{charts.PIXELATED_CSS}</style>")
st.title("My digits")
st.caption(
    "Drawings you kept on the Draw page with their right label. Fine-tune a model on them so it learns "
    "the way you write, and see what it gained on your held-out drawings and what it kept on MNIST."
)


def import_upload() -> None:
    """The uploader: each new file is imported once; errors are shown, nothing half-imported."""
    upload = st.file_uploader(
        "Import digits (.zip or .npz, up to 20 MB)",
        type=["zip", "npz"],
        key=KEY + "import",
        help="A zip of 28×28 PNGs with labels.csv (file,label), or an .npz with 'images' and "
        "'labels', like the exports below.",
    )
    if upload is None or st.session_state.get(KEY + "imported") == upload.file_id:
        return
    st.session_state[KEY + "imported"] = upload.file_id
    try:
        added = files.import_bytes(
            upload.getvalue(),
            upload.name,
            my_digits.import_file,
            my_digits.MAX_IMPORT_BYTES,
            "a .zip or .npz of digits",
        )
    except ValueError as error:  # MyDigitsError too
        st.error(str(error), icon=":material/error:")
    else:
        st.success(
            f"Imported {added} digit{'s' if added != 1 else ''} from {upload.name}.", icon=":material/check_circle:"
        )


with st.popover("Import", icon=":material/upload:"):
    import_upload()

samples = my_digits.list_digits()
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
zip_col, npz_col, _ = st.columns([1, 1, 3])
zip_col.download_button(
    "Export .zip (PNGs)",
    files.my_digits_zip,
    file_name="my_digits.zip",
    mime="application/zip",
    icon=":material/download:",
    on_click="ignore",
    key=KEY + "zip",
)
npz_col.download_button(
    "Export .npz (arrays)",
    files.my_digits_npz,
    file_name="my_digits.npz",
    mime="application/octet-stream",
    icon=":material/download:",
    on_click="ignore",
    key=KEY + "npz",
)


# ---------------------------------------------------------------- fine-tune
def base_models() -> dict[str, tuple[str, str]]:
    """choice -> (label, model path): the starter model and every finished run with a model."""
    choices = {STARTER: ("Starter model", str(STARTER_MODEL_PATH))} if STARTER_MODEL_PATH.is_file() else {}
    for handle in runs.list_runs():
        if handle.status().is_finished and handle.model_path("best"):
            accuracy, kind = best_accuracy(handle)
            score = f" ({accuracy:.1%} {kind})" if accuracy is not None else ""
            choices[handle.id] = (handle.name + score, str(handle.model_path("best")))
    return choices


def start(path: str, epochs: int) -> None:
    try:
        handle = start_finetune(path, epochs=epochs)
    except (FinetuneError, ModelLoadError, runs.RunError) as error:
        st.session_state[KEY + "error"] = str(error)
    else:
        st.session_state[KEY + "run_id"] = handle.id


@st.fragment(run_every=1)
def live_finetune(run_id: str) -> None:
    """Progress and curves of the fine-tune, re-read from its folder every second."""
    handle = runs.load_run(run_id)
    status = handle.status()
    if not status.is_active:
        st.rerun()
    title_col, stop_col = st.columns([4, 1], vertical_alignment="center")
    title_col.markdown(f"**:material/model_training: {handle.name}**  \n{status.message}")
    stop_col.button("Stop", icon=":material/stop:", key=KEY + "stop", on_click=handle.stop, width="stretch")
    progress = handle.progress()
    st.progress(
        progress.fraction if progress else 0.0,
        text=progress_text(progress) if progress else "Starting: loading the model and the data…",
    )
    metrics = handle.metrics()
    if metrics.batches or metrics.epochs:
        st.plotly_chart(
            charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=status.epochs), key=KEY + "curves"
        )


def show_report(handle: runs.RunHandle) -> None:
    """Before/after on held-out My digits and on MNIST test, and each held-out digit."""
    status = handle.status()
    report = finetune_report(handle)
    show = {"completed": st.success, "stopped": st.warning}.get(status.state, st.error)
    show(
        f"**{handle.name}**: {status.message} ({format_duration(status.duration_s)})", icon=":material/model_training:"
    )
    if report is None:
        st.caption("No before/after numbers: the fine-tune ended before it was measured.")
        return
    mine_col, test_col = st.columns(2)
    for column, part, label in ((mine_col, "holdout", "Held-out My digits"), (test_col, "test", "MNIST test set")):
        numbers = report[part]
        after, before = numbers.get("after"), numbers.get("before")
        column.metric(
            f"{label} ({numbers['n']:,})",
            f"{after:.1%}" if after is not None else "—",
            delta=f"{(after - before) * 100:+.1f} points" if None not in (after, before) else None,
            border=True,
            help=f"Before fine-tuning: {before:.1%}" if before is not None else None,
        )
    rows = report.get("held_out", [])
    if rows:
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
    st.page_link(
        "pages/draw.py", label="Draw with the fine-tuned model (pick it on the Draw page)", icon=":material/draw:"
    )


def _change(row: dict) -> str:
    was, now = row["before"] == row["label"], row["after"] == row["label"]
    return {(False, True): "fixed", (True, False): "broken", (True, True): "right", (False, False): "still wrong"}[
        (was, now)
    ]


st.subheader("Fine-tune on my digits")
choices = base_models()
active = runs.active_run()
if not choices:
    st.info("Train a model on the Train page first: there is nothing to fine-tune.", icon=":material/info:")
else:
    base_col, epochs_col, go_col = st.columns([3, 1, 1], vertical_alignment="bottom")
    base = base_col.selectbox("Base model", list(choices), key=KEY + "base", format_func=lambda c: choices[c][0])
    epochs = epochs_col.number_input("Epochs", 1, 20, 3, key=KEY + "epochs")
    reason = (
        f"Fine-tuning needs at least {MIN_DIGITS} of My digits; you have {len(samples)}. Keep a few more "
        "on the Draw page."
        if len(samples) < MIN_DIGITS
        else f"**{active.name}** is training; fine-tune when it has finished."
        if active is not None
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
        args=(choices[base][1], int(epochs)),
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
    st.error(error, icon=":material/error:")
current = st.session_state.get(KEY + "run_id") or next(  # else the latest fine-tune, e.g. after a reload
    (h.id for h in runs.list_runs() if h.files.finetune_spec() is not None), None
)
if current:
    try:
        handle = runs.load_run(current)
    except runs.RunError:
        handle = None
    if handle is not None and handle.status().is_active:
        live_finetune(current)
    elif handle is not None:
        show_report(handle)


# ---------------------------------------------------------------- gallery
def delete(sample_id: str) -> None:
    try:
        my_digits.delete_digit(sample_id)
    except my_digits.MyDigitsError as error:
        st.session_state[KEY + "error_gallery"] = str(error)


st.subheader("Gallery")
gallery_error = st.session_state.pop(KEY + "error_gallery", None)
if gallery_error:
    st.error(gallery_error, icon=":material/error:")
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
