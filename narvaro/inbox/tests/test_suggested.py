"""Suggested answers in a conversation: saved replies and earlier answers, ready to send."""

from __future__ import annotations

import datetime as dt
from typing import Any

from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import Conversation, SavedReply
from narvaro.inbox.selectors import suggested_answers
from narvaro.lib.testing import NarvaroTestCase
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership


def at(hours: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)


def theirs(remote_id: str, text: str, hours: int, author: str = "@anna@social.example") -> Any:
    return a_capture(
        remote_id, text=text, kind="mention", created_at=at(hours), author_handle=author
    )


def ours(remote_id: str, parent: str, text: str, hours: int) -> Any:
    return a_capture(
        remote_id,
        text=text,
        kind="reply",
        direction="drawn_up",
        author_handle="@bibliotek@social.example",
        parent_remote_id=parent,
        created_at=at(hours),
    )


class SuggestedTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[
                theirs("q1", "Hur lånar jag e-böcker?", 30, "@omar@social.example"),
                ours(
                    "a1",
                    "q1",
                    "@omar@social.example Hej Omar! E-böcker lånar du i appen Libby.",
                    29,
                ),
                theirs("q2", "Har ni öppet på lördagar?", 1, "@karin@social.example"),
                theirs("q3", "Kan jag låna e-böcker i mobilen?", 1, "@lisa@social.example"),
            ],
            source="test",
        )
        SavedReply.objects.create(
            unit=self.unit_a,
            title="Öppettider",
            body="Hej {name}! Vi har öppet vardagar 8–20 och lördagar 10–15. /{signature}",
        )
        conversations_derive()
        org_services.membership_grant(
            actor=None, unit=self.unit_a, user=self.vera, role=Membership.Role.RESPONDER
        )

    def conversation(self, remote_id: str) -> Conversation:
        return Conversation.objects.get(root_item__remote_id=remote_id)

    def test_a_saved_reply_competes_by_its_title_with_earlier_answers(self) -> None:
        [first, *_] = suggested_answers(self.conversation("q2"))
        self.assertIsNotNone(first.saved_reply)
        self.assertEqual(first.saved_reply.title, "Öppettider")

    def test_an_earlier_answer_is_offered_without_its_first_recipients_handle(self) -> None:
        [first, *_] = suggested_answers(self.conversation("q3"))
        self.assertEqual(first.text, "Hej Omar! E-böcker lånar du i appen Libby.")
        self.assertEqual(first.earlier_question, "Hur lånar jag e-böcker?")

    def test_the_page_fills_a_suggested_saved_replys_placeholders(self) -> None:
        conversation = self.conversation("q2")
        response = self.client_for(self.vera).get(f"/inbox/{conversation.pk}/suggestions/")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("Hej Anna!", body)  # the sender's name, not {name}
        self.assertNotIn("{name}", body)

    def test_the_list_narrows_to_one_persons_conversations(self) -> None:
        conversation = self.conversation("q2")
        conversation.assignee = self.vera
        conversation.save()
        response = self.client_for(self.alice).get(
            "/inbox/", {"view": "all", "assignee": self.vera.pk}
        )
        self.assertEqual(response.status_code, 200)
        rows = response.context["rows"]
        self.assertEqual([r.conversation.pk for r in rows], [conversation.pk])

    def test_the_unit_a_conversation_was_moved_to_may_correct_its_category(self) -> None:
        from narvaro.inbox.services import conversation_category_set, conversation_move
        from narvaro.radar.models import Label

        conversation = self.conversation("q2")
        conversation_move(actor=self.adam, conversation=conversation, unit=self.unit_b)
        conversation.refresh_from_db()
        # Bob publishes for Gata och park (respond included), not for the library's account.
        conversation_category_set(actor=self.bob, conversation=conversation, category="critique")
        self.assertEqual(Label.objects.get(item_id=conversation.root_item_id).category, "critique")
