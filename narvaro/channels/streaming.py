"""Near-real-time capture from the platforms' push streams, with polling as the safety net.

`Streamer` keeps one push stream open per connected account whose connector streams
(Mastodon's user stream) and stores what arrives through the archive's single writer,
exactly as a harvest batch would be stored:

- a new or edited status of the account, a reply to it or a mention of it is captured at
  once (an edit adds the versions from the status history);
- a ``delete`` event for an item the archive holds becomes one ``deleted`` event; the
  platform names the status only by its local id, so the held item is found by that id in
  its stored payload;
- a mention notification is captured.

The stream never moves the harvest cursor. Whenever a stream is (re)connected, once the
platform has accepted the subscription, one harvest runs from the cursor: everything that
happened while no stream was open (before the first connect, during a drop) is read by
polling, so the stream can only make capture sooner, never less complete. The regular
scheduled harvests (`narvaro worker`) keep running too and still re-check recent items.

A dropped stream reconnects after an exponential backoff with jitter (1 s doubling, at most
five minutes); a refused token stops the account's stream until someone reconnects it (the
harvest that runs at the next connect attempt flags the connection, see `harvest.py`).

All database work happens in the thread that calls `Streamer.run`; the connectors read
their streams in background threads and only queue the raw events.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.db import connection as db_connection
from django.utils import timezone

from narvaro.archive.capture import EventInput
from narvaro.archive.models import ItemVersion
from narvaro.channels.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    HarvestBatch,
    LiveStream,
    NotSupported,
    StreamUpdate,
)
from narvaro.channels.harvest import (
    HarvestReport,
    account_ref,
    batch_store,
    connector_for,
    harvest_claim,
    harvest_run,
)
from narvaro.channels.models import Connection
from narvaro.channels.tokens import CredentialsUnreadable

logger = logging.getLogger(__name__)

RECONNECT_MIN = 1.0
RECONNECT_MAX = 300.0
#: How long a new stream may take to be accepted before it counts as failed.
CONNECT_TIMEOUT = 30.0
#: Candidates read when looking a deleted status up by its local id.
DELETE_LOOKUP_LIMIT = 20


def streaming_enabled() -> bool:
    """NARVARO_MASTODON_STREAMING (settings.py reads it)."""
    return bool(getattr(settings, "NARVARO_MASTODON_STREAMING", False))


def streamable(connection: Connection) -> bool:
    from narvaro.channels.connectors import connector_class

    try:
        return connector_class(connection.account.platform).supports_streaming
    except KeyError:
        return False


@dataclass
class StreamCounts:
    """What the streams stored (and how often they connected and dropped)."""

    events: int = 0
    items: int = 0
    versions: int = 0
    deletions: int = 0
    connects: int = 0
    drops: int = 0
    polls: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass
class _Account:
    """One account's stream state inside the streamer."""

    connection: Connection
    connector: Connector | None = None
    live: LiveStream | None = None
    opened_at: float = 0.0
    polled: bool = False
    failures: int = 0
    retry_at: float = 0.0
    stopped: str = ""

    @property
    def ref(self) -> str:
        return account_ref(self.connection.account)


@dataclass
class Streamer:
    """Keeps the push streams of `connections` open and stores what they bring.

    `clock` and `sleep` are injectable for tests; `read_timeout` is the seconds of silence
    after which a stream counts as dropped.
    """

    connections: list[Connection]
    read_timeout: float | None = None
    clock: Callable[[], float] = time.monotonic
    counts: StreamCounts = field(default_factory=StreamCounts)
    accounts: list[_Account] = field(init=False)

    def __post_init__(self) -> None:
        self.accounts = [_Account(connection=c) for c in self.connections]

    # -- the loop ----------------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        *,
        until: Callable[[], bool] | None = None,
        timeout: float | None = None,
        idle: float = 0.2,
    ) -> StreamCounts:
        """Stream until `stop` is set, `until()` is true or `timeout` seconds have passed."""
        deadline = None if timeout is None else self.clock() + timeout
        try:
            while not stop.is_set():
                self.step(idle=idle)
                if until is not None and until():
                    break
                if deadline is not None and self.clock() >= deadline:
                    break
                if all(a.stopped for a in self.accounts):
                    break
        finally:
            self.close()
        return self.counts

    def step(self, *, idle: float = 0.2) -> None:
        """Open what is due, hand over whatever the streams brought, poll after a connect."""
        # A long-running process drops a broken or expired database connection between steps
        # (as Django does between requests); never inside a transaction, where closing would
        # end it (a caller's atomic block, or a test's).
        if not db_connection.in_atomic_block:
            close_old_connections()
        for state in self.accounts:
            if state.stopped:
                continue
            if state.live is None:
                if self.clock() >= state.retry_at:
                    self._open(state)
                continue
            self._drain(state, idle / max(1, len(self.accounts)))

    def close(self) -> None:
        for state in self.accounts:
            if state.live is not None:
                state.live.close()
                state.live = None
        Connection.objects.filter(pk__in=[a.connection.pk for a in self.accounts]).update(
            stream_connected_at=None
        )

    # -- one account -------------------------------------------------------------------------

    def _open(self, state: _Account) -> None:
        connection = state.connection
        connection.refresh_from_db()
        if connection.status != Connection.Status.ACTIVE:
            # A refused token: nothing to stream until a person reconnects. Look again later.
            self._retry_later(state, RECONNECT_MAX)
            return
        try:
            connector = connector_for(connection)
            kwargs = {} if self.read_timeout is None else {"read_timeout": self.read_timeout}
            state.live = connector.open_stream(**kwargs)  # type: ignore[call-arg]
        except NotSupported as exc:
            state.stopped = str(exc)
            return
        except (AuthError, CredentialsUnreadable) as exc:
            # The harvest records it properly: gap, reconnect flag, audit, e-mail.
            logger.warning("stream of %s refused: %s", state.ref, exc)
            self._poll(state)
            self._retry_later(state, RECONNECT_MAX)
            return
        except ConnectorError as exc:
            logger.warning("stream of %s could not open: %s", state.ref, exc)
            self._retry_later(state)
            return
        state.connector = connector
        state.opened_at = self.clock()
        state.polled = False

    def _drain(self, state: _Account, wait: float) -> None:
        live = state.live
        assert live is not None
        if not state.polled:
            if live.connected.is_set():
                # Subscribed: poll once from the cursor to cover the time without a stream.
                state.polled = True
                state.failures = 0
                self.counts.connects += 1
                Connection.objects.filter(pk=state.connection.pk).update(
                    stream_connected_at=timezone.now()
                )
                logger.info("stream of %s connected", state.ref)
                self._poll(state)
            elif self.clock() - state.opened_at > CONNECT_TIMEOUT:
                self._dropped(state, ConnectorError("the stream was not accepted in time"))
                return
        deadline = self.clock() + wait
        while True:
            try:
                update = live.next(timeout=max(0.0, deadline - self.clock()))
            except ConnectorError as exc:
                self._dropped(state, exc)
                return
            if update is None:
                return
            self.counts.events += 1
            if update:
                self._store(state, update)
            if self.clock() >= deadline:
                return

    def _store(self, state: _Account, update: StreamUpdate) -> None:
        assert state.connector is not None
        events = list(update.events)
        for local_id in update.deleted_local_ids:
            remote_id = held_remote_id(state.connection, state.connector, local_id)
            if remote_id:
                events.append(
                    EventInput(
                        platform=state.connection.account.platform,
                        remote_id=remote_id,
                        type="deleted",
                        occurred_at=timezone.now(),
                        details={"detected_by": "stream delete event", "platform_id": local_id},
                    )
                )
        batch = HarvestBatch(captures=list(update.captures), events=events)
        if not batch:
            return
        report = HarvestReport()
        batch_store(state.connection, batch, report, source="stream")
        self.counts.items += report.items
        self.counts.versions += report.versions
        self.counts.deletions += report.deletions

    def _dropped(self, state: _Account, exc: Exception) -> None:
        logger.warning("stream of %s dropped: %s", state.ref, exc)
        self.counts.drops += 1
        if state.live is not None:
            state.live.close()
        state.live = None
        state.connector = None
        Connection.objects.filter(pk=state.connection.pk).update(stream_connected_at=None)
        if isinstance(exc, AuthError):
            self._poll(state)  # records the refusal on the connection
            self._retry_later(state, RECONNECT_MAX)
        else:
            self._retry_later(state)

    def _retry_later(
        self, state: _Account, seconds: float | None = None, *, reset: bool = True
    ) -> None:
        if seconds is None:
            state.failures += 1
            ceiling = min(RECONNECT_MAX, RECONNECT_MIN * (2 ** min(state.failures - 1, 12)))
            seconds = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter
        state.retry_at = self.clock() + seconds

    def _poll(self, state: _Account) -> None:
        """One harvest from the cursor, unless a worker is harvesting the account right now."""
        connection = state.connection
        if not harvest_claim(connection):
            logger.info("harvest of %s is already running; not polling", state.ref)
            return
        connection.refresh_from_db()
        report = harvest_run(connection)
        self.counts.polls += 1
        logger.info("poll of %s after stream connect: %s", state.ref, report.as_dict())


def held_remote_id(connection: Connection, connector: Connector, local_id: str) -> str:
    """The remote id of the held item the platform calls `local_id` ("" if none is held)."""
    known = connector.remote_id_of(local_id)
    if known:
        return known
    try:
        needle, matches = connector.held_payload_match(local_id)
    except NotSupported:
        return ""
    candidates = (
        ItemVersion.objects.filter(
            item__account=connection.account,
            item__platform=connection.account.platform,
            raw_payload__contains=needle,
        )
        .order_by("-item__created_at", "-number")
        .values_list("item__remote_id", "raw_payload")[:DELETE_LOOKUP_LIMIT]
    )
    for remote_id, payload in candidates:
        if matches(payload or ""):
            return str(remote_id)
    return ""


def stream_connections(ref: str = "") -> list[Connection]:
    """The connections `narvaro channels stream` serves: one account or every streamable one."""
    connections = Connection.objects.select_related("account").order_by("pk")
    if ref:
        platform, _sep, handle = ref.partition(":")
        connections = connections.filter(account__platform=platform, account__handle=handle)
    else:
        connections = connections.exclude(status=Connection.Status.PAUSED)
    return [c for c in connections if streamable(c)]
