"""Named steps of a run's writes, where tests stop the process as a crash would.

`SOCIALCREDIT_KILL_AT=STEP` makes the process kill itself with SIGKILL on reaching STEP (no
clean-up, no exit handlers: exactly a power cut or the out-of-memory killer). The crash
tests use it to stop runs in the middle of each write and check that `resume` still ends with
the tables of an uninterrupted run. With `SOCIALCREDIT_KILL_ONCE=FILE` as well, only the
first process to reach STEP dies (it creates FILE; the others find it and carry on): how the
ensemble tests kill one worker mid-run and see its replicate run again. Unset, a step costs
one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

STEPS = ("setup", "checkpoint-arrays", "checkpoint-index", "checkpoint-commit", "citizens",
         "citizens-moved", "report", "results", "results-moved")
"""Every step but one, in the order a run reaches them; `day-N` is the end of day N."""


def reached(step: str) -> None:
    """Kill this process now if the environment asks for a crash at `step`."""
    if os.environ.get("SOCIALCREDIT_KILL_AT") == step:
        once = os.environ.get("SOCIALCREDIT_KILL_ONCE")
        if once:
            try:
                os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
        os.kill(os.getpid(), signal.SIGKILL)
