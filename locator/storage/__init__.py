"""The venue register's storage: one protocol, two back ends, one way to open them.

Other layers import from here, never from the modules inside:

- :func:`open_store` opens a register by path or URL (SQLite file or
  PostGIS), migrating its schema; :class:`VenueStore` is what every back end
  offers (``base``), with the records it returns (:class:`AuditEntry`,
  :class:`Report`, :class:`Snapshot`) and :class:`TooManyReports`.
- :class:`Register` and :class:`Settings` (``register``): a store plus the
  districts and the in-memory index kept fresh from it (``freshness``);
  :func:`before_fork` / :func:`after_fork` for a server that loads once and
  forks its workers (``locator.cli.gunicorn_hooks``). A serving process
  keeps a local snapshot of the register to start from while the store is
  down (``snapshot``).
- :func:`store_errors` (``errors``), the exceptions that mean the store did
  not answer or could not write, :func:`store_failed` (one of them, even
  wrapped) and :func:`storage_full` (a full disk): the web's 503/507, the
  CLI's exit 3 and the register's start from a snapshot all use them.
"""

from locator.storage.backend import open_store
from locator.storage.base import AuditEntry, Report, Snapshot, TooManyReports, VenueStore
from locator.storage.errors import storage_full, store_errors, store_failed
from locator.storage.register import (
    Freshness,
    Register,
    RegisterUnavailable,
    Settings,
    after_fork,
    before_fork,
)

__all__ = [
    "AuditEntry",
    "Freshness",
    "Register",
    "RegisterUnavailable",
    "Report",
    "Settings",
    "Snapshot",
    "TooManyReports",
    "VenueStore",
    "after_fork",
    "before_fork",
    "open_store",
    "storage_full",
    "store_errors",
    "store_failed",
]
