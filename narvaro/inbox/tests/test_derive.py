"""Conversations derived from the archive: grouping, responses, reopening, routing, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import (
    Conversation,
    ConversationEvent,
    ConversationItem,
    RoutingRule,
    Status,
)
from narvaro.lib.testing import NarvaroTestCase

NOW = dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)


def ours(remote_id: str, parent: str, minutes: int, **extra: Any) -> Any:
    return a_capture(
        remote_id,
        text="Hej! Biblioteket öppnar klockan tio.",
        kind="reply",
        direction="drawn_up",
        author_handle="@bibliotek@social.example",
        author_platform_id="1",
        parent_remote_id=parent,
        created_at=at(minutes),
        **extra,
    )


def theirs(remote_id: str, minutes: int, parent: str = "", **extra: Any) -> Any:
    return a_capture(
        remote_id,
        kind=extra.pop("kind", "reply" if parent else "mention"),
        parent_remote_id=parent,
        created_at=extra.pop("created_at", at(minutes)),
        **extra,
    )


@time_machine.travel(NOW, tick=False)
class DeriveTests(NarvaroTestCase):
    def capture(self, *captures: Any, account: Any = None) -> None:
        capture_batch(account=account or self.account_a, captures=captures, source="test")

    def test_an_inbound_mention_opens_a_new_conversation_in_the_accounts_unit(self) -> None:
        self.capture(theirs("m1", 0))
        result = conversations_derive()
        self.assertEqual(result.conversations, 1)
        conversation = Conversation.objects.get()
        self.assertEqual(conversation.unit, self.unit_a_child)
        self.assertEqual(conversation.status, Status.NEW)
        self.assertEqual(conversation.author_handle, "@anna@social.example")
        self.assertEqual(conversation.opened_at, at(0))
        self.assertEqual(conversation.waiting_since, at(0))
        self.assertIsNotNone(conversation.due_at)
        self.assertEqual(
            list(conversation.events.values_list("type", flat=True)),
            [ConversationEvent.Type.CREATED],
        )

    def test_our_own_posts_and_shares_open_no_conversation(self) -> None:
        self.capture(
            a_capture("p1", kind="post", direction="drawn_up"),
            a_capture("s1", kind="share"),
        )
        conversations_derive()
        self.assertFalse(Conversation.objects.exists())

    def test_a_thread_is_one_conversation_and_our_reply_answers_it(self) -> None:
        self.capture(theirs("c1", 0, kind="comment"))
        conversations_derive()
        self.capture(theirs("c2", 5, parent="c1"), ours("r1", "c2", 30))
        result = conversations_derive()
        self.assertEqual((result.conversations, result.inbound, result.responses), (0, 1, 1))
        conversation = Conversation.objects.get()
        self.assertEqual(conversation.inbound_count, 2)
        self.assertEqual(conversation.last_inbound_at, at(5))
        self.assertEqual(conversation.first_response_at, at(30))
        self.assertEqual(conversation.status, Status.ANSWERED)
        self.assertEqual(conversation.answered_at, at(30))
        self.assertEqual(
            list(conversation.entries.values_list("item__remote_id", "role")),
            [("c1", "inbound"), ("c2", "inbound"), ("r1", "response")],
        )

    def test_the_sender_answering_our_reply_reopens_the_same_conversation(self) -> None:
        self.capture(theirs("c1", 0), ours("r1", "c1", 10))
        conversations_derive()
        self.assertEqual(Conversation.objects.get().status, Status.ANSWERED)
        self.capture(theirs("c2", 20, parent="r1"))
        result = conversations_derive()
        self.assertEqual(result.reopened, 1)
        conversation = Conversation.objects.get()
        self.assertEqual(conversation.status, Status.OPEN)
        self.assertEqual(conversation.waiting_since, at(20))
        self.assertEqual(conversation.first_response_at, at(10))  # kept
        self.assertTrue(conversation.events.filter(type=ConversationEvent.Type.REOPENED).exists())

    def test_direct_messages_of_one_thread_share_a_conversation(self) -> None:
        self.capture(
            theirs("d1", 0, kind="dm", thread_remote_id="t9", visibility="direct"),
            theirs("d2", 3, kind="dm", thread_remote_id="t9", visibility="direct"),
            theirs("d3", 4, kind="dm", thread_remote_id="t10", visibility="direct"),
        )
        conversations_derive()
        self.assertEqual(
            sorted(Conversation.objects.values_list("key", "inbound_count")),
            [("dm:t10", 1), ("dm:t9", 2)],
        )

    def test_deriving_twice_adds_nothing(self) -> None:
        self.capture(theirs("c1", 0), theirs("c2", 1, parent="c1"), ours("r1", "c2", 2))
        conversations_derive()
        counts = (Conversation.objects.count(), ConversationItem.objects.count())
        again = conversations_derive()
        self.assertEqual((again.inbound, again.responses), (0, 0))
        self.assertEqual((Conversation.objects.count(), ConversationItem.objects.count()), counts)

    def test_a_keyword_rule_routes_to_another_unit_and_assigns(self) -> None:
        RoutingRule.objects.create(
            name="Snöröjning",
            keywords="snöröjning\nplogning",
            target_unit=self.unit_b,
            assignee=self.bob,
        )
        self.capture(
            theirs("c1", 0, text="När kommer plogningen till Norrby?"),
            theirs("c2", 1, text="När öppnar biblioteket?"),
        )
        conversations_derive()
        routed = Conversation.objects.get(root_item__remote_id="c1")
        self.assertEqual((routed.unit, routed.assignee), (self.unit_b, self.bob))
        self.assertTrue(routed.events.filter(type=ConversationEvent.Type.ROUTED).exists())
        kept = Conversation.objects.get(root_item__remote_id="c2")
        self.assertEqual((kept.unit, kept.assignee), (self.unit_a_child, None))

    def test_a_rule_applies_only_to_the_accounts_of_its_scope(self) -> None:
        RoutingRule.objects.create(
            name="Kultur only", keywords="konsert", scope_unit=self.unit_a, target_unit=self.root
        )
        self.capture(theirs("c1", 0, text="Konserten var bra"))
        self.capture(
            a_capture("c2", kind="mention", text="Konserten i parken?"), account=self.account_b
        )
        conversations_derive()
        self.assertEqual(Conversation.objects.get(root_item__remote_id="c1").unit, self.root)
        self.assertEqual(Conversation.objects.get(root_item__remote_id="c2").unit, self.unit_b)

    def test_imported_history_opens_closed_conversations(self) -> None:
        old = NOW - dt.timedelta(days=100)
        self.capture(theirs("h1", 0, created_at=old))
        conversations_derive()
        conversation = Conversation.objects.get()
        self.assertEqual(conversation.status, Status.CLOSED)
        self.assertIsNone(conversation.due_at)
        self.assertTrue(conversation.events.get(type="created").details["history"])
