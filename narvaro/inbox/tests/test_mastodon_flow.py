"""From a mention on a real Mastodon server to a reply from Narvaro, over real HTTP.

An inbound mention harvested from mastodon-mock appears as a new conversation in the unit
its routing says; the reply sent from the conversation is on the server, and in the archive
as drawn up, linked to the conversation, which is then answered.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from narvaro.archive.models import Item
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import Connection, PlatformAction
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import Conversation, ConversationItem, RoutingRule, Status
from narvaro.lib.testing import make_person, make_unit
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership

pytestmark = pytest.mark.django_db


def run(*args: str) -> Any:
    out = io.StringIO()
    call_command("channels", *args, stdout=out)
    return json.loads(out.getvalue())


def connect(m: MastodonServer) -> Connection:
    run("connect", "mastodon", m.url, "--token=alice_token", "--unit", "kultur", "--json")
    return Connection.objects.select_related("account").get(account__handle="@alice@mock.local")


def test_a_harvested_mention_becomes_a_conversation_and_the_reply_goes_out(
    mastodon: MastodonServer,
) -> None:
    kultur = make_unit("kultur", name="Kultur")
    gata = make_unit("gata-park", name="Gata och park")
    RoutingRule.objects.create(name="Snö", keywords="snöröjning", target_unit=gata)
    connection = connect(mastodon)
    bob = mastodon.client("bob_token")
    question = bob.status_post("@alice När öppnar biblioteket på lördag?")
    snow = bob.status_post("@alice Ingen snöröjning på Storgatan i dag")
    harvest_run(connection)
    conversations_derive()

    library = Conversation.objects.get(root_item__remote_id=question["uri"])
    assert library.unit == kultur
    assert library.status == Status.NEW
    assert library.author_handle == "@bob@mock.local"
    routed = Conversation.objects.get(root_item__remote_id=snow["uri"])
    assert routed.unit == gata

    anna = make_person("anna")
    org_services.membership_grant(
        actor=None, unit=kultur, user=anna, role=Membership.Role.RESPONDER
    )
    client = Client()
    client.force_login(anna)
    page = client.get(library.get_absolute_url())
    assert page.status_code == 200
    assert "När öppnar biblioteket på lördag?" in page.content.decode()
    response = client.post(
        f"/inbox/{library.pk}/reply/",
        {"text": "Hej! Vi öppnar klockan 10 på lördag.", "then": "answered"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    # On the server: the reply is in the thread, in reply to bob's question, naming him.
    replies = bob.status_context(question["id"])["descendants"]
    assert len(replies) == 1
    sent = replies[0]
    assert sent["in_reply_to_id"] == question["id"]
    assert sent["account"]["username"] == "alice"
    assert "Vi öppnar klockan 10" in sent["content"]
    assert "@bob" in sent["content"]  # named, so he is notified

    # In the archive as drawn up, linked to the conversation, which is answered.
    item = Item.objects.get(remote_id=sent["uri"])
    assert (item.direction, item.kind) == ("drawn_up", "reply")
    assert item.parent_remote_id == question["uri"]
    link = ConversationItem.objects.get(item=item)
    assert (link.conversation_id, link.role) == (library.pk, "response")
    library.refresh_from_db()
    assert library.status == Status.ANSWERED
    assert library.first_response_at is not None
    assert PlatformAction.objects.get(action="reply").status == PlatformAction.Status.SENT

    # The next harvest finds the same reply on the server and adds nothing.
    before = ConversationItem.objects.count()
    harvest_run(connection)
    conversations_derive()
    assert ConversationItem.objects.count() == before


def test_a_reply_the_platform_refuses_is_shown_as_failed_and_changes_nothing(
    mastodon: MastodonServer,
) -> None:
    kultur = make_unit("kultur", name="Kultur")
    connection = connect(mastodon)
    question = mastodon.client("bob_token").status_post("@alice Hur lånar jag e-böcker?")
    harvest_run(connection)
    conversations_derive()
    conversation = Conversation.objects.get(root_item__remote_id=question["uri"])
    anna = make_person("anna")
    org_services.membership_grant(
        actor=None, unit=kultur, user=anna, role=Membership.Role.RESPONDER
    )
    mastodon.fault(
        {"status": 500, "body": {"error": "boom"}},
        path="/api/v1/statuses",
        methods=["POST"],
        count=10,
    )
    client = Client()
    client.force_login(anna)
    response = client.post(
        f"/inbox/{conversation.pk}/reply/", {"text": "Via appen Libby.", "then": "answered"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Via appen Libby." in body  # the text is kept for another try
    assert "refused" in body
    conversation.refresh_from_db()
    assert conversation.status == Status.NEW
    assert conversation.first_response_at is None
    assert PlatformAction.objects.get(action="reply").status == PlatformAction.Status.FAILED
    assert conversation.events.filter(type="reply_failed").exists()
