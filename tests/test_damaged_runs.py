"""Damaged run folders (issue 13, item 1): whatever a run's files hold, no read raises, the damaged run is
named with what is wrong and can be deleted, and the good run beside it keeps working.

Hypothesis writes run folders with random values, types, sizes and truncations in every field of every run
file (config.json, status.json, metrics.jsonl, evaluation.json, evaluation.npz, watch.json, finetune.json),
first against the engine (many examples, milliseconds each), then against every page rendered with AppTest
(a few examples: a render takes seconds). The issue's own examples are kept as explicit cases.
"""

from __future__ import annotations

import copy
import io
import json
import math
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hostile_files import ENCRYPTED_FLAG, patched_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_pages import make_run, open_app, runs_root, starter, tiny_model  # noqa: F401 - fixtures

from app_security.text import escape_markdown
from mnist_core import runs
from mnist_core.runs.finetune import finetune_report
from mnist_core.runs.names import STATES
from mnist_core.training.watch import DigitWatcher, load_watch

FILES = ("config.json", "status.json", "metrics.jsonl", "evaluation.json", "evaluation.npz", "watch.json",
         "finetune.json")  # fmt: skip
GOOD, DAMAGED = "20260101-120000-good", "20260101-120001-damaged"  # the damaged run is the newest
FINETUNE = {"base_model": "/models/base.keras", "train": {"my_digits": 20, "repeat": 5, "mnist": 300},
            "holdout": {"n": 2, "before": 0.5, "after": 1.0}, "test": {"n": 200, "before": 0.9, "after": 0.91},
            "held_out": [{"id": "a1", "label": 3, "before": 5, "after": 3, "confidence_before": 0.6,
                          "confidence_after": 0.9}, {"id": "b2", "label": 7, "before": 7, "after": 7,
                          "confidence_before": 0.8, "confidence_after": 0.95}]}  # fmt: skip
PAGES = ("home", "train", "draw", "my_digits", "diagnostics")


def template(root: Path, model: Path | None = None) -> Path:
    """runs/ with a good run and a run that has every run file, each valid (the one a case damages)."""
    runs_dir = root / "runs"
    make_run(runs_dir, "good", name="good run")
    files = make_run(runs_dir, "damaged", name="damaged run")
    assert (files.path.name, sorted(p.name for p in runs_dir.iterdir())) == (DAMAGED, [GOOD, DAMAGED])
    rng = np.random.default_rng(0)
    watcher = DigitWatcher(files.path / "watch.json", rng.random((20, 28, 28)), np.arange(20) % 10)
    for epoch in range(3):
        watcher.record(epoch, rng.dirichlet(np.ones(10), 20), 0.01)
    (files.path / "finetune.json").write_text(json.dumps(FINETUNE))
    if model is not None:
        for run in (GOOD, DAMAGED):
            shutil.copy(model, runs_dir / run / "model_best.keras")
    return runs_dir


# ---------------------------------------------------------------- strategies: damaged bytes for each file
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(),
    st.sampled_from([1e300, -1e300, math.inf, math.nan, 2**63, 99, -1, "abc", "", [], {}]),
    st.text(max_size=20), st.text(min_size=5_000, max_size=20_000, alphabet="ab[]*_!()"),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=2), max_leaves=12),
)  # fmt: skip


def places(value, path=()):
    """Every (path to a container, key) in a JSON value: each field and item at any depth."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield path, key
        if not isinstance(inner, str):  # a base64 string is one value, not 20,000 places
            yield from places(inner, (*path, key))


@st.composite
def damaged_json(draw, valid) -> bytes:
    """A valid file's JSON with one field anywhere replaced or removed, cut short, or replaced by junk."""
    how = draw(st.sampled_from(["replace", "replace", "remove", "truncate", "junk", "not utf-8"]))
    data = json.dumps(valid).encode()
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "junk":
        return draw(st.one_of(st.binary(max_size=200), VALUES.map(lambda v: json.dumps(v).encode())))
    if how == "not utf-8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\xff\xfe" + data[at:]
    value = copy.deepcopy(valid)
    path, key = draw(st.sampled_from(sorted(places(value), key=repr)))
    container = value
    for step in path:
        container = container[step]
    if how == "remove" and isinstance(container, dict):
        del container[key]
    else:
        container[key] = draw(VALUES)
    return json.dumps(value).encode()


def damaged_metrics(valid_lines: list[bytes]) -> st.SearchStrategy[bytes]:
    """metrics.jsonl with rows of wrong types or kinds, non-UTF-8 bytes, junk lines and a torn end."""
    row = st.sampled_from(valid_lines).flatmap(lambda line: damaged_json(json.loads(line)))
    line = st.one_of(st.sampled_from(valid_lines), row, st.binary(max_size=80))
    return st.lists(line.map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=12).map(b"\n".join)


def _npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@st.composite
def damaged_npz(draw, valid: bytes) -> bytes:
    """evaluation.npz whose arrays disagree with evaluation.json, hold label 99, NaN, floats, or are cut."""
    how = draw(st.sampled_from(["array", "array", "array", "truncate", "junk", "missing"]))
    if how == "truncate":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if how == "junk":
        return draw(st.binary(max_size=300))
    with np.load(io.BytesIO(valid)) as stored:
        arrays = dict(stored)
    key = draw(st.sampled_from(sorted(arrays)))
    if how == "missing":
        del arrays[key]
        return _npz(arrays)
    n = len(arrays["labels"])
    arrays[key] = draw(st.sampled_from([
        np.full(n, 99), np.arange(n - 1) % 10, np.full((n, 10), np.nan, np.float32), np.full((n, 10), 2.0),
        np.zeros((n, 28, 28), np.float32), np.zeros((n, 27)), np.zeros(0), np.array(["a"] * n),
        (np.arange(n) + 1) % 10, np.zeros((n, 10), np.float32),
    ]))  # fmt: skip
    return _npz(arrays)


def damaged_files(valid: dict[str, bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(run file, damaged bytes) for any of the run's files."""
    per_file = {
        name: damaged_metrics(data.splitlines())
        if name == "metrics.jsonl"
        else damaged_npz(data)
        if name == "evaluation.npz"
        else damaged_json(json.loads(data))
        for name, data in valid.items()
    }
    return st.one_of(*(strategy.map(lambda data, name=name: (name, data)) for name, strategy in per_file.items()))


# ---------------------------------------------------------------- one damaged folder, checked
TEMPLATE = template(Path(tempfile.mkdtemp(prefix="digit-lab-damaged-")))
VALID = {name: (TEMPLATE / DAMAGED / name).read_bytes() for name in FILES}
ENGINE = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PAGE = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write_damaged(runs_dir: Path, name: str, data: bytes) -> runs.RunHandle:
    (runs_dir / DAMAGED / name).write_bytes(data)
    return runs.RunHandle(runs_dir / DAMAGED)


def check_runs(runs_dir: Path, name: str) -> None:
    """Every read of the damaged run answers; a problem names the damaged file; the good run is whole."""
    listed = runs.list_runs(runs_dir)
    assert [h.id for h in listed] == [DAMAGED, GOOD]
    damaged, good = listed
    problem = damaged.damage()
    assert problem is None or (name in problem and len(problem) < 600), problem
    status = damaged.status()
    assert isinstance(damaged.name, str) and status.state in STATES
    damaged.metrics(), damaged.progress(), damaged.evaluation(), load_watch(damaged.path), finetune_report(damaged)
    if problem is not None and name == "status.json":
        assert status.state == "failed" and problem in status.message
    assert good.damage() is None and good.evaluation() is not None and good.status().state == "completed"
    assert len(good.metrics().epochs) == 2
    damaged.delete()  # whatever config.json and status.json hold
    assert [h.id for h in runs.list_runs(runs_dir)] == [GOOD]


@pytest.mark.parametrize("file", FILES)
def test_every_read_of_a_damaged_run_answers_and_names_the_file(tmp_path: Path, file: str) -> None:
    @ENGINE
    @given(damaged=damaged_files({file: VALID[file]}))
    def check(damaged: tuple[str, bytes]) -> None:
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        shutil.copytree(TEMPLATE, root / "runs")
        write_damaged(root / "runs", *damaged)
        check_runs(root / "runs", damaged[0])
        shutil.rmtree(root)

    check()


# ---------------------------------------------------------------- the issue's examples, spelled out
def edited(name: str, **changes) -> bytes:
    return json.dumps({**json.loads(VALID[name]), **changes}).encode()


def npz_with(**arrays) -> bytes:
    with np.load(io.BytesIO(VALID["evaluation.npz"])) as stored:
        return _npz({**dict(stored), **arrays})


ISSUE_EXAMPLES = {  # case -> (file, bytes, what damage() says)
    "accuracy-abc": ("evaluation.json", edited("evaluation.json", accuracy="abc"),
                     "evaluation.json: accuracy: Input should be a valid number."),
    "time-as-text": ("status.json", edited("status.json", started_at="yesterday"),
                     "status.json: started_at: Input should be a valid number"),
    "time-1e300": ("status.json", edited("status.json", ended_at=1e300),
                   "status.json: ended_at: Input should be less than or equal to 4000000000."),
    "epoch-as-list": ("status.json", edited("status.json", epoch=[1, 2]),
                      "status.json: epoch: Input should be a valid integer."),
    "npz-label-99": ("evaluation.npz", npz_with(labels=np.full(200, 99)),
                     "evaluation.npz: labels must be digits 0-9; one is 99."),
    "npz-disagrees": ("evaluation.npz", npz_with(labels=np.arange(199) % 10),
                      "evaluation.npz: labels has shape (199,); expected (200,)."),
    "config-garbage": ("config.json", b"\x00garbage{", "config.json is not valid JSON"),
    "watch-label-99": ("watch.json", edited("watch.json", labels=[99] * 20),
                       "watch.json: labels.0: Input should be less than or equal to 9"),
    "finetune-text": ("finetune.json", edited("finetune.json", holdout="better"),
                      "finetune.json: holdout: Input should be a valid dictionary"),
    # issue 32: NumPy's zip reader raised RuntimeError / NotImplementedError for these, and the sidebar broke
    "npz-encrypted": ("evaluation.npz", patched_zip(VALID["evaluation.npz"], ENCRYPTED_FLAG, member="labels.npy"),
                      "evaluation.npz: 'labels.npy' is encrypted (password-protected)"),
    "npz-method-98": ("evaluation.npz", patched_zip(VALID["evaluation.npz"], method=98),
                      "evaluation.npz: 'probabilities.npy' is compressed with method 98"),
}  # fmt: skip
BAD_METRICS = [  # rows of the wrong types, bytes that are not UTF-8, a torn last line: skipped, never damage
    json.dumps({"kind": "epoch", "epoch": "two", "t": 1, "loss": "abc"}).encode(),
    json.dumps({"kind": "batch", "epoch": [1], "batch": 1, "step": 1}).encode(),
    b"\xff\xfe\x00 not utf-8", json.dumps({"kind": "epoch", "epoch": 3, "t": 1e300}).encode(), b'{"kind": "ep',
]  # fmt: skip


@pytest.mark.parametrize("case", sorted(ISSUE_EXAMPLES))
def test_the_issues_examples_are_named(tmp_path: Path, case: str) -> None:
    file, data, message = ISSUE_EXAMPLES[case]
    shutil.copytree(TEMPLATE, tmp_path / "runs")
    handle = write_damaged(tmp_path / "runs", file, data)
    assert handle.damage().startswith(message), handle.damage()
    check_runs(tmp_path / "runs", file)


READER_ERRORS = (  # what a reader of an outside file may raise (issue 32), whatever the file
    RuntimeError("File is encrypted, password required"), NotImplementedError("compression method 98"),
    zipfile.BadZipFile("Bad CRC-32"), EOFError("truncated"), zlib.error("invalid stored block lengths"),
    OSError("Unable to open file"), ValueError("cannot reshape"), KeyError("labels.npy"), MemoryError(),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), RecursionError(), TypeError("bad"),
)  # fmt: skip


@ENGINE
@given(file=st.sampled_from(FILES), error=st.sampled_from(READER_ERRORS))
def test_any_error_of_any_reader_is_damage_that_names_the_file(file: str, error: Exception) -> None:
    """However a reader fails, damage() answers with a sentence naming the file, so the sidebar can offer Delete."""
    from mnist_core.runs import arrays as run_arrays
    from mnist_core.runs import damage as run_damage

    def failing(*args, **kwargs):
        raise error

    readers = {**run_damage.READERS, **{f: failing for f in run_damage.READERS if f == file}}
    root = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(TEMPLATE, root / "runs")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(run_damage, "READERS", readers)
            if file == "evaluation.npz":
                patch.setattr(run_arrays, "check_evaluation_arrays", failing)
            run_damage._file_damage.cache_clear()
            problem = runs.RunHandle(root / "runs" / DAMAGED).damage()
        if file == "metrics.jsonl":
            assert problem is None  # never damage: its bad rows are skipped
        else:
            assert problem is not None and problem.startswith(file) and type(error).__name__ in problem, problem
    finally:
        run_damage._file_damage.cache_clear()
        shutil.rmtree(root)


def test_metrics_rows_of_wrong_types_are_skipped_not_damage(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATE, tmp_path / "runs")
    handle = write_damaged(tmp_path / "runs", "metrics.jsonl", VALID["metrics.jsonl"] + b"\n".join(BAD_METRICS))
    metrics = handle.metrics()
    assert handle.damage() is None and metrics.skipped == len(BAD_METRICS)
    assert (len(metrics.batches), len(metrics.epochs)) == (8, 2)  # every good row is kept


# ---------------------------------------------------------------- every page, with a damaged run beside a good one
def damaged_named(at) -> bool:
    """The sidebar names the damaged run (by name, else by folder) and offers its Delete."""
    handle = runs.RunHandle(runs.runs_dir() / DAMAGED)
    warnings = [w.value for w in at.sidebar.warning if "Damaged run" in w.value]
    named = escape_markdown(handle.name)
    return (
        len(warnings) == 1
        and named in warnings[0]
        and escape_markdown(handle.damage()) in warnings[0]
        and any(b.key == f"damaged_delete_{DAMAGED}" for b in at.sidebar.button)
    )


def good_run_works(at, page: str) -> bool:
    """The good run is listed (and selected where a page picks a run) on `page`."""
    text = " ".join(str(getattr(e, "value", "")) for e in at.main.markdown) + " ".join(str(e.value) for e in at.success)
    if page == "home":
        return "good run" in text
    if page == "train":
        return "good run" in text  # the current run's outcome banner: the damaged (newer) run is left out
    picker = {"draw": "draw_model", "my_digits": "mine_base", "diagnostics": "diag_model"}[page]
    options = at.selectbox(key=picker).options
    return any("good run" in option for option in options) and not any("damaged" in o for o in options)


@pytest.fixture
def some_digits(tmp_path, monkeypatch) -> None:
    """Two of My digits, so the My digits page shows its base-model picker (it is empty otherwise)."""
    from mnist_core.my_digits import MY_DIGITS_ENV, add_digit

    monkeypatch.setenv(MY_DIGITS_ENV, str(tmp_path / "my_digits"))
    for label in (3, 7):
        add_digit(np.random.default_rng(label).random((28, 28)), label)


def render(page: str):
    at = open_app(page)
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_every_page_names_the_issues_damaged_runs_and_keeps_the_good_one(runs_root, starter, some_digits) -> None:  # noqa: F811
    """Each of the issue's examples as its own damaged run beside the good one: every page renders."""
    template(runs_root.parent / "made", starter)
    shutil.copytree(runs_root.parent / "made" / "runs" / GOOD, runs_root / GOOD)
    for i, case in enumerate(sorted(ISSUE_EXAMPLES)):
        file, data, _ = ISSUE_EXAMPLES[case]
        folder = runs_root / f"20260101-12{i:04d}-{case}"
        shutil.copytree(runs_root.parent / "made" / "runs" / DAMAGED, folder)
        (folder / file).write_bytes(data)
    damaged = [h for h in runs.list_runs() if h.damage() is not None]
    assert len(damaged) == len(ISSUE_EXAMPLES)
    for page in PAGES:
        at = render(page)
        warnings = [w.value for w in at.sidebar.warning if "Damaged run" in w.value]
        assert len(warnings) == len(damaged), page
        assert good_run_works(at, page), page


@pytest.mark.slow
def test_delete_removes_a_run_whose_config_and_status_are_garbage(runs_root, tmp_path) -> None:  # noqa: F811
    shutil.copytree(TEMPLATE, runs_root)
    write_damaged(runs_root, "config.json", b"[" * 10_000)
    write_damaged(runs_root, "status.json", b"\xff" * 100)
    at = render("home")
    problem = escape_markdown("config.json is nested more than 8 levels deep.")  # the first file checked
    assert damaged_named(at) and problem in at.sidebar.warning[0].value
    at.sidebar.button(key=f"damaged_delete_{DAMAGED}").click().run()
    at.sidebar.button(key=f"damaged_yes_{DAMAGED}").click().run()
    assert not at.exception and not at.sidebar.warning
    assert [h.id for h in runs.list_runs()] == [GOOD]


@pytest.mark.slow
def test_every_page_renders_with_a_random_damaged_run(runs_root, starter, some_digits, tmp_path) -> None:  # noqa: F811
    made = template(tmp_path / "made", starter)

    @PAGE
    @given(damaged=damaged_files(VALID), page=st.sampled_from(PAGES))
    def check(damaged: tuple[str, bytes], page: str) -> None:
        shutil.rmtree(runs_root, ignore_errors=True)
        shutil.copytree(made, runs_root)
        handle = write_damaged(runs_root, *damaged)
        at = render(page)
        assert handle.damage() is None or damaged_named(at)
        assert good_run_works(at, page) or handle.damage() is None  # a still-valid file: both runs are listed

    check()


QUERY = st.dictionaries(
    st.one_of(st.sampled_from(["epochs", "dropout", "seed", "learning_rate", "architecture", "hidden_units",
                               "validation_fraction", "batch_size", "augmentation", "page"]), st.text(max_size=8)),
    st.one_of(st.text(max_size=40), st.sampled_from(["![](http://host/u.png)", "[x](https://evil.example)", "1e999",
                                                      "nan", "-1", "0.9", "50", "cnn", "512,512,512,512,512"])),
    max_size=5,
)  # fmt: skip


@pytest.mark.slow
def test_train_renders_for_random_link_query_strings(runs_root) -> None:  # noqa: F811
    @PAGE
    @given(query=QUERY)
    def check(query: dict[str, str]) -> None:
        at = open_app()
        at.query_params.update(query)
        at.switch_page("pages/train.py").run()
        assert not at.exception, (query, at.exception)
        shown = [e.value for kind in (at.markdown, at.warning, at.caption, at.error) for e in kind]
        assert not any("](http" in text for text in shown), query  # a link's value is shown as text

    check()
