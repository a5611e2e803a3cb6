"""The capture pages: health and reconnect on the account, the registrar's completeness report."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from narvaro.archive.models import Item
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import CaptureGap, Connection
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tests.test_harvest_mastodon import connect, world
from narvaro.core.models import AuditEvent, User
from narvaro.lib.testing import make_person
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership, Unit

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    """A client signed in as `user`, with a verified second factor where one is required."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if user.requires_two_factor:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def revoked(mastodon: MastodonServer) -> Connection:
    """alice's account, harvested once, then its token revoked and one harvest run."""
    world(mastodon)
    connection = connect(mastodon)
    harvest_run(connection)
    mastodon.revoke("alice_token")
    harvest_run(connection)
    connection.refresh_from_db()
    return connection


def manager_of(unit: Unit) -> User:
    person = make_person("maja")
    org_services.membership_grant(actor=None, unit=unit, user=person, role=Membership.Role.MANAGER)
    return person


def viewer_of(unit: Unit) -> User:
    person = make_person("vera")
    org_services.membership_grant(actor=None, unit=unit, user=person, role=Membership.Role.VIEWER)
    return person


def test_a_revoked_token_shows_on_the_account_and_its_capture_page(revoked: Connection) -> None:
    client = signed_in(viewer_of(revoked.account.unit))
    detail = client.get(revoked.account.get_absolute_url())
    assert "Reconnect needed" in detail.content.decode()
    page = client.get(reverse("channels:account_capture", args=[revoked.account.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Reconnect needed" in body and "Token revoked or expired" in body
    # A viewer sees the state but is not offered the reconnect action.
    assert reverse("channels:account_reconnect", args=[revoked.account.pk]) not in body


def test_reconnect_keeps_records_and_backfills(
    mastodon: MastodonServer, revoked: Connection
) -> None:
    account = revoked.account
    held = Item.objects.filter(account=account).count()
    mastodon.client("bob_token").status_post("@alice Under avbrottet")
    client = signed_in(manager_of(account.unit))
    url = reverse("channels:account_reconnect", args=[account.pk])
    refused = client.post(url, {"url": mastodon.url, "token": "wrong"})
    assert refused.status_code == 200
    assert "refused these credentials" in refused.content.decode()
    bob_token = mastodon.new_token("bob")
    wrong_account = client.post(url, {"url": mastodon.url, "token": bob_token})
    assert "not to @alice@mock.local" in wrong_account.content.decode()
    token = mastodon.new_token("alice")
    done = client.post(url, {"url": mastodon.url, "token": token})
    assert done.status_code == 302
    revoked.refresh_from_db()
    assert revoked.status == Connection.Status.ACTIVE
    assert token not in revoked.credentials_encrypted
    assert token not in client.get(url).content.decode()  # never shown again
    report = harvest_run(revoked)
    assert report.items == 1 and report.gaps_recovered == 1
    assert Item.objects.filter(account=account).count() == held + 1


def test_completeness_report_page_and_csv(revoked: Connection) -> None:
    rita = make_person("rita", org_role=User.OrgRole.REGISTRAR)
    client = signed_in(rita)
    today = timezone.localdate()
    query = {"start": (today - dt.timedelta(days=7)).isoformat(), "end": today.isoformat()}
    page = client.get(reverse("channels:account_completeness", args=[revoked.account.pk]), query)
    assert page.status_code == 200
    assert page.context["report"].rows[0].gap.status == "open"
    assert page.context["report"].uncovered_seconds > 0
    download = client.get(
        reverse("channels:account_completeness_csv", args=[revoked.account.pk]), query
    )
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["reason"], r["status"]) for r in rows] == [("auth", "open")]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORT, summary="completeness report exported"
    ).exists()


def test_completeness_of_a_period_without_gaps(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    harvest_run(connection)
    client = signed_in(make_person("rita", org_role=User.OrgRole.REGISTRAR))
    download = client.get(
        reverse("channels:account_completeness_csv", args=[connection.account.pk])
    )
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r["status"] for r in rows] == ["complete"]


def test_capture_page_queries_do_not_grow_with_gaps(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    client = signed_in(make_person("adam", org_role=User.OrgRole.ADMIN))
    url = reverse("channels:account_capture", args=[connection.account.pk])

    def add_gaps(n: int) -> None:
        now = timezone.now()
        for i in range(n):
            CaptureGap.objects.create(
                account=connection.account,
                start=now - dt.timedelta(days=i + 2),
                end=now - dt.timedelta(days=i + 1),
                reason="unavailable",
                status="recovered",
            )

    add_gaps(2)
    with CaptureQueriesContext(db_connection) as few:
        assert client.get(url).status_code == 200
    add_gaps(20)
    with CaptureQueriesContext(db_connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
