"""scripts/train_starter_pen.py end to end on a handful of digits: fine-tuning, WiSE-FT's alpha, the files it writes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_pendigits import unipen

from digit_drawings import pendigits, training_set

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("keras")


def _script():
    spec = importlib.util.spec_from_file_location("train_starter_pen", ROOT / "scripts" / "train_starter_pen.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_starter_pen"] = module
    spec.loader.exec_module(module)
    return module


def test_the_validation_digits_start_with_the_starters_own_held_out_600():
    script = _script()
    validation, rest = script.starter_holdout(60_000)
    starter_held_out = np.random.default_rng(0).permutation(60_000)[:600]  # split_validation(..., 0.01, seed 0)
    assert set(starter_held_out) <= set(validation) and not set(validation) & set(rest)
    assert len(validation) == script.VALIDATION_MNIST and len(rest) == 60_000 - script.VALIDATION_MNIST


@pytest.mark.slow  # a drawing process starts (spawn) and the starter trains for a few steps: ~40 s
def test_a_tiny_run_writes_both_models_and_picks_alpha_on_validation_only(monkeypatch, tmp_path, capsys):
    script = _script()
    monkeypatch.setattr(script, "VALIDATION_MNIST", 40)
    monkeypatch.setattr(script, "BN_IMAGES", 60)
    monkeypatch.setattr(script, "ALPHAS", (0.0, 0.5, 1.0))
    monkeypatch.setattr(script, "PEN_SIZES", training_set.SetSizes(40, 18, 0, 20))
    rng = np.random.default_rng(0)
    x = (rng.random((200, 28, 28)) * 255).astype(np.uint8)
    data = SimpleNamespace(x_train=x, y_train=np.arange(200) % 10, x_test=x[:30], y_test=np.arange(30) % 10)
    args = SimpleNamespace(out=tmp_path, steps=3, seed=0, cache=tmp_path / "cache", workers=1)
    args.bn, args.keep, args.train_bn, args.distill_weight = "mix", "distill", False, 1.0
    args.pendigits = tmp_path / "pendigits"  # eight real writers, two digits each: 2 trained on, 3 choose, 3 report
    args.pendigits.mkdir()
    writers = [(d, w, [[(100 + 20 * d, 100), (200, 300 + 10 * w)]]) for w in range(1, 9) for d in (w % 10, 7)]
    (args.pendigits / pendigits.FILE_NAME).write_text(unipen(writers))
    args.renders, args.real_batch, args.hold_out = 2, (8, 4, 4), None
    args.more_renders = ((7,), 1)  # the 7s painted once more (the twelfth run: 1s and 7s five more times)
    from mnist_core.drawing.predict import STARTER_MODEL_PATH

    args.base = tmp_path / "base.keras"  # a base of its own (README: the CLI's base model), not the shipped file
    args.base.write_bytes(STARTER_MODEL_PATH.read_bytes())
    script.build_starter(data, args)
    record = json.loads((tmp_path / "wise_ft.json").read_text())
    assert record["base"] == str(args.base)
    assert [r["alpha"] for r in record["rows"]] == [0.0, 0.5, 1.0] and record["alpha"] in (0.0, 0.5, 1.0)
    # batch norm's statistics mixed with the weights: alpha 0 is the shipped starter itself, to the last digit
    assert {k: record["rows"][0][k] for k in record["shipped"]} == record["shipped"]
    assert record["validation_mnist"] == 40 and record["pen"] > 0
    assert record["real_writers"] == 3 * 2 * 3  # the choosing writers' two digits each, in each of three colour modes
    assert all("real_val_accuracy" in r for r in record["rows"])
    assert "starter.keras (saved file): MNIST test accuracy" in capsys.readouterr().out
    from mnist_core.drawing.predict import load_predictor

    for name in ("finetuned", "starter"):
        assert load_predictor(tmp_path / f"{name}.keras").probabilities(x[:2] / 255).shape == (2, 10)


@pytest.mark.parametrize(
    ("rows", "chosen"),
    [
        ([(0.0, 10, 0.98, 0.97), (0.5, 12, 0.98, 0.985), (1.0, 13, 0.99, 0.99)], 0.5),  # 1.0: 3 MNIST errors more
        ([(0.0, 10, 0.98, 0.97), (0.5, 11, 0.974, 0.99), (1.0, 11, 0.976, 0.98)], 1.0),  # 0.5: pen-style too low
        ([(0.0, 10, 0.98, 0.97), (0.5, 11, 0.98, 0.98), (1.0, 11, 0.98, 0.98)], 0.5),  # a tie: the smaller alpha
        ([(0.0, 10, 0.98, 0.97), (0.5, 13, 0.99, 0.99)], 0.0),  # nothing better allowed: the base
    ],
)
def test_alpha_is_chosen_by_the_real_writers_within_the_mnist_and_pen_style_slack(rows, chosen):
    script = _script()
    keys = ("alpha", "mnist_val_errors", "pen_val_accuracy", "real_val_accuracy")
    table = [dict(zip(keys, row, strict=True)) for row in rows]
    assert script._best_alpha(table, table[0]) == chosen
    without_real = [{k: v for k, v in r.items() if k != "real_val_accuracy"} for r in table]
    assert script._best_alpha(without_real, without_real[0]) in {r["alpha"] for r in table}


def test_distillation_loss_is_zero_for_the_teachers_own_answers_and_grows_as_they_part():
    script = _script()
    teacher = np.array([[0.7, 0.2, 0.1], [0.98, 0.01, 0.01]], np.float32)
    same = np.asarray(script._tempered_kl(teacher, teacher, 2.0))
    assert np.allclose(same, 0.0, atol=1e-6)
    near = np.asarray(script._tempered_kl(teacher, np.array([[0.6, 0.3, 0.1], [0.9, 0.05, 0.05]], np.float32), 2.0))
    far = np.asarray(script._tempered_kl(teacher, np.array([[0.1, 0.2, 0.7], [0.01, 0.98, 0.01]], np.float32), 2.0))
    assert np.all(near > 0) and np.all(far > near)


@pytest.mark.slow  # a drawing process starts (spawn) and the detector trains for a few steps: ~20 s
def test_a_tiny_detector_run_writes_the_detector_and_its_threshold(monkeypatch, tmp_path, capsys):
    script = _script()
    monkeypatch.setattr(script, "DETECTOR_STEPS", 3)
    monkeypatch.setattr(script, "DETECTOR_MNIST", 30)
    monkeypatch.setattr(script, "DETECTOR_PEN_DIGITS", (9, 6))
    rng = np.random.default_rng(0)
    x = np.zeros((200, 28, 28), np.uint8)
    x[:, 6:22, 12:16] = 255  # two hundred "1"s
    data = SimpleNamespace(x_train=x, y_train=np.ones(200, np.int64), x_test=x[:30], y_test=np.ones(30, np.int64))
    arrays = {
        "x": rng.random((12, 28, 28)).astype(np.float32),
        "y": np.array([1] * 6 + [-1] * 6),
        "x_cal": rng.random((5, 28, 28)).astype(np.float32),
        "mnist_used": np.arange(20),
    }
    script.train_detector(data, arrays, 0, tmp_path, tmp_path / "cache", workers=1)
    record = json.loads((tmp_path / "digit_detector.json").read_text())
    assert "on 11 held-out pen digits" in record["how"] and 0 <= record["mnist_test_flagged"] <= 1
    from mnist_core.drawing import detector

    loaded = detector.load_detector(tmp_path / "digit_detector.keras")
    assert loaded.is_digit(x[:3].astype(np.float32) / 255).shape == (3,)
    assert "MNIST test digits flagged" in capsys.readouterr().out
