"""Worker processes end with the process that started them, even when it is killed with SIGKILL:
an orphaned worker would go on taking batches that nobody follows, on a core nobody accounts for.
Whatever it was running is sent again by the queue (its lease runs out)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel for `sig` when the parent process ends (Linux; elsewhere nothing happens).
    Called in the child, first thing."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig)
    if os.getppid() == 1:  # the parent died before the call: do as the kernel would have
        os.kill(os.getpid(), sig)
