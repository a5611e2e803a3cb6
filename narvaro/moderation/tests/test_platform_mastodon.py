"""Moderation against a real Mastodon API (mastodon-mock over HTTP), through the channels' actions.

Mastodon lets an account block and report others, but not hide a reply or delete someone
else's post: those are recorded as failed (never as done), and the moderator can then do it
by hand on the platform and record that.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemEvent
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import PlatformAction
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tests.test_harvest_mastodon import connect
from narvaro.core.models import User
from narvaro.lib.testing import make_person
from narvaro.moderation import services
from narvaro.moderation.models import ModerationAction, QueueEntry, Reason
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership, Unit

pytestmark = pytest.mark.django_db


def setup_world(m: MastodonServer) -> dict[str, Any]:
    connection = connect(m)
    bob = m.client("bob_token")
    alice_post = m.client("alice_token").status_post("Välkommen till biblioteket")
    rude = bob.status_post(
        "@alice ni är värdelösa, jag vet var ni bor", in_reply_to_id=alice_post["id"]
    )
    harvest_run(connection)
    services.queue_fill()
    moderator = make_person("max")
    org_services.membership_grant(
        actor=None,
        unit=Unit.objects.get(slug="kultur"),
        user=moderator,
        role=Membership.Role.MODERATOR,
    )
    item = Item.objects.get(remote_id=rude["uri"])
    return {
        "connection": connection,
        "bob": bob,
        "item": item,
        "moderator": moderator,
        "rude": rude,
    }


def act(world: dict[str, Any], action: str, **extra: Any) -> ModerationAction:
    return services.moderation_act(
        actor=world["moderator"],
        item=world["item"],
        action=action,
        reason=extra.pop("reason", Reason.INSULTING_DATA),
        reason_text=extra.pop("reason_text", "Kränkande"),
        **extra,
    )


def test_hide_and_delete_fail_on_mastodon_and_are_recorded_as_failed(
    mastodon: MastodonServer,
) -> None:
    world = setup_world(mastodon)
    hidden = act(world, "hide")
    assert hidden.status == ModerationAction.Status.FAILED
    assert hidden.platform_action is not None
    assert hidden.platform_action.status == PlatformAction.Status.FAILED
    assert "NotSupported" in hidden.error
    deleted = act(world, "delete")
    assert deleted.status == ModerationAction.Status.FAILED
    assert "ActionRefused" in deleted.error
    # Nothing happened to the item: no event, still waiting in the queue, still on the server.
    assert not ItemEvent.objects.filter(item=world["item"]).exists()
    assert QueueEntry.objects.get(item=world["item"]).reviewed_at is None
    assert world["bob"].status(world["rude"]["id"])["id"] == world["rude"]["id"]
    # The rendering was stored before the attempt all the same (R17).
    assert hidden.rendering_sha256
    # The page says it failed.
    client = Client()
    client.force_login(world["moderator"])
    page = client.get(hidden.get_absolute_url())
    assert "The platform did not carry out the action." in page.content.decode()
    # Done by hand on the platform instead, it is recorded with the same reason rules.
    by_hand = act(world, "hide", by_hand=True)
    assert by_hand.status == ModerationAction.Status.BY_HAND
    assert by_hand.item_event is not None and by_hand.item_event.type == "hidden"


def test_block_with_a_notice_to_the_author(mastodon: MastodonServer) -> None:
    world = setup_world(mastodon)
    notice = "@bob Vi har blockerat dig eftersom inlägget bröt mot vår kommentarspolicy."
    record = act(world, "block", notice_text=notice, notice_visibility="direct")
    assert record.status == ModerationAction.Status.DONE, record.error
    alice = mastodon.client("alice_token")
    relationship = alice.account_relationships(world["bob"].me()["id"])[0]
    assert relationship["blocking"] is True
    # A block concerns the author, and the item it was decided on keeps one BLOCKED event.
    event = record.item_event
    assert event is not None and event.type == "blocked"
    assert event.details["reason"] == "insulting_data"
    assert event.details["platform_action"] == record.platform_action_id
    assert list(ItemEvent.objects.filter(item=world["item"]).values_list("type", flat=True)) == [
        "blocked"
    ]
    assert QueueEntry.objects.get(item=world["item"]).outcome == "moderated"
    # The notice went out as a direct reply and was captured as drawn up.
    assert record.notice_action is not None
    assert record.notice_action.status == PlatformAction.Status.SENT, record.notice_action.error
    sent = Item.objects.get(remote_id=record.notice_action.remote_id)
    assert (sent.direction, sent.visibility, sent.parent_remote_id) == (
        "drawn_up",
        "direct",
        world["item"].remote_id,
    )
    on_server = alice.status(record.notice_action.remote_id.rsplit("/", 1)[-1])
    assert on_server["visibility"] == "direct"


def test_report_to_the_platform_keeps_the_item_with_the_event(mastodon: MastodonServer) -> None:
    world = setup_world(mastodon)
    record = act(world, "report", reason=Reason.THREAT, reason_text="Hot mot personalen")
    assert record.status == ModerationAction.Status.DONE, record.error
    assert record.platform_action is not None and record.platform_action.remote_id
    event = record.item_event
    assert event is not None and event.type == "reported"
    assert event.details["reason"] == "threat"
    assert event.details["platform_action"] == record.platform_action.pk
    # The report leaves one event in the item's chain, and the platform's report id is in it.
    assert list(ItemEvent.objects.filter(item=world["item"]).order_by("seq")) == [event]
    assert event.details["platform_remote_id"] == record.platform_action.remote_id
    assert Item.objects.filter(pk=world["item"].pk).exists()
    # A threat opens an escalation for the unit's managers.
    assert record.escalation.status == "open"
    report = verify_archive()
    assert report.intact, report.as_dict()


def test_the_moderate_page_works_against_the_server(mastodon: MastodonServer) -> None:
    world = setup_world(mastodon)
    moderator: User = world["moderator"]
    client = Client()
    client.force_login(moderator)
    url = reverse("moderation:item_moderate", args=[world["item"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Live: the action is taken on the platform from here." in page.content.decode()
    response = client.post(
        url, {"action": "block", "reason": "insulting_data", "reason_text": "Kränkande"}
    )
    record = ModerationAction.objects.get()
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    assert record.status == ModerationAction.Status.DONE


def test_a_csam_decision_withholds_the_media_even_when_the_platform_refuses(
    mastodon: MastodonServer,
) -> None:
    """R19/R20 follow the decision: the hide fails on Mastodon, the media are withheld anyway."""
    from narvaro.archive.selectors import media_withheld_ids

    world = setup_world(mastodon)
    failed = act(world, "hide", reason=Reason.CSAM, reason_text="Sexuella övergrepp på barn")
    assert failed.status == ModerationAction.Status.FAILED
    assert failed.restricted
    events = list(ItemEvent.objects.filter(item=world["item"]).values_list("type", flat=True))
    assert events == [ItemEvent.Type.MEDIA_WITHHELD]  # no "hidden": the platform refused
    assert media_withheld_ids([world["item"].pk]) == {world["item"].pk}
    assert verify_archive().intact
    # The record page says the attachments are withheld, for everyone.
    client = Client()
    client.force_login(world["moderator"])
    page = client.get(world["item"].get_absolute_url()).content.decode()
    assert "The attachments are withheld" in page
    # Deciding again (by hand this time) does not withhold twice.
    act(world, "hide", reason=Reason.CSAM, reason_text="Gjort på plattformen", by_hand=True)
    assert (
        ItemEvent.objects.filter(item=world["item"], type=ItemEvent.Type.MEDIA_WITHHELD).count()
        == 1
    )
