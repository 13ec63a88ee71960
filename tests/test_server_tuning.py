"""ui/server_tuning.py: after a script run Streamlit no longer clears Keras' session (TensorFlow's kernel cache
and a full collection, every stroke), and still closes matplotlib's figures."""

from __future__ import annotations

import sys
import types

from streamlit.runtime.scriptrunner import script_runner

from ui import server_tuning


def test_streamlits_cleanup_keeps_keras_state_and_still_closes_figures(monkeypatch):
    # app.py may have patched it already in this process (AppTest runs it here): restored after the test either way
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    server_tuning.keep_keras_state.clear()
    assert server_tuning.keep_keras_state() is True
    assert script_runner._clean_problem_modules is server_tuning._close_matplotlib_figures_only

    cleared, closed = [], []
    keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    monkeypatch.setitem(sys.modules, "keras", keras)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", types.SimpleNamespace(close=closed.append))
    script_runner._clean_problem_modules()  # module-level: Streamlit looks it up at each run's end
    assert cleared == [] and closed == ["all"]
    server_tuning.keep_keras_state.clear()
