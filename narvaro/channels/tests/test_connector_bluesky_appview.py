"""The Bluesky connector's AppView reads over real HTTP: @atproto/dev-env's network.

`bluesky_network` runs PLC, PDS, the bsky AppView (indexing the PDS's firehose), bsync and
ozone on loopback. Notifications, profiles, search and reports go through the PDS's proxy
to the AppView and the moderation service exactly as on bsky.social.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests

from narvaro.archive.models import Item
from narvaro.channels import actions
from narvaro.channels.connectors.base import ActionRefused
from narvaro.channels.connectors.bluesky import BlueskyConnector
from narvaro.channels.models import PlatformAction
from narvaro.channels.tests.bluesky_pds import LocalPds, PdsAccount
from narvaro.channels.tests.bluesky_pds import bluesky_network as bluesky_network
from narvaro.channels.tests.test_connector_bluesky import POST, WHEN, connect, harvest, post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _with_appview(settings: Any) -> None:
    settings.NARVARO_BLUESKY_NOTIFICATIONS = True


def wait_for_notifications(net: LocalPds, account: PdsAccount, count: int) -> None:
    """Until the AppView has indexed `count` replies and mentions for the account."""
    deadline = time.monotonic() + 60
    while True:
        found = net.xrpc(
            "GET", "app.bsky.notification.listNotifications", token=account.access_jwt
        )["notifications"]
        if sum(n["reason"] in ("reply", "mention") for n in found) >= count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the AppView indexed only {found}")
        time.sleep(0.5)


def wait_indexed(net: LocalPds, reader: PdsAccount, uri: str) -> None:
    """Until the AppView has indexed the post.

    The AppView indexes each repository's events on its own, so a reply processed before
    its parent is known makes no notification; on bsky.social the same race exists, here
    the tests wait for the parent, as dev-env's own tests do with `processAll`.
    """
    deadline = time.monotonic() + 60
    while not net.xrpc(
        "GET", "app.bsky.feed.getPosts", token=reader.access_jwt, params={"uris": uri}
    )["posts"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"the AppView never indexed {uri}")
        time.sleep(0.3)


def mention(net: LocalPds, author: PdsAccount, target: PdsAccount, text: str) -> dict[str, Any]:
    start = len(text.encode())
    tag = f"@{target.handle}"
    return post(
        net,
        author,
        f"{text}{tag}",
        facets=[
            {
                "index": {"byteStart": start, "byteEnd": start + len(tag.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target.did}],
            }
        ],
    )


def test_harvest_reads_replies_and_mentions_by_others_once(bluesky_network: LocalPds) -> None:
    net = bluesky_network
    alice, bob, carol = (net.create_account(n) for n in ("alice", "bob", "carol"))
    own = post(net, alice, "Frågor om bygglov?")
    ref = {"uri": own["uri"], "cid": own["cid"]}
    wait_indexed(net, alice, own["uri"])
    reply = post(net, bob, "Hur lång är handläggningstiden?", reply={"root": ref, "parent": ref})
    tagged = mention(net, carol, alice, "Fråga gärna ")
    net.create_record(
        bob,
        "app.bsky.feed.like",
        {"$type": "app.bsky.feed.like", "subject": ref, "createdAt": WHEN},
    )
    wait_for_notifications(net, alice, 2)
    connect(net, alice, net.app_password(alice))

    first = harvest(alice)
    assert first["status"] == "ok", first
    assert (first["items"], first["gaps"]) == (3, 0)
    received = Item.objects.get(remote_id=reply["uri"])
    assert (received.kind, received.direction) == ("reply", "received")
    assert (received.author_handle, received.author_platform_id) == (bob.handle, bob.did)
    assert received.parent_remote_id == own["uri"]
    assert received.versions.get().text == "Hur lång är handläggningstiden?"
    named = Item.objects.get(remote_id=tagged["uri"])
    assert (named.kind, named.direction, named.author_handle) == (
        "mention",
        "received",
        carol.handle,
    )
    assert Item.objects.get(remote_id=own["uri"]).direction == "drawn_up"

    second = harvest(alice)
    assert (second["items"], second["versions"]) == (0, 0)

    later = post(net, bob, "Tack!", reply={"root": ref, "parent": ref})
    wait_for_notifications(net, alice, 3)
    third = harvest(alice)
    assert (third["items"], third["versions"]) == (1, 1)
    assert Item.objects.get(remote_id=later["uri"]).direction == "received"


def test_profile_search_and_report_through_the_appview(bluesky_network: LocalPds) -> None:
    net = bluesky_network
    alice, troll = net.create_account("alice"), net.create_account("troll")
    net.xrpc(
        "POST",
        "com.atproto.repo.putRecord",
        token=troll.access_jwt,
        body={
            "repo": troll.did,
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {
                "$type": "app.bsky.actor.profile",
                "displayName": "Skatteverket (officiellt)",
                "description": "Officiellt konto",
                "createdAt": WHEN,
            },
        },
    )
    insult = post(net, troll, "Ni är värdelösa")
    connector = BlueskyConnector(
        base_url=net.url,
        credentials={"handle": alice.handle, "app_password": net.app_password(alice)},
    )
    # The AppView indexes the new account and its profile record a moment later: until then
    # it answers "Profile not found" (refused), then a profile without the display name.
    deadline = time.monotonic() + 60
    while True:
        try:
            profile = connector.fetch_profile(troll.handle)
        except ActionRefused:
            if time.monotonic() > deadline:
                raise
        else:
            if profile.display_name or time.monotonic() > deadline:
                break
        time.sleep(0.5)
    assert (profile.handle, profile.platform_id) == (troll.handle, troll.did)
    assert profile.display_name == "Skatteverket (officiellt)"
    assert profile.note == "Officiellt konto"
    assert profile.created_at == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    assert profile.followers == 0

    found = connector.search_accounts(troll.handle.split(".")[0])
    assert troll.did in [p.platform_id for p in found]

    connection = connect(net, alice, net.app_password(alice, "narvaro-2"))
    reported = actions.report(
        actor=None,
        connection=connection,
        account_id=troll.did,
        remote_ids=(insult["uri"],),
        comment="Trakasserier",
    )
    assert reported.status == PlatformAction.Status.SENT, reported.error
    assert reported.remote_id  # the moderation service's report id


def test_the_pds_proxies_notifications_with_the_post_records(bluesky_network: LocalPds) -> None:
    """The shape the connector maps: each notification carries the full post record."""
    net = bluesky_network
    alice, bob = net.create_account("alice"), net.create_account("bob")
    own = post(net, alice, "Hej")
    ref = {"uri": own["uri"], "cid": own["cid"]}
    wait_indexed(net, alice, own["uri"])
    post(net, bob, "Svar", reply={"root": ref, "parent": ref})
    wait_for_notifications(net, alice, 1)
    response = requests.get(
        f"{net.url}/xrpc/app.bsky.notification.listNotifications",
        headers={"Authorization": f"Bearer {alice.access_jwt}"},
        timeout=30,
    )
    note = response.json()["notifications"][0]
    assert note["reason"] == "reply"
    assert note["record"]["$type"] == POST
    assert note["record"]["reply"]["parent"]["uri"] == own["uri"]
    assert note["author"]["did"] == bob.did
