"""Experiments on the Train page: plan one from the form's settings, then compare its runs."""

from __future__ import annotations

import functools

import nbformat
import streamlit as st

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.lessons.locks import LessonLockError
from mnist_core.notebook.export import ExportError, experiment_notebook, exportable_experiment
from mnist_core.people import Person
from mnist_core.runs import experiments
from ui.chart_view import show_chart
from ui.charts import runs_overlay
from ui.experiment_chart import experiment_chart
from ui.files import export_bytes
from ui.formatting import format_duration, overlay_series
from ui.lesson_controls import current_lesson

KEY = "exp_"
SUGGESTED = {  # the seed notebooks' lessons
    "batch_size": "10; 128",
    "epochs": "2; 5",
    "hidden_units": "32; 64; 512; 784",
    "scaling": "unit; centered; raw",
    "learning_rate": "0.0003; 0.001; 0.003",
    "optimizer": "adam; sgd",
    "dropout": "0.0; 0.2; 0.5",
    "batch_norm": "false; true",
    "augmentation": "false; true",
}


def experiment_form(base: TrainingConfig | None, person: Person | None) -> None:
    """Pick knobs and values; Start queues one run per combination with the form's other settings."""
    lesson = current_lesson()
    knobs = st.multiselect(
        "Knobs to vary (one or two)",
        [knob for knob in experiments.KNOBS if lesson is None or knob not in lesson.fixed()],
        max_selections=experiments.MAX_KNOBS,
        key=KEY + "knobs",
        help="Every other setting comes from the form above.",
    )
    values = {}
    for column, knob in zip(st.columns(max(1, len(knobs))), knobs, strict=False):
        text = column.text_input(f"Values of {knob} (separated by ;)", SUGGESTED.get(knob, ""), key=f"{KEY}v_{knob}")
        values[knob] = text.split(";")
    if not knobs or base is None:
        st.caption("Pick a knob to plan an experiment." if base is not None else "Fix the settings above first.")
        return
    try:
        planned = experiments.plan(base, values)
    except experiments.ExperimentError as error:
        st.error(escape_markdown(error), icon=":material/error:")
        return
    name = st.text_input("Experiment name", " x ".join(knobs), key=KEY + "name", max_chars=40)
    st.caption(f"{len(planned)} runs, one per combination; they take one place in your queue.")
    if st.button("Start experiment", icon=":material/science:", key=KEY + "start"):
        try:
            started = experiments.start_experiment(base, values, name, owner=person, lesson=lesson)
        except (experiments.ExperimentError, runs.RunError, LessonLockError) as error:
            st.error(escape_markdown(error), icon=":material/error:")
        else:
            st.session_state[KEY + "picked"] = started.id
            st.rerun()


def experiment_results(person: Person | None) -> None:
    """The chosen experiment: accuracy per combination, curves overlaid, Stop all, Share, Export."""
    found = experiments.list_experiments(viewer=person)
    if not found:
        st.caption("No experiments yet: vary one or two knobs above to compare runs side by side.")
        return
    ids = [e.id for e in found]
    wanted = st.session_state.get(KEY + "picked")
    picked = st.selectbox(
        "Experiment",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda i: found[ids.index(i)].name,
        key=KEY + "pick",
    )
    _comparison(picked, person)


@st.fragment(run_every=3)
def _comparison(experiment_id: str, person: Person | None) -> None:
    try:
        experiment = experiments.load_experiment(experiment_id, viewer=person)
    except experiments.ExperimentError as error:
        st.info(escape_markdown(error), icon=":material/info:")
        return
    cells = experiment.cells()
    finished = sum(cell.state in ("completed", "stopped") for cell in cells)
    st.markdown(f"**{escape_markdown(experiment.name)}** · {finished} of {len(cells)} runs finished")
    if experiment.knobs:
        show_chart(experiment_chart(experiment.knobs, cells), KEY + "chart")
    st.dataframe(
        [
            {
                **cell.values,
                "status": cell.state,
                "accuracy": f"{cell.accuracy:.2%}" if cell.accuracy is not None else "—",
                "time": format_duration(cell.duration_s) if cell.duration_s else "—",
            }
            for cell in cells
        ],
        hide_index=True,
        key=KEY + "table",
    )
    ended = [cell.run for cell in cells if cell.run.metrics().epochs]
    if ended:
        show_chart(runs_overlay(overlay_series(ended)), KEY + "overlay")
    _actions(experiment, person)


def _actions(experiment: experiments.Experiment, person: Person | None) -> None:
    stop_col, share_col, export_col = st.columns(3, vertical_alignment="center")
    if experiment.can_manage and experiment.is_active:
        stop_col.button(
            "Stop the experiment", icon=":material/stop:", key=KEY + "stop", on_click=_stop, args=(experiment,)
        )
    if experiment.can_manage and person is not None:
        shared = share_col.toggle("Share with the class", value=experiment.shared, key=f"{KEY}share_{experiment.id}")
        if shared != experiment.shared:
            experiment.share(shared)
    if not experiment.is_active:
        export_col.download_button(
            "Export as zip",
            functools.partial(export_bytes, functools.partial(experiments.export_experiment_zip, experiment), ".zip"),
            file_name=f"experiment-{experiment.id}.zip",
            mime="application/zip",
            icon=":material/ios_share:",
            on_click="ignore",
            key=KEY + "export",
        )
        try:
            exportable_experiment(experiment)
            refused = None
        except ExportError as error:
            refused = str(error)
        export_col.download_button(
            "Export as notebook",
            functools.partial(experiment_notebook_bytes, experiment),  # made when it is downloaded, not on every rerun
            file_name=f"experiment-{experiment.id}.ipynb",
            mime="application/x-ipynb+json",
            icon=":material/code_blocks:",
            on_click="ignore",
            key=KEY + "export_notebook",
            disabled=refused is not None,
            help=refused
            or "The whole experiment as one Jupyter notebook: the knob grid as a loop, each combination trained "
            "as its run was, then compared (Keras alone, no Digit Lab needed).",
        )


def experiment_notebook_bytes(experiment: experiments.Experiment) -> bytes:
    return nbformat.writes(experiment_notebook(experiment)).encode()


def _stop(experiment: experiments.Experiment) -> None:
    try:
        experiment.stop()
    except runs.RunError as error:
        st.toast(escape_markdown(error), icon=":material/error:")
    else:
        st.toast("Stopping every run of the experiment.", icon=":material/stop_circle:")
