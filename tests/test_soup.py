"""scripts/soup.py: the weights of same-shaped models averaged, anything else refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "soup.py"


def soup_module():
    spec = importlib.util.spec_from_file_location("soup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny(path: Path, value: float, width: int = 3) -> Path:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width), keras.layers.BatchNormalization()])
    model.set_weights([np.full(w.shape, value, np.float32) for w in model.get_weights()])
    model.save(path)
    return path


def test_the_soup_is_the_mean_of_every_weight_batch_norm_statistics_included(tmp_path: Path) -> None:
    out = tmp_path / "soup" / "soup.keras"
    soup_module().main([str(tiny(tmp_path / "a.keras", 1.0)), str(tiny(tmp_path / "b.keras", 4.0)), "--out", str(out)])
    weights = keras.saving.load_model(out, compile=False).get_weights()
    assert len(weights) == 6  # kernel, bias, gamma, beta, moving mean, moving variance
    assert all(np.allclose(w, 2.5) for w in weights)


def test_models_of_other_shapes_are_refused_with_what_differs(tmp_path: Path) -> None:
    a, b = tiny(tmp_path / "a.keras", 1.0), tiny(tmp_path / "b.keras", 1.0, width=5)
    with pytest.raises(SystemExit, match="differ in shape .* only the same architecture can be averaged"):
        soup_module().main([str(a), str(b), "--out", str(tmp_path / "out.keras")])
    assert not (tmp_path / "out.keras").exists()


def test_one_model_is_not_a_soup(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        soup_module().main([str(tiny(tmp_path / "a.keras", 1.0)), "--out", str(tmp_path / "out.keras")])
    assert "at least two models" in capsys.readouterr().err
