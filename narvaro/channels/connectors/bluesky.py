"""The Bluesky connector, on the `atproto` SDK, against the account's PDS.

Signing in: an app password. `Client.login()` is not used, because it also asks the AppView
for the profile and so fails on a PDS that has none; the connector creates the session with
`com.atproto.server.createSession` (the SDK then follows the PDS named in the session's DID
document and refreshes the access token itself).

What a harvest reads: the account's repository as a CAR (`com.atproto.sync.getRepo`), once
per new commit (`getLatestCommit`'s `rev` is the cursor, so an unchanged repository costs one
small request). Once a full export has been read, later harvests ask only for what changed
(`getRepo?since=REV`: the blocks written after that revision, i.e. new and changed records
and the tree nodes above them) and fetch blobs only for those records; a full export is read
again once a day (`FULL_EXPORT_EVERY`) to re-anchor the listing (see `diff_walk`). The
records are mapped by the export importer (`narvaro.channels.importers.bluesky`), so a
harvest and an imported `repo.car` of the same account store the same items: posts,
replies, reposts; images and video are fetched with
`com.atproto.sync.getBlob` and archived with their alt text. A record changed with
`putRecord` has new content and becomes a new version of its item.

Deletions: a deleted record is gone from the repository. The cursor keeps the listing of
the account's posts and reposts ("p/RKEY,r/RKEY,..."; about 15 bytes a record) beside the
`rev`; a record in the previous listing that the new export lacks is reported as deleted,
however old it is. `recheck` also compares the recent items the archive holds with
`listRecords`, which covers items captured before the cursor held a listing. The firehose
(`subscribeRepos`) is not used; see ADR 0012.

What needs an AppView (profiles, actor search, notifications: replies, mentions and quotes
by others): `fetch_profile`, `search_accounts` and the harvest's notifications step call
`app.bsky.*` through the PDS, which proxies them to its AppView. A PDS with no AppView
configured answers "No service configured", which is `NotSupported`; an AppView that is
down answers 502, which is `Unavailable`. Either way a harvest with notifications on fails
and the machinery records the gap; `NARVARO_BLUESKY_NOTIFICATIONS=False` turns the step off
for a PDS that has no AppView (ADR 0012). Notifications are read back a day before the
newest one stored, since their `indexedAt` follows a backdated post's `createdAt`.

Requests go through `RetryPolicy.call`; the SDK's errors become the connector errors of
`connectors.base` (401 → AuthError, 429 → RateLimited with the reset time, 5xx and transport
failures → Unavailable, "No service configured" → NotSupported, other 4xx → ActionRefused).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import libipld
from atproto_client import Client
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.dot_dict import DotDict
from atproto_client.request import Request, Response
from atproto_core.exceptions import AtProtocolError
from django.conf import settings

from narvaro.archive.capture import CaptureInput, EventInput
from narvaro.channels.connectors.base import (
    ActionRefused,
    ActionResult,
    AuthError,
    Connector,
    HarvestBatch,
    HeldItem,
    MalformedResponse,
    NotSupported,
    PostDraft,
    Profile,
    RateLimited,
    Unavailable,
)
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.importers.bluesky import (
    POST,
    REPOST,
    BlueskyRepoImporter,
    car_sections,
    cid_str,
    decode_record,
    parse_datetime,
)
from narvaro.channels.importers.bluesky import record_capture as import_record_capture

T = TypeVar("T")

PAGE = 100
BLOCK = "app.bsky.graph.block"
THREADGATE = "app.bsky.feed.threadgate"
MAX_IMAGES = 4
# Errors by which the PDS says the session or the app password no longer holds.
_AUTH_ERRORS = {
    "AuthenticationRequired",
    "ExpiredToken",
    "InvalidToken",
    "AccountTakedown",
    "AccountDeactivated",
}
_NOT_FOUND = {"RecordNotFound", "BlobNotFound", "RepoNotFound", "NotFound"}
_AT_URI = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[a-zA-Z0-9.-]+)/(?P<rkey>[^/]+)$")


def split_uri(uri: str) -> tuple[str, str, str]:
    """(repo, collection, rkey) of an AT-URI; ActionRefused when it is not one."""
    match = _AT_URI.match(uri)
    if not match:
        raise ActionRefused(f"not an AT-URI of a record: {uri!r}")
    return match["repo"], match["collection"], match["rkey"]


def _now() -> str:
    """An atproto datetime for `createdAt` (UTC, milliseconds, Z)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error_name(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    name = getattr(content, "error", None)
    if name is None and isinstance(content, dict):
        name = content.get("error")
    return str(name or "")


def translate(exc: Exception) -> Exception:
    """The connector error for an SDK error (the SDK's class alone is not enough)."""
    if isinstance(exc, LoginRequiredError):
        return AuthError("not signed in")
    if isinstance(exc, RateLimitExceededError):
        # Retry-After when sent; else the window's RateLimit-Reset (epoch seconds).
        wait = exc.retry_after
        if wait is None and exc.reset_at is not None:
            wait = max(1.0, (exc.reset_at - dt.datetime.now(dt.UTC)).total_seconds())
        return RateLimited(str(exc), retry_after=wait if wait is not None else 60.0)
    if isinstance(exc, ModelError):
        return MalformedResponse(f"unreadable answer from the PDS: {exc}")
    if not isinstance(exc, RequestErrorBase):
        return exc
    status = exc.response.status_code if exc.response is not None else None
    name = _error_name(exc)
    if status is None or (isinstance(exc, NetworkError) and status >= 500):
        return Unavailable(f"the PDS did not answer usefully: {exc}")
    if "No service configured" in str(exc):
        # The PDS has no AppView (or moderation service) to proxy this method to.
        return NotSupported(f"this PDS does not offer it: {exc}")
    if status == 401 or name in _AUTH_ERRORS:
        return AuthError(f"the PDS refused the credentials: {exc}")
    if status >= 500:
        return Unavailable(f"the PDS failed ({status}): {exc}")
    if isinstance(exc, UnauthorizedError | BadRequestError | NetworkError):
        return ActionRefused(f"the PDS refused the request ({status}): {exc}")
    return ActionRefused(f"the PDS answered {status}: {exc}")


def _json(response: Response) -> dict[str, Any]:
    if not isinstance(response.content, dict):
        raise MalformedResponse("the PDS answered something other than a JSON object")
    return response.content


def record_capture(
    *, did: str, handle: str, uri: str, cid: str, record: dict[str, Any]
) -> CaptureInput | None:
    """A post, reply or repost record as the archive's capture (the importer's mapping).

    None for other collections (likes, follows, the profile…), which are not items.
    """
    _, collection, rkey = split_uri(uri)
    if collection not in (POST, REPOST):
        return None
    return import_record_capture(
        did=did, handle=handle, collection=collection, rkey=rkey, cid=cid, record=record
    )


_SHORT = {POST: "p", REPOST: "r"}
_LONG = {v: k for k, v in _SHORT.items()}


def _short(uri: str) -> str:
    """A post or repost URI in the cursor's listing: "p/RKEY" or "r/RKEY"."""
    _, collection, rkey = split_uri(uri)
    return f"{_SHORT[collection]}/{rkey}"


def _long(did: str, key: str) -> str:
    kind, _, rkey = key.partition("/")
    return f"at://{did}/{_LONG[kind]}/{rkey}"


#: How far before the newest notification already stored a harvest reads again.
NOTIFICATION_OVERLAP = dt.timedelta(days=1)
#: Notification reasons that carry a post addressed to the account, as archive kinds.
NOTIFICATION_KINDS = {"reply": "reply", "mention": "mention", "quote": "mention"}


def notification_capture(note: Any) -> CaptureInput | None:
    """A reply, mention or quote notification as a received capture; None for the rest.

    The post itself is mapped like the account's own records (the importer's mapping), with
    its author and direction taken from the notification.
    """
    if not isinstance(note, dict) or note.get("reason") not in NOTIFICATION_KINDS:
        return None
    author, record = note.get("author"), note.get("record")
    uri, cid = note.get("uri"), note.get("cid")
    if not isinstance(author, dict) or not isinstance(record, dict) or not isinstance(uri, str):
        raise MalformedResponse("a notification without author, record or uri")
    did, handle = str(author.get("did") or ""), str(author.get("handle") or "")
    capture = record_capture(did=did, handle=handle, uri=uri, cid=str(cid or ""), record=record)
    if capture is None:
        return None
    kind = "reply" if capture.kind == "reply" else NOTIFICATION_KINDS[str(note["reason"])]
    return dataclasses.replace(
        capture,
        kind=kind,
        direction="received",
        author_name=str(author.get("displayName") or ""),
    )


def profile_from_view(view: dict[str, Any]) -> Profile:
    """An `app.bsky.actor.defs#profileView(Detailed)` as a Profile."""
    try:
        handle, did = str(view["handle"]), str(view["did"])
    except (KeyError, TypeError) as exc:
        raise MalformedResponse(f"a Bluesky profile without {exc}") from exc
    followers = view.get("followersCount")
    return Profile(
        platform="bluesky",
        handle=handle,
        platform_id=did,
        display_name=str(view.get("displayName") or ""),
        url=f"https://bsky.app/profile/{handle}",
        note=str(view.get("description") or ""),
        avatar_url=str(view.get("avatar") or ""),
        created_at=parse_datetime(view.get("createdAt")),
        followers=followers if isinstance(followers, int) else None,
        raw=view,
    )


#: A full repository export re-anchors the incremental listing at least this often.
FULL_EXPORT_EVERY = dt.timedelta(days=1)


@dataclasses.dataclass
class RepoDiff:
    """What `getRepo?since=` showed: changed records and every key the tree holds now."""

    rev: str
    changed: list[tuple[str, str, dict[str, Any]]]  # (key, record CID, record)
    keys: set[str]  # every "collection/rkey" of the tree now (from the listing where unchanged)


def diff_walk(
    car: bytes,
    previous_keys: set[str],
    fetch: Callable[[list[bytes]], list[tuple[bytes, bytes]]] | None = None,
) -> RepoDiff:
    """Read a `getRepo?since=` CAR: new and changed records, and the tree's keys now.

    The CAR holds the new commit and every block first written since the earlier revision:
    the records created or changed and most tree nodes on their paths. A node missing from
    the CAR is *not* necessarily unchanged: after a deletion a node can return to a content
    (and so a CID) the repository held at some older revision, and the PDS does not write an
    existing block again. So, with `fetch` (the connector's `getBlocks`), every missing node
    is fetched and walked, and the keys are the tree's own; only records are taken from the
    CAR alone (a record in it is new or changed). Without `fetch`, a missing subtree is
    assumed to hold the earlier listing's keys between the keys around its link, which
    misses a deletion that restored an older node. A key of the earlier listing that is not
    in the tree is a deleted record. `previous_keys` are full keys ("app.bsky.feed.post/RKEY").
    """
    try:
        header_block, sections = car_sections(car)
        header = libipld.decode_dag_cbor(header_block)
    except (ValueError, TypeError) as exc:
        raise MalformedResponse(f"the repository diff is unreadable: {exc}") from exc
    raw = dict(sections)

    def block(link: bytes) -> Any:
        """A tree node or the commit (bytes there are keys and links, never ambiguous)."""
        try:
            return libipld.decode_dag_cbor(raw[link])
        except (ValueError, TypeError) as exc:
            raise MalformedResponse(f"the repository diff has an unreadable block: {exc}") from exc

    roots = header.get("roots") if isinstance(header, dict) else None
    if not roots or roots[0] not in raw:
        raise MalformedResponse("the repository diff has no commit")
    commit = block(roots[0])
    if not isinstance(commit, dict) or not isinstance(commit.get("data"), bytes):
        raise MalformedResponse("the repository diff's commit names no tree")
    before = sorted(previous_keys)
    keys: set[str] = set()
    changed: list[tuple[str, str, dict[str, Any]]] = []
    # (node link, lower bound, upper bound): the subtree holds keys strictly between them.
    stack: list[tuple[bytes, str | None, str | None]] = [(commit["data"], None, None)]
    visited: set[bytes] = set()
    records = set(raw)  # the blocks of the diff itself: new or changed records and nodes
    missing: list[tuple[bytes, str | None, str | None]] = []
    while stack or missing:
        if not stack:
            # Tree nodes the diff did not carry: fetch them (a level at a time) and walk them.
            assert fetch is not None
            wanted = [link for link, _, _ in missing]
            raw.update(fetch(wanted))
            if any(link not in raw for link in wanted):
                raise MalformedResponse("the repository did not return a tree node it links")
            stack, missing = missing, []
            continue
        link, low, high = stack.pop()
        if link not in raw:
            if fetch is not None:
                missing.append((link, low, high))
                continue
            # Assumed unchanged since the earlier revision: the earlier keys in range.
            start = 0 if low is None else bisect.bisect_right(before, low)
            end = len(before) if high is None else bisect.bisect_left(before, high)
            keys.update(before[start:end])
            continue
        node = block(link)
        if link in visited or not isinstance(node, dict) or not isinstance(node.get("e"), list):
            raise MalformedResponse("the repository diff has a malformed tree node")
        visited.add(link)
        entries: list[tuple[str, bytes, bytes | None]] = []
        previous = b""
        for entry in node["e"]:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("k"), bytes)
                and isinstance(entry.get("v"), bytes)
                and isinstance(entry.get("p"), int)
                and 0 <= entry["p"] <= len(previous)
            ):
                raise MalformedResponse("the repository diff has a malformed tree entry")
            key_bytes = previous[: entry["p"]] + entry["k"]
            previous = key_bytes
            subtree = entry.get("t")
            entries.append(
                (key_bytes.decode("utf-8", "replace"), entry["v"], subtree if subtree else None)
            )
        first = entries[0][0] if entries else high
        if isinstance(node.get("l"), bytes):
            stack.append((node["l"], low, first))
        for index, (key, value, subtree) in enumerate(entries):
            keys.add(key)
            if value in records and key.partition("/")[0] in (POST, REPOST):
                try:
                    record = decode_record(raw[value])
                except ValueError as exc:
                    raise MalformedResponse(f"an unreadable record {key}: {exc}") from exc
                changed.append((key, cid_str(value), record))
            if subtree is not None:
                upper = entries[index + 1][0] if index + 1 < len(entries) else high
                stack.append((subtree, key, upper))
    changed.sort()
    return RepoDiff(rev=str(commit.get("rev") or ""), changed=changed, keys=keys)


def notifications_enabled() -> bool:
    """NARVARO_BLUESKY_NOTIFICATIONS (settings.py reads and checks it; default on)."""
    return bool(settings.NARVARO_BLUESKY_NOTIFICATIONS)


class BlueskyConnector(Connector):
    platform = "bluesky"
    # The whole repository is readable at any time, so every gap can be back-filled.
    reach_back = None

    def __init__(self, *, read_notifications: bool | None = None, **kwargs: Any) -> None:
        # A repository export is one response that grows with the account: allow it time.
        kwargs.setdefault("timeout", 30.0)
        super().__init__(**kwargs)
        if read_notifications is None:
            read_notifications = notifications_enabled()
        #: Notifications come from the AppView the PDS proxies to; see the ADR.
        self.read_notifications = read_notifications
        self._client: Client | None = None
        self.did = ""
        self._listed: set[str] | None = None
        #: "full" or "diff": how the last harvest read the repository (for tests and logs).
        self.last_export = ""

    # -- requests ------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return fn()
            except AtProtocolError as exc:
                raise translate(exc) from exc

        return self.policy.call(attempt)

    def _session(self) -> Client:
        if self._client is not None:
            return self._client
        identifier = self.credentials.get("handle") or self.handle
        password = self.credentials.get("app_password", "")
        if not identifier or not password:
            raise AuthError("no handle or app password stored for this connection")
        client = Client(base_url=f"{self.base_url}/xrpc", request=Request(timeout=self.timeout))
        session = self._call(lambda: client._get_and_set_session(identifier, password))
        self.did = session.did
        self.handle = session.handle
        self._client = client
        return client

    def _query(self, nsid: str, params: dict[str, Any] | None = None) -> Response:
        client = self._session()
        clean = DotDict({k: v for k, v in (params or {}).items() if v is not None})
        return self._call(lambda: client.invoke_query(nsid, params=cast(Any, clean)))

    def _procedure(
        self, nsid: str, body: dict[str, Any] | bytes, content_type: str = "application/json"
    ) -> Response:
        client = self._session()
        headers = {"Content-Type": content_type}
        if isinstance(body, bytes):
            return self._call(lambda: client.invoke_procedure(nsid, content=body, headers=headers))
        data: Any = DotDict(body)
        return self._call(lambda: client.invoke_procedure(nsid, data=data, headers=headers))

    # -- reading ---------------------------------------------------------------------------

    def verify(self) -> Profile:
        self._session()
        return Profile(
            platform=self.platform,
            handle=self.handle,
            platform_id=self.did,
            url=f"https://bsky.app/profile/{self.handle}",
        )

    def harvest(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]:
        self._session()
        yield from self._harvest_repo(cursor)
        if self.read_notifications:
            yield from self._harvest_notifications(cursor)

    def _harvest_repo(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]:
        """The account's own records from the repository export, when it has changed."""
        latest = _json(self._query("com.atproto.sync.getLatestCommit", {"did": self.did}))
        rev = str(latest.get("rev") or "")
        if not rev:
            raise MalformedResponse("getLatestCommit answered without a rev")
        same_repo = cursor.get("did") == self.did
        if same_repo and cursor.get("rev") == rev:
            return
        full_at = parse_datetime(cursor.get("full_at")) if same_repo else None
        if (
            same_repo
            and cursor.get("rev")
            and full_at is not None
            and dt.datetime.now(dt.UTC) - full_at < FULL_EXPORT_EVERY
        ):
            yield from self._harvest_diff(cursor)
            return
        self.last_export = "full"
        car = self._query("com.atproto.sync.getRepo", {"did": self.did}).content
        if not isinstance(car, bytes):
            raise MalformedResponse("getRepo did not answer with a CAR file")
        with tempfile.TemporaryDirectory(prefix="narvaro-bsky-") as folder:
            path = Path(folder) / "repo.car"
            path.write_bytes(car)
            del car
            importer = BlueskyRepoImporter(path, account_handle=self.handle)
            listed: set[str] = set()
            try:
                importer.validate()
                for batch in importer.batches(PAGE):
                    captures = [self._with_media(c) for c in batch.captures]
                    listed.update(c.remote_id for c in captures)
                    yield HarvestBatch(captures=captures, events=list(batch.events))
            except ImportFormatError as exc:
                raise MalformedResponse(f"the repository export is unreadable: {exc}") from exc
        self._listed = listed
        # A record in the previous listing that the repository no longer holds was deleted.
        keys = {_short(uri) for uri in listed}
        before = set(filter(None, cursor.get("records", "").split(","))) if same_repo else set()
        gone = sorted(before - keys)
        occurred = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        events = [
            EventInput(
                platform=self.platform,
                remote_id=_long(self.did, key),
                type="deleted",
                occurred_at=occurred,
                details={"detected_by": "repository listing"},
            )
            for key in gone
        ]
        yield HarvestBatch(
            events=events,
            cursor={
                "did": self.did,
                "rev": rev,
                "records": ",".join(sorted(keys)),
                "full_at": dt.datetime.now(dt.UTC).isoformat(),
            },
        )

    def _blocks(self, links: list[bytes]) -> list[tuple[bytes, bytes]]:
        """Blocks of the repository by CID (`com.atproto.sync.getBlocks`), checked."""
        found: list[tuple[bytes, bytes]] = []
        for start in range(0, len(links), 100):
            cids = [cid_str(link) for link in links[start : start + 100]]
            car = self._query("com.atproto.sync.getBlocks", {"did": self.did, "cids": cids}).content
            if not isinstance(car, bytes):
                raise MalformedResponse("getBlocks did not answer with a CAR file")
            try:
                found.extend(car_sections(car)[1])
            except ValueError as exc:
                raise MalformedResponse(f"getBlocks answered an unreadable CAR: {exc}") from exc
        return found

    def _harvest_diff(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]:
        """Only what changed since the cursor's revision (`getRepo?since=`), see `diff_walk`."""
        self.last_export = "diff"
        car = self._query(
            "com.atproto.sync.getRepo", {"did": self.did, "since": cursor["rev"]}
        ).content
        if not isinstance(car, bytes):
            raise MalformedResponse("getRepo did not answer with a CAR file")
        before = {
            _long(self.did, key).removeprefix(f"at://{self.did}/")
            for key in filter(None, cursor.get("records", "").split(","))
        }
        diff = diff_walk(car, before, fetch=self._blocks)
        if not diff.rev:
            raise MalformedResponse("the repository diff's commit has no rev")
        captures: list[CaptureInput] = []
        for key, cid, record in diff.changed:
            collection = key.partition("/")[0]
            if collection not in (POST, REPOST):
                continue
            record_type = record.get("$type")
            if record_type is not None and record_type != collection:
                continue  # as the importer: a record that is not what its collection promises
            capture = record_capture(
                did=self.did,
                handle=self.handle,
                uri=f"at://{self.did}/{key}",
                cid=cid,
                record=record,
            )
            if capture is not None:
                captures.append(capture)
        for start in range(0, len(captures), PAGE):
            yield HarvestBatch(
                captures=[self._with_media(c) for c in captures[start : start + PAGE]]
            )
        listed = {
            f"at://{self.did}/{key}" for key in diff.keys if key.partition("/")[0] in (POST, REPOST)
        }
        self._listed = listed
        now_keys = {_short(uri) for uri in listed}
        before_short = set(filter(None, cursor.get("records", "").split(",")))
        occurred = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        events = [
            EventInput(
                platform=self.platform,
                remote_id=_long(self.did, key),
                type="deleted",
                occurred_at=occurred,
                details={"detected_by": "repository listing"},
            )
            for key in sorted(before_short - now_keys)
        ]
        yield HarvestBatch(
            events=events,
            cursor={
                "did": self.did,
                "rev": diff.rev,
                "records": ",".join(sorted(now_keys)),
                "full_at": cursor.get("full_at", ""),
            },
        )

    def _harvest_notifications(self, cursor: dict[str, str]) -> Iterator[HarvestBatch]:
        """Replies, mentions and quotes by others since the last harvest, with an overlap.

        `listNotifications` pages newest first by `indexedAt`, which the AppView takes from
        the post's own `createdAt` when that is earlier, so a post dated back lands behind
        newer ones. Reading goes back `NOTIFICATION_OVERLAP` before the newest time stored
        (the archive skips what it holds); everything is read before anything is stored,
        and the cursor (the newest `indexedAt`) is saved with the last batch.
        """
        seen = parse_datetime(cursor.get("notified"))
        horizon = seen - NOTIFICATION_OVERLAP if seen is not None else None
        newest = cursor.get("notified", "")
        found: list[CaptureInput] = []
        page_cursor: str | None = None
        while True:
            page = _json(
                self._query(
                    "app.bsky.notification.listNotifications",
                    {"limit": PAGE, "cursor": page_cursor},
                )
            )
            notes = page.get("notifications")
            if not isinstance(notes, list):
                raise MalformedResponse("listNotifications answered without notifications")
            done = False
            for note in notes:
                indexed = note.get("indexedAt") if isinstance(note, dict) else None
                when = parse_datetime(indexed)
                if when is None:
                    raise MalformedResponse("a notification without a readable indexedAt")
                if horizon is not None and when < horizon:
                    done = True
                    break
                if newest == "" or when > (parse_datetime(newest) or when):
                    newest = str(indexed)
                capture = notification_capture(note)
                if capture is not None:
                    found.append(capture)
            page_cursor = page.get("cursor")
            if done or not notes or not page_cursor:
                break
        found.reverse()  # oldest first, as they happened
        cursor_after = {"notified": newest} if newest else {}
        for start in range(0, len(found), PAGE):
            chunk = [self._with_media(c) for c in found[start : start + PAGE]]
            last = start + PAGE >= len(found)
            yield HarvestBatch(captures=chunk, cursor=cursor_after if last else {})
        if not found and cursor_after:
            yield HarvestBatch(cursor=cursor_after)

    def _blob(self, cid: str, did: str = "") -> bytes | None:
        try:
            response = self._query("com.atproto.sync.getBlob", {"did": did or self.did, "cid": cid})
        except ActionRefused:
            return None  # the PDS no longer has it: archived as a missing attachment
        return response.content if isinstance(response.content, bytes) else None

    def _with_media(self, capture: CaptureInput) -> CaptureInput:
        if not capture.media:
            return capture
        did = capture.author_platform_id or self.did
        media = tuple(
            dataclasses.replace(m, content=self._blob(m.original_name, did)) if m.missing else m
            for m in capture.media
        )
        return dataclasses.replace(capture, media=media)

    def _listed_uris(self) -> set[str]:
        """Every post and repost the repository holds now (listRecords, both collections)."""
        if self._listed is not None:
            return self._listed
        uris: set[str] = set()
        for collection in (POST, REPOST):
            page_cursor: str | None = None
            while True:
                page = _json(
                    self._query(
                        "com.atproto.repo.listRecords",
                        {
                            "repo": self.did,
                            "collection": collection,
                            "limit": PAGE,
                            "cursor": page_cursor,
                        },
                    )
                )
                records = page.get("records") or []
                uris.update(str(r.get("uri")) for r in records if isinstance(r, dict))
                page_cursor = page.get("cursor")
                if not records or not page_cursor:
                    break
        self._listed = uris
        return uris

    def recheck(self, held: list[HeldItem]) -> Iterator[HarvestBatch]:
        """Held own records the repository no longer lists are deleted (one bulk listing)."""
        self._session()
        own = [h for h in held if h.remote_id.startswith(f"at://{self.did}/")]
        if not own:
            return
        listed = self._listed_uris()
        occurred = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        events = [
            EventInput(
                platform=self.platform,
                remote_id=h.remote_id,
                type="deleted",
                occurred_at=occurred,
                details={"detected_by": "recheck"},
            )
            for h in own
            if h.remote_id not in listed
        ]
        if events:
            yield HarvestBatch(events=events)

    def _get_record(self, uri: str) -> dict[str, Any] | None:
        repo, collection, rkey = split_uri(uri)
        try:
            response = self._query(
                "com.atproto.repo.getRecord",
                {"repo": repo, "collection": collection, "rkey": rkey},
            )
        except ActionRefused as exc:
            cause = exc.__cause__
            if isinstance(cause, RequestErrorBase) and _error_name(cause) in _NOT_FOUND:
                return None
            raise
        return _json(response)

    def fetch_item(self, remote_id: str) -> CaptureInput | None:
        self._session()
        found = self._get_record(remote_id)
        if found is None:
            return None
        value = found.get("value")
        if not isinstance(value, dict):
            raise MalformedResponse(f"getRecord {remote_id} answered without a value")
        capture = record_capture(
            did=self.did,
            handle=self.handle,
            uri=remote_id,
            cid=str(found.get("cid") or ""),
            record=value,
        )
        return self._with_media(capture) if capture is not None else None

    def search_accounts(self, query: str, limit: int = 20) -> list[Profile]:
        found = _json(self._query("app.bsky.actor.searchActors", {"q": query, "limit": limit}))
        actors = found.get("actors")
        if not isinstance(actors, list):
            raise MalformedResponse("searchActors answered without actors")
        return [profile_from_view(a) for a in actors if isinstance(a, dict)]

    def fetch_profile(self, handle: str) -> Profile:
        return profile_from_view(_json(self._query("app.bsky.actor.getProfile", {"actor": handle})))

    # -- acting ----------------------------------------------------------------------------

    def _upload(self, content: bytes, content_type: str) -> dict[str, Any]:
        blob = _json(self._procedure("com.atproto.repo.uploadBlob", content, content_type))
        ref = blob.get("blob")
        if not isinstance(ref, dict):
            raise MalformedResponse("uploadBlob answered without a blob")
        return ref

    def _post_record(self, draft: PostDraft) -> dict[str, Any]:
        if draft.content_warning:
            raise NotSupported("Bluesky has no free-text content warning (only fixed labels)")
        if draft.visibility not in ("", "public"):
            raise NotSupported(f"Bluesky posts are public; {draft.visibility!r} is not possible")
        if not draft.text.strip() and not draft.media:
            raise ActionRefused("an empty post")
        record: dict[str, Any] = {"$type": POST, "text": draft.text, "createdAt": _now()}
        if draft.language:
            record["langs"] = [draft.language]
        videos = [m for m in draft.media if m.content_type.startswith("video/")]
        images = [m for m in draft.media if not m.content_type.startswith("video/")]
        if videos and (images or len(videos) > 1):
            raise ActionRefused("a Bluesky post holds either one video or up to four images")
        if len(images) > MAX_IMAGES:
            raise ActionRefused(f"a Bluesky post holds at most {MAX_IMAGES} images")
        if videos:
            video = videos[0]
            record["embed"] = {
                "$type": "app.bsky.embed.video",
                "video": self._upload(video.content, video.content_type),
                "alt": video.alt_text,
            }
        elif images:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {"alt": m.alt_text, "image": self._upload(m.content, m.content_type)}
                    for m in images
                ],
            }
        return record

    def _create(self, collection: str, record: dict[str, Any]) -> tuple[str, str]:
        created = _json(
            self._procedure(
                "com.atproto.repo.createRecord",
                {"repo": self.did, "collection": collection, "record": record},
            )
        )
        uri, cid = created.get("uri"), created.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise MalformedResponse("createRecord answered without uri and cid")
        return uri, cid

    def _sent(self, action: str, draft: PostDraft, record: dict[str, Any]) -> ActionResult:
        uri, cid = self._create(POST, record)
        capture = record_capture(did=self.did, handle=self.handle, uri=uri, cid=cid, record=record)
        assert capture is not None
        # The archive keeps the files as they were sent (the blobs hold the same bytes).
        sent = iter(draft.media)
        media = tuple(dataclasses.replace(m, content=next(sent).content) for m in capture.media)
        capture = dataclasses.replace(capture, media=media)
        _, _, rkey = split_uri(uri)
        return ActionResult(
            action=action,
            remote_id=uri,
            url=f"https://bsky.app/profile/{self.handle}/post/{rkey}",
            capture=capture,
            raw={"uri": uri, "cid": cid},
        )

    def publish(self, draft: PostDraft) -> ActionResult:
        self._session()
        return self._sent("publish", draft, self._post_record(draft))

    def _strong_ref(self, uri: str) -> tuple[dict[str, str], dict[str, Any]]:
        found = self._get_record(uri)
        if found is None:
            raise ActionRefused(f"{uri} does not exist (any more)")
        value = found.get("value")
        cid = found.get("cid")
        if not isinstance(value, dict) or not isinstance(cid, str):
            raise MalformedResponse(f"getRecord {uri} answered without value and cid")
        return {"uri": uri, "cid": cid}, value

    def reply(self, parent_remote_id: str, draft: PostDraft) -> ActionResult:
        self._session()
        parent, value = self._strong_ref(parent_remote_id)
        root = parent
        reply = value.get("reply")
        if isinstance(reply, dict) and isinstance(reply.get("root"), dict):
            root = {"uri": str(reply["root"].get("uri")), "cid": str(reply["root"].get("cid"))}
        record = self._post_record(draft)
        record["reply"] = {"root": root, "parent": parent}
        return self._sent("reply", draft, record)

    def delete(self, remote_id: str) -> ActionResult:
        self._session()
        repo, collection, rkey = split_uri(remote_id)
        if repo != self.did:
            raise ActionRefused(f"{remote_id} is not this account's own record")
        self._procedure(
            "com.atproto.repo.deleteRecord",
            {"repo": self.did, "collection": collection, "rkey": rkey},
        )
        event = EventInput(
            platform=self.platform,
            remote_id=remote_id,
            type="deleted",
            occurred_at=dt.datetime.now(dt.UTC),
            details={"detected_by": "action"},
        )
        return ActionResult(action="delete", remote_id=remote_id, events=(event,))

    def hide_reply(self, remote_id: str) -> ActionResult:
        """Add the reply to the thread's threadgate `hiddenReplies` (the root must be ours)."""
        self._session()
        _, value = self._strong_ref(remote_id)
        reply = value.get("reply")
        root_uri = reply.get("root", {}).get("uri") if isinstance(reply, dict) else None
        if not isinstance(root_uri, str):
            raise ActionRefused(f"{remote_id} is not a reply")
        root_repo, _, root_rkey = split_uri(root_uri)
        if root_repo != self.did:
            raise ActionRefused("only replies in threads this account started can be hidden")
        existing = self._get_record(f"at://{self.did}/{THREADGATE}/{root_rkey}")
        gate: dict[str, Any] = (
            dict(existing["value"])
            if existing is not None and isinstance(existing.get("value"), dict)
            else {"$type": THREADGATE, "post": root_uri, "createdAt": _now()}
        )
        hidden = [h for h in gate.get("hiddenReplies") or [] if isinstance(h, str)]
        if remote_id not in hidden:
            hidden.append(remote_id)
        gate["hiddenReplies"] = hidden
        written = _json(
            self._procedure(
                "com.atproto.repo.putRecord",
                {"repo": self.did, "collection": THREADGATE, "rkey": root_rkey, "record": gate},
            )
        )
        return ActionResult(action="hide", remote_id=remote_id, raw=written)

    def _did_of(self, account_id: str) -> str:
        if account_id.startswith("did:"):
            return account_id
        handle = account_id.lstrip("@")
        found = _json(self._query("com.atproto.identity.resolveHandle", {"handle": handle}))
        did = found.get("did")
        if not isinstance(did, str):
            raise MalformedResponse("resolveHandle answered without a did")
        return did

    def block(self, account_id: str) -> ActionResult:
        self._session()
        subject = self._did_of(account_id)
        uri, cid = self._create(BLOCK, {"$type": BLOCK, "subject": subject, "createdAt": _now()})
        return ActionResult(action="block", remote_id=uri, raw={"uri": uri, "cid": cid})

    def report(
        self, account_id: str, *, remote_ids: tuple[str, ...] = (), comment: str = ""
    ) -> ActionResult:
        """`com.atproto.moderation.createReport`, proxied by the PDS to its moderation service.

        One report per reported record (or one about the account when none is named). A PDS
        without a moderation service refuses it, and the action is recorded as failed.
        """
        self._session()
        subjects: list[dict[str, Any]] = []
        for uri in remote_ids:
            ref, _ = self._strong_ref(uri)
            subjects.append({"$type": "com.atproto.repo.strongRef", **ref})
        if not subjects:
            subjects.append(
                {"$type": "com.atproto.admin.defs#repoRef", "did": self._did_of(account_id)}
            )
        answers = [
            _json(
                self._procedure(
                    "com.atproto.moderation.createReport",
                    {
                        "reasonType": "com.atproto.moderation.defs#reasonOther",
                        "reason": comment,
                        "subject": subject,
                    },
                )
            )
            for subject in subjects
        ]
        return ActionResult(
            action="report",
            remote_id=str(answers[0].get("id") or ""),
            raw={"reports": answers},
        )


__all__ = ["BlueskyConnector", "profile_from_view", "record_capture", "translate"]
