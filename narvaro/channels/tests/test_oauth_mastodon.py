"""Connecting a Mastodon account by signing in on its instance, over real HTTP to mastodon-mock.

mastodon-mock implements the authorization code flow with an account picker at
`/oauth/authorize` (no passwords): the test plays the person's browser by fetching that
page, choosing the account in its form and following the redirect back to Narvaro.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from narvaro.channels.models import Account, Connection, OAuthClient
from narvaro.channels.oauth import STATE_TTL
from narvaro.channels.services import account_create
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tests.test_harvest_views import manager_of, signed_in, viewer_of
from narvaro.channels.tokens import decrypt_credentials
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import make_unit

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oauth/mastodon/callback/"


@pytest.fixture
def account() -> Account:
    unit = make_unit("kultur")
    return account_create(actor=None, unit=unit, platform="mastodon", handle="@alice@mock.local")


def start(client: Client, account: Account, instance: str) -> str:
    """Post the instance on the connect page; return where Narvaro sends the browser."""
    response = client.post(
        reverse("channels:account_oauth_start", args=[account.pk]), {"instance": instance}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def approve(authorize_url: str, username: str) -> str:
    """Be the person on the instance: open the sign-in page, pick the account, approve."""
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
        if name != "username"
    }
    fields["username"] = username
    base = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
    answer = requests.post(
        f"{base}/oauth/authorize", data=fields, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def back(client: Client, location: str) -> object:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(parts.path, parse_qs(parts.query))


def test_signing_in_on_the_instance_connects_the_account(
    mastodon: MastodonServer, account: Account
) -> None:
    client = signed_in(manager_of(account.unit))
    authorize = start(client, account, mastodon.url)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{mastodon.url}/oauth/authorize?")
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 40

    registration = OAuthClient.objects.get()
    assert registration.base_url == mastodon.url and registration.redirect_uri == CALLBACK
    secret = decrypt_credentials(registration.client_secret_encrypted)["client_secret"]
    assert secret and secret not in registration.client_secret_encrypted

    response = back(client, approve(authorize, "alice"))
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == reverse(  # type: ignore[index]
        "channels:account_capture", args=[account.pk]
    )
    connection = Connection.objects.get(account=account)
    credentials = decrypt_credentials(connection.credentials_encrypted)
    token = credentials["access_token"]
    assert token and token not in connection.credentials_encrypted
    assert connection.base_url == mastodon.url
    # The token works and is never shown or logged.
    assert mastodon.client(token).me()["username"] == "alice"
    page = client.get(reverse("channels:account_capture", args=[account.pk]))
    assert token not in page.content.decode()
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SECURITY).order_by("pk")
    assert [e.summary for e in events] == [
        "app registered on the instance",
        "platform token connected",
    ]
    assert all(
        token not in json.dumps(e.changes) and secret not in json.dumps(e.changes) for e in events
    )

    # A second sign-in reuses the registration, and a replayed callback is refused.
    location = approve(start(client, account, mastodon.url), "alice")
    assert OAuthClient.objects.count() == 1
    assert back(client, location)["Location"].endswith(  # type: ignore[index]
        reverse("channels:account_capture", args=[account.pk])
    )
    replay = back(client, location)
    assert replay["Location"] == reverse("channels:account_list")  # type: ignore[index]
    assert AuditEvent.objects.filter(summary="platform token replaced (reconnect)").count() == 1


def test_a_forged_or_foreign_state_stores_nothing(
    mastodon: MastodonServer, account: Account
) -> None:
    manager = manager_of(account.unit)
    client = signed_in(manager)
    location = approve(start(client, account, mastodon.url), "alice")
    parts = urlsplit(location)
    forged = {**parse_qs(parts.query), "state": ["x" * 43]}
    response = client.get(parts.path, forged)
    assert response["Location"] == reverse("channels:account_list")
    # The state belongs to this person's session: another person's browser cannot use it.
    other = signed_in(manager)
    assert other.get(parts.path, parse_qs(parts.query))["Location"] == reverse(
        "channels:account_list"
    )
    assert not Connection.objects.exists()


def test_signing_in_as_another_account_is_refused(
    mastodon: MastodonServer, account: Account
) -> None:
    client = signed_in(manager_of(account.unit))
    response = back(client, approve(start(client, account, mastodon.url), "bob"))
    assert response["Location"] == reverse(  # type: ignore[index]
        "channels:account_reconnect", args=[account.pk]
    )
    assert not Connection.objects.exists()
    follow = client.get(response["Location"])  # type: ignore[index]
    assert "You signed in as @bob@mock.local, not as @alice@mock.local" in follow.content.decode()


def test_an_expired_sign_in_or_a_refusal_stores_nothing(
    mastodon: MastodonServer, account: Account
) -> None:
    client = signed_in(manager_of(account.unit))
    authorize = start(client, account, mastodon.url)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    # The person declined on the instance.
    refused = client.get(
        reverse("channels:oauth_callback"), {"state": state, "error": "access_denied"}
    )
    assert refused["Location"] == reverse("channels:account_reconnect", args=[account.pk])
    # A sign-in older than ten minutes is forgotten.
    authorize = start(client, account, mastodon.url)
    session = client.session
    pending = session["narvaro_oauth_states"]
    for entry in pending.values():
        entry["at"] -= STATE_TTL + 1
    session["narvaro_oauth_states"] = pending
    session.save()
    late = back(client, approve(authorize, "alice"))
    assert late["Location"] == reverse("channels:account_list")  # type: ignore[index]
    assert not Connection.objects.exists()


def test_sign_in_needs_manage_rights_and_a_safe_address(
    mastodon: MastodonServer, account: Account
) -> None:
    viewer = signed_in(viewer_of(account.unit))
    url = reverse("channels:account_oauth_start", args=[account.pk])
    assert viewer.post(url, {"instance": mastodon.url}).status_code == 403
    manager = signed_in(manager_of(account.unit))
    page = manager.post(url, {"instance": "http://mastodon.example"})
    assert page.status_code == 400
    assert "must start with https://" in page.content.decode()
    assert not OAuthClient.objects.exists()
    # The connect page offers the sign-in for a Mastodon account.
    form = manager.get(reverse("channels:account_reconnect", args=[account.pk]))
    assert "Sign in on the instance" in form.content.decode()
    # Not connected yet: the page connects rather than reconnects.
    assert "Connect Mastodon @alice@mock.local" in form.content.decode()
    assert "Reconnect Mastodon" not in form.content.decode()
