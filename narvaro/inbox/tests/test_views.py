"""The inbox pages: who sees and does what, the lists and filters, each action, saved replies,
suggested answers, the audit log and the "new messages" poll.

Conversations are made the way production makes them: captures go into the archive
(`capture_batch`) and the inbox derives its conversations from the archive feed.

The cast (narvaro.lib.testing): alice manages kultur (and bibliotek below it), vera views
kultur, bob publishes for gata-park, rita is registrar, adam admin, oscar has no role.
Account A belongs to bibliotek, account B to gata-park.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from narvaro.archive.models import ItemEvent
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent, User
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import (
    Conversation,
    ConversationEvent,
    SavedReply,
    Status,
)
from narvaro.lib.testing import NarvaroTestCase
from narvaro.radar.models import Label
from narvaro.retention.models import RegistryEntry
from narvaro.retention.services import registry_flag, registry_secrecy_lift

NOW = dt.datetime(2026, 3, 5, 15, 0, tzinfo=dt.UTC)  # a Thursday afternoon
_counter = iter(range(1, 10**6))


def ago(minutes: int) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


@time_machine.travel(NOW, tick=False)
class InboxTestCase(NarvaroTestCase):
    """Helpers that make conversations through the archive, as the harvest does."""

    def converse(
        self,
        text: str = "Hej! När öppnar biblioteket?",
        *,
        account: Any = None,
        minutes_ago: int = 30,
        author: str = "@anna@social.example",
        **extra: Any,
    ) -> Conversation:
        remote_id = extra.pop("remote_id", f"m{next(_counter)}")
        account = account or self.account_a
        capture_batch(
            account=account,
            captures=[
                a_capture(
                    remote_id,
                    text=text,
                    kind=extra.pop("kind", "mention"),
                    author_handle=author,
                    created_at=ago(minutes_ago),
                    **extra,
                )
            ],
            source="test",
        )
        conversations_derive()
        return Conversation.objects.get(account=account, root_item__remote_id=remote_id)

    def answer(self, conversation: Conversation, text: str, *, minutes_ago: int = 5) -> None:
        """Our reply to the conversation's first message, as the harvest would find it."""
        root = conversation.root_item
        capture_batch(
            account=conversation.account,
            captures=[
                a_capture(
                    f"r{next(_counter)}",
                    text=text,
                    kind="reply",
                    direction="drawn_up",
                    author_handle="@bibliotek@social.example",
                    author_platform_id="1",
                    parent_remote_id=root.remote_id,
                    created_at=ago(minutes_ago),
                )
            ],
            source="test",
        )
        conversations_derive()

    def list_ids(self, user: User, **params: str) -> list[int]:
        response = self.client_for(user).get(reverse("inbox:inbox"), params)
        self.assertEqual(response.status_code, 200)
        return [row.conversation.pk for row in response.context["rows"]]

    def post(self, user: User, name: str, conversation: Conversation, data: Any = None) -> Any:
        return self.client_for(user).post(
            reverse(f"inbox:{name}", args=[conversation.pk]), data or {}
        )

    def refreshed(self, conversation: Conversation) -> Conversation:
        return Conversation.objects.select_related("unit", "assignee").get(pk=conversation.pk)


class AccessTests(InboxTestCase):
    """A conversation belongs to its unit: seen with VIEW there, answered with RESPOND."""

    def setUp(self) -> None:
        super().setUp()
        self.library = self.converse("När öppnar biblioteket?")
        self.park = self.converse("Trasig parkbänk i Norrby", account=self.account_b)

    def test_signed_out_people_are_sent_to_sign_in(self) -> None:
        for url in (
            reverse("inbox:inbox"),
            reverse("inbox:conversation_detail", args=[self.library.pk]),
        ):
            response = self.client_for(None).get(url)
            self.assertEqual(response.status_code, 302)
            self.assertIn("/sign-in/", response["Location"])

    def test_a_person_sees_only_the_conversations_of_their_units(self) -> None:
        # vera views kultur, so bibliotek below it too; bob only gata-park; oscar nothing.
        self.assertEqual(self.list_ids(self.vera, view="all"), [self.library.pk])
        self.assertEqual(self.list_ids(self.alice, view="all"), [self.library.pk])
        self.assertEqual(self.list_ids(self.bob, view="all"), [self.park.pk])
        self.assertEqual(self.list_ids(self.oscar, view="all"), [])

    def test_another_units_conversation_is_not_found(self) -> None:
        client = self.client_for(self.bob)
        for url in (
            reverse("inbox:conversation_detail", args=[self.library.pk]),
            reverse("inbox:conversation_suggestions", args=[self.library.pk]),
        ):
            self.assertEqual(client.get(url).status_code, 404, url)
        response = self.post(self.bob, "conversation_assign_me", self.library)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.client_for(self.oscar).get(self.park.get_absolute_url()).status_code, 404
        )
        missing = reverse("inbox:conversation_detail", args=[999_999])
        self.assertEqual(self.client_for(self.adam).get(missing).status_code, 404)

    def test_a_viewer_sees_the_conversation_but_cannot_act_on_it(self) -> None:
        response = self.client_for(self.vera).get(self.library.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.context["can_act"])
        self.assertNotContains(
            response, reverse("inbox:conversation_reply", args=[self.library.pk])
        )
        self.assertNotContains(response, 'name="conversations"')
        actions = {
            "conversation_reply": {"text": "Hej", "then": "answered"},
            "conversation_assign": {"assignee": self.alice.pk},
            "conversation_assign_me": {},
            "conversation_move": {"unit": self.unit_a.pk},
            "conversation_status": {"status": "closed"},
            "conversation_answered": {},
            "conversation_category": {"category": "praise"},
            "conversation_note": {"note-text": "Till Alice"},
            "conversation_register": {"description": "Ärende"},
        }
        for name, data in actions.items():
            self.assertEqual(self.post(self.vera, name, self.library, data).status_code, 403, name)
        suggestions = reverse("inbox:conversation_suggestions", args=[self.library.pk])
        self.assertEqual(self.client_for(self.vera).get(suggestions).status_code, 403)
        bulk = self.client_for(self.vera).post(
            reverse("inbox:inbox_bulk"), {"conversations": [self.library.pk], "action": "close"}
        )
        self.assertEqual(bulk.status_code, 403)
        conversation = self.refreshed(self.library)
        self.assertEqual((conversation.status, conversation.assignee), (Status.NEW, None))
        self.assertFalse(conversation.events.exclude(type=ConversationEvent.Type.CREATED).exists())

    def test_registrars_and_admins_see_every_conversation(self) -> None:
        both = sorted([self.library.pk, self.park.pk])
        self.assertEqual(sorted(self.list_ids(self.rita, view="all")), both)
        self.assertEqual(sorted(self.list_ids(self.adam, view="all")), both)
        # The registrar reads everything but answers for no unit.
        self.assertEqual(
            self.client_for(self.rita).get(self.park.get_absolute_url()).status_code, 200
        )
        self.assertEqual(self.post(self.rita, "conversation_assign_me", self.park).status_code, 403)
        self.assertEqual(self.post(self.adam, "conversation_assign_me", self.park).status_code, 302)

    def flag_library_secret(self) -> RegistryEntry:
        """The registrar flags the library conversation's first message secret (sekretess)."""
        return registry_flag(
            actor=self.rita,
            item=self.library.root_item,
            kind=RegistryEntry.Kind.SECRET,
            received_on=NOW.date(),
            sender="Anna",
            description="Uppgifter om hälsa",
            case_number="KS 2026/12",
        )

    def test_a_conversation_whose_first_item_is_secret_is_hidden_from_non_registrars(self) -> None:
        self.flag_library_secret()
        self.assertEqual(self.list_ids(self.alice, view="all"), [])
        self.assertEqual(self.list_ids(self.vera, view="all"), [])
        for user in (self.alice, self.vera):
            response = self.client_for(user).get(self.library.get_absolute_url())
            self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.post(self.alice, "conversation_assign_me", self.library).status_code, 404
        )
        self.assertIn(self.library.pk, self.list_ids(self.rita, view="all"))
        self.assertIn(self.library.pk, self.list_ids(self.adam, view="all"))
        response = self.client_for(self.rita).get(self.library.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "När öppnar biblioteket?")

    def test_a_secret_lifted_shows_the_conversation_again(self) -> None:
        entry = self.flag_library_secret()
        registry_secrecy_lift(actor=self.rita, entry=entry, reason="Sekretessen prövad")
        self.assertTrue(
            self.library.root_item.events.filter(type=ItemEvent.Type.SECRET_LIFTED).exists()
        )
        self.assertEqual(self.list_ids(self.alice, view="all"), [self.library.pk])

    def test_saved_replies_and_routing_rules_are_scoped(self) -> None:
        park_reply = SavedReply.objects.create(
            unit=self.unit_b, title="Parkbänkar", body="Tack, vi lagar bänken."
        )
        # Not offered in bibliotek's conversation, and not readable by kultur's people.
        url = reverse("inbox:conversation_saved_reply", args=[self.library.pk, park_reply.pk])
        self.assertEqual(self.client_for(self.alice).get(url).status_code, 404)
        edit = reverse("inbox:saved_reply_edit", args=[park_reply.pk])
        self.assertEqual(self.client_for(self.alice).get(edit).status_code, 404)
        # bob (publisher) reads his unit's reply but may not change it: that is for managers.
        self.assertEqual(self.client_for(self.bob).get(edit).status_code, 403)
        self.assertEqual(
            self.client_for(self.vera).get(reverse("inbox:saved_reply_create")).status_code, 403
        )
        listed = self.client_for(self.alice).get(reverse("inbox:saved_reply_list"))
        self.assertNotContains(listed, "Parkbänkar")
        for user in (self.alice, self.rita):
            self.assertIn(
                self.client_for(user).get(reverse("inbox:routing_rule_list")).status_code,
                (302, 403),
            )
        self.assertEqual(
            self.client_for(self.adam).get(reverse("inbox:routing_rule_list")).status_code, 200
        )


class ListTests(InboxTestCase):
    """The tabs (views) and filters of the list."""

    def setUp(self) -> None:
        super().setUp()
        self.new = self.converse("Har ni öppet på lördag?", minutes_ago=10)
        self.mine = self.converse("Kan jag låna om?", minutes_ago=20)
        self.mine.assignee = self.alice
        self.mine.status = Status.OPEN
        self.mine.save()
        self.waiting = self.converse(
            "Vilket bibliotekskort?", minutes_ago=30, author="@bo@x.example"
        )
        Conversation.objects.filter(pk=self.waiting.pk).update(status=Status.WAITING)
        self.answered = self.converse("Tack för hjälpen", minutes_ago=40)
        self.answer(self.answered, "Varsågod!")
        self.closed = self.converse("Spam spam", minutes_ago=50)
        Conversation.objects.filter(pk=self.closed.pk).update(status=Status.CLOSED)
        self.late = self.converse("Ingen svarar!", minutes_ago=60, author="@cecilia@x.example")
        Conversation.objects.filter(pk=self.late.pk).update(due_at=ago(1), category="critique")
        self.later = self.converse("Hallå?", minutes_ago=70)
        Conversation.objects.filter(pk=self.later.pk).update(due_at=ago(30))
        self.park = self.converse("Parkbänken", account=self.account_b, minutes_ago=15)

    def test_each_view_shows_its_conversations_newest_message_first(self) -> None:
        self.assertEqual(self.refreshed(self.answered).status, Status.ANSWERED)
        expected = {
            "active": [self.new, self.mine, self.late, self.later],
            "mine": [self.mine],
            "unassigned": [self.new, self.late, self.later],
            "waiting": [self.waiting],
            "done": [self.answered, self.closed],
            # The overdue list: the longest overdue first.
            "overdue": [self.later, self.late],
            "all": [
                self.new,
                self.mine,
                self.waiting,
                self.answered,
                self.closed,
                self.late,
                self.later,
            ],
        }
        for view, conversations in expected.items():
            with self.subTest(view=view):
                self.assertEqual(
                    self.list_ids(self.alice, view=view), [c.pk for c in conversations]
                )

    def test_the_default_view_is_the_conversations_needing_an_answer(self) -> None:
        self.assertEqual(
            self.list_ids(self.alice), [self.new.pk, self.mine.pk, self.late.pk, self.later.pk]
        )

    def test_the_tabs_show_counts_and_mark_the_current_one(self) -> None:
        response = self.client_for(self.alice).get(reverse("inbox:inbox"), {"view": "overdue"})
        tabs = {tab["view"]: tab for tab in response.context["tabs"]}
        self.assertEqual([t["view"] for t in response.context["tabs"]], [
            "active", "mine", "unassigned", "overdue", "waiting", "done", "all"
        ])  # fmt: skip
        self.assertEqual((tabs["active"]["count"], tabs["mine"]["count"]), (4, 1))
        self.assertEqual(tabs["overdue"]["count"], 2)
        self.assertTrue(tabs["overdue"]["current"])
        self.assertFalse(tabs["active"]["current"])
        self.assertContains(response, 'href="?view=overdue" aria-current="page"', count=1)
        self.assertContains(response, '?view=active" >', count=1)
        self.assertContains(response, "is-overdue", count=2)

    def test_filters_narrow_the_list_and_stay_with_the_tabs(self) -> None:
        self.assertEqual(self.list_ids(self.alice, view="all", author="cecilia"), [self.late.pk])
        self.assertEqual(self.list_ids(self.alice, view="all", category="critique"), [self.late.pk])
        self.assertEqual(
            self.list_ids(self.adam, view="active", unit=str(self.unit_b.pk)), [self.park.pk]
        )
        # A unit includes the units below it.
        self.assertEqual(len(self.list_ids(self.adam, view="active", unit=str(self.unit_a.pk))), 4)
        response = self.client_for(self.alice).get(
            reverse("inbox:inbox"), {"view": "all", "author": "cecilia"}
        )
        for tab in response.context["tabs"]:
            self.assertIn("author=cecilia", tab["url"])
        # The conversation links keep the list, so j / k walk the same list.
        self.assertContains(response, f"/inbox/{self.late.pk}/?view=all&amp;author=cecilia")

    def test_the_list_per_person(self) -> None:
        for reader in (self.alice, self.vera):
            ids = self.list_ids(reader, view="all", assignee=str(self.alice.pk))
            self.assertEqual(ids, [self.mine.pk])
        # bob holds no role where vera looks, so he is not a choice in her filter.
        form = self.client_for(self.vera).get(reverse("inbox:inbox")).context["form"]
        self.assertNotIn(self.bob, form.fields["assignee"].queryset)

    def test_a_unit_the_person_cannot_see_is_no_filter(self) -> None:
        # bob's unit is not a choice for alice: the filter is refused, she sees her own list.
        ids = self.list_ids(self.alice, view="all", unit=str(self.unit_b.pk))
        self.assertNotIn(self.park.pk, ids)

    def test_a_long_list_is_paged_up_to_the_count_cap_and_asks_for_a_filter(self) -> None:
        with self.settings(NARVARO_RESULT_COUNT_CAP=3):
            first = self.client_for(self.alice).get(reverse("inbox:inbox"), {"view": "all"})
            last = self.client_for(self.alice).get(
                reverse("inbox:inbox"), {"view": "all", "page": "9"}
            )
            narrow = self.client_for(self.alice).get(
                reverse("inbox:inbox"), {"view": "all", "author": "cecilia"}
            )
        self.assertTrue(first.context["page"].paginator.capped)
        self.assertContains(first, "More than 3 conversations: the first 3 are shown.")
        # Past the cap nothing is counted; the last page is the one ending at the cap.
        self.assertEqual(
            [row.conversation.pk for row in last.context["rows"]],
            [self.new.pk, self.mine.pk, self.waiting.pk],
        )
        self.assertFalse(narrow.context["page"].paginator.capped)
        self.assertNotContains(narrow, "More than")

    def test_an_empty_list_says_so(self) -> None:
        response = self.client_for(self.alice).get(
            reverse("inbox:inbox"), {"view": "all", "author": "nobody-like-this"}
        )
        self.assertContains(response, "No conversations here.")
        self.assertNotContains(response, 'id="bulk-form"')

    def test_a_restricted_conversations_text_is_not_previewed_for_non_moderators(self) -> None:
        Conversation.objects.filter(pk=self.new.pk).update(restricted=True)
        Conversation.objects.filter(pk=self.park.pk).update(restricted=True)
        vera = self.client_for(self.vera).get(reverse("inbox:inbox"))
        self.assertNotContains(vera, "Har ni öppet på lördag?")
        self.assertContains(vera, "Restricted content")
        # alice is kultur's manager, so she moderates bibliotek and sees the text.
        alice = self.client_for(self.alice).get(reverse("inbox:inbox"))
        self.assertContains(alice, "Har ni öppet på lördag?")


class QueryCountTests(InboxTestCase):
    """The list and the conversation page cost the same number of queries however much there is."""

    def list_queries(self, user: User, **params: str) -> int:
        client = self.client_for(user)
        client.get(reverse("inbox:inbox"), params)  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("inbox:inbox"), params)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def many(self, count: int, **extra: Any) -> None:
        captures = [
            a_capture(
                f"q{next(_counter)}",
                text=f"Fråga nummer {n} om biblioteket",
                kind="mention",
                author_handle=f"@person{n}@social.example",
                created_at=ago(n + 1),
            )
            for n in range(count)
        ]
        capture_batch(account=extra.get("account", self.account_a), captures=captures, source="t")
        conversations_derive()

    def test_the_list_costs_the_same_for_10_and_60_conversations(self) -> None:
        for user in (self.alice, self.adam):
            Conversation.objects.all().delete()
            self.many(10)
            few = {view: self.list_queries(user, view=view) for view in ("active", "all")}
            self.many(50)
            Conversation.objects.filter(pk__in=Conversation.objects.values("pk")[:20]).update(
                assignee=self.alice, status=Status.OPEN
            )
            self.assertEqual(Conversation.objects.count(), 60)
            for view in ("active", "all"):
                self.assertEqual(self.list_queries(user, view=view), few[view], (user, view))
            self.assertLessEqual(few["all"], 20)
            # The second page of 60 costs the same as the first.
            self.assertEqual(self.list_queries(user, view="all", page="2"), few["all"])

    def test_the_conversation_page_costs_the_same_for_1_and_12_messages(self) -> None:
        conversation = self.converse("Första frågan", minutes_ago=100)
        SavedReply.objects.create(unit=self.unit_a, title="Öppettider", body="Hej {name}!")
        client = self.client_for(self.alice)
        url = conversation.get_absolute_url()
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        few = len(queries)
        parent = conversation.root_item.remote_id
        for n in range(11):
            capture_batch(
                account=self.account_a,
                captures=[
                    a_capture(
                        f"f{next(_counter)}",
                        text=f"Och en sak till, nummer {n}",
                        kind="reply",
                        parent_remote_id=parent,
                        created_at=ago(90 - n),
                    )
                ],
                source="test",
            )
            conversations_derive()
        client.post(
            reverse("inbox:conversation_note", args=[conversation.pk]), {"note-text": "Kollar"}
        )
        client.post(reverse("inbox:conversation_assign_me", args=[conversation.pk]))
        self.assertEqual(self.refreshed(conversation).inbound_count, 12)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.context["timeline"].entries), 12)
        self.assertEqual(len(queries), few)


class ActionTests(InboxTestCase):
    """What a responder does with one conversation; each is an event and an audit line."""

    def setUp(self) -> None:
        super().setUp()
        self.conversation = self.converse("Hej! När öppnar biblioteket?")

    def audited(self, summary: str) -> AuditEvent:
        return AuditEvent.objects.get(
            target_type="inbox.conversation", target_id=str(self.conversation.pk), summary=summary
        )

    def test_assign_to_a_responder_of_the_unit(self) -> None:
        response = self.post(
            self.alice, "conversation_assign", self.conversation, {"assignee": self.adam.pk}
        )
        self.assertRedirects(response, self.conversation.get_absolute_url())
        conversation = self.refreshed(self.conversation)
        self.assertEqual((conversation.assignee, conversation.status), (self.adam, Status.OPEN))
        event = conversation.events.get(type=ConversationEvent.Type.ASSIGNED)
        self.assertEqual((event.actor, event.details["to"]), (self.alice, self.adam.pk))
        self.assertEqual(self.audited("conversation assigned").changes["assignee"], ["", "Adam"])

    def test_assign_to_someone_who_cannot_answer_for_the_unit_is_refused(self) -> None:
        # bob answers for gata-park only; vera only views.
        for person in (self.bob, self.vera):
            response = self.post(
                self.alice, "conversation_assign", self.conversation, {"assignee": person.pk}
            )
            self.assertEqual(response.status_code, 400)
            self.assertTrue(response.context["assign_form"].errors)
        self.assertIsNone(self.refreshed(self.conversation).assignee)

    def test_assign_to_nobody_clears_the_assignee(self) -> None:
        self.post(self.alice, "conversation_assign_me", self.conversation)
        self.post(self.alice, "conversation_assign", self.conversation, {"assignee": ""})
        self.assertIsNone(self.refreshed(self.conversation).assignee)
        self.assertEqual(
            self.conversation.events.filter(type=ConversationEvent.Type.ASSIGNED).count(), 2
        )

    def test_assign_to_me(self) -> None:
        response = self.post(self.alice, "conversation_assign_me", self.conversation)
        self.assertRedirects(response, self.conversation.get_absolute_url())
        self.assertEqual(self.refreshed(self.conversation).assignee, self.alice)
        self.assertEqual(self.list_ids(self.alice, view="mine"), [self.conversation.pk])
        page = self.client_for(self.alice).get(self.conversation.get_absolute_url())
        self.assertNotContains(
            page, reverse("inbox:conversation_assign_me", args=[self.conversation.pk])
        )

    def test_move_to_another_unit_clears_the_assignee_and_keeps_the_history(self) -> None:
        self.post(self.alice, "conversation_assign_me", self.conversation)
        response = self.post(
            self.alice, "conversation_move", self.conversation, {"unit": self.unit_a.pk}
        )
        self.assertRedirects(response, self.conversation.get_absolute_url())
        conversation = self.refreshed(self.conversation)
        self.assertEqual((conversation.unit, conversation.assignee), (self.unit_a, None))
        event = conversation.events.get(type=ConversationEvent.Type.MOVED)
        self.assertEqual(
            (event.details["from_name"], event.details["to_name"]), ("Biblioteket", "Kultur")
        )
        self.assertEqual(
            self.audited("conversation moved to another unit").changes["unit"],
            ["Biblioteket", "Kultur"],
        )

    def test_move_to_a_unit_the_person_cannot_see_is_refused(self) -> None:
        response = self.post(
            self.alice, "conversation_move", self.conversation, {"unit": self.unit_b.pk}
        )
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response.context["move_form"].errors)
        self.assertEqual(self.refreshed(self.conversation).unit, self.unit_a_child)

    def test_an_admin_moves_it_to_another_units_inbox(self) -> None:
        response = self.post(
            self.adam, "conversation_move", self.conversation, {"unit": self.unit_b.pk}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.list_ids(self.bob), [self.conversation.pk])
        self.assertEqual(self.list_ids(self.alice), [])

    def test_status_open_waiting_closed_and_no_other_by_hand(self) -> None:
        for status in (Status.WAITING, Status.CLOSED, Status.OPEN):
            response = self.post(
                self.alice, "conversation_status", self.conversation, {"status": status}
            )
            self.assertRedirects(response, self.conversation.get_absolute_url())
            conversation = self.refreshed(self.conversation)
            self.assertEqual(conversation.status, status)
            self.assertEqual(conversation.closed_at is not None, status == Status.CLOSED)
        for status in (Status.ANSWERED, Status.REGISTERED, "nonsense"):
            response = self.post(
                self.alice, "conversation_status", self.conversation, {"status": status}
            )
            self.assertEqual(response.status_code, 400)
        self.assertEqual(
            list(
                self.conversation.events.filter(type=ConversationEvent.Type.STATUS)
                .order_by("id")
                .values_list("details__to", flat=True)
            ),
            ["waiting", "closed", "open"],
        )

    def test_answered_another_way(self) -> None:
        response = self.post(self.alice, "conversation_answered", self.conversation)
        self.assertRedirects(response, self.conversation.get_absolute_url())
        conversation = self.refreshed(self.conversation)
        self.assertEqual(conversation.status, Status.ANSWERED)
        self.assertEqual(conversation.answered_at, NOW)
        event = conversation.events.get(type=ConversationEvent.Type.STATUS)
        self.assertEqual(event.details["elsewhere"], "yes")
        self.assertEqual(self.list_ids(self.alice, view="done"), [conversation.pk])
        page = self.client_for(self.alice).get(conversation.get_absolute_url())
        self.assertNotContains(page, reverse("inbox:conversation_answered", args=[conversation.pk]))

    def test_category_is_corrected_and_becomes_a_label(self) -> None:
        response = self.post(
            self.alice, "conversation_category", self.conversation, {"category": "critique"}
        )
        self.assertRedirects(response, self.conversation.get_absolute_url())
        self.assertEqual(self.refreshed(self.conversation).category, "critique")
        label = Label.objects.get(item=self.conversation.root_item)
        self.assertEqual((label.category, label.person), ("critique", self.alice))
        bad = self.post(
            self.alice, "conversation_category", self.conversation, {"category": "spam"}
        )
        self.assertEqual(bad.status_code, 400)

    def test_an_internal_note_is_kept_in_the_history_and_never_sent(self) -> None:
        response = self.post(
            self.alice, "conversation_note", self.conversation, {"note-text": "Ringer henne."}
        )
        self.assertRedirects(response, self.conversation.get_absolute_url())
        note = self.conversation.events.get(type=ConversationEvent.Type.NOTE)
        self.assertEqual((note.text, note.actor), ("Ringer henne.", self.alice))
        page = self.client_for(self.vera).get(self.conversation.get_absolute_url())
        self.assertContains(page, "Ringer henne.")
        empty = self.post(self.alice, "conversation_note", self.conversation, {"note-text": " "})
        self.assertEqual(empty.status_code, 400)
        self.assertEqual(
            self.conversation.events.filter(type=ConversationEvent.Type.NOTE).count(), 1
        )

    def test_register_as_a_case(self) -> None:
        response = self.post(
            self.alice,
            "conversation_register",
            self.conversation,
            {"description": "Klagomål på bemötande", "case_number": "KUL 2026/7"},
        )
        self.assertRedirects(response, self.conversation.get_absolute_url())
        conversation = self.refreshed(self.conversation)
        self.assertEqual(conversation.status, Status.REGISTERED)
        entry = RegistryEntry.objects.get(item=conversation.root_item)
        self.assertEqual(
            (entry.kind, entry.scope, entry.case_number, entry.description),
            (
                RegistryEntry.Kind.CASE,
                RegistryEntry.Scope.THREAD,
                "KUL 2026/7",
                "Klagomål på bemötande",
            ),
        )
        self.assertTrue(
            conversation.root_item.events.filter(type=ItemEvent.Type.FLAGGED_CASE).exists()
        )
        event = conversation.events.get(type=ConversationEvent.Type.REGISTERED)
        self.assertEqual(event.details["entry"], entry.pk)
        self.assertEqual(self.list_ids(self.alice, view="done"), [conversation.pk])

    def test_register_without_a_description_is_refused(self) -> None:
        response = self.post(self.alice, "conversation_register", self.conversation, {})
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response.context["register_form"].errors)
        self.assertFalse(RegistryEntry.objects.exists())

    def test_a_reply_without_a_connection_is_refused_with_the_reason(self) -> None:
        page = self.client_for(self.alice).get(self.conversation.get_absolute_url())
        self.assertFalse(page.context["can_reply"])
        self.assertContains(page, "no working connection")
        response = self.post(
            self.alice,
            "conversation_reply",
            self.conversation,
            {"text": "Hej!", "then": "answered"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.refreshed(self.conversation).status, Status.NEW)

    def test_neighbours_follow_the_list_the_person_came_from(self) -> None:
        older = self.converse("Äldre fråga", minutes_ago=90)
        newer = self.converse("Nyare fråga", minutes_ago=1)
        response = self.client_for(self.alice).get(
            self.conversation.get_absolute_url(), {"view": "active"}
        )
        neighbours = response.context["neighbours"]
        self.assertEqual(neighbours["previous"], f"/inbox/{newer.pk}/?view=active")
        self.assertEqual(neighbours["next"], f"/inbox/{older.pk}/?view=active")
        self.assertEqual(neighbours["list"], "/inbox/?view=active")


class BulkTests(InboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.first = self.converse("En")
        self.second = self.converse("Två")
        self.park = self.converse("Tre", account=self.account_b)

    def bulk(self, user: User, ids: list[int], **data: Any) -> Any:
        return self.client_for(user).post(
            reverse("inbox:inbox_bulk"),
            {"conversations": ids, "querystring": "view=all", **data},
        )

    def test_bulk_assign_move_and_close(self) -> None:
        ids = [self.first.pk, self.second.pk]
        response = self.bulk(self.alice, ids, action="assign", assignee=self.alice.pk)
        self.assertRedirects(response, "/inbox/?view=all")
        self.assertEqual(
            self.list_ids(self.alice, view="mine"), ids[::-1] if ids[0] < ids[1] else ids
        )
        self.bulk(self.alice, ids, action="move", unit=self.unit_a.pk)
        self.assertEqual(
            set(Conversation.objects.filter(pk__in=ids).values_list("unit_id", "assignee")),
            {(self.unit_a.pk, None)},
        )
        self.bulk(self.alice, ids, action="close")
        self.assertEqual(
            set(Conversation.objects.filter(pk__in=ids).values_list("status", flat=True)),
            {Status.CLOSED},
        )
        self.assertEqual(
            ConversationEvent.objects.filter(
                conversation__in=ids, type=ConversationEvent.Type.MOVED
            ).count(),
            2,
        )
        self.assertEqual(self.refreshed(self.park).status, Status.NEW)

    def test_bulk_with_another_units_conversation_changes_nothing(self) -> None:
        response = self.bulk(self.alice, [self.first.pk, self.park.pk], action="close")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.refreshed(self.first).status, Status.NEW)

    def test_bulk_move_without_a_unit_and_bulk_without_a_choice_are_refused(self) -> None:
        response = self.bulk(self.alice, [self.first.pk], action="move")
        self.assertRedirects(response, "/inbox/?view=all", fetch_redirect_response=False)
        messages = [str(m) for m in response.wsgi_request._messages]
        self.assertEqual(messages, ["Choose the unit to move to."])
        response = self.bulk(self.alice, [], action="close")
        messages = [str(m) for m in response.wsgi_request._messages]
        self.assertEqual(messages, ["Choose at least one conversation."])
        self.assertEqual(self.refreshed(self.first).unit, self.unit_a_child)

    def test_bulk_move_to_a_unit_the_person_cannot_see_is_refused(self) -> None:
        # The unit is not among the form's choices: refused with a message, nothing moved.
        response = self.bulk(self.alice, [self.first.pk], action="move", unit=self.unit_b.pk)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.refreshed(self.first).unit, self.unit_a_child)

    def test_the_bulk_form_offers_only_people_who_can_answer_and_reachable_units(self) -> None:
        response = self.client_for(self.alice).get(reverse("inbox:inbox"))
        form = response.context["bulk_form"]
        people = set(form.fields["assignee"].queryset)
        self.assertIn(self.alice, people)
        self.assertNotIn(self.vera, people)  # a viewer cannot answer
        self.assertNotIn(self.bob, people)  # answers for another unit
        self.assertNotIn(self.unit_b, set(form.fields["unit"].queryset))


class SavedReplyTests(InboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.conversation = self.converse("Hej! När öppnar biblioteket?")

    def create(self, user: User, **data: Any) -> Any:
        fields = {
            "unit": self.unit_a.pk,
            "title": "Öppettider",
            "language": "sv",
            "purpose": "answer",
            "body": "Hej {name}! Biblioteket öppnar klockan tio. Hälsningar {signature}, {unit}",
            "active": "on",
        }
        fields.update(data)
        return self.client_for(user).post(reverse("inbox:saved_reply_create"), fields)

    def test_a_manager_creates_a_saved_reply(self) -> None:
        response = self.create(self.alice)
        self.assertRedirects(response, reverse("inbox:saved_reply_list"))
        saved = SavedReply.objects.get()
        self.assertEqual((saved.unit, saved.created_by), (self.unit_a, self.alice))
        self.assertTrue(
            AuditEvent.objects.filter(
                target_type="inbox.savedreply", target_id=str(saved.pk), action="create"
            ).exists()
        )
        listed = self.client_for(self.vera).get(reverse("inbox:saved_reply_list"))
        self.assertContains(listed, "Öppettider")
        self.assertFalse(listed.context["can_create"])
        edited = self.client_for(self.alice).post(
            reverse("inbox:saved_reply_edit", args=[saved.pk]),
            {
                "unit": self.unit_a.pk,
                "title": "Öppettider (ny)",
                "language": "sv",
                "purpose": "answer",
                "body": "Hej {name}!",
            },
        )
        self.assertEqual(edited.status_code, 302)
        saved.refresh_from_db()
        self.assertEqual((saved.title, saved.active), ("Öppettider (ny)", False))

    def test_only_a_unit_the_person_manages_can_hold_it(self) -> None:
        response = self.create(self.alice, unit=self.unit_b.pk)
        self.assertEqual(response.status_code, 200)
        self.assertIn("unit", response.context["form"].errors)
        self.assertEqual(self.create(self.bob).status_code, 403)  # bob manages no unit
        self.assertFalse(SavedReply.objects.exists())

    def test_placeholders_are_filled_for_the_conversation(self) -> None:
        self.create(self.alice)
        saved = SavedReply.objects.get()
        response = self.client_for(self.alice).get(
            reverse("inbox:conversation_saved_reply", args=[self.conversation.pk, saved.pk])
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["reply_form"].initial["text"],
            "Hej Anna! Biblioteket öppnar klockan tio. Hälsningar Alice, Biblioteket",
        )
        self.assertEqual(response.context["reply_form"].initial["saved_reply"], saved.pk)

    def test_an_unknown_placeholder_is_refused_naming_it(self) -> None:
        response = self.create(self.alice, body="Hej {namn}! Mvh {signature}")
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors["body"]
        self.assertEqual(len(errors), 1)
        self.assertIn("{namn}", errors[0])
        self.assertContains(response, "{namn}")
        self.assertFalse(SavedReply.objects.exists())

    def test_an_unclosed_or_odd_placeholder_is_refused_naming_it(self) -> None:
        for body, named in [
            ("Hej {name! Välkommen", "{name"),
            ("Hej {name.__class__}", "{name.__class__}"),
            ("Hej {}", "{}"),
            ("Hej name} och {name}", "}"),
            ("Hej {name}{", "{"),
        ]:
            with self.subTest(body=body):
                response = self.create(self.alice, body=body)
                self.assertEqual(response.status_code, 200)
                errors = response.context["form"].errors["body"]
                self.assertIn(named, errors[0])
        self.assertFalse(SavedReply.objects.exists())

    def test_doubled_braces_are_plain_braces(self) -> None:
        self.create(self.alice, body="Skriv {{ditt namn}} i rutan, {name}.")
        saved = SavedReply.objects.get()
        response = self.client_for(self.alice).get(
            reverse("inbox:conversation_saved_reply", args=[self.conversation.pk, saved.pk])
        )
        self.assertEqual(
            response.context["reply_form"].initial["text"], "Skriv {ditt namn} i rutan, Anna."
        )

    def test_saved_replies_of_the_unit_and_above_are_offered_on_the_page(self) -> None:
        SavedReply.objects.create(unit=self.unit_a, title="Från kultur", body="Hej")
        SavedReply.objects.create(unit=self.root, title="Från kommunen", body="Hej")
        SavedReply.objects.create(unit=self.unit_b, title="Från parken", body="Hej")
        SavedReply.objects.create(unit=self.unit_a, title="Gammal", body="Hej", active=False)
        page = self.client_for(self.alice).get(self.conversation.get_absolute_url())
        titles = [s.title for s in page.context["saved_replies"]]
        self.assertEqual(sorted(titles), ["Från kommunen", "Från kultur"])


class SuggestionTests(InboxTestCase):
    def suggestions(self, conversation: Conversation) -> str:
        response = self.client_for(self.alice).get(
            reverse("inbox:conversation_suggestions", args=[conversation.pk])
        )
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_a_saved_reply_and_an_earlier_answer_are_ranked_but_not_its_own_answer(self) -> None:
        earlier = self.converse("Vilka öppettider har biblioteket på lördagar?", minutes_ago=300)
        self.answer(earlier, "Biblioteket har öppet klockan 10–14 på lördagar.", minutes_ago=290)
        unrelated = self.converse("Var lämnar jag grovsopor?", minutes_ago=280)
        self.answer(unrelated, "Grovsopor lämnar du på återvinningscentralen.", minutes_ago=270)
        SavedReply.objects.create(
            unit=self.unit_a,
            title="Öppettider",
            body="Hej {name}! Öppettiderna för biblioteket finns på webben.",
        )
        SavedReply.objects.create(
            unit=self.unit_a,
            title="Hänvisning",
            purpose=SavedReply.Purpose.REFERRAL,
            body="Vi kan inte hantera ditt ärende här om öppettider för biblioteket.",
        )
        question = self.converse("Hej, vilka öppettider har biblioteket på lördag?")
        html = self.suggestions(question)
        earlier_answer = html.find("Biblioteket har öppet klockan 10–14 på lördagar.")
        saved_reply = html.find("Saved reply: Öppettider")
        self.assertGreater(earlier_answer, -1)
        self.assertGreater(saved_reply, -1)
        # The earlier answer fits best (the same question was asked), with the question shown.
        self.assertLess(earlier_answer, saved_reply)
        self.assertIn("Vilka öppettider har biblioteket på lördagar?", html)
        # Referrals are chosen by hand, not suggested; anything else ranks below the fitting.
        self.assertNotIn("Hänvisning", html)
        unrelated_at = html.find("Grovsopor lämnar du")
        self.assertTrue(unrelated_at == -1 or unrelated_at > saved_reply)
        self.assertIn("Use this", html)
        # The earlier conversation is not offered its own answer.
        self.assertNotIn("Biblioteket har öppet klockan 10–14", self.suggestions(earlier))

    def test_nothing_fits_says_so(self) -> None:
        question = self.converse("Xyzzy plugh")
        self.assertIn(
            "No earlier answer or saved reply fits this message.", self.suggestions(question)
        )

    def test_another_units_answers_are_not_suggested(self) -> None:
        park = self.converse(
            "Vilka öppettider har parken?", account=self.account_b, minutes_ago=300
        )
        self.answer(park, "Parken har öppet dygnet runt.", minutes_ago=290)
        question = self.converse("Vilka öppettider har parken vid biblioteket?")
        html = self.suggestions(question)
        self.assertNotIn("Parken har öppet dygnet runt.", html)
        self.assertIn("No earlier answer or saved reply fits this message.", html)


class MarkupTests(InboxTestCase):
    """What axe checks in the browser, checked here for every role's rendering as well."""

    def ids(self, html: str) -> list[str]:
        return re.findall(r'\sid="([^"]+)"', html)

    def test_no_page_of_the_inbox_repeats_an_id(self) -> None:
        conversation = self.converse()
        SavedReply.objects.create(unit=self.unit_a, title="Öppettider", body="Hej {name}!")
        pages = [
            reverse("inbox:inbox"),
            reverse("inbox:inbox") + "?view=all",
            conversation.get_absolute_url(),
            reverse("inbox:saved_reply_list"),
        ]
        for user in (self.alice, self.vera, self.adam):
            for url in pages:
                with self.subTest(user=user.username, url=url):
                    ids = self.ids(self.client_for(user).get(url).content.decode())
                    self.assertEqual(
                        sorted({i for i in ids if ids.count(i) > 1}), [], "repeated ids"
                    )

    def test_a_refused_action_shows_an_error_summary_that_links_to_the_field(self) -> None:
        conversation = self.converse()
        response = self.post(self.alice, "conversation_note", conversation, {"note-text": ""})
        self.assertEqual(response.status_code, 400)
        html = response.content.decode()
        self.assertEqual(html.count("data-error-summary"), 1)
        self.assertIn('href="#id_note-text"', html)
        response = self.post(self.alice, "conversation_register", conversation, {})
        html = response.content.decode()
        self.assertIn('href="#id_description"', html)
        self.assertIn('<details class="section" open>', html)


class AuditAndNewsTests(InboxTestCase):
    def test_opening_a_conversation_is_logged(self) -> None:
        conversation = self.converse()
        self.client_for(self.vera).get(conversation.get_absolute_url())
        event = AuditEvent.objects.get(
            action=AuditEvent.Action.VIEW,
            target_type="inbox.conversation",
            target_id=str(conversation.pk),
        )
        self.assertEqual((event.actor, event.unit_id), (self.vera, self.unit_a_child.pk))
        self.assertEqual(event.summary, "conversation viewed")
        # A refused look is no view of the records.
        self.client_for(self.bob).get(conversation.get_absolute_url())
        self.assertFalse(AuditEvent.objects.filter(actor=self.bob, action="view").exists())

    def test_each_action_is_in_the_audit_log_with_its_unit(self) -> None:
        conversation = self.converse()
        self.post(self.alice, "conversation_assign_me", conversation)
        self.post(self.alice, "conversation_status", conversation, {"status": "waiting"})
        self.post(self.alice, "conversation_note", conversation, {"note-text": "Väntar"})
        self.post(self.alice, "conversation_category", conversation, {"category": "question"})
        summaries = list(
            AuditEvent.objects.filter(
                target_type="inbox.conversation",
                target_id=str(conversation.pk),
                action=AuditEvent.Action.UPDATE,
            )
            .order_by("id")
            .values_list("summary", "unit_id", "actor")
        )
        unit, alice = self.unit_a_child.pk, self.alice.pk
        self.assertEqual(
            summaries,
            [
                ("conversation assigned", unit, alice),
                ("conversation status changed", unit, alice),
                ("internal note added to the conversation", unit, alice),
                ("conversation category set", unit, alice),
            ],
        )

    def test_the_poll_tells_of_new_messages_since_the_list_was_loaded(self) -> None:
        self.converse("Gammal", minutes_ago=60)
        client = self.client_for(self.alice)
        page = client.get(reverse("inbox:inbox"), {"view": "active"})
        loaded_at = page.context["loaded_at"]
        self.assertContains(page, 'role="status"')
        self.assertContains(page, 'hx-trigger="every 30s, narvaro:poll"')
        url = reverse("inbox:inbox_news")
        # Nothing new, and the page shows nothing: no swap, so nothing is announced again.
        quiet = client.get(url, {"view": "active", "since": loaded_at, "shown": "0"})
        self.assertEqual(quiet.status_code, 204)
        with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
            self.converse("Ny fråga", minutes_ago=-2)
            self.converse("En till", minutes_ago=-3)
            self.converse("Parken", account=self.account_b, minutes_ago=-3)
            news = client.get(url, {"view": "active", "since": loaded_at, "shown": "0"})
            again = client.get(url, {"view": "active", "since": loaded_at, "shown": "2"})
        self.assertEqual(news.status_code, 200)
        self.assertEqual(news.context["count"], 2)
        self.assertContains(news, "2 conversations have new messages")
        self.assertContains(news, 'href="?view=active"')
        # With htmx, "show" refreshes the list and the tabs in place, on the first page.
        self.assertEqual(news.context["show_url"], "/inbox/?view=active&updated=1")
        self.assertContains(news, 'hx-select="#inbox-live"')
        self.assertContains(news, 'hx-select-oob="#news-poll,#inbox-tabs"')
        with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
            shown = client.get(news.context["show_url"])
        self.assertContains(shown, "The list is up to date.")
        self.assertEqual(len(shown.context["rows"]), len(page.context["rows"]) + 2)
        # The refreshed page's links and tabs do not carry the refresh marker on.
        self.assertEqual(shown.context["querystring"], "view=active")
        for tab in shown.context["tabs"]:
            self.assertNotIn("updated", tab["url"])
        # The next poll asks with what is shown now, and keeps the list and the time.
        poll = news.context["poll_url"]
        self.assertIn("shown=2", poll)
        self.assertIn("view=active", poll)
        self.assertIn("since=", poll)
        self.assertEqual(again.status_code, 204)

    def test_the_conversation_page_shows_new_messages_and_changes_in_place(self) -> None:
        conversation = self.converse("Har ni öppet i påsk?", minutes_ago=60)
        client = self.client_for(self.alice)
        page = client.get(reverse("inbox:conversation_detail", args=[conversation.pk]))
        url = reverse("inbox:conversation_updates", args=[conversation.pk])
        shown = {"stamp": page.context["timeline"].stamp.encode()}
        self.assertContains(page, 'id="conversation-poll"')
        self.assertContains(page, f"{url}?stamp={shown['stamp']}")
        views_logged = AuditEvent.objects.filter(summary__icontains="viewed").count()
        # Nothing happened: nothing to swap or announce, in a fixed number of queries.
        with CaptureQueriesContext(connection) as quiet_queries:
            self.assertEqual(client.get(url, shown).status_code, 204)
        # A colleague answers on the platform (the harvest finds it), and another assigns it.
        self.answer(conversation, "Ja, vi har öppet.", minutes_ago=10)
        self.post(self.adam, "conversation_assign", conversation, {"assignee": self.alice.pk})
        update = client.get(url, shown)
        self.assertEqual(update.status_code, 200)
        self.assertEqual(update.context["new_messages"], 1)
        # The assignment is one change (its event; the facts it changed are not counted again).
        self.assertEqual(update.context["new_events"], 1)
        self.assertContains(update, "1 new message in the conversation.")
        self.assertContains(update, "1 change by a colleague or the system.")
        for part in ("conversation-facts", "conversation-messages", "conversation-history"):
            self.assertContains(update, f'id="{part}" hx-swap-oob="true"')
        self.assertContains(update, "Ja, vi har öppet.")
        self.assertContains(update, "Alice</dd>")
        # The next poll asks with what is shown now; seeing the messages again is logged.
        after = {"stamp": update.context["timeline"].stamp.encode()}
        with CaptureQueriesContext(connection) as later_queries:
            self.assertEqual(client.get(url, after).status_code, 204)
        self.assertEqual(len(later_queries), len(quiet_queries))  # more messages, same cost
        self.assertEqual(
            AuditEvent.objects.filter(summary__icontains="viewed").count(), views_logged + 1
        )
        # A moderator hides the message (an archive event, no conversation event): shown too.
        from narvaro.moderation import services as moderation
        from narvaro.moderation.models import Reason

        moderation.moderation_act(
            actor=self.adam,
            item=conversation.root_item,
            action="hide",
            reason=Reason.SPAM,
            reason_text="Reklam",
            by_hand=True,
        )
        hidden = client.get(url, after)
        self.assertEqual(hidden.status_code, 200)
        self.assertContains(hidden, "Hidden")
        # A stamp that is not one (an old page, a hand-made URL) gets the page's parts anew.
        self.assertEqual(client.get(url, {"stamp": "²"}).status_code, 200)
        # Moved out of the reader's units: not found, like any conversation they cannot see
        # (the page then says so and stops polling); the page carries the words for it.
        self.assertContains(page, 'data-gone-text="This conversation is no longer in your units')
        self.post(self.adam, "conversation_move", conversation, {"unit": self.unit_b.pk})
        self.assertEqual(client.get(url, after).status_code, 404)

    def test_the_poll_answers_only_for_the_persons_units(self) -> None:
        self.converse("Parken", account=self.account_b, minutes_ago=1)
        response = self.client_for(self.vera).get(
            reverse("inbox:inbox_news"), {"since": ago(10).isoformat()}
        )
        self.assertEqual(response.context["count"], 0)
        signed_out = self.client_for(None).get(reverse("inbox:inbox_news"))
        self.assertEqual(signed_out.status_code, 302)
        # From the list's poller after the session ended: 401, so no sign-in page is swapped
        # in; from any other htmx element: a whole-page redirect to sign in, back afterwards.
        polled = self.client_for(None).get(
            reverse("inbox:inbox_news"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="news-poll"
        )
        self.assertEqual(polled.status_code, 401)
        self.assertEqual(polled.content, b"")
        other = self.client_for(None).get(
            reverse("inbox:inbox_news"),
            HTTP_HX_REQUEST="true",
            HTTP_HX_CURRENT_URL="http://testserver/inbox/?view=all",
        )
        self.assertEqual(other.status_code, 200)
        self.assertEqual(other["HX-Redirect"], "/sign-in/?next=%2Finbox%2F%3Fview%3Dall")
