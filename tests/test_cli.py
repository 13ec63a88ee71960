"""`python -m mnist_core`: help, a real training run, the runs table, evaluate, bad options, Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_core import cli
from mnist_core.config import FIELD_HELP, TrainingConfig
from mnist_core.presets import PRESETS
from mnist_core.runs.files import RunFiles

REPO = Path(__file__).resolve().parents[1]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The embedded data set: no MNIST_DATA_DIR, an empty Keras home, no runs-dir default."""
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_DATA_DIR", "DIGIT_LAB_RUNS_DIR")}
    return {**env, "KERAS_HOME": str(tmp_path / "empty-keras-home"), "PYTHONPATH": str(REPO)}


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_core", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell may start background jobs with SIGINT ignored; a terminal's Ctrl-C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """main(argv) in this process: (exit code, stdout, stderr), argparse's own exits included."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- two real trainings through the CLI, started together ------------------------------------


@pytest.fixture(scope="module")
def trainings(tmp_path_factory: pytest.TempPathFactory):
    """A quick run to completion and a long one to interrupt with Ctrl-C, both on the embedded data."""
    tmp = tmp_path_factory.mktemp("cli")
    env = cli_env(tmp)
    quick = ["train", "--preset", "quick", "--train-limit", "500", "--epochs", "1", "--min-steps", "0",
             "--runs-dir", tmp / "quick", "--export", tmp / "exported.keras"]  # fmt: skip
    long = ["train", "--preset", "seed001", "--hidden-units", "16", "--epochs", "500", "--train-limit", "2000",
            "--batch-size", "32", "--runs-dir", tmp / "long", "--export", tmp / "long-final.keras",
            "--export-which", "final"]  # fmt: skip
    processes = {"quick": spawn([str(a) for a in quick], env), "long": spawn([str(a) for a in long], env)}
    yield tmp, processes
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes.values():
        try:
            process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def quick_run(trainings) -> tuple[Path, str, str]:
    """(runs dir, stdout, stderr) of the finished quick run."""
    tmp, processes = trainings
    out, err = processes["quick"].communicate(timeout=300)
    assert processes["quick"].returncode == 0, out + err
    return tmp / "quick", out, err


@pytest.mark.slow
def test_ctrl_c_stops_the_run_cleanly(trainings) -> None:
    tmp, processes = trainings
    process, root = processes["long"], tmp / "long"

    def has_batch_row() -> bool:
        return any(p.stat().st_size for p in root.glob("*/metrics.jsonl"))

    deadline = time.monotonic() + 180
    while not has_batch_row():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no batch row within 180 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    assert process.returncode == 0, out + err
    assert "Stopping (the run keeps its best weights)…" in out
    assert re.search(r"^stopped: Stopped on request; kept the ", out, re.MULTILINE)
    assert f"run folder: {folder}" in out
    assert "Traceback" not in err
    assert json.loads((folder / "status.json").read_text())["state"] == "stopped"
    assert (folder / "model_best.keras").is_file() and (folder / "evaluation.json").is_file()
    exported = tmp / "long-final.keras"  # --export-which final: the last weights, not the best epoch's
    assert f"final model exported (weights only, no optimizer state) to {exported}" in out
    from mnist_core.drawing.predict import load_predictor

    images = np.random.default_rng(1).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(
        load_predictor(exported).probabilities(images),
        load_predictor(folder / "model_final.keras").probabilities(images),
        atol=1e-6,
    )


@pytest.mark.slow
def test_train_completes_and_prints_the_run_folder(quick_run) -> None:
    root, out, _ = quick_run
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    assert re.search(rf"^Run {re.escape(folder.name)} queued \(preset quick\): \{{", out, re.MULTILINE)
    assert re.search(r"^completed: Completed 1 epoch; kept the .*: test accuracy \d+\.\d\d%\.$", out, re.MULTILINE)
    assert f"run folder: {folder}" in out.splitlines()
    status = json.loads((folder / "status.json").read_text())
    assert status["state"] == "completed" and status["data_source"].startswith("Embedded sample")
    config = TrainingConfig.from_dict(json.loads((folder / "config.json").read_text())["config"])
    assert config == PRESETS["quick"].config.replace(train_limit=500, epochs=1, min_steps=0)


@pytest.mark.slow
def test_train_exports_the_best_model(quick_run) -> None:
    root, out, _ = quick_run
    exported = root.parent / "exported.keras"
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    assert f"best model exported (weights only, no optimizer state) to {exported}" in out
    from mnist_core.drawing.predict import load_predictor

    shipped, checkpoint = load_predictor(exported), load_predictor(folder / "model_best.keras")
    assert exported.stat().st_size < (folder / "model_best.keras").stat().st_size  # no Adam state
    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(shipped.probabilities(images), checkpoint.probabilities(images), atol=1e-6)


@pytest.mark.slow
def test_runs_table_lists_the_run(quick_run, capsys) -> None:
    root, _, _ = quick_run
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    code, out, _ = run_cli(["runs", "--runs-dir", root], capsys)
    header, row = out.splitlines()
    assert code == 0
    assert header.split() == ["id", "state", "epochs", "test", "acc", "time", "name"]
    accuracy = json.loads((folder / "evaluation.json").read_text())["accuracy"]
    assert row.split()[:4] == [folder.name, "completed", "1/1", f"{accuracy:.2%}"]


@pytest.mark.slow
@pytest.mark.parametrize("by", ["id", "folder"])
def test_evaluate_prints_accuracy_and_the_matrix(quick_run, capsys, by: str) -> None:
    root, _, _ = quick_run
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    target = folder.name if by == "id" else folder
    code, out, _ = run_cli(["evaluate", target, "--runs-dir", root], capsys)
    accuracy = json.loads((folder / "evaluation.json").read_text())["accuracy"]
    lines = out.splitlines()
    assert code == 0
    assert re.fullmatch(rf"test accuracy {re.escape(f'{accuracy:.2%}')}, loss \d+\.\d{{4}} on 1,000 digits "
                        r"\(Embedded sample: .*\)", lines[0])  # fmt: skip
    assert lines[1] == "confusion matrix (rows: true digit, columns: predicted)"
    assert lines[2].split() == [str(d) for d in range(10)]
    rows = [[int(v) for v in line.split()] for line in lines[3:]]
    assert len(rows) == 10 and [row[0] for row in rows] == list(range(10))
    assert all(len(row) == 11 for row in rows) and sum(sum(row[1:]) for row in rows) == 1000


@pytest.mark.slow
def test_evaluate_an_exported_model_file(quick_run, capsys, monkeypatch, tmp_path) -> None:
    pytest.importorskip("mnist_core.drawing.predict")
    root, _, _ = quick_run
    (folder,) = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .warm, an offer
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    code, out, err = run_cli(["evaluate", root.parent / "exported.keras"], capsys)
    accuracy = json.loads((folder / "evaluation.json").read_text())["accuracy"]
    assert code == 0, err
    assert out.startswith(f"test accuracy {accuracy:.2%}, ") and len(out.splitlines()) == 13
    stored = root.parent / "exported.evaluation.npz"
    assert not stored.exists()
    code, saved_out, err = run_cli(["evaluate", root.parent / "exported.keras", "--save"], capsys)
    assert code == 0 and saved_out == out and stored.is_file(), err


# --- help and fast commands (no training) ----------------------------------------------------


def test_module_help_lists_the_commands(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mnist_core", "--help"], cwd=REPO, env=cli_env(tmp_path),
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m mnist_core")
    for command in ("train", "runs", "evaluate", "presets"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


def test_train_help_documents_every_option(capsys) -> None:
    code, out, _ = run_cli(["train", "--help"], capsys)
    text = one_line(out)
    assert code == 0
    for field in dataclasses.fields(TrainingConfig):
        flag = "--" + field.name.replace("_", "-")
        assert f"{flag} VALUE {one_line(FIELD_HELP[field.name])}" in text, flag
    for option in ("--preset", "--name", "--runs-dir", "--data-dir", "--export"):
        assert option in text
    assert all(name in text for name in PRESETS)


def test_presets_command_lists_every_preset(capsys) -> None:
    code, out, _ = run_cli(["presets"], capsys)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(PRESETS)


def test_runs_in_an_empty_folder_says_how_to_start(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(["runs", "--runs-dir", tmp_path], capsys)
    assert (code, out) == (0, "No runs yet. Start one with: python -m mnist_core train --preset quick\n")


def test_evaluate_a_run_without_evaluation(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "20200101-000000-broken"
    folder.mkdir()
    RunFiles(folder).write_meta(TrainingConfig(), "broken", None)
    RunFiles(folder).update_status(state="failed", message="Training failed: x", created_at=time.time())
    code, out, err = run_cli(["evaluate", folder.name, "--runs-dir", tmp_path], capsys)
    assert (code, out) == (1, "")
    assert err == "Run 20200101-000000-broken has no evaluation yet (failed).\n"


def test_runs_and_evaluate_name_a_damaged_run(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "20200101-000000-damaged"
    folder.mkdir()
    RunFiles(folder).write_meta(TrainingConfig(), "damaged", None)
    (folder / "status.json").write_text('{"state": "completed", "created_at": "yesterday"}')
    code, out, _ = run_cli(["runs", "--runs-dir", tmp_path], capsys)
    assert code == 0 and "damaged: status.json: created_at: Input should be a valid number." in out
    code, out, err = run_cli(["evaluate", folder.name, "--runs-dir", tmp_path], capsys)
    assert (code, err) == (
        1,
        "Run 20200101-000000-damaged is damaged: status.json: created_at: Input should be a valid number.\n",
    )


BAD_OPTIONS = [
    (["train", "--epochs", "0"], "error: epochs is 0; it must be in [1, 500]."),
    (["train", "--epochs", "two"], "error: --epochs 'two' is not a valid value."),
    (["train", "--learning-rate", "-1"], "error: learning_rate is -1.0; it must be in [1e-07, 10]."),
    (["train", "--learning-rate", "nan"], "error: learning_rate is nan; it must be in [1e-07, 10]."),
    (["train", "--dropout", "1"], "error: dropout is 1.0; it must be in [0, 1)."),
    (["train", "--batch-size", "0"], "error: batch_size is 0; it must be in [1, 60000]."),
    (["train", "--hidden-units", "64,x"], "error: --hidden-units '64,x' is not a valid value."),
    (["train", "--optimizer", "adagrad"], "error: optimizer is 'adagrad'; choose one of: adam, adamw, sgd, rmsprop."),
    (["train", "--batch-norm", "maybe"], "error: --batch-norm 'maybe' is not a valid value."),
    (["train", "--validation-fraction", "1"], "error: validation_fraction is 1.0; it must be in [0.01, 0.9]."),
    (["train", "--architecture", "cnn", "--conv-filters", ""],
     "error: conv_filters is empty; a CNN needs at least one conv block."),
    (["train", "--preset", "fastest"], "error: argument --preset: invalid choice: 'fastest'"),
    (["train", "--colour", "red"], "error: unrecognized arguments: --colour red"),
    (["train", "--name", "../evil"], "error: Run name '../evil' is not allowed"),
    (["evaluate", "20990101-000000-nope"], "error: No run '20990101-000000-nope' in "),
    (["fly"], "error: argument command: invalid choice: 'fly'"),
    ([], "error: the following arguments are required: command"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS, ids=[" ".join(a) or "nothing" for a, _ in BAD_OPTIONS])
def test_bad_options_exit_2_with_an_error_line(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    if argv[:1] in (["train"], ["evaluate"]):
        argv = [*argv, "--runs-dir", tmp_path / "runs"]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err
    assert out == "" or "usage:" not in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run was started


def test_bad_option_in_a_real_process_exits_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--epochs", "0", "--runs-dir",
                             str(tmp_path)], cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "error: epochs is 0; it must be in [1, 500].\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "epochs", "min_steps"),
    [
        (["--epochs", "1"], 1, 0),  # an explicit --epochs means what it says: no step budget adds epochs
        (["--epochs", "1", "--min-steps", "400"], 1, 400),  # both given: the rule applies, as the user asked
        ([], PRESETS["quick"].config.epochs, PRESETS["quick"].config.min_steps),  # the preset as it is
        (["--learning-rate", "0.01"], PRESETS["quick"].config.epochs, PRESETS["quick"].config.min_steps),
    ],
)
def test_an_explicit_epochs_without_min_steps_trains_that_many_epochs(argv, epochs, min_steps) -> None:
    config = cli.config_from_args(cli.build_parser().parse_args(["train", "--preset", "quick", *argv]))
    assert (config.epochs, config.min_steps) == (epochs, min_steps)
    assert config.planned_epochs(steps_per_epoch=4) == max(epochs, -(-min_steps // 4))  # a tiny data set
