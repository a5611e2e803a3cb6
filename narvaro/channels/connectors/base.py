"""The one interface every live platform connector implements.

A connector talks to one platform on behalf of one connected account. It knows nothing about
Narvaro's database: it turns the platform's answers into the archive's plain values
(`CaptureInput`, `EventInput`) and plain results, and it raises the typed exceptions below.
The platform-independent machinery in `narvaro.channels.harvest` decides what to store,
when to retry, when to record a capture gap and when to ask a person to reconnect.

Adding a platform means one new module in this package with a `Connector` subclass, listed
in `narvaro.channels.connectors.CONNECTORS`.

The contract
------------

Construction: ``Connector(base_url=..., credentials={...}, handle=..., policy=RetryPolicy())``.
`credentials` is the decrypted secret dict the connection stores (e.g. ``{"access_token": ...}``
for Mastodon, ``{"app_password": ...}`` for Bluesky); a connector never logs or returns it.

Reading:

- ``verify() -> Profile``: check the credentials and return the account they belong to.
- ``harvest(cursor) -> Iterator[HarvestBatch]``: everything new since ``cursor`` (an opaque
  ``dict[str, str]`` the connector gave back earlier; ``{}`` means "from the beginning").
  Each batch carries captures (posts, replies, mentions, direct messages, each version of an
  edited item as its own capture), events (deletions) and the cursor *after* this batch. The
  machinery stores a batch, then saves its cursor, so a harvest that dies half-way resumes
  where the last stored batch ended and never skips anything. Batches may repeat what was
  already stored; the archive is idempotent.
- ``fetch_item(remote_id) -> CaptureInput | None``: one item as it is now; ``None`` when the
  platform says it no longer exists.
- ``recheck(held) -> Iterator[HarvestBatch]``: look again at recent items the archive already
  holds (``HeldItem``: remote id, latest raw payload, creation time) to catch edits and
  deletions the platform does not announce. The default fetches each with ``fetch_item`` and
  reports a ``deleted`` event for the ones that are gone; connectors may do it in bulk.
- ``search_accounts(query, limit) -> list[Profile]`` and ``fetch_profile(handle) -> Profile``.
- ``open_stream() -> LiveStream`` (optional, ``supports_streaming``): the platform's push
  stream for near-real-time capture. A background thread reads it; the caller takes
  ``StreamUpdate`` values with ``LiveStream.next(timeout)`` in its own thread, so the
  translation (and any request it needs) and every database write stay in the caller's
  thread. A stream only adds captures: it never moves the harvest cursor, so the next
  harvest still reads everything since the cursor and closes whatever a dropped stream
  missed.

Acting (each returns an `ActionResult`; the caller captures ``result.capture`` into the
archive, so the archive holds what was actually sent):

- ``publish(draft)``, ``reply(parent_remote_id, draft)``, ``delete(remote_id)``,
  ``hide_reply(remote_id)``, ``block(account_id)``, ``report(account_id, remote_ids, comment)``.

Failures are exceptions, never a result that looks like success:

- `AuthError`: the token was revoked or expired; retrying cannot help, a person must
  reconnect. The machinery flags the connection at once.
- `RateLimited(retry_after)`: the platform said "not now" (HTTP 429 or X-RateLimit-Remaining
  at zero); `retry_after` is in seconds.
- `Unavailable`: 5xx, a timeout or a refused connection; worth retrying later.
- `MalformedResponse`: the platform answered with something we cannot read.
- `NotSupported`: the platform has no such action (e.g. hiding a reply on Mastodon).
- `ActionRefused`: the platform refused this particular request (HTTP 4xx other than 401/429),
  e.g. a status that does not exist or text that is too long.

`RetryPolicy.call(fn)` is how connectors make each request: it retries `Unavailable`,
`MalformedResponse` and short `RateLimited` waits with exponential backoff and full jitter,
at most `attempts` times and never waiting more than `max_wait` seconds in total; anything
longer is raised to the machinery, which reschedules the connection instead of hammering
the platform.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from narvaro.archive.capture import CaptureInput, EventInput

logger = logging.getLogger(__name__)

T = TypeVar("T")


# -- errors the machinery understands ----------------------------------------------------------


class ConnectorError(Exception):
    """Base of every connector failure. `reason` is the gap reason it maps to."""

    reason: ClassVar[str] = "error"


class AuthError(ConnectorError):
    """The credentials no longer work (revoked, expired, wrong): a person must reconnect."""

    reason = "auth"


class RateLimited(ConnectorError):
    """The platform asks us to wait `retry_after` seconds."""

    reason = "rate_limited"

    def __init__(self, message: str = "rate limited", *, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, float(retry_after))


class Unavailable(ConnectorError):
    """The platform did not answer usefully: 5xx, timeout, connection refused."""

    reason = "unavailable"


class MalformedResponse(ConnectorError):
    """The platform answered with a body we cannot read (bad JSON, missing fields)."""

    reason = "malformed"


class NotSupported(ConnectorError):
    """The platform has no such action."""

    reason = "not_supported"


class ActionRefused(ConnectorError):
    """The platform refused this one request (4xx other than 401 and 429)."""

    reason = "refused"


class StreamDropped(ConnectorError):
    """The push stream ended: the connection was cut, timed out or closed."""

    reason = "unavailable"


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """An account on the platform as the platform describes it."""

    platform: str
    handle: str
    platform_id: str
    display_name: str = ""
    url: str = ""
    note: str = ""
    avatar_url: str = ""
    created_at: dt.datetime | None = None
    followers: int | None = None
    # Profile fields / links with their verification time (Mastodon rel=me `verified_at`).
    fields: tuple[tuple[str, str, dt.datetime | None], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class HarvestBatch:
    """What one step of a harvest found, and the cursor to save once it is stored."""

    captures: list[CaptureInput] = field(default_factory=list)
    events: list[EventInput] = field(default_factory=list)
    cursor: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.captures) + len(self.events)


@dataclass(frozen=True)
class HeldItem:
    """An item the archive holds, as handed to `Connector.recheck`."""

    remote_id: str
    raw_payload: str
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class MediaDraft:
    """An image or video to attach, with its alt text (required for accessibility)."""

    content: bytes
    content_type: str
    alt_text: str
    file_name: str = "upload"


@dataclass(frozen=True)
class PostDraft:
    """What a person drew up: text, media with alt text, content warning, visibility, language."""

    text: str
    media: tuple[MediaDraft, ...] = ()
    content_warning: str = ""
    visibility: str = "public"  # public, unlisted, followers, direct
    language: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class ActionResult:
    """A completed action. `capture` is the archive's view of what the platform now holds."""

    action: str
    remote_id: str = ""
    url: str = ""
    capture: CaptureInput | None = None
    events: tuple[EventInput, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StreamUpdate:
    """What one push-stream event means for the archive.

    `captures` and `events` name items by their remote id like a harvest batch does.
    `deleted_local_ids` are deletions the platform names only by its own local id (the
    Mastodon `delete` event carries the status id, not the uri the archive keys on); the
    machinery finds the held item with `Connector.held_payload_match`.
    """

    event: str
    captures: tuple[CaptureInput, ...] = ()
    events: tuple[EventInput, ...] = ()
    deleted_local_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.captures or self.events or self.deleted_local_ids)


class LiveStream(ABC):
    """A push stream read by a background thread; `next` hands its events over one by one.

    Subclasses start the reader in `start` and call `put(name, payload)` from it for each
    event, `connected_now()` once the platform accepted the subscription, and `ended(error)`
    when it stops. `translate` runs in the caller's thread.
    """

    _END = "\x00end"

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.error: ConnectorError | None = None
        self.received = 0

    # reader side
    def put(self, name: str, payload: Any) -> None:
        self.received += 1
        self._queue.put((name, payload))

    def connected_now(self) -> None:
        self.connected.set()

    def ended(self, error: ConnectorError | None) -> None:
        if error is not None and self.error is None:
            self.error = error
        self._queue.put((self._END, None))

    # caller side
    def next(self, timeout: float) -> StreamUpdate | None:
        """The next event as an update; None if none came within `timeout` seconds.

        Raises `StreamDropped` (or the error that ended the stream, e.g. `AuthError`) once
        every event read before the end has been handed over.
        """
        try:
            name, payload = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if name == self._END:
            self._queue.put((self._END, None))  # stay ended for later calls
            raise self.error or StreamDropped("the stream ended")
        return self.translate(name, payload)

    @abstractmethod
    def start(self) -> LiveStream: ...

    @abstractmethod
    def translate(self, name: str, payload: Any) -> StreamUpdate | None: ...

    @abstractmethod
    def close(self) -> None: ...


# -- retry policy ------------------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter and a cap; no retry storms.

    `sleep` is injectable so tests can record the waits instead of spending them.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0
    retries: int = 0

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1-based): full jitter over 2^attempt."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret

    def wait(self, seconds: float) -> None:
        """Wait within the budget; raise RateLimited if that would exceed it."""
        if self.waited + seconds > self.max_wait:
            raise RateLimited("rate limit outlasts this harvest", retry_after=seconds)
        self.waited += seconds
        self.sleep(seconds)

    def call(self, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except RateLimited as exc:
                attempt += 1
                if attempt >= self.attempts or self.waited + exc.retry_after > self.max_wait:
                    raise
                pause = max(exc.retry_after, self.delay(attempt))
            except (Unavailable, MalformedResponse):
                # A cut-off or garbled body is usually a transient proxy or server fault.
                attempt += 1
                if attempt >= self.attempts:
                    raise
                pause = self.delay(attempt)
            if self.waited + pause > self.max_wait:
                raise Unavailable("platform still failing when the retry budget ran out")
            self.retries += 1
            logger.info("connector retry %s in %.2fs", attempt, pause)
            self.waited += pause
            self.sleep(pause)


# -- the interface -----------------------------------------------------------------------------


class Connector(ABC):
    """One platform, one connected account. See the module docstring for the contract."""

    platform: ClassVar[str]
    #: How far back the platform lets us read, or None when the whole history is reachable.
    #: A gap older than this cannot be back-filled and is marked lost.
    reach_back: ClassVar[dt.timedelta | None] = None

    def __init__(
        self,
        *,
        base_url: str,
        credentials: dict[str, str],
        handle: str = "",
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.handle = handle
        self.policy = policy or RetryPolicy()
        self.timeout = timeout

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.platform}:{self.handle} at {self.base_url}>"

    # reading
    @abstractmethod
    def verify(self) -> Profile: ...

    @abstractmethod
    def harvest(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]: ...

    @abstractmethod
    def fetch_item(self, remote_id: str) -> CaptureInput | None: ...

    def recheck(self, held: list[HeldItem]) -> Iterator[HarvestBatch]:
        """Default: fetch each held item again; a vanished one becomes a `deleted` event."""
        from django.utils import timezone

        batch = HarvestBatch()
        for item in held:
            current = self.fetch_item(item.remote_id)
            if current is None:
                batch.events.append(
                    EventInput(
                        platform=self.platform,
                        remote_id=item.remote_id,
                        type="deleted",
                        occurred_at=timezone.now().replace(second=0, microsecond=0),
                        details={"detected_by": "recheck"},
                    )
                )
            else:
                batch.captures.append(current)
        if batch:
            yield batch

    @abstractmethod
    def search_accounts(self, query: str, limit: int = 20) -> list[Profile]: ...

    #: Whether `open_stream` is implemented.
    supports_streaming: ClassVar[bool] = False

    def open_stream(self) -> LiveStream:
        """Subscribe to the platform's push stream for this account (see LiveStream)."""
        raise NotSupported(f"{self.platform} has no push stream in Narvaro")

    def remote_id_of(self, local_id: str) -> str:
        """The remote id of the item the platform calls `local_id`, if this connector saw it."""
        return ""

    def held_payload_match(self, local_id: str) -> tuple[str, Callable[[str], bool]]:
        """How to find a held item by the platform's local id in the stored raw payloads.

        Returns a substring every stored payload of that item contains (for a narrowing
        database filter) and a predicate that confirms a candidate payload.
        """
        raise NotSupported(f"{self.platform} names every item by its remote id")

    @abstractmethod
    def fetch_profile(self, handle: str) -> Profile: ...

    # acting
    @abstractmethod
    def publish(self, draft: PostDraft) -> ActionResult: ...

    @abstractmethod
    def reply(self, parent_remote_id: str, draft: PostDraft) -> ActionResult: ...

    @abstractmethod
    def delete(self, remote_id: str) -> ActionResult: ...

    def hide_reply(self, remote_id: str) -> ActionResult:
        raise NotSupported(f"{self.platform} cannot hide replies")

    @abstractmethod
    def block(self, account_id: str) -> ActionResult: ...

    @abstractmethod
    def report(
        self, account_id: str, *, remote_ids: tuple[str, ...] = (), comment: str = ""
    ) -> ActionResult: ...
