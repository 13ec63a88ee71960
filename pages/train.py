"""Train: pick a preset or set every knob, start a run, watch it learn live, compare past runs.

Training happens in the engine's worker process, so it keeps going when you switch pages or
reload; this page only reads the run folder (every second while a run is active).
"""

import functools

import streamlit as st

from mnist_core import runs
from mnist_core.config import ACTIVATIONS, FIELD_HELP, LR_SCHEDULES, OPTIMIZERS, SCALING_LABELS, ConfigError
from mnist_core.presets import PRESETS
from ui import charts
from ui.formatting import (
    BATCH_OPTIONS,
    DENSE_OPTIONS,
    FILTER_OPTIONS,
    LR_OPTIONS,
    MAX_EPOCHS,
    MAX_LAYERS,
    WIDTH_OPTIONS,
    config_to_form,
    describe_config,
    file_version,
    form_to_config,
    format_duration,
    overlay_series,
    progress_text,
    read_bytes,
    run_rows,
)
from ui.share import (
    export_button,
    import_uploader,
    restore_from_url,
    show_url_warnings,
    sync_url,
    watch_it_learn,
)

if "app_shell" not in st.session_state:  # opened by URL on a fresh server: see pages/home.py
    st.switch_page("app.py", query_params={**st.query_params.to_dict(), "page": "train"})  # keeps shared settings

KEY = "train_"  # every session-state key of this page starts with it
FORM_KEYS = tuple(config_to_form(PRESETS["quick"].config))
STATE_ICONS = {
    "completed": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}


def fill_form(config) -> None:
    st.session_state.update({KEY + name: value for name, value in config_to_form(config).items()})


def apply_preset() -> None:
    fill_form(PRESETS[st.session_state[KEY + "preset"]].config)


def form_values() -> dict:
    return {name: st.session_state[KEY + name] for name in FORM_KEYS}


@st.cache_data(show_spinner=False, max_entries=32)
def test_scores(run_id: str, version: float) -> tuple[float, float] | None:
    """(test accuracy, test loss) of a run, or None before it is evaluated."""
    evaluation = runs.load_run(run_id).evaluation()
    return None if evaluation is None else (evaluation.accuracy, evaluation.loss)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def model_summary(path: str, version: float) -> str:
    from mnist_core.predict import load_predictor

    return load_predictor(path).summary()


st.title("Train")
st.caption(
    "Pick a preset, adjust any knob, press **Start**. Training runs in its own process: switch pages "
    "or reload and it keeps going; come back to watch."
)

if KEY + "architecture" not in st.session_state:
    st.session_state.setdefault(KEY + "preset", "quick")
    apply_preset()
restore_from_url(fill_form)  # a shared link: its settings fill every control
show_url_warnings()

# ---------------------------------------------------------------- settings
preset_col, about_col = st.columns([1, 3], vertical_alignment="bottom")
preset = preset_col.selectbox(
    "Preset",
    list(PRESETS),
    key=KEY + "preset",
    on_change=apply_preset,
    persist_state="session",
    help="Fills every control below; change any of them after.",
)
about_col.info(
    f"**{preset}**: {PRESETS[preset].description}. Expected test accuracy about "
    f"**{PRESETS[preset].expected_accuracy:.1%}**; source: {PRESETS[preset].expected_from}.",
    icon=":material/tune:",
)

keep = {"persist_state": "session"}
model_box, optim_box, data_box = st.columns(3, border=True)
with model_box:
    st.markdown("**:material/hub: Model**")
    arch = st.segmented_control(
        "Architecture",
        ["mlp", "cnn"],
        key=KEY + "architecture",
        required=True,
        format_func=lambda a: {"mlp": "Dense (MLP)", "cnn": "Convolutional"}[a],
        **keep,
    )
    if arch == "cnn":
        blocks = st.slider(
            "Conv blocks", 1, MAX_LAYERS, key=KEY + "conv_blocks", help=FIELD_HELP["conv_filters"], **keep
        )
        for i in range(blocks):
            st.select_slider(f"Filters in block {i + 1}", FILTER_OPTIONS, key=f"{KEY}filters_{i}", **keep)
        st.select_slider(
            "Dense units after the convs",
            DENSE_OPTIONS,
            key=KEY + "dense_units",
            help=FIELD_HELP["dense_units"],
            **keep,
        )
    else:
        layers = st.slider(
            "Hidden layers",
            0,
            MAX_LAYERS,
            key=KEY + "layers",
            help="0 gives a linear model (logistic regression)",
            **keep,
        )
        for i in range(layers):
            st.select_slider(f"Units in layer {i + 1}", WIDTH_OPTIONS, key=f"{KEY}width_{i}", **keep)
    st.selectbox("Activation", ACTIVATIONS, key=KEY + "activation", **keep)
    st.slider("Dropout", 0.0, 0.7, step=0.05, key=KEY + "dropout", help=FIELD_HELP["dropout"], **keep)
    st.toggle("Batch normalisation", key=KEY + "batch_norm", help=FIELD_HELP["batch_norm"], **keep)
with optim_box:
    st.markdown("**:material/speed: Optimisation**")
    st.selectbox("Optimizer", OPTIMIZERS, key=KEY + "optimizer", **keep)
    st.select_slider("Learning rate", LR_OPTIONS, key=KEY + "learning_rate", format_func=lambda v: f"{v:g}", **keep)
    st.selectbox(
        "Learning-rate schedule",
        LR_SCHEDULES,
        key=KEY + "lr_schedule",
        help=FIELD_HELP["lr_schedule"],
        format_func=lambda s: {"constant": "constant", "warmup_cosine": "warm-up + cosine decay"}[s],
        **keep,
    )
    st.select_slider("Batch size", BATCH_OPTIONS, key=KEY + "batch_size", **keep)
    st.slider("Epochs", 1, MAX_EPOCHS, key=KEY + "epochs", help=FIELD_HELP["epochs"], **keep)
    st.slider(
        "Early stopping patience",
        0,
        10,
        key=KEY + "early_stopping_patience",
        help=FIELD_HELP["early_stopping_patience"],
        **keep,
    )
    if "label_smoothing" in FORM_KEYS:  # not every engine version has it
        st.slider("Label smoothing", 0.0, 0.3, step=0.05, key=KEY + "label_smoothing", **keep)
with data_box:
    st.markdown("**:material/dataset: Data**")
    st.selectbox(
        "Input scaling",
        list(SCALING_LABELS),
        key=KEY + "scaling",
        format_func=SCALING_LABELS.get,
        help=FIELD_HELP["scaling"],
        **keep,
    )
    st.toggle("Augmentation", key=KEY + "augmentation", help=FIELD_HELP["augmentation"], **keep)
    validation = st.radio(
        "Validate on",
        ["test", "split"],
        key=KEY + "validation",
        horizontal=True,
        format_func={"test": "MNIST test set", "split": "part of train"}.get,
        **keep,
    )
    st.slider(
        "Held-out share of train",
        0.05,
        0.5,
        step=0.05,
        key=KEY + "validation_fraction",
        disabled=validation != "split",
        **keep,
    )
    st.number_input(
        "Training digits (0 = all)",
        0,
        60_000,
        step=1000,
        key=KEY + "train_limit",
        help=FIELD_HELP["train_limit"],
        **keep,
    )
    st.number_input("Seed", 0, 2**31 - 1, step=1, key=KEY + "seed", **keep)

active = runs.active_run()
try:
    config, problem = form_to_config(form_values()), None
except ConfigError as error:
    config, problem = None, str(error)
sync_url(config)  # the URL always carries the settings: copy it to share them
name_col, start_col = st.columns([3, 1], vertical_alignment="bottom")
run_name = name_col.text_input(
    "Run name (optional)", key=KEY + "name", placeholder="e.g. wide MLP, lr 3e-3", max_chars=60
)
if start_col.button(
    "Start training",
    type="primary",
    icon=":material/play_arrow:",
    width="stretch",
    disabled=active is not None or config is None,
    key=KEY + "start",
):
    try:
        handle = runs.start_run(config, name=run_name.strip() or None)
    except runs.RunError as error:  # RunBusyError too
        st.error(str(error), icon=":material/error:")
    else:
        st.session_state[KEY + "run_id"] = handle.id
        st.rerun()
if problem:
    st.error(problem, icon=":material/error:")
elif active is not None:
    st.caption(f":material/hourglass_top: **{active.name}** is training; Start is available again when it ends.")
else:
    st.caption(f":material/checklist: Start trains: {describe_config(config)}")


# ---------------------------------------------------------------- the current run
def show_finished(handle: runs.RunHandle, where: str) -> None:
    """Outcome, curves, model summary and download of a run that has ended."""
    status = handle.status()
    show = {"completed": st.success, "stopped": st.warning}.get(status.state, st.error)
    show(f"**{handle.name}**: {status.message}", icon=STATE_ICONS.get(status.state))
    scores = test_scores(handle.id, file_version(handle.path / "evaluation.json"))
    accuracy_col, loss_col, epochs_col, time_col = st.columns(4)
    accuracy_col.metric("Test accuracy", f"{scores[0]:.2%}" if scores else "—", border=True)
    loss_col.metric("Test loss", f"{scores[1]:.4f}" if scores else "—", border=True)
    epochs_col.metric("Epochs trained", f"{status.epoch} of {status.epochs}", border=True)
    time_col.metric("Training time", format_duration(status.duration_s), border=True)
    model_path = handle.model_path("best")
    metrics = handle.metrics()
    if metrics.epochs or metrics.batches:
        st.plotly_chart(
            charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=status.epoch),
            key=f"{KEY}{where}_curves",
        )
    watch_it_learn(handle, where)
    export_button(handle, where)
    if model_path is None:
        return
    summary_col, download_col = st.columns([3, 1], vertical_alignment="center")
    show_summary = summary_col.toggle("Show the model summary", key=f"{KEY}{where}_summary")
    download_col.download_button(
        "Download model (.keras)",
        functools.partial(read_bytes, model_path),
        file_name=f"{handle.id}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        key=f"{KEY}{where}_dl",
        width="stretch",
    )
    if show_summary:  # full width: Keras' table is wide
        st.code(model_summary(str(model_path), file_version(model_path)), language=None)


def request_stop(run_id: str) -> None:
    runs.load_run(run_id).stop()
    st.session_state[KEY + "stopping"] = run_id
    st.toast("Stopping after the current batch; the best weights are kept.", icon=":material/stop_circle:")


@st.fragment(run_every=1)
def live_run(run_id: str) -> None:
    """Progress and curves of the training run, re-read from its folder every second."""
    handle = runs.load_run(run_id)
    status = handle.status()
    if not status.is_active:
        st.rerun()  # the whole page then shows the result and the updated history
    progress = handle.progress()
    title_col, stop_col = st.columns([4, 1], vertical_alignment="center")
    title_col.markdown(f"#### :material/model_training: {handle.name}\n{status.message}")
    stopping = st.session_state.get(KEY + "stopping") == run_id
    stop_col.button(
        "Stopping…" if stopping else "Stop",
        icon=":material/stop:",
        key=KEY + "stop",
        disabled=stopping,
        width="stretch",
        on_click=request_stop,
        args=(run_id,),
    )
    if progress is None:
        st.progress(0.0, text="Starting the training process and loading the data…")
    else:
        st.progress(progress.fraction, text=progress_text(progress))
    metrics = handle.metrics()
    st.plotly_chart(
        charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=status.epochs), key=KEY + "live_curves"
    )
    st.caption(
        f"{len(metrics.batches)} batch points · {len(metrics.epochs)} epochs done · "
        f"running for {format_duration(progress.elapsed_s if progress else 0)}"
    )
    watch_it_learn(handle, "live", live=True)


st.subheader("Current run")
all_runs = runs.list_runs()
if active is not None:
    live_run(active.id)
elif all_runs:
    wanted = st.session_state.get(KEY + "run_id")
    current = next((h for h in all_runs if h.id == wanted), all_runs[0])
    show_finished(current, "current")
else:
    st.info(
        "No runs yet. Choose a preset (**quick** trains in seconds) and press **Start training**.",
        icon=":material/info:",
    )


# ---------------------------------------------------------------- history
def manage(handle: runs.RunHandle) -> None:
    """Rename, delete (after a confirmation) or reuse the settings of one run."""
    name_col, rename_col, reuse_col, delete_col = st.columns([3, 1, 1.2, 1], vertical_alignment="bottom")
    new_name = name_col.text_input("Name", value=handle.name, key=f"{KEY}rename_{handle.id}", max_chars=60)
    if (
        rename_col.button("Rename", key=KEY + "rename_go", icon=":material/edit:", width="stretch")
        and new_name != handle.name
    ):
        try:
            handle.rename(new_name)
        except runs.RunError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.rerun()
    if reuse_col.button("Use its settings", key=KEY + "reuse", icon=":material/content_copy:", width="stretch"):
        fill_form(handle.config)
        st.rerun()
    if delete_col.button("Delete", key=KEY + "delete", icon=":material/delete:", width="stretch"):
        st.session_state[KEY + "confirm_delete"] = handle.id
    if st.session_state.get(KEY + "confirm_delete") == handle.id:
        st.warning(
            f"Delete **{handle.name}** with its model and evaluation? This cannot be undone.",
            icon=":material/delete_forever:",
        )
        yes_col, no_col, _ = st.columns([1, 1, 4])
        if yes_col.button("Yes, delete it", type="primary", key=KEY + "delete_yes"):
            st.session_state.pop(KEY + "confirm_delete")
            try:
                handle.delete()
            except runs.RunError as error:
                st.error(str(error), icon=":material/error:")
            else:
                st.rerun()
        if no_col.button("Cancel", key=KEY + "delete_no"):
            st.session_state.pop(KEY + "confirm_delete")
            st.rerun()


st.subheader("Run history")
with st.popover("Import a run (.zip)", icon=":material/upload_file:"):
    import_uploader()
past = [h for h in all_runs if h.status().is_finished]  # the active run is shown live above
if not past:
    st.caption("Runs you start appear here when they end: select several to overlay their curves.")
    st.stop()
rows = run_rows(past)
table = st.dataframe(
    rows,
    key=KEY + "history",
    on_select="rerun",
    selection_mode="multi-row",
    hide_index=True,
    column_order=("name", "status", "accuracy", "config", "epochs", "duration", "started"),
    column_config={
        "name": st.column_config.TextColumn("Run", width=170),
        "status": st.column_config.TextColumn("Status", width=90),
        "accuracy": st.column_config.ProgressColumn(
            "Accuracy",
            min_value=0.0,
            max_value=1.0,
            format="percent",
            width=120,
            help="Test accuracy (or best validation accuracy)",
        ),
        "config": st.column_config.TextColumn("Settings", width=330),
        "epochs": st.column_config.TextColumn("Epochs", width=65),
        "duration": st.column_config.TextColumn("Time", width=95),
        "started": st.column_config.TextColumn("Started", width=110),
    },
)

chosen = [past[i] for i in table.selection.rows if i < len(past)]
if not chosen:
    st.caption("Select runs (tick the boxes on the left) to overlay their curves, rename or delete them.")
    st.stop()
if len(chosen) > 1:
    st.plotly_chart(charts.runs_overlay(overlay_series(chosen)), key=KEY + "overlay")
    st.stop()
st.caption(describe_config(chosen[0].config))
show_finished(chosen[0], "picked")
manage(chosen[0])
