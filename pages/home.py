"""Home: what Digit Lab does, which data it uses, the run in progress, and the way to each page."""

import streamlit as st

from mnist_core import runs
from ui.formatting import best_accuracy, data_info, format_duration, starter_available

# Opened by URL on a fresh server, Streamlit runs a file in pages/ directly (its older multipage mode)
# instead of app.py: hand over to app.py, which sets up the navigation and comes back here.
if "app_shell" not in st.session_state:
    st.switch_page("app.py")

st.title("Digit Lab")
st.markdown(
    "Train a neural network on **MNIST** handwritten digits, watch it learn live, then draw your own "
    "digits and see what it thinks, and browse every digit it got wrong."
)


data_banner = st.empty()  # filled last: loading MNIST the first time takes a second


@st.fragment(run_every=2)
def current_run(run_id: str) -> None:
    """The run in training, refreshed every 2 s."""
    handle = runs.load_run(run_id)
    if not handle.status().is_active:
        st.rerun()  # it just ended: redraw Home without it
    with st.container(border=True):
        progress = handle.progress()
        st.markdown(f"**:material/model_training: Training now: {handle.name}**")
        if progress is None:
            st.progress(0.0, text="Starting…")
        else:
            st.progress(
                progress.fraction,
                text=(
                    f"Epoch {progress.epoch}/{progress.epochs} · {progress.fraction:.0%} · "
                    f"{format_duration(progress.eta_s)} left"
                ),
            )
        st.page_link("pages/train.py", label="Watch it on the Train page", icon=":material/arrow_forward:")


training = runs.active_run()
if training is not None:
    current_run(training.id)

st.subheader("Start here")
train, draw, diagnose = st.columns(3)
with train.container(border=True, height="stretch"):
    st.markdown("#### :material/model_training: Train")
    st.markdown(
        "Pick a preset or set every knob (layers, optimiser, learning rate, augmentation…), press "
        "Start and watch loss and accuracy curves grow batch by batch."
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/arrow_forward:")
with draw.container(border=True, height="stretch"):
    st.markdown("#### :material/draw: Draw")
    st.markdown(
        "Draw a digit with your mouse or finger. The prediction, all ten probabilities and what "
        "the model actually sees update with every stroke."
    )
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/arrow_forward:")
with diagnose.container(border=True, height="stretch"):
    st.markdown("#### :material/troubleshoot: Diagnostics")
    st.markdown(
        "Click any cell of the confusion matrix to see the test digits behind it, with the "
        "model's confidence, per-class scores and its most confident mistakes."
    )
    st.page_link("pages/diagnostics.py", label="Inspect a model", icon=":material/arrow_forward:")

finished = [h for h in runs.list_runs() if h.status().is_finished]
if finished:
    st.subheader("Latest runs")
    for handle in finished[:3]:
        status = handle.status()
        accuracy, kind = best_accuracy(handle)
        score = f" · **{accuracy:.2%}** {kind} accuracy" if accuracy is not None else ""
        st.markdown(f"- **{handle.name}** · {status.state}{score} · {format_duration(status.duration_s)}")
    st.caption(
        f"{len(finished)} finished run{'s' if len(finished) != 1 else ''} in `{runs.runs_dir()}`; "
        "all of them are on the Train page."
    )
elif starter_available():
    st.caption("No runs yet: a starter model is ready on the Draw and Diagnostics pages, no training needed.")
else:
    st.caption("No runs yet: train one on the Train page to draw digits for it and inspect its mistakes.")


@st.cache_data(show_spinner="Looking for MNIST…")
def cached_data_info():
    return data_info()


info = cached_data_info()
if info.kind == "error":
    data_banner.error(f"**No MNIST data could be loaded.** {info.source}", icon=":material/error:")
elif info.is_embedded:
    data_banner.warning(
        f"**Using the small embedded sample** ({info.n_train:,} training and {info.n_test:,} test digits), "
        "so accuracy will be lower than on full MNIST. For the full 70,000 digits, set `MNIST_DATA_DIR` to "
        "a folder with the four MNIST IDX files (or a Keras `mnist.npz`) and restart the app:\n\n"
        "`MNIST_DATA_DIR=/path/to/mnist streamlit run app.py`",
        icon=":material/database:",
    )
else:
    data_banner.success(f"**Data:** {info.source}", icon=":material/database:")
