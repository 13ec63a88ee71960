"""Diagnostics: how a model does on the test set, digit by digit, down to the digits it got wrong."""

import streamlit as st

from mnist_core import runs
from mnist_core.drawing.predict import ModelLoadError
from mnist_core.runs import diagnostics
from mnist_core.runs.evaluation_apart import evaluate_apart
from ui import charts
from ui.app_shell import ensure_app_shell
from ui.chart_view import show_chart
from ui.confusion_chart import confusion_chart, confusion_text
from ui.damaged_runs import damaged_runs, usable_runs
from ui.files import file_version, starter_available
from ui.formatting import example_caption, has_evaluation, upscale
from ui.model_picker import model_picker, model_summary
from ui.responsive import columns
from ui.share import export_button
from ui.uploads import in_user_terms

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py

KEY = "diag_"
GALLERY_MAX = 40  # digits shown for one confusion cell
THUMB_PX = 72


@st.cache_data(show_spinner="Evaluating the model on the test set…", max_entries=4)
def file_evaluation(path: str, version: float):
    """The starter's or an uploaded file's evaluation (the starter's comes stored beside it; an upload's is
    computed in a child process at a low priority, so it cannot slow everyone's pages)."""
    evaluation, _source = evaluate_apart(path)
    return evaluation


@st.cache_data(show_spinner="Loading the evaluation…", max_entries=8)
def run_evaluation(run_id: str, version: float):
    return runs.load_run(run_id).evaluation()


def pick_key() -> str:
    """The cell list's key, one per model: another model's matrix has other filled cells."""
    return f"{KEY}pick_cell_{st.session_state.get(KEY + 'model')}"


def remember_click() -> None:
    """A click on the confusion matrix selects that cell (and clears the shortcut pills)."""
    points = st.session_state[KEY + "matrix"].selection.points
    if points:
        st.session_state[KEY + "cell"] = (st.session_state[KEY + "model"], int(points[0]["y"]), int(points[0]["x"]))
        st.session_state[KEY + "shortcut"] = None
        st.session_state[pick_key()] = None


def remember_shortcut() -> None:
    picked = st.session_state[KEY + "shortcut"]
    if picked:
        st.session_state[KEY + "cell"] = (st.session_state[KEY + "model"], picked[0], picked[1])
        st.session_state[pick_key()] = None


def remember_picked_cell() -> None:
    """The keyboard's way to a cell (the matrix itself takes clicks only): any cell with digits in it."""
    picked = st.session_state[pick_key()]
    if picked:
        st.session_state[KEY + "cell"] = (st.session_state[KEY + "model"], picked[0], picked[1])
        st.session_state[KEY + "shortcut"] = None


def gallery(examples: list, empty: str) -> None:
    if not examples:
        st.caption(empty)
        return
    st.image(
        [upscale(e.image, THUMB_PX) for e in examples], caption=[example_caption(e) for e in examples], width=THUMB_PX
    )


st.title("Diagnostics")
damaged_runs()  # each named in the sidebar with what is wrong and a Delete; pages use usable_runs()
st.caption(
    "How a model does on the test set, digit by digit. Click any cell of the confusion matrix to see "
    "the test digits behind it."
)

evaluated = [h for h in usable_runs() if h.status().is_finished and has_evaluation(h)]
if not evaluated:
    also = (
        ", or pick the starter model (shown below)."
        if starter_available()
        else "; or upload a model of your own below."
    )
    st.info("No runs yet. Train one on the Train page" + also, icon=":material/info:")
picked = model_picker(KEY + "model", evaluated, starter_first=False, upload_key=KEY + "upload")
choice, handle, model_path = picked.choice, picked.run, picked.path
if model_path is None and handle is None:
    st.info(
        "Upload a model to see how it does on the test set: its accuracy, confusion matrix and mistakes.",
        icon=":material/upload:",
    )
    st.stop()
if handle is not None:
    evaluation = run_evaluation(choice, handle.evaluation_version())
else:
    try:
        evaluation = file_evaluation(model_path, file_version(model_path))
    except ModelLoadError as error:
        st.error(f"**This model cannot be used:** {in_user_terms(str(error), KEY + 'upload')}", icon=":material/error:")
        st.stop()
if evaluation is None:
    st.info(
        "This run has no test-set evaluation (it ended before one was made). Pick another run, or train "
        "a new one on the Train page.",
        icon=":material/info:",
    )
    st.stop()

errors = evaluation.n - int(evaluation.confusion.trace())
acc_col, loss_col, n_col, err_col = columns(4, key=KEY + "scores", min_rem=9)
acc_col.metric("Test accuracy", f"{evaluation.accuracy:.2%}", border=True)
loss_col.metric("Test loss", f"{evaluation.loss:.4f}", border=True)
n_col.metric("Test digits", f"{evaluation.n:,}", border=True)
err_col.metric("Mistakes", f"{errors:,}", border=True)

# ---------------------------------------------------------------- confusion matrix and its digits
st.subheader("Confusion matrix")
matrix_col, cell_col = columns([1.05, 1], key=KEY + "matrix_row", min_rem=22, gap="large")
with matrix_col:
    normalised = st.segmented_control(
        "Show",
        ["counts", "normalised"],
        default="counts",
        key=KEY + "scale",
        required=True,
        persist_state="session",
        format_func={"counts": "Counts", "normalised": "Share of each row"}.get,
    )
    stored = st.session_state.get(KEY + "cell")
    cell = stored[1:] if stored and stored[0] == choice else None
    figure = confusion_chart(evaluation.confusion, normalised=normalised == "normalised", selected=cell)
    summary, table = confusion_text(evaluation.confusion)
    show_chart(
        figure,
        KEY + "matrix",
        summary=summary,
        rows=table,
        on_select=remember_click,
        selection_mode="points",
        config={"displayModeBar": False},
    )
with cell_col:
    shortcuts = diagnostics.top_confusions(evaluation.confusion, limit=5)
    if shortcuts:
        st.pills(
            "Most frequent mistakes",
            [s[:2] for s in shortcuts],
            key=KEY + "shortcut",
            on_change=remember_shortcut,
            wrap=True,
            format_func=lambda s: f"{s[0]} → {s[1]} ({int(evaluation.confusion[s[0], s[1]])})",
        )
    filled = [(t, p) for t in range(10) for p in range(10) if evaluation.confusion[t, p]]
    st.selectbox(
        "Any cell",
        filled,
        index=None,
        key=pick_key(),
        on_change=remember_picked_cell,
        placeholder="Pick a cell by true and answered digit",
        format_func=lambda c: diagnostics.cell_title(evaluation.confusion, c[0], c[1]),
        help="Every cell of the matrix with digits in it: the same as clicking it.",
    )
    if cell is None:
        st.info("Click a cell of the matrix (or a mistake above) to see its digits.", icon=":material/ads_click:")
    else:
        true, predicted = cell
        st.markdown(f"**{diagnostics.cell_title(evaluation.confusion, true, predicted)}**")
        examples = diagnostics.cell_examples(evaluation, true, predicted, limit=GALLERY_MAX)
        gallery(examples, "No test digits fall in this cell.")
        shown = len(examples)
        if int(evaluation.confusion[true, predicted]) > shown:
            st.caption(f"Showing the {shown} the model was surest of.")

# ---------------------------------------------------------------- per class
st.subheader("Per digit")
bars_col, table_col = columns([1, 1.3], key=KEY + "per_digit_row", min_rem=22, gap="large")
rows = diagnostics.per_class_rows(evaluation)
show_chart(charts.per_class_bars(rows), KEY + "per_class", container=bars_col, config={"displayModeBar": False})
score = {"min_value": 0.0, "max_value": 1.0, "format": "percent"}
table_col.dataframe(
    rows,
    hide_index=True,
    column_config={
        "digit": "Digit",
        "precision": st.column_config.ProgressColumn("Precision", **score),
        "recall": st.column_config.ProgressColumn("Recall", **score),
        "f1": st.column_config.ProgressColumn("F1", **score),
        "support": "Test digits",
        "errors": "Missed",
        "confused_with": "Most often taken for",
    },
)

st.subheader("Most confident mistakes")
st.caption("Wrong answers the model was surest of: often badly written digits, sometimes wrong labels.")
gallery(diagnostics.confident_mistakes(evaluation, limit=24), "No mistakes at all on this test set.")

# ---------------------------------------------------------------- training and model
if handle is not None:
    st.subheader("Training curves")
    metrics = handle.metrics()
    show_chart(
        charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=len(metrics.epochs)), KEY + "curves"
    )
    export_button(handle, "run", key=KEY)  # the run as a zip, a notebook, a script
if model_path is not None:
    model_summary(model_path, KEY + "summary")
