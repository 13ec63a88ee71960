"""Train: pick a preset or set every knob, start a run, watch it learn live, compare past runs.

Training happens in the engine's worker process, so it keeps going when you switch pages or
reload; this page only reads the run folder (every second while a run is active).
"""

import functools

import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.lessons.locks import LessonLockError
from ui import charts
from ui.app_shell import ensure_app_shell
from ui.chart_view import show_chart
from ui.class_overview import class_activity, class_overview
from ui.damaged_runs import damaged_runs, usable_runs
from ui.experiment_panel import experiment_form, experiment_results
from ui.files import read_bytes
from ui.formatting import describe_config, format_duration, overlay_series, run_rows
from ui.interrupted_notice import interrupted_notice
from ui.lesson_controls import current_lesson, with_lesson
from ui.lesson_maker import lesson_maker
from ui.live_run import live_run
from ui.model_picker import model_summary
from ui.queue_panel import queue_panel, queue_trouble
from ui.responsive import columns
from ui.run_outcome import run_outcome
from ui.share import export_button, import_uploader, restore_from_url, show_url_warnings, sync_url
from ui.sign_in import current_person
from ui.train_form import (
    KEY,
    fill_form,
    keep_lesson_locks,
    lesson_from_url,
    settings_form,
    show_plan,
    start_with_a_preset,
)
from ui.watch_it_learn import watch_it_learn
from ui.worker_pool import worker_pool_panel

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py


@st.cache_data(show_spinner=False, max_entries=32)
def test_scores(run_id: str, version: float) -> tuple[float, float] | None:
    """(test accuracy, test loss) of a run, or None before it is evaluated."""
    evaluation = runs.load_run(run_id).evaluation()  # run ids come from the person's own list
    return None if evaluation is None else (evaluation.accuracy, evaluation.loss)


st.title("Train")
damaged_runs()  # each named in the sidebar with what is wrong and a Delete; pages use usable_runs()
st.caption(
    "Pick a preset, adjust any knob, press **Start**. Training runs in its own process: switch pages "
    "or reload and it keeps going; come back to watch. Runs take turns in a fair queue."
)
person = current_person()  # None: sign-in is off, one person's Digit Lab

# ---------------------------------------------------------------- settings
start_with_a_preset()
if lesson_problem := lesson_from_url():  # the lesson stays open across a refresh: its name is in the URL
    st.warning(escape_markdown(lesson_problem), icon=":material/school:")
restore_from_url(fill_form)  # a shared link: its settings fill every control
show_url_warnings()
if refused := keep_lesson_locks():  # a link or the URL cannot change what the lesson fixes
    names = ", ".join(name.replace("_", " ") for name in refused)
    st.warning(f"The lesson fixes {names}: the value from the link was not applied.", icon=":material/lock:")
config, problem = settings_form()
config = with_lesson(config) if config is not None else None
sync_url(config, current_lesson())  # the URL always carries the settings (and the lesson): copy it to share them

mine = runs.active_runs(viewer=person)
waiting = [h for h in mine if h.status().is_waiting]
training = [h for h in mine if h not in waiting]
name_col, start_col = st.columns([3, 1], vertical_alignment="bottom")
run_name = name_col.text_input(
    "Run name (optional)", key=KEY + "name", placeholder="e.g. wide MLP, lr 3e-3", max_chars=60
)
if start_col.button(
    "Start training",
    type="primary",
    icon=":material/play_arrow:",
    width="stretch",
    disabled=config is None,
    key=KEY + "start",
):
    try:
        handle = runs.start_run(config, name=run_name.strip() or None, owner=person, lesson=current_lesson())
    except runs.RunError as error:  # the queue is full or down, a bad name
        st.error(queue_trouble(error, person, waiting=False), icon=":material/error:")
    except LessonLockError as error:  # a lesson's lock
        st.error(escape_markdown(error), icon=":material/error:")
    else:
        st.session_state[KEY + "run_id"] = handle.id
        st.rerun()
if problem:
    st.error(problem, icon=":material/error:")
elif training:
    busy = f"**{escape_markdown(training[0].name)}** is training; Start queues another run, which starts after it."
    st.caption(f":material/hourglass_top: {busy}")
else:
    st.caption(f":material/checklist: Start trains: {describe_config(config)}")
    show_plan(config)  # how many steps that is on this app's data


# ---------------------------------------------------------------- the current run
def show_finished(handle: runs.RunHandle, where: str) -> None:
    """Outcome, curves, model summary and download of a run that has ended."""
    status = run_outcome(handle, duration=False)  # the time is one of the numbers below
    scores = test_scores(handle.id, handle.evaluation_version())
    accuracy_col, loss_col, epochs_col, time_col = columns(4, key=f"{KEY}{where}_scores", min_rem=9)
    accuracy_col.metric("Test accuracy", f"{scores[0]:.2%}" if scores else "—", border=True)
    loss_col.metric("Test loss", f"{scores[1]:.4f}" if scores else "—", border=True)
    epochs_col.metric("Epochs trained", f"{status.epoch} of {status.epochs}", border=True)
    time_col.metric("Training time", format_duration(status.duration_s), border=True)
    metrics = handle.metrics()
    if metrics.epochs or metrics.batches:
        curves = charts.learning_curves(metrics.batches, metrics.epochs, epochs_planned=status.epoch)
        show_chart(curves, f"{KEY}{where}_curves")
    watch_it_learn(handle, where)
    export_button(handle, where)
    model_path = handle.model_path("best")
    if model_path is None:
        return
    summary_col, download_col = st.columns([3, 1], vertical_alignment="center")
    model_summary(str(model_path), f"{KEY}{where}_summary", where=summary_col)
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


st.subheader("Current run")
all_runs = usable_runs()  # damaged ones are named in the sidebar, with their Delete
interrupted_notice([h for h in all_runs if h.is_own], KEY)
if waiting:
    queue_panel(tuple(h.id for h in waiting), person, KEY)
if training:
    live_run(training[0].id, KEY, watch=True)
    for other in training[1:]:
        st.caption(f":material/model_training: Also training: **{escape_markdown(other.name)}**")
elif waiting:
    pass  # the queue panel says when it starts
elif own_runs := [h for h in all_runs if h.is_own]:  # not others' shared ones
    wanted = st.session_state.get(KEY + "run_id")
    current = next((h for h in own_runs if h.id == wanted), own_runs[0])
    show_finished(current, "current")
elif person is not None and person.is_teacher:
    st.info(class_activity(person), icon=":material/groups:")
else:
    st.info(
        "No runs yet. Choose a preset (**quick** trains in seconds) and press **Start training**.",
        icon=":material/info:",
    )


if person is None or person.is_teacher:
    worker_pool_panel()  # the Celery workers and what each trains; nothing without $DIGIT_LAB_BROKER
if person is not None and person.is_teacher:
    st.subheader("Everyone's training")
    class_overview(person, KEY)

# ---------------------------------------------------------------- experiments
st.subheader("Experiments")
with st.expander("Plan an experiment: vary one or two knobs, one run per combination", icon=":material/science:"):
    experiment_form(config, person)
experiment_results(person)

if person is None or person.is_teacher:
    st.subheader("Teach with it")
    lesson_maker(config, person)


# ---------------------------------------------------------------- history
def manage(handle: runs.RunHandle) -> None:
    """Rename, share, delete (after a confirmation) or reuse the settings of one run; only reuse for others' runs."""
    if not handle.can_manage:  # someone else's shared run: said above its outcome
        # A callback: the form's widgets are drawn above, so this script run can no longer set them.
        st.button(
            "Use its settings",
            key=KEY + "reuse",
            icon=":material/content_copy:",
            on_click=fill_form,
            args=(handle.config,),
        )
        return
    if person is not None:
        share_toggle(handle)
    name_col, rename_col, reuse_col, delete_col = st.columns([3, 1, 1.2, 1], vertical_alignment="bottom")
    new_name = name_col.text_input("Name", value=handle.name, key=f"{KEY}rename_{handle.id}", max_chars=60)
    if (
        rename_col.button("Rename", key=KEY + "rename_go", icon=":material/edit:", width="stretch")
        and new_name != handle.name
    ):
        try:
            handle.rename(new_name)
        except runs.RunError as error:
            st.error(escape_markdown(error), icon=":material/error:")
        else:
            st.rerun()
    reuse_col.button(
        "Use its settings",
        key=KEY + "reuse",
        icon=":material/content_copy:",
        width="stretch",
        on_click=fill_form,  # a callback, as above
        args=(handle.config,),
    )
    if delete_col.button("Delete", key=KEY + "delete", icon=":material/delete:", width="stretch"):
        st.session_state[KEY + "confirm_delete"] = handle.id
    if st.session_state.get(KEY + "confirm_delete") == handle.id:
        st.warning(
            f"Delete **{escape_markdown(handle.name)}** with its model and evaluation? This cannot be undone.",
            icon=":material/delete_forever:",
        )
        yes_col, no_col, _ = st.columns([1, 1, 4])
        if yes_col.button("Yes, delete it", type="primary", key=KEY + "delete_yes"):
            st.session_state.pop(KEY + "confirm_delete")
            try:
                handle.delete()
            except runs.RunError as error:
                st.error(escape_markdown(error), icon=":material/error:")
            else:
                st.rerun()
        if no_col.button("Cancel", key=KEY + "delete_no"):
            st.session_state.pop(KEY + "confirm_delete")
            st.rerun()


def share_toggle(handle: runs.RunHandle) -> None:
    shared = st.toggle(
        "Share with the class",
        value=handle.shared,
        key=f"{KEY}share_{handle.id}",
        help="Everyone can then see this run, draw with its model, open it in Diagnostics and compare its curves; "
        "only you (and teachers) can change it.",
    )
    if shared != handle.shared:
        handle.share(shared)
        st.toast("Shared with the class." if shared else "No longer shared.", icon=":material/group:")


st.subheader("Run history")
with st.popover("Import a run (.zip)", icon=":material/upload_file:"):
    imported = import_uploader()
    if imported is not None:
        st.session_state[KEY + "run_id"] = imported.id
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
    column_order=("name", "by", "status", "accuracy", "config", "epochs", "duration", "started")
    if person is not None
    else ("name", "status", "accuracy", "config", "epochs", "duration", "started"),
    column_config={
        "name": st.column_config.TextColumn("Run", width=170),
        "by": st.column_config.TextColumn("By", width=110),
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
    show_chart(charts.runs_overlay(overlay_series(chosen)), KEY + "overlay")
    st.stop()
st.caption(describe_config(chosen[0].config))
if not chosen[0].can_manage:
    st.caption(f":material/visibility: Shared by {escape_markdown(chosen[0].owner.label)}: you can look, not change.")
show_finished(chosen[0], "picked")
manage(chosen[0])
