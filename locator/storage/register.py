"""The register as the app sees it: store + districts + an up-to-date index.

Pure (no Flask). One ``Register`` per app; the web layer keeps it in
``app.extensions["locator"]`` (see ``locator.web.state``), the CLI builds one
the same way.

The store is SQLite in the instance folder by default, or the shared PostGIS
register when ``DATABASE_URL`` (``LOCATOR_DATABASE_URL``) is a
``postgresql://`` URL. Every process keeps its own in-memory index and keeps
it fresh in the background (``locator.storage.freshness``): on PostGIS a
listener thread refreshes on each NOTIFY; a poller thread compares the data
version every ``INDEX_REFRESH_SECONDS`` on SQLite, and on PostGIS while the
listener is down. ``Register.index`` never touches the store, so a read never
waits on it (issue 13); a change of more than ``LARGE_CHANGE`` venues is built
into a new index aside and swapped in, so readers never see it half-applied.
The process that writes calls ``refresh()`` after its own commit and serves
its write at once. ``freshness()`` says how old the served data is and
whether the store answers (``/readyz``).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from locator.districts import Districts, load_districts
from locator.errors import DataError
from locator.index import VenueIndex
from locator.storage.backend import check_target
from locator.storage.base import VenueStore
from locator.storage.errors import store_errors
from locator.storage.freshness import ChangeListener, Poller
from locator.storage.settings import Freshness, RegisterUnavailable, Settings
from locator.storage.snapshot import LoadedSnapshot, SnapshotKeeper, read_snapshot
from locator.venues import Venue

__all__ = [
    "LARGE_CHANGE",
    "Freshness",
    "Register",
    "RegisterUnavailable",
    "Settings",
    "after_fork",
    "before_fork",
]

log = logging.getLogger("locator.storage.register")

LARGE_CHANGE = 200
"""A refresh naming more venues than this builds a new index aside and swaps it in, instead of upserting in place."""

AFTER_FORK = "the store is opened after the fork"
"""Why a detached register has no store (``detach``): each forked worker opens its own."""

STALE_AFTER_MIN_S = 1.5
"""Without a live listener, data not confirmed current for max(this, 3 poll intervals) counts as degraded."""


#: The registers of this process that serve (opened with ``listen``): what :func:`before_fork` and
#: :func:`after_fork` act on. Weak: a closed or collected register drops out.
_SERVING: weakref.WeakSet[Register] = weakref.WeakSet()


def before_fork() -> None:
    """In a pre-forking server's master (gunicorn ``preload_app``): detach every serving register.

    See :meth:`Register.detach`.
    """
    for reg in list(_SERVING):
        reg.detach()


def after_fork() -> None:
    """In each new worker: reattach every serving register (see :meth:`Register.attach`)."""
    for reg in list(_SERVING):
        reg.attach()


class Register:
    """Venue store, districts and the one spatial index built from the store.

    ``store`` is ``None``-free for callers: while this process has not reached
    its store since it started (it serves a snapshot), reading the attribute
    raises :class:`RegisterUnavailable`, a store error the web layer answers
    with 503.
    """

    def __init__(
        self,
        store: VenueStore | None,
        districts: Districts,
        refresh_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        *,
        initial: tuple[int, list[Venue]] | None = None,
    ) -> None:
        if refresh_seconds < 0:
            raise ValueError(f"refresh interval must be >= 0 seconds, got {refresh_seconds!r}")
        self._store = store
        self.districts = districts
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()  # serialises refreshes; readers never take it
        self.listener: ChangeListener | None = None
        self.poller: Poller | None = None
        self.settings: Settings | None = None  # set by ``open``: how to (re)open the store
        self.listening = False  # whether ``open`` was asked to keep it fresh (a serving process)
        self.loaded = True  # False: no store and no snapshot at start-up, so nothing to serve
        self.boot_error = ""  # why the store did not open at start-up ("" once it has)
        self.booted_from: LoadedSnapshot | None = None
        self.keeper: SnapshotKeeper | None = None  # set by ``open`` for a serving register
        self.forked = False  # a worker forked from a master that loaded this register (``attach``)
        if initial is None:
            assert store is not None
            initial = store.snapshot_venues()  # the version and the venues from one view
        self._index = VenueIndex(initial[1], version=initial[0])
        self._synced = clock()  # when the index was last known to match the store

    @classmethod
    def open(cls, settings: Settings, listen: bool = True) -> Register:
        """Open (and on first use, seed) the register named by ``settings``.

        ``listen`` (the web app; a one-shot CLI command does not) starts the
        change listener where the store announces changes (PostGIS) and the
        poller, keeps the local snapshot, and starts from that snapshot,
        degraded, when the store does not answer (issue 13): the process
        then serves it, refuses writes, and catches up once the store is back.
        Without a snapshot it starts with no data (``not_ready``) and keeps
        trying. A malformed URL or district file still fails at once.
        """
        districts = load_districts(settings.districts_file)
        check_target(settings.target)  # a mistake, not an outage: refused at once
        try:
            store = settings.open_store()
        except Exception as exc:
            if not listen or not isinstance(exc, (DataError, OSError, *store_errors())):
                raise
            reg = cls._from_snapshot(settings, districts, exc)
        else:
            reg = cls(store, districts, settings.refresh_seconds)
        reg.settings = settings
        if listen:
            reg.listening = True
            reg.keeper = SnapshotKeeper(settings.snapshot_file, settings.snapshot_seconds, reg._clock)
            if reg.booted_from is not None:
                reg.keeper.saved_version = reg.booted_from.data_version
            _SERVING.add(reg)
            reg.start_listener()
            reg.start_poller()
        return reg

    @staticmethod
    def check(settings: Settings) -> None:
        """What ``open`` refuses whatever the store's state: a district file or a URL that is wrong.

        ``DataError`` or ``OSError``; loads no venue (``locator serve`` checks
        this before gunicorn's master loads the register once).
        """
        load_districts(settings.districts_file)
        check_target(settings.target)

    @classmethod
    def _from_snapshot(cls, settings: Settings, districts: Districts, exc: BaseException) -> Register:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        snap: LoadedSnapshot | None = None
        try:
            snap = read_snapshot(settings.snapshot_file)
        except DataError as why:
            log.error("the register did not answer (%s) and there is no usable snapshot (%s): not ready", reason, why)
        initial = (0, []) if snap is None else (snap.data_version, snap.venues)
        reg = cls(None, districts, settings.refresh_seconds, initial=initial)
        reg.boot_error, reg.booted_from, reg.loaded = reason, snap, snap is not None
        if snap is not None:
            log.warning("the register did not answer (%s); serving the snapshot %s", reason, snap.path)
            reg._synced = reg._clock() - snap.age_s
        return reg

    @property
    def store(self) -> VenueStore:
        """The store; :class:`RegisterUnavailable` while it has not answered since start-up."""
        store = self._store
        if store is None:
            raise RegisterUnavailable(f"the register has not answered since this process started ({self.boot_error})")
        return store

    @store.setter
    def store(self, store: VenueStore) -> None:
        self._store = store

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgis``."""
        if self._store is not None:
            return self._store.backend
        return "postgis" if self.settings is not None and self.settings.database_url else "sqlite"

    def _connect(self) -> VenueStore:
        """The store, opening it if this process has not reached it yet (background threads only)."""
        if self._store is not None:
            return self._store
        if self.settings is None:
            raise RegisterUnavailable("the register has no settings to open it with")
        store = self.settings.open_store()  # raises while the store is down: the poller records it
        if self.boot_error != AFTER_FORK:  # a worker opening its own store is routine, not news
            log.warning("the register answers again; catching up from data version %s", self._index.version)
        self._store, self.boot_error = store, ""
        if self.listening:
            self.start_listener()
        return store

    def start_listener(self) -> None:
        """Refresh on every change the store announces (PostGIS NOTIFY), polling as a fallback.

        Does nothing on a store that announces nothing (SQLite), or one not
        reached yet: the poller (``start_poller``) compares the version instead.
        """
        if self._store is None or self.listener is not None:
            return
        where = self._store.listen_on()
        if where is None:
            return
        url, channel = where
        poll = min(self.refresh_seconds, 1.0) if self.refresh_seconds > 0 else 0.5
        self.listener = ChangeListener(url, channel, self.refresh, poll_seconds=poll)
        self.listener.start()

    def start_poller(self) -> None:
        """Compare the data version every ``refresh_seconds`` on a daemon thread (PostGIS: while the listener is down).

        The same thread keeps the local snapshot (``save_snapshot``) and
        rebuilds the index's kd-trees after many edits (``VenueIndex.compact``). It holds
        the register weakly: it ends once the register is closed or collected
        (the tests build dozens of apps in one process).
        """
        if self.poller is not None:
            return
        ref = weakref.ref(self)

        def poll() -> None:
            reg = ref()
            if reg is None:
                raise LookupError("register collected")
            reg.refresh()

        def skip() -> bool:
            reg = ref()
            if reg is None:
                poller.stop()
                return True
            if reg.listener is not None and reg.listener.healthy:
                poller.ok = None  # a failure seen while the listener was down is history once it is back
                return True
            return False

        def after() -> None:
            reg = ref()
            if reg is not None:
                reg.index.compact()  # the nearest query's kd-trees, rebuilt here after many edits, never on a request
                reg.save_snapshot()

        poller = Poller(poll, self.refresh_seconds, skip=skip, after=after, name="locator-poll")
        self.poller = poller.start()

    @property
    def index(self) -> VenueIndex:
        """The index as last refreshed: never touches the store, so a read never waits on it."""
        return self._index

    @property
    def stale_after(self) -> float:
        """Seconds without confirmation after which the data counts as possibly stale (degraded)."""
        return max(STALE_AFTER_MIN_S, 3 * self.refresh_seconds)

    def freshness(self) -> Freshness:
        """How old the served data is, and whether the store answers (see :class:`Freshness`)."""
        index = self._index
        age = max(0.0, self._clock() - self._synced)
        listening = self.listener is not None and self.listener.healthy
        reason = ""
        snap = self.booted_from
        if self._store is None and snap is not None:
            reason = (
                f"serving the local snapshot {snap.path} (data version {snap.data_version}, written "
                f"{snap.age_s:.0f} s ago): the register has not answered since start-up ({self.boot_error})"
            )
        elif self._store is None and self.loaded:
            reason = f"the register did not answer ({self.boot_error}); serving data version {index.version}"
        elif self._store is None:
            reason = f"no data: the register has not answered since start-up, and no snapshot ({self.boot_error})"
        elif not listening:
            poller = self.poller
            if poller is not None and poller.ok is False:
                reason = f"the register did not answer: {poller.last_error}"
            elif poller is not None and age > self.stale_after:
                reason = f"the register has not confirmed the data for {age:.1f} s"
            elif self.listener is not None and poller is None:
                reason = "the register's change listener is down"
        return Freshness(not reason, index.version, round(age, 3), reason, self.loaded)

    def stamp(self) -> tuple[int, float]:
        """The served data's version and its age in seconds (as :meth:`freshness` has them, without the reason)."""
        return self._index.version, max(0.0, self._clock() - self._synced)

    def refresh(self) -> bool:
        """Catch up with the store; returns whether anything changed.

        Runs on the listener or poller thread, or after this process's own
        write. Up to ``LARGE_CHANGE`` venues are upserted into the live index;
        a larger change (or a replaced register, or one older than the data
        served, as after a restore) is built into a new index aside and
        swapped in with one assignment, so readers see the old or the new
        data and never wait for the build. A process that started without
        its store opens it here (on the poller's thread).
        """
        with self._lock:
            store = self._connect()
            index = self._index
            current, changed = store.changes_since(index.version)
            if current == index.version and self.loaded:
                self._synced = self._clock()
                return False
            if changed is None or len(changed) > LARGE_CHANGE or current < index.version or not self.loaded:
                current, venues = store.snapshot_venues()
                self._index = VenueIndex(venues, version=current)
                self._synced = self._clock()
                self.loaded, self.booted_from = True, None
                return True
            found = store.get_many(changed)
            for venue_id in changed:
                venue = found.get(venue_id)
                if venue is None:
                    index.remove(venue_id)
                else:
                    index.upsert(venue)
            index.version = current
            self._synced = self._clock()
            self.booted_from = None
            return True

    # -- the local snapshot ---------------------------------------------------
    def save_snapshot(self, force: bool = False, aside: bool = False) -> Path | None:
        """Keep the local snapshot (``SnapshotKeeper.save``) if the data served is known good.

        Called on the poller's thread after each tick, never on a request's
        path; ``aside`` (a pre-forking master) and a forked worker write it from
        a short-lived child, so the pages the worker shares stay shared.
        """
        if self.keeper is None or not self.loaded or not self.freshness().reachable:
            return None
        index = self._index  # one index: a swap between reading its version and its venues would mislabel them
        return self.keeper.save(index.version, index.venues, force=force, aside=aside or self.forked)

    # -- pre-forking servers ------------------------------------------------
    def detach(self) -> None:
        """Stop the threads and close the store: a forked worker must not share a connection or lose a thread.

        For a master that loaded the register and built the index before
        forking (gunicorn ``preload_app``): the workers share that memory
        copy-on-write, and each opens its own store and threads in
        :meth:`attach`. Idempotent.
        """
        for thread in (self.listener, self.poller):  # not under the lock: a refresh in them may be waiting for it
            if thread is not None:
                thread.stop(wait=5.0)
        self.listener = self.poller = None
        with self._lock:
            if self._store is not None:
                self.save_snapshot(force=True, aside=True)  # before the store closes: the data is confirmed
                self._store.close()
                self._store = None
                self.boot_error = AFTER_FORK

    def attach(self) -> None:
        """In a forked worker: open its own store (if it answers) and start its threads."""
        self.forked = True
        try:
            self.refresh()
        except Exception as exc:  # the store is down: serve what the master loaded; the poller keeps trying
            self.boot_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("the register did not answer in a new worker (%s); serving the data loaded before", exc)
        self.start_poller()

    def close(self) -> None:
        """Stop the background threads and close the store."""
        _SERVING.discard(self)
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self.poller is not None:
            self.poller.stop()
            self.poller = None
        if self._store is not None:
            self._store.close()
