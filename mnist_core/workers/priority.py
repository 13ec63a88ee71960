"""A lower CPU priority for work that must not slow the app's answers: training and outside models' evaluations."""

from __future__ import annotations

import os
from pathlib import Path

NICENESS = 19  # the lowest priority: the work uses the CPU that the app's answers leave idle
AUTOGROUP = Path("/proc/self/autogroup")  # Linux: the CPU share of this process's session


def lower_priority(niceness: int = NICENESS) -> None:
    """Nice this process, and its session's scheduling group where Linux has one.

    The process is the only one of its session (started with start_new_session), and with
    Linux's autogroup scheduling (on by default on desktops and many servers) the CPU is shared
    fairly between sessions first: a nice value alone then only ranks the process within its own
    session: under 10 drawing users a worker kept 33 of 147 core-s at nice 10 and 26 of 143 at
    nice 19; with its autogroup niced too, 9-11.
    """
    try:
        os.nice(niceness)
    except (AttributeError, OSError):  # no nice() on this platform: run at normal priority
        pass
    try:
        AUTOGROUP.write_text(str(niceness))
    except OSError:  # no autogroup scheduling here (or not allowed): the nice value is all there is
        pass
