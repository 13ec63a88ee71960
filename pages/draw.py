"""Draw: draw a digit and see, on every stroke, what the model predicts and what it actually sees."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core.drawing.canvas_image import CanvasImageError, decode_canvas_png
from mnist_core.drawing.predict import ModelLoadError
from mnist_core.drawing.preprocess import canvas_steps
from ui import charts
from ui.app_shell import ensure_app_shell
from ui.board_layout import board_layout, board_slots, page_width
from ui.damaged_runs import damaged_runs, usable_runs
from ui.live_answer import live_answer, spoken_answer
from ui.model_picker import STARTER, UPLOAD, PickedModel, load_model, model_picker
from ui.see_why import see_why
from ui.stages import STAGES_CSS, stages_html
from ui.teach import teach
from ui.uploads import in_user_terms
from ui.warm_start import starter_for_now

ensure_app_shell()  # opened by URL on a fresh server: see ui/app_shell.py

KEY = "draw_"
CANVAS_PX = 280  # the brush width is set for a square this size, and scaled with the canvas
LOW_CONFIDENCE = 0.6

st.html(f"<style>{charts.PROBABILITY_BARS_CSS}{STAGES_CSS}</style>")

st.title("Draw")
damaged_runs()  # each named in the sidebar with what is wrong and a Delete; pages use usable_runs()
st.caption(
    "Draw a digit from 0 to 9 in the black square. The answer updates every time you lift the pen; "
    "use the canvas toolbar to undo or clear."
)


# ---------------------------------------------------------------- which model
def pick_model() -> PickedModel:
    """The model picker, with the uploader under it; loading waits until the canvas is on screen."""
    trained = [h for h in usable_runs() if h.status().is_finished and h.model_path("best")]
    picked = model_picker(KEY + "model", trained, upload_key=KEY + "upload")
    if picked.choice == UPLOAD and picked.path is None:
        st.info("Upload a model to use it; until then the starter model answers.", icon=":material/upload:")
    return picked


def load_predictor(picked: PickedModel):
    """The picked model, loaded (the starter if it cannot be); None, with the error shown, if none can be."""
    quick = starter_for_now() if picked.choice == STARTER or picked.path is None else None
    if quick is not None:
        st.caption(
            f":material/hourglass_top: {quick.description}. TensorFlow is still loading: until it is in, "
            "a NumPy copy of the starter model answers (the same probabilities)."
        )
        return quick
    try:
        predictor = load_model(picked.path)
    except ModelLoadError as error:
        st.error(f"**This model cannot be used:** {in_user_terms(str(error), KEY + 'upload')}", icon=":material/error:")
        if picked.path is None or picked.choice == STARTER:
            return None
        st.caption("Drawing with the starter model instead.")
        try:
            predictor = load_model(None)
        except ModelLoadError:
            return None
    st.caption(f":material/memory: {predictor.description}")
    return predictor


with st.container():  # what comes and goes above the canvas stays in one slot, so the canvas keeps its drawing
    picked = pick_model()


# ---------------------------------------------------------------- canvas, answer, what the model sees
def show_verdict(prediction) -> None:
    """The answer as plain HTML: it is redrawn on every stroke, and divs cost the browser far less
    than a Plotly chart (measured), markdown and columns: what lets the page keep up under load."""
    runners_up = ", ".join(f"{d} ({p:.0%})" for d, p in prediction.top3[1:])
    if not prediction.is_digit:  # a letter, a shape, a scribble: no confident digit for it
        st.html(
            '<div class="dl-verdict"><div class="dl-not-digit" aria-label="not a digit">'
            "That does not look like a digit</div></div>"
            f'<div class="dl-guess">The model\'s best guess: {prediction.digit} ({prediction.confidence:.0%}); '
            f"next: {runners_up}. Draw one digit from 0 to 9, or keep it with its right label just below.</div>"
        )
    else:
        st.html(
            f'<div class="dl-verdict"><div class="dl-answer" aria-label="predicted digit">{prediction.digit}</div>'
            f'<div><div class="dl-sure">{prediction.confidence:.1%} sure</div>'
            f'<div class="dl-next">Next most likely: {runners_up}</div></div></div>'
        )


def show_probabilities(prediction) -> None:
    """Advice when the model is unsure, then all ten probabilities as bars and numbers."""
    if prediction.is_digit and prediction.confidence < LOW_CONFIDENCE:
        st.warning(
            "The model is unsure. Draw the digit **bigger**, **centred** in the square, with a "
            "**thicker** brush, in one clear shape.",
            icon=":material/help:",
        )
    values = " · ".join(f"<span>{d}: <b>{p:.1%}</b></span>" for d, p in enumerate(prediction.probabilities))
    st.html(charts.probability_bars_html(prediction.probabilities) + f'<div class="dl-probs">{values}</div>')


def show_stages(steps) -> None:
    st.subheader("What the model sees")
    stages = [
        (steps.ink, "1 · Your drawing (ink found)"),
        (steps.crop, "2 · Cropped to the digit" + (" (stray dots left out)" if steps.specks_left_out else "")),
        (steps.box, f"3 · Fitted to 20×20, stroke {steps.stroke_width:.1f} → {steps.target_width:.1f} px"),
        (steps.centred, "4 · Centred 28×28: the model's input"),
    ]
    st.html(stages_html(stages))


def canvas(side: int):
    """The brush settings and the square canvas, `side` CSS pixels; returns the drawing (RGBA) or None."""
    with st.popover("Brush and colours", icon=":material/brush:"):
        brush = st.slider("Brush width", 4, 40, 18, key=KEY + "brush", persist_state="session")
        ink = st.color_picker("Ink", "#FFFFFF", key=KEY + "ink", persist_state="session")
        paper = st.color_picker("Paper", "#000000", key=KEY + "paper", persist_state="session")
    drawn = st_canvas(
        stroke_width=max(1, round(brush * side / CANVAS_PX)),  # the same stroke, relative to the square
        stroke_color=ink,
        background_color=paper,
        width=side,
        height=side,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=KEY + "canvas",
    )
    try:
        png = drawn.image_bytes  # the PNG as sent; decoded below only once its size is known to be a canvas's
        return None if png is None else decode_canvas_png(png)
    except ValueError as error:  # CanvasImageError, or a data URL that is not base64
        st.error(str(error) if isinstance(error, CanvasImageError) else "The drawing could not be read; draw again.")
        return None


def show_answer(image, picked: PickedModel):
    """The answer, the correction and the ten probabilities; returns (steps, prediction), (None, None) if none."""
    predictor = load_predictor(picked)
    if predictor is None:
        return None, None
    steps = canvas_steps(image) if image is not None else None
    if steps is None:
        st.info(
            "Draw a digit on the canvas: the prediction, all ten probabilities and what the model sees "
            "appear here as soon as you lift the pen.",
            icon=":material/draw:",
        )
        return None, None
    prediction = predictor.predict(steps.centred)
    show_verdict(prediction)
    teach(steps.centred, prediction.digit, prediction.is_digit)  # right under the answer: one click to correct
    show_probabilities(prediction)
    return steps, (predictor, prediction)


@st.fragment
def drawing_board(picked: PickedModel) -> None:
    """The canvas and everything computed from it: a stroke reruns only this part of the page.
    The canvas comes first, so it is on screen while the model is still loading."""
    layout = board_layout(page_width(KEY + "width"))
    canvas_slot, answer_slot = board_slots(layout)
    with canvas_slot:
        image = canvas(layout.canvas_px)
    with answer_slot:
        spoken = st.empty()  # first in its slot on every run: the screen reader's region is never remounted
        steps, answered = show_answer(image, picked)
        live_answer(spoken, spoken_answer(answered[1] if answered else None), key=KEY + "spoken")
    if answered is None:
        return
    predictor, prediction = answered
    show_stages(steps)
    see_why(predictor, steps.centred, prediction.digit)


drawing_board(picked)
