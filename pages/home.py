"""Home: what Digit Lab does, which data it uses, the run in progress, and the way to each page."""

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from ui.app_shell import ensure_app_shell
from ui.damaged_runs import damaged_runs, usable_runs
from ui.data_banner import data_banner
from ui.files import starter_available
from ui.formatting import best_accuracy, format_duration
from ui.live_run import live_run
from ui.sign_in import current_person

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py

st.title("Digit Lab")
damaged_runs()  # each named in the sidebar with what is wrong and a Delete; pages use usable_runs()
st.markdown(
    "Train a neural network on **MNIST** handwritten digits, watch it learn live, then draw your own "
    "digits and see what it thinks, and browse every digit it got wrong."
)

data_slot = st.empty()  # filled last: loading MNIST the first time takes a second

person = current_person()
training = runs.active_run(viewer=person)
if training is not None:
    live_run(training.id, "home_", compact=True)

START_HERE = (  # (title, what it does, page, link)
    (
        ":material/model_training: Train",
        "Pick a preset or set every knob (layers, optimiser, learning rate, augmentation…), press "
        "Start and watch loss and accuracy curves grow batch by batch.",
        "pages/train.py",
        "Train a model",
    ),
    (
        ":material/draw: Draw",
        "Draw a digit with your mouse or finger. The prediction, all ten probabilities and what "
        "the model actually sees update with every stroke.",
        "pages/draw.py",
        "Draw a digit",
    ),
    (
        ":material/troubleshoot: Diagnostics",
        "Click any cell of the confusion matrix to see the test digits behind it, with the "
        "model's confidence, per-class scores and its most confident mistakes.",
        "pages/diagnostics.py",
        "Inspect a model",
    ),
)
st.subheader("Start here")
for column, (title, text, page_path, link) in zip(st.columns(3), START_HERE, strict=True):
    with column.container(border=True, height="stretch"):
        st.markdown(f"#### {title}")
        st.markdown(text)
        st.page_link(page_path, label=link, icon=":material/arrow_forward:")

finished = [h for h in usable_runs() if h.status().is_finished]
if finished:
    st.subheader("Latest runs")
    for handle in finished[:3]:
        status = handle.status()
        accuracy, kind = best_accuracy(handle)
        score = f" · **{accuracy:.2%}** {kind} accuracy" if accuracy is not None else ""
        st.markdown(
            f"- **{escape_markdown(handle.name)}** · {status.state}{score} · {format_duration(status.duration_s)}"
        )
    st.caption(
        f"{len(finished)} finished run{'s' if len(finished) != 1 else ''} in `{runs.runs_dir()}`; "
        "all of them are on the Train page."
    )
elif starter_available():
    st.caption("No runs yet: a starter model is ready on the Draw and Diagnostics pages, no training needed.")
else:
    st.caption("No runs yet: train one on the Train page to draw digits for it and inspect its mistakes.")


data_banner(data_slot)
