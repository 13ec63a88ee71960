"""Write docs/bad-inputs.md: every bad input Digit Lab handles and the exact message a user gets.

Runs each case of the table in tests/test_bad_inputs.py (in a temporary folder, as the test does)
and writes what happened, so the document shows real messages. The test checks every row against
the message it gets, so after changing a message run this again:

    python bench/bad_inputs_table.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py (the name issue 15 gives it) must not hide the standard library's queue: this folder off sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
from test_bad_inputs import CASES, DOC, Case, Outcome, expected_kind, md, run_case  # noqa: E402

AREAS = {"data": "MNIST data files", "model": "Model files (Draw, Diagnostics, uploads)",
         "training": "Training settings, runs folder and disk", "drawing": "Drawings",
         "imports": "Imports and uploads (My digits, run zips, uploaded models)",
         "runs": "Run folders (damaged files, a full disk mid-run)",
         "accounts": "Class accounts and my data (codes, sign-in cookies, two teachers, retention)"}  # fmt: skip
HEADER = """# What Digit Lab handles: bad inputs

Every bad input below was handed to the public API (`load_mnist`, `load_predictor`, `TrainingConfig`,
`start_run`, `train`, `RunHandle.rename`, `RunFiles.save_model`, `canvas_to_mnist`, `read_import`,
`accept_model_upload`, `import_run_zip`, `RunHandle.damage`, `RunHandle.metrics`) and this is what
came back, word for word. `…` stands for the folder that held the input. A damaged run is named on
every page with that message and a Delete; every other run keeps working.

After each one, every file that existed before is byte-for-byte the same and no new file is left
behind (no half-made run folder, no temp file beside a model): `tests/test_bad_inputs.py` checks
both, and checks that each row here still shows the message the code gives. Regenerate this file
with `python bench/bad_inputs_table.py` (do not edit it by hand).

Crashes are covered elsewhere: `tests/test_crash.py` kills the training process at 24 moments and
checks that every run folder stays readable, and `tests/test_restart.py` kills the web server
while a run trains.
"""


def check(case: Case, outcome: Outcome) -> str | None:
    """Why the outcome is not what the table promises, or None."""
    if case.error is None and outcome.error is not None:
        return f"raised {outcome.error!r}"
    if case.error is not None and not isinstance(outcome.error, case.error):
        return f"expected {case.error.__name__}, got {outcome.error!r}"
    if case.fragment not in outcome.text:
        return f"message lacks {case.fragment!r}: {outcome.text}"
    if not set(outcome.changed) <= set(case.may_change):
        return f"changed {outcome.changed}"
    return None


def main() -> int:
    lines, problems = [HEADER], []
    for area, title in AREAS.items():
        lines += [f"\n## {title}\n", "| Case | Bad input | You get | Message |", "| --- | --- | --- | --- |"]
        for case in (c for c in CASES if c.area == area):
            with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
                outcome = run_case(case, Path(tmp) / "case", mp)
            if (problem := check(case, outcome)) is not None:
                problems.append(f"{case.id}: {problem}")
            lines.append(f"| `{case.id}` | {md(case.what)} | {expected_kind(case)} | {md(outcome.text)} |")
            print(f"{case.id:28s} {expected_kind(case):15s} {outcome.text[:90]}")
    if problems:
        print("\nNot written; these cases no longer behave as the table says:\n" + "\n".join(problems))
        return 1
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n{len(CASES)} cases -> {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
