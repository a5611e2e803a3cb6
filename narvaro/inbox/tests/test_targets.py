"""Response targets in business time (R14): due moments, the overdue list and the figures,
with a frozen clock across a weekend and a public holiday (default hours Mon–Fri
08:00–16:30 Europe/Stockholm, so one working day is 8 h 30 min)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import Conversation
from narvaro.inbox.selectors import (
    InboxFilters,
    conversation_list_for_user,
    response_report_for_user,
)
from narvaro.lib.testing import NarvaroTestCase

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=STOCKHOLM)


def question(remote_id: str, at: dt.datetime) -> Any:
    return a_capture(remote_id, kind="mention", created_at=at)


def answer(remote_id: str, parent: str, at: dt.datetime) -> Any:
    return a_capture(
        remote_id,
        kind="reply",
        direction="drawn_up",
        author_handle="@bibliotek@social.example",
        parent_remote_id=parent,
        created_at=at,
    )


class TargetTests(NarvaroTestCase):
    def arrive(self, *captures: Any) -> None:
        capture_batch(account=self.account_a, captures=captures, source="test")
        conversations_derive()

    def overdue_ids(self) -> list[str]:
        return list(
            conversation_list_for_user(self.adam, InboxFilters(view="overdue")).values_list(
                "root_item__remote_id", flat=True
            )
        )

    def test_friday_evening_is_due_on_monday_and_overdue_only_after(self) -> None:
        with time_machine.travel(local(2026, 3, 6, 15, 30), tick=False):
            self.arrive(question("q1", local(2026, 3, 6, 15, 30)))  # Friday, 1 h before closing
        conversation = Conversation.objects.get()
        # 1 h on Friday + 7 h 30 min on Monday from 08:00.
        self.assertEqual(conversation.due_at, local(2026, 3, 9, 15, 30))
        with time_machine.travel(local(2026, 3, 8, 23, 0), tick=False):  # Sunday night
            self.assertEqual(self.overdue_ids(), [])
        with time_machine.travel(local(2026, 3, 9, 15, 29), tick=False):
            self.assertEqual(self.overdue_ids(), [])
        with time_machine.travel(local(2026, 3, 9, 15, 31), tick=False):
            self.assertEqual(self.overdue_ids(), ["q1"])

    def test_a_public_holiday_does_not_count(self) -> None:
        # Wednesday 13 May 2026 at 16:00; Thursday 14 May is Ascension Day (Kristi himmelsfärd).
        with time_machine.travel(local(2026, 5, 13, 16, 0), tick=False):
            self.arrive(question("q1", local(2026, 5, 13, 16, 0)))
        # 30 min on Wednesday, nothing on Thursday, 8 h on Friday from 08:00.
        self.assertEqual(Conversation.objects.get().due_at, local(2026, 5, 15, 16, 0))

    def test_first_response_and_time_to_answered_are_business_time(self) -> None:
        with time_machine.travel(local(2026, 3, 9, 12, 0), tick=False):
            self.arrive(
                question("q1", local(2026, 3, 6, 15, 30)),  # Friday 15:30
                answer("a1", "q1", local(2026, 3, 9, 9, 0)),  # Monday 09:00: 2 h of business time
                question("q2", local(2026, 3, 9, 8, 0)),  # Monday 08:00
                answer("a2", "q2", local(2026, 3, 9, 10, 0)),  # 2 h
                question("q3", local(2026, 3, 5, 8, 0)),  # Thursday 08:00
                answer("a3", "q3", local(2026, 3, 6, 16, 0)),  # Friday 16:00: 8 h 30 + 8 h
                question("q4", local(2026, 3, 9, 11, 0)),  # not answered yet
            )
            report = response_report_for_user(
                self.adam, local(2026, 3, 1, 0, 0), local(2026, 3, 10, 0, 0)
            )
        [row] = report
        self.assertEqual(row.unit, self.unit_a_child)
        self.assertEqual((row.received, row.answered, row.responded), (4, 3, 3))
        self.assertEqual(row.median_first_response, dt.timedelta(hours=2))
        self.assertEqual(row.target, dt.timedelta(hours=8, minutes=30))
        self.assertEqual(row.within_target, 2)  # q3 took 16 h 30 min
        self.assertAlmostEqual(row.within_target_share or 0, 2 / 3)

    def test_a_units_own_target_is_used_and_inherited(self) -> None:
        self.unit_a.response_target = dt.timedelta(hours=2)
        self.unit_a.save()
        with time_machine.travel(local(2026, 3, 9, 9, 0), tick=False):
            self.arrive(question("q1", local(2026, 3, 9, 9, 0)))
        # The library (unit_a_child) has none of its own: it takes Kultur's two hours.
        self.assertEqual(Conversation.objects.get().due_at, local(2026, 3, 9, 11, 0))

    def test_the_report_page_shows_the_figures(self) -> None:
        with time_machine.travel(local(2026, 3, 9, 12, 0), tick=False):
            self.arrive(
                question("q1", local(2026, 3, 9, 8, 0)),
                answer("a1", "q1", local(2026, 3, 9, 10, 5)),
            )
            response = self.client_for(self.alice).get(
                "/inbox/response-times/", {"start": "2026-03-01", "end": "2026-03-09"}
            )
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("Biblioteket", body)
        self.assertIn("2 h 05 min", body)
        # Bob holds no role in the library's units: nothing of theirs for him.
        with time_machine.travel(local(2026, 3, 9, 12, 0), tick=False):
            other = self.client_for(self.bob).get(
                "/inbox/response-times/", {"start": "2026-03-01", "end": "2026-03-09"}
            )
        self.assertNotIn("Biblioteket", other.content.decode())
