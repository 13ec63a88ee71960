"""bench/sessions.py's machinery against a real server: two people without browsers open Home, Train and
Draw over Streamlit's protocol and draw, and every stroke gets the app's answer, so the bench cannot rot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_bench():
    """bench/sessions.py as a module, leaving sys.path as it was (the bench puts its own folder on it)."""
    path = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("bench_sessions", ROOT / "bench" / "sessions.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


@pytest.mark.slow
def test_two_sessions_draw_over_the_protocol_and_each_stroke_gets_its_digit() -> None:
    bench = load_bench()
    plan = bench.Plan(strokes=2, seconds=25, think=0.1, home_s=0.5, train_s=1.0)
    [row] = bench.run_levels([2], plan, ttl_s=1, same_server=False, warm=False, settle_s=0)
    stats = row["stats"]
    assert stats.errors == []
    assert stats.opened == 2 and len(stats.views) == 6  # Home, Train and Draw each
    assert len(stats.answers) == 4  # two strokes each
    assert all(got in set("0123456789") for _, got, _ in stats.answers), stats.answers
    finished = [(drawn, got) for drawn, got, last in stats.answers if last]
    assert finished and all(drawn == got for drawn, got in finished), stats.answers  # a whole digit: that digit
    assert 0 < row["rss_before"] <= row["rss_peak"]
