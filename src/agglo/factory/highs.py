"""A HiGHS instance that prints nothing. Pure: no Django.

HiGHS writes its banner straight to file descriptor 1 the first time a solver is created in a process, before any
option can silence it; commands that print JSON on stdout must not carry it. So the first instance is created
with descriptor 1 pointed at /dev/null.
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

_lock = threading.Lock()
_bannered = False


def quiet_highs(*, time_limit: float, threads: int | None = None) -> highspy.Highs:
    """A new solver with output off and the given time limit (seconds) and thread count."""
    global _bannered
    with _lock:
        if not _bannered:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _bannered = True
        else:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    if threads:
        h.setOptionValue("threads", threads)
    return h
