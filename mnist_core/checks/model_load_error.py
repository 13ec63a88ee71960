"""The one error a model file that Digit Lab refuses raises, wherever the refusal is decided.

A module of its own so that the file checks (`model_files`) and the cost checks they call
(`model_budget`, `layer_costs`) share it without importing each other both ways.
"""


class ModelLoadError(ValueError):
    """A model file that Digit Lab cannot or will not load; the message says why and what to do."""
