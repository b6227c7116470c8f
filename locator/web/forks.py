"""Which fork of the process this is: a cheap check for per-process threads after gunicorn forks a worker.

``os.getpid()`` is a system call on every use; a counter bumped by
``os.register_at_fork`` in each child costs a list lookup. A thread started
in one generation does not exist in the next (a fork copies only the thread
that forked), so whoever starts one notes :func:`generation` and starts
another when it differs.
"""

from __future__ import annotations

import os

__all__ = ["generation"]

_FORKS = [0]
os.register_at_fork(after_in_child=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))


def generation() -> int:
    """How many forks this process is the child of (0 in the process that imported this first)."""
    return _FORKS[0]
