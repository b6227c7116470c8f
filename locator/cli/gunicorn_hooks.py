"""gunicorn settings for ``locator serve``: load once, fork, share (issue 13, item 7).

Given to gunicorn as ``--config python:locator.cli.gunicorn_hooks``. The
master builds the app before forking (``preload_app``): it reads the
register and builds the index once, and every worker shares those pages
copy-on-write instead of building its own. What must not cross a fork is
handled by the hooks:

- ``pre_fork`` (in the master, before each worker is forked): every serving
  register stops its poller and listener threads and closes its store
  (``locator.storage.before_fork``), so no thread, lock or database
  connection (SQLite's above all) is shared with a child; then
  ``gc.freeze()`` moves everything loaded so far out of the collector's
  reach, so a collection in a worker does not write to (and so copy) the
  shared pages.
- ``post_fork`` (in each new worker): each register opens its own store and
  starts its own threads (``locator.storage.after_fork``). When the store
  is down the worker serves what the master loaded (degraded) and its
  poller keeps trying; a worker never exits because of an outage.

A worker respawned later starts from the master's data and catches up from
the store. ``kill -HUP`` re-forks the workers from the same preloaded app;
a new release needs a restart of the instance (the systemd unit's
``restart``), not a reload.
"""

from __future__ import annotations

import gc
from typing import Any

from locator.storage import after_fork, before_fork

__all__ = ["post_fork", "pre_fork", "preload_app"]

preload_app = True


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, before each fork: detach the registers (once; idempotent) and freeze the heap."""
    before_fork()
    gc.collect()
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In the new worker: its own store connection and background threads."""
    after_fork()
