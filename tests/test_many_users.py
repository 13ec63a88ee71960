"""Many users on one server: what keeps a stroke cheap for the server once TensorFlow is loaded.

Streamlit runs two full garbage collections after every script run (its `runner.postScriptGC`,
and `keras.backend.clear_session()` as soon as Keras is imported). With TensorFlow's ~400,000
import-time objects tracked, each took ~0.25 s holding the GIL, so every stroke of every user
stalled the whole server (bench/load.py: 0.6 CPU-s of server time per stroke). Loading a model
freezes those objects out of the collector's sight; the full numbers are in bench/load.py's output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AFTER_A_SCRIPT_RUN = """
import gc, json, time
import numpy as np
from mnist_core.drawing.predict import load_predictor
predictor = load_predictor()
predictor.predict(np.zeros((28, 28), np.float32))
import keras
times = []
for _ in range(3):
    start = time.perf_counter()
    gc.collect(2)  # runner.postScriptGC
    keras.backend.clear_session()  # streamlit's _clean_problem_modules
    times.append(time.perf_counter() - start)
predictor.predict(np.zeros((28, 28), np.float32))  # still works after clear_session
print(json.dumps({"frozen": gc.get_freeze_count(), "seconds": min(times)}))
"""


@pytest.mark.slow
def test_the_servers_cleanup_after_each_stroke_stays_cheap_with_a_model_loaded() -> None:
    out = subprocess.run(
        [sys.executable, "-c", AFTER_A_SCRIPT_RUN], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["frozen"] > 100_000  # TensorFlow's and Keras' objects
    assert result["seconds"] < 0.1, f"two full collections took {result['seconds']:.3f} s (unfrozen: ~0.5 s)"
