"""The Mastodon connector, on Mastodon.py.

What a harvest reads, each from its own cursor (the highest id already stored):

- ``statuses``: the account's own statuses, oldest first with ``min_id`` pages, so the cursor
  can be saved after every page. An edited status (``edited_at`` set) yields every version
  from ``/statuses/:id/history``; a status with replies yields the replies in its thread
  (``/statuses/:id/context``).
- ``notifications``: mentions (``types[]=mention``), which carry incoming replies, mentions
  and direct messages.
- ``conversations``: direct-message threads whose last status is new, with the thread's
  earlier statuses from the context.

`recheck` lists the recent own statuses again and fetches recent received ones one by one:
an edit since the last look adds the versions from the history, a status that answers 404
is recorded as deleted. Mastodon has no endpoint listing deletions, so a status created and
deleted entirely between two harvests is not seen (see ADR 0011).

The remote id of a status is its ActivityPub ``uri``, the id the account export uses too,
so an imported export and a harvest of the same account never duplicate each other.

Requests go through `RetryPolicy.call`; Mastodon.py runs with ``ratelimit_method="throw"``
and every Mastodon.py error is translated into the connector errors of `connectors.base`.
``X-RateLimit-Remaining: 0`` makes the next request wait for ``X-RateLimit-Reset`` (within
the policy's budget) instead of spending a request on a certain 429.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon, StreamListener
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonMalformedEventError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from narvaro.archive.capture import CaptureInput, EventInput, MediaInput
from narvaro.channels.connectors.base import (
    ActionRefused,
    ActionResult,
    AuthError,
    Connector,
    ConnectorError,
    HarvestBatch,
    HeldItem,
    LiveStream,
    MalformedResponse,
    PostDraft,
    Profile,
    RateLimited,
    StreamDropped,
    StreamUpdate,
    Unavailable,
)
from narvaro.channels.importers.mastodon import html_to_text

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGE = 40
MAX_REMOTE_ID = 200
# Mastodon's visibilities in the archive's words (as the export importer writes them).
VISIBILITY = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "followers",
    "direct": "direct",
}
TO_MASTODON_VISIBILITY = {v: k for k, v in VISIBILITY.items()}
RECHECK_FETCH_LIMIT = 40
#: Seconds without a byte from the stream before it counts as dropped. Mastodon sends a
#: heartbeat comment about every 15 seconds, so a silent minute means a dead connection.
STREAM_READ_TIMEOUT = 60.0


def _plain(value: Any) -> Any:
    """Mastodon.py's objects as plain JSON values (its datetimes back to ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def _dt(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise MalformedResponse(f"not a timestamp: {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _id(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise MalformedResponse(f"not a Mastodon id: {value!r}") from exc


def _require(record: Any, key: str) -> Any:
    if not isinstance(record, dict) or key not in record:
        raise MalformedResponse(f"a Mastodon object without {key!r}")
    return record[key]


def handle_of(account: dict[str, Any], instance_host: str) -> str:
    """``@user@host`` for any account: local accounts get the instance's host."""
    acct = str(_require(account, "acct"))
    if "@" in acct:
        return f"@{acct}"
    url_host = urlsplit(str(account.get("url") or "")).hostname
    return f"@{acct}@{url_host or instance_host}"


def profile_from(account: dict[str, Any], instance_host: str) -> Profile:
    """A Mastodon Account entity as a Profile (fields keep rel=me `verified_at`)."""
    account = _plain(account)
    fields = []
    for entry in account.get("fields") or []:
        if isinstance(entry, dict):
            fields.append(
                (
                    str(entry.get("name") or ""),
                    html_to_text(str(entry.get("value") or "")),
                    _dt(entry.get("verified_at")),
                )
            )
    return Profile(
        platform="mastodon",
        handle=handle_of(account, instance_host),
        platform_id=str(_require(account, "id")),
        display_name=str(account.get("display_name") or ""),
        url=str(account.get("url") or ""),
        note=html_to_text(str(account.get("note") or "")),
        avatar_url=str(account.get("avatar") or ""),
        created_at=_dt(account.get("created_at")),
        followers=account.get("followers_count"),
        fields=tuple(fields),
        raw=account,
    )


def status_capture(
    status: dict[str, Any],
    *,
    me_id: str,
    instance_host: str,
    media: tuple[MediaInput, ...] = (),
    parent_remote_id: str = "",
    version: dict[str, Any] | None = None,
) -> CaptureInput:
    """One Mastodon Status as a capture; with `version` (a StatusEdit), that version of it.

    Identity and metadata come from the status, the content (text, HTML, content warning)
    from the version when one is given. Pure: recorded API bodies go through it unchanged.
    """
    status = _plain(status)
    content_from = _plain(version) if version is not None else status
    remote_id = str(status.get("uri") or _require(status, "id"))[:MAX_REMOTE_ID]
    author = _require(status, "account")
    author_id = str(_require(author, "id"))
    html = str(content_from.get("content") or "")
    text = html_to_text(html)
    warning = content_from.get("spoiler_text") or ""
    if warning:
        text = f"{warning}\n\n{text}" if text else str(warning)
    visibility = VISIBILITY.get(str(status.get("visibility") or ""), str(status.get("visibility")))
    own = author_id == me_id
    if status.get("reblog"):
        kind = "share"
    elif visibility == "direct":
        kind = "dm"
    elif own:
        kind = "reply" if status.get("in_reply_to_id") else "post"
    elif status.get("in_reply_to_id"):
        kind = "reply"
    else:
        kind = "mention"
    permalink = str(status.get("url") or status.get("uri") or "")
    if not permalink.startswith(("http://", "https://")):
        permalink = ""
    return CaptureInput(
        platform="mastodon",
        remote_id=remote_id,
        kind=kind,
        direction="drawn_up" if own else "received",
        text=text,
        html=html,
        raw_payload=json.dumps(
            status if version is None else _version_payload(status, content_from),
            ensure_ascii=False,
            sort_keys=True,
        ),
        author_handle=handle_of(author, instance_host),
        author_name=str(author.get("display_name") or ""),
        author_platform_id=author_id[:200],
        parent_remote_id=parent_remote_id[:MAX_REMOTE_ID],
        permalink=permalink[:1000],
        visibility=visibility,
        created_at=_dt(status.get("created_at")),
        media=media,
    )


def _version_payload(status: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """A StatusEdit as stored: wrapped with the status's identity and edit state."""
    return {
        "id": status.get("id"),
        "uri": status.get("uri"),
        "account": {"id": status["account"]["id"], "acct": status["account"].get("acct")},
        "edited_at": status.get("edited_at"),
        "replies_count": status.get("replies_count"),
        "status_edit": version,
    }


def rate_limit_wait(headers: Any, *, now: float) -> float:
    """Seconds to wait before the next request, from X-RateLimit-Remaining/Reset (0: none).

    Mastodon writes the reset as an ISO timestamp; some servers write epoch seconds.
    """
    remaining = headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset")
    if remaining is None or reset is None:
        return 0.0
    try:
        if int(str(remaining)) > 0:
            return 0.0
    except ValueError:
        return 0.0
    try:
        at = float(reset)
    except ValueError:
        parsed = _dt(str(reset))
        if parsed is None:
            return 0.0
        at = parsed.timestamp()
    return max(0.0, at - now)


def media_descriptions(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(url, content type guess, alt text) of each attachment of a status or a version."""
    out = []
    for attachment in record.get("media_attachments") or []:
        if not isinstance(attachment, dict):
            raise MalformedResponse("an attachment that is not an object")
        url = str(attachment.get("url") or attachment.get("remote_url") or "")
        kind = str(attachment.get("type") or "")
        out.append((url, kind, str(attachment.get("description") or "")))
    return out


class MastodonConnector(Connector):
    platform = "mastodon"
    reach_back = None  # every status, notification and conversation stays readable

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = requests.Session()
        self.last_response: requests.Response | None = None
        self.session.hooks["response"].append(self._remember)
        token = self.credentials.get("access_token", "")
        self.api = Mastodon(
            access_token=token,
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=self.timeout,
            session=self.session,
            version_check_mode="none",
        )
        self.instance_host = urlsplit(self.base_url).hostname or ""
        self._me: Profile | None = None
        self._media_cache: dict[str, bytes] = {}
        self._uri_of: dict[str, str] = {}
        self._cursor: dict[str, str] = {}

    # -- requests ---------------------------------------------------------------------------

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response

    def _retry_after(self) -> float:
        response = self.last_response
        if response is None:
            return 60.0
        header = response.headers.get("Retry-After")
        if header:
            try:
                return float(header)
            except ValueError:
                try:
                    return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
        reset = self.api.ratelimit_reset
        if reset:
            return max(1.0, float(reset) - time.time())
        return 60.0

    def _request(self, fn: Callable[[], T]) -> T:
        try:
            result = fn()
        except MastodonUnauthorizedError as exc:
            raise AuthError(f"Mastodon refused the token: {_message(exc)}") from exc
        except MastodonRatelimitError as exc:
            raise RateLimited("Mastodon rate limit", retry_after=self._retry_after()) from exc
        except (MastodonServerError, MastodonNetworkError) as exc:
            raise Unavailable(f"Mastodon unavailable: {_message(exc)}") from exc
        except MastodonNotFoundError:
            raise
        except MastodonAPIError as exc:
            text = str(exc)
            if "Could not parse response" in text:
                raise MalformedResponse(
                    f"Mastodon answered with unreadable JSON: {text[:200]}"
                ) from exc
            status = exc.args[1] if len(exc.args) > 1 else None
            if status == 403 and "token" in text.lower():
                raise AuthError(f"Mastodon refused the token: {_message(exc)}") from exc
            raise ActionRefused(f"Mastodon refused the request: {_message(exc)}") from exc
        except (MastodonIllegalArgumentError, ValueError, TypeError, KeyError) as exc:
            raise MalformedResponse(f"Mastodon answered with an unexpected shape: {exc}") from exc
        except MastodonError as exc:
            raise Unavailable(f"Mastodon error: {exc}") from exc
        self._pace()
        return result

    def _pace(self) -> None:
        """X-RateLimit-Remaining at zero: wait for the reset rather than earn a 429."""
        response = self.last_response
        if response is None or response.status_code == 429:
            return
        wait = rate_limit_wait(response.headers, now=time.time())
        if wait > 0:
            self.policy.wait(wait)

    def call(self, fn: Callable[[], T]) -> T:
        """One API request with retries (see RetryPolicy)."""
        return self.policy.call(lambda: self._request(fn))

    def _download(self, url: str) -> bytes:
        if url in self._media_cache:
            return self._media_cache[url]

        def fetch() -> bytes:
            try:
                response = self.session.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                raise Unavailable(f"media download failed: {exc}") from exc
            if response.status_code == 429:
                raise RateLimited("media rate limit", retry_after=self._retry_after())
            if response.status_code >= 500:
                raise Unavailable(f"media download answered {response.status_code}")
            if response.status_code >= 400:
                raise ActionRefused(f"media download answered {response.status_code}")
            return response.content

        try:
            data = self.policy.call(fetch)
        except ActionRefused:
            data = b""
        self._media_cache[url] = data
        return data

    # -- mapping ----------------------------------------------------------------------------

    def _media(self, record: dict[str, Any]) -> tuple[MediaInput, ...]:
        media = []
        for url, kind, alt in media_descriptions(_plain(record)):
            data = self._download(url) if url else b""
            media.append(
                MediaInput(
                    original_name=url,
                    content=data or None,
                    content_type=_content_type(url, kind),
                    alt_text=alt,
                )
            )
        return tuple(media)

    def _parent_uri(self, status: dict[str, Any]) -> str:
        parent = status.get("in_reply_to_id")
        if not parent:
            return ""
        key = str(parent)
        if key not in self._uri_of:
            try:
                found = self.call(lambda: self.api.status(key))
                self._uri_of[key] = str(found.get("uri") or "")
            except MastodonNotFoundError:
                self._uri_of[key] = ""
        return self._uri_of[key]

    def _captures(self, status: dict[str, Any], *, history: bool) -> list[CaptureInput]:
        """The capture of a status; with `history` and an edit, one capture per version."""
        me = self.me().platform_id
        self._uri_of[str(status["id"])] = str(status.get("uri") or "")
        parent = self._parent_uri(status)
        captures = []
        if history and status.get("edited_at"):
            versions = self.call(lambda: self.api.status_history(status["id"]))
            # The last entry is the current state; the status itself carries it in full
            # (mastodon-mock leaves media out of history entries, see ADR 0011).
            for version in list(versions)[:-1]:
                captures.append(
                    status_capture(
                        status,
                        me_id=me,
                        instance_host=self.instance_host,
                        media=self._media(version),
                        parent_remote_id=parent,
                        version=version,
                    )
                )
        captures.append(
            status_capture(
                status,
                me_id=me,
                instance_host=self.instance_host,
                media=self._media(status),
                parent_remote_id=parent,
            )
        )
        return captures

    def _thread_replies(self, status: dict[str, Any]) -> list[CaptureInput]:
        context = self.call(lambda: self.api.status_context(status["id"]))
        captures: list[CaptureInput] = []
        for reply in context.get("descendants") or []:
            captures.extend(self._captures(reply, history=True))
        return captures

    # -- reading ----------------------------------------------------------------------------

    def me(self) -> Profile:
        if self._me is None:
            self._me = self.verify()
        return self._me

    def verify(self) -> Profile:
        account = self.call(self.api.account_verify_credentials)
        self._me = profile_from(account, self.instance_host)
        return self._me

    def harvest(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]:
        self._cursor = dict(cursor)
        me = self.me()
        yield from self._own_statuses(me, cursor.get("statuses", "0"))
        yield from self._mentions(cursor.get("notifications", "0"))
        yield from self._conversations(cursor.get("conversations", "0"))

    def _own_statuses(self, me: Profile, since: str) -> Iterator[HarvestBatch]:
        cursor = _id(since)
        while True:
            page = self.call(
                lambda c=cursor: self.api.account_statuses(me.platform_id, min_id=c, limit=PAGE)  # type: ignore[misc]
            )
            statuses = sorted(page, key=lambda s: _id(s["id"]))
            statuses = [s for s in statuses if _id(s["id"]) > cursor]
            if not statuses:
                return
            batch = HarvestBatch()
            for status in statuses:
                batch.captures.extend(self._captures(status, history=True))
                if status.get("replies_count"):
                    batch.captures.extend(self._thread_replies(status))
            cursor = _id(statuses[-1]["id"])
            batch.cursor = {"statuses": str(cursor)}
            yield batch

    def _mentions(self, since: str) -> Iterator[HarvestBatch]:
        cursor = _id(since)
        while True:
            page = self.call(
                lambda c=cursor: self.api.notifications(min_id=c, limit=PAGE, types=["mention"])  # type: ignore[misc]
            )
            notes = sorted(page, key=lambda n: _id(n["id"]))
            notes = [n for n in notes if _id(n["id"]) > cursor]
            if not notes:
                return
            batch = HarvestBatch()
            for note in notes:
                status = note.get("status")
                if isinstance(status, dict):
                    batch.captures.extend(self._captures(status, history=True))
            cursor = _id(notes[-1]["id"])
            batch.cursor = {"notifications": str(cursor)}
            yield batch

    def _conversations(self, since: str) -> Iterator[HarvestBatch]:
        """Conversations come newest first; walk back until nothing is newer than the cursor."""
        seen = _id(since)
        newest = seen
        batch = HarvestBatch()
        page: Any = self.call(lambda: self.api.conversations(limit=PAGE))
        while page:
            fresh = False
            for conversation in page:
                last = conversation.get("last_status")
                if not isinstance(last, dict) or _id(last["id"]) <= seen:
                    continue
                fresh = True
                newest = max(newest, _id(last["id"]))
                context = self.call(lambda s=last: self.api.status_context(s["id"]))  # type: ignore[misc]
                for status in [*(context.get("ancestors") or []), last]:
                    batch.captures.extend(self._captures(status, history=True))
            if not fresh:
                break
            page = self.call(lambda p=page: self.api.fetch_next(p))  # type: ignore[misc]
        # Conversations are read newest first, so the cursor moves only once all are stored.
        batch.cursor = {"conversations": str(newest)}
        if batch or newest != seen:
            yield batch

    def recheck(self, held: list[HeldItem]) -> Iterator[HarvestBatch]:
        me = self.me()
        own: dict[str, tuple[HeldItem, dict[str, Any]]] = {}
        others: list[tuple[HeldItem, dict[str, Any]]] = []
        for item in held:
            try:
                payload = json.loads(item.raw_payload) if item.raw_payload else {}
            except ValueError:
                continue
            if not isinstance(payload, dict) or "id" not in payload or "account" not in payload:
                continue  # an imported item or a stored edit version: nothing to compare with
            if str(payload["account"].get("id")) == me.platform_id:
                own[str(payload["id"])] = (item, payload)
            else:
                others.append((item, payload))
        batch = HarvestBatch()
        if own:
            oldest = min(_id(k) for k in own)
            listed: dict[str, dict[str, Any]] = {}
            page: Any = self.call(lambda: self.api.account_statuses(me.platform_id, limit=PAGE))
            pages = 0
            while page and pages < 25:
                pages += 1
                for status in page:
                    listed[str(status["id"])] = status
                if min(_id(s["id"]) for s in page) <= oldest:
                    break
                page = self.call(lambda p=page: self.api.fetch_next(p))  # type: ignore[misc]
            for local_id, (item, payload) in own.items():
                status = listed.get(local_id)
                if status is None:
                    status = self._fetch_local(local_id)
                if status is None:
                    batch.events.append(_deleted(item.remote_id))
                    continue
                batch.captures.extend(self._changed(status, payload))
        # Received statuses are fetched one by one, at most RECHECK_FETCH_LIMIT a harvest;
        # when more are held, each harvest takes the next ones (the offset is in the cursor),
        # so every recent reply, mention and DM is looked at again within a few harvests.
        chosen = others
        if len(others) > RECHECK_FETCH_LIMIT:
            start = _id(self._cursor.get("recheck_offset", "0") or "0") % len(others)
            chosen = (others[start:] + others[:start])[:RECHECK_FETCH_LIMIT]
            batch.cursor = {"recheck_offset": str((start + RECHECK_FETCH_LIMIT) % len(others))}
        for item, payload in chosen:
            status = self._fetch_local(str(payload["id"]))
            if status is None:
                batch.events.append(_deleted(item.remote_id))
            else:
                batch.captures.extend(self._changed(status, payload))
        if batch or batch.cursor:
            yield batch

    def _changed(self, status: dict[str, Any], stored: dict[str, Any]) -> list[CaptureInput]:
        """Captures for what changed since `stored`: versions if edited, new thread replies."""
        current = _plain(status)
        edited = current.get("edited_at") != stored.get("edited_at")
        captures = self._captures(status, history=edited)
        if current.get("replies_count") and current.get("replies_count") != stored.get(
            "replies_count"
        ):
            captures.extend(self._thread_replies(status))
        return captures

    def _fetch_local(self, local_id: str) -> Any:
        try:
            return self.call(lambda: self.api.status(local_id))
        except MastodonNotFoundError:
            return None

    def _local_id(self, remote_id: str) -> str:
        """The instance's id of a status named by its uri (or already by its id)."""
        if remote_id.isdigit():
            return remote_id
        match = re.search(r"/(\d+)/?$", remote_id)
        if match:
            status = self._fetch_local(match.group(1))
            if status is not None and str(status.get("uri")) == remote_id:
                return match.group(1)
        found = self.call(
            lambda: self.api.search_v2(remote_id, resolve=True, result_type="statuses")
        )
        for status in found.get("statuses") or []:
            if str(status.get("uri")) == remote_id:
                return str(status["id"])
        raise ActionRefused(f"no status {remote_id} on {self.instance_host}")

    def fetch_item(self, remote_id: str) -> CaptureInput | None:
        try:
            local = self._local_id(remote_id)
        except ActionRefused:
            return None
        status = self._fetch_local(local)
        if status is None:
            return None
        return self._captures(status, history=False)[-1]

    def search_accounts(self, query: str, limit: int = 20) -> list[Profile]:
        found = self.call(lambda: self.api.account_search(query, limit=limit))
        return [profile_from(account, self.instance_host) for account in found]

    def fetch_profile(self, handle: str) -> Profile:
        try:
            account = self.call(lambda: self.api.account_lookup(handle.lstrip("@")))
        except MastodonNotFoundError as exc:
            raise ActionRefused(f"no account {handle}") from exc
        return profile_from(account, self.instance_host)

    # -- streaming --------------------------------------------------------------------------

    supports_streaming = True

    def open_stream(self, *, read_timeout: float = STREAM_READ_TIMEOUT) -> MastodonStream:
        """The account's user stream (home timeline and notifications), already reading."""
        self.me()  # a refused token is an AuthError here, not an endless reconnect
        return MastodonStream(self, read_timeout=read_timeout).start()

    def remote_id_of(self, local_id: str) -> str:
        return self._uri_of.get(str(local_id), "")

    def held_payload_match(self, local_id: str) -> tuple[str, Callable[[str], bool]]:
        """Every payload the connector stores for a status has the status id at the top."""
        wanted = str(local_id)

        def matches(raw_payload: str) -> bool:
            try:
                payload = json.loads(raw_payload)
            except ValueError:
                return False
            return isinstance(payload, dict) and str(payload.get("id")) == wanted

        return wanted, matches

    def concerns_me(self, status: dict[str, Any]) -> bool:
        """Whether a streamed status belongs in the archive: own, a reply to us, or a mention.

        The user stream also carries the home timeline (everyone the account follows);
        those statuses are not the organisation's records and are left out.
        """
        me = self.me().platform_id
        account = status.get("account") or {}
        if str(account.get("id")) == me:
            return True
        if str(status.get("in_reply_to_account_id") or "") == me:
            return True
        return any(str(m.get("id")) == me for m in status.get("mentions") or [])

    def stream_update(self, name: str, payload: Any) -> StreamUpdate | None:
        """One user-stream event as archive values; None for events the archive ignores.

        ``status.update`` is Mastodon's edit event; mastodon-mock sends ``status_update``.
        """
        if name == "update" and isinstance(payload, dict):
            if not self.concerns_me(payload):
                return None
            return StreamUpdate(name, captures=tuple(self._captures(payload, history=True)))
        if name in {"status.update", "status_update"} and isinstance(payload, dict):
            if not self.concerns_me(payload):
                return None
            return StreamUpdate(name, captures=tuple(self._captures(payload, history=True)))
        if name == "delete" and payload is not None:
            return StreamUpdate(name, deleted_local_ids=(str(payload),))
        if name == "notification" and isinstance(payload, dict):
            status = payload.get("status")
            if payload.get("type") == "mention" and isinstance(status, dict):
                return StreamUpdate(name, captures=tuple(self._captures(status, history=True)))
        return None

    # -- acting -----------------------------------------------------------------------------

    def _post(self, draft: PostDraft, *, in_reply_to: str | None) -> ActionResult:
        media_ids = []
        for media in draft.media:
            if not media.alt_text.strip():
                raise ActionRefused("every image needs alt text")
            uploaded = self.call(
                lambda m=media: self.api.media_post(  # type: ignore[misc]
                    m.content,
                    mime_type=m.content_type,
                    description=m.alt_text,
                    file_name=m.file_name,
                )
            )
            media_ids.append(uploaded["id"])
        visibility = TO_MASTODON_VISIBILITY.get(draft.visibility, draft.visibility)
        # No retries for the post itself unless an idempotency key makes a repeat harmless.
        send = lambda: self.api.status_post(  # noqa: E731
            draft.text,
            in_reply_to_id=in_reply_to,
            media_ids=media_ids or None,
            spoiler_text=draft.content_warning or None,
            sensitive=bool(draft.content_warning),
            visibility=visibility or None,
            language=draft.language or None,
            idempotency_key=draft.idempotency_key or None,
        )
        status = self.call(send) if draft.idempotency_key else self._request(send)
        capture = self._captures(status, history=False)[-1]
        return ActionResult(
            action="reply" if in_reply_to else "publish",
            remote_id=capture.remote_id,
            url=capture.permalink,
            capture=capture,
            raw=_plain(status),
        )

    def publish(self, draft: PostDraft) -> ActionResult:
        return self._post(draft, in_reply_to=None)

    def reply(self, parent_remote_id: str, draft: PostDraft) -> ActionResult:
        return self._post(draft, in_reply_to=self._local_id(parent_remote_id))

    def delete(self, remote_id: str) -> ActionResult:
        local = self._local_id(remote_id)
        try:
            self._request(lambda: self.api.status_delete(local))
        except MastodonNotFoundError as exc:
            raise ActionRefused(f"no status {remote_id}") from exc
        return ActionResult(action="delete", remote_id=remote_id, events=(_deleted(remote_id),))

    def _account_id(self, account: str) -> str:
        if account.isdigit():
            return account
        return self.fetch_profile(account).platform_id

    def block(self, account_id: str) -> ActionResult:
        target = self._account_id(account_id)
        try:
            relationship = self.call(lambda: self.api.account_block(target))
        except MastodonNotFoundError as exc:
            raise ActionRefused(f"no account {account_id}") from exc
        if not relationship.get("blocking"):
            raise ActionRefused(f"Mastodon did not confirm the block of {account_id}")
        return ActionResult(action="block", remote_id=target, raw=_plain(relationship))

    def report(
        self, account_id: str, *, remote_ids: tuple[str, ...] = (), comment: str = ""
    ) -> ActionResult:
        target = self._account_id(account_id)
        status_ids = [self._local_id(r) for r in remote_ids]
        try:
            report = self._request(
                lambda: self.api.report(target, status_ids=status_ids or None, comment=comment)
            )
        except MastodonNotFoundError as exc:
            raise ActionRefused(f"no account {account_id}") from exc
        return ActionResult(
            action="report",
            remote_id=str(report.get("id") or ""),
            events=tuple(
                EventInput(
                    platform="mastodon",
                    remote_id=r,
                    type="reported",
                    occurred_at=_now(),
                    details={"report": str(report.get("id") or ""), "comment": comment},
                )
                for r in remote_ids
            ),
            raw=_plain(report),
        )


class _Closed(Exception):
    """Raised inside the reader thread to leave Mastodon.py's blocking stream loop."""


class _Listener(StreamListener):
    """Hands every user-stream event to the MastodonStream; never translates anything here."""

    def __init__(self, stream: MastodonStream) -> None:
        self.stream = stream
        self.response: requests.Response | None = None

    def handle_stream(self, response: requests.Response) -> None:
        self.response = response
        if self.stream.closed.is_set():
            raise _Closed
        super().handle_stream(response)

    def handle_heartbeat(self) -> None:
        # Mastodon (and mastodon-mock) open the stream with a comment line: subscribed.
        self.stream.connected_now()
        if self.stream.closed.is_set():
            raise _Closed

    def on_any_event(self, name: str, data: Any = None, for_stream: Any = None) -> None:
        self.stream.connected_now()
        if self.stream.closed.is_set():
            raise _Closed
        self.stream.put(name, data)

    # Every event goes through on_any_event; the specific handlers must not raise.
    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        return None


class MastodonStream(LiveStream):
    """The user stream (``/api/v1/streaming/user``, Server-Sent Events) via Mastodon.py.

    The reader thread uses a Mastodon.py client and HTTP session of its own; events are
    translated by the connector in the caller's thread (`next`).
    """

    def __init__(self, connector: MastodonConnector, *, read_timeout: float) -> None:
        super().__init__()
        self.connector = connector
        self.read_timeout = read_timeout
        self.status_code: int | None = None
        self._listener = _Listener(self)
        self._thread: threading.Thread | None = None

    def start(self) -> MastodonStream:
        self._thread = threading.Thread(
            target=self._run, name=f"mastodon-stream {self.connector.handle}", daemon=True
        )
        self._thread.start()
        return self

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.status_code = response.status_code

    def _run(self) -> None:
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        api = Mastodon(
            access_token=self.connector.credentials.get("access_token", ""),
            api_base_url=self.connector.base_url,
            request_timeout=self.connector.timeout,
            session=session,
            version_check_mode="none",
        )
        error: ConnectorError | None = None
        try:
            api.stream_user(self._listener, run_async=False, timeout=self.read_timeout)
            error = StreamDropped("the instance closed the stream")
        except _Closed:
            error = None
        except MastodonUnauthorizedError as exc:
            error = AuthError(f"Mastodon refused the token for streaming: {_message(exc)}")
        except (MastodonNetworkError, MastodonMalformedEventError, MastodonError) as exc:
            if self.closed.is_set():
                error = None
            elif self.status_code in {401, 403}:
                error = AuthError(f"Mastodon refused the token for streaming: {_message(exc)}")
            elif self.status_code == 404:
                error = StreamDropped("streaming is switched off on this instance (404)")
            else:
                error = StreamDropped(f"the stream dropped: {_message(exc)}")
        except Exception as exc:  # a broken connection surfaces in many shapes
            error = None if self.closed.is_set() else StreamDropped(f"the stream dropped: {exc}")
        finally:
            session.close()
            self.ended(error)

    def translate(self, name: str, payload: Any) -> StreamUpdate | None:
        return self.connector.stream_update(name, payload)

    def close(self) -> None:
        """Stop reading: shut the socket down so a blocking read returns at once."""
        self.closed.set()
        response = self._listener.response
        if response is not None:
            with contextlib.suppress(Exception):
                sock = response.raw._connection.sock  # type: ignore[union-attr]
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                response.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _deleted(remote_id: str) -> EventInput:
    return EventInput(
        platform="mastodon",
        remote_id=remote_id,
        type="deleted",
        occurred_at=_now(),
        details={"detected_by": "mastodon recheck (404)"},
    )


def _message(exc: Exception) -> str:
    args = [str(a) for a in getattr(exc, "args", ()) if a]
    return args[-1] if args else type(exc).__name__


def _content_type(url: str, kind: str) -> str:
    import mimetypes

    guessed = mimetypes.guess_type(urlsplit(url).path)[0]
    if guessed:
        return guessed
    return {
        "image": "image/jpeg",
        "video": "video/mp4",
        "gifv": "video/mp4",
        "audio": "audio/mpeg",
    }.get(kind, "")


# -- OAuth sign-in (app registration + authorization code, out of band) -------------------------

OAUTH_SCOPES = ["read", "write", "follow"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _loopback(base_url: str) -> bool:
    """Plain http is allowed for OAuth only on this machine (a local test server)."""
    return urlsplit(base_url).hostname in {"127.0.0.1", "localhost", "::1"}


def oauth_register(
    base_url: str, redirect_uri: str, *, app_name: str = "Narvaro"
) -> dict[str, str]:
    """Register Narvaro as an app on the instance; return its client id and secret."""
    try:
        client_id, client_secret = Mastodon.create_app(
            app_name,
            scopes=OAUTH_SCOPES,
            redirect_uris=redirect_uri,
            api_base_url=base_url,
            request_timeout=10,
        )
    except MastodonError as exc:
        raise Unavailable(f"could not register with {base_url}: {_message(exc)}") from exc
    return {"client_id": str(client_id), "client_secret": str(client_secret)}


def oauth_authorize_url(
    base_url: str, client: dict[str, str], redirect_uri: str, *, state: str = ""
) -> str:
    """The instance's sign-in address for this client (authorization code flow)."""
    api = Mastodon(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        api_base_url=base_url,
        version_check_mode="none",
        request_timeout=10,
    )
    try:
        url = api.auth_request_url(
            redirect_uris=redirect_uri,
            scopes=OAUTH_SCOPES,
            state=state or None,
            allow_http=_loopback(base_url),
        )
    except MastodonError as exc:
        raise Unavailable(f"{base_url} gave no sign-in address: {_message(exc)}") from exc
    return str(url)


def oauth_exchange(base_url: str, client: dict[str, str], code: str, redirect_uri: str) -> str:
    """Exchange an authorization code for an access token."""
    api = Mastodon(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        api_base_url=base_url,
        version_check_mode="none",
        request_timeout=10,
    )
    try:
        token = api.log_in(
            code=code.strip(),
            redirect_uri=redirect_uri,
            scopes=OAUTH_SCOPES,
            allow_http=_loopback(base_url),
        )
    except MastodonError as exc:
        raise AuthError(f"the instance refused the code: {_message(exc)}") from exc
    return str(token)


def oauth_revoke(base_url: str, client: dict[str, str], token: str) -> None:
    """Give back a token Narvaro will not use (best effort: a failure changes nothing here)."""
    api = Mastodon(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        access_token=token,
        api_base_url=base_url,
        version_check_mode="none",
        request_timeout=10,
    )
    with contextlib.suppress(MastodonError, requests.RequestException):
        api.revoke_access_token()


def oauth_start(base_url: str, *, app_name: str = "Narvaro") -> tuple[dict[str, str], str]:
    """Register Narvaro as an app on the instance; return its client and the sign-in address.

    The person opens the address, signs in on their instance, approves, and is shown a code
    (out-of-band redirect; the command line's flow).
    """
    client = oauth_register(base_url, OOB, app_name=app_name)
    return client, oauth_authorize_url(base_url, client, OOB)


def oauth_finish(base_url: str, client: dict[str, str], code: str) -> dict[str, str]:
    """Exchange the code the person was shown for an access token; return the credentials."""
    return {**client, "access_token": oauth_exchange(base_url, client, code, OOB)}
