"""TrainingConfig fields as text and back: command-line options and shared links read values alike.

Tuples are written "512,512", booleans "true"/"false" (also accepted: 1/0, yes/no, on/off).
"""

from __future__ import annotations

import dataclasses

from mnist_core.config import TrainingConfig

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainingConfig)}


def parse_field(name: str, text: str) -> object:
    """The text of TrainingConfig field `name` -> a value of that field's type.

    Raises KeyError for an unknown field and ValueError (saying what was expected) for text that
    does not parse; the range checks are TrainingConfig's own.
    """
    default, text = _DEFAULTS[name], text.strip()
    if isinstance(default, bool):
        if text.lower() not in TRUE + FALSE:
            raise ValueError("expected true or false")
        return text.lower() in TRUE
    if isinstance(default, tuple):
        return tuple(int(part) for part in text.split(",")) if text else ()
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    return text


def format_field(value: object) -> str:
    """A field's value as `parse_field` reads it back: (512, 512) -> "512,512", True -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)
