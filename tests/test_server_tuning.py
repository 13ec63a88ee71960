"""ui/server_tuning.py: after a script run Streamlit no longer clears Keras' session (TensorFlow's kernel cache
and a full collection, every stroke), and still closes matplotlib's figures."""

from __future__ import annotations

import sys
import types

from streamlit.runtime.scriptrunner import script_runner

from ui import server_tuning


def test_streamlits_cleanup_keeps_keras_state_and_still_closes_figures(monkeypatch):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    cleared, closed = [], []
    keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    pyplot = types.SimpleNamespace(close=closed.append)
    monkeypatch.setitem(sys.modules, "keras", keras)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    script_runner._clean_problem_modules()
    assert cleared == [1] and closed == ["all"]  # Streamlit's own: what every stroke paid for

    server_tuning.keep_keras_state.clear()
    assert server_tuning.keep_keras_state() is True
    script_runner._clean_problem_modules()  # module-level: Streamlit looks it up at each run's end
    assert cleared == [1] and closed == ["all", "all"]
    server_tuning.keep_keras_state.clear()
