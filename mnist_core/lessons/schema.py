"""What a lesson file may say, checked with pydantic: every field bounded, every control a real Train knob,
every locked value within the engine's limits, step text Markdown without links, images or HTML."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mnist_core.config import ConfigError, TrainingConfig
from mnist_core.presets import PRESETS

CONTROLS = tuple(field.name for field in dataclasses.fields(TrainingConfig))
ControlState = Literal["shown", "locked", "hidden"]
ACTIONS = ("read", "start_run", "run_experiment", "draw_digits", "open_confusion_cell", "fine_tune")
PAGES = ("train", "draw", "my_digits", "diagnostics")
MAX_TEXT = 4_000  # characters of one step's text: a screenful
# Markdown that would reach outside the lesson or inject markup: links, images, autolinks, raw HTML.
_UNSAFE = (
    (re.compile(r"!\["), "an image"),
    (re.compile(r"\]\s*[\(\[]"), "a link"),
    (re.compile(r"<\s*[a-zA-Z!/?]"), "HTML"),
    (re.compile(r"(?i)\b(?:https?|ftp|javascript|data):"), "a web address"),
)
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Line = Annotated[str, Field(min_length=1, max_length=120)]


def safe_markdown(text: str) -> str:
    """`text` unchanged if it is plain Markdown (emphasis, lists, code); ValueError naming what it holds."""
    for pattern, what in _UNSAFE:
        if pattern.search(text):
            raise ValueError(f"holds {what}; lesson text is plain Markdown (no links, images or HTML)")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Gate(_Strict):
    """What unlocks the next step, checked by the engine from the person's own runs and drawings."""

    kind: Literal["run_accuracy", "experiment_finished", "kept_digits"]
    min_accuracy: Annotated[float, Field(gt=0, le=1)] | None = None  # run_accuracy: test accuracy 0..1
    knob: Literal[CONTROLS] | None = None  # experiment_finished: the knob it varied
    count: Annotated[int, Field(ge=1, le=1000)] | None = None  # kept_digits: drawings kept in My digits

    @model_validator(mode="after")
    def _its_own_field(self) -> Gate:
        needs = {"run_accuracy": "min_accuracy", "experiment_finished": "knob", "kept_digits": "count"}[self.kind]
        if getattr(self, needs) is None:
            raise ValueError(f"a {self.kind} gate needs {needs}")
        return self


class Step(_Strict):
    title: Line
    text: Text
    do: Literal[ACTIONS] = "read"
    look_at: Literal[PAGES] | None = None
    question: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    gate: Gate | None = None

    _text_is_safe = field_validator("text", "question", "title")(lambda value: value and safe_markdown(value))


class Lesson(_Strict):
    """One lesson file (version 1)."""

    version: Literal[1]
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    title: Line
    audience: Line
    # The data its gates and numbers are set for (the embedded 5,000 digits or full MNIST); a run trains on
    # whatever the server has, and the stepper says when that is not this.
    data: Literal["sample", "mnist"] = "sample"
    preset: Literal[tuple(PRESETS)]
    overrides: dict[Literal[CONTROLS], Any] = Field(default_factory=dict, max_length=len(CONTROLS))
    controls: dict[Literal[CONTROLS], ControlState] = Field(default_factory=dict, max_length=len(CONTROLS))
    steps: Annotated[list[Step], Field(min_length=1, max_length=30)]

    _line_is_safe = field_validator("title", "audience")(lambda value: safe_markdown(value))

    @model_validator(mode="after")
    def _a_config_the_engine_takes(self) -> Lesson:
        try:
            self.config()
        except (ConfigError, TypeError, ValueError) as error:
            raise ValueError(f"its starting settings are not a config Digit Lab can train: {error}") from None
        return self

    def config(self) -> TrainingConfig:
        """The lesson's starting settings: its preset with its overrides."""
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.overrides.items()}
        return PRESETS[self.preset].config.replace(**values)

    def state(self, control: str) -> str:
        """'shown', 'locked' or 'hidden' for one Train control (shown unless the lesson says otherwise)."""
        return self.controls.get(control, "shown")

    def fixed(self) -> tuple[str, ...]:
        """The controls a student cannot change: locked and hidden ones."""
        return tuple(name for name, state in self.controls.items() if state != "shown")
