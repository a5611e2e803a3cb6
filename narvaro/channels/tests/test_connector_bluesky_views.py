"""AppView answers the Bluesky connector reads, checked against a recorded real response.

The local test PDS has no AppView (see the ADR on the Bluesky connector), so the shapes of
`app.bsky.*` views come from a real recording: tests/fixtures/bluesky/get_follows.json.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from narvaro.channels.connectors.base import MalformedResponse
from narvaro.channels.connectors.bluesky import profile_from_view

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"


def test_profile_views_from_a_real_get_follows_response() -> None:
    data = json.loads((FIXTURES / "get_follows.json").read_text())
    profiles = [profile_from_view(v) for v in data["follows"]]
    assert [p.handle for p in profiles] == ["why.bsky.team", "bsky.app", "vercel.com"]
    official = profiles[1]
    assert official.platform_id == "did:plc:z72i7hdynmk6r22z27h6tvur"
    assert official.display_name == "Bluesky"
    assert official.note.startswith("Official Bluesky account (check domain")
    assert official.url == "https://bsky.app/profile/bsky.app"
    assert official.avatar_url.startswith("https://cdn.bsky.app/img/avatar/")
    # A profileView has no createdAt or follower count; they stay unknown, not zero.
    assert official.created_at is None and official.followers is None
    subject = profile_from_view(data["subject"])
    assert (subject.handle, subject.note) == ("test.marshal.dev", "account for tests")


def test_profile_view_detailed_fields() -> None:
    view = json.loads((FIXTURES / "get_follows.json").read_text())["subject"]
    view = {**view, "followersCount": 12, "createdAt": "2023-04-12T10:00:00.000Z"}
    profile = profile_from_view(view)
    assert profile.followers == 12
    assert profile.created_at == dt.datetime(2023, 4, 12, 10, tzinfo=dt.UTC)


def test_a_profile_without_handle_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="handle"):
        profile_from_view({"did": "did:plc:x"})
